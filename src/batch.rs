//! Pricing transcripts: many inputs at once, results in argument order.
//!
//! Workers take inputs in argument order and price each alone, holding one
//! line at a time; the main thread reports each input's summary as soon as
//! all before it are reported, then the total. Each input's result depends
//! on its bytes only, never on how many workers ran.

use std::collections::BTreeMap;
use std::io;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use crate::clock::{Clock, format_rfc3339};
use crate::config::{Config, TranscriptConfig};
use crate::error::{EXIT_FAILURE, EXIT_OK, say};
use crate::input::{Framing, Source, Splitter};
use crate::money::Money;
use crate::run::{meta_map, millis, new_session_id, prepare, rate, report, start_clock};
use crate::session::Stop;
use crate::signal::received;
use crate::summary::Summary;
use crate::tokenize::Tokenizer;
use crate::transcript::{Prices, Tally, Transcript, TranscriptSummary};

/// One input's outcome: why it ended, or the error opening it.
struct Priced {
    tally: Tally,
    bytes: u64,
    clock: Clock,
    elapsed: Duration,
    stop: io::Result<Stop>,
    /// Bad-line reports not yet written: the input's turn had not come.
    reports: Vec<String>,
}

/// Most bad-line reports an input holds while it waits for its turn; past
/// it, its worker waits.
const HELD_REPORTS: usize = 1000;

/// Bad-line reports of one input, written on stderr in input order: an
/// input's reports come after the summaries of all inputs before it.
struct Reports<'a> {
    /// This input's number.
    number: usize,
    /// The number of the input whose summary is due next.
    due: &'a AtomicUsize,
    held: Vec<String>,
}

impl Reports<'_> {
    fn report(&mut self, line: String) {
        if self.held.len() >= HELD_REPORTS {
            while self.due.load(Ordering::Acquire) != self.number && received() == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        if self.due.load(Ordering::Acquire) == self.number {
            for held in self.held.drain(..) {
                let _ = say(held);
            }
            let _ = say(line);
        } else {
            self.held.push(line);
        }
    }
}

