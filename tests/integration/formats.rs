//! Output formats: JSON Lines and SSE records, their fields, and their
//! validity for any content.

use serde_json::Value;

use crate::util::{random_bytes, records, run_ok, summary};

const CLOCK: &str = "2026-11-24T17:01:02.123456Z";

#[test]
fn json_records_have_the_documented_fields() {
    let input = b"first line\nsecond\nthird, no newline";
    let output = run_ok(
        &[
            "-f", "json", "-m", "gpt-4o", "-s", "none", "--meta", "run=7", "--meta", "team=a b",
        ],
        input,
    );
    let records = records(&output.stdout);
    assert_eq!(records.len(), 3);
    let mut content = String::new();
    for (i, record) in records.iter().enumerate() {
        let keys: Vec<&str> = record
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["content", "cost", "metadata", "timestamp", "tokens"]);
        assert_eq!(record["metadata"]["chunk_id"], i as u64);
        assert_eq!(record["metadata"]["model"], "gpt-4o");
        assert_eq!(record["metadata"]["run"], "7");
        assert_eq!(record["metadata"]["team"], "a b");
        assert!(record["tokens"].is_u64());
        assert!(
            record["cost"].is_string(),
            "cost is an exact decimal string"
        );
        let timestamp = record["timestamp"].as_str().unwrap();
        assert!(is_utc_micros(timestamp), "{timestamp}");
        content.push_str(record["content"].as_str().unwrap());
    }
    assert_eq!(content.as_bytes(), input);
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
fn is_utc_micros(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 27
        && bytes[26] == b'Z'
        && bytes[19] == b'.'
        && bytes[10] == b'T'
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            13 | 16 => *b == b':',
            10 | 19 | 26 => true,
            _ => b.is_ascii_digit(),
        })
        && chrono::DateTime::parse_from_rfc3339(text).is_ok()
}

#[test]
fn timestamps_come_from_one_clock_and_never_go_back() {
    let input = "x\n".repeat(5000);
    let output = run_ok(&["-f", "json", "-s", "json"], input.as_bytes());
    let stamps: Vec<String> = records(&output.stdout)
        .iter()
        .map(|r| r["timestamp"].as_str().unwrap().to_string())
        .collect();
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]));
    let summary = summary(&output);
    assert!(summary["start_time"].as_str().unwrap() <= stamps[0].as_str());
    assert!(summary["end_time"].as_str().unwrap() >= stamps[4999].as_str());
}

#[test]
fn chunk_ids_have_no_gaps() {
    let input = random_bytes(3, 200_000);
    let output = run_ok(&["-f", "json", "-s", "none"], &input);
    for (i, record) in records(&output.stdout).iter().enumerate() {
        assert_eq!(record["metadata"]["chunk_id"], i as u64);
    }
}

/// Content that stresses JSON: quotes, backslashes, every control character,
/// NUL, DEL, U+2028/U+2029, and invalid UTF-8.
fn nasty() -> Vec<u8> {
    let mut input = Vec::new();
    input.extend_from_slice("quote \" backslash \\ slash / \u{2028} \u{2029} é 日 😀\n".as_bytes());
    input.extend((0u8..0x20).filter(|&b| b != b'\n'));
    input.extend_from_slice(b"\x7f\n\0\0\n");
    input.extend_from_slice(b"bad \xff\xc3( \xed\xa0\x80 \xf0\x9f\n");
    input
}

#[test]
fn json_stays_valid_for_any_content() {
    let input = nasty();
    let output = run_ok(&["-f", "json", "-s", "json"], &input);
    let text = String::from_utf8(output.stdout.clone()).unwrap();
    assert!(
        !text.contains('\u{2028}') && !text.contains('\u{2029}'),
        "escaped for JS"
    );
    let records = records(&output.stdout);
    assert_eq!(records.len(), 4);
    let joined: String = records[..3]
        .iter()
        .map(|r| r["content"].as_str().unwrap())
        .collect();
    let valid_part = &input[..input.len() - b"bad \xff\xc3( \xed\xa0\x80 \xf0\x9f\n".len()];
    assert_eq!(joined.as_bytes(), valid_part);
    assert_eq!(
        records[3]["content"].as_str().unwrap(),
        String::from_utf8_lossy(b"bad \xff\xc3( \xed\xa0\x80 \xf0\x9f\n")
    );
    assert_eq!(summary(&output)["invalid_utf8_chunks"], 1);
}

