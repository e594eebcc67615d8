//! Metering text streams: one session per input, the budget across inputs,
//! and the total.
//!
//! Each input is a session with its own clock, meter and summary; with
//! several inputs a total follows. Summaries go to stderr only after stdout
//! was flushed, so a terminal shows both in order.

use std::fs::File;
use std::io;
use std::os::fd::AsFd;

use anyhow::Context;

use tokmeter::clock::Clock;
use tokmeter::decode::{Provider, Text, Verdict};
use tokmeter::format::{self, Format};
use tokmeter::input::mirror::Mirror;
use tokmeter::meter::{CountMode, Totals};
use tokmeter::output::Output;
use tokmeter::pipeline::{self, Budget, Ending, Settings, Stop};
use tokmeter::summary::{SessionIds, Summary, millis, rate};
use tokmeter::tokenize::Tokenizer;

use super::config::{StreamConfig, StreamInput};
use super::exit::Exit;
use super::progress::Progress;
use super::provider::{self, StreamModel};
use super::report::{self, say, warn};

/// Meters every input of `config`.
pub fn meter_all(config: &StreamConfig) -> anyhow::Result<Exit> {
    let run = &config.run;
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
    let tokenizer = super::prepare(run)?;
    super::cards::warn_prompt_unknown(config);
    let ids = SessionIds::new(run.session_id.clone(), run.sources.len());
    let overall = run.clock(true);
    let mut total = empty_total(config, tokenizer.as_ref(), &ids);
    // The run's first chunk and first error: those of the first session
    // that had one.
    let mut first_error = None;
    let mut first_chunk = None;
    let mut spent = Totals::default();
    let mut status = Exit::Success;
    // False once a summary could not be written to stderr.
    let mut billed = true;
    for (number, source) in run.sources.iter().enumerate() {
        let opened = match source.open() {
            // As cat does: reading our own output would never end.
            Ok(reader)
                if output_file.is_some() && regular_file_id(reader.get_ref()) == output_file =>
            {
                let _ = say(format_args!(
                    "{}: input file is output file",
                    source.display_name()
                ));
                status = Exit::Failure;
                continue;
            }
            Ok(reader) => Some(reader),
            // A signal while the open waited (a FIFO with no writer): a
            // session that read nothing, billed as interrupted.
            Err(err) if tokmeter::signal::stopped_by_signal(&err) => None,
            Err(err) => {
                let _ = say(format_args!("cannot open {}: {err}", source.display_name()));
                status = Exit::Failure;
                continue;
            }
        };
        let input = run.named_inputs.then(|| source.display_name());
        // A provider stream's model is known only once it names it.
        let model_known = config.model_given || config.input == StreamInput::Text;
        let mut metadata = Vec::new();
        if model_known {
            metadata.push(("model".to_string(), json_string(&run.model.name)));
        }
        if let Some(input) = &input {
            metadata.push(("input".to_string(), json_string(input)));
        }
        metadata.extend(run.meta.iter().map(|(k, v)| (k.clone(), json_string(v))));
        let mut formatter = format::formatter(config.format, &metadata);
        // The first session counts start-up; the others start when opened.
        let mut clock = run.clock(number == 0);
        let progress = config.progress.map(Progress::start);
        output.share_screen(
            progress
                .as_ref()
                .and_then(Progress::screenshare)
                .map(|screen| Box::new(screen) as _),
        );
        let watch = progress
            .as_ref()
            .map(|progress| move |totals: &Totals| progress.update(totals));
        // Raw text out as it came in, from a pipe to a pipe: the kernel
        // moves the bytes and a copy is read for counting.
        let mirrorable = config.format == Format::Raw
            && config.input == StreamInput::Text
            && !config.strip_delimiter
            && config.budget == Budget::default()
            && !output.shares_screen();
        let reader = match opened {
            None => Reader::Copied(Box::new(io::empty())),
            Some(input) if mirrorable => match Mirror::new(input, fd) {
                Ok(mirror) => Reader::Mirrored(mirror),
                Err(input) => Reader::Copied(Box::new(input)),
            },
            Some(input) => Reader::Copied(Box::new(input)),
        };
        let stream_model = StreamModel::new(config);
        let price_of = |name: &str| stream_model.price(name);
        let mut decoder = match config.input {
            StreamInput::Text => None,
            StreamInput::Provider(format) => {
                // A provider's first text comes after its first bytes, and
                // each delta is counted as it passes: the vocabulary loads
                // while the stream has not begun.
                tokenizer.prepare_in_background();
                Some(Provider::new(format))
            }
        };
        let settings = Settings {
            framing: config.framing.clone(),
            strip_delimiter: config.strip_delimiter,
            max_chunk: config.max_chunk,
            tokenizer: tokenizer.as_ref(),
            count: config.count,
            price: config.card.price,
            tiers: &config.card.tiers,
            budget: config.budget,
            spent_before: spent,
            // A mirrored input stops at a signal itself, once all it
            // passed on is counted.
            interrupt: (!matches!(reader, Reader::Mirrored(_))).then(tokmeter::signal::flag),
            watch: watch.as_ref().map(|watch| watch as &dyn Fn(&Totals)),
            stop_on_bad_unit: false,
            // A provider stream's own model, unless -m named one.
            on_model: (decoder.is_some() && !config.model_given).then_some(&price_of as _),
        };
        let ending = match reader {
            Reader::Mirrored(mut mirror) => {
                run_mirrored(&mut mirror, formatter.as_mut(), &mut clock, &settings)
            }
            Reader::Copied(reader) => match &mut decoder {
                None => pipeline::run(
                    reader,
                    &mut output,
                    formatter.as_mut(),
                    &mut Text,
                    &mut clock,
                    &settings,
                ),
                Some(decoder) => pipeline::run(
                    reader,
                    &mut output,
                    formatter.as_mut(),
                    decoder,
                    &mut clock,
                    &settings,
                ),
            },
        };
        output.share_screen(None);
        if let Some(progress) = progress {
            progress.finish();
        }
        spent = spent.plus(&ending.totals);
        let mut summary = session_summary(config, tokenizer.as_ref(), input, &clock, &ending);
        if let Some(decoder) = &decoder {
            if decoder.detected()
                && decoder.verdict() == Some(Verdict::Text)
                && ending.totals.bytes > 0
            {
                let _ = warn(format_args!(
                    "warning: {}: no provider stream format in its first bytes: metered as text",
                    source.display_name()
                ));
            }
            provider::summarize(config, decoder, &stream_model, &ending, &mut summary);
        }
        summary.session_id = ids.of(number);
        summary.part_of = ids.part_of();
        if config.format == Format::Sse && !matches!(ending.stop, Stop::OutputClosed) {
            formatter.finish(output.buffer(), &summary.to_json());
            // A reader gone by now only misses the summary event.
            let _ = output.flush();
        }
        billed &= report::report(&run.reporting, &summary)?;
        total.add(&summary).map_err(anyhow::Error::msg)?;
        if first_error.is_none() {
            first_error.clone_from(&summary.error);
        }
        if first_chunk.is_none() {
            first_chunk = summary.time_to_first_chunk_ms;
        }
        match &ending.stop {
            Stop::EndOfInput => {}
            Stop::OutputClosed => break,
            Stop::ReadFailed(err) => {
                let _ = say(format_args!("reading {}: {err}", source.display_name()));
                status = Exit::Failure;
            }
            Stop::BadLine(..) | Stop::ProviderError(_) => status = Exit::Failure,
            Stop::UnknownModel(_) => status = Exit::Usage,
            Stop::WriteFailed(err) => {
                let _ = say(format_args!("writing standard output: {err}"));
                return Ok(Exit::Failure.billed(billed));
            }
            Stop::BudgetExceeded(_) => {
                status = Exit::Budget;
                break;
            }
            Stop::Interrupted(signal) => {
                status = Exit::Signal(*signal);
                break;
            }
        }
    }
    if run.sources.len() > 1 {
        total.time_by(&overall);
        total.error = first_error;
        total.time_to_first_chunk_ms = first_chunk;
        billed &= report::print_summary(run.reporting.summary, &total);
    }
    Ok(status.billed(billed))
}

