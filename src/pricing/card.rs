//! Cards: the prices a model had from a date, in a mode, above a prompt
//! size; and which one a request pays.
//!
//! A request pays one card: by its date (the latest card in force then),
//! then its mode (batch, flex, priority, fast: a card of its own; none or
//! `standard` is the card itself), then its prompt (the tier of the largest
//! size the prompt exceeds, counting uncached input, cache reads and cache
//! writes, never output). Every token class of the request pays that one
//! tier's price.

use chrono::{DateTime, Utc};

use crate::money::{Money, Price};

/// The prices of one card or tier, USD per 1M tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prices {
    /// Uncached input.
    pub input: Price,
    /// Output.
    pub output: Price,
    /// Cache reads, if listed (else input's).
    pub cache_read: Option<Price>,
    /// 5-minute (or only) cache writes, if listed (else input's).
    pub cache_write: Option<Price>,
    /// 1-hour cache writes, if listed (else the 5-minute price).
    pub cache_write_1h: Option<Price>,
    /// Reasoning output, if it differs from output.
    pub reasoning: Option<Price>,
}

/// The prices above a prompt size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tier {
    /// Applies to a request whose prompt is larger than this.
    pub size: u64,
    /// Its prices.
    pub prices: Prices,
}

/// A mode's card: its prices (the keys it omits are the card's) and tiers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModeCard {
    /// `batch`, `flex`, `priority`, `fast`, …
    pub name: String,
    /// Its base prices.
    pub prices: Prices,
    /// Its tiers, by size.
    pub tiers: Vec<Tier>,
}

/// The prices in force from a date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Card {
    /// When they began (UTC); `None` for the oldest card, in force since
    /// ever.
    pub effective_from: Option<DateTime<Utc>>,
    /// Its base prices.
    pub prices: Prices,
    /// Its tiers, by size.
    pub tiers: Vec<Tier>,
    /// Its modes.
    pub modes: Vec<ModeCard>,
}

/// What a request is, for choosing its card.
#[derive(Clone, Copy, Debug, Default)]
pub struct Request<'a> {
    /// When it was made; `None`: now (the current card).
    pub time: Option<DateTime<Utc>>,
    /// The mode it was served in; `None`, `standard`, `default` or `auto`:
    /// the card itself.
    pub mode: Option<&'a str>,
    /// Its prompt: uncached input + cache reads + cache writes.
    pub prompt: u64,
}

/// The card a request pays.
#[derive(Clone, Copy, Debug)]
pub struct Chosen<'m> {
    /// The dated card.
    pub card: &'m Card,
    /// The mode, when it is one of the card's.
    pub mode: Option<&'m str>,
    /// The tier's size, when one applies.
    pub tier: Option<u64>,
    /// The prices paid.
    pub prices: &'m Prices,
    /// The request is older than every card: the oldest was used.
    pub before_table: bool,
    /// The request names a mode the card lacks: the card itself was used.
    pub mode_unknown: bool,
}

impl<'m> Chosen<'m> {
    /// `base`, or `>N` for the tier above N prompt tokens.
    pub fn tier_name(&self) -> String {
        self.tier
            .map_or("base".to_string(), |size| format!(">{size}"))
    }

    /// The tiers of the chosen card, or of its mode.
    pub fn tiers(&self) -> &'m [Tier] {
        match self.mode {
            Some(name) => self
                .card
                .modes
                .iter()
                .find(|m| m.name == name)
                .map_or(&self.card.tiers, |m| &m.tiers),
            None => &self.card.tiers,
        }
    }
}

/// A request's tokens by class, for pricing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Uncached input.
    pub input: u64,
    /// Output, reasoning included.
    pub output: u64,
    /// Cache reads.
    pub cache_read: u64,
    /// 5-minute (or only) cache writes.
    pub cache_write: u64,
    /// 1-hour cache writes.
    pub cache_write_1h: u64,
    /// The reasoning inside `output`.
    pub reasoning: u64,
}

impl Usage {
    /// The billed tokens: every class but `reasoning`, which is inside
    /// output. `None` past `u64::MAX`.
    pub fn total(&self) -> Option<u64> {
        self.prompt()?.checked_add(self.output)
    }

    /// The class-by-class sum; `None` when a figure or the total would
    /// pass `u64::MAX`.
    #[must_use]
    pub fn checked_plus(&self, other: &Usage) -> Option<Usage> {
        let sum = Usage {
            input: self.input.checked_add(other.input)?,
            output: self.output.checked_add(other.output)?,
            cache_read: self.cache_read.checked_add(other.cache_read)?,
            cache_write: self.cache_write.checked_add(other.cache_write)?,
            cache_write_1h: self.cache_write_1h.checked_add(other.cache_write_1h)?,
            reasoning: self.reasoning.checked_add(other.reasoning)?,
        };
        sum.total().map(|_| sum)
    }

    /// The prompt, as tiers count it: uncached input, cache reads and
    /// writes; `None` past `u64::MAX`.
    pub fn prompt(&self) -> Option<u64> {
        self.input
            .checked_add(self.cache_read)?
            .checked_add(self.cache_write)?
            .checked_add(self.cache_write_1h)
    }
}