/// Prices every input of `config`.
pub fn price_all(config: &Config, settings: &TranscriptConfig) -> anyhow::Result<ExitCode> {
    let tokenizer = prepare(config)?;
    let overall = start_clock(config, true);
    let base_id = config.session_id.clone().unwrap_or_else(new_session_id);
    let prices = Prices::of(&config.model);
    let sources = &config.sources;
    let several = sources.len() > 1;
    let next = AtomicUsize::new(0);
    let turn = AtomicUsize::new(0);
    let mut status = EXIT_OK;
    let mut total = Tally::default();
    let mut bytes = 0;
    let mut reported = 0u64;
    let mut first_error = None;
    // False once a summary could not be written to stderr.
    let mut billed = true;
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let (sender, receiver) = mpsc::channel::<(usize, Priced)>();
        for _ in 0..settings.jobs.clamp(1, sources.len().max(1)) {
            let sender = sender.clone();
            let (next, turn) = (&next, &turn);
            let tokenizer = tokenizer.as_ref();
            scope.spawn(move || {
                loop {
                    let number = next.fetch_add(1, Ordering::Relaxed);
                    if number >= sources.len() || received() != 0 {
                        break;
                    }
                    let reports = Reports {
                        number,
                        due: turn,
                        held: Vec::new(),
                    };
                    let priced = price_one(&sources[number], tokenizer, config, settings, reports);
                    if sender.send((number, priced)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let mut waiting = BTreeMap::new();
        let mut due = 0;
        for (number, priced) in receiver {
            waiting.insert(number, priced);
            while let Some(priced) = waiting.remove(&due) {
                let source = &sources[due];
                let name = source.display_name();
                for held in &priced.reports {
                    let _ = say(held);
                }
                // An interruption sets the exit status after the loop.
                match &priced.stop {
                    Err(err) => {
                        let _ = say(format_args!("cannot open {name}: {err}"));
                        status = EXIT_FAILURE;
                        due += 1;
                        turn.store(due, Ordering::Release);
                        continue;
                    }
                    Ok(Stop::ReadFailed(err)) => {
                        let _ = say(format_args!("reading {name}: {err}"));
                        status = EXIT_FAILURE;
                    }
                    Ok(Stop::BadLine(..)) => status = EXIT_FAILURE,
                    Ok(_) => {}
                }
                let session_id = if several {
                    format!("{base_id}-{}", due + 1)
                } else {
                    base_id.clone()
                };
                let mut summary =
                    summarize(config, tokenizer.as_ref(), &priced, &prices, session_id);
                summary.input = config.named_inputs.then_some(name);
                summary.part_of = several.then(|| base_id.clone());
                if first_error.is_none() {
                    first_error.clone_from(&summary.error);
                }
                billed &= report(config, &summary)?;
                total = total.checked_plus(&priced.tally).ok_or_else(|| {
                    anyhow::anyhow!(
                        "{}: {}",
                        source.display_name(),
                        crate::transcript::overflow()
                    )
                })?;
                bytes += priced.bytes;
                reported += 1;
                due += 1;
                turn.store(due, Ordering::Release);
            }
        }
        Ok(())
    })?;
    if several {
        let elapsed = overall.elapsed();
        let priced = Priced {
            tally: total,
            bytes,
            clock: overall,
            elapsed,
            stop: Ok(Stop::EndOfInput),
            reports: Vec::new(),
        };
        let mut summary = summarize(config, tokenizer.as_ref(), &priced, &prices, base_id);
        summary.sessions = Some(reported);
        summary.error = first_error;
        billed &= crate::run::print_summary(config.summary, &summary);
    }
    let signal = received();
    if signal != 0 {
        status = 128 + signal as u8;
    }
    Ok(ExitCode::from(crate::run::bill_status(status, billed)))
}

/// Prices one input, line by line.
fn price_one(
    source: &Source,
    tokenizer: &dyn Tokenizer,
    config: &Config,
    settings: &TranscriptConfig,
    mut reports: Reports<'_>,
) -> Priced {
    let clock = start_clock(config, false);
    let mut transcript = Transcript::new(tokenizer, settings.options);
    let mut bytes = 0u64;
    let stop = source.open().map(|reader| {
        let mut lines = Splitter::new(
            reader,
            Framing::Delimiter(vec![b'\n']),
            true,
            config.max_chunk,
        );
        let name = source.display_name();
        let mut number = 0u64;
        // Inside a line longer than --max-chunk, already reported.
        let mut skipping = false;
        'input: loop {
            while let Some(line) = lines.next_chunk() {
                bytes += (line.content.len() + line.stripped.len()) as u64;
                if skipping {
                    skipping = line.split;
                    continue;
                }
                number += 1;
                let priced = if line.split {
                    skipping = true;
                    transcript.skip_bad_line();
                    Err(format!(
                        "longer than --max-chunk ({} bytes): skipped",
                        config.max_chunk
                    ))
                } else {
                    transcript.line(line.content)
                };
                if let Err(why) = priced {
                    reports.report(format!("{name}:{number}: {why}"));
                    if settings.fail_on_bad_line {
                        break 'input Stop::BadLine(number, why);
                    }
                }
            }
            if lines.at_eof() {
                break Stop::EndOfInput;
            }
            let signal = received();
            if signal != 0 {
                break Stop::Interrupted(signal);
            }
            match lines.fill() {
                Ok(_) => {}
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => break Stop::ReadFailed(err),
            }
        }
    });
    let elapsed = clock.elapsed();
    Priced {
        tally: transcript.finish(),
        bytes,
        clock,
        elapsed,
        stop,
        reports: reports.held,
    }
}

/// The summary of a priced input (or of the total).
fn summarize(
    config: &Config,
    tokenizer: &dyn Tokenizer,
    priced: &Priced,
    prices: &Prices,
    session_id: String,
) -> Summary {
    let (transcript, cost): (TranscriptSummary, Money) =
        TranscriptSummary::priced(&priced.tally, prices);
    let tokens = priced.tally.tokens();
    Summary {
        session_id,
        model: config.model.name.clone(),
        agent_id: config.agent_id.clone(),
        input: None,
        part_of: None,
        sessions: None,
        start_time: format_rfc3339(priced.clock.start_time()),
        end_time: format_rfc3339(priced.clock.at(priced.elapsed)),
        duration_ms: millis(priced.elapsed),
        time_to_first_chunk_ms: None,
        chunk_count: priced.tally.records,
        bytes: priced.bytes,
        total_tokens: tokens,
        side: "both".to_string(),
        total_cost: cost.to_string(),
        currency: "USD".to_string(),
        priced: config.priced,
        tokens_per_second: rate(tokens, priced.elapsed.as_secs_f64()),
        tokens_per_second_after_first_chunk: None,
        tokenizer: tokenizer.name().to_string(),
        exact: tokenizer.is_exact() || priced.tally.tokenized == 0,
        count: config
            .transcript
            .map_or("messages", |t| t.options.name())
            .to_string(),
        invalid_utf8_chunks: 0,
        split_chunks: 0,
        error: priced.stop.as_ref().ok().and_then(Stop::describe),
        metadata: meta_map(config),
        transcript: Some(transcript),
    }
}
