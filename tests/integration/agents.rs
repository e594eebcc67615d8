//! Agent logs through the binary, on the hand-worked fixtures of
//! `tests/fixtures/agents` (each expected figure is derived in its README).

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::util::{temp_dir, tokmeter};

fn agents() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/agents")
}

/// A Claude Code fixture, by the first characters of its name.
fn claude(prefix: &str) -> String {
    let dir = agents().join("claude/projects/-home-user-proj");
    if prefix == "agent-" {
        return dir
            .join("4e2b8c61-7f3d-4a95-b0c4-19e6d2a7f8b5/subagents/agent-a3f9c21.jsonl")
            .display()
            .to_string();
    }
    let name = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with(prefix) && n.ends_with(".jsonl"))
        .unwrap_or_else(|| panic!("no fixture {prefix}"));
    dir.join(name).display().to_string()
}

fn codex(day: &str) -> String {
    let dir = agents().join("codex/sessions").join(day);
    let name = std::fs::read_dir(&dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name();
    dir.join(name).display().to_string()
}

/// Runs tokmeter with JSON summaries.
fn price(args: &[&str]) -> Output {
    tokmeter()
        .args(["-s", "json"])
        .args(args)
        .env_remove("TZ")
        .output()
        .unwrap()
}

/// Every JSON summary on stderr, in order.
fn summaries(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

fn last(output: &Output) -> Value {
    summaries(output).pop().expect("a summary")
}

/// Tokens by class: input, output, cache read, 5-minute and 1-hour writes.
fn tokens(s: &Value) -> [u64; 5] {
    let t = &s["transcript"];
    [
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "cache_write_1h_tokens",
    ]
    .map(|k| t[k].as_u64().unwrap())
}

/// Line counts: duplicate, replay, re-emitted, synthetic, skipped, bad.
fn lines(s: &Value) -> [u64; 6] {
    let count = |k: &str| s["agent"][k].as_u64().unwrap();
    [
        count("duplicate_lines"),
        count("replay_lines"),
        count("reemitted_lines"),
        count("synthetic_lines"),
        count("skipped_lines"),
        s["transcript"]["bad_lines"].as_u64().unwrap(),
    ]
}

/// The cost of each model an agent summary lists.
fn model_costs(s: &Value) -> Vec<(String, String)> {
    s["agent"]["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["model"].as_str().unwrap().to_string(),
                m["cost"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_response_split_over_lines_is_billed_once_with_its_final_usage() {
    let output = price(&["--input", "claude-code", &claude("1b6f0c2e")]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let s = last(&output);
    assert_eq!(s["total_cost"], "0.04351095");
    assert_eq!(tokens(&s), [9, 699, 34434, 6045, 0]);
    assert_eq!(s["agent"]["responses"], 2);
    assert_eq!(lines(&s), [3, 0, 0, 0, 3, 0]);
    assert_eq!(s["tokenizer"], "usage");
    assert_eq!(s["exact"], true);
    assert_eq!(s["count"], "responses");
    assert_eq!(s["model"], "claude-sonnet-4-5");
}

#[test]
fn identical_copies_of_1_0_x_are_billed_once_and_cost_usd_is_not_used() {
    let output = price(&["--input", "claude-code", &claude("3d9a27f5")]);
    let s = last(&output);
    assert_eq!(s["total_cost"], "0.02374605");
    assert_eq!(tokens(&s), [7, 279, 29621, 2841, 0]);
    assert_eq!(lines(&s)[0], 1);
    assert_eq!(s["model"], "claude-sonnet-4");
}

#[test]
fn a_resumed_copy_in_another_file_is_billed_once_by_the_file_met_first() {
    let (a, b) = (claude("1b6f0c2e"), claude("2c81d4a7"));
    let output = price(&["--input", "claude-code", &a, &b]);
    let all = summaries(&output);
    assert_eq!(all[0]["total_cost"], "0.04351095");
    assert_eq!(all[1]["total_cost"], "0.0216108");
    assert_eq!(all[1]["agent"]["duplicate_lines"], 6);
    assert_eq!(all[2]["total_cost"], "0.06512175");
    // Alone, B bills A's responses too; read first, it keeps them.
    let alone = last(&price(&["--input", "claude-code", &b]));
    assert_eq!(alone["total_cost"], "0.06512175");
    let reversed = summaries(&price(&["--input", "claude-code", &b, &a]));
    assert_eq!(reversed[0]["total_cost"], "0.06512175");
    assert_eq!(reversed[1]["total_cost"], "0");
    assert_eq!(reversed[2]["total_cost"], "0.06512175");
}

#[test]
fn each_response_is_priced_at_its_own_model_with_one_hour_writes() {
    // -m prices only records that name no model.
    let output = price(&[
        "--input",
        "claude-code",
        "-m",
        "gpt-4o",
        &claude("4e2b8c61"),
    ]);
    let s = last(&output);
    assert_eq!(s["total_cost"], "0.4218105");
    assert_eq!(tokens(&s), [31, 3081, 21664, 52534, 20751]);
    assert_eq!(s["transcript"]["cache_write_1h_cost"], "0.20751");
    assert_eq!(s["model"], "mixed");
    assert_eq!(
        model_costs(&s),
        [
            ("claude-haiku-4-5".to_string(), "0.033482".to_string()),
            ("claude-opus-4-5".to_string(), "0.286147".to_string()),
            ("claude-sonnet-4-5".to_string(), "0.1021815".to_string()),
        ]
    );
    assert_eq!(lines(&s), [4, 0, 0, 0, 12, 0]);
}

#[test]
fn a_sidechain_replay_is_not_billed_whichever_file_comes_first() {
    let (d, e) = (claude("4e2b8c61"), claude("agent-"));
    for order in [[&d, &e], [&e, &d]] {
        let output = price(&["--input", "claude-code", order[0], order[1]]);
        let total = last(&output);
        assert_eq!(total["total_cost"], "0.4366165", "{order:?}");
        assert_eq!(total["agent"]["replay_lines"], 1);
        assert_eq!(total["agent"]["responses"], 6);
    }
}

#[test]
fn synthetic_and_non_chat_lines_cost_nothing_and_are_not_bad() {
    let output = price(&[
        "--input",
        "claude-code",
        "--on-bad-line",
        "fail",
        &claude("5f07e3b9"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let s = last(&output);
    assert_eq!(s["total_cost"], "0.077526");
    assert_eq!(lines(&s), [0, 0, 0, 2, 7, 0]);
    assert_eq!(s["error"], Value::Null);
}

#[test]
fn an_unpriced_model_is_listed_warned_once_and_exits_2_and_a_cut_line_is_bad() {
    let g = claude("6a4d1f8e");
    let output = price(&["--input", "claude-code", &g]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr
            .matches("\"glm-4.6\" is not in the pricing table")
            .count(),
        1
    );
    assert!(
        stderr.contains(":7: column 431: truncated JSON"),
        "{stderr}"
    );
    let s = last(&output);
    assert_eq!(s["total_cost"], "0");
    assert_eq!(s["priced"], false);
    assert_eq!(s["agent"]["unpriced_tokens"], 14499);
    assert_eq!(
        s["agent"]["unpriced_models"],
        serde_json::json!(["glm-4.6"])
    );
    assert_eq!(s["total_tokens"], 14499);
    assert_eq!(lines(&s), [1, 0, 0, 0, 3, 1]);
    let zero = price(&["--input", "claude-code", "--unknown-model", "zero", &g]);
    assert_eq!(zero.status.code(), Some(0));
    assert_eq!(last(&zero)["agent"]["unpriced_tokens"], 14499);
}

#[test]
fn a_codex_rollout_bills_the_growth_of_its_totals_once_per_call() {
    let output = price(&["--input", "codex", &codex("2026/11/30")]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let s = last(&output);
    assert_eq!(s["total_cost"], "0.03220185");
    assert_eq!(tokens(&s), [7023, 1425, 20736, 0, 0]);
    assert_eq!(s["agent"]["reasoning_tokens"], 768);
    assert_eq!(lines(&s), [0, 0, 3, 0, 18, 0]);
    assert_eq!(
        model_costs(&s),
        [
            ("gpt-5".to_string(), "0.009168".to_string()),
            ("gpt-5.3-codex".to_string(), "0.02303385".to_string()),
        ]
    );
    let other = last(&price(&["--input", "codex", &codex("2026/12/01")]));
    assert_eq!(other["total_cost"], "0.03253005");
    assert_eq!(other["agent"]["reemitted_lines"], 3);
}

#[test]
fn the_whole_corpus_as_one_directory_matches_the_hand_worked_totals() {
    let dir = agents();
    let output = price(&["--input", "transcript", dir.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "glm-4.6 is unpriced");
    let all = summaries(&output);
    assert_eq!(all.len(), 1, "a directory is one input");
    let s = &all[0];
    assert_eq!(s["total_cost"], "0.6677422");
    assert_eq!(tokens(s), [20663, 8789, 171359, 89100, 20751]);
    assert_eq!(s["agent"]["files"], 9);
    assert_eq!(s["agent"]["format"], "mixed");
    assert_eq!(s["agent"]["responses"], 21);
    assert_eq!(lines(s), [16, 1, 6, 2, 64, 1]);
    assert_eq!(s["transcript"]["records"], 110);
    // Forcing a format reads every file as it: Codex lines are no Claude
    // responses.
    let forced = last(&price(&["--input", "claude-code", dir.to_str().unwrap()]));
    assert_eq!(forced["agent"]["format"], "claude-code");
    assert_eq!(forced["total_cost"], "0.6030103");
}

/// The report's JSON rows: (labels, responses, cost), the total last.
fn rows(stdout: &[u8], keys: &[&str]) -> Vec<(Vec<String>, u64, String)> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|line| {
            let row: Value = serde_json::from_str(line).unwrap();
            let labels = keys
                .iter()
                .map(|k| row[*k].as_str().unwrap_or("TOTAL").to_string())
                .collect();
            (
                labels,
                row["responses"].as_u64().unwrap(),
                row["cost"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn row(labels: &[&str], responses: u64, cost: &str) -> (Vec<String>, u64, String) {
    (
        labels.iter().map(|l| l.to_string()).collect(),
        responses,
        cost.to_string(),
    )
}

#[test]
fn reports_by_day_follow_the_time_zone_unless_utc() {
    let dir = agents();
    let by_day = |tz: Option<&str>, utc: bool| {
        let mut command = tokmeter();
        command.args([
            "--input",
            "transcript",
            "--by",
            "day",
            "-f",
            "json",
            "-s",
            "none",
        ]);
        if utc {
            command.arg("--utc");
        }
        match tz {
            Some(tz) => command.env("TZ", tz),
            None => command.env_remove("TZ"),
        };
        let output = command.arg(&dir).output().unwrap();
        assert_eq!(output.status.code(), Some(2));
        rows(&output.stdout, &["day"])
    };
    let new_york = by_day(Some("America/New_York"), false);
    assert_eq!(
        new_york,
        [
            row(&["2025-08-20"], 2, "0.02374605"),
            row(&["2026-11-29"], 2, "0.077526"),
            row(&["2026-11-30"], 9, "0.3766658"),
            row(&["2026-12-01"], 8, "0.18980435"),
            row(&["TOTAL"], 21, "0.6677422"),
        ]
    );
    let utc = [
        row(&["2025-08-20"], 2, "0.02374605"),
        row(&["2026-11-30"], 7, "0.1532388"),
        row(&["2026-12-01"], 12, "0.49075735"),
        row(&["TOTAL"], 21, "0.6677422"),
    ];
    assert_eq!(by_day(Some("America/New_York"), true), utc);
    assert_eq!(by_day(Some("UTC"), false), utc);
}

#[test]
fn reports_by_model_and_session_group_each_response_by_its_own_labels() {
    let dir = agents();
    let output = tokmeter()
        .args([
            "--input",
            "transcript",
            "--by",
            "model",
            "-f",
            "json",
            "-s",
            "none",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    let by_model = rows(&output.stdout, &["model"]);
    let costs: Vec<(&str, &str)> = by_model
        .iter()
        .map(|(l, _, c)| (l[0].as_str(), c.as_str()))
        .collect();
    assert_eq!(
        costs,
        [
            ("claude-haiku-4-5", "0.048288"),
            ("claude-opus-4-5", "0.286147"),
            ("claude-sonnet-4", "0.02374605"),
            ("claude-sonnet-4-5", "0.24482925"),
            ("glm-4.6", "0"),
            ("gpt-5", "0.009168"),
            ("gpt-5.3-codex", "0.0555639"),
            ("TOTAL", "0.6677422"),
        ]
    );
    let output = tokmeter()
        .args(["--input", "transcript", "--by", "session", "-s", "none"])
        .arg(&dir)
        .output()
        .unwrap();
    let table = String::from_utf8(output.stdout).unwrap();
    let line = table
        .lines()
        .find(|l| l.starts_with("4e2b8c61-7f3d-4a95-b0c4-19e6d2a7f8b5"))
        .unwrap();
    assert!(
        line.contains(" 6 ") && line.contains(" $0.4366165 "),
        "{table}"
    );
    assert!(
        table.lines().last().unwrap().starts_with("total"),
        "{table}"
    );
}

#[test]
fn with_no_file_the_agents_own_directories_are_read() {
    let home = temp_dir("agent-home");
    let copy = |from: &Path, to: &Path| {
        let status = std::process::Command::new("cp")
            .arg("-r")
            .arg(from)
            .arg(to)
            .status()
            .unwrap();
        assert!(status.success());
    };
    std::fs::create_dir_all(home.join(".claude")).unwrap();
    copy(
        &agents().join("claude/projects"),
        &home.join(".claude/projects"),
    );
    std::fs::create_dir_all(home.join(".codex")).unwrap();
    copy(
        &agents().join("codex/sessions"),
        &home.join(".codex/sessions"),
    );
    let run = |input: &str, env: &[(&str, &Path)]| {
        let mut command = tokmeter();
        command
            .args(["--input", input, "-s", "json", "--unknown-model", "zero"])
            .env("HOME", &home)
            .env_remove("CLAUDE_CONFIG_DIR")
            .env_remove("CODEX_HOME");
        for (key, value) in env {
            command.env(key, value);
        }
        command.output().unwrap()
    };
    let claude = last(&run("claude-code", &[]));
    assert_eq!(claude["total_cost"], "0.6030103");
    assert!(
        claude["input"]
            .as_str()
            .unwrap()
            .ends_with(".claude/projects")
    );
    let codex = last(&run("codex", &[]));
    assert_eq!(codex["total_cost"], "0.0647319");
    // The variables name the agents' directories instead.
    let elsewhere = temp_dir("agent-elsewhere");
    std::fs::create_dir_all(elsewhere.join("cfg")).unwrap();
    copy(
        &agents().join("claude/projects"),
        &elsewhere.join("cfg/projects"),
    );
    let from_env = last(&run(
        "claude-code",
        &[("CLAUDE_CONFIG_DIR", &elsewhere.join("cfg"))],
    ));
    assert_eq!(from_env["total_cost"], "0.6030103");
    let missing = run("codex", &[("CODEX_HOME", &elsewhere)]);
    assert_eq!(missing.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("no codex logs:") && stderr.contains("CODEX_HOME"),
        "{stderr}"
    );
}

#[test]
fn merge_by_model_splits_agent_summaries_and_sums_to_the_run() {
    let dir = temp_dir("agent-ledger");
    let ledger = dir.join("ledger.jsonl");
    for part in ["claude", "codex"] {
        let output = tokmeter()
            .args([
                "--input",
                "transcript",
                "-s",
                "none",
                "--unknown-model",
                "zero",
            ])
            .args(["--meta", &format!("agent={part}")])
            .arg("--summary-file")
            .arg(&ledger)
            .arg(agents().join(part))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{output:?}");
    }
    let output = tokmeter()
        .args(["merge", "--by", "model", "-f", "json"])
        .arg(&ledger)
        .output()
        .unwrap();
    let by_model = rows(&output.stdout, &["model"]);
    assert_eq!(by_model.len(), 8);
    assert_eq!(by_model[1], row(&["claude-opus-4-5"], 2, "0.286147"));
    assert_eq!(by_model[7], row(&["TOTAL"], 21, "0.6677422"));
    let output = tokmeter()
        .args(["merge", "--by", "meta:agent", "-f", "json"])
        .arg(&ledger)
        .output()
        .unwrap();
    assert_eq!(
        rows(&output.stdout, &["meta:agent"]),
        [
            row(&["claude"], 16, "0.6030103"),
            row(&["codex"], 5, "0.0647319"),
            row(&["TOTAL"], 21, "0.6677422"),
        ]
    );
}

#[test]
fn an_empty_directory_is_an_input_with_nothing_in_it() {
    let dir = temp_dir("agent-empty");
    let output = price(&["--input", "claude-code", dir.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("holds no *.jsonl files"), "{stderr}");
    assert_eq!(last(&output)["total_tokens"], 0);
}
