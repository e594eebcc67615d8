//! Fault injection: full and closed descriptors, a ledger past RLIMIT_FSIZE,
//! inputs that die, signals while blocked. Each run must end with the exit
//! code README's table gives, with the bill on stderr where stderr works and
//! every byte written before the fault intact.

use std::fs::File;
use std::process::Stdio;

use crate::util::{temp_dir, tokmeter_process};

/// /dev/full opened for writing: every write fails with ENOSPC.
fn full() -> Stdio {
    Stdio::from(
        File::options()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full"),
    )
}

/// Runs `command` with `stdin` as input and returns its output.
fn output_of(command: &mut std::process::Command, stdin: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = command
        .stdin(Stdio::piped())
        .spawn()
        .expect("tokmeter starts");
    let mut input = child.stdin.take().expect("stdin");
    let stdin = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let output = child.wait_with_output().expect("tokmeter ends");
    feeder.join().expect("feeder");
    output
}

fn assert_no_panic(output: &std::process::Output) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("panicked") && output.status.code() != Some(101),
        "{:?} {stderr}",
        output.status
    );
}

#[test]
fn usage_error_with_stderr_full_still_exits_2() {
    let status = tokmeter_process()
        .args(["-m", "no-such-model"])
        .stdin(Stdio::null())
        .stderr(full())
        .status()
        .expect("runs");
    assert_eq!(status.code(), Some(2));
}

#[test]
fn bill_lost_to_a_full_stderr_exits_1() {
    let mut command = tokmeter_process();
    command
        .args(["-t", "heuristic"])
        .stdout(Stdio::piped())
        .stderr(full());
    let output = output_of(&mut command, b"one\ntwo\n");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(output.stdout, b"one\ntwo\n");
}

#[test]
fn no_summary_wanted_with_stderr_full_exits_0() {
    let mut command = tokmeter_process();
    command
        .args(["-t", "heuristic", "-s", "none"])
        .stdout(Stdio::piped())
        .stderr(full());
    let output = output_of(&mut command, b"one\n");
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn closed_stderr_reader_is_no_panic() {
    let dir = temp_dir("closed-stderr");
    let garbage = dir.join("garbage.jsonl");
    std::fs::write(&garbage, "x\n".repeat(2000)).unwrap();
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let output = tokmeter_process()
        .args(["--input", "transcript", "-m", "gpt-4o"])
        .arg(&garbage)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(writer)
        .output()
        .expect("runs");
    assert_no_panic(&output);
    // The bill could not be written: a failure, not a crash.
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn help_to_a_full_stdout_exits_1() {
    let output = tokmeter_process()
        .arg("--help")
        .stdout(full())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("No space left"));
}

#[test]
fn stdout_full_is_an_error_with_the_bill_on_stderr() {
    let mut command = tokmeter_process();
    command
        .args(["-t", "heuristic", "-s", "json"])
        .stdout(full())
        .stderr(Stdio::piped());
    let output = output_of(&mut command, b"one\ntwo\n");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("\"chunk_count\":0"), "{stderr}");
    assert!(stderr.contains("write error"), "{stderr}");
    assert!(
        stderr.contains("tokmeter: writing standard output"),
        "{stderr}"
    );
}

#[test]
fn directory_input_is_refused_like_a_missing_file() {
    let dir = temp_dir("dir-input");
    let mut command = tokmeter_process();
    command
        .args(["-t", "heuristic", "-s", "json"])
        .arg(&dir)
        .arg("-")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = output_of(&mut command, b"one\n");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(output.stdout, b"one\n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Is a directory"), "{stderr}");
    // No session for the directory: the one of stdin, then the total.
    assert_eq!(stderr.matches("\"session_id\"").count(), 2, "{stderr}");
}

