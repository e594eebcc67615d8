//! Shared helpers: running the binary with a clean environment, reading its
//! records and summary, exact decimal sums, deterministic random bytes.

use std::path::PathBuf;
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

/// Path of the binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_tokmeter");

/// The binary with our environment variables cleared, so no user pricing
/// table or config directory leaks in, and `TZ=UTC`.
pub fn tokmeter() -> assert_cmd::Command {
    assert_cmd::Command::from_std(tokmeter_process())
}

/// The same for `std::process::Command`, for tests that spawn and stream.
pub fn tokmeter_process() -> std::process::Command {
    let mut command = std::process::Command::new(BIN);
    command
        .env_remove("TOKMETER_PRICING")
        .env("XDG_CONFIG_HOME", "/nonexistent/tokmeter-tests")
        .env("HOME", "/nonexistent/tokmeter-tests")
        .env("TZ", "UTC");
    command
}

/// tokmeter started with `args`, its standard streams all pipes.
pub fn spawn_piped(args: &[&str]) -> std::process::Child {
    use std::process::Stdio;
    tokmeter_process()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tokmeter starts")
}

/// Runs tokmeter with `args` on `stdin` and returns its output.
pub fn run(args: &[&str], stdin: &[u8]) -> Output {
    tokmeter()
        .args(args)
        .write_stdin(stdin.to_vec())
        .output()
        .expect("tokmeter runs")
}

/// Runs and asserts exit 0.
pub fn run_ok(args: &[&str], stdin: &[u8]) -> Output {
    let output = run(args, stdin);
    assert!(
        output.status.success(),
        "tokmeter {args:?} failed: {:?}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The JSON summary: the last line of stderr, which must parse.
pub fn summary(output: &Output) -> Value {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stderr
        .lines()
        .last()
        .unwrap_or_else(|| panic!("no summary on stderr"));
    serde_json::from_str(line).unwrap_or_else(|err| panic!("summary {line:?}: {err}"))
}

/// The JSON Lines records of stdout.
pub fn records(stdout: &[u8]) -> Vec<Value> {
    std::str::from_utf8(stdout)
        .expect("JSON output is UTF-8")
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("{line:?}: {err}")))
        .collect()
}

/// A decimal USD string in units of 10⁻¹² USD, parsed independently of the
/// library so the tests do not check the code against itself.
pub fn cost_units(text: &str) -> u128 {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    assert!(fraction.len() <= 12, "more than 12 decimals: {text}");
    assert!(
        !text.contains(['e', 'E', '-']),
        "not a plain decimal: {text}"
    );
    let padded = format!("{fraction:0<12}");
    whole.parse::<u128>().unwrap() * 1_000_000_000_000 + padded.parse::<u128>().unwrap()
}

/// `len` bytes from a xorshift generator seeded with `seed`.
pub fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// A fresh empty directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Asserts stderr is exactly one line `tokmeter: …` mentioning `needle`.
pub fn assert_one_error_line(output: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {stderr}");
    assert!(lines[0].starts_with("tokmeter: "), "{stderr}");
    assert!(lines[0].contains(needle), "{needle:?} not in: {stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
}

/// A pseudo-terminal: its master and slave. Both ends are close-on-exec
/// from the start, so no other child holds the slave open; the master
/// reads EIO once the slave is closed (a real read error after data).
pub fn pseudo_terminal() -> (std::os::fd::OwnedFd, std::os::fd::OwnedFd) {
    use std::os::fd::{FromRawFd, OwnedFd};
    // SAFETY: posix_openpt(3), grantpt(3), unlockpt(3) and ptsname_r(3) on
    // the master just opened; open(2) of the name it gives.
    unsafe {
        let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        assert!(master >= 0, "posix_openpt");
        assert_eq!(libc::grantpt(master), 0);
        assert_eq!(libc::unlockpt(master), 0);
        let mut name = [0 as libc::c_char; 128];
        assert_eq!(libc::ptsname_r(master, name.as_mut_ptr(), name.len()), 0);
        let slave = libc::open(
            name.as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        );
        assert!(slave >= 0, "open the slave");
        (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave))
    }
}
