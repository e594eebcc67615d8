//! The pricing table: models, their prices and tokenizers, and lookup.
//!
//! A table is parsed and validated whole before any input is read; every
//! error names the file, line and column. Lookup is by exact name or alias,
//! case-insensitive, never fuzzy; the closest names only appear in errors.

use std::collections::HashMap;
use std::ops::RangeInclusive;

mod builtin;
mod card;
mod cards;
pub mod import;
mod parse;
mod schema;

pub use card::{Card, Chosen, ModeCard, Prices, Request, STANDARD_MODES, Tier, Usage};

use crate::money::Price;
use crate::tokenize::TokenizerKind;

/// The largest pricing file read; a bigger one (or `/dev/zero`) is refused.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// The values `bytes_per_token` and `chars_per_token` may take: beyond them
/// a count is no estimate (and a tiny ratio would overflow every total).
pub const RATIO_RANGE: RangeInclusive<f64> = 0.1..=1000.0;

/// Which price the stream's tokens pay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The model's input (prompt) price.
    Input,
    /// The model's output (completion) price.
    Output,
}

impl Side {
    /// `input` or `output`.
    pub fn name(self) -> &'static str {
        match self {
            Side::Input => "input",
            Side::Output => "output",
        }
    }
}

/// One model of the table.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// The canonical name.
    pub name: String,
    /// Who sells it, if the table says.
    pub provider: Option<String>,
    /// Price of input tokens.
    pub input: Price,
    /// Price of output tokens.
    pub output: Price,
    /// Price of input tokens read from a prompt cache, if listed.
    pub cache_read: Option<Price>,
    /// Price of input tokens written to a prompt cache (the 5-minute cache
    /// where there are two), if listed.
    pub cache_write: Option<Price>,
    /// Price of input tokens written to a 1-hour cache (Anthropic), if
    /// listed.
    pub cache_write_1h: Option<Price>,
    /// How its tokens are counted under `--tokenizer auto`.
    pub tokenizer: TokenizerKind,
    /// Other names that select this model.
    pub aliases: Vec<String>,
    /// The current card (the prices above, its tiers and modes, and when
    /// it began) and the earlier ones, newest first: see [`Model::card`].
    cards: Cards,
    /// The most input tokens a request may have, if the table says.
    pub limit_input: Option<u64>,
}

impl Model {
    /// The price the given side pays.
    pub fn price(&self, side: Side) -> Price {
        match side {
            Side::Input => self.input,
            Side::Output => self.output,
        }
    }

    /// The current card: the prices above, its tiers and modes, and when
    /// it began.
    pub fn card(&self) -> &Card {
        &self.cards.get().0
    }

    /// The earlier cards, newest first.
    pub fn history(&self) -> &[Card] {
        &self.cards.get().1
    }

    /// The card `request` pays.
    pub fn choose(&self, request: &Request<'_>) -> Chosen<'_> {
        let (card, history) = self.cards.get();
        card::choose(card, history, request)
    }

    /// A request of `usage` made at `time` (`None`: now) in `mode`, priced
    /// at the card it pays: that card, and the cost by class (input,
    /// output with its reasoning at the reasoning price, cache read,
    /// 5-minute and 1-hour writes).
    pub fn price_request(
        &self,
        usage: &Usage,
        time: Option<chrono::DateTime<chrono::Utc>>,
        mode: Option<&str>,
    ) -> (Chosen<'_>, [crate::money::Money; 5]) {
        let chosen = self.choose(&Request {
            time,
            mode,
            prompt: usage.prompt().unwrap_or(u64::MAX),
        });
        let c = chosen.prices.costs(usage);
        (chosen, [c[0], c[1].saturating_add(c[5]), c[2], c[3], c[4]])
    }

    /// Whether any card of the model has context tiers.
    pub fn has_tiers(&self) -> bool {
        std::iter::once(self.card())
            .chain(self.history())
            .any(|c| !c.tiers.is_empty() || c.modes.iter().any(|m| !m.tiers.is_empty()))
    }

    /// A model that costs nothing, for `--unknown-model zero`.
    pub fn unpriced(name: &str) -> Model {
        Model {
            name: name.to_string(),
            provider: None,
            input: Price::ZERO,
            output: Price::ZERO,
            cache_read: None,
            cache_write: None,
            cache_write_1h: None,
            tokenizer: TokenizerKind::default(),
            aliases: Vec::new(),
            cards: Cards::built(
                Card {
                    effective_from: None,
                    prices: Prices {
                        input: Price::ZERO,
                        output: Price::ZERO,
                        cache_read: None,
                        cache_write: None,
                        cache_write_1h: None,
                        reasoning: None,
                    },
                    tiers: Vec::new(),
                    modes: Vec::new(),
                },
                Vec::new(),
            ),
            limit_input: None,
        }
    }
}

/// A model's cards, built when the table is read, or for the built-in
/// table (validated whole by its tests) when first asked for: start-up
/// builds only the cards of the models it prices.
#[derive(Clone, Debug)]
struct Cards {
    built: std::sync::OnceLock<(Card, Vec<Card>)>,
    /// The built-in entry to build them from.
    entry: Option<&'static schema::Entry<'static>>,
    /// The base prices, should the entry fail (it cannot: a test reads the
    /// whole built-in table).
    base: Prices,
}

impl Cards {
    /// Cards already built.
    fn built(card: Card, history: Vec<Card>) -> Cards {
        let base = card.prices.clone();
        Cards {
            built: std::sync::OnceLock::from((card, history)),
            entry: None,
            base,
        }
    }

