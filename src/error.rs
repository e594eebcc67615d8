//! Exit codes and the errors `main` must tell apart.
//!
//! Every failure reaches `main` as an `anyhow::Error`; the few that change
//! the exit code carry a small typed marker found by walking the chain.

use std::io;
use std::process::ExitCode;

/// Exit code: success, also when the reader of the output went away.
pub const EXIT_OK: u8 = 0;
/// Exit code: a runtime failure (I/O, bad data).
pub const EXIT_FAILURE: u8 = 1;
/// Exit code: a usage error (bad flag, bad pricing file, unknown model).
pub const EXIT_USAGE: u8 = 2;
/// Exit code: a budget was exceeded.
pub const EXIT_BUDGET: u8 = 3;

/// A mistake in how tokmeter was called or configured: exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Shorthand for a usage error as an `anyhow::Error`.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(message.into()))
}

/// A wait ended by SIGINT or SIGTERM (its number): exit 128 + the number.
#[derive(Debug)]
pub struct Interrupted(pub i32);

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "interrupted by {}", crate::signal::name(self.0))
    }
}

impl std::error::Error for Interrupted {}

/// An I/O error carrying [`Interrupted`], for a wait a signal ended.
pub fn interrupted(signal: i32) -> io::Error {
    io::Error::new(io::ErrorKind::Interrupted, Interrupted(signal))
}

/// The exit code for an error: 128 + the signal for a wait a signal ended,
/// 2 for usage errors anywhere in the chain, 1 otherwise.
pub fn exit_code_for(err: &anyhow::Error) -> ExitCode {
    let signal = err.chain().find_map(|cause| {
        cause
            .downcast_ref::<Interrupted>()
            .or_else(|| {
                cause
                    .downcast_ref::<io::Error>()
                    .and_then(|io| io.get_ref())
                    .and_then(|inner| inner.downcast_ref::<Interrupted>())
            })
            .map(|i| i.0)
    });
    if let Some(signal) = signal {
        return ExitCode::from(128 + signal as u8);
    }
    let is_usage = err
        .chain()
        .any(|cause| cause.downcast_ref::<UsageError>().is_some())
        || err
            .chain()
            .any(|cause| cause.downcast_ref::<crate::pricing::TableError>().is_some());
    ExitCode::from(if is_usage { EXIT_USAGE } else { EXIT_FAILURE })
}

/// Whether an I/O error means the reader of our output went away.
pub fn is_broken_pipe(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::BrokenPipe
}

/// Writes `tokmeter: {message}` and a newline to standard error in one write.
/// Never panics: a closed or full stderr is returned as the error, which
/// callers of mere warnings ignore (there is nowhere else to say it).
pub fn say(message: impl std::fmt::Display) -> io::Result<()> {
    // Control characters from the input (a file name, a library's message
    // quoting a line) can neither break the line nor reach the terminal.
    let message = crate::plain::escape_controls(&message.to_string());
    write_stderr(format!("tokmeter: {message}\n").as_bytes())
}

/// Writes `bytes` to standard error (fd 2) whole, reporting every failure,
/// also a closed descriptor (std's own handle would hide that).
pub fn write_stderr(bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    use std::os::fd::FromRawFd;
    // SAFETY: fd 2 is only borrowed; ManuallyDrop never closes it.
    let mut stderr = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(2) });
    stderr.write_all(bytes)
}
