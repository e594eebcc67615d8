//! Pricing transcripts and agent logs: many files at once, results in
//! argument order.
//!
//! Workers take the files of every input in argument order (a directory's
//! in path order) and read each alone, holding one line at a time; the main
//! thread takes their results in that order. A chat transcript's summary is
//! reported as soon as all before it are; an agent log's waits for the end
//! of the run, since a response may be copied into any later file, and each
//! response is then billed once, at its own model. Then the total, and the
//! `--by` report. Each result depends on the bytes only, never on how many
//! workers ran.

use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use tokmeter::agent::{Ledger, Prices as AgentPrices};
use tokmeter::clock::Clock;
use tokmeter::decode::{Bad, Read, Transcripts};
use tokmeter::format::Discard;
use tokmeter::input::{Framing, Source};
use tokmeter::money::Price;
use tokmeter::output::{FlushPolicy, Output};
use tokmeter::pipeline::{self, Settings, Stop};
use tokmeter::signal::received;
use tokmeter::summary::{SessionIds, Summary};
use tokmeter::tokenize::Tokenizer;
use tokmeter::transcript::Prices;

use super::agents::{self, Input};
use super::config::TranscriptConfig;
use super::exit::Exit;
use super::report::{self, say, warn};

/// One file's outcome: why it ended, or the error opening it.
pub struct Priced {
    pub read: Read,
    pub bytes: u64,
    pub clock: Clock,
    pub elapsed: Duration,
    pub stop: io::Result<Stop>,
    /// Bad-line reports not yet written: the file's turn had not come.
    reports: Vec<String>,
}

/// Most bad-line reports a file holds while it waits for its turn; past
/// it, its worker waits.
const HELD_REPORTS: usize = 1000;

