//! Golden files: a matrix of whole runs whose stdout, stderr and exit status
//! must stay byte for byte what `tests/fixtures/golden/<case>/` holds.
//!
//! Every case runs the real binary from the repository root, on inputs in
//! the repository, with relative paths (so no machine's paths leak into the
//! output), and, in the modes that take them, `--fixed-clock` and
//! `--session-id golden`, so times and ids are fixed. `UPDATE_GOLDEN=1`
//! rewrites the files instead of comparing; review the diff before
//! committing it.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use std::io::Write;

use crate::util::tokmeter_process;

/// The frozen clock of every run that takes one.
const CLOCK: &str = "2026-01-01T00:00:00Z";

/// Where the cases' expected outputs live, relative to the repository root.
const GOLDEN: &str = "tests/fixtures/golden";

/// Directories of `GOLDEN` that hold inputs, not a case.
const NOT_CASES: &[&str] = &["inputs", "pricing", "ledgers"];

/// What a case reads on standard input.
enum Stdin {
    /// Nothing: standard input is empty.
    Empty,
    /// A file of the repository, opened as standard input (a regular file,
    /// as with `< FILE`, so reads are the same on every run).
    File(&'static str),
    /// These bytes, written through a pipe.
    Bytes(&'static [u8]),
}

/// How the run is set up around its own arguments.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A metering run: `--fixed-clock` and `--session-id golden` first.
    Run,
    /// `tokmeter merge`: `--session-id golden` after the subcommand.
    Merge,
    /// Only the case's own arguments (help, version, flag errors).
    Bare,
}

/// Runs one case and compares (or, with `UPDATE_GOLDEN=1`, rewrites) its
/// golden files; panics with a readable diff of the first difference.
fn check(name: &str, mode: Mode, args: &[&str], stdin: Stdin) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut command = tokmeter_process();
    command.current_dir(root);
    match mode {
        Mode::Run => {
            command.args(["--fixed-clock", CLOCK, "--session-id", "golden"]);
            command.args(args);
        }
        Mode::Merge => {
            command.arg("merge").args(["--session-id", "golden"]);
            command.args(args);
        }
        Mode::Bare => {
            command.args(args);
        }
    }
    let bytes = match stdin {
        Stdin::Empty => {
            command.stdin(Stdio::null());
            None
        }
        Stdin::File(path) => {
            let file = File::open(root.join(path)).unwrap_or_else(|err| panic!("{path}: {err}"));
            command.stdin(file);
            None
        }
        Stdin::Bytes(bytes) => {
            command.stdin(Stdio::piped());
            Some(bytes)
        }
    };
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tokmeter starts");
    if let Some(bytes) = bytes {
        let mut pipe = child.stdin.take().expect("stdin piped");
        // A run that exits before reading makes this a broken pipe: no error.
        let _ = pipe.write_all(bytes);
    }
    let output = child.wait_with_output().expect("tokmeter runs");
    compare(&root.join(GOLDEN).join(name), &output);
}

/// The exit status as the golden `status` file spells it.
fn status_text(output: &Output) -> String {
    match output.status.code() {
        Some(code) => format!("{code}\n"),
        None => format!("{}\n", output.status),
    }
}

