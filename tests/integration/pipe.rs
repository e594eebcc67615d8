//! Pipes: a reader that goes away, a slow producer, a shared ledger file.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use crate::util::{summary, temp_dir, tokmeter_process};

#[test]
fn reader_going_away_is_quiet_and_counts_what_was_delivered() {
    let line = b"the quick brown fox jumps over the lazy dog, again and again\n";
    let input: Vec<u8> = line.iter().copied().cycle().take(50_000_000).collect();
    // From a file, so the bytes pass through tokmeter's own writes (between
    // two pipes they may be moved in the kernel: tests/integration/mirror.rs).
    let dir = temp_dir("reader-going-away");
    std::fs::write(dir.join("in"), &input).unwrap();
    let command = format!("{} -s json | head -c 10 > /dev/null", crate::util::BIN);
    let output = std::process::Command::new("bash")
        .args(["-o", "pipefail", "-c", &command])
        .env_remove("TOKMETER_PRICING")
        .stdin(std::fs::File::open(dir.join("in")).unwrap())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "exit status of tokmeter (pipefail)"
    );
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "only the summary: {stderr}");
    let summary = summary(&output);
    assert_eq!(summary["error"], "output closed");
    let bytes = summary["bytes"].as_u64().unwrap();
    // A run of lines too big for the pipe may not have got through whole.
    assert!(bytes < 50_000_000, "{bytes}");
    assert_eq!(bytes % line.len() as u64, 0, "whole chunks only");
    assert_eq!(
        summary["chunk_count"].as_u64().unwrap(),
        bytes / line.len() as u64
    );
}

/// How long the first chunk may take: start-up, which may load a
/// vocabulary, on a machine of any speed and load. Not a speed bound.
const START_UP: Duration = Duration::from_secs(60);

/// How long a later chunk may take to come out once its line is written:
/// far above any honest latency, so only a chunk held back until more input
/// or end of input fails.
const LIVE: Duration = Duration::from_secs(10);

/// Spawns tokmeter with `args` and writes one line at a time with stdin kept
/// open, writing the next only once the line's output has arrived: each
/// chunk must come out while the producer is waiting, not when more input
/// or the end of input comes. Start-up is not timed.
fn assert_live(args: &[&str], lines_per_chunk: usize) {
    let mut child = tokmeter_process()
        .args(args)
        .args(["-s", "none"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (sender, receiver) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        while let Some(Ok(line)) = lines.next() {
            if !line.is_empty() && sender.send(line).is_err() {
                return;
            }
        }
    });
    for i in 0..10 {
        // One write per line, as a producer's write(2) would be.
        stdin.write_all(format!("token {i}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
        let wait = if i == 0 { START_UP } else { LIVE };
        for _ in 0..lines_per_chunk {
            let line = receiver.recv_timeout(wait).unwrap_or_else(|_| {
                panic!("{args:?}: chunk {i} not out {wait:?} after its write, stdin open")
            });
            assert!(line.contains(&format!("token {i}")), "{line}");
        }
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
    reader.join().unwrap();
}

#[test]
fn slow_producer_chunks_appear_at_once_raw() {
    assert_live(&["-f", "raw"], 1);
}

#[test]
fn slow_producer_chunks_appear_at_once_json() {
    assert_live(&["-f", "json"], 1);
}

#[test]
fn slow_producer_chunks_appear_at_once_sse() {
    assert_live(&["-f", "sse"], 1);
}

#[test]
fn slow_producer_chunks_appear_at_once_arrival() {
    assert_live(&["--arrival", "-f", "json"], 1);
}

#[test]
fn concurrent_ledger_appends_never_tear_lines() {
    let dir = temp_dir("ledger");
    let ledger = dir.join("ledger.jsonl");
    // 500 inputs per process: each a session with its own summary line.
    let mut inputs = Vec::new();
    for i in 0..500 {
        let path = dir.join(format!("in{i}.txt"));
        std::fs::write(&path, format!("input number {i} with some words\n")).unwrap();
        inputs.push(path);
    }
    let children: Vec<_> = (0..8)
        .map(|p| {
            tokmeter_process()
                .args([
                    "-s",
                    "none",
                    "--agent-id",
                    &format!("p{p}"),
                    "--summary-file",
                ])
                .arg(&ledger)
                .args(&inputs)
                .stdout(Stdio::null())
                .stdin(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let mut text = String::new();
    std::fs::File::open(&ledger)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4000);
    let mut per_agent = std::collections::HashMap::new();
    for line in lines {
        let summary: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("torn line {line:?}: {e}"));
        *per_agent
            .entry(summary["agent_id"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    assert_eq!(per_agent.len(), 8);
    assert!(per_agent.values().all(|&n| n == 500));
}
