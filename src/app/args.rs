//! Command-line flags: the clap definitions and all help text.
//!
//! A field's doc comment is its help: the first line for `-h`, the rest for
//! `--help`. Values are checked here only for shape; `config` validates
//! them against each other and against the pricing table. A flag that only
//! streams take is in the group [`STREAM_ONLY`], one only transcripts take
//! in [`TRANSCRIPT_ONLY`]: the configuration refuses them for the other
//! kind of input from these groups, so a new flag is placed once, here.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{ArgGroup, Parser, ValueEnum};

pub use super::commands::{ByArg, Command};

/// The group of flags that apply to text streams only.
pub const STREAM_ONLY: &str = "stream_only";
/// The group of flags that apply to `--input transcript` only.
pub const TRANSCRIPT_ONLY: &str = "transcript_only";

/// Meter a text stream in LLM tokens and money while passing it through.
///
/// tokmeter copies standard input (or each FILE) to standard output, cut into
/// chunks (lines by default), counts each chunk's tokens, prices them from a
/// pricing table, and prints a session summary on standard error at the end.
/// With -f json or -f sse every chunk is written as a record with its tokens,
/// cost and timestamp instead. With --input auto (or a provider's name) the
/// input is a provider's API stream, as curl -N prints it: passed through
/// byte for byte and billed from the usage it reports. On Linux, raw output
/// from a pipe to a pipe is moved by the kernel (tee(2)) and read once, for
/// counting.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "tokmeter",
    version,
    override_usage = "tokmeter [OPTIONS] [FILE]...\n       COMMAND | tokmeter [OPTIONS]\n       \
                      tokmeter --input transcript [OPTIONS] [FILE]...\n       \
                      tokmeter merge [OPTIONS] [FILE]...\n       \
                      tokmeter pricing import <litellm|models-dev> FILE [--select FILE]\n       \
                      tokmeter completions <bash|zsh|fish|elvish|powershell>",
    args_conflicts_with_subcommands = true,
    group(ArgGroup::new(STREAM_ONLY).multiple(true)),
    group(ArgGroup::new(TRANSCRIPT_ONLY).multiple(true)),
    after_help = "Exit status: 0 success (also when the reader of the output went away), \
                  1 runtime failure (also a summary that could not be written), 2 usage error, 3 budget exceeded, 130/143 interrupted."
)]
pub struct Args {
    /// Files to meter, each a session of its own; `-` or none is standard input.
    #[arg(value_name = "FILE", help_heading = "Input")]
    pub files: Vec<OsString>,

    /// Subcommands.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Model to price (name or alias in the pricing table; default gpt-4o
    /// in the built-in table).
    ///
    /// Matched exactly, ignoring case. Default: the table's default_model,
    /// gpt-4o in the built-in table (marked in --list-models).
    #[arg(short, long, value_name = "NAME", help_heading = "Pricing")]
    pub model: Option<String>,

    /// Output format.
    ///
    /// With --input transcript and --by, -f json writes the report as JSON
    /// Lines.
    #[arg(short, long, value_enum, default_value_t = FormatArg::Raw, value_name = "FORMAT", help_heading = "Output")]
    pub format: FormatArg,

    /// How tokens are counted.
    ///
    /// auto takes the model's tokenizer from the pricing table and falls back
    /// to the heuristic.
    #[arg(short, long, value_enum, default_value_t = TokenizerArg::Auto, value_name = "NAME", help_heading = "Counting")]
    pub tokenizer: TokenizerArg,

    /// Count over the stream, or each chunk on its own.
    ///
    /// stream (default): a chunk's tokens are what the whole text's count
    /// gained with it, so the chunks sum to the count of the text.
    /// per-chunk: each chunk counted alone, at least 1 if non-empty (it
    /// over-counts words cut across chunks).
    #[arg(long, value_enum, default_value_t = CountArg::Stream, value_name = "MODE", group = STREAM_ONLY, help_heading = "Counting", hide_short_help = true)]
    pub count: CountArg,