#[test]
fn total_of_one_input_is_singular() {
    let mut command = tokmeter_process();
    command
        .args(["-t", "heuristic", "/nonexistent/tokmeter-missing", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = output_of(&mut command, b"one\n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("total of 1 input: "), "{stderr}");
}

#[test]
fn no_first_chunk_time_when_no_chunk_was_written() {
    let mut command = tokmeter_process();
    command
        .args(["-t", "heuristic", "--max-tokens", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = output_of(&mut command, b"hello world\n");
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("budget exceeded"), "{stderr}");
    assert!(!stderr.contains("first chunk"), "{stderr}");
}

/// tokmeter under `ulimit -f 1` (1024 bytes per file), through bash.
fn tokmeter_with_file_limit(args: &[&str]) -> std::process::Command {
    tokmeter_via_bash("ulimit -f 1; exec \"$0\" \"$@\"", args)
}

#[test]
fn ledger_past_the_file_size_limit_is_cut_back_whole() {
    let dir = temp_dir("ledger-fsize");
    let ledger = dir.join("ledger.jsonl");
    let ledger_arg = ledger.to_str().unwrap();
    // Each summary line is a few hundred bytes: the limit cuts one midway.
    let mut runs = Vec::new();
    for _ in 0..6 {
        let mut command = tokmeter_with_file_limit(&[
            "-t",
            "heuristic",
            "-s",
            "none",
            "--summary-file",
            ledger_arg,
        ]);
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        runs.push(output_of(&mut command, b"some text\n"));
    }
    let failed: Vec<_> = runs.iter().filter(|o| !o.status.success()).collect();
    assert!(!failed.is_empty(), "the size limit was never reached");
    for output in &failed {
        assert_no_panic(output);
        assert_eq!(output.status.code(), Some(1));
        assert_eq!(output.stdout, b"some text\n");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("cannot append the summary to"), "{stderr}");
        assert!(stderr.contains("ledger.jsonl"), "{stderr}");
    }
    let text = std::fs::read_to_string(&ledger).unwrap();
    assert!(text.ends_with('\n'), "torn last line: {text:?}");
    let lines = text.lines().count();
    assert_eq!(lines, runs.len() - failed.len());
    let merged = tokmeter_process()
        .args(["merge", "-s", "json"])
        .arg(&ledger)
        .output()
        .expect("merge runs");
    assert!(merged.status.success(), "{merged:?}");
    let sum: serde_json::Value = serde_json::from_slice(&merged.stdout).unwrap();
    assert_eq!(sum["sessions"], lines as u64);
}

#[test]
fn summary_file_is_checked_before_reading_input() {
    let mut command = tokmeter_process();
    command
        .args(["--summary-file", "/nonexistent/dir/ledger.jsonl"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = output_of(&mut command, b"never read\n");
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "input was read");
    crate::util::assert_one_error_line(&output, "/nonexistent/dir/ledger.jsonl");
}

/// Waits for `child` to end; kills it and fails with `hang` if it has not
/// within 30 s (a bound on a hang, not on speed).
fn exit_of(child: &mut std::process::Child, hang: &str) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("{hang}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Sends SIGTERM to `child` after a generous pause (so it is surely
/// blocked), and waits for it to end: (exit status, stderr).
fn terminate(mut child: std::process::Child) -> (std::process::ExitStatus, String) {
    use std::io::Read;
    std::thread::sleep(std::time::Duration::from_millis(1500));
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = exit_of(&mut child, "tokmeter ignored SIGTERM");
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        pipe.read_to_string(&mut stderr).expect("stderr");
    }
    (status, stderr)
}

#[test]
fn sigterm_while_blocked_writing_to_a_stalled_reader_exits_143() {
    use std::io::{Read, Write};
    let (mut reader, writer) = std::io::pipe().expect("pipe");
    let mut child = tokmeter_process()
        .args(["-t", "heuristic", "-s", "json"])
        .stdin(Stdio::piped())
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let line = "a".repeat(79) + "\n";
    let input = line.repeat(20_000);
    let mut stdin = child.stdin.take().expect("stdin");
    let feed = input.clone();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(feed.as_bytes());
    });
    let (status, stderr) = terminate(child);
    assert_eq!(status.code(), Some(143), "{stderr}");
    assert!(stderr.contains("interrupted by SIGTERM"), "{stderr}");
    let summary: serde_json::Value =
        serde_json::from_str(stderr.lines().last().expect("summary")).expect("JSON summary");
    // What was delivered is intact, and the bill covers no more than that.
    let mut delivered = Vec::new();
    reader.read_to_end(&mut delivered).expect("read");
    assert!(input.as_bytes().starts_with(&delivered));
    assert!(summary["bytes"].as_u64().unwrap() <= delivered.len() as u64);
    assert!(delivered.len() < input.len());
    feeder.join().expect("feeder");
}

#[test]
fn sigterm_while_opening_a_fifo_with_no_writer_exits_143() {
    let dir = temp_dir("fifo-open");
    let fifo = dir.join("fifo");
    let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo(3) on a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
    let child = tokmeter_process()
        .args(["-t", "heuristic"])
        .arg(&fifo)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let (status, stderr) = terminate(child);
    assert_eq!(status.code(), Some(143), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The bill of what was read: nothing, interrupted.
    assert!(
        stderr.contains("0 tokens") && stderr.ends_with("interrupted by SIGTERM\n"),
        "{stderr}"
    );
}

#[test]
fn sigterm_while_waiting_for_the_ledger_lock_exits_143() {
    use std::io::Write;
    let dir = temp_dir("ledger-lock");
    let ledger = dir.join("ledger.jsonl");
    let holder = File::create(&ledger).unwrap();
    holder.lock().expect("test holds the lock");
    let mut child = tokmeter_process()
        .args(["-t", "heuristic", "--summary-file"])
        .arg(&ledger)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"one line\n").unwrap();
    drop(stdin);
    let (status, stderr) = terminate(child);
    assert_eq!(status.code(), Some(143), "{stderr}");
    assert!(stderr.contains("1 chunk"), "bill on stderr: {stderr}");
    assert!(stderr.contains("interrupted by SIGTERM"), "{stderr}");
    drop(holder);
    assert_eq!(std::fs::read(&ledger).unwrap(), b"");
}

#[test]
fn input_file_that_is_the_output_file_is_refused() {
    let dir = temp_dir("self-input");
    let file = dir.join("f.txt");
    std::fs::write(&file, "abc\n").unwrap();
    let appending = File::options().append(true).open(&file).unwrap();
    let mut command = tokmeter_process();
    command
        .args(["-t", "heuristic"])
        .arg(&file)
        .arg("-")
        .stdout(appending)
        .stderr(Stdio::piped());
    let output = output_of(&mut command, b"other\n");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("f.txt: input file is output file"),
        "{stderr}"
    );
    // The other input is still metered, and the file read nothing of itself.
    assert_eq!(std::fs::read(&file).unwrap(), b"abc\nother\n");
}

/// tokmeter started by bash with `redirect` (e.g. `>&-`) applied.
fn tokmeter_redirected(redirect: &str, args: &[&str]) -> std::process::Command {
    tokmeter_via_bash(&format!("exec \"$0\" \"$@\" {redirect}"), args)
}

/// tokmeter with `args`, started by bash running `script` (which execs
/// `"$0" "$@"`), in the test environment.
fn tokmeter_via_bash(script: &str, args: &[&str]) -> std::process::Command {
    let command = tokmeter_process();
    let program = command.get_program().to_owned();
    let mut bash = std::process::Command::new("bash");
    bash.envs(
        command
            .get_envs()
            .filter_map(|(key, value)| value.map(|value| (key.to_owned(), value.to_owned()))),
    )
    .arg("-c")
    .arg(script)
    .arg(program)
    .args(args);
    bash
}

#[test]
fn closed_stdout_is_a_write_error_not_delivery() {
    let mut command = tokmeter_redirected(">&-", &["-t", "heuristic", "-s", "json"]);
    command.stderr(Stdio::piped());
    let output = output_of(&mut command, b"one\ntwo\n");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("\"chunk_count\":0"), "{stderr}");
    assert!(
        stderr.contains("write error: Bad file descriptor"),
        "{stderr}"
    );
}

