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
use tokmeter::error::{EXIT_USAGE, exit_code_for};

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
            // Help goes to stdout; a closed pipe is not worth an error.
            let _ = write!(std::io::stdout(), "{}", err.render());
            return ExitCode::SUCCESS;
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
            eprintln!("tokmeter: {message} (see tokmeter --help)");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match Mode::from_args(args).and_then(tokmeter::run::run) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("tokmeter: {err:#}");
            exit_code_for(&err)
        }
    }
}
