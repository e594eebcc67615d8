//! The `agent` object of an agent log's summary: the responses billed, by
//! model, and what became of the other lines.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::agent::{Lines, Priced};
use crate::money::Money;

/// Tokens by class and their cost: a model's, a group's or a total's.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Figures {
    /// API responses (calls) billed.
    pub responses: u64,
    /// Uncached input tokens.
    pub input_tokens: u64,
    /// Output tokens, reasoning included.
    pub output_tokens: u64,
    /// Tokens read from the prompt cache.
    pub cache_read_tokens: u64,
    /// Tokens written to the 5-minute cache.
    pub cache_write_tokens: u64,
    /// Tokens written to the 1-hour cache.
    pub cache_write_1h_tokens: u64,
    /// The reasoning inside the output, where the log says.
    #[serde(default)]
    pub reasoning_tokens: u64,
    /// USD, written as an exact decimal; the priced tokens only.
    pub cost: Money,
    /// Tokens of models the pricing table lacks (inside the figures above,
    /// not in the cost).
    #[serde(default)]
    pub unpriced_tokens: u64,
}

impl Figures {
    /// One priced call.
    pub fn of(call: &Priced) -> Figures {
        let t = &call.tokens;
        Figures {
            responses: 1,
            input_tokens: t.input,
            output_tokens: t.output,
            cache_read_tokens: t.cache_read,
            cache_write_tokens: t.cache_write,
            cache_write_1h_tokens: t.cache_write_1h,
            reasoning_tokens: t.reasoning,
            cost: call.cost,
            unpriced_tokens: if call.priced {
                0
            } else {
                t.total().unwrap_or(u64::MAX)
            },
        }
    }

    /// All billed tokens (reasoning is inside output).
    pub fn tokens(&self) -> Option<u64> {
        self.input_tokens
            .checked_add(self.output_tokens)?
            .checked_add(self.cache_read_tokens)?
            .checked_add(self.cache_write_tokens)?
            .checked_add(self.cache_write_1h_tokens)
    }

    /// Adds `other`; `Err` says what would overflow.
    pub fn add(&mut self, other: &Figures) -> Result<(), String> {
        let overflow = || format!("the token counts overflow: a total would pass {}", u64::MAX);
        let add = |a: &mut u64, b: u64| -> Result<(), String> {
            *a = a.checked_add(b).ok_or_else(overflow)?;
            Ok(())
        };
        add(&mut self.responses, other.responses)?;
        add(&mut self.input_tokens, other.input_tokens)?;
        add(&mut self.output_tokens, other.output_tokens)?;
        add(&mut self.cache_read_tokens, other.cache_read_tokens)?;
        add(&mut self.cache_write_tokens, other.cache_write_tokens)?;
        add(&mut self.cache_write_1h_tokens, other.cache_write_1h_tokens)?;
        add(&mut self.reasoning_tokens, other.reasoning_tokens)?;
        add(&mut self.unpriced_tokens, other.unpriced_tokens)?;
        self.tokens().ok_or_else(overflow)?;
        self.cost = self
            .cost
            .checked_add(other.cost)
            .ok_or_else(|| "the costs overflow the sum".to_string())?;
        Ok(())
    }
}

/// One model's share of an agent log.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ModelFigures {
    /// Its name in the pricing table, or as the log wrote it if unpriced.
    pub model: String,
    /// False when the pricing table lacks it.
    pub priced: bool,
    /// Its responses, tokens and cost.
    #[serde(flatten)]
    pub figures: Figures,
    /// How many responses paid each card: by the card's date, the mode and
    /// the context tier.
    #[serde(default)]
    pub cards: Vec<CardCount>,
}

/// The responses that paid one card.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct CardCount {
    /// When the card began (`YYYY-MM-DD`, UTC), or null for an undated one.
    pub effective_from: Option<String>,
    /// The mode (`batch`, `priority`, `fast`, …), or null for the card's
    /// own prices.
    pub mode: Option<String>,
    /// `base`, or `>N` for the tier above N prompt tokens.
    pub tier: String,
    /// Responses billed at it.
    pub responses: u64,
}

impl CardCount {
    /// The card of one request, unless it is the current card's base
    /// prices: `chosen` for `model`.
    pub fn of_request(
        model: &crate::pricing::Model,
        chosen: &crate::pricing::Chosen<'_>,
    ) -> Option<CardCount> {
        let current = std::ptr::eq(chosen.card, model.card());
        (!current || chosen.mode.is_some() || chosen.tier.is_some()).then(|| CardCount {
            effective_from: chosen
                .card
                .effective_from
                .map(|t| t.format("%Y-%m-%d").to_string()),
            mode: chosen.mode.map(str::to_string),
            tier: chosen
                .tier
                .map_or("base".to_string(), |size| format!(">{size}")),
            responses: 1,
        })
    }

    /// The card a priced call paid, counting one.
    fn of(call: &Priced) -> CardCount {
        CardCount {
            effective_from: call.card_from.map(|t| t.format("%Y-%m-%d").to_string()),
            mode: call.mode.as_deref().map(str::to_string),
            tier: call
                .tier
                .map_or("base".to_string(), |size| format!(">{size}")),
            responses: 1,
        }
    }
}

