//! The session summary: typed figures that add up, written as one JSON
//! object or one line of text.
//!
//! Summaries are data: they serialize and deserialize with the same fields,
//! so they can be appended to a ledger file and summed later. Costs are
//! [`Money`] and times are UTC instants, written as exact decimal and
//! RFC 3339 text. [`Summary::add`] is the one sum: the total of a run's
//! inputs and `tokmeter merge` are both built with it.

mod agent;
mod merge;
mod provider;
mod report;
mod text;

pub use agent::{AgentSummary, CardCount, Figures, ModelFigures};
pub use merge::{Placed, dedupe, merge, read_summaries};
pub use provider::{ProviderSummary, bill};
pub use report::Report;
pub use text::{counted, group};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::clock::Clock;
use crate::money::Money;
use crate::transcript::TranscriptSummary;

/// What a session did.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    /// Unique per session (or as given with `--session-id`).
    pub session_id: String,
    /// The model priced, as named in the pricing table (or as given, if
    /// unknown and not priced).
    pub model: String,
    /// As given with `--agent-id`.
    pub agent_id: Option<String>,
    /// The input file, when reading named files; absent for stdin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// The session id of the total this summary is a part of (one input of
    /// several); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part_of: Option<String>,
    /// How many sessions a total covers; absent for a single session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions: Option<u64>,
    /// RFC 3339 UTC, microseconds.
    #[serde(with = "rfc3339")]
    pub start_time: DateTime<Utc>,
    /// RFC 3339 UTC, microseconds.
    #[serde(with = "rfc3339")]
    pub end_time: DateTime<Utc>,
    /// Milliseconds from start to end.
    pub duration_ms: f64,
    /// Milliseconds from start until the first chunk was complete; null with
    /// no chunks.
    pub time_to_first_chunk_ms: Option<f64>,
    /// Chunks metered.
    pub chunk_count: u64,
    /// Bytes of chunk content metered.
    pub bytes: u64,
    /// Tokens: the sum of the chunks' tokens.
    pub total_tokens: u64,
    /// `output` or `input`: which price was paid.
    pub side: String,
    /// The sum of the chunks' costs, written as an exact decimal string.
    pub total_cost: Money,
    /// Always `USD`.
    pub currency: String,
    /// False when the model was unknown and counted at no cost.
    pub priced: bool,
    /// total_tokens / duration; null when the duration is zero.
    pub tokens_per_second: Option<f64>,
    /// total_tokens / the time after the first chunk: the stream's own rate,
    /// without the wait for it to start; null when not measurable.
    #[serde(default)]
    pub tokens_per_second_after_first_chunk: Option<f64>,
    /// The tokenizer's name.
    pub tokenizer: String,
    /// Whether the counts are exact (not estimates).
    pub exact: bool,
    /// `stream` or `per-chunk`.
    pub count: String,
    /// Chunks that held invalid UTF-8.
    pub invalid_utf8_chunks: u64,
    /// Chunks cut at `--max-chunk`.
    pub split_chunks: u64,
    /// Null on success, else what stopped the stream.
    pub error: Option<String>,
    /// From `--meta KEY=VALUE`.
    pub metadata: Map<String, Value>,
    /// With `--input transcript`: records, and tokens and costs by price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<TranscriptSummary>,
    /// With agent logs: the responses billed, by model, and what became
    /// of the other lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentSummary>,
    /// The card a stream paid, when not the current card's base prices:
    /// its date, mode and tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardCount>,
    /// With a provider stream: its usage beside tokmeter's count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderSummary>,
}

impl Summary {
    /// The summary as one line of JSON (no newline).
    pub fn to_json(&self) -> String {
        // A struct of strings, numbers and maps always serializes.
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }

    /// This summary with its figures zeroed, covering no session yet: the
    /// start of a sum whose labels (model, tokenizer, side, …) are its own.
    #[must_use]
    pub fn empty_sum(&self, session_id: String) -> Summary {
        Summary {
            session_id,
            input: None,
            part_of: None,
            sessions: Some(0),
            chunk_count: 0,
            bytes: 0,
            total_tokens: 0,
            total_cost: Money::ZERO,
            invalid_utf8_chunks: 0,
            split_chunks: 0,
            time_to_first_chunk_ms: None,
            tokens_per_second_after_first_chunk: None,
            error: None,
            transcript: self.transcript.as_ref().map(TranscriptSummary::zeroed),
            agent: None,
            card: None,
            provider: None,
            ..self.clone()
        }
    }

    /// Times the summary by `clock` up to now: its start and end, the
    /// duration and the rate they give (a total is timed by its run's
    /// clock, not by the span of its parts).
    pub fn time_by(&mut self, clock: &Clock) {
        let elapsed = clock.elapsed();
        self.start_time = clock.start_time();
        self.end_time = clock.at(elapsed);
        self.duration_ms = millis(elapsed);
        self.tokens_per_second = rate(self.total_tokens, elapsed.as_secs_f64());
    }