/// How a session's bytes reach standard output.
enum Reader {
    /// Read into memory, then written by the pipeline.
    Copied(Box<dyn io::Read>),
    /// Moved from pipe to pipe by the kernel, and read only to be counted.
    Mirrored(Mirror<File>),
}

/// Meters an input whose bytes reach the output by themselves: every chunk
/// read was delivered.
fn run_mirrored(
    mirror: &mut Mirror<File>,
    formatter: &mut dyn format::Formatter,
    clock: &mut Clock,
    settings: &Settings<'_>,
) -> Ending {
    let mut delivered = Output::new(io::sink(), tokmeter::output::FlushPolicy::Block);
    let mut ending = pipeline::run(
        &mut *mirror,
        &mut delivered,
        formatter,
        &mut Text,
        clock,
        settings,
    );
    // What stopped the output stops the session, as a failed write does.
    if matches!(ending.stop, Stop::EndOfInput)
        && let Some(err) = mirror.cut()
    {
        ending.stop = pipeline::write_stop(err);
    }
    ending
}

/// Device and inode of `file` if it is a non-empty regular file.
fn regular_file_id(file: &File) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let metadata = file.metadata().ok()?;
    (metadata.is_file() && metadata.len() > 0).then(|| (metadata.dev(), metadata.ino()))
}

