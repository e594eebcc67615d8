//! The JSON Schemas in `schema/`: each is a valid draft 2020-12 schema, and
//! the real binary's output validates against them, for every output
//! format, every kind of input and every way a session can end in error.
//! A record with a field too many or too few does not.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Output, Stdio};
use std::sync::OnceLock;

use jsonschema::Validator;
use serde_json::{Value, json};

use crate::util::{BIN, temp_dir, tokmeter, tokmeter_process};

const DRAFT: &str = "https://json-schema.org/draft/2020-12/schema";
const SCHEMAS: [&str; 4] = [
    "chunk.schema.json",
    "stream.schema.json",
    "summary.schema.json",
    "report-row.schema.json",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(path: &str) -> String {
    root()
        .join("tests/fixtures")
        .join(path)
        .display()
        .to_string()
}

fn load(name: &str) -> Value {
    let path = root().join("schema").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{path:?}: {err}"));
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{path:?}: {err}"))
}

fn compile(name: &str) -> Validator {
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&load(name))
        .unwrap_or_else(|err| panic!("{name} does not compile: {err}"))
}

/// The four validators, compiled once.
struct Schemas {
    chunk: Validator,
    stream: Validator,
    summary: Validator,
    report: Validator,
}

fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| Schemas {
        chunk: compile("chunk.schema.json"),
        stream: compile("stream.schema.json"),
        summary: compile("summary.schema.json"),
        report: compile("report-row.schema.json"),
    })
}

/// The validation errors of `instance`, one per line.
fn errors(validator: &Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|err| format!("{} at {}", err, err.instance_path()))
        .collect()
}

#[track_caller]
fn assert_valid(validator: &Validator, instance: &Value, what: &str) {
    let errors = errors(validator, instance);
    assert!(
        errors.is_empty(),
        "{what}: {instance}\ndoes not validate:\n{}",
        errors.join("\n")
    );
}

#[track_caller]
fn assert_invalid(validator: &Validator, instance: &Value, what: &str) {
    assert!(
        !validator.is_valid(instance),
        "{what} should not validate: {instance}"
    );
}

fn parse(line: &str, what: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|err| panic!("{what}: {line:?}: {err}"))
}

/// The JSON lines of `text` (lines starting with `{`): stderr's summaries
/// among its messages, or stdout's records.
fn json_lines(text: &[u8], what: &str) -> Vec<Value> {
    String::from_utf8_lossy(text)
        .lines()
        .filter(|line| line.starts_with('{'))
        .map(|line| parse(line, what))
        .collect()
}

/// Which schema a run's records follow.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Records {
    /// Chunks of a text stream.
    Chunks,
    /// Text deltas of a provider stream.
    Deltas,
    /// Report rows (`--by … -f json`).
    Rows,
    /// Summaries (`--summary-file -`).
    Summaries,
    /// Nothing of ours on stdout.
    None,
}

fn validator_of(records: Records) -> &'static Validator {
    let s = schemas();
    match records {
        Records::Chunks => &s.chunk,
        Records::Deltas => &s.stream,
        Records::Rows => &s.report,
        Records::Summaries => &s.summary,
        Records::None => panic!("no records expected"),
    }
}

/// What a run gave: its records (stdout) and summaries (stderr), all valid.
struct Checked {
    code: Option<i32>,
    records: Vec<Value>,
    summaries: Vec<Value>,
}

/// Validates every JSON line of stdout as `records` (and, for SSE, every
/// event) and every JSON line of stderr as a summary; at least one summary
/// unless `-s none`.
fn check(output: &Output, records: Records, sse: bool, what: &str) -> Checked {
    let mut checked = Checked {
        code: output.status.code(),
        records: Vec::new(),
        summaries: json_lines(&output.stderr, what),
    };
    if sse {
        for (name, data) in sse_events(&output.stdout) {
            let value = parse(&data, what);
            match name.as_str() {
                "" => {
                    assert_valid(validator_of(records), &value, what);
                    checked.records.push(value);
                }
                "summary" => {
                    assert_valid(&schemas().summary, &value, what);
                    checked.summaries.push(value);
                }
                other => panic!("{what}: unexpected event {other:?}"),
            }
        }
    } else if records != Records::None {
        checked.records = json_lines(&output.stdout, what);
        assert!(!checked.records.is_empty(), "{what}: no records");
        for record in &checked.records {
            assert_valid(validator_of(records), record, what);
        }
    }
    for summary in json_lines(&output.stderr, what) {
        assert_valid(&schemas().summary, &summary, what);
    }
    checked
}