    /// Which price the stream's tokens pay: the model's output or input price.
    #[arg(long, value_enum, default_value_t = SideArg::Output, value_name = "SIDE", group = STREAM_ONLY, help_heading = "Counting", hide_short_help = true)]
    pub side: SideArg,

    /// Pricing table to use instead of the built-in one.
    ///
    /// Also $TOKMETER_PRICING, then $XDG_CONFIG_HOME/tokmeter/pricing.toml
    /// (or ~/.config/tokmeter/pricing.toml) if it exists.
    #[arg(short, long, value_name = "FILE", help_heading = "Pricing")]
    pub pricing: Option<PathBuf>,

    /// What to do with a model not in the pricing table.
    ///
    /// error (default): exit 2, naming the closest models. zero: count its
    /// tokens at no cost, and say so.
    #[arg(long, value_enum, default_value_t = UnknownModelArg::Error, value_name = "POLICY", help_heading = "Pricing", hide_short_help = true)]
    pub unknown_model: UnknownModelArg,

    /// Print the pricing table in use and exit; with MODEL, that model's
    /// whole card: tiers, modes and dated history.
    #[arg(long, value_name = "MODEL", num_args = 0..=1, default_missing_value = "", help_heading = "Pricing")]
    pub list_models: Option<String>,

    /// End chunks after this byte string instead of newlines.
    ///
    /// Escapes: \n \t \r \0 \\ \xHH.
    #[arg(short, long, value_name = "STR", conflicts_with_all = ["null", "arrival"], group = STREAM_ONLY, help_heading = "Streams")]
    pub delimiter: Option<String>,

    /// End chunks after NUL bytes (same as -d '\0').
    #[arg(short = 'z', long, conflicts_with = "arrival", group = STREAM_ONLY, help_heading = "Streams", hide_short_help = true)]
    pub null: bool,

    /// A chunk is whatever one read returns, for producers that stream without
    /// newlines.
    ///
    /// A chunk never ends inside a UTF-8 character: incomplete trailing bytes
    /// wait for the next read.
    #[arg(long, group = STREAM_ONLY, help_heading = "Streams")]
    pub arrival: bool,

    /// Leave the delimiter out of the chunks' content and token counts.
    #[arg(long, group = STREAM_ONLY, help_heading = "Streams", hide_short_help = true)]
    pub strip_delimiter: bool,

    /// Longest chunk in bytes; longer records are cut at a character boundary.
    ///
    /// Accepts K, M and G suffixes (powers of 1024). Default 1M. A chunk
    /// holds at least one whole character, so with a limit below 4 bytes a
    /// character of more bytes than the limit is one chunk. With --input
    /// transcript it is the longest line (default 64M); a longer line is a
    /// bad line, skipped without being held in memory.
    #[arg(long, value_name = "BYTES", value_parser = parse_size, help_heading = "Input", hide_short_help = true)]
    pub max_chunk: Option<usize>,

    /// When output is flushed.
    ///
    /// auto (default): every chunk when stdout is a terminal, else block.
    /// chunk: after every chunk. block: when the buffer fills, and always
    /// before waiting for more input, so a slow producer is never held up.
    #[arg(long, value_enum, default_value_t = FlushArg::Auto, value_name = "WHEN", help_heading = "Streams", hide_short_help = true)]
    pub flush: FlushArg,

    /// Stop before the chunk that would make the cost exceed USD; exit 3.
    ///
    /// The chunk that would cross the limit is not written; the summary says
    /// which budget and by how much. Exact: a budget equal to the total cost
    /// is not exceeded. Counts across all inputs of the run.
    #[arg(long, value_name = "USD", allow_hyphen_values = true, group = STREAM_ONLY, help_heading = "Budgets")]
    pub max_cost: Option<String>,

