//! What transcripts come to: tokens by price, the records behind them,
//! and the same figures priced, as a summary holds them.

use serde::{Deserialize, Serialize};

use super::record::{Bill, overflow};
use crate::money::{Money, Price};
use crate::pricing::Model;

/// The four prices a transcript's tokens pay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prices {
    /// Input tokens.
    pub input: Price,
    /// Output tokens.
    pub output: Price,
    /// Cache reads; the input price when the table lists none.
    pub cache_read: Price,
    /// Cache writes; the input price when the table lists none.
    pub cache_write: Price,
}

impl Prices {
    /// A model's prices (its current card's base).
    pub fn of(model: &Model) -> Prices {
        Prices {
            input: model.input,
            output: model.output,
            cache_read: model.cache_read.unwrap_or(model.input),
            cache_write: model.cache_write.unwrap_or(model.input),
        }
    }

    /// A card's prices.
    pub fn of_card(card: &crate::pricing::Prices) -> Prices {
        Prices {
            input: card.input,
            output: card.output,
            cache_read: card.cache_read.unwrap_or(card.input),
            cache_write: card.cache_write.unwrap_or(card.input),
        }
    }
}

/// What one or more transcripts came to, in tokens by price.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Lines that held a record (blank lines are not records).
    pub records: u64,
    /// Records billed from the provider's usage.
    pub from_usage: u64,
    /// Records whose text was tokenized.
    pub tokenized: u64,
    /// Lines skipped as bad.
    pub bad_lines: u64,
    /// Messages in the records.
    pub messages: u64,
    /// Tokens billed, by price.
    pub bill: Bill,
    /// The part of `bill` priced request by request (records with usage,
    /// each at its own card), and what it cost: input, output, cache read,
    /// cache write.
    pub requests: Bill,
    /// What `requests` cost.
    pub request_costs: [Money; 4],
    /// How many of those requests paid each card: `base`, `>N` (the tier
    /// above N prompt tokens), with the mode and the card's date before it
    /// when not the current card's own (`batch >200000`, `2026-07-09 base`).
    pub cards: std::collections::BTreeMap<String, u64>,
}

impl Tally {
    /// The field-by-field sum of two tallies; `None` when a figure would
    /// pass `u64::MAX`.
    #[must_use]
    pub fn checked_plus(&self, other: &Tally) -> Option<Tally> {
        Some(Tally {
            records: self.records.checked_add(other.records)?,
            from_usage: self.from_usage.checked_add(other.from_usage)?,
            tokenized: self.tokenized.checked_add(other.tokenized)?,
            bad_lines: self.bad_lines.checked_add(other.bad_lines)?,
            messages: self.messages.checked_add(other.messages)?,
            bill: self.bill.checked_plus(&other.bill)?,
            requests: self.requests.checked_plus(&other.requests)?,
            request_costs: [0, 1, 2, 3]
                .map(|i| self.request_costs[i].saturating_add(other.request_costs[i])),
            cards: add_cards(&self.cards, &other.cards),
        })
    }

    /// All tokens billed. A tally's bill is only ever built by checked
    /// sums, so this cannot pass `u64::MAX`; it saturates if it did.
    pub fn tokens(&self) -> u64 {
        self.bill.checked_tokens().unwrap_or(u64::MAX)
    }
}

/// The card counts of two tallies together.
fn add_cards(
    a: &std::collections::BTreeMap<String, u64>,
    b: &std::collections::BTreeMap<String, u64>,
) -> std::collections::BTreeMap<String, u64> {
    let mut sum = a.clone();
    for (card, n) in b {
        let count = sum.entry(card.clone()).or_default();
        *count = count.saturating_add(*n);
    }
    sum
}

/// A tally priced: the `transcript` object of a summary.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct TranscriptSummary {
    /// Lines that held a record.
    pub records: u64,
    /// Records billed from the provider's usage.
    pub records_from_usage: u64,
    /// Records whose text was tokenized.
    pub records_tokenized: u64,
    /// Lines skipped as bad.
    pub bad_lines: u64,
    /// Messages in the records.
    pub messages: u64,
    /// Input tokens at the input price.
    pub input_tokens: u64,
    /// Output tokens at the output price.
    pub output_tokens: u64,
    /// Tokens read from the prompt cache.
    pub cache_read_tokens: u64,
    /// Tokens written to the prompt cache.
    pub cache_write_tokens: u64,
    /// USD, written as an exact decimal.
    pub input_cost: Money,
    /// USD, written as an exact decimal.
    pub output_cost: Money,
    /// USD, written as an exact decimal.
    pub cache_read_cost: Money,
    /// USD, written as an exact decimal.
    pub cache_write_cost: Money,
    /// Tokens written to a 1-hour cache (agent logs that say so); the
    /// other writes are in `cache_write_tokens`.
    #[serde(default)]
    pub cache_write_1h_tokens: u64,
    /// USD, written as an exact decimal.
    #[serde(default)]
    pub cache_write_1h_cost: Money,
    /// Records with usage priced as requests, by the card they paid
    /// (`base`, `>200000`, `batch >200000`, …).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub requests_by_card: std::collections::BTreeMap<String, u64>,
}

