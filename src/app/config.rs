//! From flags to a validated configuration, typed by mode.
//!
//! Everything that can be wrong with a call is found here, before any input
//! is read: the pricing table, the model, the delimiter, the metadata. Each
//! mode gets only the fields it uses; a flag of the other kind of input is
//! refused by its group in `args`. The terminal checks are made here, once.

use std::io::IsTerminal;
use std::path::Path;

use chrono::{DateTime, Utc};
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, ValueEnum};

use tokmeter::agent::Agent;
use tokmeter::clock::Clock;
use tokmeter::decode::{LogFormat, Provider, providers};
use tokmeter::format::Format;
use tokmeter::input::{Framing, Source};
use tokmeter::meter::CountMode;
use tokmeter::money::Money;
use tokmeter::output::FlushPolicy;
use tokmeter::pipeline::Budget;
use tokmeter::pricing::{Model, PricingTable, Side};
use tokmeter::tokenize::{Encoding, TokenizerKind};
use tokmeter::transcript;

use super::args::{
    Args, BadLineArg, ByArg, Command, CountArg, FlushArg, FormatArg, InputArg, STREAM_ONLY,
    SideArg, TRANSCRIPT_ONLY, TokenizerArg, UnknownModelArg,
};
use super::cards::{
    StreamCard, closest_models, load_table, parse_date, resolve_model, stream_card,
};
use super::commands::{MergeArgs, PricingArgs, PricingCommand, SourceArg};
use super::exit::usage;
use super::progress::Erase;
use super::report::Reporting;
use super::values::{parse_delimiter, parse_meta};

/// Longest chunk of a stream unless `--max-chunk` says otherwise.
const DEFAULT_MAX_CHUNK: usize = 1 << 20;
/// Longest transcript line unless `--max-chunk` says otherwise.
const DEFAULT_MAX_LINE: usize = 64 << 20;

/// What a call asks for.
#[derive(Debug)]
pub enum Mode {
    /// Print the pricing table, or one model's whole card.
    ListModels(PricingTable, Option<Box<Model>>),
    /// Meter text streams.
    Streams(Box<StreamConfig>),
    /// Price chat transcripts.
    Transcripts(Box<TranscriptConfig>),
    /// Sum JSON summaries.
    Merge(MergeArgs),
    /// Import a price list.
    Pricing(PricingArgs),
}

/// What every metering run has, whatever its inputs are.
#[derive(Debug)]
pub struct Run {
    /// The inputs, in order; standard input when no FILE was given.
    pub sources: Vec<Source>,
    /// Whether the inputs were named on the command line.
    pub named_inputs: bool,
    /// The model priced.
    pub model: Model,
    /// False when the model is unknown and counted at no cost.
    pub priced: bool,
    /// The tokenizer to count with.
    pub tokenizer: TokenizerKind,
    /// Where summaries go.
    pub reporting: Reporting,
    /// Given session id.
    pub session_id: Option<String>,
    /// Given agent id.
    pub agent_id: Option<String>,
    /// `--meta` pairs, in order.
    pub meta: Vec<(String, String)>,
    /// A frozen clock, for tests.
    pub fixed_clock: Option<DateTime<Utc>>,
}

/// What a stream's bytes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamInput {
    /// Text (`--input stream`).
    Text,
    /// A provider's API stream of this format, or of the one its first
    /// bytes show (`None`: `--input auto`).
    Provider(Option<providers::Format>),
}

/// The prompt of a provider stream that reports no usage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Prompt {
    /// Unknown: no input is billed.
    Unknown,
    /// `--prompt-tokens N`.
    Tokens(u64),
    /// `--prompt FILE`: the tokens of its text, read and counted with the
    /// tokenizer before any input, and whether the count is exact.
    Text {
        /// Its tokens.
        tokens: u64,
        /// Whether the tokenizer counts exactly.
        exact: bool,
    },
}

/// How streams are metered (`--input stream` and the provider streams).
#[derive(Debug)]
pub struct StreamConfig {
    /// What every run has.
    pub run: Run,
    /// What the bytes are.
    pub input: StreamInput,
    /// Whether `-m` named the model (else a provider stream's own is used).
    pub model_given: bool,
    /// The pricing table, for the model a provider stream names.
    pub table: PricingTable,
    /// `--unknown-model zero`: a model the table lacks costs nothing.
    pub unknown_zero: bool,
    /// The prompt, for a provider stream without usage.
    pub prompt: Prompt,
    /// The card the stream pays, from `--date`, `--mode` and the prompt.
    pub card: StreamCard,
    /// Stream or per-chunk counting.
    pub count: CountMode,
    /// Which price is paid.
    pub side: Side,
    /// Output format.
    pub format: Format,
    /// Where chunks end.
    pub framing: Framing,
    /// Leave delimiters out of content and counts.
    pub strip_delimiter: bool,
    /// Longest chunk in bytes.
    pub max_chunk: usize,
    /// When stdout is flushed.
    pub flush: FlushPolicy,
    /// Limits on tokens and cost across the run.
    pub budget: Budget,
    /// Show the live status line, erased this way (stderr is a terminal
    /// and it was asked for).
    pub progress: Option<Erase>,
}

