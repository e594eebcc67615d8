//! The command-line layer: everything that knows flags, standard error and
//! exit statuses. It builds the engine's parts from the flags, runs them,
//! and reports; the engine (the `tokmeter` library) knows nothing of it.

pub mod agents;
pub mod args;
pub mod cards;
pub mod commands;
pub mod completions;
pub mod config;
pub mod exit;
pub mod listing;
pub mod merge;
pub mod pricing;
pub mod progress;
pub mod provider;
pub mod report;
pub mod streams;
pub mod transcripts;
pub mod values;
pub mod walk;

use std::path::Path;

use anyhow::Context;
use clap::error::ErrorKind;
use clap::{CommandFactory, FromArgMatches};

use tokmeter::tokenize::Tokenizer;

use args::Args;
use config::{Mode, Run};
use exit::Exit;
use report::{say, warn};

/// Parses the command line, runs it, and says how it ended. Errors print
/// once, as one line `tokmeter: …`; help and version print as clap renders
/// them.
pub fn main() -> Exit {
    let parsed = Args::command()
        .try_get_matches()
        .and_then(|matches| Args::from_arg_matches(&matches).map(|args| (args, matches)));
    let (args, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            // Help goes to stdout; a reader that went away is not worth an
            // error, any other failure is (exit 1).
            return match report::write_stdout(err.render().to_string().as_bytes()) {
                Err(write) => {
                    let _ = say(format_args!("{write:#}"));
                    Exit::Failure
                }
                Ok(()) => Exit::Success,
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
            return Exit::Usage;
        }
    };
    report::set_quiet(
        args.quiet || matches!(&args.command, Some(args::Command::Merge(merge)) if merge.quiet),
    );
    if let Some(args::Command::Completions(completions)) = &args.command {
        return completions::print(completions.shell).unwrap_or_else(|err| {
            let _ = say(format_args!("{err:#}"));
            Exit::of_error(&err)
        });
    }
    let ran = Mode::from_args(args, &matches).and_then(|mode| match mode {
        Mode::ListModels(table, None) => listing::list_models(&table),
        Mode::ListModels(table, Some(model)) => listing::show_model(&table, &model),
        Mode::Streams(config) => streams::meter_all(&config),
        Mode::Transcripts(config) => transcripts::price_all(&config),
        Mode::Merge(args) => merge::run(&args),
        Mode::Pricing(args) => pricing::run(&args),
    });
    ran.unwrap_or_else(|err| {
        let _ = say(format_args!("{err:#}"));
        Exit::of_error(&err)
    })
}

/// What every metering run does before reading: opens the ledger (one
/// that cannot be written fails the run before any input is read, not
/// after the work is done), builds the tokenizer (an exact vocabulary loads
/// only once there is text to count), warns about an unpriced model, and
/// installs the signal handlers.
fn prepare(run: &Run) -> anyhow::Result<Box<dyn Tokenizer>> {
    if let Some(path) = run
        .reporting
        .summary_file
        .as_deref()
        .filter(|p| *p != Path::new("-"))
    {
        report::open_ledger(path)
            .with_context(|| format!("cannot open the summary file {}", path.display()))?;
    }
    let tokenizer = run.tokenizer.build();
    if !run.priced {
        let _ = warn(format_args!(
            "warning: model {} is not in the pricing table: counting at no cost",
            tokmeter::plain::quoted(&run.model.name)
        ));
    }
    tokmeter::signal::install();
    Ok(tokenizer)
}
