//! Running a call: the sessions of all inputs, their summaries and the total.
//!
//! Each input is a session with its own clock, meter and summary; with
//! several inputs a total follows. Summaries go to stderr only after stdout
//! was flushed, so a terminal shows both in order.

use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::SummaryArg;
use crate::clock::{Clock, format_rfc3339};
use crate::config::{Config, Mode};
use crate::error::{EXIT_BUDGET, EXIT_FAILURE, EXIT_OK};
use crate::format::{self, Format};
use crate::meter::{CountMode, Totals};
use crate::output::Output;
use crate::pricing::PricingTable;
use crate::progress::Progress;
use crate::session::{self, Ending, Settings, Stop};
use crate::summary::Summary;

/// Runs a validated call and returns its exit code. Errors returned are those
/// that stop everything (they print as one line in `main`).
pub fn run(mode: Mode) -> anyhow::Result<ExitCode> {
    match mode {
        Mode::ListModels(table) => list_models(&table),
        Mode::Meter(config) => match config.transcript {
            Some(settings) => crate::batch::price_all(&config, &settings),
            None => meter_all(&config),
        },
        Mode::Merge(args) => crate::merge::run(&args),
    }
}

/// Meters every input of `config`.
fn meter_all(config: &Config) -> anyhow::Result<ExitCode> {
    // Our own handle on fd 1, so writes go straight out, unbuffered by std.
    let stdout = File::from(
        io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .context("cannot open standard output")?,
    );
    let mut output = Output::new(stdout, config.flush);
    let tokenizer = prepare(config);
    let base_id = config.session_id.clone().unwrap_or_else(new_session_id);
    let several = config.sources.len() > 1;
    let overall = start_clock(config);
    let mut summaries: Vec<Summary> = Vec::new();
    let mut spent = Totals::default();
    let mut status = EXIT_OK;
    for (number, source) in config.sources.iter().enumerate() {
        let reader = match source.open() {
            Ok(reader) => reader,
            Err(err) => {
                eprintln!("tokmeter: cannot open {}: {err}", source.display_name());
                status = EXIT_FAILURE;
                continue;
            }
        };
        let session_id = if several {
            format!("{base_id}-{}", number + 1)
        } else {
            base_id.clone()
        };
        let input = config.named_inputs.then(|| source.display_name());
        let mut metadata = vec![("model".to_string(), json_string(&config.model.name))];
        if let Some(input) = &input {
            metadata.push(("input".to_string(), json_string(input)));
        }
        metadata.extend(config.meta.iter().map(|(k, v)| (k.clone(), json_string(v))));
        let mut formatter = format::formatter(config.format, &metadata);
        let mut clock = start_clock(config);
        let progress = config.progress.then(Progress::start);
        let settings = Settings {
            framing: config.framing.clone(),
            strip_delimiter: config.strip_delimiter,
            max_chunk: config.max_chunk,
            tokenizer: tokenizer.as_ref(),
            count: config.count,
            price: config.model.price(config.side),
            budget: config.budget,
            spent_before: spent,
            interrupt: Some(crate::signal::flag()),
            progress: progress.as_ref(),
        };
        let ending = session::meter_stream(
            reader,
            &mut output,
            formatter.as_mut(),
            &mut clock,
            &settings,
        );
        if let Some(progress) = progress {
            progress.finish();
        }
        spent = spent.plus(&ending.totals);
        let mut summary = session_summary(
            config,
            tokenizer.name(),
            tokenizer.is_exact(),
            session_id,
            input,
            &clock,
            &ending,
        );
        summary.part_of = several.then(|| base_id.clone());
        if config.format == Format::Sse && !matches!(ending.stop, Stop::OutputClosed) {
            formatter.finish(output.buffer(), &summary.to_json());
            // A reader gone by now only misses the summary event.
            let _ = output.flush();
        }
        report(config, &summary)?;
        match &ending.stop {
            Stop::EndOfInput => {}
            Stop::OutputClosed => {
                summaries.push(summary);
                break;
            }
            Stop::ReadFailed(err) => {
                eprintln!("tokmeter: reading {}: {err}", source.display_name());
                status = EXIT_FAILURE;
            }
            Stop::BadLine(..) => status = EXIT_FAILURE,
            Stop::WriteFailed(err) => {
                eprintln!("tokmeter: writing standard output: {err}");
                return Ok(ExitCode::from(EXIT_FAILURE));
            }
            Stop::BudgetExceeded(_) => {
                status = EXIT_BUDGET;
                summaries.push(summary);
                break;
            }
            Stop::Interrupted(signal) => {
                status = 128 + *signal as u8;
                summaries.push(summary);
                break;
            }
        }
        summaries.push(summary);
    }
    if several {
        let total = total_summary(&base_id, &overall, &spent, &summaries, config);
        print_summary(config.summary, &total);
    }
    Ok(ExitCode::from(status))
}