/// How transcripts are priced (`--input transcript`, `claude-code`,
/// `codex`).
#[derive(Debug)]
pub struct TranscriptConfig {
    /// What every run has.
    pub run: Run,
    /// The files of each input of `run.sources` (a directory's `*.jsonl`,
    /// in path order; a file is its own).
    pub files: Vec<Vec<Source>>,
    /// The format of every file, or `None` to tell it per file.
    pub format: Option<LogFormat>,
    /// The pricing table, for the models agent logs name.
    pub table: PricingTable,
    /// `--unknown-model zero`: a model the table lacks is no error.
    pub unknown_zero: bool,
    /// `--by`, in the order given.
    pub by: Vec<ByArg>,
    /// `--utc`: days and months in UTC.
    pub utc: bool,
    /// `-f json`: the report as JSON Lines.
    pub report_json: bool,
    /// `--mode`: the mode of records that name none.
    pub mode: Option<String>,
    /// `--date`: the time of records without one.
    pub date: Option<DateTime<Utc>>,
    /// The cards a chat transcript's records with usage are priced by
    /// (none for an unpriced model).
    pub cards: Option<transcript::Cards>,
    /// Replay and cache.
    pub options: transcript::Options,
    /// `--on-bad-line fail`.
    pub fail_on_bad_line: bool,
    /// Files priced at once.
    pub jobs: usize,
    /// Longest line in bytes.
    pub max_line: usize,
}

impl Run {
    /// A session's clock: fixed if the configuration says so, else started
    /// now or, for the run's first session, when the program started.
    pub fn clock(&self, from_program_start: bool) -> Clock {
        match self.fixed_clock {
            Some(at) => Clock::fixed(at),
            None if from_program_start => Clock::since_program_start(),
            None => Clock::start(),
        }
    }

    /// `--meta` as a summary's metadata.
    pub fn metadata(&self) -> serde_json::Map<String, serde_json::Value> {
        self.meta
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect()
    }
}

