//! The session summary: totals and timing, as one JSON object or one line
//! of text.
//!
//! Summaries are data: they serialize and deserialize with the same fields,
//! so they can be appended to a ledger file and summed later.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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
    pub start_time: String,
    /// RFC 3339 UTC, microseconds.
    pub end_time: String,
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
    /// The sum of the chunks' costs, an exact decimal string.
    pub total_cost: String,
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
}

impl Summary {
    /// The summary as one line of JSON (no newline).
    pub fn to_json(&self) -> String {
        // A struct of strings, numbers and maps always serializes.
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }

    /// The summary as one human line (no newline). Text that came from the
    /// input (a file name, a model, an error) has its control characters
    /// escaped, so the line stays one line, wherever it is written.
    pub fn to_text(&self) -> String {
        let what = match (&self.input, self.sessions) {
            (_, Some(n)) => format!("total of {}: ", counted(n, "input")),
            (Some(input), None) => format!("{input}: "),
            (None, None) => String::new(),
        };
        let kind = if self.exact { "exact" } else { "estimated" };
        let priced_as = match &self.transcript {
            Some(_) => format!("{}, {}", self.model, self.count),
            None => format!("{} {}", self.model, self.side),
        };
        let mut line = format!(
            "tokmeter: {what}{} ({kind}, {}) · ${} ({priced_as})",
            counted(self.total_tokens, "token"),
            self.tokenizer,
            people(&self.total_cost),
        );
        match &self.transcript {
            Some(transcript) => self.push_transcript_figures(&mut line, transcript),
            None => self.push_stream_figures(&mut line),
        }
        if !self.priced {
            line.push_str(" · unknown model, not priced");
        }
        if self.invalid_utf8_chunks > 0 {
            line.push_str(&format!(
                " · {} chunks with invalid UTF-8",
                group(self.invalid_utf8_chunks)
            ));
        }
        if let Some(error) = &self.error {
            line.push_str(&format!(" · {error}"));
        }
        crate::plain::escape_controls(&line)
    }

    /// Chunks, bytes, time and rates of a stream.
    fn push_stream_figures(&self, line: &mut String) {
        line.push_str(&format!(
            " · {} · {} · {:.3} s",
            counted(self.chunk_count, "chunk"),
            counted(self.bytes, "byte"),
            self.duration_ms / 1000.0,
        ));
        if let Some(rate) = self.tokens_per_second {
            line.push_str(&format!(" · {} tokens/s", group(rate.round() as u64)));
            if let Some(after) = self.tokens_per_second_after_first_chunk {
                line.push_str(&format!(
                    " ({} after the first chunk)",
                    group(after.round() as u64)
                ));
            }
        }
        if let Some(first) = self.time_to_first_chunk_ms {
            line.push_str(&format!(" · first chunk {first:.1} ms"));
        }
    }

    /// Tokens and costs by price, records and time of transcripts.
    fn push_transcript_figures(&self, line: &mut String, t: &TranscriptSummary) {
        let mut at_price = |label: &str, tokens: u64, cost: &str| {
            line.push_str(&format!(" · {label} {} ${}", group(tokens), people(cost)));
        };
        at_price("input", t.input_tokens, &t.input_cost);
        at_price("output", t.output_tokens, &t.output_cost);
        if t.cache_read_tokens > 0 || t.cache_write_tokens > 0 {
            at_price("cache read", t.cache_read_tokens, &t.cache_read_cost);
            at_price("cache write", t.cache_write_tokens, &t.cache_write_cost);
        }
        line.push_str(&format!(
            " · {} ({} tokenized, {} from usage)",
            counted(t.records, "record"),
            group(t.records_tokenized),
            group(t.records_from_usage),
        ));
        if t.bad_lines > 0 {
            line.push_str(&format!(" · {}", counted(t.bad_lines, "bad line")));
        }
        line.push_str(&format!(" · {:.3} s", self.duration_ms / 1000.0));
    }
}

/// A cost with at least two decimals, for people; as given if it is not a
/// decimal.
fn people(cost: &str) -> String {
    Money::parse(cost).map_or_else(|_| cost.to_string(), |m| m.to_string_min_decimals(2))
}

/// `1 token`, `2,000 tokens`.
pub fn counted(value: u64, noun: &str) -> String {
    let plural = if value == 1 { "" } else { "s" };
    format!("{} {noun}{plural}", group(value))
}

/// `1234567` → `1,234,567`.
pub fn group(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(1234567), "1,234,567");
    }
}