/// What every run does before reading: builds the tokenizer and loads an
/// exact vocabulary (so no session's clock counts it), warns about an
/// unpriced model, and installs the signal handlers.
pub(crate) fn prepare(config: &Config) -> Box<dyn crate::tokenize::Tokenizer> {
    let tokenizer = config.tokenizer.build();
    tokenizer.count(b"");
    if !config.priced {
        eprintln!(
            "tokmeter: warning: model {} is not in the pricing table: counting at no cost",
            crate::plain::quoted(&config.model.name)
        );
    }
    crate::signal::install();
    tokenizer
}

pub(crate) fn start_clock(config: &Config) -> Clock {
    config.fixed_clock.map_or_else(Clock::start, Clock::fixed)
}

/// The summary of one finished session.
fn session_summary(
    config: &Config,
    tokenizer: &str,
    exact: bool,
    session_id: String,
    input: Option<String>,
    clock: &Clock,
    ending: &Ending,
) -> Summary {
    let elapsed = clock.elapsed();
    let totals = &ending.totals;
    Summary {
        session_id,
        model: config.model.name.clone(),
        agent_id: config.agent_id.clone(),
        input,
        part_of: None,
        sessions: None,
        start_time: format_rfc3339(clock.start_time()),
        end_time: format_rfc3339(clock.at(elapsed)),
        duration_ms: millis(elapsed),
        time_to_first_chunk_ms: ending.first_chunk.map(millis),
        chunk_count: totals.chunks,
        bytes: totals.bytes,
        total_tokens: totals.tokens,
        side: config.side.name().to_string(),
        total_cost: totals.cost.to_string(),
        currency: "USD".to_string(),
        priced: config.priced,
        tokens_per_second: rate(totals.tokens, elapsed.as_secs_f64()),
        tokens_per_second_after_first_chunk: ending
            .first_chunk
            .and_then(|first| rate(totals.tokens, elapsed.saturating_sub(first).as_secs_f64())),
        tokenizer: tokenizer.to_string(),
        exact,
        count: match config.count {
            CountMode::Stream => "stream",
            CountMode::PerChunk => "per-chunk",
        }
        .to_string(),
        invalid_utf8_chunks: totals.invalid_utf8_chunks,
        split_chunks: totals.split_chunks,
        error: ending.stop.describe(),
        metadata: meta_map(config),
        transcript: None,
    }
}

/// The total of several sessions: `spent` is the exact sum of their
/// totals, kept by the loop for the budget; `parts` give the rest.
fn total_summary(
    id: &str,
    overall: &Clock,
    spent: &Totals,
    parts: &[Summary],
    config: &Config,
) -> Summary {
    let elapsed = overall.elapsed();
    let first = parts.first();
    Summary {
        session_id: id.to_string(),
        input: None,
        part_of: None,
        sessions: Some(parts.len() as u64),
        start_time: format_rfc3339(overall.start_time()),
        end_time: format_rfc3339(overall.at(elapsed)),
        duration_ms: millis(elapsed),
        time_to_first_chunk_ms: parts.iter().find_map(|p| p.time_to_first_chunk_ms),
        chunk_count: spent.chunks,
        bytes: spent.bytes,
        total_tokens: spent.tokens,
        total_cost: spent.cost.to_string(),
        tokens_per_second: rate(spent.tokens, elapsed.as_secs_f64()),
        tokens_per_second_after_first_chunk: None,
        invalid_utf8_chunks: spent.invalid_utf8_chunks,
        split_chunks: spent.split_chunks,
        error: parts.iter().find_map(|p| p.error.clone()),
        metadata: meta_map(config),
        ..first.cloned().unwrap_or_else(|| empty_summary(config))
    }
}

