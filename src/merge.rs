//! `tokmeter merge`: many JSON summaries summed into one.
//!
//! Sums are exact: counts as integers, costs as exact decimals, so shards
//! priced apart merge to the very figures of one run. A total and the
//! per-input summaries that name it in `part_of` count once; a sum that
//! would overflow is an error naming the summary, never a wrong figure.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::fs::MetadataExt;
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};

use crate::cli::{MergeArgs, SummaryArg};
use crate::clock::format_rfc3339;
use crate::error::{EXIT_OK, say};
use crate::money::Money;
use crate::plain::quoted;
use crate::run::{millis, new_session_id, rate};
use crate::summary::Summary;
use crate::transcript::{Tally, TranscriptSummary};

/// A summary and where it was read: `FILE:LINE`.
pub struct Placed {
    /// The summary.
    pub summary: Summary,
    /// `FILE:LINE`, for messages.
    pub place: String,
}

/// Reads the summaries named by `args`, prints their sum on stdout. A file
/// named twice is read once, with a warning.
pub fn run(args: &MergeArgs) -> anyhow::Result<ExitCode> {
    let mut summaries = Vec::new();
    if args.files.is_empty() {
        read_summaries(io::stdin().lock(), "<stdin>", &mut summaries)?;
    }
    let mut seen: HashMap<(u64, u64), String> = HashMap::new();
    for file in &args.files {
        if file == "-" {
            read_summaries(io::stdin().lock(), "<stdin>", &mut summaries)?;
            continue;
        }
        let name = std::path::Path::new(file).display().to_string();
        let reader = File::open(file).with_context(|| format!("cannot open {name}"))?;
        if let Ok(meta) = reader.metadata() {
            if let Some(first) = seen.get(&(meta.dev(), meta.ino())) {
                let _ = say(format_args!(
                    "warning: {name} is the same file as {first}: read once"
                ));
                continue;
            }
            seen.insert((meta.dev(), meta.ino()), name.clone());
        }
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

/// Appends the summaries of `reader`, one per non-blank line; `name` names
/// it in errors.
pub fn read_summaries<R: BufRead>(
    reader: R,
    name: &str,
    out: &mut Vec<Placed>,
) -> anyhow::Result<()> {
    for (number, line) in reader.split(b'\n').enumerate() {
        let line = line.with_context(|| format!("reading {name}"))?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let place = format!("{name}:{}", number + 1);
        let summary = serde_json::from_slice::<Summary>(&line).map_err(|err| {
            anyhow::anyhow!(
                "{place}: not a tokmeter JSON summary: {}",
                plain_error(&err)
            )
        })?;
        out.push(Placed { summary, place });
    }
    Ok(())
}

/// A JSON error in plain words, without serde_json's place in the line.
fn plain_error(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let message = text
        .rfind(" at line ")
        .map_or(text.as_str(), |at| &text[..at]);
    match err.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            format!("line is not JSON: {message}")
        }
        _ => crate::plain::json_error(message),
    }
}

/// Adds `b` to `a`, or names the summary at `place` whose figure overflowed.
fn add(a: &mut u64, b: u64, field: &str, place: &str) -> anyhow::Result<()> {
    *a = a.checked_add(b).ok_or_else(|| {
        anyhow::anyhow!(
            "{place}: {field} overflows the sum: it would pass {}",
            u64::MAX
        )
    })?;
    Ok(())
}

/// Adds the amount `b` to `a`, or names the summary at `place`.
fn add_money(a: &mut Money, b: Money, place: &str) -> anyhow::Result<()> {
    *a = a
        .checked_add(b)
        .ok_or_else(|| anyhow::anyhow!("{place}: the costs overflow the sum"))?;
    Ok(())
}

/// The sum of `summaries`, with session id `id`.
///
/// A summary that says it is a part of a total (`part_of`) is skipped when
/// that total is merged too, so each session counts once. A session id seen
/// twice counts once, with a warning naming both places.
pub fn merge(summaries: Vec<Placed>, id: String) -> anyhow::Result<Summary> {
    let totals: HashSet<&str> = summaries
        .iter()
        .filter(|s| s.summary.sessions.is_some())
        .map(|s| s.summary.session_id.as_str())
        .collect();
    let covered = |s: &Summary| {
        s.sessions.is_none()
            && s.part_of
                .as_deref()
                .is_some_and(|total| totals.contains(total))
    };
    let mut first_place: HashMap<&str, &str> = HashMap::new();
    let mut warned: HashSet<&str> = HashSet::new();
    let mut kept: Vec<&Placed> = Vec::new();
    for placed in &summaries {
        if covered(&placed.summary) {
            continue;
        }
        let session = placed.summary.session_id.as_str();
        match first_place.get(session) {
            Some(first) => {
                if warned.insert(session) {
                    let _ = say(format_args!(
                        "warning: session {} is in {first} and {}: counted once",
                        quoted(session),
                        placed.place
                    ));
                }
            }
            None => {
                first_place.insert(session, &placed.place);
                kept.push(placed);
            }
        }
    }
    let Some(first) = kept.first() else {
        bail!("no summaries to merge");
    };
    let mut start = time(&first.summary.start_time, &first.place)?;
    let mut end = time(&first.summary.end_time, &first.place)?;
    let mut cost = Money::default();
    // The transcript figures summed, with their four costs.
    let mut transcript: Option<(Tally, [Money; 4])> = None;
    let mut merged = Summary {
        session_id: id,
        input: None,
        part_of: None,
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
        ..first.summary.clone()
    };
    let mut errors = 0u64;
    for Placed { summary: s, place } in kept.iter().copied() {
        if s.currency != merged.currency {
            bail!(
                "{place}: cannot merge costs in {} with costs in {}",
                quoted(&merged.currency),
                quoted(&s.currency)
            );
        }
        start = start.min(time(&s.start_time, place)?);
        end = end.max(time(&s.end_time, place)?);
        add_money(&mut cost, money(&s.total_cost, place)?, place)?;
        let mut sessions = merged.sessions.unwrap_or(0);
        add(&mut sessions, s.sessions.unwrap_or(1), "sessions", place)?;
        merged.sessions = Some(sessions);
        add(&mut merged.chunk_count, s.chunk_count, "chunk_count", place)?;
        add(&mut merged.bytes, s.bytes, "bytes", place)?;
        add(
            &mut merged.total_tokens,
            s.total_tokens,
            "total_tokens",
            place,
        )?;
        add(
            &mut merged.invalid_utf8_chunks,
            s.invalid_utf8_chunks,
            "invalid_utf8_chunks",
            place,
        )?;
        add(
            &mut merged.split_chunks,
            s.split_chunks,
            "split_chunks",
            place,
        )?;
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
                .map_err(|err| anyhow::anyhow!("{place}: {err}"))?;
            let (sum, sum_costs) = transcript.get_or_insert_default();
            *sum = sum
                .checked_plus(&tally)
                .ok_or_else(|| anyhow::anyhow!("{place}: {}", crate::transcript::overflow()))?;
            for (total, cost) in sum_costs.iter_mut().zip(costs) {
                add_money(total, cost, place)?;
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

fn time(text: &str, place: &str) -> anyhow::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|err| anyhow::anyhow!("{place}: time {} is not RFC 3339: {err}", quoted(text)))
}

fn money(text: &str, place: &str) -> anyhow::Result<Money> {
    Money::parse(text)
        .map_err(|err| anyhow::anyhow!("{place}: cost {} is not a decimal: {err}", quoted(text)))
}
