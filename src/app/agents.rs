//! The summaries and reports of transcript runs: each input's figures from
//! its chat transcripts (priced at `-m`) and its agent logs (each response
//! at its own model), the total, and the `--by` rows.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Local, Utc};

use tokmeter::agent::{Agent, Billed, Lines, Priced as Call};
use tokmeter::decode::Read;
use tokmeter::money::Money;
use tokmeter::pipeline::Stop;
use tokmeter::summary::{AgentSummary, Figures, Report, SessionIds, Summary, millis, rate};
use tokmeter::tokenize::Tokenizer;
use tokmeter::transcript::{Bill, Prices, Tally, TranscriptSummary};

use super::args::ByArg;
use super::config::TranscriptConfig;
use super::report::warn;
use super::transcripts::Priced;

/// What one input's files came to while they were read.
#[derive(Default)]
pub struct Input {
    /// Files read, and those that could not be opened.
    files: u64,
    unopened: u64,
    /// The agents whose logs it holds.
    agents: BTreeSet<Agent>,
    /// Its chat transcripts, together.
    tally: Tally,
    bytes: u64,
    /// The span of its files' reading.
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    /// What stopped a file, the first of them.
    error: Option<String>,
    /// Its summary, once reported.
    pub summary: Option<Summary>,
}

impl Input {
    /// Whether it holds an agent's log.
    pub fn is_agent(&self) -> bool {
        !self.agents.is_empty()
    }

    /// One of its files is `agent`'s log.
    pub fn agent_file(&mut self, agent: Agent) {
        self.agents.insert(agent);
    }

    /// Adds a file's outcome (its agent log, if any, was taken out).
    pub fn absorb(&mut self, priced: &Priced) -> anyhow::Result<()> {
        self.files += 1;
        let stop = match &priced.stop {
            Err(_) => {
                self.unopened += 1;
                return Ok(());
            }
            Ok(stop) => stop,
        };
        if let Read::Chat(tally) = &priced.read {
            self.tally = self
                .tally
                .checked_plus(tally)
                .ok_or_else(|| anyhow::anyhow!("{}", tokmeter::transcript::overflow()))?;
        }
        self.bytes = self.bytes.saturating_add(priced.bytes);
        let start = priced.clock.start_time();
        let end = priced.clock.at(priced.elapsed);
        self.start = Some(self.start.map_or(start, |s| s.min(start)));
        self.end = Some(self.end.map_or(end, |e| e.max(end)));
        if self.error.is_none() {
            self.error = Stop::describe(stop);
        }
        Ok(())
    }

    /// Whether it has a summary: not when none of its files could be
    /// opened (the error said so).
    fn reported(&self) -> bool {
        self.files == 0 || self.unopened < self.files
    }
}

/// The start of the run's total: zero figures with the run's labels.
pub fn empty_total(
    config: &TranscriptConfig,
    tokenizer: &dyn Tokenizer,
    ids: &SessionIds,
    prices: &Prices,
) -> Summary {
    let nothing = Input::default();
    summary(config, tokenizer, &nothing, prices, None).empty_sum(ids.total().to_string())
}

/// The summary of an input of chat transcripts only.
pub fn chat_summary(
    config: &TranscriptConfig,
    tokenizer: &dyn Tokenizer,
    input: &Input,
    prices: &Prices,
    ids: &SessionIds,
    at: usize,
) -> anyhow::Result<Option<Summary>> {
    if !input.reported() {
        return Ok(None);
    }
    let mut summary = summary(config, tokenizer, input, prices, None);
    label(config, ids, at, &mut summary);
    Ok(Some(summary))
}

/// The summaries of the inputs that hold agent logs, in input order.
pub fn agent_summaries(
    config: &TranscriptConfig,
    tokenizer: &dyn Tokenizer,
    inputs: &[Input],
    bill: &Billed,
    prices: &Prices,
    ids: &SessionIds,
) -> anyhow::Result<Vec<(usize, Summary)>> {
    let mut calls: Vec<Vec<&Call>> = vec![Vec::new(); inputs.len()];
    for call in &bill.calls {
        calls[call.input].push(call);
    }
    let mut summaries = Vec::new();
    for (at, input) in inputs.iter().enumerate() {
        if !input.is_agent() || !input.reported() {
            continue;
        }
        let format = match input.agents.len() {
            1 => input.agents.first().map_or("mixed", |a| a.name()),
            _ => "mixed",
        };
        let lines = bill.lines.get(at).copied().unwrap_or_default();
        let agent = AgentSummary::new(format, input.files, &calls[at], &lines)
            .map_err(|why| anyhow::anyhow!("{}: {why}", config.run.sources[at].display_name()))?;
        let mut summary = summary(
            config,
            tokenizer,
            input,
            prices,
            Some((&calls[at], &lines, agent)),
        );
        label(config, ids, at, &mut summary);
        summaries.push((at, summary));
    }
    Ok(summaries)
}