#[test]
fn json_stays_valid_for_random_bytes() {
    for seed in 0..4 {
        let input = random_bytes(seed, 50_000);
        let output = run_ok(&["-f", "json", "-s", "none", "--arrival"], &input);
        let records = records(&output.stdout);
        let lossy: String = records
            .iter()
            .map(|r| r["content"].as_str().unwrap())
            .collect();
        // Cut at the same places, lossy decoding gives at least as many U+FFFD.
        assert!(lossy.len() >= String::from_utf8_lossy(&input).len() - 3 * records.len());
    }
}

/// An event of an SSE stream: its type and data.
#[derive(Debug, PartialEq)]
struct Event {
    kind: String,
    data: String,
}

/// Parses an event stream as the WHATWG HTML standard says EventSource does:
/// lines end at CRLF, LF or CR; `field: value` with one leading space
/// dropped; `data` lines joined with LF; a blank line dispatches; comments
/// (lines starting with `:`) ignored; an event with empty data is dropped.
fn parse_sse(stream: &str) -> Vec<Event> {
    let mut events = Vec::new();
    let (mut kind, mut data) = (String::new(), String::new());
    let normalized = stream.replace("\r\n", "\n").replace('\r', "\n");
    for line in normalized.split('\n') {
        if line.is_empty() {
            if !data.is_empty() {
                data.pop();
                let kind = if kind.is_empty() {
                    "message".to_string()
                } else {
                    std::mem::take(&mut kind)
                };
                events.push(Event {
                    kind,
                    data: std::mem::take(&mut data),
                });
            }
            kind.clear();
            continue;
        }
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "data" => {
                data.push_str(value);
                data.push('\n');
            }
            "event" => kind = value.to_string(),
            _ => {}
        }
    }
    events
}

#[test]
fn sse_reads_back_to_the_json_records() {
    let input = nasty();
    let args = ["-s", "none", "--fixed-clock", CLOCK, "--session-id", "s1"];
    let json = run_ok(&[&args[..], &["-f", "json"]].concat(), &input);
    let sse = run_ok(&[&args[..], &["-f", "sse"]].concat(), &input);
    let stream = String::from_utf8(sse.stdout).unwrap();
    let events = parse_sse(&stream);
    let expected = records(&json.stdout);
    assert_eq!(events.len(), expected.len() + 1);
    for (event, record) in events.iter().zip(&expected) {
        assert_eq!(event.kind, "message");
        let parsed: Value = serde_json::from_str(&event.data).unwrap();
        assert_eq!(&parsed, record);
    }
    let last = events.last().unwrap();
    assert_eq!(last.kind, "summary");
    let summary: Value = serde_json::from_str(&last.data).unwrap();
    assert_eq!(summary["session_id"], "s1");
    assert_eq!(summary["chunk_count"], expected.len() as u64);
    assert!(stream.ends_with("\n\n"));
}

#[test]
fn summary_json_has_every_field() {
    let output = run_ok(
        &[
            "-s",
            "json",
            "--session-id",
            "abc",
            "--agent-id",
            "agent-7",
            "--meta",
            "k=v",
            "-m",
            "gpt-4o-mini",
        ],
        b"hello world\n",
    );
    let summary = summary(&output);
    for field in [
        "session_id",
        "model",
        "agent_id",
        "start_time",
        "end_time",
        "duration_ms",
        "time_to_first_chunk_ms",
        "chunk_count",
        "bytes",
        "total_tokens",
        "side",
        "total_cost",
        "currency",
        "tokens_per_second",
        "tokenizer",
        "exact",
        "error",
        "metadata",
    ] {
        assert!(summary.get(field).is_some(), "{field} missing in {summary}");
    }
    assert_eq!(summary["session_id"], "abc");
    assert_eq!(summary["agent_id"], "agent-7");
    assert_eq!(summary["metadata"]["k"], "v");
    assert_eq!(summary["model"], "gpt-4o-mini");
    assert_eq!(summary["currency"], "USD");
    assert_eq!(summary["error"], Value::Null);
    assert_eq!(summary["bytes"], 12);
    assert_eq!(summary["total_tokens"], 3);
}