    /// Stop before the chunk that would make the tokens exceed N; exit 3.
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = parse_count, group = STREAM_ONLY, help_heading = "Budgets")]
    pub max_tokens: Option<u64>,

    /// The prompt's tokens: for a provider stream that reports no usage,
    /// billed at the model's input price; for a text stream, they choose
    /// the context tier its output pays.
    #[arg(long, value_name = "N", value_parser = parse_count, conflicts_with = "prompt", group = STREAM_ONLY, help_heading = "Pricing", hide_short_help = true)]
    pub prompt_tokens: Option<u64>,

    /// The prompt sent: for a provider stream that reports no usage, its
    /// tokens are counted and billed at the model's input price; for a text
    /// stream, they choose the context tier its output pays.
    #[arg(long, value_name = "FILE", group = STREAM_ONLY, help_heading = "Pricing", hide_short_help = true)]
    pub prompt: Option<PathBuf>,

    /// The mode the requests were served in (batch, flex, priority, fast,
    /// …): its prices in the pricing table.
    ///
    /// A stream is priced at the mode's card (a mode the model lacks is a
    /// usage error); transcripts and agent logs use it for records that
    /// name no mode. Default: the standard prices.
    #[arg(
        long = "mode",
        value_name = "NAME",
        help_heading = "Pricing",
        hide_short_help = true
    )]
    pub service_mode: Option<String>,

    /// The day (YYYY-MM-DD, UTC) or RFC 3339 time the requests were made:
    /// the prices in force then.
    ///
    /// For streams, and for records without a timestamp. Default: now.
    #[arg(
        long,
        value_name = "DATE",
        help_heading = "Pricing",
        hide_short_help = true
    )]
    pub date: Option<String>,

    /// Show a live line on stderr (tokens, cost, rate, elapsed), only when
    /// stderr is a terminal.
    ///
    /// The line fits the terminal's width. When stdout is the same terminal,
    /// the line is erased while output is written and redrawn after it, and
    /// waits while output has left a line unfinished (as with --arrival).
    #[arg(long, group = STREAM_ONLY, help_heading = "Streams")]
    pub progress: bool,

    /// Print no warnings (errors and the summary still appear).
    #[arg(short, long, help_heading = "Output")]
    pub quiet: bool,

    /// Terminal escape sequences (the --progress line's erasing): auto
    /// (unless NO_COLOR is set and not empty), always or never. tokmeter
    /// prints no colours.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto, value_name = "WHEN", help_heading = "Output", hide_short_help = true)]
    pub color: ColorArg,

    /// What the input is: a text stream, a provider's API stream, or chat
    /// transcripts to price.
    ///
    /// stream (default): text passed through and metered. A provider stream
    /// (auto, openai-chat, openai-responses, anthropic, gemini, gemini-array,
    /// ollama) passes through byte for byte and is billed from the usage it
    /// reports, or from its text deltas when it reports none; auto tells the
    /// format from the first bytes (curl -i headers skipped) and meters
    /// anything else as text, with a warning. transcript: JSON
    /// Lines chat records, one message ({"role", "content"}) or conversation
    /// ({"messages": [...]}) per line, priced by role: system, developer,
    /// user and tool turns at the input price, assistant turns at the output
    /// price; a file that is a Claude Code or Codex log is priced as one
    /// (below). claude-code, codex: agent logs, each API response billed
    /// once from the usage it logged, at its own model (-m prices records
    /// that name none); with no FILE, the agent's own directory
    /// ($CLAUDE_CONFIG_DIR or ~/.claude/projects; $CODEX_HOME/sessions or
    /// ~/.codex/sessions). A directory FILE is walked for *.jsonl in path
    /// order. Nothing is written to standard output but a --by report; each
    /// FILE's summary and the total go to standard error, and files are
    /// priced in parallel.
    #[arg(long = "input", value_enum, default_value_t = InputArg::Stream, value_name = "KIND", help_heading = "Input")]
    pub input_kind: InputArg,

    /// Price transcripts as the API billed them: every assistant turn pays
    /// input for the whole conversation before it.
    ///
    /// Without it each message is counted once.
    #[arg(long, group = TRANSCRIPT_ONLY, help_heading = "Transcripts and logs")]
    pub replay: bool,

    /// With --replay: the part of the context already sent at the previous
    /// assistant turn pays the model's cache-read price.
    #[arg(long, requires = "replay", group = TRANSCRIPT_ONLY, help_heading = "Transcripts and logs", hide_short_help = true)]
    pub cache: bool,

    /// What to do with a transcript line that is not a chat record.
    ///
    /// skip (default): report it with file and line number, count it in the
    /// summary and go on. fail: report it, end that file there and exit 1.
    #[arg(long, value_enum, value_name = "POLICY", group = TRANSCRIPT_ONLY, help_heading = "Transcripts and logs", hide_short_help = true)]
    pub on_bad_line: Option<BadLineArg>,

    /// Report by day, month, session, model or project: one row per group
    /// on standard output, then the total.
    ///
    /// With several (--by day --by model), a row per combination. Each row
    /// has the responses (records), input, output, cache read, cache write
    /// (5-minute) and cache write 1h tokens and the cost in USD; a table,
    /// or with -f json one JSON object per line. Days are in the local time
    /// zone unless --utc; records without a time (chat transcripts) are
    /// under "-".
    #[arg(long, value_enum, value_name = "KEY", group = TRANSCRIPT_ONLY, help_heading = "Transcripts and logs")]
    pub by: Vec<ByArg>,

    /// With --by day or month: days in UTC, not in the local time zone.
    #[arg(long, group = TRANSCRIPT_ONLY, help_heading = "Transcripts and logs", hide_short_help = true)]
    pub utc: bool,

    /// How many transcript files to price at once (default: one per core).
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), group = TRANSCRIPT_ONLY, help_heading = "Transcripts and logs", hide_short_help = true)]
    pub jobs: Option<u32>,

    /// Session summary on standard error.
    #[arg(short, long, value_enum, default_value_t = SummaryArg::Text, value_name = "KIND", help_heading = "Summary")]
    pub summary: SummaryArg,

    /// Append each session's JSON summary to FILE as one line.
    ///
    /// Safe for many concurrent tokmeter processes sharing one ledger file.
    /// FILE is opened before any input is read; an append is a whole line or
    /// nothing (on a full disk the file is cut back and the run exits 1).
    /// `-` writes the lines to standard output (with --input transcript,
    /// whose standard output is otherwise empty); a reader that went away
    /// is no error.
    #[arg(long, value_name = "FILE", help_heading = "Summary")]
    pub summary_file: Option<PathBuf>,

    /// Session id in the summary (default: a new random UUID).
    #[arg(
        long,
        value_name = "ID",
        help_heading = "Summary",
        hide_short_help = true
    )]
    pub session_id: Option<String>,

    /// Agent id in the summary.
    #[arg(
        long,
        value_name = "ID",
        help_heading = "Summary",
        hide_short_help = true
    )]
    pub agent_id: Option<String>,

    /// Add KEY=VALUE to every record's metadata and to the summary.
    #[arg(
        long,
        value_name = "KEY=VALUE",
        help_heading = "Summary",
        hide_short_help = true
    )]
    pub meta: Vec<String>,

    /// Freeze the clock at this RFC 3339 time (for reproducible output).
    #[arg(long, hide = true, value_name = "TIME")]
    pub fixed_clock: Option<String>,
}

