//! Pricing transcripts: many inputs at once, results in argument order.
//!
//! Workers take inputs in argument order and price each alone, holding one
//! line at a time; the main thread reports each input's summary as soon as
//! all before it are reported, then the total. Each input's result depends
//! on its bytes only, never on how many workers ran.

use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use tokmeter::clock::Clock;
use tokmeter::decode::{Bad, Transcripts};
use tokmeter::format::Discard;
use tokmeter::input::{Framing, Source};
use tokmeter::money::Price;
use tokmeter::output::{FlushPolicy, Output};
use tokmeter::pipeline::{self, Settings, Stop};
use tokmeter::signal::received;
use tokmeter::summary::{SessionIds, Summary, millis, rate};
use tokmeter::tokenize::Tokenizer;
use tokmeter::transcript::{Prices, Tally, TranscriptSummary};

use super::config::TranscriptConfig;
use super::exit::Exit;
use super::report::{self, say};

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
pub fn price_all(config: &TranscriptConfig) -> anyhow::Result<Exit> {
    let run = &config.run;
    let tokenizer = super::prepare(run)?;
    let overall = run.clock(true);
    let ids = SessionIds::new(run.session_id.clone(), run.sources.len());
    let prices = Prices::of(&run.model);
    let sources = &run.sources;
    let next = AtomicUsize::new(0);
    let turn = AtomicUsize::new(0);
    let mut status = Exit::Success;
    let mut total = {
        let nothing = Priced {
            tally: Tally::default(),
            bytes: 0,
            clock: run.clock(false),
            elapsed: Duration::ZERO,
            stop: Ok(Stop::EndOfInput),
            reports: Vec::new(),
        };
        summarize(config, tokenizer.as_ref(), &nothing, &prices).empty_sum(ids.total().to_string())
    };
    let mut first_error = None;
    // False once a summary could not be written to stderr.
    let mut billed = true;
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let (sender, receiver) = mpsc::channel::<(usize, Priced)>();
        for _ in 0..config.jobs.clamp(1, sources.len().max(1)) {
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
                    let priced = price_one(&sources[number], tokenizer, config, reports);
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
                        status = Exit::Failure;
                        due += 1;
                        turn.store(due, Ordering::Release);
                        continue;
                    }
                    Ok(Stop::ReadFailed(err)) => {
                        let _ = say(format_args!("reading {name}: {err}"));
                        status = Exit::Failure;
                    }
                    Ok(Stop::BadLine(..)) => status = Exit::Failure,
                    Ok(_) => {}
                }
                let mut summary = summarize(config, tokenizer.as_ref(), &priced, &prices);
                summary.session_id = ids.of(due);
                summary.input = run.named_inputs.then_some(name);
                summary.part_of = ids.part_of();
                if first_error.is_none() {
                    first_error.clone_from(&summary.error);
                }
                billed &= report::report(&run.reporting, &summary)?;
                total
                    .add(&summary)
                    .map_err(|why| anyhow::anyhow!("{}: {why}", source.display_name()))?;
                due += 1;
                turn.store(due, Ordering::Release);
            }
        }
        Ok(())
    })?;
    if sources.len() > 1 {
        total.time_by(&overall);
        total.error = first_error;
        billed &= report::print_summary(run.reporting.summary, &total);
    }
    let signal = received();
    if signal != 0 {
        status = Exit::Signal(signal);
    }
    Ok(status.billed(billed))
}

/// Prices one input, line by line, through the pipeline.
fn price_one(
    source: &Source,
    tokenizer: &dyn Tokenizer,
    config: &TranscriptConfig,
    mut reports: Reports<'_>,
) -> Priced {
    let mut clock = config.run.clock(false);
    let name = source.display_name();
    let mut report = |bad: &Bad| reports.report(format!("{name}:{}: {}", bad.number, bad.why));
    let mut decoder = Transcripts::new(tokenizer, config.options, config.max_line, &mut report);
    let settings = Settings {
        strip_delimiter: true,
        max_chunk: config.max_line,
        interrupt: Some(tokmeter::signal::flag()),
        stop_on_bad_unit: config.fail_on_bad_line,
        ..Settings::new(tokenizer, Framing::Delimiter(vec![b'\n']), Price::ZERO)
    };
    let stop = source.open().map(|reader| {
        let mut nowhere = Output::new(io::sink(), FlushPolicy::Block);
        pipeline::run(
            reader,
            &mut nowhere,
            &mut Discard,
            &mut decoder,
            &mut clock,
            &settings,
        )
        .stop
    });
    let (tally, bytes) = decoder.finish();
    let elapsed = clock.elapsed();
    Priced {
        tally,
        bytes,
        clock,
        elapsed,
        stop,
        reports: reports.held,
    }
}

/// The summary of a priced input (its id is set by the caller).
fn summarize(
    config: &TranscriptConfig,
    tokenizer: &dyn Tokenizer,
    priced: &Priced,
    prices: &Prices,
) -> Summary {
    let run = &config.run;
    let (transcript, cost) = TranscriptSummary::priced(&priced.tally, prices);
    let tokens = priced.tally.tokens();
    Summary {
        session_id: String::new(),
        model: run.model.name.clone(),
        agent_id: run.agent_id.clone(),
        input: None,
        part_of: None,
        sessions: None,
        start_time: priced.clock.start_time(),
        end_time: priced.clock.at(priced.elapsed),
        duration_ms: millis(priced.elapsed),
        time_to_first_chunk_ms: None,
        chunk_count: priced.tally.records,
        bytes: priced.bytes,
        total_tokens: tokens,
        side: "both".to_string(),
        total_cost: cost,
        currency: "USD".to_string(),
        priced: run.priced,
        tokens_per_second: rate(tokens, priced.elapsed.as_secs_f64()),
        tokens_per_second_after_first_chunk: None,
        tokenizer: tokenizer.name().to_string(),
        exact: tokenizer.is_exact() || priced.tally.tokenized == 0,
        count: config.options.name().to_string(),
        invalid_utf8_chunks: 0,
        split_chunks: 0,
        error: priced.stop.as_ref().ok().and_then(Stop::describe),
        metadata: run.metadata(),
        transcript: Some(transcript),
        provider: None,
    }
}
