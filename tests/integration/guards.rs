//! Guards: budgets, signals, and the live status line.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::util::{records, run, summary, temp_dir, tokmeter_process};

fn priced_table() -> String {
    let dir = temp_dir("budget");
    let path = dir.join("t.toml");
    // 0.25 USD per 1M tokens: each one-token chunk costs 0.00000025.
    std::fs::write(
        &path,
        "default_model = \"m\"\n[models.m]\ninput = 1\noutput = 0.25\n",
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

const TEN_LINES: &[u8] = b"l0\nl1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\n";

#[test]
fn max_tokens_writes_exactly_the_chunks_within_budget() {
    for format in ["raw", "json", "sse"] {
        let output = run(
            &[
                "-t",
                "chunk",
                "--max-tokens",
                "4",
                "-f",
                format,
                "-s",
                "json",
            ],
            TEN_LINES,
        );
        assert_eq!(output.status.code(), Some(3), "{format}");
        let summary = summary(&output);
        assert_eq!(summary["total_tokens"], 4);
        assert_eq!(summary["chunk_count"], 4);
        let error = summary["error"].as_str().unwrap();
        assert!(
            error.contains("--max-tokens 4") && error.contains("by 1 token"),
            "{error}"
        );
        match format {
            "raw" => assert_eq!(output.stdout, b"l0\nl1\nl2\nl3\n"),
            "json" => assert_eq!(records(&output.stdout).len(), 4),
            _ => {
                let text = String::from_utf8(output.stdout).unwrap();
                assert_eq!(text.matches("data: {\"content\"").count(), 4);
                assert!(text.contains("event: summary\ndata: "));
            }
        }
    }
}

#[test]
fn a_budget_equal_to_the_total_is_not_exceeded() {
    let table = priced_table();
    // Ten one-token chunks cost exactly 0.0000025.
    let output = run(
        &[
            "-p",
            &table,
            "-t",
            "chunk",
            "--max-cost",
            "0.0000025",
            "-s",
            "json",
        ],
        TEN_LINES,
    );
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(summary(&output)["total_cost"], "0.0000025");
    assert_eq!(output.stdout, TEN_LINES);
}

#[test]
fn max_cost_stops_before_the_chunk_that_crosses_it() {
    let table = priced_table();
    let output = run(
        &[
            "-p",
            &table,
            "-t",
            "chunk",
            "--max-cost",
            "0.00000249",
            "-s",
            "json",
        ],
        TEN_LINES,
    );
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(output.stdout, &TEN_LINES[..27], "nine chunks");
    let summary = summary(&output);
    assert_eq!(summary["total_cost"], "0.00000225");
    let error = summary["error"].as_str().unwrap();
    assert!(
        error.contains("--max-cost 0.00000249") && error.contains("by 0.00000001 USD"),
        "{error}"
    );
}

#[test]
fn budgets_count_across_files() {
    let dir = temp_dir("budget-files");
    let a = dir.join("a");
    let b = dir.join("b");
    std::fs::write(&a, "x\ny\nz\n").unwrap();
    std::fs::write(&b, "x\ny\nz\n").unwrap();
    let output = run(
        &[
            "-t",
            "chunk",
            "--max-tokens",
            "5",
            "-s",
            "none",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(output.stdout, b"x\ny\nz\nx\ny\n");
}

#[test]
fn bad_budgets_are_usage_errors() {
    for args in [
        &["--max-cost", "-1"][..],
        &["--max-cost", "abc"],
        &["--max-tokens", "x"],
    ] {
        let output = run(args, b"x");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        crate::util::assert_one_error_line(&output, args[0]);
    }
}

/// Spawns tokmeter on a stdin pipe, writes three lines and waits until they
/// are out, with the producer still holding stdin open.
fn running_with_three_chunks(
    args: &[&str],
    stderr: Stdio,
) -> (
    Child,
    std::process::ChildStdin,
    BufReader<std::process::ChildStdout>,
) {
    let mut child = tokmeter_process()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdin.write_all(b"one\ntwo\nthree\n").unwrap();
    let mut line = String::new();
    for expected in ["one\n", "two\n", "three\n"] {
        line.clear();
        stdout.read_line(&mut line).unwrap();
        assert_eq!(line, expected);
    }
    (child, stdin, stdout)
}

fn send(child: &Child, signal: i32) {
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
}

fn assert_signal_prints_the_bill(signal: i32, code: i32, name: &str) {
    let (child, stdin, mut stdout) = running_with_three_chunks(&["-s", "json"], Stdio::piped());
    send(&child, signal);
    let mut rest = Vec::new();
    std::io::Read::read_to_end(&mut stdout, &mut rest).unwrap();
    let output = child.wait_with_output().unwrap();
    drop(stdin);
    assert_eq!(output.status.code(), Some(code));
    assert!(rest.is_empty(), "nothing after the last whole chunk");
    let summary = summary(&output);
    assert_eq!(summary["chunk_count"], 3);
    assert_eq!(summary["bytes"], 14);
    assert_eq!(summary["error"], format!("interrupted by {name}"));
}

#[test]
fn sigint_prints_the_summary_and_exits_130() {
    assert_signal_prints_the_bill(libc::SIGINT, 130, "SIGINT");
}

#[test]
fn sigterm_prints_the_summary_and_exits_143() {
    assert_signal_prints_the_bill(libc::SIGTERM, 143, "SIGTERM");
}

#[test]
fn a_second_signal_during_the_summary_ends_at_once() {
    // A stderr pipe that is already full: the summary's write blocks.
    let mut fds = [0; 2];
    // SAFETY: pipe(2) fills two descriptors we then own.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors are fresh and owned only here.
    let (read_end, write_end) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let mut full = std::fs::File::from(write_end);
    let raw = std::os::fd::AsRawFd::as_raw_fd(&full);
    // SAFETY: fcntl on a descriptor we own.
    unsafe { libc::fcntl(raw, libc::F_SETFL, libc::O_NONBLOCK) };
    while full.write(&[b'x'; 4096]).is_ok() {}
    // SAFETY: as above; tokmeter must block, not get EAGAIN.
    unsafe { libc::fcntl(raw, libc::F_SETFL, 0) };
    let (child, stdin, _stdout) = running_with_three_chunks(&["-s", "json"], Stdio::from(full));
    send(&child, libc::SIGINT);
    // The second signal must come while the summary's write is blocked, not
    // merely after some delay: wait until the process sits in write(2) on
    // stderr, however long a loaded machine takes to get there.
    wait_until_blocked_writing_stderr(&child);
    send(&child, libc::SIGTERM);
    let status = child.wait_with_output().unwrap().status;
    drop((stdin, read_end));
    assert_eq!(status.code(), Some(143));
}

/// Waits (up to a minute, a bound on a hang, not on speed) until `child`'s
/// main thread is in write(2) on descriptor 2, read from
/// `/proc/PID/syscall`.
fn wait_until_blocked_writing_stderr(child: &Child) {
    let path = format!("/proc/{}/syscall", child.id());
    let blocked = format!("{} 0x2 ", libc::SYS_write);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let syscall = std::fs::read_to_string(&path).unwrap_or_default();
        if syscall.starts_with(&blocked) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never blocked writing stderr: {syscall:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn progress_prints_nothing_when_stderr_is_not_a_terminal() {
    let output = run(&["--progress", "-s", "none"], b"hello\n");
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stderr.is_empty());
}