/// `--input`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputArg {
    /// A text stream, passed through.
    Stream,
    /// A provider stream, its format told from the first bytes.
    Auto,
    /// OpenAI Chat Completions, and the servers compatible with it.
    #[value(name = "openai-chat")]
    OpenaiChat,
    /// OpenAI Responses.
    #[value(name = "openai-responses")]
    OpenaiResponses,
    /// Anthropic Messages.
    Anthropic,
    /// Gemini streamGenerateContent with alt=sse.
    Gemini,
    /// Gemini streamGenerateContent as a JSON array.
    #[value(name = "gemini-array")]
    GeminiArray,
    /// Ollama's /api/chat and /api/generate (JSON lines).
    Ollama,
    /// JSON Lines chat records priced by role, or agent logs, told apart
    /// per file.
    Transcript,
    /// Claude Code session logs (default: ~/.claude/projects).
    #[value(name = "claude-code")]
    ClaudeCode,
    /// Codex CLI rollouts (default: ~/.codex/sessions).
    Codex,
}

/// `--on-bad-line`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadLineArg {
    /// Report, count and go on.
    Skip,
    /// Report, end the file, exit 1.
    Fail,
}

/// `-f, --format`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatArg {
    /// The input as it is.
    Raw,
    /// One JSON object per chunk, per line.
    Json,
    /// Server-Sent Events, ending with a summary event.
    Sse,
    /// Decoded text: of a provider stream, the visible answer only.
    Text,
}