#[test]
fn closed_stderr_fails_the_run_without_a_panic() {
    let mut command = tokmeter_redirected("2>&-", &["-t", "heuristic"]);
    command.stdout(Stdio::piped());
    let output = output_of(&mut command, b"one\n");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(output.stdout, b"one\n");
}

#[test]
fn fifo_whose_writer_dies_keeps_what_was_delivered() {
    use std::io::Write;
    let dir = temp_dir("fifo-dies");
    let fifo = dir.join("fifo");
    let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo(3) on a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
    let child = tokmeter_process()
        .args(["-t", "heuristic", "-s", "json"])
        .arg(&fifo)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut writer = File::options().write(true).open(&fifo).unwrap();
    // The writer dies in the middle of a line.
    writer.write_all(b"one\ntwo\nthr").unwrap();
    drop(writer);
    let output = child.wait_with_output().expect("ends");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(output.stdout, b"one\ntwo\nthr");
    let summary = crate::util::summary(&output);
    assert_eq!(summary["chunk_count"], 3);
    assert_eq!(summary["bytes"], 11);
}

/// Fills the pipe behind `writer` to the brim, so the next write blocks.
fn fill(writer: &std::io::PipeWriter) {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    let fd = writer.as_raw_fd();
    // SAFETY: fcntl(2) flags of our own pipe's descriptor.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) };
    let mut writer = writer;
    while writer.write(&[b'x'; 4096]).is_ok() {}
    while writer.write(b"x").is_ok() {}
    unsafe { libc::fcntl(fd, libc::F_SETFL, flags) };
}