/// Runs tokmeter with `args` on `stdin` and checks its output.
fn run(args: &[&str], stdin: &[u8], records: Records) -> Checked {
    let output = tokmeter()
        .current_dir(root())
        .args(args)
        .write_stdin(stdin.to_vec())
        .output()
        .expect("tokmeter runs");
    let sse = args.windows(2).any(|w| w == ["-f", "sse"]);
    let checked = check(&output, records, sse, &format!("tokmeter {args:?}"));
    // `merge` prints its sum or report on stdout.
    let quiet = args.windows(2).any(|w| w == ["-s", "none"]) || args.first() == Some(&"merge");
    assert!(
        quiet || !checked.summaries.is_empty(),
        "tokmeter {args:?}: no summary\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    checked
}

/// The events of an SSE stream: (event name, data).
fn sse_events(stdout: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(stdout);
    let mut events = Vec::new();
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let mut name = String::new();
        let mut data = Vec::new();
        for line in block.lines() {
            if let Some(rest) = line.strip_prefix("event: ") {
                name = rest.to_string();
            } else if let Some(rest) = line.strip_prefix("data: ") {
                data.push(rest);
            } else {
                panic!("not an SSE line: {line:?}");
            }
        }
        events.push((name, data.join("\n")));
    }
    events
}

fn text_inputs() -> Vec<(String, Vec<u8>)> {
    let dir = root().join("tests/fixtures/golden/inputs");
    let mut inputs: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "txt"))
        .map(|path| (path.display().to_string(), std::fs::read(&path).unwrap()))
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 5, "{inputs:?}");
    inputs
}

fn stream_fixtures() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join("tests/fixtures/streams"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|e| e == "sse" || e == "ndjson")
        })
        .collect();
    paths.sort();
    assert!(paths.len() >= 8, "{paths:?}");
    paths
}

#[test]
fn schemas_are_valid_draft_2020_12() {
    let mut ids = Vec::new();
    for name in SCHEMAS {
        let schema = load(name);
        if let Err(err) = jsonschema::draft202012::meta::validate(&schema) {
            panic!("{name} is not a valid draft 2020-12 schema: {err}");
        }
        assert_eq!(schema["$schema"], DRAFT, "{name}");
        assert_eq!(schema["type"], "object", "{name}");
        for key in ["$id", "title", "description"] {
            assert!(schema[key].is_string(), "{name} has no {key}");
        }
        ids.push(schema["$id"].as_str().unwrap().to_string());
        compile(name);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), SCHEMAS.len(), "each schema has its own $id");
    // The meta-check is a real one: a schema with a bad keyword value fails.
    assert!(!jsonschema::draft202012::meta::is_valid(
        &json!({"type": "object", "required": "content"})
    ));
}

