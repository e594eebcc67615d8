//! `tokmeter merge`: many JSON summaries summed into one.
//!
//! Sums are exact: counts as integers, costs as exact decimals, so shards
//! priced apart merge to the very figures of one run. A total and the
//! per-input summaries it covers (ids `T` and `T-1`, `T-2`, …) count once.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};

use crate::cli::{MergeArgs, SummaryArg};
use crate::clock::format_rfc3339;
use crate::error::EXIT_OK;
use crate::money::Money;
use crate::run::{millis, new_session_id, rate};
use crate::summary::Summary;
use crate::transcript::{Tally, TranscriptSummary};

/// Reads the summaries named by `args`, prints their sum on stdout.
pub fn run(args: &MergeArgs) -> anyhow::Result<ExitCode> {
    let mut summaries = Vec::new();
    if args.files.is_empty() {
        read_summaries(io::stdin().lock(), "<stdin>", &mut summaries)?;
    }
    for file in &args.files {
        if file == "-" {
            read_summaries(io::stdin().lock(), "<stdin>", &mut summaries)?;
            continue;
        }
        let name = std::path::Path::new(file).display().to_string();
        let reader = File::open(file).with_context(|| format!("cannot open {name}"))?;
        read_summaries(BufReader::new(reader), &name, &mut summaries)?;
    }
    let id = args.session_id.clone().unwrap_or_else(new_session_id);
    let merged = merge(summaries, id)?;
    let line = match args.summary {
        SummaryArg::None => return Ok(ExitCode::from(EXIT_OK)),
        SummaryArg::Text => merged.to_text(),
        SummaryArg::Json => merged.to_json(),
    };
    match writeln!(io::stdout().lock(), "{line}") {
        Err(err) if !crate::error::is_broken_pipe(&err) => {
            Err(anyhow::Error::new(err).context("writing standard output"))
        }
        _ => Ok(ExitCode::from(EXIT_OK)),
    }
}

/// Appends the summaries of `reader`, one per non-blank line.
pub fn read_summaries<R: BufRead>(
    reader: R,
    name: &str,
    out: &mut Vec<Summary>,
) -> anyhow::Result<()> {
    for (number, line) in reader.split(b'\n').enumerate() {
        let line = line.with_context(|| format!("reading {name}"))?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let summary = serde_json::from_slice::<Summary>(&line).map_err(|err| {
            anyhow::anyhow!("{name}:{}: not a tokmeter JSON summary: {err}", number + 1)
        })?;
        out.push(summary);
    }
    Ok(())
}

/// The sum of `summaries`, with session id `id`.
pub fn merge(summaries: Vec<Summary>, id: String) -> anyhow::Result<Summary> {
    let totals: HashSet<&str> = summaries
        .iter()
        .filter(|s| s.sessions.is_some())
        .map(|s| s.session_id.as_str())
        .collect();
    let covered = |s: &Summary| {
        s.sessions.is_none()
            && s.session_id.rsplit_once('-').is_some_and(|(base, n)| {
                !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && totals.contains(base)
            })
    };
    let kept: Vec<&Summary> = summaries.iter().filter(|s| !covered(s)).collect();
    let Some(first) = kept.first() else {
        bail!("no summaries to merge");
    };
    let mut start = time(&first.start_time, first)?;
    let mut end = time(&first.end_time, first)?;
    let mut cost = Money::default();
    // The transcript figures summed, with their four costs.
    let mut transcript: Option<(Tally, [Money; 4])> = None;
    let mut merged = Summary {
        session_id: id,
        input: None,
        sessions: Some(0),
        chunk_count: 0,
        bytes: 0,
        total_tokens: 0,
        invalid_utf8_chunks: 0,
        split_chunks: 0,
        time_to_first_chunk_ms: None,
        tokens_per_second_after_first_chunk: None,
        error: None,
        transcript: None,
        ..(*first).clone()
    };
    let mut errors = 0u64;
    for s in &kept {
        if s.currency != merged.currency {
            bail!(
                "cannot merge costs in {} with costs in {}",
                merged.currency,
                s.currency
            );
        }
        start = start.min(time(&s.start_time, s)?);
        end = end.max(time(&s.end_time, s)?);
        cost = cost.saturating_add(money(&s.total_cost, s)?);
        merged.sessions = Some(merged.sessions.unwrap_or(0) + s.sessions.unwrap_or(1));
        merged.chunk_count += s.chunk_count;
        merged.bytes += s.bytes;
        merged.total_tokens += s.total_tokens;
        merged.invalid_utf8_chunks += s.invalid_utf8_chunks;
        merged.split_chunks += s.split_chunks;
        merged.time_to_first_chunk_ms =
            match (merged.time_to_first_chunk_ms, s.time_to_first_chunk_ms) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        merged.exact &= s.exact;
        merged.priced &= s.priced;
        same_or_mixed(&mut merged.model, &s.model);
        same_or_mixed(&mut merged.tokenizer, &s.tokenizer);
        same_or_mixed(&mut merged.side, &s.side);
        same_or_mixed(&mut merged.count, &s.count);
        if merged.agent_id != s.agent_id {
            merged.agent_id = None;
        }
        merged
            .metadata
            .retain(|key, value| s.metadata.get(key) == Some(value));
        if let Some(error) = &s.error {
            errors += 1;
            merged.error.get_or_insert_with(|| error.clone());
        }
        if let Some(part) = &s.transcript {
            let (tally, costs) = part
                .parts()
                .map_err(|err| anyhow::anyhow!("summary {}: {err}", s.session_id))?;
            let (sum, sum_costs) = transcript.get_or_insert_default();
            *sum = sum.plus(&tally);
            for (total, cost) in sum_costs.iter_mut().zip(costs) {
                *total = total.saturating_add(cost);
            }
        }
    }
    if errors > 1
        && let Some(error) = &merged.error
    {
        merged.error = Some(format!(
            "{errors} sessions ended with an error; the first: {error}"
        ));
    }
    let span = (end - start).to_std().unwrap_or_default();
    merged.start_time = format_rfc3339(start);
    merged.end_time = format_rfc3339(end);
    merged.duration_ms = millis(span);
    merged.total_cost = cost.to_string();
    merged.tokens_per_second = rate(merged.total_tokens, span.as_secs_f64());
    merged.transcript = transcript.map(|(tally, costs)| TranscriptSummary::new(&tally, costs));
    Ok(merged)
}

fn same_or_mixed(field: &mut String, other: &str) {
    if field != other {
        *field = "mixed".to_string();
    }
}

fn time(text: &str, summary: &Summary) -> anyhow::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|err| {
            anyhow::anyhow!(
                "summary {}: time \"{text}\" is not RFC 3339: {err}",
                summary.session_id
            )
        })
}

fn money(text: &str, summary: &Summary) -> anyhow::Result<Money> {
    Money::parse(text).map_err(|err| {
        anyhow::anyhow!(
            "summary {}: cost \"{text}\" is not a decimal: {err}",
            summary.session_id
        )
    })
}