/// `-t, --tokenizer`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenizerArg {
    /// The model's tokenizer from the pricing table.
    Auto,
    /// Estimate: round(bytes / 4) over the stream.
    Heuristic,
    /// Exact, GPT-4o / GPT-4.1 / GPT-5 / o-series.
    #[value(name = "o200k_base")]
    O200kBase,
    /// Exact, GPT-4 / GPT-3.5.
    #[value(name = "cl100k_base")]
    Cl100kBase,
    /// One token per chunk.
    Chunk,
}

/// `--count`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CountArg {
    /// Over the whole stream.
    Stream,
    /// Each chunk on its own.
    PerChunk,
}

/// `--side`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SideArg {
    /// The model's output price.
    Output,
    /// The model's input price.
    Input,
}

/// `--unknown-model`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnknownModelArg {
    /// Exit 2, naming the closest models.
    Error,
    /// Count at no cost, and say so.
    Zero,
}

/// `--flush`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlushArg {
    /// Chunk for a terminal, block otherwise.
    Auto,
    /// After every chunk.
    Chunk,
    /// When the buffer is full or before waiting for input.
    Block,
}

/// `-s, --summary`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SummaryArg {
    /// One human line.
    Text,
    /// One JSON object.
    Json,
    /// Nothing.
    None,
}

/// Parses a whole number of at least 0 (so `-1` is named as the bad value,
/// not taken for a flag).
pub fn parse_count(text: &str) -> Result<u64, String> {
    text.trim()
        .parse()
        .map_err(|_| "must be a whole number >= 0".to_string())
}

/// Parses `1024`, `64K`, `1M`, `2G` (powers of 1024) into bytes, at least 1.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let (digits, unit) = match text.trim().to_ascii_uppercase() {
        t if t.ends_with('K') => (t[..t.len() - 1].to_string(), 1usize << 10),
        t if t.ends_with('M') => (t[..t.len() - 1].to_string(), 1 << 20),
        t if t.ends_with('G') => (t[..t.len() - 1].to_string(), 1 << 30),
        t => (t, 1),
    };
    let value: usize = digits
        .parse()
        .map_err(|_| format!("\"{text}\" is not a size (e.g. 4096, 64K, 1M)"))?;
    match value.checked_mul(unit) {
        Some(0) => Err("the size must be at least 1 byte".to_string()),
        Some(bytes) => Ok(bytes),
        None => Err(format!("\"{text}\" is too large")),
    }
}

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorArg {
    /// Unless `NO_COLOR` is set and not empty.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64k"), Ok(65536));
        assert_eq!(parse_size("1M"), Ok(1 << 20));
        assert!(parse_size("0").is_err());
        assert!(parse_size("x").is_err());
        assert_eq!(parse_count("12"), Ok(12));
        assert!(parse_count("-1").is_err());
    }
}