#[test]
fn a_field_too_many_or_too_few_fails() {
    let s = schemas();
    let record = json!({"content": "hi\n", "tokens": 1, "cost": "0.00001",
        "timestamp": "2026-12-02T10:00:00.000001Z", "metadata": {"chunk_id": 0, "model": "gpt-4o"}});
    assert_valid(&s.chunk, &record, "a chunk record");
    let mut extra = record.clone();
    extra["extra"] = json!(1);
    assert_invalid(&s.chunk, &extra, "a record with an extra field");
    let mut missing = record.clone();
    missing.as_object_mut().unwrap().remove("tokens");
    assert_invalid(&s.chunk, &missing, "a record without tokens");
    let mut number = record.clone();
    number["cost"] = json!(0.00001);
    assert_invalid(&s.chunk, &number, "a cost as a JSON number");
    for bad in ["0.10", "01", "1e-5", "-1", "0.0000000000001", ""] {
        let mut cost = record.clone();
        cost["cost"] = json!(bad);
        assert_invalid(&s.chunk, &cost, "a cost not as tokmeter writes it");
    }
    let mut time = record.clone();
    time["timestamp"] = json!("2026-12-02 10:00:00");
    assert_invalid(&s.chunk, &time, "a time that is not RFC 3339");
    let mut meta = record.clone();
    meta["metadata"]["run"] = json!(7);
    assert_invalid(&s.chunk, &meta, "a --meta value that is not a string");
    assert_invalid(&s.stream, &record, "a chunk record as a delta (no kind)");

    let output = tokmeter()
        .args(["-s", "json", "--session-id", "one"])
        .write_stdin("hello\n")
        .output()
        .unwrap();
    let summary = &json_lines(&output.stderr, "summary")[0];
    assert_valid(&s.summary, summary, "a summary");
    let mut extra = summary.clone();
    extra["surprise"] = json!(true);
    assert_invalid(&s.summary, &extra, "a summary with an extra field");
    for field in ["error", "total_cost", "agent_id", "metadata"] {
        let mut missing = summary.clone();
        missing.as_object_mut().unwrap().remove(field);
        assert_invalid(&s.summary, &missing, &format!("a summary without {field}"));
    }
    let mut tokens = summary.clone();
    tokens["total_tokens"] = json!("2");
    assert_invalid(&s.summary, &tokens, "tokens as a string");

    let row = json!({"day": "2026-12-01", "total": false, "responses": 1, "input_tokens": 1,
        "output_tokens": 2, "cache_read_tokens": 0, "cache_write_tokens": 0,
        "cache_write_1h_tokens": 0, "reasoning_tokens": 0, "cost": "0.1",
        "unpriced_tokens": 0, "total_tokens": 3, "currency": "USD"});
    assert_valid(&s.report, &row, "a report row");
    let mut total = row.clone();
    total["total"] = json!(true);
    assert_invalid(&s.report, &total, "a total with a label");
    total["day"] = Value::Null;
    assert_valid(&s.report, &total, "the total row");
    let mut null_label = row.clone();
    null_label["day"] = Value::Null;
    assert_invalid(&s.report, &null_label, "a group row without its label");
    let mut missing = row.clone();
    missing.as_object_mut().unwrap().remove("reasoning_tokens");
    assert_invalid(&s.report, &missing, "a row without reasoning_tokens");
    let mut label = row;
    label["model"] = json!(3);
    assert_invalid(&s.report, &label, "a label that is not a string");
}

#[test]
fn text_streams_in_every_format() {
    let mut records = 0;
    for (name, bytes) in text_inputs() {
        for extra in [
            &["-t", "o200k_base"][..],
            &["-t", "heuristic", "--count", "per-chunk"],
            &["-t", "cl100k_base", "--max-chunk", "5", "--strip-delimiter"],
            &["-m", "claude-sonnet-4-5", "--side", "input", "-d", ","],
        ] {
            let json = [&["-f", "json", "-s", "json", "--meta", "run=7"][..], extra].concat();
            let checked = run(&json, &bytes, Records::Chunks);
            assert_eq!(checked.code, Some(0), "{name}");
            records += checked.records.len();
            let sse = [&["-f", "sse", "-s", "json", "--agent-id", "me"][..], extra].concat();
            let checked = run(&sse, &bytes, Records::Chunks);
            assert_eq!(checked.summaries.len(), 2, "{name}: the event and stderr");
            for raw in ["raw", "text"] {
                let args = [&["-f", raw, "-s", "json"][..], extra].concat();
                let checked = run(&args, &bytes, Records::None);
                assert_eq!(checked.summaries.len(), 1, "{name}");
            }
        }
    }
    assert!(records > 100, "{records} records validated");
}

