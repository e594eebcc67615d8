//! Everything written to standard error and to the ledger, in one place:
//! messages, summaries, the ledger's appends, and `--list-models`. Nothing
//! here panics on a closed or full stream; what could not be written is
//! returned, and a lost summary fails the run (see [`Exit::billed`]).

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use tokmeter::output::is_broken_pipe;
use tokmeter::signal;
use tokmeter::summary::Summary;

use super::args::SummaryArg;
use super::exit::interrupted;

/// Where a run's summaries go.
#[derive(Clone, Debug)]
pub struct Reporting {
    /// Which summary goes to stderr.
    pub summary: SummaryArg,
    /// Ledger file for JSON summaries (`-`: standard output).
    pub summary_file: Option<PathBuf>,
}

/// Writes `tokmeter: {message}` and a newline to standard error in one write.
/// Never panics: a closed or full stderr is returned as the error, which
/// callers of mere warnings ignore (there is nowhere else to say it).
pub fn say(message: impl std::fmt::Display) -> io::Result<()> {
    // Control characters from the input (a file name, a library's message
    // quoting a line) can neither break the line nor reach the terminal.
    let message = tokmeter::plain::escape_controls(&message.to_string());
    write_stderr(format!("tokmeter: {message}\n").as_bytes())
}

/// Whether warnings are silenced (`--quiet`).
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Silences [`warn`] for the rest of the run.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, std::sync::atomic::Ordering::Relaxed);
}

/// Writes a warning (a message starting `warning: `) as [`say`] does,
/// unless `--quiet` silenced warnings.
pub fn warn(message: impl std::fmt::Display) -> io::Result<()> {
    if QUIET.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(());
    }
    say(message)
}

/// Writes `bytes` to standard error (fd 2) whole, reporting every failure,
/// also a closed descriptor (std's own handle would hide that).
pub fn write_stderr(bytes: &[u8]) -> io::Result<()> {
    use std::os::fd::FromRawFd;
    // SAFETY: fd 2 is only borrowed; ManuallyDrop never closes it.
    let mut stderr = std::mem::ManuallyDrop::new(unsafe { File::from_raw_fd(2) });
    stderr.write_all(bytes)
}

/// Writes `text` to standard output in one piece; a reader that went away
/// is no error.
pub fn write_stdout(text: &[u8]) -> anyhow::Result<()> {
    stdout_whole(text).context("writing standard output")
}

fn stdout_whole(text: &[u8]) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(text).and_then(|()| stdout.flush()) {
        Err(err) if is_broken_pipe(&err) => Ok(()),
        written => written,
    }
}

/// Prints the summary and appends it to the ledger. Returns whether the
/// summary reached stderr (see [`print_summary`]); a ledger that cannot be
/// appended to is an error.
pub fn report(settings: &Reporting, summary: &Summary) -> anyhow::Result<bool> {
    let printed = print_summary(settings.summary, summary);
    if let Some(path) = &settings.summary_file {
        append_line(path, &summary.to_json())
            .with_context(|| format!("cannot append the summary to {}", path.display()))?;
    }
    Ok(printed)
}

/// Writes the summary to stderr and returns whether it got there (true
/// also with `-s none`). A bill that could not be written is no crash, but
/// the run must not end as a success: see [`bill_status`].
pub fn print_summary(kind: SummaryArg, summary: &Summary) -> bool {
    let mut line = match kind {
        SummaryArg::None => return true,
        SummaryArg::Text => summary.to_text(),
        SummaryArg::Json => summary.to_json(),
    };
    line.push('\n');
    write_stderr(line.as_bytes()).is_ok()
}

/// Appends `line` and a newline to `path` in one write under an exclusive
/// lock, so concurrent writers never interleave or tear lines.
/// `-` is standard output, written in one piece too.
fn append_line(path: &Path, line: &str) -> io::Result<()> {
    let mut bytes = Vec::with_capacity(line.len() + 1);
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    if path == Path::new("-") {
        return stdout_whole(&bytes);
    }
    let mut file = open_ledger(path)?;
    // The lock may wait for another process; a signal of ours ends the wait.
    while let Err(err) = file.lock() {
        if signal::stopped_by_signal(&err) {
            return Err(interrupted(signal::received()));
        }
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    let written = append_whole(&mut file, &bytes);
    let unlocked = file.unlock();
    written.and(unlocked)
}

/// Opens (creating it if need be) the ledger at `path` for appending.
pub fn open_ledger(path: &Path) -> io::Result<File> {
    File::options().append(true).create(true).open(path)
}

/// Appends `bytes` to the locked `file` whole or not at all: on any error
/// (a full disk, the file size limit) the file is cut back to the length it
/// had, so no torn line is left for the next append to be glued to.
fn append_whole(file: &mut File, bytes: &[u8]) -> io::Result<()> {
    let before = file.metadata()?.len();
    let written = file.write_all(bytes);
    if let Err(err) = written {
        // Cutting back only removes bytes: it works on a full disk too.
        let _ = file.set_len(before);
        return Err(err);
    }
    Ok(())
}
