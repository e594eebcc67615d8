//! The `provider` object of a provider stream's summary: what the stream
//! reported beside what tokmeter counted, and which of the two was billed.

use serde::{Deserialize, Serialize};

use crate::decode::providers::Usage;
use crate::money::Money;
use crate::pricing::Model;

/// A provider stream's figures.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProviderSummary {
    /// The format (`openai-chat`, `anthropic`, …), or `text` when `auto`
    /// found none.
    pub format: String,
    /// Whether the format was told from the first bytes.
    pub detected: bool,
    /// The model as the stream names it.
    pub model: Option<String>,
    /// `usage` (the provider's report) or `count` (tokmeter's count of the
    /// deltas, with the prompt if given).
    pub billed: String,
    /// Whether the stream's terminal event came (Gemini has none: its end
    /// is the end of input).
    pub complete: bool,
    /// The provider's usage, normalized (`input` is uncached input,
    /// `output` includes reasoning), as it reported it; `null` without a
    /// report.
    pub usage: Option<Usage>,
    /// tokmeter's count of the stream's text deltas, all kinds.
    pub counted_output_tokens: u64,
    /// Their cost at the model's output price.
    pub counted_output_cost: Money,
    /// The prompt's tokens when given (`--prompt-tokens`, `--prompt`).
    pub prompt_tokens: Option<u64>,
    /// Payloads that could not be read (passed through all the same).
    pub bad_payloads: u64,
}

/// Tokens billed and their cost at `model`'s card for the request: by
/// `time` (`None`: now) and `mode`, then the context tier of its prompt
/// (uncached input, cache reads and writes), every class at that one
/// card's price (a cache price the card lacks is the input price; a 1-hour
/// write without its own price pays the cache-write price; reasoning
/// without its own pays output's), and the card when it is not the base.
/// `None` past `u64::MAX`.
pub fn bill(
    usage: &Usage,
    model: &Model,
    time: Option<chrono::DateTime<chrono::Utc>>,
    mode: Option<&str>,
) -> Option<(u64, Money, Option<super::CardCount>)> {
    let usage = crate::pricing::Usage {
        input: usage.input.unwrap_or(0),
        output: usage.output.unwrap_or(0),
        cache_read: usage.cache_read.unwrap_or(0),
        cache_write: usage.cache_write.unwrap_or(0),
        cache_write_1h: usage.cache_write_1h.unwrap_or(0),
        reasoning: usage.reasoning.unwrap_or(0),
    };
    let tokens = usage
        .input
        .checked_add(usage.output)?
        .checked_add(usage.cache_read)?
        .checked_add(usage.cache_write)?
        .checked_add(usage.cache_write_1h)?;
    usage.prompt()?;
    let (chosen, costs) = model.price_request(&usage, time, mode);
    let mut cost = Money::ZERO;
    for class in costs {
        cost = cost.checked_add(class)?;
    }
    Some((tokens, cost, super::CardCount::of_request(model, &chosen)))
}

/// The field-by-field sum of two streams' usage (`None` past `u64::MAX`);
/// a reported cost is kept only when both report one, summed exactly.
fn usage_plus(a: &Usage, b: &Usage) -> Option<Usage> {
    fn add(a: Option<u64>, b: Option<u64>) -> Option<Option<u64>> {
        match (a, b) {
            (Some(a), Some(b)) => a.checked_add(b).map(Some),
            (a, b) => Some(a.or(b)),
        }
    }
    let cost = match (&a.cost, &b.cost) {
        (Some(x), Some(y)) => match (Money::parse(x), Money::parse(y)) {
            (Ok(x), Ok(y)) => x.checked_add(y).map(|sum| sum.to_string()),
            _ => None,
        },
        _ => None,
    };
    Some(Usage {
        input: add(a.input, b.input)?,
        output: add(a.output, b.output)?,
        cache_read: add(a.cache_read, b.cache_read)?,
        cache_write: add(a.cache_write, b.cache_write)?,
        cache_write_1h: add(a.cache_write_1h, b.cache_write_1h)?,
        reasoning: add(a.reasoning, b.reasoning)?,
        cost,
    })
}

impl ProviderSummary {
    /// The sum of two streams' figures; labels that differ become `mixed`.
    /// `Err` says what would overflow.
    pub fn checked_plus(&self, other: &ProviderSummary) -> Result<ProviderSummary, String> {
        let overflow = || "the provider figures overflow the sum".to_string();
        let label = |a: &str, b: &str| {
            let mut label = a.to_string();
            super::same_or_mixed(&mut label, b);
            label
        };
        let usage = match (&self.usage, &other.usage) {
            (Some(a), Some(b)) => Some(usage_plus(a, b).ok_or_else(overflow)?),
            (a, b) => a.clone().or_else(|| b.clone()),
        };
        Ok(ProviderSummary {
            format: label(&self.format, &other.format),
            detected: self.detected && other.detected,
            model: match (&self.model, &other.model) {
                (Some(a), Some(b)) => Some(label(a, b)),
                (a, b) => a.clone().or_else(|| b.clone()),
            },
            billed: label(&self.billed, &other.billed),
            complete: self.complete && other.complete,
            usage,
            counted_output_tokens: self
                .counted_output_tokens
                .checked_add(other.counted_output_tokens)
                .ok_or_else(overflow)?,
            counted_output_cost: self
                .counted_output_cost
                .checked_add(other.counted_output_cost)
                .ok_or_else(overflow)?,
            prompt_tokens: match (self.prompt_tokens, other.prompt_tokens) {
                (Some(a), Some(b)) => Some(a.checked_add(b).ok_or_else(overflow)?),
                (a, b) => a.or(b),
            },
            bad_payloads: self
                .bad_payloads
                .checked_add(other.bad_payloads)
                .ok_or_else(overflow)?,
        })
    }
}