#[test]
fn several_files_give_part_and_total_summaries() {
    let dir = temp_dir("schemas-files");
    let ledger = dir.join("ledger.jsonl");
    let (a, b) = (
        fixture("golden/inputs/prose.txt"),
        fixture("golden/inputs/cjk.txt"),
    );
    let ledger_arg = ledger.display().to_string();
    let args = [
        "-f",
        "json",
        "-s",
        "json",
        "--session-id",
        "run",
        "--summary-file",
        &ledger_arg,
        &a,
        "-",
        &b,
    ];
    let checked = run(&args, b"from stdin\n", Records::Chunks);
    assert!(
        checked
            .records
            .iter()
            .any(|r| r["metadata"]["input"] == "<stdin>")
    );
    assert_eq!(checked.summaries.len(), 4, "three inputs and their total");
    assert!(checked.summaries[0]["part_of"] == "run" && checked.summaries[3]["sessions"] == 3);
    for line in std::fs::read_to_string(&ledger).unwrap().lines() {
        assert_valid(&schemas().summary, &parse(line, "ledger"), "ledger line");
    }
    let merged = run(
        &["merge", "-s", "json", &ledger_arg],
        b"",
        Records::Summaries,
    );
    assert_eq!(merged.records[0]["sessions"], 3);
    let rows = run(
        &[
            "merge",
            "--by",
            "input",
            "--by",
            "meta:none",
            "-f",
            "json",
            &ledger_arg,
        ],
        b"",
        Records::Rows,
    );
    assert_eq!(rows.records.len(), 4, "three inputs and the total");
    // `--summary-file -` writes each input's summary to stdout.
    let (chat, usage) = (
        fixture("transcript/chat.jsonl"),
        fixture("transcript/usage.jsonl"),
    );
    let stdout = run(
        &[
            "--input",
            "transcript",
            "-s",
            "none",
            "--summary-file",
            "-",
            &chat,
            &usage,
        ],
        b"",
        Records::Summaries,
    );
    assert_eq!(stdout.records.len(), 2);
}

#[test]
fn streams_that_pay_another_card() {
    let cards = "tests/fixtures/pricing/cards.toml";
    for args in [
        &["-m", "claude-sonnet-4-6", "--mode", "batch"][..],
        &["-m", "gemini-2.5-pro", "--prompt-tokens", "200001"],
        &["-m", "gpt-5.6-terra", "--date", "2026-07-15"],
    ] {
        let all = [
            &["-p", cards, "-t", "heuristic", "-f", "json", "-s", "json"][..],
            args,
        ]
        .concat();
        let checked = run(&all, b"abcdefgh\n", Records::Chunks);
        assert!(checked.summaries[0]["card"].is_object(), "{args:?}");
    }
}

#[test]
fn provider_streams_in_every_format() {
    for path in stream_fixtures() {
        let path = path.display().to_string();
        let bytes = std::fs::read(&path).unwrap();
        for extra in [
            &["--input", "auto"][..],
            &[
                "--input",
                "auto",
                "-m",
                "gpt-4o",
                "--prompt-tokens",
                "12",
                "--meta",
                "k=v",
            ],
        ] {
            let json = [&["-f", "json", "-s", "json"][..], extra].concat();
            let checked = run(&json, &bytes, Records::Deltas);
            let summary = &checked.summaries[0];
            assert!(summary["provider"].is_object(), "{path}");
            let sse = [&["-f", "sse", "-s", "json"][..], extra].concat();
            run(&sse, &bytes, Records::Deltas);
            for raw in ["raw", "text"] {
                run(
                    &[&["-f", raw, "-s", "json"][..], extra].concat(),
                    &bytes,
                    Records::None,
                );
            }
        }
        // A file named: records say which.
        let checked = run(
            &["--input", "auto", "-f", "json", "-s", "json", &path],
            b"",
            Records::Deltas,
        );
        assert!(
            checked
                .records
                .iter()
                .all(|r| r["metadata"]["input"] == path.as_str())
        );
    }
    // `--input auto` on text: chunk records, and a provider object.
    let readme = std::fs::read(fixture("transcript/README.md")).unwrap();
    let checked = run(
        &["--input", "auto", "-f", "json", "-s", "json"],
        &readme,
        Records::Chunks,
    );
    assert_eq!(checked.summaries[0]["provider"]["format"], "text");
}

