//! `--input transcript` and `tokmeter merge`: the hand-checked fixtures,
//! usage counts, replay and cache, bad lines, many files, and shards merged.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::util::{assert_one_error_line, cost_units, run, temp_dir, tokmeter};

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/transcript/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Runs `tokmeter --input transcript -s json ARGS` and returns its output.
fn price(args: &[&str]) -> Output {
    tokmeter()
        .args(["--input", "transcript", "-s", "json"])
        .args(args)
        .output()
        .expect("tokmeter runs")
}

/// The JSON summaries on stderr (other lines skipped).
fn summaries(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|line| line.starts_with('{'))
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn last_summary(output: &Output) -> Value {
    summaries(output).pop().expect("a JSON summary on stderr")
}

/// tokens and costs of the transcript object, in a fixed order.
fn sides(summary: &Value) -> (Vec<u64>, Vec<String>) {
    let t = &summary["transcript"];
    let tokens = ["input", "output", "cache_read", "cache_write"]
        .iter()
        .map(|k| t[format!("{k}_tokens")].as_u64().unwrap())
        .collect();
    let costs = ["input", "output", "cache_read", "cache_write"]
        .iter()
        .map(|k| t[format!("{k}_cost")].as_str().unwrap().to_string())
        .collect();
    (tokens, costs)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn each_message_once_matches_the_hand_checked_fixture() {
    let output = price(&["-m", "gpt-4o", &fixture("chat.jsonl")]);
    assert_eq!(output.status.code(), Some(0));
    assert!(
        output.stdout.is_empty(),
        "transcripts write nothing to stdout"
    );
    let s = last_summary(&output);
    assert_eq!(s["total_tokens"], 36);
    assert_eq!(s["total_cost"], "0.0002325");
    assert_eq!(s["exact"], true);
    assert_eq!(s["side"], "both");
    assert_eq!(s["count"], "messages");
    assert_eq!(
        sides(&s),
        (
            vec![17, 19, 0, 0],
            strings(&["0.0000425", "0.00019", "0", "0"])
        )
    );
    assert_eq!(s["transcript"]["records"], 6);
    assert_eq!(s["transcript"]["records_tokenized"], 6);
    assert_eq!(s["transcript"]["records_from_usage"], 0);
}

#[test]
fn replay_matches_the_hand_checked_fixture() {
    let output = price(&["-m", "gpt-4o", "--replay", &fixture("chat.jsonl")]);
    let s = last_summary(&output);
    assert_eq!(s["count"], "replay");
    assert_eq!(s["total_tokens"], 60);
    assert_eq!(s["total_cost"], "0.0002925");
    assert_eq!(
        sides(&s),
        (
            vec![41, 19, 0, 0],
            strings(&["0.0001025", "0.00019", "0", "0"])
        )
    );
}

#[test]
fn replay_with_cache_matches_the_hand_checked_fixture() {
    let output = price(&[
        "-m",
        "gpt-4o",
        "--replay",
        "--cache",
        &fixture("chat.jsonl"),
    ]);
    let s = last_summary(&output);
    assert_eq!(s["count"], "replay-cache");
    assert_eq!(s["total_tokens"], 60);
    assert_eq!(s["total_cost"], "0.00027875");
    assert_eq!(
        sides(&s),
        (
            vec![30, 19, 11, 0],
            strings(&["0.000075", "0.00019", "0.00001375", "0"])
        )
    );
}

#[test]
fn provider_usage_is_used_with_cache_prices() {
    let output = price(&[
        "-m",
        "claude-sonnet-4-5",
        "-t",
        "o200k_base",
        &fixture("usage.jsonl"),
    ]);
    assert_eq!(output.status.code(), Some(0));
    let s = last_summary(&output);
    assert_eq!(s["total_tokens"], 99);
    assert_eq!(s["total_cost"], "0.0004809");
    assert_eq!(
        sides(&s),
        (
            vec![32, 22, 33, 12],
            strings(&["0.000096", "0.00033", "0.0000099", "0.000045"])
        )
    );
    let t = &s["transcript"];
    assert_eq!(
        (t["records"].as_u64(), t["messages"].as_u64()),
        (Some(5), Some(7))
    );
    assert_eq!(t["records_from_usage"], 2);
    assert_eq!(t["records_tokenized"], 3);
}

#[test]
fn bad_lines_are_reported_with_file_and_line_and_skipped() {
    let path = fixture("bad.jsonl");
    let output = price(&["-m", "gpt-4o", &path]);
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for (line, what) in [
        (2, "truncated JSON"),
        (
            4,
            "text: a string, a list of parts, or null was expected, not 42",
        ),
        (5, "unknown role \"narrator\""),
        (6, "missing field `role`"),
        (7, "not a JSON object"),
    ] {
        let needle = format!("tokmeter: {path}:{line}: ");
        let report = stderr
            .lines()
            .find(|l| l.starts_with(&needle))
            .unwrap_or_else(|| panic!("no report for line {line}: {stderr}"));
        assert!(report.contains(what), "{report}");
    }
    assert!(
        !stderr.contains(&format!("{path}:3:")),
        "a blank line is no record"
    );
    let s = last_summary(&output);
    assert_eq!(s["transcript"]["bad_lines"], 5);
    assert_eq!(s["transcript"]["records"], 2);
    assert_eq!(sides(&s).0, vec![5, 4, 0, 0]);
    assert_eq!(s["error"], Value::Null);
}

#[test]
fn on_bad_line_fail_ends_the_file_and_exits_1() {
    let path = fixture("bad.jsonl");
    let output = price(&["-m", "gpt-4o", "--on-bad-line", "fail", &path]);
    assert_eq!(output.status.code(), Some(1));
    let s = last_summary(&output);
    assert!(
        s["error"].as_str().unwrap().starts_with("bad line 2: "),
        "{s}"
    );
    // Only line 1 was priced.
    assert_eq!(s["transcript"]["records"], 1);
    assert_eq!(sides(&s).0, vec![5, 0, 0, 0]);
}

#[test]
fn wrong_types_in_usage_are_bad_lines() {
    let dir = temp_dir("usage-types");
    let path = dir.join("u.jsonl");
    std::fs::write(
        &path,
        concat!(
            "{\"role\":\"assistant\",\"content\":\"x\",\"usage\":{\"prompt_tokens\":\"12\"}}\n",
            "{\"role\":\"assistant\",\"content\":\"x\",\"usage\":{\"completion_tokens\":-3}}\n",
            "{\"role\":\"assistant\",\"content\":\"x\",\"usage\":{}}\n",
            "{\"role\":[\"user\"],\"content\":\"x\"}\n",
            "{\"messages\":{\"role\":\"user\"}}\n",
            "{\"role\":\"user\",\"content\":\"abcdefgh\"}\n",
        ),
    )
    .unwrap();
    let output = price(&["-m", "gpt-4o", "-t", "heuristic", path.to_str().unwrap()]);
    let s = last_summary(&output);
    assert_eq!(
        s["transcript"]["bad_lines"],
        5,
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(s["transcript"]["records"], 1);
    assert_eq!(s["total_tokens"], 2);
}

#[test]
fn a_10_mb_line_is_priced_and_a_line_over_the_limit_is_skipped() {
    let dir = temp_dir("long-line");
    let path = dir.join("long.jsonl");
    let text = "abcd".repeat(10 << 18); // 10 MiB
    let body = format!(
        "{{\"role\":\"user\",\"content\":\"{text}\"}}\n{{\"role\":\"assistant\",\"content\":\"12345678\"}}\n"
    );
    std::fs::write(&path, &body).unwrap();
    let path = path.to_str().unwrap();
    let output = price(&["-m", "gpt-4o", "-t", "heuristic", path]);
    assert_eq!(output.status.code(), Some(0));
    let s = last_summary(&output);
    assert_eq!(sides(&s).0, vec![(10 << 20) / 4, 2, 0, 0]);
    assert_eq!(s["bytes"], body.len());

    let output = price(&["-m", "gpt-4o", "-t", "heuristic", "--max-chunk", "1M", path]);
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{path}:1: longer than --max-chunk")),
        "{stderr}"
    );
    let s = last_summary(&output);
    assert_eq!(s["transcript"]["bad_lines"], 1);
    assert_eq!(sides(&s).0, vec![0, 2, 0, 0], "line 2 still counts");
}

#[test]
fn an_empty_file_prices_to_zero() {
    let dir = temp_dir("empty");
    let path = dir.join("empty.jsonl");
    std::fs::write(&path, "").unwrap();
    let output = price(&["-m", "gpt-4o", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0));
    let s = last_summary(&output);
    assert_eq!(s["total_tokens"], 0);
    assert_eq!(s["total_cost"], "0");
    assert_eq!(s["transcript"]["records"], 0);
}

#[test]
fn stdin_is_a_transcript_too() {
    let body = std::fs::read(fixture("chat.jsonl")).unwrap();
    let output = tokmeter()
        .args(["--input", "transcript", "-m", "gpt-4o", "-s", "json"])
        .write_stdin(body)
        .output()
        .unwrap();
    assert_eq!(last_summary(&output)["total_cost"], "0.0002325");
}

/// A corpus of `files` transcripts in `dir`, each a mix of shapes.
fn corpus(dir: &Path, files: usize) -> Vec<PathBuf> {
    (0..files)
        .map(|i| {
            let path = dir.join(format!("chat-{i:02}.jsonl"));
            let mut body = String::new();
            for j in 0..(20 + i * 7) {
                let text = "word ".repeat(1 + (i * 31 + j * 17) % 40);
                let role = ["system", "user", "assistant", "tool"][(i + j) % 4];
                body.push_str(&format!("{{\"role\":\"{role}\",\"content\":\"{text}\"}}\n"));
                if j % 9 == 0 {
                    body.push_str(&format!(
                        "{{\"messages\":[{{\"role\":\"user\",\"content\":\"{text}\"}},{{\"role\":\"assistant\",\"content\":[{{\"type\":\"text\",\"text\":\"{text}!\"}}]}}]}}\n"
                    ));
                }
                if j % 11 == 0 {
                    body.push_str(&format!(
                        "{{\"role\":\"assistant\",\"content\":\"x\",\"usage\":{{\"input_tokens\":{},\"output_tokens\":{},\"cache_read_input_tokens\":{}}}}}\n",
                        100 + j,
                        7 * i + 1,
                        j * 3
                    ));
                }
                if j % 13 == 5 {
                    body.push_str("{\"role\":\"user\",\"content\":\n");
                }
            }
            std::fs::write(&path, body).unwrap();
            path
        })
        .collect()
}

fn as_args(paths: &[PathBuf]) -> Vec<&str> {
    paths.iter().map(|p| p.to_str().unwrap()).collect()
}

/// The figures of a summary that must add up, without times and ids.
fn figures(s: &Value) -> Value {
    let mut t = s["transcript"].clone();
    for key in ["total_tokens", "total_cost", "chunk_count", "bytes"] {
        t[key] = s[key].clone();
    }
    t
}

#[test]
fn many_files_report_in_argument_order_whatever_the_jobs() {
    let dir = temp_dir("many");
    let paths = corpus(&dir, 9);
    let mut args = vec!["-m", "gpt-4.1", "--session-id", "run"];
    args.extend(as_args(&paths));
    let mut runs = Vec::new();
    for jobs in ["1", "2", "8"] {
        let mut with_jobs = args.clone();
        with_jobs.extend(["-j", jobs]);
        let output = price(&with_jobs);
        assert_eq!(output.status.code(), Some(0));
        let all = summaries(&output);
        assert_eq!(all.len(), paths.len() + 1, "one per file and a total");
        for (i, (s, path)) in all.iter().zip(&paths).enumerate() {
            assert_eq!(s["input"], path.to_str().unwrap());
            assert_eq!(s["session_id"], format!("run-{}", i + 1));
        }
        let total = all.last().unwrap();
        assert_eq!(total["sessions"], paths.len());
        let parts = &all[..paths.len()];
        let tokens: u64 = parts
            .iter()
            .map(|s| s["total_tokens"].as_u64().unwrap())
            .sum();
        assert_eq!(total["total_tokens"].as_u64().unwrap(), tokens);
        let cost: u128 = parts
            .iter()
            .map(|s| cost_units(s["total_cost"].as_str().unwrap()))
            .sum();
        assert_eq!(cost_units(total["total_cost"].as_str().unwrap()), cost);
        runs.push(all.iter().map(figures).collect::<Vec<_>>());
    }
    assert_eq!(runs[0], runs[1]);
    assert_eq!(runs[0], runs[2]);
    // Each file's figures are those of a run on that file alone.
    let alone = last_summary(&price(&["-m", "gpt-4.1", paths[4].to_str().unwrap()]));
    assert_eq!(figures(&alone), runs[0][4]);
}

#[test]
fn a_missing_file_is_reported_and_the_others_priced() {
    let output = price(&[
        "-m",
        "gpt-4o",
        "/nonexistent/chat.jsonl",
        &fixture("chat.jsonl"),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("tokmeter: cannot open /nonexistent/chat.jsonl"),
        "{stderr}"
    );
    assert_eq!(last_summary(&output)["total_cost"], "0.0002325");
}

#[test]
fn shards_run_with_xargs_merge_to_the_single_run_totals() {
    let dir = temp_dir("shards");
    let paths = corpus(&dir, 10);
    let single = last_summary(&price(&[&["-m", "gpt-4.1"][..], &as_args(&paths)].concat()));
    let ledger = dir.join("ledger.jsonl");
    let list = paths
        .iter()
        .map(|p| p.to_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "xargs -P 2 -n 3 {} --input transcript -m gpt-4.1 -s none --summary-file {}",
            crate::util::BIN,
            ledger.display()
        ))
        .env("XDG_CONFIG_HOME", "/nonexistent/tokmeter-tests")
        .env_remove("TOKMETER_PRICING")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(list.as_bytes())?;
            child.wait()
        })
        .unwrap();
    assert!(status.success());
    let lines = std::fs::read_to_string(&ledger).unwrap();
    assert_eq!(lines.lines().count(), paths.len(), "one summary per file");
    let merged = tokmeter()
        .args(["merge", ledger.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(merged.status.code(), Some(0));
    let merged: Value = serde_json::from_slice(&merged.stdout).unwrap();
    assert_eq!(figures(&merged), figures(&single));
    assert_eq!(merged["sessions"], paths.len());
    assert_eq!(merged["model"], "gpt-4.1");
}

#[test]
fn merge_counts_a_total_and_its_parts_once() {
    let dir = temp_dir("merge-total");
    let paths = corpus(&dir, 3);
    let output = price(&[&["-m", "gpt-4o"][..], &as_args(&paths)].concat());
    let all = summaries(&output);
    let text: String = all.iter().map(|s| format!("{s}\n")).collect();
    let again = price(&[&["-m", "gpt-4o"][..], &as_args(&paths)].concat());
    let again: String = summaries(&again).iter().map(|s| format!("{s}\n")).collect();
    // Parts and totals of two runs together: the sum of both runs.
    let merged = tokmeter()
        .args(["merge", "-", "-s", "json"])
        .write_stdin(format!("{text}\n{again}"))
        .output()
        .unwrap();
    // Each run's parts are covered by its total.
    let merged: Value = serde_json::from_slice(&merged.stdout).unwrap();
    let total = all.last().unwrap();
    assert_eq!(
        merged["total_tokens"].as_u64().unwrap(),
        2 * total["total_tokens"].as_u64().unwrap()
    );
    assert_eq!(
        cost_units(merged["total_cost"].as_str().unwrap()),
        2 * cost_units(total["total_cost"].as_str().unwrap())
    );
    assert_eq!(merged["sessions"], 6);
}

/// Runs `tokmeter merge -s json FILES` and returns its output.
fn merge_files(files: &[&Path]) -> Output {
    tokmeter()
        .args(["merge", "-s", "json"])
        .args(files)
        .output()
        .unwrap()
}

#[test]
fn merge_keeps_an_unrelated_session_whose_id_looks_like_a_part() {
    let dir = temp_dir("merge-part-of");
    let paths = corpus(&dir, 2);
    let job = price(
        &[
            &["-m", "gpt-4o", "--session-id", "job"][..],
            &as_args(&paths),
        ]
        .concat(),
    );
    let job = summaries(&job);
    assert_eq!(job[0]["part_of"], "job");
    assert!(
        job[2].get("part_of").is_none(),
        "a total is part of nothing"
    );
    let other = last_summary(&price(&[
        "-m",
        "gpt-4o",
        "--session-id",
        "job-3",
        &fixture("chat.jsonl"),
    ]));
    let ledger = dir.join("ledger.jsonl");
    let text: String = job.iter().map(|s| format!("{s}\n")).collect();
    std::fs::write(&ledger, format!("{text}{other}\n")).unwrap();
    let output = merge_files(&[&ledger]);
    assert_eq!(output.status.code(), Some(0));
    let merged: Value = serde_json::from_slice(&output.stdout).unwrap();
    let tokens = |s: &Value| s["total_tokens"].as_u64().unwrap();
    assert_eq!(tokens(&merged), tokens(&job[2]) + tokens(&other));
    assert_eq!(merged["sessions"], 3);
}

#[test]
fn merge_overflow_is_an_error_naming_file_and_line() {
    let dir = temp_dir("merge-overflow");
    let good = last_summary(&price(&["-m", "gpt-4o", &fixture("chat.jsonl")]));
    let with = |id: &str, tokens: u64| {
        let mut s = good.clone();
        s["session_id"] = id.into();
        s["total_tokens"] = tokens.into();
        format!("{s}\n")
    };
    let ledger = dir.join("ledger.jsonl");
    std::fs::write(&ledger, with("a", u64::MAX) + &with("b", 3)).unwrap();
    let output = merge_files(&[&ledger]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert_one_error_line(
        &output,
        &format!("{}:2: total_tokens overflows the sum", ledger.display()),
    );
}

#[test]
fn merge_bad_cost_names_file_and_line() {
    let dir = temp_dir("merge-cost");
    let mut good = last_summary(&price(&["-m", "gpt-4o", &fixture("chat.jsonl")]));
    good["total_cost"] = "1.2.3\n".into();
    let ledger = dir.join("ledger.jsonl");
    std::fs::write(&ledger, format!("\n{good}\n")).unwrap();
    let output = merge_files(&[&ledger]);
    assert_eq!(output.status.code(), Some(1));
    assert_one_error_line(
        &output,
        &format!("{}:2: cost \"1.2.3\\n\" is not a decimal", ledger.display()),
    );
}

#[test]
fn merge_reads_a_file_named_twice_once_and_counts_a_session_once() {
    let dir = temp_dir("merge-twice");
    let single = last_summary(&price(&["-m", "gpt-4o", &fixture("chat.jsonl")]));
    let good = single.to_string();
    let a = dir.join("a.json");
    let b = dir.join("b.json");
    std::fs::write(&a, format!("{good}\n")).unwrap();
    std::fs::write(&b, format!("{good}\n")).unwrap();
    let output = merge_files(&[&a, &a]);
    assert_eq!(output.status.code(), Some(0));
    let merged: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(merged["total_tokens"], single["total_tokens"]);
    assert_one_error_line(&output, "is the same file as");
    let output = merge_files(&[&a, &b]);
    assert_eq!(output.status.code(), Some(0));
    let merged: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(merged["total_tokens"], single["total_tokens"]);
    assert_eq!(merged["sessions"], 1);
    assert_one_error_line(
        &output,
        &format!(
            "is in {}:1 and {}:1: counted once",
            a.display(),
            b.display()
        ),
    );
}

#[test]
fn usage_overflow_is_a_bad_line_naming_file_and_line() {
    let dir = temp_dir("usage-overflow");
    let path = dir.join("t.jsonl");
    std::fs::write(
        &path,
        concat!(
            r#"{"role":"user","content":"12345678"}"#,
            "\n",
            r#"{"role":"assistant","content":"x","usage":{"input_tokens":1,"output_tokens":6,"cache_read_input_tokens":18446744073709551615}}"#,
            "\n",
        ),
    )
    .unwrap();
    let output = price(&["-m", "gpt-4o", "-t", "heuristic", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{}:2: the token counts overflow", path.display())),
        "{stderr}"
    );
    let summary = summaries(&output).pop().unwrap();
    assert_eq!(summary["transcript"]["bad_lines"], 1);
    assert_eq!(summary["total_tokens"], 2);
}

#[test]
fn hostile_role_is_quoted_and_escaped_in_error_lines() {
    let dir = temp_dir("hostile");
    let path = dir.join("t.jsonl");
    std::fs::write(
        &path,
        "{\"role\":\"evil\\nrole\\u001b[31m\",\"content\":\"x\"}\n",
    )
    .unwrap();
    let output = price(&["-m", "gpt-4o", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains('\u{1b}'), "{stderr}");
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
    assert!(
        stderr.contains(r#":1: unknown role "evil\nrole\u{1b}[31m""#),
        "{stderr}"
    );
}

#[test]
fn byte_order_mark_and_lone_surrogates_are_accepted() {
    let dir = temp_dir("bom");
    let path = dir.join("t.jsonl");
    std::fs::write(
        &path,
        concat!(
            "\u{feff}",
            r#"{"role":"user","content":"1234"}"#,
            "\n",
            r#"{"role":"assistant","content":"ab\ud800cd"}"#,
            "\n",
        ),
    )
    .unwrap();
    let output = price(&["-m", "gpt-4o", "-t", "heuristic", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0));
    let summary = last_summary(&output);
    assert_eq!(summary["transcript"]["bad_lines"], 0, "{summary}");
    assert_eq!(summary["transcript"]["records"], 2);
}

#[test]
fn json_errors_are_in_plain_words() {
    let dir = temp_dir("plain-words");
    let path = dir.join("t.jsonl");
    std::fs::write(
        &path,
        concat!(
            r#"{"role":"assistant","usage":{"output_tokens":100000000000000000000}}"#,
            "\n",
            r#"{"role":"assistant","usage":5}"#,
            "\n",
        ),
    )
    .unwrap();
    let output = price(&["-m", "gpt-4o", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .contains(":1: column 66: a whole number from 0 to 18446744073709551615 was expected"),
        "{stderr}"
    );
    assert!(
        stderr.contains(":2: column 29: a JSON object was expected, not 5"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("u64") && !stderr.contains("struct"),
        "{stderr}"
    );
    let mut good = last_summary(&price(&["-m", "gpt-4o", &fixture("chat.jsonl")]));
    good["bytes"] = serde_json::json!(1e20);
    let ledger = dir.join("ledger.jsonl");
    std::fs::write(&ledger, format!("{good}\n")).unwrap();
    let output = merge_files(&[&ledger]);
    assert_eq!(output.status.code(), Some(1));
    assert_one_error_line(
        &output,
        &format!(
            "{}:1: not a tokmeter JSON summary: a whole number from 0 to {} was expected",
            ledger.display(),
            u64::MAX
        ),
    );
}

#[test]
fn merge_rejects_a_line_that_is_not_a_summary() {
    let dir = temp_dir("merge-bad");
    let path = dir.join("ledger.jsonl");
    let good = last_summary(&price(&["-m", "gpt-4o", &fixture("chat.jsonl")]));
    std::fs::write(&path, format!("{good}\n{{\"total_tokens\": 3}}\n")).unwrap();
    let output = tokmeter()
        .args(["merge", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_one_error_line(
        &output,
        &format!("{}:2: not a tokmeter JSON summary", path.display()),
    );
    let empty = run(&["merge"], b"");
    assert_eq!(empty.status.code(), Some(1));
    assert_one_error_line(&empty, "no summaries to merge");
}

#[test]
fn merge_sums_stream_summaries_exactly() {
    let mut lines = String::new();
    let mut expected_cost = 0u128;
    let mut expected_tokens = 0u64;
    for text in ["alpha beta\n", "gamma\ndelta epsilon zeta\n", ""] {
        let output = run(
            &["-m", "gpt-4o", "-t", "heuristic", "-s", "json"],
            text.as_bytes(),
        );
        let s: Value = crate::util::summary(&output);
        expected_cost += cost_units(s["total_cost"].as_str().unwrap());
        expected_tokens += s["total_tokens"].as_u64().unwrap();
        lines.push_str(&format!("{s}\n"));
    }
    let merged = run(&["merge"], lines.as_bytes());
    let merged: Value = serde_json::from_slice(&merged.stdout).unwrap();
    assert_eq!(merged["total_tokens"], expected_tokens);
    assert_eq!(
        cost_units(merged["total_cost"].as_str().unwrap()),
        expected_cost
    );
    assert_eq!(merged["sessions"], 3);
    assert!(merged.get("transcript").is_none());
}

#[test]
fn summary_file_dash_writes_the_json_lines_to_stdout() {
    let output = tokmeter()
        .args([
            "--input",
            "transcript",
            "-m",
            "gpt-4o",
            "-s",
            "none",
            "--summary-file",
            "-",
        ])
        .arg(fixture("chat.jsonl"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stderr.is_empty());
    let s: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(s["total_cost"], "0.0002325");
}

#[test]
fn flags_of_the_other_input_kind_are_usage_errors() {
    for (args, needle) in [
        (
            &["--input", "transcript", "-f", "json"][..],
            "--format applies to streams",
        ),
        (
            &["--input", "transcript", "--max-cost", "1"][..],
            "--max-cost applies to streams",
        ),
        (
            &["--input", "transcript", "--arrival"][..],
            "--arrival applies to streams",
        ),
        // Given at all, even at the default value: the flag has no meaning.
        (
            &["--input", "transcript", "-f", "raw"][..],
            "--format applies to streams",
        ),
        (
            &["--input", "transcript", "--count", "stream"][..],
            "--count applies to streams",
        ),
        (&["--replay"][..], "--replay needs --input transcript"),
        (
            &["--on-bad-line", "fail"][..],
            "--on-bad-line needs --input transcript",
        ),
        (&["--input", "transcript", "--cache"][..], "--replay"),
        (
            &[
                "--input",
                "transcript",
                "--replay",
                "--cache",
                "-m",
                "gpt-4",
            ][..],
            "no cache_read price",
        ),
        (&["--input", "transcript", "-j", "0"][..], "0"),
    ] {
        let output = run(args, b"");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert_one_error_line(&output, needle);
    }
}

#[test]
fn sigint_while_waiting_for_records_prints_the_summary_and_exits_130() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;
    let mut child = crate::util::tokmeter_process()
        .args(["--input", "transcript", "-m", "gpt-4o", "-s", "json"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    stdin
        .write_all(b"{\"role\":\"user\",\"content\":\"What is SIGPIPE?\"}\n{\"role\":\"assistant\",\"content\":\"13 on Linux.\"}\n{\"role\":5}\n")
        .unwrap();
    // The report of line 3 shows lines 1 to 3 were read; then the input waits.
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.starts_with("tokmeter: <stdin>:3: "), "{line}");
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let status = child.wait().unwrap();
    drop(stdin);
    assert_eq!(status.code(), Some(130));
    let summary: Value = serde_json::from_str(rest.lines().last().unwrap()).unwrap();
    assert_eq!(summary["error"], "interrupted by SIGINT");
    assert_eq!(summary["transcript"]["records"], 2);
    assert_eq!(summary["transcript"]["bad_lines"], 1);
    assert_eq!(sides(&summary).0, vec![5, 4, 0, 0]);
}

#[test]
fn summaries_to_a_closed_stdout_are_no_failure() {
    use std::process::Stdio;
    let dir = temp_dir("closed");
    let paths = corpus(&dir, 4);
    let mut child = crate::util::tokmeter_process()
        .args([
            "--input",
            "transcript",
            "-m",
            "gpt-4o",
            "-s",
            "none",
            "--summary-file",
            "-",
            "-j",
            "1",
        ])
        .args(as_args(&paths))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Only the corpus's own bad lines are reported.
    assert!(
        stderr.lines().all(|line| line.contains("truncated JSON")),
        "{stderr}"
    );
}

#[test]
fn bad_lines_of_later_files_follow_the_summaries_before_them() {
    let dir = crate::util::temp_dir("bad-line-order");
    let files = [
        (
            "a.jsonl",
            "{\"role\": \"user\", \"content\": \"hi\"}\nnot json\n",
        ),
        ("b.jsonl", "[1]\n{\"role\": \"user\", \"content\": 5}\n"),
        ("c.jsonl", "{\"role\": \"narrator\", \"content\": \"x\"}\n"),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    // Each input's lines, in input order: its bad lines, then its summary.
    let expected = [
        "a.jsonl:2: ",
        "a.jsonl: ",
        "b.jsonl:1: ",
        "b.jsonl:2: ",
        "b.jsonl: ",
        "c.jsonl:1: ",
        "c.jsonl: ",
        "total of 3 inputs: ",
    ];
    // The order must not depend on how the workers' threads are scheduled.
    for jobs in ["1", "2", "3"] {
        for _ in 0..10 {
            let output = crate::util::tokmeter()
                .current_dir(&dir)
                .args(["--input", "transcript", "-t", "heuristic", "-j", jobs])
                .args(["a.jsonl", "b.jsonl", "c.jsonl"])
                .output()
                .unwrap();
            let stderr = String::from_utf8(output.stderr).unwrap();
            let lines: Vec<&str> = stderr.lines().collect();
            assert_eq!(lines.len(), expected.len(), "-j {jobs}: {stderr}");
            for (line, start) in lines.iter().zip(expected) {
                assert!(
                    line.starts_with(&format!("tokmeter: {start}")),
                    "-j {jobs}: {line:?} is out of order in:\n{stderr}"
                );
            }
        }
    }
}