    /// Cards built from a built-in entry when first asked for.
    fn later(entry: &'static schema::Entry<'static>, base: Prices) -> Cards {
        Cards {
            built: std::sync::OnceLock::new(),
            entry: Some(entry),
            base,
        }
    }

    fn get(&self) -> &(Card, Vec<Card>) {
        self.built.get_or_init(|| {
            let error_at = |_: Option<std::ops::Range<usize>>, message: &str| TableError {
                message: message.to_string(),
            };
            let built = self.entry.map(|entry| cards::cards(entry, &error_at));
            match built {
                Some(Ok((card, history, _))) => (card, history),
                _ => (
                    Card {
                        effective_from: None,
                        prices: self.base.clone(),
                        tiers: Vec::new(),
                        modes: Vec::new(),
                    },
                    Vec::new(),
                ),
            }
        })
    }
}

impl PartialEq for Cards {
    fn eq(&self, other: &Cards) -> bool {
        self.get() == other.get()
    }
}

/// A validated pricing table.
#[derive(Clone, Debug)]
pub struct PricingTable {
    /// Where the table came from: a path, or `built-in`.
    pub origin: String,
    /// The model used when none is named.
    pub default_model: Option<String>,
    /// The models, in the order of the file.
    pub models: Vec<Model>,
    /// Lower-cased names and aliases → index into `models`.
    index: HashMap<String, usize>,
}

/// A table that could not be read, with where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableError {
    /// One line: `FILE:LINE:COLUMN: what is wrong`.
    pub message: String,
}

impl std::fmt::Display for TableError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TableError {}

impl PricingTable {
    /// The model with this name or alias, ignoring case.
    pub fn lookup(&self, name: &str) -> Option<&Model> {
        self.index
            .get(&name.to_lowercase())
            .map(|&at| &self.models[at])
    }

    /// Up to `limit` known names closest to `name` by edit distance, closest
    /// first; for error messages only.
    pub fn closest(&self, name: &str, limit: usize) -> Vec<&str> {
        let wanted = name.to_lowercase();
        let mut scored: Vec<(usize, &str)> = self
            .models
            .iter()
            .flat_map(|m| std::iter::once(&m.name).chain(m.aliases.iter()))
            .map(|candidate| {
                let lower = candidate.to_lowercase();
                let mut score = edit_distance(&wanted, &lower);
                if lower.contains(&wanted) || wanted.contains(&lower) {
                    score = score.min(lower.len().abs_diff(wanted.len()).min(2));
                }
                (score, candidate.as_str())
            })
            .collect();
        scored.sort();
        let mut names: Vec<&str> = Vec::new();
        for (_, candidate) in scored {
            // Name the canonical model once, not each of its aliases.
            let canonical = self
                .lookup(candidate)
                .map_or(candidate, |m| m.name.as_str());
            if !names.contains(&canonical) {
                names.push(canonical);
            }
            if names.len() == limit {
                break;
            }
        }
        names
    }
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenize::Encoding;

    const SMALL: &str = r#"
default_model = "m1"
[models.m1]
input = 2.50
output = 10
aliases = ["M1-2024", "p/m1"]
[models.m2]
input = 0.15
output = 0.6
tokenizer = "o200k_base"
"#;

    #[test]
    fn parses_and_looks_up_case_insensitively() {
        let table = PricingTable::parse(SMALL, "t.toml").unwrap();
        assert_eq!(table.models.len(), 2);
        assert_eq!(table.models[0].name, "m1");
        assert_eq!(table.lookup("m1-2024").unwrap().name, "m1");
        assert_eq!(
            table.lookup("P/M1").unwrap().output,
            Price::parse("10").unwrap()
        );
        assert!(table.lookup("m3").is_none());
        assert_eq!(
            table.lookup("m2").unwrap().tokenizer,
            TokenizerKind::Exact(Encoding::O200kBase)
        );
    }