#[test]
fn transcripts_of_every_kind() {
    let chat = fixture("transcript/chat.jsonl");
    let usage = fixture("transcript/usage.jsonl");
    let bad = fixture("transcript/bad.jsonl");
    for extra in [
        &["-m", "gpt-4.1"][..],
        &["-m", "claude-sonnet-4-5", "--replay"],
        &[
            "-m",
            "claude-sonnet-4-5",
            "--replay",
            "--cache",
            "-t",
            "heuristic",
        ],
        &["-m", "gpt-4.1", "--mode", "batch"],
    ] {
        let args = [
            &["--input", "transcript", "-s", "json"][..],
            extra,
            &[&chat, &usage, &bad],
        ]
        .concat();
        let checked = run(&args, b"", Records::None);
        assert_eq!(checked.summaries.len(), 4, "{extra:?}");
        assert!(
            checked
                .summaries
                .iter()
                .all(|s| s["transcript"].is_object())
        );
    }
    let stdin = std::fs::read(&chat).unwrap();
    run(
        &["--input", "transcript", "-s", "json"],
        &stdin,
        Records::None,
    );
    let rows = run(
        &[
            "--input",
            "transcript",
            "-m",
            "gpt-4.1",
            "--by",
            "model",
            "-f",
            "json",
            "-s",
            "json",
            &chat,
            &usage,
        ],
        b"",
        Records::Rows,
    );
    assert_eq!(rows.records.last().unwrap()["total"], true);
}

#[test]
fn agent_logs_and_their_reports() {
    let claude = fixture("agents/claude/projects");
    let codex = fixture("agents/codex/sessions");
    for (kind, dir) in [
        ("claude-code", &claude),
        ("codex", &codex),
        ("transcript", &claude),
    ] {
        let checked = run(&["--input", kind, "-s", "json", dir], b"", Records::None);
        let agent = &checked.summaries[0]["agent"];
        assert!(
            agent["models"].as_array().is_some_and(|m| !m.is_empty()),
            "{kind}"
        );
    }
    let both = run(
        &["--input", "transcript", "-s", "json", &claude, &codex],
        b"",
        Records::None,
    );
    assert_eq!(both.summaries[2]["agent"]["format"], "mixed");
    for by in [
        &["--by", "day"][..],
        &["--by", "month", "--utc"],
        &["--by", "model", "--by", "day"],
        &["--by", "session"],
        &["--by", "project"],
        &["--by", "project", "--by", "session", "--by", "model"],
    ] {
        let args = [
            &["--input", "transcript", "-f", "json", "-s", "json"][..],
            by,
            &[&claude, &codex],
        ]
        .concat();
        let checked = run(&args, b"", Records::Rows);
        let (last, groups) = checked.records.split_last().unwrap();
        assert_eq!(last["total"], true, "{by:?}");
        assert!(
            !groups.is_empty() && groups.iter().all(|r| r["total"] == false),
            "{by:?}"
        );
    }
    // The ledgers of both, merged and reported.
    let dir = temp_dir("schemas-agents");
    let ledger = dir.join("ledger.jsonl").display().to_string();
    for path in [&claude, &codex] {
        run(
            &[
                "--input",
                "transcript",
                "-s",
                "none",
                "--summary-file",
                &ledger,
                path,
            ],
            b"",
            Records::None,
        );
    }
    let merged = run(&["merge", &ledger], b"", Records::Summaries);
    assert_eq!(merged.records[0]["agent"]["format"], "mixed");
    run(
        &[
            "merge",
            "--by",
            "model",
            "--by",
            "agent",
            "--by",
            "meta:team",
            "-f",
            "json",
            &ledger,
        ],
        b"",
        Records::Rows,
    );
}

