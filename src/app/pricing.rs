//! `tokmeter pricing import`: convert litellm's or models.dev's price list
//! into a pricing table, printed on standard output; what the table could
//! not carry is said on standard error, one note a line.

use std::path::PathBuf;

use anyhow::Context;

use tokmeter::pricing::import;

use super::commands::{PricingArgs, PricingCommand, SourceArg};
use super::exit::Exit;
use super::report::{say, write_stdout};

/// Runs `tokmeter pricing`.
pub fn run(args: &PricingArgs) -> anyhow::Result<Exit> {
    let PricingCommand::Import(args) = &args.command;
    let read = |path: &PathBuf| {
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
    };
    let json = read(&args.file)?;
    let imported = match args.source {
        SourceArg::Litellm => {
            let selection = args.select.as_ref().map(read).transpose()?;
            import::from_litellm(&json, selection.as_deref())
        }
        SourceArg::ModelsDev => import::from_models_dev(&json),
    }
    .with_context(|| format!("cannot import {}", args.file.display()))?;
    for note in &imported.notes {
        let _ = say(format_args!("note: {note}"));
    }
    write_stdout(imported.toml.as_bytes())?;
    Ok(Exit::Success)
}