impl Mode {
    /// Validates `args` (with the `matches` they were read from, which say
    /// which flags were given); errors are usage errors (exit 2) naming what
    /// is wrong.
    pub fn from_args(args: Args, matches: &ArgMatches) -> anyhow::Result<Mode> {
        if let Some(Command::Merge(merge)) = args.command {
            return Ok(Mode::Merge(merge));
        }
        if let Some(Command::Pricing(pricing)) = args.command {
            let PricingCommand::Import(import) = &pricing.command;
            if import.select.is_some() && import.source == SourceArg::ModelsDev {
                return Err(usage("--select applies to litellm's price list only"));
            }
            return Ok(Mode::Pricing(pricing));
        }
        // `tokmeter -s text merge x`: clap takes "merge" after an option for
        // a file. Say how to write it instead of metering a file "merge".
        if args.files.first().is_some_and(|file| file == "merge") {
            return Err(usage(
                "merge is a subcommand and takes its options after it \
                 (tokmeter merge -s text FILE...); for a file named merge, write ./merge",
            ));
        }
        let table = load_table(args.pricing.as_deref())?;
        if let Some(name) = &args.list_models {
            if name.is_empty() {
                return Ok(Mode::ListModels(table, None));
            }
            let Some(model) = table.lookup(name).cloned() else {
                return Err(usage(format!(
                    "unknown model {} in {} ({})",
                    tokmeter::plain::quoted(name),
                    table.origin,
                    closest_models(&table, name)
                )));
            };
            return Ok(Mode::ListModels(table, Some(Box::new(model))));
        }
        let (model, priced) = resolve_model(&table, args.model.as_deref(), args.unknown_model)?;
        let tokenizer = match args.tokenizer {
            TokenizerArg::Auto => model.tokenizer,
            TokenizerArg::Heuristic => TokenizerKind::default(),
            TokenizerArg::O200kBase => TokenizerKind::Exact(Encoding::O200kBase),
            TokenizerArg::Cl100kBase => TokenizerKind::Exact(Encoding::Cl100kBase),
            TokenizerArg::Chunk => TokenizerKind::Chunk,
        };
        let meta = args
            .meta
            .iter()
            .map(|pair| parse_meta(pair))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let fixed_clock = args
            .fixed_clock
            .as_deref()
            .map(|text| {
                DateTime::parse_from_rfc3339(text)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|err| usage(format!("--fixed-clock {text}: {err}")))
            })
            .transpose()?;
        let named_inputs = !args.files.is_empty();
        let sources = if named_inputs {
            args.files.iter().map(|f| Source::from_arg(f)).collect()
        } else {
            vec![Source::Stdin]
        };
        let run = Run {
            sources,
            named_inputs,
            model,
            priced,
            tokenizer,
            reporting: Reporting {
                summary: args.summary,
                summary_file: args.summary_file.clone(),
            },
            session_id: args.session_id.clone(),
            agent_id: args.agent_id.clone(),
            meta,
            fixed_clock,
        };
        let provider = |format| StreamInput::Provider(Some(format));
        let input = match args.input_kind {
            InputArg::Stream => StreamInput::Text,
            InputArg::Auto => StreamInput::Provider(None),
            InputArg::OpenaiChat => provider(providers::Format::OpenAiChat),
            InputArg::OpenaiResponses => provider(providers::Format::OpenAiResponses),
            InputArg::Anthropic => provider(providers::Format::Anthropic),
            InputArg::Gemini => provider(providers::Format::Gemini),
            InputArg::GeminiArray => provider(providers::Format::GeminiArray),
            InputArg::Ollama => provider(providers::Format::Ollama),
            InputArg::Transcript | InputArg::ClaudeCode | InputArg::Codex => StreamInput::Text,
        };
        let log_format = match args.input_kind {
            InputArg::Transcript => Some(None),
            InputArg::ClaudeCode => Some(Some(LogFormat::Agent(Agent::ClaudeCode))),
            InputArg::Codex => Some(Some(LogFormat::Agent(Agent::Codex))),
            _ => None,
        };
        if let Some(format) = log_format {
            let kind = args.input_kind.to_possible_value();
            let kind = kind.as_ref().map_or("transcript", |v| v.get_name());
            if let Some(flag) = given(matches, STREAM_ONLY) {
                return Err(usage(format!(
                    "{flag} applies to streams, not to --input {kind} \
                     (records are lines, priced as they say; only summaries and reports are written)"
                )));
            }
            let format_given = matches.value_source("format") == Some(ValueSource::CommandLine);
            return TranscriptConfig::new(run, &args, format, table, format_given)
                .map(|config| Mode::Transcripts(Box::new(config)));
        }
        if let Some(flag) = given(matches, TRANSCRIPT_ONLY) {
            return Err(usage(format!(
                "{flag} needs --input transcript, claude-code or codex"
            )));
        }
        StreamConfig::new(run, &args, input, table).map(|config| Mode::Streams(Box::new(config)))
    }
}

/// The first flag of `group` given on the command line, as `--name`.
fn given(matches: &ArgMatches, group: &str) -> Option<String> {
    // The group's members that are present, in the order given.
    let id = matches
        .get_many::<clap::Id>(group)?
        .find(|id| matches.value_source(id.as_str()) == Some(ValueSource::CommandLine))?;
    // Only for the error: the flag's name as it is written.
    let command = Args::command();
    let arg = command.get_arguments().find(|arg| arg.get_id() == id)?;
    Some(match arg.get_long() {
        Some(long) => format!("--{long}"),
        None => id.to_string(),
    })
}