/// The summary's `error`, which must start with `prefix`.
#[track_caller]
fn assert_error(summary: &Value, prefix: &str) {
    let error = summary["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with(prefix),
        "error {error:?}, not {prefix:?}…"
    );
}

#[test]
fn budget_ends_validate() {
    let text = "one two three four five six seven eight nine ten\n".repeat(20);
    for format in ["json", "sse", "raw"] {
        let records = if format == "raw" {
            Records::None
        } else {
            Records::Chunks
        };
        let checked = run(
            &["-f", format, "-s", "json", "--max-tokens", "30"],
            text.as_bytes(),
            records,
        );
        assert_error(checked.summaries.last().unwrap(), "budget exceeded");
        let checked = run(
            &["-f", format, "-s", "json", "--max-cost", "0.0002"],
            text.as_bytes(),
            records,
        );
        assert_error(checked.summaries.last().unwrap(), "budget exceeded");
    }
    let stream = std::fs::read(fixture("streams/openai-chat.sse")).unwrap();
    for format in ["json", "sse"] {
        let checked = run(
            &[
                "--input",
                "auto",
                "-f",
                format,
                "-s",
                "json",
                "--max-tokens",
                "5",
            ],
            &stream,
            Records::Deltas,
        );
        assert_error(checked.summaries.last().unwrap(), "budget exceeded");
    }
}