fn empty_summary(config: &Config) -> Summary {
    Summary {
        session_id: String::new(),
        model: config.model.name.clone(),
        agent_id: config.agent_id.clone(),
        input: None,
        part_of: None,
        sessions: None,
        start_time: String::new(),
        end_time: String::new(),
        duration_ms: 0.0,
        time_to_first_chunk_ms: None,
        chunk_count: 0,
        bytes: 0,
        total_tokens: 0,
        side: config.side.name().to_string(),
        total_cost: "0".to_string(),
        currency: "USD".to_string(),
        priced: config.priced,
        tokens_per_second: None,
        tokens_per_second_after_first_chunk: None,
        tokenizer: config.tokenizer.name().to_string(),
        exact: config.tokenizer.build().is_exact(),
        count: String::new(),
        invalid_utf8_chunks: 0,
        split_chunks: 0,
        error: None,
        metadata: serde_json::Map::new(),
        transcript: None,
    }
}

/// Prints the summary and appends it to the ledger.
pub(crate) fn report(config: &Config, summary: &Summary) -> anyhow::Result<()> {
    print_summary(config.summary, summary);
    if let Some(path) = &config.summary_file {
        append_line(path, &summary.to_json())
            .with_context(|| format!("cannot append the summary to {}", path.display()))?;
    }
    Ok(())
}

/// Writes the summary to stderr; best effort, as stderr may be gone too.
pub(crate) fn print_summary(kind: SummaryArg, summary: &Summary) {
    let line = match kind {
        SummaryArg::None => return,
        SummaryArg::Text => summary.to_text(),
        SummaryArg::Json => summary.to_json(),
    };
    let _ = writeln!(io::stderr().lock(), "{line}");
}

/// Appends `line` and a newline to `path` in one write under an exclusive
/// lock, so concurrent writers never interleave or tear lines.
/// `-` is standard output, written in one piece too.
fn append_line(path: &Path, line: &str) -> io::Result<()> {
    let mut bytes = Vec::with_capacity(line.len() + 1);
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    if path == Path::new("-") {
        // A reader of the summaries that went away is no failure.
        let mut stdout = io::stdout().lock();
        return match stdout.write_all(&bytes).and_then(|()| stdout.flush()) {
            Err(err) if crate::error::is_broken_pipe(&err) => Ok(()),
            written => written,
        };
    }
    let mut file = File::options().append(true).create(true).open(path)?;
    file.lock()?;
    let written = file.write_all(&bytes);
    let unlocked = file.unlock();
    written.and(unlocked)
}

/// Prints the pricing table to stdout.
fn list_models(table: &PricingTable) -> anyhow::Result<ExitCode> {
    let dash = || "-".to_string();
    let mut text = format!("# {} (USD per 1M tokens)\n", table.origin);
    text.push_str(&format!(
        "{:<32} {:>10} {:>10} {:>10} {:>11}  {:<11}  {}\n",
        "MODEL", "INPUT", "OUTPUT", "CACHE_READ", "CACHE_WRITE", "TOKENIZER", "ALIASES"
    ));
    for model in &table.models {
        text.push_str(&format!(
            "{:<32} {:>10} {:>10} {:>10} {:>11}  {:<11}  {}\n",
            model.name,
            model.input.to_string(),
            model.output.to_string(),
            model.cache_read.map_or_else(dash, |p| p.to_string()),
            model.cache_write.map_or_else(dash, |p| p.to_string()),
            model.tokenizer.name(),
            model.aliases.join(", ")
        ));
    }
    match io::stdout().lock().write_all(text.as_bytes()) {
        Err(err) if !crate::error::is_broken_pipe(&err) => {
            Err(anyhow::Error::new(err).context("writing standard output"))
        }
        _ => Ok(ExitCode::from(EXIT_OK)),
    }
}

/// A new random UUID (version 4), from the standard library's random hasher
/// keys mixed with the time and process id.
pub fn new_session_id() -> String {
    let random = |salt: u64| {
        let mut hasher = std::hash::RandomState::new().build_hasher();
        hasher.write_u64(salt);
        hasher.write_u32(std::process::id());
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        hasher.finish()
    };
    let bits = (u128::from(random(1)) << 64) | u128::from(random(2));
    let bits = (bits & !(0xF << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

pub(crate) fn millis(duration: std::time::Duration) -> f64 {
    (duration.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

pub(crate) fn rate(tokens: u64, seconds: f64) -> Option<f64> {
    (seconds > 0.0).then(|| (tokens as f64 / seconds * 10.0).round() / 10.0)
}

pub(crate) fn meta_map(config: &Config) -> serde_json::Map<String, serde_json::Value> {
    config
        .meta
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect()
}

fn json_string(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len() + 2);
    format::write_json_string(&mut out, text.as_bytes(), true);
    String::from_utf8(out).unwrap_or_default()
}