    #[test]
    fn negative_price_names_line_and_column() {
        let text = "[models.a]\ninput = -1.0\noutput = 1\n";
        let err = PricingTable::parse(text, "p.toml").unwrap_err();
        assert!(err.message.starts_with("p.toml:2:9: "), "{}", err.message);
        assert!(err.message.contains("negative"), "{}", err.message);
    }

    #[test]
    fn one_hour_cache_writes_have_a_price_of_their_own() {
        let text = "[models.a]\ninput = 3\noutput = 15\ncache_write = 3.75\ncache_write_1h = 6\n";
        let table = PricingTable::parse(text, "p.toml").unwrap();
        assert_eq!(
            table.models[0].cache_write_1h,
            Some(Price::parse("6").unwrap())
        );
        let bad = "[models.a]\ninput = 3\noutput = 15\ncache_write_1h = -6\n";
        let err = PricingTable::parse(bad, "p.toml").unwrap_err();
        assert!(
            err.message.starts_with("p.toml:4:18: cache_write_1h "),
            "{}",
            err.message
        );
        let builtin = PricingTable::builtin().unwrap();
        let sonnet = builtin.lookup("claude-sonnet-4-5").unwrap();
        assert_eq!(sonnet.cache_write_1h, Some(Price::parse("6").unwrap()));
    }

    #[test]
    fn missing_price_is_an_error() {
        let err = PricingTable::parse("[models.a]\ninput = 1\n", "p.toml").unwrap_err();
        assert!(err.message.contains("output"), "{}", err.message);
        assert!(err.message.starts_with("p.toml:1:"), "{}", err.message);
    }

    #[test]
    fn syntax_error_names_line_and_column() {
        let err = PricingTable::parse("[models.a]\ninput = = 1\n", "p.toml").unwrap_err();
        assert!(err.message.starts_with("p.toml:2:"), "{}", err.message);
        assert!(!err.message.contains('\n'));
    }

    #[test]
    fn duplicate_alias_is_an_error() {
        let text = "[models.a]\ninput = 1\noutput = 1\n[models.b]\ninput = 1\noutput = 1\naliases = [\"A\"]\n";
        let err = PricingTable::parse(text, "p.toml").unwrap_err();
        assert!(err.message.contains("already names"), "{}", err.message);
    }

    #[test]
    fn closest_names_canonical_models() {
        let table = PricingTable::parse(SMALL, "t.toml").unwrap();
        assert_eq!(table.closest("m", 2), vec!["m1", "m2"]);
        assert_eq!(table.closest("m1-2025", 1), vec!["m1"]);
    }

    #[test]
    fn builtin_table_is_valid() {
        let table = PricingTable::builtin().unwrap();
        assert!(table.models.len() >= 40);
        assert!(table.default_model.is_some());
    }

    #[test]
    fn compiled_builtin_table_equals_the_parse_of_pricing_toml() {
        let compiled = PricingTable::builtin().unwrap();
        let text = include_str!("../../pricing.toml");
        let parsed = PricingTable::parse(text, "built-in pricing.toml").unwrap();
        assert_eq!(compiled.models, parsed.models);
        assert_eq!(compiled.default_model, parsed.default_model);
        assert_eq!(compiled.index, parsed.index);
        assert_eq!(compiled.origin, parsed.origin);
    }

    #[test]
    fn entries_without_a_place_name_the_origin_in_errors() {
        use schema::{At, Entry};
        use std::borrow::Cow;
        let error_at = |_: Option<std::ops::Range<usize>>, message: &str| TableError {
            message: format!("built-in: {message}"),
        };
        let entry = |name, input| Entry {
            name: At {
                value: Cow::Borrowed(name),
                span: None,
            },
            provider: None,
            input: At {
                value: input,
                span: None,
            },
            output: At {
                value: "1",
                span: None,
            },
            cache_read: None,
            cache_write: None,
            cache_write_1h: None,
            tokenizer: None,
            bytes_per_token: None,
            chars_per_token: None,
            aliases: Cow::Borrowed(&[]),
            reasoning: None,
            effective_from: None,
            tiers: Cow::Borrowed(&[]),
            modes: Cow::Borrowed(&[]),
            history: Cow::Borrowed(&[]),
            limit_input: None,
        };
        let err = PricingTable::from_entries("b", &[entry("m", "x")], None, &error_at).unwrap_err();
        assert!(
            err.message.starts_with("built-in: input "),
            "{}",
            err.message
        );
        let err =
            PricingTable::from_entries("b", &[entry("m", "1"), entry("M", "2")], None, &error_at)
                .unwrap_err();
        assert!(
            err.message.contains("already names model"),
            "{}",
            err.message
        );
    }
}