/// Names that mean the card itself, not a mode.
pub const STANDARD_MODES: [&str; 3] = ["standard", "default", "auto"];

impl Card {
    /// The tier of `tiers` a prompt of `prompt` tokens pays: the largest
    /// size it exceeds.
    fn tier(tiers: &[Tier], prompt: u64) -> Option<&Tier> {
        tiers
            .iter()
            .filter(|t| prompt > t.size)
            .max_by_key(|t| t.size)
    }
}

/// The card `request` pays among `current` and `history`.
pub fn choose<'m>(current: &'m Card, history: &'m [Card], request: &Request<'_>) -> Chosen<'m> {
    let cards = std::iter::once(current).chain(history.iter());
    let (card, before_table) = match request.time {
        None => (current, false),
        Some(t) => {
            let in_force = cards
                .clone()
                .filter(|c| c.effective_from.is_none_or(|from| from <= t))
                .max_by_key(|c| c.effective_from);
            match in_force {
                Some(card) => (card, false),
                None => (
                    cards.min_by_key(|c| c.effective_from).unwrap_or(current),
                    true,
                ),
            }
        }
    };
    let named = request
        .mode
        .filter(|m| !m.is_empty() && !STANDARD_MODES.contains(m));
    let mode = named.and_then(|name| card.modes.iter().find(|m| m.name == name));
    let (prices, tiers, mode_name) = match mode {
        Some(mode) => (&mode.prices, &mode.tiers, Some(mode.name.as_str())),
        None => (&card.prices, &card.tiers, None),
    };
    let tier = Card::tier(tiers, request.prompt);
    Chosen {
        card,
        mode: mode_name,
        tier: tier.map(|t| t.size),
        prices: tier.map_or(prices, |t| &t.prices),
        before_table,
        mode_unknown: named.is_some() && mode.is_none(),
    }
}

impl Prices {
    /// The cost of `usage` at these prices, by class: input, output (less
    /// reasoning), cache read, 5-minute write, 1-hour write, reasoning.
    /// A cache price not listed is the input price; a 1-hour write without
    /// its own price pays the 5-minute one; reasoning without its own
    /// price pays output's.
    pub fn costs(&self, usage: &Usage) -> [Money; 6] {
        let cache_write = self.cache_write.unwrap_or(self.input);
        let reasoning = usage.reasoning.min(usage.output);
        [
            self.input.cost(usage.input),
            self.output.cost(usage.output - reasoning),
            self.cache_read.unwrap_or(self.input).cost(usage.cache_read),
            cache_write.cost(usage.cache_write),
            self.cache_write_1h
                .unwrap_or(cache_write)
                .cost(usage.cache_write_1h),
            self.reasoning.unwrap_or(self.output).cost(reasoning),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prices(input: &str, output: &str) -> Prices {
        Prices {
            input: Price::parse(input).unwrap(),
            output: Price::parse(output).unwrap(),
            cache_read: None,
            cache_write: None,
            cache_write_1h: None,
            reasoning: None,
        }
    }

    fn day(text: &str) -> Option<DateTime<Utc>> {
        Some(
            DateTime::parse_from_rfc3339(&format!("{text}T00:00:00Z"))
                .unwrap()
                .with_timezone(&Utc),
        )
    }

    #[test]
    fn a_request_pays_one_card_by_date_then_mode_then_tier() {
        let tier = |size, input| Tier {
            size,
            prices: prices(input, "1"),
        };
        let current = Card {
            effective_from: day("2026-07-30"),
            prices: prices("2", "12"),
            tiers: vec![tier(272_000, "4")],
            modes: vec![ModeCard {
                name: "flex".to_string(),
                prices: prices("1", "6"),
                tiers: vec![tier(272_000, "2")],
            }],
        };
        let old = Card {
            effective_from: day("2026-07-09"),
            prices: prices("2.5", "15"),
            tiers: vec![],
            modes: vec![],
        };
        let history = [old];
        let at = |time, mode, prompt| {
            let chosen = choose(&current, &history, &Request { time, mode, prompt });
            (
                chosen.prices.input.millionths(),
                chosen.tier,
                chosen.before_table,
            )
        };
        assert_eq!(at(None, None, 272_000), (2_000_000, None, false));
        assert_eq!(at(None, None, 272_001), (4_000_000, Some(272_000), false));
        assert_eq!(at(None, Some("flex"), 300_000).0, 2_000_000);
        assert_eq!(at(None, Some("standard"), 10).0, 2_000_000);
        assert_eq!(at(day("2026-07-15"), None, 300_000).0, 2_500_000);
        assert_eq!(at(day("2026-07-30"), None, 10).0, 2_000_000);
        assert_eq!(at(day("2020-01-01"), None, 10), (2_500_000, None, true));
        let unknown = choose(
            &current,
            &history,
            &Request {
                time: None,
                mode: Some("batch"),
                prompt: 10,
            },
        );
        assert!(unknown.mode_unknown && unknown.mode.is_none());
    }
}