    /// Adds `part` to this sum: counts and costs exactly, the time span from
    /// the earliest start to the latest end (with the duration and rate it
    /// gives), the earliest first chunk, the first error; labels that differ
    /// become `mixed`, and metadata keeps what all parts share. `Err` names
    /// the figure that would overflow, or costs in another currency.
    pub fn add(&mut self, part: &Summary) -> Result<(), String> {
        if part.currency != self.currency {
            return Err(format!(
                "cannot merge costs in {} with costs in {}",
                crate::plain::quoted(&self.currency),
                crate::plain::quoted(&part.currency)
            ));
        }
        let mut sum = self.clone();
        let checked = |a: u64, b: u64, field: &str| {
            a.checked_add(b)
                .ok_or_else(|| format!("{field} overflows the sum: it would pass {}", u64::MAX))
        };
        sum.start_time = sum.start_time.min(part.start_time);
        sum.end_time = sum.end_time.max(part.end_time);
        sum.total_cost = sum
            .total_cost
            .checked_add(part.total_cost)
            .ok_or_else(|| "the costs overflow the sum".to_string())?;
        sum.sessions = Some(checked(
            sum.sessions.unwrap_or(0),
            part.sessions.unwrap_or(1),
            "sessions",
        )?);
        sum.chunk_count = checked(sum.chunk_count, part.chunk_count, "chunk_count")?;
        sum.bytes = checked(sum.bytes, part.bytes, "bytes")?;
        sum.total_tokens = checked(sum.total_tokens, part.total_tokens, "total_tokens")?;
        sum.invalid_utf8_chunks = checked(
            sum.invalid_utf8_chunks,
            part.invalid_utf8_chunks,
            "invalid_utf8_chunks",
        )?;
        sum.split_chunks = checked(sum.split_chunks, part.split_chunks, "split_chunks")?;
        sum.time_to_first_chunk_ms = match (sum.time_to_first_chunk_ms, part.time_to_first_chunk_ms)
        {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        sum.exact &= part.exact;
        sum.priced &= part.priced;
        same_or_mixed(&mut sum.model, &part.model);
        same_or_mixed(&mut sum.tokenizer, &part.tokenizer);
        same_or_mixed(&mut sum.side, &part.side);
        same_or_mixed(&mut sum.count, &part.count);
        if sum.agent_id != part.agent_id {
            sum.agent_id = None;
        }
        sum.metadata
            .retain(|key, value| part.metadata.get(key) == Some(value));
        if sum.error.is_none() {
            sum.error.clone_from(&part.error);
        }
        if let Some(figures) = &part.provider {
            sum.provider = Some(match &sum.provider {
                Some(total) => total.checked_plus(figures)?,
                None => figures.clone(),
            });
        }
        if let Some(figures) = &part.agent {
            sum.agent = Some(match &sum.agent {
                Some(total) => total.checked_plus(figures)?,
                None => figures.clone(),
            });
        }
        if let Some(figures) = &part.transcript {
            sum.transcript = Some(match &sum.transcript {
                Some(total) => total.checked_plus(figures)?,
                None => figures.clone(),
            });
        }
        let span = (sum.end_time - sum.start_time).to_std().unwrap_or_default();
        sum.duration_ms = millis(span);
        sum.tokens_per_second = rate(sum.total_tokens, span.as_secs_f64());
        *self = sum;
        Ok(())
    }
}

/// Keeps `field` when `other` says the same, else makes it `mixed`.
fn same_or_mixed(field: &mut String, other: &str) {
    if field != other {
        *field = "mixed".to_string();
    }
}

/// The ids of a run's sessions: the run's own id for a single input; with
/// several, each input's is the run's id and its number (`ID-1`, `ID-2`,
/// …), and the total has the run's id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionIds {
    base: String,
    several: bool,
}

impl SessionIds {
    /// The ids of a run of `inputs` inputs, from `given` or a new random
    /// UUID.
    pub fn new(given: Option<String>, inputs: usize) -> SessionIds {
        SessionIds {
            base: given.unwrap_or_else(new_session_id),
            several: inputs > 1,
        }
    }

    /// The id of input `index` (from 0).
    pub fn of(&self, index: usize) -> String {
        match self.several {
            true => format!("{}-{}", self.base, index + 1),
            false => self.base.clone(),
        }
    }

    /// What an input's summary names in `part_of`: the total's id, when
    /// there is a total.
    pub fn part_of(&self) -> Option<String> {
        self.several.then(|| self.base.clone())
    }

    /// The id of the total.
    pub fn total(&self) -> &str {
        &self.base
    }
}

/// A new random UUID (version 4), from the standard library's random hasher
/// keys mixed with the time and process id.
pub fn new_session_id() -> String {
    use std::hash::{BuildHasher, Hasher};
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

/// A duration in milliseconds, to the microsecond.
pub fn millis(duration: std::time::Duration) -> f64 {
    (duration.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// Tokens per second, to a tenth; `None` for no time.
pub fn rate(tokens: u64, seconds: f64) -> Option<f64> {
    (seconds > 0.0).then(|| (tokens as f64 / seconds * 10.0).round() / 10.0)
}

/// Times in summaries: RFC 3339 UTC with microseconds; any offset is read.
mod rfc3339 {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        time: &DateTime<Utc>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&time.format("%Y-%m-%dT%H:%M:%S%.6fZ"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|time| time.with_timezone(&Utc))
            .map_err(|err| {
                serde::de::Error::custom(format!(
                    "time {} is not RFC 3339: {err}",
                    crate::plain::quoted(&text)
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_number_the_inputs_of_several() {
        let one = SessionIds::new(Some("run".into()), 1);
        assert_eq!((one.of(0), one.part_of()), ("run".to_string(), None));
        let three = SessionIds::new(Some("run".into()), 3);
        assert_eq!(three.of(2), "run-3");
        assert_eq!(three.part_of().as_deref(), Some("run"));
        assert_eq!(three.total(), "run");
        let random = SessionIds::new(None, 1).of(0);
        assert_eq!(random.len(), 36);
        assert_eq!(&random[14..15], "4");
    }
}