impl TranscriptSummary {
    /// The tally at `prices`, and the total cost.
    /// Records priced as requests of their own keep their costs; the rest
    /// pay `prices`.
    pub fn priced(tally: &Tally, prices: &Prices) -> (TranscriptSummary, Money) {
        let (b, r, paid) = (&tally.bill, &tally.requests, &tally.request_costs);
        let costs = [
            prices.input.cost(b.input - r.input).saturating_add(paid[0]),
            prices
                .output
                .cost(b.output - r.output)
                .saturating_add(paid[1]),
            prices
                .cache_read
                .cost(b.cache_read - r.cache_read)
                .saturating_add(paid[2]),
            prices
                .cache_write
                .cost(b.cache_write - r.cache_write)
                .saturating_add(paid[3]),
        ];
        (
            TranscriptSummary::new(tally, costs),
            costs.iter().copied().sum(),
        )
    }

    /// A tally with its costs (input, output, cache read, cache write).
    pub fn new(tally: &Tally, costs: [Money; 4]) -> TranscriptSummary {
        let b = &tally.bill;
        TranscriptSummary {
            records: tally.records,
            records_from_usage: tally.from_usage,
            records_tokenized: tally.tokenized,
            bad_lines: tally.bad_lines,
            messages: tally.messages,
            input_tokens: b.input,
            output_tokens: b.output,
            cache_read_tokens: b.cache_read,
            cache_write_tokens: b.cache_write,
            input_cost: costs[0],
            output_cost: costs[1],
            cache_read_cost: costs[2],
            cache_write_cost: costs[3],
            cache_write_1h_tokens: 0,
            cache_write_1h_cost: Money::ZERO,
            requests_by_card: tally.cards.clone(),
        }
    }

    /// The tally these figures come from, and their costs (input, output,
    /// cache read, cache write).
    pub fn parts(&self) -> (Tally, [Money; 4]) {
        let tally = Tally {
            records: self.records,
            from_usage: self.records_from_usage,
            tokenized: self.records_tokenized,
            bad_lines: self.bad_lines,
            messages: self.messages,
            requests: Bill::default(),
            request_costs: [Money::ZERO; 4],
            cards: self.requests_by_card.clone(),
            bill: Bill {
                input: self.input_tokens,
                output: self.output_tokens,
                cache_read: self.cache_read_tokens,
                cache_write: self.cache_write_tokens,
            },
        };
        let costs = [
            self.input_cost,
            self.output_cost,
            self.cache_read_cost,
            self.cache_write_cost,
        ];
        (tally, costs)
    }

    /// The field-by-field sum; `Err` says what would overflow.
    pub fn checked_plus(&self, other: &TranscriptSummary) -> Result<TranscriptSummary, String> {
        let ((a, a_costs), (b, b_costs)) = (self.parts(), other.parts());
        let tally = a.checked_plus(&b).ok_or_else(overflow)?;
        let mut costs = [Money::ZERO; 4];
        for (sum, (a, b)) in costs.iter_mut().zip(a_costs.iter().zip(b_costs)) {
            *sum = a
                .checked_add(b)
                .ok_or_else(|| "the costs overflow the sum".to_string())?;
        }
        let mut sum = TranscriptSummary::new(&tally, costs);
        sum.cache_write_1h_tokens = self
            .cache_write_1h_tokens
            .checked_add(other.cache_write_1h_tokens)
            .ok_or_else(overflow)?;
        sum.cache_write_1h_cost = self
            .cache_write_1h_cost
            .checked_add(other.cache_write_1h_cost)
            .ok_or_else(|| "the costs overflow the sum".to_string())?;
        sum.requests_by_card = add_cards(&self.requests_by_card, &other.requests_by_card);
        Ok(sum)
    }

    /// The same shape with every figure zero.
    #[must_use]
    pub fn zeroed(&self) -> TranscriptSummary {
        TranscriptSummary::new(&Tally::default(), [Money::ZERO; 4])
    }
}
