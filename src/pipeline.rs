//! The filter loop of one session: read, split, decode, meter, format,
//! write. Every input format runs through it, as a [`Decoder`].
//!
//! Data flows one way. Everything pending is flushed before each read that
//! may block, so a slow producer's chunks appear at once; a chunk is written
//! whole or not at all, and the totals cover only chunks delivered whole.
//! Signals are polled here, between chunks and before each read.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use crate::clock::Clock;
use crate::decode::{Decoded, Decoder, FRAMING_PEEK};
use crate::format::{Formatter, Record};
use crate::input::{Framing, Splitter};
use crate::meter::{CountMode, Measure, Meter, Totals};
use crate::money::{Money, Price};
use crate::output::Output;
use crate::tokenize::Tokenizer;

mod backlog;
mod events;

use backlog::{BACKLOG_LIMIT, Backlog};
use events::{EventUnit, Lanes};

/// The output price of a model a stream names, or why it has none.
pub type PriceOfModel<'a> = &'a dyn Fn(&str) -> Result<Price, String>;

/// How one session reads and counts.
pub struct Settings<'a> {
    /// Where chunks end.
    pub framing: Framing,
    /// Leave delimiters out of content and counts.
    pub strip_delimiter: bool,
    /// Longest chunk in bytes.
    pub max_chunk: usize,
    /// The tokenizer.
    pub tokenizer: &'a dyn Tokenizer,
    /// Stream or per-chunk counting.
    pub count: CountMode,
    /// The price each token pays.
    pub price: Price,
    /// Prices that replace it once the session's tokens pass a size (the
    /// context tiers of a prompt metered with `--side input`), by size.
    pub tiers: &'a [(u64, Price)],
    /// Limits on tokens and cost.
    pub budget: Budget,
    /// What earlier sessions of the same run spent, counted against the
    /// budget.
    pub spent_before: Totals,
    /// Set to a signal number (non-zero) to stop between chunks.
    pub interrupt: Option<&'a AtomicI32>,
    /// Called with the totals after every chunk (a live status line).
    pub watch: Option<&'a dyn Fn(&Totals)>,
    /// End the session at a bad unit (else it is skipped).
    pub stop_on_bad_unit: bool,
    /// For a stream that names its model: the output price of the model
    /// it names, or why it cannot be priced. An unpriced model's text is
    /// counted at no cost, the stream still passes through, and the
    /// session ends as [`Stop::UnknownModel`].
    pub on_model: Option<PriceOfModel<'a>>,
}

impl Settings<'_> {
    /// Why adding `measure` to what this session (`totals`) and the
    /// sessions before it spent would break the budget, if it would.
    fn over_budget(&self, totals: &Totals, measure: Measure) -> Option<String> {
        let spent = self.spent_before.plus(totals);
        self.budget.exceeded(
            spent.tokens + measure.tokens,
            spent.cost.saturating_add(measure.cost),
        )
    }
}

impl<'a> Settings<'a> {
    /// Units cut by `framing`, kept whole, at most 1 MiB each, counted over
    /// the stream with `tokenizer` at `price`; no budget, no signal flag, no
    /// status line, bad units skipped, no model named by the stream priced.
    pub fn new(tokenizer: &'a dyn Tokenizer, framing: Framing, price: Price) -> Settings<'a> {
        Settings {
            framing,
            strip_delimiter: false,
            max_chunk: 1 << 20,
            tokenizer,
            count: CountMode::Stream,
            price,
            tiers: &[],
            budget: Budget::default(),
            spent_before: Totals::default(),
            interrupt: None,
            watch: None,
            stop_on_bad_unit: false,
            on_model: None,
        }
    }
}

/// Limits that stop the stream before the chunk that would cross them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Budget {
    /// At most this many tokens.
    pub max_tokens: Option<u64>,
    /// At most this much money.
    pub max_cost: Option<Money>,
}

impl Budget {
    /// Why `tokens` and `cost` in all would break the budget, if they would.
    fn exceeded(&self, tokens: u64, cost: Money) -> Option<String> {
        if let Some(limit) = self.max_tokens
            && tokens > limit
        {
            return Some(format!(
                "budget exceeded: --max-tokens {limit} would be crossed by {}",
                crate::summary::counted(tokens - limit, "token")
            ));
        }
        if let Some(limit) = self.max_cost
            && cost > limit
        {
            let over = Money::from_units(cost.units() - limit.units());
            return Some(format!(
                "budget exceeded: --max-cost {limit} would be crossed by {over} USD"
            ));
        }
        None
    }
}

