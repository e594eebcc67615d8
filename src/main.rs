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

fn main() -> ExitCode {
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