/// Warns once for each model the table lacks, and for each model whose
/// responses were billed on a guess: a mode its card lacks, a prompt above
/// its input limit, cache writes without their lifetimes. Whether a model
/// was unpriced.
pub fn warn_unpriced(bill: &Billed) -> bool {
    use std::collections::BTreeMap;
    // (what, model) → responses and tokens.
    let mut found: BTreeMap<(&str, &str), (u64, u64)> = BTreeMap::new();
    for call in &bill.calls {
        let flags = [
            ("unpriced", !call.priced),
            ("over limit", call.over_limit),
            ("unsplit", call.unsplit_writes),
            ("mode", call.mode_unknown),
        ];
        for (what, _) in flags.iter().filter(|(_, set)| *set) {
            let entry = found.entry((what, &call.model)).or_default();
            entry.0 += 1;
            entry.1 = entry
                .1
                .saturating_add(call.tokens.total().unwrap_or(u64::MAX));
        }
    }
    let quoted = tokmeter::plain::quoted;
    let group = tokmeter::summary::group;
    for ((what, model), (responses, tokens)) in &found {
        let model = quoted(model);
        let responses = tokmeter::summary::counted(*responses, "response");
        let _ = match *what {
            "unpriced" => warn(format_args!(
                "warning: model {model} is not in the pricing table: its {} tokens are listed as unpriced, at no cost",
                group(*tokens),
            )),
            "over limit" => warn(format_args!(
                "warning: {responses} to model {model} have a prompt above its limit.input: the log or the pricing table is wrong"
            )),
            "unsplit" => warn(format_args!(
                "warning: {responses} to model {model} have cache writes without a 5-minute/1-hour split: billed as 5-minute writes"
            )),
            _ => warn(format_args!(
                "warning: {responses} to model {model} name a mode its card lacks: billed at its standard prices"
            )),
        };
    }
    found.keys().any(|(what, _)| *what == "unpriced")
}

/// Session id, input name and total of an input's summary.
fn label(config: &TranscriptConfig, ids: &SessionIds, at: usize, summary: &mut Summary) {
    let run = &config.run;
    summary.session_id = ids.of(at);
    summary.input = run.named_inputs.then(|| run.sources[at].display_name());
    summary.part_of = ids.part_of();
}

/// An input's summary: its chat transcripts at `prices`, and its agent
/// logs' calls, line counts and figures if it has any.
fn summary(
    config: &TranscriptConfig,
    tokenizer: &dyn Tokenizer,
    input: &Input,
    prices: &Prices,
    agent: Option<(&[&Call], &Lines, AgentSummary)>,
) -> Summary {
    let run = &config.run;
    let (mut transcript, mut cost) = TranscriptSummary::priced(&input.tally, prices);
    let mut tokens = input.tally.tokens();
    let mut model = run.model.name.clone();
    let mut priced = run.priced;
    let from_usage = input.tally.from_usage > 0 || agent.is_some();
    let agent = agent.map(|(calls, lines, summary)| {
        let (part, part_cost) = agent_transcript(calls, lines);
        // Sums of figures that each fit: the agent summary checked them.
        transcript = transcript.checked_plus(&part).unwrap_or(transcript.clone());
        cost = cost.checked_add(part_cost).unwrap_or(cost);
        tokens = tokens.saturating_add(summary.total().ok().and_then(|f| f.tokens()).unwrap_or(0));
        if input.tally.records == 0 {
            match summary.models.as_slice() {
                [one] => model.clone_from(&one.model),
                [] => {}
                _ => model = "mixed".to_string(),
            }
            priced = summary.unpriced_models.is_empty();
        } else if summary.models.iter().any(|m| m.model != model) {
            model = "mixed".to_string();
        }
        priced &= summary.unpriced_models.is_empty();
        summary
    });
    let tokenized = input.tally.tokenized > 0;
    // What counted: the provider's usage alone, or the tokenizer (the
    // records counted each way are in the transcript figures).
    let counted_by = match (from_usage, tokenized) {
        (true, false) => "usage".to_string(),
        _ => tokenizer.name().to_string(),
    };
    let start = input.start.unwrap_or_else(|| run.clock(false).start_time());
    let end = input.end.unwrap_or(start);
    let elapsed = (end - start).to_std().unwrap_or(Duration::ZERO);
    let count = if agent.is_some() && input.tally.records == 0 {
        "responses".to_string()
    } else {
        config.options.name().to_string()
    };
    Summary {
        session_id: String::new(),
        model,
        agent_id: run.agent_id.clone(),
        input: None,
        part_of: None,
        sessions: None,
        start_time: start,
        end_time: end,
        duration_ms: millis(elapsed),
        time_to_first_chunk_ms: None,
        chunk_count: transcript.records,
        bytes: input.bytes,
        total_tokens: tokens,
        side: "both".to_string(),
        total_cost: cost,
        currency: "USD".to_string(),
        priced,
        tokens_per_second: rate(tokens, elapsed.as_secs_f64()),
        tokens_per_second_after_first_chunk: None,
        tokenizer: counted_by,
        exact: tokenizer.is_exact() || !tokenized,
        count,
        invalid_utf8_chunks: 0,
        split_chunks: 0,
        error: input.error.clone(),
        metadata: run.metadata(),
        transcript: Some(transcript),
        agent,
        card: None,
        provider: None,
    }
}