/// Whether a thread of `pid` is sleeping (on x86-64, clock_nanosleep or
/// nanosleep).
fn is_sleeping(pid: u32) -> bool {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("syscall")).ok())
        .any(|syscall| syscall.starts_with("230 ") || syscall.starts_with("35 "))
}

#[test]
fn sigterm_with_output_buffered_for_a_stalled_reader_exits_143() {
    use std::io::Write;
    let (reader, writer) = std::io::pipe().expect("pipe");
    fill(&writer);
    let gate = temp_dir("stalled-buffered").join("gate");
    // JSON records wait for the vocabulary, held back by the gate: the
    // signal comes while a chunk is being counted, between two writes.
    let mut child = tokmeter_process()
        .args(["-t", "o200k_base", "-f", "json", "-s", "json"])
        .env("TOKMETER_TEST_VOCABULARY_GATE", &gate)
        .stdin(Stdio::piped())
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(b"first line\nsecond line\n")
        .expect("input");
    while !is_sleeping(child.id()) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    std::fs::write(&gate, b"").expect("gate");
    // The first record waits in the buffer for a reader that takes nothing:
    // the run must end anyway, without a second signal.
    let status = exit_of(
        &mut child,
        "tokmeter waited for the stalled reader after SIGTERM",
    );
    let output = child.wait_with_output().expect("stderr");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(status.code(), Some(143), "{stderr}");
    let summary: serde_json::Value =
        serde_json::from_str(stderr.lines().last().expect("summary")).expect("JSON summary");
    assert_eq!(summary["error"], "interrupted by SIGTERM");
    // Nothing got through, so nothing is billed.
    assert_eq!(summary["chunk_count"], 0, "{stderr}");
    drop(reader);
    drop(stdin);
}

#[test]
fn input_failing_mid_read_keeps_what_was_delivered() {
    use std::io::{BufRead, BufReader, Write};
    // A pseudo-terminal's master reads EIO once the slave side is closed:
    // a real read error after data came through.
    let (master, slave) = crate::util::pseudo_terminal();
    let mut child = tokmeter_process()
        .args(["-t", "heuristic", "-s", "json"])
        .stdin(Stdio::from(master))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut slave = File::from(slave);
    slave
        .write_all(b"hello world\n")
        .expect("write to the terminal");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout
        .read_line(&mut first)
        .expect("the line comes through");
    drop(slave);
    let status = child.wait().expect("exits");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(first.starts_with("hello world"), "{first:?}");
    assert!(
        stderr
            .lines()
            .last()
            .unwrap()
            .starts_with("tokmeter: reading <stdin>: "),
        "{stderr}"
    );
    let summary: serde_json::Value = serde_json::from_str(stderr.lines().next().unwrap()).unwrap();
    assert!(
        summary["error"]
            .as_str()
            .unwrap()
            .starts_with("read error: "),
        "{stderr}"
    );
    // The line that came through is billed, and nothing else.
    assert_eq!(summary["chunk_count"], 1);
    assert_eq!(summary["bytes"], first.len());
}
