//! The subcommands' flags (`merge`, `pricing import`, `completions`) and the `--by` keys
//! they share with transcripts: clap definitions and their help text.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};

use super::args::SummaryArg;

/// Subcommands.
#[derive(Subcommand, Debug, Clone)]
pub enum Command {
    /// Sum JSON summaries (from files or standard input) into one.
    ///
    /// Reads summaries one per line, as `-s json` and --summary-file write
    /// them, and prints their sum: tokens, costs (exact), chunks, bytes and
    /// the transcript figures; the time span runs from the earliest start to
    /// the latest end. A total and the per-file summaries it covers are
    /// counted once. Blank lines are skipped; any other line that is not a
    /// summary is an error (exit 1).
    Merge(MergeArgs),
    /// Write a pricing table from litellm's or models.dev's price list.
    Pricing(PricingArgs),
    /// Print the shell completion script for SHELL on standard output.
    ///
    /// bash, zsh, fish, elvish or powershell; the README's Install section
    /// says where each shell looks for it.
    Completions(CompletionsArgs),
}

/// `tokmeter completions`.
#[derive(clap::Args, Debug, Clone)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// `tokmeter merge`.
#[derive(clap::Args, Debug, Clone)]
pub struct MergeArgs {
    /// Files of JSON summaries; `-` or none is standard input.
    #[arg(value_name = "FILE")]
    pub files: Vec<OsString>,

    /// How to print the sum (on standard output).
    #[arg(short, long, value_enum, default_value_t = SummaryArg::Json, value_name = "KIND")]
    pub summary: SummaryArg,

    /// Session id of the sum (default: a new random UUID).
    #[arg(long, value_name = "ID")]
    pub session_id: Option<String>,

    /// Report by day, month, model, agent, session, project, or a --meta
    /// key: one row per group, then the total, instead of the sum.
    ///
    /// day and month are of each summary's start time, in the local time
    /// zone unless --utc. model splits an agent log's summary by the models
    /// it billed. Any other KEY (or meta:KEY) groups by that metadata key;
    /// summaries without it are under "-". A table, or with -f json one
    /// JSON object per line.
    #[arg(long, value_name = "KEY")]
    pub by: Vec<String>,

    /// With --by day or month: days in UTC.
    #[arg(long)]
    pub utc: bool,

    /// The report's format with --by: text (a table) or json.
    #[arg(short, long, value_enum, default_value_t = ReportFormatArg::Text, value_name = "FORMAT")]
    pub format: ReportFormatArg,

    /// Print no warnings (errors and the result still appear).
    #[arg(short, long)]
    pub quiet: bool,
}

/// `tokmeter pricing`.
#[derive(clap::Args, Debug, Clone)]
#[command(arg_required_else_help = false)]
pub struct PricingArgs {
    /// What to do with prices.
    #[command(subcommand)]
    pub command: PricingCommand,
}

/// The subcommands of `tokmeter pricing`.
#[derive(Subcommand, Debug, Clone)]
pub enum PricingCommand {
    /// Write a pricing table (TOML, on standard output) from a price list.
    ///
    /// Offline; every price exact in USD per 1M tokens (at most 6 decimals),
    /// with its context tiers, modes and 1-hour cache writes. What the table
    /// has no place for is noted on standard error.
    Import(ImportArgs),
}

/// `tokmeter pricing import`.
#[derive(clap::Args, Debug, Clone)]
pub struct ImportArgs {
    /// The price list's format.
    #[arg(value_enum, value_name = "SOURCE")]
    pub source: SourceArg,
    /// The price list.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Keep only the models of this selection file (litellm only).
    ///
    /// Each [[models]] gives name, provider, key (the litellm key priced
    /// from), tokenizer and aliases; see pricing/selection.toml.
    #[arg(long, value_name = "FILE")]
    pub select: Option<PathBuf>,
}

/// The price lists `tokmeter pricing import` reads.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceArg {
    /// litellm's model_prices_and_context_window.json (USD per token).
    Litellm,
    /// models.dev's api.json (USD per 1M tokens), named PROVIDER/MODEL.
    ModelsDev,
}

/// `--by`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ByArg {
    /// The day a response was written.
    Day,
    /// Its month.
    Month,
    /// Its session.
    Session,
    /// Its model.
    Model,
    /// Its project (Claude Code's project directory, Codex's cwd).
    Project,
}

impl ByArg {
    /// The column's name.
    pub fn name(self) -> &'static str {
        match self {
            ByArg::Day => "day",
            ByArg::Month => "month",
            ByArg::Session => "session",
            ByArg::Model => "model",
            ByArg::Project => "project",
        }
    }
}

/// `merge -f`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormatArg {
    /// An aligned table.
    Text,
    /// One JSON object per line.
    Json,
}
