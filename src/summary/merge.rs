//! Many JSON summaries summed into one, as `tokmeter merge` prints it.
//!
//! Sums are exact: counts as integers, costs as exact decimals, so shards
//! priced apart merge to the very figures of one run. A total and the
//! per-input summaries that name it in `part_of` count once; a sum that
//! would overflow is an error naming the summary, never a wrong figure.

use std::collections::{HashMap, HashSet};
use std::io::BufRead;

use anyhow::{Context, bail};

use super::Summary;
use crate::plain::quoted;

/// A summary and where it was read: `FILE:LINE`.
pub struct Placed {
    /// The summary.
    pub summary: Summary,
    /// `FILE:LINE`, for messages.
    pub place: String,
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
        let summary = serde_json::from_slice::<Summary>(&line)
            .map_err(|err| anyhow::anyhow!("{place}: {}", plain_error(&err)))?;
        out.push(Placed { summary, place });
    }
    Ok(())
}

/// A JSON error in plain words, without serde_json's place in the line. A
/// cost or time that is not one is named as itself.
fn plain_error(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let message = text
        .rfind(" at line ")
        .map_or(text.as_str(), |at| &text[..at]);
    match err.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            format!("not a tokmeter JSON summary: line is not JSON: {message}")
        }
        _ if message.starts_with("cost ") || message.starts_with("time ") => {
            crate::plain::escape_controls(message)
        }
        _ => format!(
            "not a tokmeter JSON summary: {}",
            crate::plain::json_error(message)
        ),
    }
}

/// The summaries that count, each session once, and the warnings to give.
///
/// A summary that says it is a part of a total (`part_of`) is skipped when
/// that total is merged too, so each session counts once. A session id seen
/// twice counts once, with a warning naming both places.
pub fn dedupe(summaries: &[Placed]) -> (Vec<&Placed>, Vec<String>) {
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
    let mut warnings = Vec::new();
    let mut first_place: HashMap<&str, &str> = HashMap::new();
    let mut warned: HashSet<&str> = HashSet::new();
    let mut kept: Vec<&Placed> = Vec::new();
    for placed in summaries {
        if covered(&placed.summary) {
            continue;
        }
        let session = placed.summary.session_id.as_str();
        match first_place.get(session) {
            Some(first) => {
                if warned.insert(session) {
                    warnings.push(format!(
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
    (kept, warnings)
}

/// The sum of `kept` (see [`dedupe`]), with session id `id`.
pub fn merge(kept: &[&Placed], id: String) -> anyhow::Result<Summary> {
    let Some(first) = kept.first() else {
        bail!("no summaries to merge");
    };
    let mut merged = first.summary.empty_sum(id);
    let mut errors = 0u64;
    for placed in kept {
        merged
            .add(&placed.summary)
            .map_err(|why| anyhow::anyhow!("{}: {why}", placed.place))?;
        errors += u64::from(placed.summary.error.is_some());
    }
    if errors > 1
        && let Some(error) = &merged.error
    {
        merged.error = Some(format!(
            "{errors} sessions ended with an error; the first: {error}"
        ));
    }
    Ok(merged)
}
