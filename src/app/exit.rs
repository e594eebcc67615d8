//! The exit statuses, and the errors that choose one.
//!
//! Every failure that stops a run reaches [`super::run`] as an
//! `anyhow::Error`; the few that change the status carry a small typed
//! marker found by walking the chain.

use std::io;
use std::process::ExitCode;

/// How a run ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: success, also when the reader of the output went away.
    Success,
    /// 1: a runtime failure (I/O, bad data, a bill that could not be written).
    Failure,
    /// 2: a usage error (bad flag, bad pricing file, unknown model).
    Usage,
    /// 3: a budget was exceeded.
    Budget,
    /// 128 + the signal's number: a signal ended the run.
    Signal(i32),
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Usage => 2,
            Exit::Budget => 3,
            Exit::Signal(signal) => 128u8.wrapping_add(signal as u8),
        }
    }

    /// The status of a run that would end as `self`, when its bill (a
    /// summary on stderr) was lost or not: a lost bill fails a run that
    /// would succeed.
    #[must_use]
    pub fn billed(self, billed: bool) -> Exit {
        match self {
            Exit::Success if !billed => Exit::Failure,
            other => other,
        }
    }

    /// The status for an error that stopped the run: a signal's for a wait
    /// a signal ended, usage for usage errors anywhere in the chain, else
    /// failure.
    pub fn of_error(err: &anyhow::Error) -> Exit {
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
            return Exit::Signal(signal);
        }
        let is_usage = err.chain().any(|cause| {
            cause.downcast_ref::<UsageError>().is_some()
                || cause
                    .downcast_ref::<tokmeter::pricing::TableError>()
                    .is_some()
        });
        if is_usage { Exit::Usage } else { Exit::Failure }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

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

/// A wait ended by SIGINT or SIGTERM (its number).
#[derive(Debug)]
pub struct Interrupted(pub i32);

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "interrupted by {}", tokmeter::signal::name(self.0))
    }
}

impl std::error::Error for Interrupted {}

/// An I/O error carrying [`Interrupted`], for a wait a signal ended.
pub fn interrupted(signal: i32) -> io::Error {
    io::Error::new(io::ErrorKind::Interrupted, Interrupted(signal))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_bill_fails_only_a_run_that_would_succeed() {
        assert_eq!(Exit::Success.billed(true), Exit::Success);
        assert_eq!(Exit::Success.billed(false), Exit::Failure);
        assert_eq!(Exit::Budget.billed(false), Exit::Budget);
        assert_eq!(Exit::Signal(15).code(), 143);
    }

    #[test]
    fn errors_choose_their_status() {
        let usage_error = usage("bad flag").context("while starting");
        assert_eq!(Exit::of_error(&usage_error), Exit::Usage);
        let signal = anyhow::Error::new(interrupted(2)).context("locking");
        assert_eq!(Exit::of_error(&signal), Exit::Signal(2));
        assert_eq!(Exit::of_error(&anyhow::anyhow!("disk")), Exit::Failure);
    }
}
