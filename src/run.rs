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
use crate::error::{EXIT_BUDGET, EXIT_FAILURE, EXIT_OK, say};
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
    let output_file = regular_file_id(&stdout);
    let fd = std::os::fd::AsRawFd::as_raw_fd(&stdout);
    let mut output = Output::new(stdout, config.flush).descriptor(fd);
    let tokenizer = prepare(config)?;
    let base_id = config.session_id.clone().unwrap_or_else(new_session_id);
    let several = config.sources.len() > 1;
    let overall = start_clock(config, true);
    let mut summaries: Vec<Summary> = Vec::new();
    let mut spent = Totals::default();
    let mut status = EXIT_OK;
    // False once a summary could not be written to stderr.
    let mut billed = true;
    for (number, source) in config.sources.iter().enumerate() {
        let reader: Box<dyn io::Read> = match source.open() {
            // As cat does: reading our own output would never end.
            Ok(reader)
                if output_file.is_some() && regular_file_id(reader.get_ref()) == output_file =>
            {
                let _ = say(format_args!(
                    "{}: input file is output file",
                    source.display_name()
                ));
                status = EXIT_FAILURE;
                continue;
            }
            Ok(reader) => Box::new(reader),
            // A signal while the open waited (a FIFO with no writer): a
            // session that read nothing, billed as interrupted.
            Err(err) if crate::signal::stopped_by_signal(&err) => Box::new(io::empty()),
            Err(err) => {
                let _ = say(format_args!("cannot open {}: {err}", source.display_name()));
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
        // The first session counts start-up; the others start when opened.
        let mut clock = start_clock(config, number == 0);
        let progress = config.progress.then(Progress::start);
        output.share_screen(progress.as_ref().and_then(Progress::screenshare));
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
        output.share_screen(None);
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
        billed &= report(config, &summary)?;
        match &ending.stop {
            Stop::EndOfInput => {}
            Stop::OutputClosed => {
                summaries.push(summary);
                break;
            }
            Stop::ReadFailed(err) => {
                let _ = say(format_args!("reading {}: {err}", source.display_name()));
                status = EXIT_FAILURE;
            }
            Stop::BadLine(..) => status = EXIT_FAILURE,
            Stop::WriteFailed(err) => {
                let _ = say(format_args!("writing standard output: {err}"));
                return Ok(ExitCode::from(bill_status(EXIT_FAILURE, billed)));
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
        billed &= print_summary(config.summary, &total);
    }
    Ok(ExitCode::from(bill_status(status, billed)))
}

/// Device and inode of `file` if it is a non-empty regular file.
fn regular_file_id(file: &File) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let metadata = file.metadata().ok()?;
    (metadata.is_file() && metadata.len() > 0).then(|| (metadata.dev(), metadata.ino()))
}

/// What every run does before reading: builds the tokenizer (an exact
/// vocabulary loads only once there is text to count), warns about an
/// unpriced model, and installs the signal handlers. Errors when the
/// `--summary-file` cannot be opened for appending.
pub(crate) fn prepare(config: &Config) -> anyhow::Result<Box<dyn crate::tokenize::Tokenizer>> {
    // A ledger that cannot be written fails the run before any input is
    // read, not after the work is done.
    if let Some(path) = config
        .summary_file
        .as_deref()
        .filter(|p| *p != Path::new("-"))
    {
        open_ledger(path)
            .with_context(|| format!("cannot open the summary file {}", path.display()))?;
    }
    let tokenizer = config.tokenizer.build();
    if !config.priced {
        let _ = say(format_args!(
            "warning: model {} is not in the pricing table: counting at no cost",
            crate::plain::quoted(&config.model.name)
        ));
    }
    crate::signal::install();
    Ok(tokenizer)
}

/// A session's clock: fixed if the configuration says so, else started
/// now or, for the run's first session, when the program started.
pub(crate) fn start_clock(config: &Config, from_program_start: bool) -> Clock {
    match config.fixed_clock {
        Some(at) => Clock::fixed(at),
        None if from_program_start => Clock::since_program_start(),
        None => Clock::start(),
    }
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
        // A chunk read but never delivered (budget, closed output) has no time.
        time_to_first_chunk_ms: ending.first_chunk.filter(|_| totals.chunks > 0).map(millis),
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
            .filter(|_| totals.chunks > 0)
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

/// Prints the summary and appends it to the ledger. Returns whether the
/// summary reached stderr (see [`print_summary`]); a ledger that cannot be
/// appended to is an error.
pub(crate) fn report(config: &Config, summary: &Summary) -> anyhow::Result<bool> {
    let printed = print_summary(config.summary, summary);
    if let Some(path) = &config.summary_file {
        append_line(path, &summary.to_json())
            .with_context(|| format!("cannot append the summary to {}", path.display()))?;
    }
    Ok(printed)
}

/// Writes the summary to stderr and returns whether it got there (true
/// also with `-s none`). A bill that could not be written is no crash, but
/// the run must not end as a success: see [`bill_status`].
pub(crate) fn print_summary(kind: SummaryArg, summary: &Summary) -> bool {
    let mut line = match kind {
        SummaryArg::None => return true,
        SummaryArg::Text => summary.to_text(),
        SummaryArg::Json => summary.to_json(),
    };
    line.push('\n');
    crate::error::write_stderr(line.as_bytes()).is_ok()
}

/// The exit status of a run that would end with `status`: a run whose
/// bill was lost (stderr closed or full) fails, unless it fails already.
pub(crate) fn bill_status(status: u8, billed: bool) -> u8 {
    if billed || status != EXIT_OK {
        status
    } else {
        EXIT_FAILURE
    }
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
    let mut file = open_ledger(path)?;
    // The lock may wait for another process; a signal of ours ends the wait.
    while let Err(err) = file.lock() {
        if crate::signal::stopped_by_signal(&err) {
            return Err(crate::error::interrupted(crate::signal::received()));
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
pub(crate) fn open_ledger(path: &Path) -> io::Result<File> {
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