/// Bad-line reports of one file, written on stderr in file order: a
/// file's reports come after the results of all files before it.
struct Reports<'a> {
    /// This file's number.
    number: usize,
    /// The number of the file whose result is due next.
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
    // Records without usage pay the base card of --date and --mode.
    let prices = Prices::of_card(
        run.model
            .choose(&tokmeter::pricing::Request {
                time: config.date,
                mode: config.mode.as_deref(),
                prompt: 0,
            })
            .prices,
    );
    // Every file of every input, in order, with the input it belongs to.
    let jobs: Vec<(usize, &Source)> = config
        .files
        .iter()
        .enumerate()
        .flat_map(|(input, files)| files.iter().map(move |file| (input, file)))
        .collect();
    let mut inputs: Vec<Input> = (0..run.sources.len()).map(|_| Input::default()).collect();
    for (input, files) in config.files.iter().enumerate() {
        if files.is_empty() {
            let _ = warn(format_args!(
                "warning: {} holds no *.jsonl files",
                run.sources[input].display_name()
            ));
        }
    }
    let mut ledger = Ledger::new(run.sources.len());
    let next = AtomicUsize::new(0);
    let turn = AtomicUsize::new(0);
    let mut status = Exit::Success;
    // The sum starts from the first summary's labels.
    let mut total: Option<Summary> = None;
    let mut first_error = None;
    // False once a summary could not be written to stderr.
    let mut billed = true;
    // The next input whose chat summary may be due.
    let mut next_input = 0;
    let mut finish_ready = |due: usize,
                            inputs: &mut Vec<Input>,
                            total: &mut Option<Summary>,
                            billed: &mut bool,
                            first_error: &mut Option<String>|
     -> anyhow::Result<()> {
        // An input is read once the files before `due` include all of its.
        while next_input < inputs.len() && jobs_done(config, next_input, due) {
            if !inputs[next_input].is_agent() {
                let Some(summary) = agents::chat_summary(
                    config,
                    tokenizer.as_ref(),
                    &inputs[next_input],
                    &prices,
                    &ids,
                    next_input,
                )?
                else {
                    next_input += 1;
                    continue;
                };
                *billed &= report::report(&run.reporting, &summary)?;
                if first_error.is_none() {
                    first_error.clone_from(&summary.error);
                }
                let sum = total.get_or_insert_with(|| summary.empty_sum(ids.total().to_string()));
                sum.add(&summary).map_err(|why| {
                    anyhow::anyhow!("{}: {why}", run.sources[next_input].display_name())
                })?;
                inputs[next_input].summary = Some(summary);
            }
            next_input += 1;
        }
        Ok(())
    };
    finish_ready(0, &mut inputs, &mut total, &mut billed, &mut first_error)?;
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let (sender, receiver) = mpsc::channel::<(usize, Priced)>();
        for _ in 0..config.jobs.clamp(1, jobs.len().max(1)) {
            let sender = sender.clone();
            let (next, turn, jobs) = (&next, &turn, &jobs);
            let tokenizer = tokenizer.as_ref();
            scope.spawn(move || {
                loop {
                    let number = next.fetch_add(1, Ordering::Relaxed);
                    if number >= jobs.len() || received() != 0 {
                        break;
                    }
                    let reports = Reports {
                        number,
                        due: turn,
                        held: Vec::new(),
                    };
                    let priced = price_one(jobs[number].1, tokenizer, config, reports);
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
            while let Some(mut priced) = waiting.remove(&due) {
                let (input, source) = jobs[due];
                let name = source.display_name();
                for held in &priced.reports {
                    let _ = say(held);
                }
                // An interruption sets the exit status after the loop.
                match &priced.stop {
                    Err(err) => {
                        let _ = say(format_args!("cannot open {name}: {err}"));
                        status = Exit::Failure;
                    }
                    Ok(Stop::ReadFailed(err)) => {
                        let _ = say(format_args!("reading {name}: {err}"));
                        status = Exit::Failure;
                    }
                    Ok(Stop::BadLine(..)) => status = Exit::Failure,
                    Ok(_) => {}
                }
                if matches!(priced.read, Read::Agent(_))
                    && let Read::Agent(log) =
                        std::mem::replace(&mut priced.read, Read::Chat(Default::default()))
                {
                    inputs[input].agent_file(log.agent);
                    ledger.add(input, log);
                }
                inputs[input].absorb(&priced)?;
                due += 1;
                // The summaries due are written before the next file's
                // reports may be.
                finish_ready(due, &mut inputs, &mut total, &mut billed, &mut first_error)?;
                turn.store(due, Ordering::Release);
            }
        }
        Ok(())
    })?;
    // The agent logs, each response once, priced at its model.
    let bill = ledger.bill(&AgentPrices {
        table: &config.table,
        fallback: (&run.model, run.priced),
        mode: config.mode.as_deref(),
        date: config.date,
    });
    let unpriced = agents::warn_unpriced(&bill);
    let summaries =
        agents::agent_summaries(config, tokenizer.as_ref(), &inputs, &bill, &prices, &ids)?;
    for (at, summary) in summaries {
        billed &= report::report(&run.reporting, &summary)?;
        if first_error.is_none() {
            first_error.clone_from(&summary.error);
        }
        let sum = total.get_or_insert_with(|| summary.empty_sum(ids.total().to_string()));
        sum.add(&summary)
            .map_err(|why| anyhow::anyhow!("{}: {why}", run.sources[at].display_name()))?;
        inputs[at].summary = Some(summary);
    }
    if run.sources.len() > 1 {
        let mut total =
            total.unwrap_or_else(|| agents::empty_total(config, tokenizer.as_ref(), &ids, &prices));
        total.time_by(&overall);
        total.error = first_error;
        billed &= report::print_summary(run.reporting.summary, &total);
    }
    if !config.by.is_empty() {
        let text = agents::report(config, &inputs, &bill, &prices)?;
        report::write_stdout(text.as_bytes())?;
    }
    if unpriced && !config.unknown_zero && status == Exit::Success {
        status = Exit::Usage;
    }
    let signal = received();
    if signal != 0 {
        status = Exit::Signal(signal);
    }
    Ok(status.billed(billed))
}

/// Whether every file of input `input` is before file `due`.
fn jobs_done(config: &TranscriptConfig, input: usize, due: usize) -> bool {
    let through: usize = config.files[..=input].iter().map(Vec::len).sum();
    through <= due
}

/// Prices one file, line by line, through the pipeline.
fn price_one(
    source: &Source,
    tokenizer: &dyn Tokenizer,
    config: &TranscriptConfig,
    mut reports: Reports<'_>,
) -> Priced {
    let mut clock = config.run.clock(false);
    let name = source.display_name();
    let mut report = |bad: &Bad| reports.report(format!("{name}:{}: {}", bad.number, bad.why));
    let path = match source {
        Source::File(path) => Some(path.as_path()),
        Source::Stdin => None,
    };
    let mut decoder = Transcripts::new(
        tokenizer,
        config.options,
        config.format,
        path,
        config.max_line,
        &mut report,
    )
    .with_cards(config.cards.as_ref());
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
    let (read, bytes) = decoder.finish();
    let elapsed = clock.elapsed();
    Priced {
        read,
        bytes,
        clock,
        elapsed,
        stop,
        reports: reports.held,
    }
}