/// Compares `output` with the files in `dir`, or writes them there when
/// `UPDATE_GOLDEN` is set; panics naming every file that differs.
fn compare(dir: &Path, output: &Output) {
    let status = status_text(output);
    let parts: [(&str, &[u8]); 3] = [
        ("stdout", &output.stdout),
        ("stderr", &output.stderr),
        ("status", status.as_bytes()),
    ];
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|value| !value.is_empty()) {
        std::fs::create_dir_all(dir).expect("golden dir");
        for (file, got) in parts {
            std::fs::write(dir.join(file), got).expect("golden file written");
        }
        return;
    }
    let mut failures = Vec::new();
    for (file, got) in parts {
        let path = dir.join(file);
        match std::fs::read(&path) {
            Ok(expected) if expected == got => {}
            Ok(expected) => failures.push(format!(
                "{}: differs\n{}",
                path.display(),
                diff(&expected, got)
            )),
            Err(err) => failures.push(format!(
                "{}: {err} (run with UPDATE_GOLDEN=1 to create it)",
                path.display()
            )),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The first differing line of `expected` and `got` with up to three lines
/// of context before it and after it, each side shown lossily as UTF-8.
fn diff(expected: &[u8], got: &[u8]) -> String {
    let expected: Vec<&[u8]> = expected.split_inclusive(|&b| b == b'\n').collect();
    let got: Vec<&[u8]> = got.split_inclusive(|&b| b == b'\n').collect();
    let first = (0..expected.len().max(got.len()))
        .find(|&i| expected.get(i) != got.get(i))
        .unwrap_or(0);
    let from = first.saturating_sub(3);
    let show = |lines: &[&[u8]], label: &str| {
        let mut text = format!("--- {label} (from line {}):\n", from + 1);
        for (i, line) in lines.iter().enumerate().skip(from).take(first - from + 4) {
            let marker = if i == first { '>' } else { ' ' };
            text.push_str(&format!(
                "{marker}{:5} | {:?}\n",
                i + 1,
                String::from_utf8_lossy(line)
            ));
        }
        if first >= lines.len() {
            text.push_str(&format!(
                ">{:5} | (end: {} lines)\n",
                first + 1,
                lines.len()
            ));
        }
        text
    };
    format!("{}{}", show(&expected, "expected"), show(&got, "got"))
}

/// Declares the cases: one `#[test]` each, and `CASES`, their names.
macro_rules! golden {
    ($($name:ident: $mode:ident [$($arg:expr),* $(,)?] $stdin:expr;)*) => {
        /// Every case's name, so a leftover golden directory is noticed.
        const CASES: &[&str] = &[$(stringify!($name)),*];
        $(
            #[test]
            fn $name() {
                check(stringify!($name), Mode::$mode, &[$($arg),*], $stdin);
            }
        )*
    };
}

use Stdin::{Bytes, Empty, File as In};

const PROSE: &str = "tests/fixtures/golden/inputs/prose.txt";
const CODE: &str = "tests/fixtures/golden/inputs/code.rs.txt";
const CJK: &str = "tests/fixtures/golden/inputs/cjk.txt";
const INVALID: &str = "tests/fixtures/golden/inputs/invalid-utf8.txt";
const NO_NEWLINE: &str = "tests/fixtures/golden/inputs/no-newline.txt";
const NUL: &str = "tests/fixtures/golden/inputs/nul.txt";
const DELIM: &str = "tests/fixtures/golden/inputs/delim.txt";
const SLICE: &str = "tests/fixtures/golden/inputs/tokenizer-slice.jsonl";
const OPENAI_SSE: &str = "tests/fixtures/golden/inputs/openai-chat.sse.txt";
const STREAM_USAGE: &str = "tests/fixtures/streams/openai-chat-usage.sse";
const STREAM_NO_USAGE: &str = "tests/fixtures/streams/openai-chat.sse";
const STREAM_ANTHROPIC: &str = "tests/fixtures/streams/anthropic.sse";
const STREAM_OPENROUTER: &str = "tests/fixtures/streams/openrouter.sse";
const STREAM_RESPONSES: &str = "tests/fixtures/streams/openai-responses.sse";
const STREAM_ERROR: &str = "tests/fixtures/streams/openai-chat-error.sse";
const STREAM_GEMINI: &str = "tests/fixtures/streams/gemini.sse";
const STREAM_OLLAMA: &str = "tests/fixtures/streams/ollama-chat.ndjson";
const ANTHROPIC_SSE: &str = "tests/fixtures/golden/inputs/anthropic.sse.txt";
const EDGE_SSE: &str = "tests/fixtures/golden/inputs/sse-edge-cases.sse.txt";
const CUSTOM: &str = "tests/fixtures/golden/pricing/custom.toml";
const BAD_PRICING: &str = "tests/fixtures/golden/pricing/bad.toml";
const CHAT: &str = "tests/fixtures/transcript/chat.jsonl";
const USAGE: &str = "tests/fixtures/transcript/usage.jsonl";
const BAD_LINES: &str = "tests/fixtures/transcript/bad.jsonl";
const STREAM_LEDGER: &str = "tests/fixtures/golden/ledgers/stream.jsonl";
const TRANSCRIPT_LEDGER: &str = "tests/fixtures/golden/ledgers/transcript.jsonl";
const BAD_LEDGER: &str = "tests/fixtures/golden/ledgers/bad.jsonl";
const AGENT_LEDGER: &str = "tests/fixtures/golden/ledgers/agents.jsonl";
const AGENTS: &str = "tests/fixtures/agents";
const CLAUDE: &str = "tests/fixtures/agents/claude";
const CODEX: &str = "tests/fixtures/agents/codex";

golden! {
    // Raw output, each tokenizer.
    raw_heuristic_prose: Run ["-t", "heuristic"] In(PROSE);
    raw_o200k_code: Run ["-t", "o200k_base", "-s", "json"] In(CODE);
    raw_cl100k_cjk: Run ["-m", "gpt-4", "-t", "cl100k_base"] In(CJK);
    raw_chunk_prose: Run ["-t", "chunk", "-s", "json"] In(PROSE);
    raw_auto_summary_none: Run ["-s", "none"] In(PROSE);
    raw_invalid_utf8: Run ["-t", "o200k_base", "-s", "json"] In(INVALID);
    raw_no_newline: Run ["-s", "json"] In(NO_NEWLINE);
    raw_empty: Run ["-s", "json"] Empty;
    raw_sse_sample_text: Run ["-t", "cl100k_base"] In(OPENAI_SSE);

    // JSON records.
    json_heuristic_cjk: Run ["-f", "json", "-t", "heuristic"] In(CJK);
    json_o200k_prose: Run ["-f", "json", "-t", "o200k_base", "-s", "json"] In(PROSE);
    json_cl100k_code: Run ["-f", "json", "-m", "gpt-4", "-t", "cl100k_base"] In(CODE);
    json_chunk_no_newline: Run ["-f", "json", "-t", "chunk"] In(NO_NEWLINE);
    json_invalid_utf8: Run ["-f", "json", "-s", "json"] In(INVALID);
    json_meta_agent: Run ["-f", "json", "-s", "json", "--meta", "team=infra", "--meta", "run=7", "--agent-id", "agent-1"] In(NO_NEWLINE);
    json_per_chunk: Run ["-f", "json", "--count", "per-chunk", "-t", "o200k_base", "-s", "json"] In(SLICE);
    json_side_input: Run ["-f", "json", "--side", "input", "-m", "claude-sonnet-4-5", "-s", "json"] In(PROSE);
    json_max_chunk_5: Run ["-f", "json", "--max-chunk", "5", "-t", "o200k_base"] In(CJK);
    json_max_chunk_1: Run ["-f", "json", "--max-chunk", "1", "-s", "json"] In(INVALID);
    json_delimiter_multibyte: Run ["-f", "json", "-d", "<|>", "-s", "json"] In(DELIM);
    json_delimiter_strip: Run ["-f", "json", "-d", "<|>", "--strip-delimiter"] In(DELIM);
    json_delimiter_escape: Run ["-f", "json", "-d", "\\x20", "-t", "chunk"] In(NO_NEWLINE);
    json_null: Run ["-f", "json", "-z"] In(NUL);
    json_null_strip: Run ["-f", "json", "-z", "--strip-delimiter", "-s", "json"] In(NUL);
    json_lines_strip: Run ["-f", "json", "--strip-delimiter", "-t", "cl100k_base", "-m", "gpt-4"] In(CJK);
    json_arrival: Run ["-f", "json", "--arrival", "-s", "json"] In(CODE);
    json_anthropic_sample_text: Run ["-f", "json", "-m", "claude-sonnet-4-5"] In(ANTHROPIC_SSE);

    // Server-Sent Events.
    sse_heuristic_prose: Run ["-f", "sse", "-t", "heuristic"] In(PROSE);
    sse_o200k_cjk: Run ["-f", "sse", "-t", "o200k_base", "-s", "json"] In(CJK);
    sse_cl100k_invalid: Run ["-f", "sse", "-m", "gpt-4", "-t", "cl100k_base"] In(INVALID);
    sse_chunk_edge_cases: Run ["-f", "sse", "-t", "chunk", "-s", "none"] In(EDGE_SSE);
    sse_empty: Run ["-f", "sse"] Empty;
    sse_meta_no_newline: Run ["-f", "sse", "--meta", "k=v", "--agent-id", "a"] In(NO_NEWLINE);

    // Provider API streams.
    provider_auto_usage_text: Run ["--input", "auto"] In(STREAM_USAGE);
    provider_auto_usage_json: Run ["--input", "auto", "-s", "json"] In(STREAM_USAGE);
    provider_anthropic_records: Run ["--input", "anthropic", "-f", "json"] In(STREAM_ANTHROPIC);
    provider_openrouter_text: Run ["--input", "auto", "-f", "text"] In(STREAM_OPENROUTER);
    provider_responses_sse: Run ["--input", "openai-responses", "-f", "sse", "-s", "none"] In(STREAM_RESPONSES);
    provider_error: Run ["--input", "auto", "-s", "json"] In(STREAM_ERROR);
    provider_unknown_model: Run ["--input", "auto"] In(STREAM_GEMINI);
    provider_ollama_zero: Run ["--input", "ollama", "--unknown-model", "zero", "-f", "json"] In(STREAM_OLLAMA);
    provider_prompt_tokens: Run ["--input", "openai-chat", "--prompt-tokens", "14", "-s", "json"] In(STREAM_NO_USAGE);
    provider_budget: Run ["--input", "openai-chat", "--max-tokens", "5"] In(STREAM_NO_USAGE);
    provider_auto_text_fallback: Run ["--input", "auto", "-s", "json"] In(PROSE);

    // Budgets.
    budget_tokens_raw: Run ["--max-tokens", "50"] In(PROSE);
    budget_tokens_sse: Run ["-f", "sse", "--max-tokens", "20", "-s", "json"] In(CJK);
    budget_cost_json: Run ["-f", "json", "--max-cost", "0.0001", "-s", "json"] In(CODE);
    budget_cost_not_crossed: Run ["--max-cost", "1", "-s", "json"] In(PROSE);
    budget_tokens_zero: Run ["-f", "json", "--max-tokens", "0"] In(PROSE);
    budget_across_files: Run ["--max-tokens", "600", PROSE, CODE] Empty;

    // Several files, standard input among them, ledgers on stdout.
    files_two_text: Run [PROSE, CODE] Empty;
    files_three_json: Run ["-f", "json", "-s", "json", PROSE, CJK, NO_NEWLINE] Empty;
    files_with_stdin: Run ["-s", "json", NO_NEWLINE, "-"] In(CJK);
    summary_file_stdout: Run ["--summary-file", "-", "-s", "none"] In(CODE);
    summary_file_stdout_two_files: Run ["--summary-file", "-", "-f", "json", PROSE, INVALID] Empty;

    // Pricing tables and models.
    custom_pricing_default: Run ["-p", CUSTOM, "-s", "json"] In(PROSE);
    custom_pricing_estimate: Run ["-p", CUSTOM, "-m", "estimate-only", "-f", "json"] In(NO_NEWLINE);
    unknown_model_zero: Run ["--unknown-model", "zero", "-m", "no-such-model", "-s", "json"] In(PROSE);
    list_models: Run ["--list-models"] Empty;
    list_models_custom: Run ["--list-models", "-p", CUSTOM] Empty;

    // Transcripts.
    transcript_chat: Run ["--input", "transcript", "-m", "gpt-4o", CHAT] Empty;
    transcript_chat_replay: Run ["--input", "transcript", "--replay", "-s", "json", CHAT] Empty;
    transcript_chat_replay_cache: Run ["--input", "transcript", "--replay", "--cache", "-s", "json", CHAT] Empty;
    transcript_chat_heuristic: Run ["--input", "transcript", "-t", "heuristic", "-s", "json", CHAT] Empty;
    transcript_chat_cl100k: Run ["--input", "transcript", "-m", "gpt-4", "-t", "cl100k_base", CHAT] Empty;
    transcript_usage: Run ["--input", "transcript", "-m", "claude-sonnet-4-5", "-t", "o200k_base", "-s", "json", USAGE] Empty;
    transcript_usage_replay_cache: Run ["--input", "transcript", "-m", "claude-sonnet-4-5", "-t", "o200k_base", "--replay", "--cache", USAGE] Empty;
    transcript_bad_skip: Run ["--input", "transcript", "--on-bad-line", "skip", "-s", "json", BAD_LINES] Empty;
    transcript_bad_fail: Run ["--input", "transcript", "--on-bad-line", "fail", BAD_LINES] Empty;
    transcript_files: Run ["--input", "transcript", "-j", "2", "-s", "json", BAD_LINES, CHAT, USAGE] Empty;
    // A later file's bad-line reports follow the summaries before it.
    transcript_files_bad_later: Run ["--input", "transcript", "-j", "2", CHAT, BAD_LINES, USAGE, BAD_LINES] Empty;
    transcript_files_text: Run ["--input", "transcript", "--replay", CHAT, USAGE] Empty;
    transcript_summary_file_stdout: Run ["--input", "transcript", "--summary-file", "-", "-s", "none", CHAT, USAGE] Empty;
    transcript_stdin: Run ["--input", "transcript", "--meta", "k=v", "--agent-id", "a", "-s", "json"] In(CHAT);

    // Agent logs (tests/fixtures/agents; its README works out every figure).
    agents_claude_text: Run ["--input", "claude-code", CLAUDE] Empty;
    agents_codex_json: Run ["--input", "codex", "-s", "json", CODEX] Empty;
    agents_detected_json: Run ["--input", "transcript", "-s", "json", CLAUDE, CODEX] Empty;
    agents_unknown_zero: Run ["--input", "transcript", "--unknown-model", "zero", AGENTS] Empty;
    agents_by_day_utc: Run ["--input", "transcript", "--by", "day", "--utc", "-s", "none", AGENTS] Empty;
    agents_by_model_day_json: Run ["--input", "transcript", "--by", "model", "--by", "day", "--utc", "-f", "json", "-s", "none", AGENTS] Empty;
    agents_by_session_project: Run ["--input", "transcript", "--by", "session", "--by", "project", "-s", "none", AGENTS] Empty;
    agents_with_chat_by_model: Run ["--input", "transcript", "--by", "model", "-s", "none", CODEX, CHAT] Empty;
    merge_agents_by_model: Merge ["--by", "model", AGENT_LEDGER] Empty;
    merge_agents_by_agent_json: Merge ["--by", "agent", "--by", "day", "--utc", "-f", "json", AGENT_LEDGER] Empty;
    error_by_without_transcripts: Run ["--by", "day"] In(PROSE);
    error_utc_without_day: Run ["--input", "codex", "--utc", "--by", "model", CODEX] Empty;
    error_format_sse_agents: Run ["--input", "codex", "-f", "sse", CODEX] Empty;

    // Merging ledgers (copied from summary_file_stdout* and
    // transcript_summary_file_stdout).
    merge_stream_json: Merge [STREAM_LEDGER] Empty;
    merge_both_text: Merge ["-s", "text", STREAM_LEDGER, TRANSCRIPT_LEDGER] Empty;
    merge_transcript_totals: Merge [TRANSCRIPT_LEDGER] Empty;
    merge_stdin: Merge [] In(STREAM_LEDGER);
    merge_bad_line: Merge [BAD_LEDGER] Empty;
    merge_empty: Merge [] Empty;

    // Errors.
    error_unknown_model: Run ["-m", "gpt-4p"] In(PROSE);
    error_bad_pricing: Run ["-p", BAD_PRICING] In(PROSE);
    error_missing_pricing: Run ["-p", "tests/fixtures/golden/pricing/missing.toml"] In(PROSE);
    error_bad_format: Bare ["-f", "xml"] In(PROSE);
    error_bad_max_chunk: Run ["--max-chunk", "0"] In(PROSE);
    error_bad_max_cost: Run ["--max-cost", "abc"] In(PROSE);
    error_bad_meta: Run ["--meta", "novalue"] In(PROSE);
    error_cache_without_replay: Run ["--input", "transcript", "--cache", CHAT] Empty;
    error_delimiter_and_arrival: Run ["-d", ",", "--arrival"] In(PROSE);
    error_missing_file: Run ["-s", "json", "tests/fixtures/golden/inputs/missing.txt"] Empty;
    error_directory: Run ["tests/fixtures/golden/inputs"] Empty;
    error_transcript_missing_file: Run ["--input", "transcript", "tests/fixtures/golden/inputs/missing.jsonl", CHAT] Empty;
    error_transcript_missing_later: Run ["--input", "transcript", CHAT, "tests/fixtures/golden/inputs/missing.jsonl", USAGE] Empty;
    error_merge_missing_file: Merge ["tests/fixtures/golden/ledgers/missing.jsonl"] Empty;
    help_short: Bare ["-h"] Empty;
    version: Bare ["--version"] Empty;
    error_bad_fixed_clock: Bare ["--fixed-clock", "yesterday"] Bytes(b"x\n");
}

/// Every directory under `tests/fixtures/golden/` but the inputs is a case,
/// so a renamed or removed case does not leave stale files behind.
#[test]
fn golden_dirs_are_cases() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(GOLDEN);
    let mut stale = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("golden dir") {
        let name = entry.expect("entry").file_name();
        let name = name.to_string_lossy();
        if !NOT_CASES.contains(&name.as_ref()) && !CASES.contains(&name.as_ref()) {
            stale.push(name.into_owned());
        }
    }
    assert!(stale.is_empty(), "golden dirs without a case: {stale:?}");
}