/// Why a session ended.
#[derive(Debug)]
pub enum Stop {
    /// All input was read and written.
    EndOfInput,
    /// The reader of the output went away.
    OutputClosed,
    /// Reading the input failed.
    ReadFailed(io::Error),
    /// Writing the output failed (other than a closed pipe).
    WriteFailed(io::Error),
    /// The next chunk would have crossed the budget; it was not written.
    BudgetExceeded(String),
    /// A signal (its number) asked to stop.
    Interrupted(i32),
    /// A unit (its number) was bad, and the settings said to stop.
    BadLine(u64, String),
    /// The stream carried an error (the provider's words).
    ProviderError(String),
    /// The model the stream names cannot be priced.
    UnknownModel(String),
}

impl Stop {
    /// The summary's `error` text, `None` for a clean end.
    pub fn describe(&self) -> Option<String> {
        match self {
            Stop::EndOfInput => None,
            Stop::OutputClosed => Some("output closed".to_string()),
            Stop::ReadFailed(err) => Some(format!("read error: {err}")),
            Stop::WriteFailed(err) => Some(format!("write error: {err}")),
            Stop::BudgetExceeded(why) => Some(why.clone()),
            Stop::Interrupted(signal) => {
                Some(format!("interrupted by {}", crate::signal::name(*signal)))
            }
            Stop::BadLine(number, why) => Some(format!("bad line {number}: {why}")),
            Stop::ProviderError(message) => Some(format!("provider error: {message}")),
            Stop::UnknownModel(why) => Some(why.clone()),
        }
    }
}

/// How a session ended.
#[derive(Debug)]
pub struct Ending {
    /// Totals of the chunks delivered whole.
    pub totals: Totals,
    /// When the first chunk was complete, after the session's start.
    pub first_chunk: Option<Duration>,
    /// Why it ended.
    pub stop: Stop,
}