/// Adds `more` to `counts`, card by card, sorted.
fn add_cards(counts: &mut Vec<CardCount>, more: &[CardCount]) {
    for card in more {
        let same = counts.iter_mut().find(|c| {
            c.effective_from == card.effective_from && c.mode == card.mode && c.tier == card.tier
        });
        match same {
            Some(c) => c.responses = c.responses.saturating_add(card.responses),
            None => counts.push(card.clone()),
        }
    }
    counts.sort();
}

/// What an input's agent logs came to, beyond its tokens and costs.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct AgentSummary {
    /// `claude-code`, `codex`, or `mixed`.
    pub format: String,
    /// Files read.
    pub files: u64,
    /// API responses billed, each once.
    pub responses: u64,
    /// Lines of a response billed from another line.
    pub duplicate_lines: u64,
    /// Sub-agent lines replaying a main-session response: not billed.
    pub replay_lines: u64,
    /// Codex `token_count` events that repeat the totals: not billed.
    pub reemitted_lines: u64,
    /// `<synthetic>` and API-error lines: never billed.
    pub synthetic_lines: u64,
    /// Lines that record no call (prompts, tool results, snapshots, …).
    pub skipped_lines: u64,
    /// The reasoning inside the output tokens, where the log says.
    pub reasoning_tokens: u64,
    /// Tokens of models the pricing table lacks, not in the cost.
    pub unpriced_tokens: u64,
    /// Those models, sorted.
    pub unpriced_models: Vec<String>,
    /// Per model, sorted by name.
    pub models: Vec<ModelFigures>,
}

impl AgentSummary {
    /// The summary of `calls` (one input's) and its line counts, over
    /// `files` files of `format`.
    pub fn new(
        format: &str,
        files: u64,
        calls: &[&Priced],
        lines: &Lines,
    ) -> Result<AgentSummary, String> {
        let mut models: BTreeMap<(&str, bool), (Figures, Vec<CardCount>)> = BTreeMap::new();
        for call in calls {
            let (figures, cards) = models.entry((&call.model, call.priced)).or_default();
            figures.add(&Figures::of(call))?;
            if call.priced {
                add_cards(cards, &[CardCount::of(call)]);
            }
        }
        let models: Vec<ModelFigures> = models
            .into_iter()
            .map(|((model, priced), (figures, cards))| ModelFigures {
                model: model.to_string(),
                priced,
                figures,
                cards,
            })
            .collect();
        let mut summary = AgentSummary {
            format: format.to_string(),
            files,
            duplicate_lines: lines.duplicate,
            replay_lines: lines.replay,
            reemitted_lines: lines.reemitted,
            synthetic_lines: lines.synthetic,
            skipped_lines: lines.skipped,
            ..AgentSummary::default()
        };
        summary.set_totals(models)?;
        Ok(summary)
    }

    /// The figures of all models together.
    pub fn total(&self) -> Result<Figures, String> {
        let mut total = Figures::default();
        for model in &self.models {
            total.add(&model.figures)?;
        }
        Ok(total)
    }

    /// Sets the per-model figures and the counts drawn from them.
    fn set_totals(&mut self, models: Vec<ModelFigures>) -> Result<(), String> {
        self.models = models;
        let total = self.total()?;
        self.responses = total.responses;
        self.reasoning_tokens = total.reasoning_tokens;
        self.unpriced_tokens = total.unpriced_tokens;
        self.unpriced_models = self
            .models
            .iter()
            .filter(|m| !m.priced)
            .map(|m| m.model.clone())
            .collect();
        Ok(())
    }

    /// The sum of two inputs' figures; models merge by name.
    pub fn checked_plus(&self, other: &AgentSummary) -> Result<AgentSummary, String> {
        let mut format = self.format.clone();
        super::same_or_mixed(&mut format, &other.format);
        let mut models: BTreeMap<(String, bool), (Figures, Vec<CardCount>)> = BTreeMap::new();
        for m in self.models.iter().chain(&other.models) {
            let (figures, cards) = models.entry((m.model.clone(), m.priced)).or_default();
            figures.add(&m.figures)?;
            add_cards(cards, &m.cards);
        }
        let add = |a: u64, b: u64| a.saturating_add(b);
        let mut sum = AgentSummary {
            format,
            files: add(self.files, other.files),
            duplicate_lines: add(self.duplicate_lines, other.duplicate_lines),
            replay_lines: add(self.replay_lines, other.replay_lines),
            reemitted_lines: add(self.reemitted_lines, other.reemitted_lines),
            synthetic_lines: add(self.synthetic_lines, other.synthetic_lines),
            skipped_lines: add(self.skipped_lines, other.skipped_lines),
            ..AgentSummary::default()
        };
        sum.set_totals(
            models
                .into_iter()
                .map(|((model, priced), (figures, cards))| ModelFigures {
                    model,
                    priced,
                    figures,
                    cards,
                })
                .collect(),
        )?;
        Ok(sum)
    }
}
