//! The stream's edges: tiny chunk limits, when the vocabulary loads and what
//! the session clock counts.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use crate::util::{records, run_ok, summary};

#[test]
fn max_chunk_below_a_character_never_cuts_inside_it() {
    let text = "日本語\naé😀b\n";
    for max in ["1", "2", "3", "4"] {
        let output = run_ok(
            &["--max-chunk", max, "-f", "json", "-s", "json"],
            text.as_bytes(),
        );
        let chunks = records(&output.stdout);
        let contents: Vec<&str> = chunks
            .iter()
            .map(|record| record["content"].as_str().unwrap())
            .collect();
        assert_eq!(contents.concat(), text, "--max-chunk {max}");
        assert!(
            contents.iter().all(|content| !content.contains('\u{fffd}')),
            "--max-chunk {max}: {contents:?}"
        );
        let summary = summary(&output);
        assert_eq!(summary["invalid_utf8_chunks"], 0, "--max-chunk {max}");
        // The stream's count does not depend on the cut.
        let whole = summary_of(&["-s", "json"], text.as_bytes());
        assert_eq!(
            summary["total_tokens"], whole["total_tokens"],
            "--max-chunk {max}"
        );
    }
}

fn summary_of(args: &[&str], stdin: &[u8]) -> Value {
    summary(&run_ok(args, stdin))
}

/// With the vocabulary's load held back for good (its gate never opens), a
/// run with nothing to count still ends: it never asks for the vocabulary.
/// Loading it would wait forever, as the gated tests below show.
#[test]
fn nothing_to_count_never_loads_the_vocabulary() {
    let gate = crate::util::temp_dir("vocabulary-never").join("gate");
    let usage_only = br#"{"role": "assistant", "content": "hi", "usage": {"prompt_tokens": 18, "completion_tokens": 15}}
"#;
    let runs: [(&[&str], &[u8]); 2] = [
        (&["-t", "o200k_base", "-f", "json"], b""),
        (&["--input", "transcript", "-m", "gpt-4o"], usage_only),
    ];
    for (args, stdin) in runs {
        let mut child = crate::util::tokmeter_process()
            .args(args)
            .args(["-s", "none"])
            .env("TOKMETER_TEST_VOCABULARY_GATE", &gate)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{args:?}");
    }
    assert!(!gate.exists());
}

/// Reads stdout's lines on a thread of their own.
fn lines_of(stdout: std::process::ChildStdout) -> mpsc::Receiver<String> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if send.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    receive
}

/// tokmeter counting o200k into raw output, with the vocabulary's load held
/// back until the returned path exists; its stdin, and stdout's lines.
fn gated(
    name: &str,
) -> (
    std::path::PathBuf,
    std::process::Child,
    std::process::ChildStdin,
    mpsc::Receiver<String>,
) {
    let gate = crate::util::temp_dir(name).join("gate");
    let mut child = crate::util::tokmeter_process()
        .args(["-t", "o200k_base", "-s", "json"])
        .env("TOKMETER_TEST_VOCABULARY_GATE", &gate)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let lines = lines_of(child.stdout.take().unwrap());
    (gate, child, stdin, lines)
}

#[test]
fn raw_output_does_not_wait_for_the_vocabulary() {
    let (gate, child, mut stdin, lines) = gated("vocabulary-gate");
    let text = [
        "hello world\n",
        "the vocabulary is still loading\n",
        "done\n",
    ];
    for line in &text[..2] {
        stdin.write_all(line.as_bytes()).unwrap();
        // The gate is closed, so a line that comes out did not wait for the
        // vocabulary. The wait allows for any start-up time.
        let got = lines.recv_timeout(Duration::from_secs(60));
        assert_eq!(
            got.as_deref(),
            Ok(line.trim_end()),
            "passed through at once"
        );
    }
    // Time passes between the first chunk's arrival and the end.
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(&gate, b"").unwrap();
    stdin.write_all(text[2].as_bytes()).unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let summary = summary(&output);
    let whole = summary_of(
        &["-t", "o200k_base", "-s", "json"],
        text.concat().as_bytes(),
    );
    assert_eq!(summary["total_tokens"], whole["total_tokens"]);
    assert_eq!(summary["total_cost"], whole["total_cost"]);
    assert_eq!(summary["chunk_count"], 3);
    // The first chunk's time is when it arrived, not when it was counted.
    let first = summary["time_to_first_chunk_ms"].as_f64().unwrap();
    let duration = summary["duration_ms"].as_f64().unwrap();
    assert!(
        first + 300.0 <= duration,
        "first chunk {first} ms of {duration} ms"
    );
}

#[test]
fn a_reader_gone_while_the_vocabulary_loads_is_billed_for_what_it_got() {
    let (gate, child, mut stdin, lines) = gated("vocabulary-gate-closed");
    stdin.write_all(b"hello world\n").unwrap();
    let got = lines.recv_timeout(Duration::from_secs(60));
    assert_eq!(got.as_deref(), Ok("hello world"));
    drop(lines); // closes the reading end once the thread sees the next line
    std::fs::write(&gate, b"").unwrap();
    // Keep writing until tokmeter notices its reader is gone.
    let line = b"more text after the reader left\n".repeat(4096);
    while stdin.write_all(&line).is_ok() {}
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let summary = summary(&output);
    assert_eq!(summary["error"], "output closed");
    let chunks = summary["chunk_count"].as_u64().unwrap();
    assert!(chunks >= 1);
    // Whatever was delivered is billed at its exact count.
    let mut delivered = b"hello world\n".to_vec();
    for _ in 1..chunks {
        delivered.extend_from_slice(b"more text after the reader left\n");
    }
    let whole = summary_of(&["-t", "o200k_base", "-s", "json"], &delivered);
    assert_eq!(summary["total_tokens"], whole["total_tokens"]);
}