/// Meters `reader`, decoded by `decoder`, into `output` until end of input
/// or an error.
pub fn run<R: Read, W: Write, D: Decoder>(
    reader: R,
    output: &mut Output<W>,
    formatter: &mut dyn Formatter,
    decoder: &mut D,
    clock: &mut Clock,
    settings: &Settings<'_>,
) -> Ending {
    let mut splitter = Splitter::new(
        reader,
        settings.framing.clone(),
        settings.strip_delimiter,
        settings.max_chunk,
    );
    let mut meter =
        Meter::new(settings.tokenizer, settings.count, settings.price).with_tiers(settings.tiers);
    output.start_session();
    let needs_timestamp = formatter.needs_timestamp();
    let mut timestamp = Vec::with_capacity(32);
    let mut first_chunk = None;
    let interrupted = || {
        settings
            .interrupt
            .map_or(0, |flag| flag.load(Ordering::Relaxed))
    };
    // Raw output counted by bytes alone, with no budget: whole runs of lines
    // are metered and written at once. Per-chunk figures are not visible in
    // raw output and the totals are the same.
    let has_budget = settings.budget != Budget::default();
    // Raw output with no budget shows no counts before the end, so it
    // never waits for a vocabulary: chunks pass through while it loads and
    // are counted, in order, once it is ready.
    let deferrable = formatter.is_content_only() && decoder.is_pass_through() && !has_budget;
    let mut backlog = Backlog::default();
    // When the last read returned, after the session's start: the time the
    // bytes of a chunk it completed arrived.
    let mut arrived = Duration::ZERO;
    // So is raw output counted exactly, once the vocabulary is ready: a
    // run is pushed to the counter at the chunk ends where its count might
    // drop after, which gives the same running maximum.
    let by_runs = formatter.is_content_only()
        && decoder.is_pass_through()
        && (settings.tokenizer.counts_bytes_only() || settings.tokenizer.is_exact())
        && settings.count == CountMode::Stream
        && !has_budget;
    // A decoder that tells the framing from the first bytes waits for them.
    let mut framed = !decoder.chooses_framing();
    // The meters of a provider stream's text: one per choice and kind.
    let mut lanes = Lanes::default();
    let mut price = settings.price;
    // Why the model the stream named has no price.
    let mut unpriced = None;
    let stop = 'session: loop {
        if !framed {
            let first = splitter.buffered();
            let decided = splitter.at_eof() || first.len() >= FRAMING_PEEK;
            if let Some(framing) = decoder.choose_framing(first, decided) {
                splitter.set_framing(framing);
                framed = true;
            }
        }
        while framed
            && by_runs
            && let Some(block) = splitter.peek_block()
        {
            if !block.valid_utf8 {
                // Chunk by chunk, so invalid chunks are counted one by one.
                break;
            }
            if !settings.tokenizer.is_ready() {
                settings.tokenizer.prepare_in_background();
            }
            if !settings.tokenizer.is_ready() || !backlog.is_empty() {
                // Chunk by chunk, into the backlog while the vocabulary loads.
                break;
            }
            let signal = interrupted();
            if signal != 0 {
                break 'session Stop::Interrupted(signal);
            }
            if first_chunk.is_none() {
                first_chunk = Some(arrived);
            }
            let measure = meter.measure_run(block.bytes, block.delimiter);
            meter.record_run(measure, block.bytes.len(), block.chunks);
            if let Some(watch) = settings.watch {
                watch(meter.totals());
            }
            let written = output.write_run(block.bytes, meter.totals());
            let len = block.bytes.len();
            splitter.consume_block(len);
            if let Err(err) = written {
                break 'session write_stop(err);
            }
        }
        while framed && let Some(chunk) = splitter.next_chunk() {
            let signal = interrupted();
            if signal != 0 {
                break 'session Stop::Interrupted(signal);
            }
            let content = match decoder.decode(&chunk) {
                Ok(Decoded::Text(text)) => text,
                Ok(Decoded::Nothing) => continue,
                Ok(Decoded::Event(event)) => {
                    if let (Some(model), Some(on_model)) = (event.model, settings.on_model) {
                        match on_model(model) {
                            Ok(priced) => price = priced,
                            Err(why) => {
                                price = Price::ZERO;
                                unpriced = Some(why);
                            }
                        }
                    }
                    if first_chunk.is_none() && !event.pieces.is_empty() {
                        first_chunk = Some(arrived);
                        settings.tokenizer.prepare_in_background();
                    }
                    let unit = EventUnit {
                        event: &event,
                        price,
                        needs_timestamp,
                    };
                    if let Err(stop) = unit.meter(
                        &mut lanes,
                        &mut meter,
                        output,
                        formatter,
                        clock,
                        &mut timestamp,
                        settings,
                    ) {
                        break 'session stop;
                    }
                    if let Some(error) = event.error {
                        break 'session Stop::ProviderError(error.to_string());
                    }
                    continue;
                }
                Err(bad) if settings.stop_on_bad_unit => {
                    break 'session Stop::BadLine(bad.number, bad.why);
                }
                Err(_) => continue,
            };
            if first_chunk.is_none() {
                first_chunk = Some(arrived);
                settings.tokenizer.prepare_in_background();
            }
            let valid_utf8 = simdutf8::basic::from_utf8(content).is_ok();
            let measure = if deferrable && (!backlog.is_empty() || !settings.tokenizer.is_ready()) {
                backlog.push(content, meter.totals().chunks);
                Measure::ZERO
            } else {
                meter.measure(content)
            };
            if has_budget && let Some(why) = settings.over_budget(meter.totals(), measure) {
                break 'session Stop::BudgetExceeded(why);
            }
            if needs_timestamp {
                timestamp.clear();
                clock.write_now(&mut timestamp);
            }
            let record = Record {
                content,
                valid_utf8,
                tokens: measure.tokens,
                cost: measure.cost,
                timestamp: &timestamp,
                chunk_id: meter.totals().chunks,
                piece: None,
            };
            formatter.chunk(output.buffer(), &record);
            meter.record(measure, content.len(), valid_utf8, chunk.split);
            if let Some(watch) = settings.watch {
                watch(meter.totals());
            }
            if let Err(err) = output.end_chunk(meter.totals()) {
                break 'session write_stop(err);
            }
            if !backlog.is_empty()
                && (settings.tokenizer.is_ready() || backlog.text.len() >= BACKLOG_LIMIT)
                && let Err(err) = backlog.count(&mut meter, output)
            {
                break 'session write_stop(err);
            }
        }
        if splitter.at_eof() {
            break Stop::EndOfInput;
        }
        let signal = interrupted();
        if signal != 0 {
            break Stop::Interrupted(signal);
        }
        if output.has_pending()
            && let Err(err) = output.flush()
        {
            break write_stop(err);
        }
        match splitter.fill() {
            Ok(_) => arrived = clock.elapsed(),
            // A signal interrupted the read: stop if it was ours to notice.
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {
                let signal = interrupted();
                if signal != 0 {
                    break Stop::Interrupted(signal);
                }
            }
            Err(err) => break Stop::ReadFailed(err),
        }
    };
    let counted = if backlog.is_empty() {
        Ok(())
    } else {
        backlog.count(&mut meter, output)
    };
    let stop = match (stop, counted.and_then(|()| output.flush())) {
        (Stop::EndOfInput | Stop::ReadFailed(_), Err(err)) => write_stop(err),
        (Stop::EndOfInput, Ok(())) if unpriced.is_some() => {
            Stop::UnknownModel(unpriced.unwrap_or_default())
        }
        (stop, _) => stop,
    };
    Ending {
        totals: *output.delivered(),
        first_chunk,
        stop,
    }
}

/// Why a session ends at the output error `err`: a signal of ours, the
/// reader gone, or a failed write.
pub fn write_stop(err: io::Error) -> Stop {
    if crate::signal::stopped_by_signal(&err) {
        Stop::Interrupted(crate::signal::received())
    } else if crate::output::is_broken_pipe(&err) {
        Stop::OutputClosed
    } else {
        Stop::WriteFailed(err)
    }
}