/// The card a text stream paid (by `--date`, `--mode`, the prompt given,
/// or with `--side input` its own `tokens`), unless the base prices.
fn stream_card(config: &StreamConfig, tokens: u64) -> Option<tokmeter::summary::CardCount> {
    if !config.run.priced {
        return None;
    }
    let model = &config.run.model;
    let prompt = match (config.side, &config.card.tier) {
        (tokmeter::pricing::Side::Input, _) => tokens,
        (_, Some(size)) => size.saturating_add(1),
        (_, None) => 0,
    };
    let chosen = model.choose(&tokmeter::pricing::Request {
        time: config.card.date,
        mode: config.card.mode.as_deref(),
        prompt,
    });
    tokmeter::summary::CardCount::of_request(model, &chosen)
}

/// The summary of one finished session (its id is set by the caller).
fn session_summary(
    config: &StreamConfig,
    tokenizer: &dyn Tokenizer,
    input: Option<String>,
    clock: &Clock,
    ending: &Ending,
) -> Summary {
    let run = &config.run;
    let elapsed = clock.elapsed();
    let totals = &ending.totals;
    Summary {
        session_id: String::new(),
        model: run.model.name.clone(),
        agent_id: run.agent_id.clone(),
        input,
        part_of: None,
        sessions: None,
        start_time: clock.start_time(),
        end_time: clock.at(elapsed),
        duration_ms: millis(elapsed),
        // A chunk read but never delivered (budget, closed output) has no time.
        time_to_first_chunk_ms: ending.first_chunk.filter(|_| totals.chunks > 0).map(millis),
        chunk_count: totals.chunks,
        bytes: totals.bytes,
        total_tokens: totals.tokens,
        side: config.side.name().to_string(),
        total_cost: totals.cost,
        currency: "USD".to_string(),
        priced: run.priced,
        tokens_per_second: rate(totals.tokens, elapsed.as_secs_f64()),
        tokens_per_second_after_first_chunk: ending
            .first_chunk
            .filter(|_| totals.chunks > 0)
            .and_then(|first| rate(totals.tokens, elapsed.saturating_sub(first).as_secs_f64())),
        tokenizer: tokenizer.name().to_string(),
        exact: tokenizer.is_exact(),
        count: match config.count {
            CountMode::Stream => "stream",
            CountMode::PerChunk => "per-chunk",
        }
        .to_string(),
        invalid_utf8_chunks: totals.invalid_utf8_chunks,
        split_chunks: totals.split_chunks,
        error: ending.stop.describe(),
        metadata: run.metadata(),
        transcript: None,
        agent: None,
        card: stream_card(config, totals.tokens),
        provider: None,
    }
}

/// The total of no session yet: the sum the sessions are added to.
fn empty_total(config: &StreamConfig, tokenizer: &dyn Tokenizer, ids: &SessionIds) -> Summary {
    let clock = config.run.clock(false);
    let ending = Ending {
        totals: Totals::default(),
        first_chunk: None,
        stop: Stop::EndOfInput,
    };
    session_summary(config, tokenizer, None, &clock, &ending).empty_sum(ids.total().to_string())
}

fn json_string(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len() + 2);
    format::write_json_string(&mut out, text.as_bytes(), true);
    String::from_utf8(out).unwrap_or_default()
}