/// The transcript figures of agent calls: tokens and costs by class.
fn agent_transcript(calls: &[&Call], lines: &Lines) -> (TranscriptSummary, Money) {
    let mut bill = Bill::default();
    let mut hour = 0u64;
    let mut costs = [Money::ZERO; 5];
    for call in calls {
        let t = &call.tokens;
        bill.input = bill.input.saturating_add(t.input);
        bill.output = bill.output.saturating_add(t.output);
        bill.cache_read = bill.cache_read.saturating_add(t.cache_read);
        bill.cache_write = bill.cache_write.saturating_add(t.cache_write);
        hour = hour.saturating_add(t.cache_write_1h);
        for (sum, cost) in costs.iter_mut().zip(call.costs) {
            *sum = sum.checked_add(cost).unwrap_or(*sum);
        }
    }
    let responses = calls.len() as u64;
    let records = responses
        .saturating_add(lines.duplicate)
        .saturating_add(lines.replay)
        .saturating_add(lines.reemitted)
        .saturating_add(lines.synthetic)
        .saturating_add(lines.skipped);
    let tally = Tally {
        records,
        from_usage: responses,
        tokenized: 0,
        bad_lines: lines.bad,
        messages: responses,
        bill,
        ..Tally::default()
    };
    let mut transcript = TranscriptSummary::new(&tally, [costs[0], costs[1], costs[2], costs[3]]);
    transcript.cache_write_1h_tokens = hour;
    transcript.cache_write_1h_cost = costs[4];
    (transcript, costs.iter().copied().sum())
}

/// The `--by` report of the run: agent responses by their own labels, each
/// chat input as one row labelled by its summary.
pub fn report(
    config: &TranscriptConfig,
    inputs: &[Input],
    bill: &Billed,
    prices: &Prices,
) -> anyhow::Result<String> {
    let by: Vec<String> = config.by.iter().map(|b| b.name().to_string()).collect();
    let day = |time: Option<DateTime<Utc>>, format: &str| -> String {
        match time {
            None => "-".to_string(),
            Some(t) if config.utc => t.format(format).to_string(),
            Some(t) => t.with_timezone(&Local).format(format).to_string(),
        }
    };
    let or_dash = |text: &str| {
        if text.is_empty() {
            "-".to_string()
        } else {
            text.to_string()
        }
    };
    let mut parts: Vec<(Vec<String>, Figures)> = Vec::new();
    for call in &bill.calls {
        let labels = config
            .by
            .iter()
            .map(|key| match key {
                ByArg::Day => day(call.time, "%Y-%m-%d"),
                ByArg::Month => day(call.time, "%Y-%m"),
                ByArg::Session => or_dash(&call.session),
                ByArg::Model => call.model.to_string(),
                ByArg::Project => or_dash(&call.project),
            })
            .collect();
        parts.push((labels, Figures::of(call)));
    }
    for input in inputs {
        let Some(summary) = input.summary.as_ref().filter(|_| input.tally.records > 0) else {
            continue;
        };
        let Some(t) = &summary.transcript else {
            continue;
        };
        let labels = config
            .by
            .iter()
            .map(|key| match key {
                ByArg::Session => summary.session_id.clone(),
                ByArg::Model => config.run.model.name.clone(),
                _ => "-".to_string(),
            })
            .collect();
        let (tally, costs) = TranscriptSummary::priced(&input.tally, prices);
        let _ = t;
        parts.push((
            labels,
            Figures {
                responses: tally.records,
                input_tokens: tally.input_tokens,
                output_tokens: tally.output_tokens,
                cache_read_tokens: tally.cache_read_tokens,
                cache_write_tokens: tally.cache_write_tokens,
                cost: costs,
                unpriced_tokens: if config.run.priced {
                    0
                } else {
                    input.tally.tokens()
                },
                ..Figures::default()
            },
        ));
    }
    let report = Report::from_parts(by, parts).map_err(anyhow::Error::msg)?;
    Ok(if config.report_json {
        report.to_json_lines()
    } else {
        report.to_table()
    })
}