#[test]
fn provider_error_and_unknown_model_ends_validate() {
    let error = std::fs::read(fixture("streams/openai-chat-error.sse")).unwrap();
    for format in ["json", "sse"] {
        let checked = run(
            &["--input", "auto", "-f", format, "-s", "json"],
            &error,
            Records::Deltas,
        );
        assert_eq!(checked.code, Some(1));
        assert_error(&checked.summaries[0], "provider error: ");
        assert_eq!(checked.summaries[0]["provider"]["complete"], false);
    }
    let ollama = std::fs::read(fixture("streams/ollama-chat.ndjson")).unwrap();
    let checked = run(
        &["--input", "auto", "-f", "json", "-s", "json"],
        &ollama,
        Records::Deltas,
    );
    assert_eq!(checked.code, Some(2));
    assert_error(&checked.summaries[0], "unknown model ");
    let zero = run(
        &[
            "-m",
            "no-such-model",
            "--unknown-model",
            "zero",
            "-f",
            "json",
            "-s",
            "json",
        ],
        b"hello\n",
        Records::Chunks,
    );
    assert_eq!(zero.summaries[0]["priced"], false);
    // A model an agent log names that the table lacks: unpriced tokens.
    let claude = fixture("agents/claude/projects");
    let checked = run(
        &["--input", "claude-code", "-s", "json", &claude],
        b"",
        Records::None,
    );
    assert!(
        !checked.summaries[0]["agent"]["unpriced_models"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_bad_line_end_validates() {
    let bad = fixture("transcript/bad.jsonl");
    let chat = fixture("transcript/chat.jsonl");
    let checked = run(
        &[
            "--input",
            "transcript",
            "-m",
            "gpt-4o",
            "--on-bad-line",
            "fail",
            "-s",
            "json",
            &bad,
            &chat,
        ],
        b"",
        Records::None,
    );
    assert_eq!(checked.code, Some(1));
    assert_error(&checked.summaries[0], "bad line 2: ");
    assert_error(&checked.summaries[2], "bad line 2: ");
    // Two sessions ending in error, merged.
    let dir = temp_dir("schemas-bad");
    let ledger = dir.join("ledger.jsonl").display().to_string();
    for id in ["a", "b"] {
        run(
            &[
                "--input",
                "transcript",
                "--on-bad-line",
                "fail",
                "--session-id",
                id,
                "-s",
                "none",
                "--summary-file",
                &ledger,
                &bad,
            ],
            b"",
            Records::None,
        );
    }
    let merged = run(&["merge", &ledger], b"", Records::Summaries);
    assert_error(&merged.records[0], "2 sessions ended with an error");
}

/// What `child` wrote: `seen`, then the rest of `stdout` and all of its
/// standard error, once it has exited.
fn finish(mut child: Child, seen: String, stdout: BufReader<ChildStdout>) -> Output {
    let mut all = seen.into_bytes();
    all.extend_from_slice(stdout.buffer());
    child.stdout = Some(stdout.into_inner());
    let mut output = child.wait_with_output().unwrap();
    all.append(&mut output.stdout);
    output.stdout = all;
    output
}

#[test]
fn an_interrupted_stream_validates() {
    for format in ["json", "sse"] {
        let mut child = crate::util::spawn_piped(&["-f", format, "-s", "json", "--flush", "chunk"]);
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"one\ntwo\n").unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        // Both records are out (SSE: each a data line and a blank line).
        let mut seen = Vec::new();
        let wanted = if format == "sse" { 4 } else { 2 };
        for _ in 0..wanted {
            let mut line = String::new();
            stdout.read_line(&mut line).unwrap();
            seen.push(line);
        }
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
        let output = finish(child, seen.concat(), stdout);
        drop(stdin);
        assert_eq!(output.status.code(), Some(130));
        let checked = check(&output, Records::Chunks, format == "sse", "interrupted");
        assert_eq!(checked.records.len(), 2);
        assert_error(checked.summaries.last().unwrap(), "interrupted by SIGINT");
    }
}

#[test]
fn a_closed_output_validates() {
    let dir = temp_dir("schemas-closed");
    let ledger = dir.join("ledger.jsonl");
    let input = "a line of text to meter, again and again\n".repeat(200_000);
    for format in ["json", "sse", "raw"] {
        let command = format!(
            "{BIN} -f {format} -s none --summary-file {} | head -c 10 > /dev/null",
            ledger.display()
        );
        let mut child = std::process::Command::new("bash")
            .args(["-o", "pipefail", "-c", &command])
            .env_remove("TOKMETER_PRICING")
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let bytes = input.clone();
        // tokmeter stops reading once its reader is gone.
        let writer = std::thread::spawn(move || drop(stdin.write_all(bytes.as_bytes())));
        assert_eq!(child.wait().unwrap().code(), Some(0), "{format}");
        writer.join().unwrap();
    }
    let text = std::fs::read_to_string(&ledger).unwrap();
    assert_eq!(text.lines().count(), 3);
    for line in text.lines() {
        let summary = parse(line, "ledger");
        assert_valid(&schemas().summary, &summary, "output closed");
        assert_error(&summary, "output closed");
    }
}

#[test]
fn a_write_error_validates() {
    // A full disk: every write fails.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let output = tokmeter_process()
        .args(["-f", "json", "-s", "json"])
        .stdin(Stdio::piped())
        .stdout(full)
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(b"hello\nworld\n")?;
            child.wait_with_output()
        })
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let checked = check(&output, Records::None, false, "write error");
    assert_error(&checked.summaries[0], "write error: ");
}

#[test]
fn a_read_error_validates() {
    // A pseudo-terminal's master reads EIO once the slave side is closed:
    // a read error after data came through (as in faults.rs).
    let (master, slave) = crate::util::pseudo_terminal();
    let mut child = tokmeter_process()
        .args(["-t", "heuristic", "-f", "json", "-s", "json"])
        .stdin(Stdio::from(master))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut slave = std::fs::File::from(slave);
    slave.write_all(b"hello world\n").unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    drop(slave);
    let output = finish(child, first, stdout);
    assert_eq!(output.status.code(), Some(1));
    let checked = check(&output, Records::Chunks, false, "read error");
    assert_eq!(checked.records.len(), 1);
    assert_error(&checked.summaries[0], "read error: ");
}
