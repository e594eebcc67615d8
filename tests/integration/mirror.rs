//! Raw pass-through on both paths: from a pipe to a pipe (on Linux the
//! kernel moves the bytes, and a copy is read for counting) and through
//! user space (files, or any other output format). The same bytes come out
//! and the same totals are billed either way.

use std::fs::File;
use std::io::{Read, Write};
use std::process::Stdio;

use serde_json::Value;

use crate::util::{random_bytes, run_ok, summary, temp_dir, tokmeter_process};

/// Runs tokmeter with stdin and stdout regular files: output and summary.
fn through_files(args: &[&str], input: &[u8]) -> (Vec<u8>, Value) {
    let dir = temp_dir("mirror-files");
    std::fs::write(dir.join("in"), input).unwrap();
    let output = tokmeter_process()
        .args(args)
        .args(["-s", "json"])
        .stdin(File::open(dir.join("in")).unwrap())
        .stdout(File::create(dir.join("out")).unwrap())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    (std::fs::read(dir.join("out")).unwrap(), summary(&output))
}

/// Runs tokmeter with stdin and stdout pipes: output and summary.
fn through_pipes(args: &[&str], input: &[u8]) -> (Vec<u8>, Value) {
    let mut all = args.to_vec();
    all.extend(["-s", "json"]);
    let output = run_ok(&all, input);
    let summary = summary(&output);
    (output.stdout, summary)
}

/// The billed figures of a summary.
fn billed(summary: &Value) -> Vec<Value> {
    [
        "total_tokens",
        "total_cost",
        "bytes",
        "chunk_count",
        "split_chunks",
        "invalid_utf8_chunks",
    ]
    .iter()
    .map(|key| summary[key].clone())
    .collect()
}

fn assert_same_both_ways(name: &str, args: &[&str], input: &[u8]) {
    let (piped, piped_summary) = through_pipes(args, input);
    let (filed, filed_summary) = through_files(args, input);
    assert!(
        piped == input,
        "{name}: output through pipes differs from input"
    );
    assert!(
        filed == input,
        "{name}: output through files differs from input"
    );
    assert_eq!(
        billed(&piped_summary),
        billed(&filed_summary),
        "{name}: billed differently through pipes and through files"
    );
    assert_eq!(piped_summary["bytes"], input.len());
}

#[test]
fn pipes_and_files_pass_and_bill_the_same() {
    let cases: &[(&str, Vec<u8>)] = &[
        ("empty", Vec::new()),
        ("no final newline", b"one\ntwo\nthree".to_vec()),
        (
            "invalid utf-8",
            b"ok\n\xff\xfe bad \xc3\n\xe6\x97\xa5 half \xe6\x97\ntail \xf0\x9f".to_vec(),
        ),
        // Many times a pipe's capacity, lines cut anywhere by the moves.
        ("3 MiB random", random_bytes(11, 3 << 20)),
        (
            "3 MiB of lines",
            b"the quick brown fox jumps over the lazy dog\n"
                .iter()
                .copied()
                .cycle()
                .take(3 << 20)
                .collect(),
        ),
    ];
    for (name, input) in cases {
        for args in [
            &["-t", "heuristic"][..],
            &["-t", "o200k_base"],
            &["-t", "cl100k_base", "-z"],
            &["-t", "heuristic", "--max-chunk", "100"],
            &["-t", "chunk"],
        ] {
            assert_same_both_ways(name, args, input);
        }
    }
}

/// A pipe's capacity in bytes.
#[cfg(target_os = "linux")]
fn pipe_size(fd: &impl std::os::fd::AsRawFd) -> i32 {
    // SAFETY: fcntl(2) reading a pipe's size.
    unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETPIPE_SZ) }
}

/// Runs tokmeter with `args` between two pipes whose ends the test holds,
/// and returns the output pipe's capacity once it has ended, with the
/// output. The output pipe is made, and its size read, before tokmeter
/// starts.
#[cfg(target_os = "linux")]
fn output_pipe_after(args: &[&str], input: &[u8]) -> (i32, Vec<u8>) {
    let (mut stdout, write_end) = std::io::pipe().unwrap();
    let before = pipe_size(&stdout);
    assert!(before < 1 << 20, "a new pipe holds {before} bytes");
    // The command, and with it this process's write end, is dropped once
    // the child has started, so the read below ends with the child.
    let mut child = tokmeter_process()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(write_end)
        .stderr(Stdio::null())
        .spawn()
        .expect("tokmeter starts");
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let mut got = Vec::new();
    stdout.read_to_end(&mut got).unwrap();
    writer.join().unwrap().unwrap();
    assert!(child.wait().unwrap().success());
    (pipe_size(&stdout), got)
}

/// On Linux, raw text from a pipe to a pipe moves in the kernel; the pipes
/// are grown to 1 MiB for fewer, larger moves. Nothing else does.
#[cfg(target_os = "linux")]
#[test]
fn raw_between_pipes_is_mirrored_and_nothing_else_is() {
    let input = b"one\ntwo\n".repeat(1000);
    let (size, got) = output_pipe_after(&["-s", "none", "-t", "heuristic"], &input);
    assert_eq!(size, 1 << 20, "raw between pipes grows the output pipe");
    assert_eq!(got, input);
    for args in [
        &["-f", "json"][..],
        &["--strip-delimiter"],
        &["--max-tokens", "1000000"],
        &["--input", "openai-chat"],
    ] {
        let mut all = vec!["-s", "none", "-t", "heuristic"];
        all.extend_from_slice(args);
        let (size, _) = output_pipe_after(&all, &input);
        assert!(size < 1 << 20, "{args:?} is copied, not mirrored");
    }
}

/// A reader that goes away: what reached the pipe is billed, every line of
/// it and the part of a line it ended in.
#[test]
fn a_reader_going_away_bills_what_reached_its_pipe() {
    let line = b"the quick brown fox jumps over the lazy dog, again and again\n";
    let input: Vec<u8> = line.iter().copied().cycle().take(20_000_000).collect();
    let command = format!(
        "{} -s json -t heuristic | head -c 100000 | wc -c",
        crate::util::BIN
    );
    let mut child = std::process::Command::new("bash")
        .args(["-o", "pipefail", "-c", &command])
        .env_remove("TOKMETER_PRICING")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        // tokmeter stops reading once its reader is gone.
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "100000");
    let summary = summary(&output);
    assert_eq!(summary["error"], "output closed");
    let bytes = summary["bytes"].as_u64().unwrap();
    assert!((100_000..20_000_000).contains(&bytes), "{bytes}");
    let line = line.len() as u64;
    assert_eq!(
        summary["chunk_count"].as_u64().unwrap(),
        bytes.div_ceil(line)
    );
}
