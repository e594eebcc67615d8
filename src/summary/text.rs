//! The summary as one line for people: figures grouped by thousands,
//! costs with at least two decimals, text from the input escaped.

use super::{AgentSummary, ProviderSummary, Summary};
use crate::money::Money;
use crate::transcript::TranscriptSummary;

impl Summary {
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
            people(self.total_cost),
        );
        match &self.transcript {
            Some(transcript) => self.push_transcript_figures(&mut line, transcript),
            None => self.push_stream_figures(&mut line),
        }
        if let Some(provider) = &self.provider {
            push_provider_figures(&mut line, provider);
        }
        let unpriced_listed = self.agent.as_ref().is_some_and(|a| a.unpriced_tokens > 0);
        if !self.priced && !unpriced_listed {
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
        let mut at_price = |label: &str, tokens: u64, cost: Money| {
            line.push_str(&format!(" · {label} {} ${}", group(tokens), people(cost)));
        };
        at_price("input", t.input_tokens, t.input_cost);
        at_price("output", t.output_tokens, t.output_cost);
        if t.cache_read_tokens > 0 || t.cache_write_tokens > 0 || t.cache_write_1h_tokens > 0 {
            at_price("cache read", t.cache_read_tokens, t.cache_read_cost);
            at_price("cache write", t.cache_write_tokens, t.cache_write_cost);
        }
        if t.cache_write_1h_tokens > 0 {
            at_price(
                "cache write 1h",
                t.cache_write_1h_tokens,
                t.cache_write_1h_cost,
            );
        }
        match &self.agent {
            Some(agent) => push_agent_figures(line, t, agent),
            None => line.push_str(&format!(
                " · {} ({} tokenized, {} from usage)",
                counted(t.records, "record"),
                group(t.records_tokenized),
                group(t.records_from_usage),
            )),
        }
        if t.bad_lines > 0 {
            line.push_str(&format!(" · {}", counted(t.bad_lines, "bad line")));
        }
        line.push_str(&format!(" · {:.3} s", self.duration_ms / 1000.0));
    }
}

/// An agent log's responses, what became of its other lines, and the
/// tokens left unpriced.
fn push_agent_figures(line: &mut String, t: &TranscriptSummary, a: &AgentSummary) {
    let chat = t.records_from_usage.saturating_sub(a.responses) + t.records_tokenized;
    line.push_str(&format!(" · {}", counted(a.responses, "response")));
    if chat > 0 {
        line.push_str(&format!(" and {}", counted(chat, "chat record")));
    }
    line.push_str(&format!(" in {}", counted(a.files, "file")));
    let others = [
        (a.duplicate_lines, "duplicate"),
        (a.replay_lines, "replayed"),
        (a.reemitted_lines, "re-emitted"),
        (a.synthetic_lines, "synthetic"),
        (a.skipped_lines, "skipped"),
    ];
    let others: Vec<String> = others
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{} {what}", group(*n)))
        .collect();
    if !others.is_empty() {
        line.push_str(&format!(" (lines: {})", others.join(", ")));
    }
    if a.unpriced_tokens > 0 {
        line.push_str(&format!(
            " · {} unpriced ({})",
            counted(a.unpriced_tokens, "token"),
            a.unpriced_models.join(", ")
        ));
    }
}

/// What a provider stream reported beside what tokmeter counted, and
/// which was billed.
fn push_provider_figures(line: &mut String, p: &ProviderSummary) {
    line.push_str(&format!(" · {}", p.format));
    if let Some(model) = &p.model {
        line.push_str(&format!(" {model}"));
    }
    match &p.usage {
        Some(usage) => {
            let mut figures = Vec::new();
            let classes = [
                ("input", usage.input),
                ("output", usage.output),
                ("cache read", usage.cache_read),
                ("cache write", usage.cache_write),
                ("cache write 1h", usage.cache_write_1h),
                ("reasoning", usage.reasoning),
            ];
            for (label, count) in classes {
                if let Some(count) =
                    count.filter(|&n| n > 0 || label == "input" || label == "output")
                {
                    figures.push(format!("{label} {}", group(count)));
                }
            }
            line.push_str(&format!(" · usage: {}", figures.join(", ")));
            if let Some(cost) = &usage.cost {
                line.push_str(&format!(" (reported ${cost})"));
            }
        }
        None => line.push_str(" · no usage reported"),
    }
    line.push_str(&format!(
        " · counted {}",
        counted(p.counted_output_tokens, "output token")
    ));
    if let Some(prompt) = p.prompt_tokens {
        line.push_str(&format!(" + {} prompt", counted(prompt, "token")));
    }
    line.push_str(&format!(" · billed from {}", p.billed));
    if !p.complete {
        line.push_str(" · stream incomplete");
    }
    if p.bad_payloads > 0 {
        line.push_str(&format!(
            " · {} unreadable",
            counted(p.bad_payloads, "payload")
        ));
    }
}

/// A cost with at least two decimals, for people.
fn people(cost: Money) -> String {
    cost.to_string_min_decimals(2)
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
