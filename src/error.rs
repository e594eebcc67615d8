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

/// The exit code for an error: 2 for usage errors anywhere in the chain, 1
/// otherwise.
pub fn exit_code_for(err: &anyhow::Error) -> ExitCode {
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