#[test]
fn session_ids_are_unique_by_default() {
    let a = summary(&run_ok(&["-s", "json"], b"x"))["session_id"].clone();
    let b = summary(&run_ok(&["-s", "json"], b"x"))["session_id"].clone();
    assert_ne!(a, b);
    assert_eq!(a.as_str().unwrap().len(), 36);
}

#[test]
fn text_summary_is_one_line() {
    let output = run_ok(&["-m", "gpt-4o", "-t", "heuristic"], b"hello world\n");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1);
    assert!(
        stderr.starts_with(
            "tokmeter: 3 tokens (estimated, heuristic) · $0.00003 (gpt-4o output) · 1 chunk · 12 bytes"
        ),
        "{stderr}"
    );
    let none = run_ok(&["-s", "none"], b"hello\n");
    assert!(none.stderr.is_empty());
}

#[test]
fn several_files_give_one_summary_each_and_a_total() {
    let dir = crate::util::temp_dir("files");
    let a = dir.join("a.txt");
    let b = dir.join("b.txt");
    std::fs::write(&a, "aaaa\n").unwrap();
    std::fs::write(&b, "bbbbbbbb\nb\n").unwrap();
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let output = run_ok(
        &["-t", "heuristic", "-s", "json", "-f", "json", a, "-", b],
        b"cccc",
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    let summaries: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(summaries.len(), 4);
    assert_eq!(summaries[0]["input"], a);
    assert_eq!(summaries[1]["input"], "<stdin>");
    assert_eq!(summaries[2]["input"], b);
    assert_eq!(summaries[3]["sessions"], 3);
    let tokens: Vec<u64> = summaries
        .iter()
        .map(|s| s["total_tokens"].as_u64().unwrap())
        .collect();
    assert_eq!(tokens, [1, 1, 3, 5]);
    let records = records(&output.stdout);
    assert_eq!(records.len(), 4);
    assert_eq!(
        records[3]["metadata"]["chunk_id"], 1,
        "chunk ids count per session"
    );
}

#[test]
fn a_missing_file_is_reported_and_the_rest_metered() {
    let dir = crate::util::temp_dir("missing");
    let a = dir.join("a.txt");
    std::fs::write(&a, "aaaa\n").unwrap();
    let output = crate::util::run(
        &["-s", "none", "/nonexistent/x.txt", a.to_str().unwrap()],
        b"",
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(output.stdout, b"aaaa\n");
    crate::util::assert_one_error_line(&output, "/nonexistent/x.txt");
}

#[test]
fn r2_an_empty_file_after_another_counts_nothing() {
    let dir = crate::util::temp_dir("empty-after");
    let a = dir.join("a.txt");
    let empty = dir.join("empty.txt");
    std::fs::write(&a, "hello").unwrap();
    std::fs::write(&empty, "").unwrap();
    let output = run_ok(
        &["-s", "json", a.to_str().unwrap(), empty.to_str().unwrap()],
        b"",
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    let summaries: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(summaries[1]["chunk_count"], 0);
    assert_eq!(summaries[1]["total_tokens"], 0);
    assert_eq!(summaries[2]["chunk_count"], 1);
}

#[test]
fn a_price_that_is_not_a_number_says_so() {
    let dir = crate::util::temp_dir("string-price");
    let path = dir.join("p.toml");
    std::fs::write(&path, "[models.a]\ninput = \"1\"\noutput = 1\n").unwrap();
    let output = crate::util::run(&["-p", path.to_str().unwrap()], b"x");
    assert_eq!(output.status.code(), Some(2));
    crate::util::assert_one_error_line(&output, "p.toml:2:9: ");
    crate::util::assert_one_error_line(&output, "expected a number (USD per 1M tokens)");
}