impl StreamConfig {
    fn new(
        run: Run,
        args: &Args,
        input: StreamInput,
        table: PricingTable,
    ) -> anyhow::Result<StreamConfig> {
        if let StreamInput::Provider(format) = input {
            let name = format.map_or("auto", providers::Format::name);
            let text_only = [
                (args.arrival, "--arrival"),
                (args.null, "--null"),
                (args.delimiter.is_some(), "--delimiter"),
                (args.strip_delimiter, "--strip-delimiter"),
            ];
            if let Some((_, flag)) = text_only.iter().find(|(given, _)| *given) {
                return Err(usage(format!(
                    "{flag} applies to text streams, not to --input {name} \
                     (a provider stream is cut at its events)"
                )));
            }
        } else if args.side == SideArg::Input
            && (args.prompt_tokens.is_some() || args.prompt.is_some())
        {
            let flag = if args.prompt.is_some() {
                "--prompt"
            } else {
                "--prompt-tokens"
            };
            return Err(usage(format!(
                "{flag} applies to output: with --side input the stream is the prompt"
            )));
        }
        let framing = if let StreamInput::Provider(Some(format)) = input {
            Provider::framing(format)
        } else if args.arrival {
            Framing::Arrival
        } else if args.null {
            Framing::Delimiter(vec![0])
        } else if let Some(text) = &args.delimiter {
            Framing::Delimiter(
                parse_delimiter(text).map_err(|err| usage(format!("--delimiter: {err}")))?,
            )
        } else {
            Framing::Delimiter(vec![b'\n'])
        };
        if args.strip_delimiter && framing == Framing::Arrival {
            return Err(usage("--strip-delimiter needs a delimiter, not --arrival"));
        }
        let flush = match args.flush {
            FlushArg::Chunk => FlushPolicy::Chunk,
            FlushArg::Block => FlushPolicy::Block,
            FlushArg::Auto if std::io::stdout().is_terminal() => FlushPolicy::Chunk,
            FlushArg::Auto => FlushPolicy::Block,
        };
        let max_cost = args
            .max_cost
            .as_deref()
            .map(|text| Money::parse(text).map_err(|err| usage(format!("--max-cost: {err}"))))
            .transpose()?;
        let prompt = match (&args.prompt, args.prompt_tokens) {
            (Some(path), _) => {
                let text = std::fs::read(path).map_err(|err| {
                    usage(format!("--prompt: cannot read {}: {err}", path.display()))
                })?;
                let tokenizer = run.tokenizer.build();
                Prompt::Text {
                    tokens: tokenizer.counter().push(&text),
                    exact: tokenizer.is_exact(),
                }
            }
            (None, Some(tokens)) => Prompt::Tokens(tokens),
            (None, None) => Prompt::Unknown,
        };
        let card = stream_card(&run, args, &prompt, input)?;
        Ok(StreamConfig {
            card,
            model_given: args.model.is_some(),
            table,
            unknown_zero: args.unknown_model == UnknownModelArg::Zero,
            input,
            prompt,
            run,
            count: match args.count {
                CountArg::Stream => CountMode::Stream,
                CountArg::PerChunk => CountMode::PerChunk,
            },
            side: match args.side {
                SideArg::Output => Side::Output,
                SideArg::Input => Side::Input,
            },
            format: match args.format {
                FormatArg::Raw => Format::Raw,
                FormatArg::Json => Format::Json,
                FormatArg::Sse => Format::Sse,
                FormatArg::Text => Format::Text,
            },
            framing,
            strip_delimiter: args.strip_delimiter,
            max_chunk: args.max_chunk.unwrap_or(DEFAULT_MAX_CHUNK),
            flush,
            budget: Budget {
                max_tokens: args.max_tokens,
                max_cost,
            },
            progress: (args.progress && std::io::stderr().is_terminal())
                .then(|| Erase::chosen(args.color)),
        })
    }
}

impl TranscriptConfig {
    fn new(
        mut run: Run,
        args: &Args,
        format: Option<LogFormat>,
        table: PricingTable,
        format_given: bool,
    ) -> anyhow::Result<TranscriptConfig> {
        let report_json = match (format_given, args.format) {
            (false, _) => false,
            (true, FormatArg::Json) if !args.by.is_empty() => true,
            (true, _) => {
                return Err(usage(
                    "--format applies to streams; transcripts take only -f json, for a --by report",
                ));
            }
        };
        if !args.by.is_empty() && run.reporting.summary_file.as_deref() == Some(Path::new("-")) {
            return Err(usage(
                "--summary-file - and --by both write to standard output: give the summaries a file",
            ));
        }
        if args.utc
            && !args
                .by
                .iter()
                .any(|by| matches!(by, ByArg::Day | ByArg::Month))
        {
            return Err(usage("--utc needs --by day or --by month"));
        }
        if !run.named_inputs
            && let Some(LogFormat::Agent(agent)) = format
        {
            run.sources = super::walk::default_places(agent)?;
            run.named_inputs = true;
        }
        let files = run
            .sources
            .iter()
            .map(super::walk::files_of)
            .collect::<anyhow::Result<Vec<_>>>()?;
        if args.cache && run.priced && run.model.cache_read.is_none() {
            return Err(usage(format!(
                "--cache: model \"{}\" has no cache_read price in the pricing table",
                run.model.name
            )));
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let date = args.date.as_deref().map(parse_date).transpose()?;
        let (run_model, run_priced) = (run.model.clone(), run.priced);
        let mut by = args.by.clone();
        let mut seen = Vec::new();
        by.retain(|key| {
            let first = !seen.contains(key);
            seen.push(*key);
            first
        });
        Ok(TranscriptConfig {
            run,
            files,
            format,
            table,
            unknown_zero: args.unknown_model == UnknownModelArg::Zero,
            by,
            utc: args.utc,
            report_json,
            mode: args.service_mode.clone(),
            date,
            cards: run_priced.then(|| transcript::Cards {
                model: run_model.clone(),
                mode: args.service_mode.clone(),
                date,
            }),
            options: transcript::Options {
                replay: args.replay,
                cache: args.cache,
            },
            fail_on_bad_line: args.on_bad_line == Some(BadLineArg::Fail),
            jobs: args.jobs.map_or(cores, |n| n as usize),
            max_line: args.max_chunk.unwrap_or(DEFAULT_MAX_LINE),
        })
    }
}
