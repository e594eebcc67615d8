//! The tokmeter binary: parse flags, run, map the outcome to an exit code.
//!
//! Errors print once, as one line `tokmeter: …`; help and version print as
//! clap renders them.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use tokmeter::cli::Args;
use tokmeter::config::Mode;
use tokmeter::error::{EXIT_FAILURE, EXIT_USAGE, exit_code_for, is_broken_pipe, say};

/// Runs before std's start-up, which puts /dev/null opened for writing on a
/// closed fd 0, 1 or 2 so that writes there would silently succeed: a closed
/// stdout or stderr gets /dev/null opened read-only instead, where every
/// write fails with EBADF as on a closed descriptor, and is reported.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static KEEP_CLOSED_OUTPUTS_FAILING: extern "C" fn() = keep_closed_outputs_failing;

#[cfg(target_os = "linux")]
extern "C" fn keep_closed_outputs_failing() {
    for fd in [1, 2] {
        // SAFETY: only descriptors 1 and 2 are probed and, when closed,
        // filled; nothing else runs yet.
        unsafe {
            if libc::fcntl(fd, libc::F_GETFD) == -1 {
                let opened = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY);
                if opened >= 0 && opened != fd {
                    libc::dup2(opened, fd);
                    libc::close(opened);
                }
            }
        }
    }
}

fn main() -> ExitCode {
    tokmeter::clock::mark_program_start();
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            // Help goes to stdout; a reader that went away is not worth an
            // error, any other failure is (exit 1).
            let mut stdout = std::io::stdout().lock();
            return match write!(stdout, "{}", err.render()).and_then(|()| stdout.flush()) {
                Err(write) if !is_broken_pipe(&write) => {
                    let _ = say(format_args!("writing standard output: {write}"));
                    ExitCode::from(EXIT_FAILURE)
                }
                _ => ExitCode::SUCCESS,
            };
        }
        Err(err) => {
            // clap's first paragraph, on one line (it may list arguments
            // on lines of their own).
            let rendered = err.render().to_string();
            let first: Vec<&str> = rendered
                .lines()
                .take_while(|line| !line.trim().is_empty())
                .map(str::trim)
                .collect();
            let first = first.join(" ");
            let message = first.strip_prefix("error: ").unwrap_or(&first);
            // Still exit 2 when stderr cannot be written.
            let _ = say(format_args!("{message} (see tokmeter --help)"));
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match Mode::from_args(args).and_then(tokmeter::run::run) {
        Ok(code) => code,
        Err(err) => {
            let _ = say(format_args!("{err:#}"));
            exit_code_for(&err)
        }
    }
}
