//! The pricing file's schema, written once: the library reads pricing
//! files with it, and build.rs (which includes this file through `#[path]`)
//! reads the built-in `pricing.toml` with it and writes the entries out as
//! Rust data, so start-up parses no TOML.
//!
//! This file imports nothing of the crate: build.rs compiles it alone.
//! Values are kept as written (prices as their source text, for exact
//! decimals) with their place in the file; `super` validates them.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

/// A pricing file as TOML gives it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    #[allow(dead_code)]
    source: Option<String>,
    #[allow(dead_code)]
    source_date: Option<String>,
    default_model: Option<Spanned<String>>,
    #[serde(default)]
    models: HashMap<String, Spanned<RawModel>>,
}

/// One `[models.NAME]` table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    provider: Option<String>,
    input: Spanned<RawNumber>,
    output: Spanned<RawNumber>,
    cache_read: Option<Spanned<RawNumber>>,
    cache_write: Option<Spanned<RawNumber>>,
    cache_write_1h: Option<Spanned<RawNumber>>,
    reasoning: Option<Spanned<RawNumber>>,
    tokenizer: Option<Spanned<String>>,
    bytes_per_token: Option<Spanned<RawNumber>>,
    chars_per_token: Option<Spanned<RawNumber>>,
    #[serde(default)]
    aliases: Vec<Spanned<String>>,
    effective_from: Option<Spanned<toml::value::Datetime>>,
    #[serde(default)]
    tiers: Vec<Spanned<RawTier>>,
    #[serde(default)]
    modes: HashMap<String, Spanned<RawMode>>,
    #[serde(default)]
    history: Vec<Spanned<RawCard>>,
    limit: Option<RawLimit>,
}

/// A `[[models.NAME.history]]` card: complete, with its own tiers and modes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCard {
    effective_from: Option<Spanned<toml::value::Datetime>>,
    input: Spanned<RawNumber>,
    output: Spanned<RawNumber>,
    cache_read: Option<Spanned<RawNumber>>,
    cache_write: Option<Spanned<RawNumber>>,
    cache_write_1h: Option<Spanned<RawNumber>>,
    reasoning: Option<Spanned<RawNumber>>,
    #[serde(default)]
    tiers: Vec<Spanned<RawTier>>,
    #[serde(default)]
    modes: HashMap<String, Spanned<RawMode>>,
}

/// A `[models.NAME.modes.MODE]` card: the keys it changes, and its tiers.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMode {
    input: Spanned<RawNumber>,
    output: Spanned<RawNumber>,
    cache_read: Option<Spanned<RawNumber>>,
    cache_write: Option<Spanned<RawNumber>>,
    cache_write_1h: Option<Spanned<RawNumber>>,
    reasoning: Option<Spanned<RawNumber>>,
    tiers: Option<Vec<Spanned<RawTier>>>,
}

/// A `[[...tiers]]` card: the prices above a prompt size.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    tier: Spanned<RawTierSpec>,
    input: Spanned<RawNumber>,
    output: Spanned<RawNumber>,
    cache_read: Option<Spanned<RawNumber>>,
    cache_write: Option<Spanned<RawNumber>>,
    cache_write_1h: Option<Spanned<RawNumber>>,
    reasoning: Option<Spanned<RawNumber>>,
}

/// `tier = { type = "context", size = N }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTierSpec {
    #[serde(rename = "type")]
    kind: Option<Spanned<String>>,
    size: Spanned<i64>,
}

/// `[models.NAME.limit]`: token limits, used to warn.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimit {
    #[allow(dead_code)]
    context: Option<i64>,
    input: Option<Spanned<i64>>,
    #[allow(dead_code)]
    output: Option<i64>,
}

/// A TOML number; a price's exact value is re-read from the source text.
enum RawNumber {
    Integer(i64),
    Float(f64),
}

/// Deserialized directly, not as an untagged enum: that would buffer every
/// value and build (and drop) an error for each float, at every start-up.
impl<'de> Deserialize<'de> for RawNumber {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<RawNumber, D::Error> {
        struct Visitor;

        impl serde::de::Visitor<'_> for Visitor {
            type Value = RawNumber;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number (USD per 1M tokens)")
            }

            fn visit_i64<E>(self, value: i64) -> Result<RawNumber, E> {
                Ok(RawNumber::Integer(value))
            }

            fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<RawNumber, E> {
                i64::try_from(value)
                    .map(RawNumber::Integer)
                    .map_err(|_| E::custom("number too large"))
            }

            fn visit_f64<E>(self, value: f64) -> Result<RawNumber, E> {
                Ok(RawNumber::Float(value))
            }
        }

        deserializer.deserialize_any(Visitor)
    }
}

/// A value as written, and where it is in the file (nowhere for the
/// compiled built-in table).
#[derive(Clone, Debug)]
pub struct At<T> {
    /// The value.
    pub value: T,
    /// Its bytes in the file.
    pub span: Option<Range<usize>>,
}

impl<T> At<T> {
    fn new(value: T, span: Range<usize>) -> At<T> {
        At {
            value,
            span: Some(span),
        }
    }
}

/// One model's fields as written, before validation.
#[derive(Clone, Debug)]
pub struct Entry<'t> {
    /// The table's key.
    pub name: At<Cow<'t, str>>,
    /// Who sells it.
    pub provider: Option<Cow<'t, str>>,
    /// USD per 1M input tokens, as written.
    pub input: At<&'t str>,
    /// USD per 1M output tokens, as written.
    pub output: At<&'t str>,
    /// USD per 1M cache-read tokens, as written.
    pub cache_read: Option<At<&'t str>>,
    /// USD per 1M cache-write tokens, as written.
    pub cache_write: Option<At<&'t str>>,
    /// USD per 1M tokens written to a 1-hour cache, as written.
    pub cache_write_1h: Option<At<&'t str>>,
    /// The tokenizer's name.
    pub tokenizer: Option<At<Cow<'t, str>>>,
    /// The heuristic's bytes per token.
    pub bytes_per_token: Option<At<f64>>,
    /// The heuristic's characters per token.
    pub chars_per_token: Option<At<f64>>,
    /// Other names of the model.
    pub aliases: Cow<'t, [At<Cow<'t, str>>]>,
    /// USD per 1M reasoning tokens, as written.
    pub reasoning: Option<At<&'t str>>,
    /// When the current card's prices began, as written.
    pub effective_from: Option<At<Cow<'t, str>>>,
    /// The current card's context tiers.
    pub tiers: Cow<'t, [TierEntry<'t>]>,
    /// The current card's modes.
    pub modes: Cow<'t, [ModeEntry<'t>]>,
    /// Earlier cards.
    pub history: Cow<'t, [CardEntry<'t>]>,
    /// The most input tokens a request may have.
    pub limit_input: Option<At<i64>>,
}

/// The six prices a card may give, as written.
#[derive(Clone, Debug, Default)]
pub struct Keys<'t> {
    /// Uncached input.
    pub input: Option<At<&'t str>>,
    /// Output.
    pub output: Option<At<&'t str>>,
    /// Cache reads.
    pub cache_read: Option<At<&'t str>>,
    /// 5-minute cache writes.
    pub cache_write: Option<At<&'t str>>,
    /// 1-hour cache writes.
    pub cache_write_1h: Option<At<&'t str>>,
    /// Reasoning output.
    pub reasoning: Option<At<&'t str>>,
}

/// A context tier: its prices for a prompt above `size` tokens.
#[derive(Clone, Debug)]
pub struct TierEntry<'t> {
    /// The prompt size it applies above.
    pub size: At<i64>,
    /// `tier.type`, if written.
    pub kind: Option<At<Cow<'t, str>>>,
    /// Its prices.
    pub keys: Keys<'t>,
    /// Where the tier is.
    pub span: Option<Range<usize>>,
}

/// A mode (batch, flex, priority, fast, …): the keys it changes.
#[derive(Clone, Debug)]
pub struct ModeEntry<'t> {
    /// Its name, where the table is.
    pub name: At<Cow<'t, str>>,
    /// The keys it gives.
    pub keys: Keys<'t>,
    /// Its own tiers; `None` when it gives none (not even `tiers = []`).
    pub tiers: Option<Cow<'t, [TierEntry<'t>]>>,
}

/// A dated card of the history.
#[derive(Clone, Debug)]
pub struct CardEntry<'t> {
    /// When its prices began.
    pub effective_from: Option<At<Cow<'t, str>>>,
    /// Its prices.
    pub keys: Keys<'t>,
    /// Its tiers.
    pub tiers: Cow<'t, [TierEntry<'t>]>,
    /// Its modes.
    pub modes: Cow<'t, [ModeEntry<'t>]>,
    /// Where the card is.
    pub span: Option<Range<usize>>,
}

/// A pricing file read, not yet validated.
pub struct Read<'t> {
    /// The models, in the order of the file.
    pub entries: Vec<Entry<'t>>,
    /// `default_model`.
    pub default: Option<At<Cow<'t, str>>>,
}

/// Reads `text` as a pricing file. An error is where (when TOML says) and
/// what, in one line.
pub fn read(text: &str) -> Result<Read<'_>, (Option<Range<usize>>, String)> {
    let raw: RawTable =
        toml::from_str(text).map_err(|err| (err.span(), err.message().trim_end().to_string()))?;
    let mut models: Vec<(String, Spanned<RawModel>)> = raw.models.into_iter().collect();
    models.sort_by_key(|(_, model)| model.span().start);
    let price = |number: &Spanned<RawNumber>| {
        number_text(text, number)
            .map(|value| At::new(value, number.span()))
            .map_err(|err| (Some(number.span()), err))
    };
    let ratio = |number: &Spanned<RawNumber>| {
        let value = match number.get_ref() {
            RawNumber::Float(value) => *value,
            RawNumber::Integer(value) => *value as f64,
        };
        At::new(value, number.span())
    };
    let mut entries = Vec::with_capacity(models.len());
    for (name, model) in &models {
        let span = model.span();
        let model = model.get_ref();
        entries.push(Entry {
            name: At::new(Cow::Owned(name.clone()), span),
            provider: model.provider.clone().map(Cow::Owned),
            input: price(&model.input)?,
            output: price(&model.output)?,
            cache_read: model.cache_read.as_ref().map(price).transpose()?,
            cache_write: model.cache_write.as_ref().map(price).transpose()?,
            cache_write_1h: model.cache_write_1h.as_ref().map(price).transpose()?,
            tokenizer: model
                .tokenizer
                .as_ref()
                .map(|t| At::new(Cow::Owned(t.get_ref().clone()), t.span())),
            bytes_per_token: model.bytes_per_token.as_ref().map(ratio),
            chars_per_token: model.chars_per_token.as_ref().map(ratio),
            aliases: model
                .aliases
                .iter()
                .map(|a| At::new(Cow::Owned(a.get_ref().clone()), a.span()))
                .collect(),
            reasoning: model.reasoning.as_ref().map(price).transpose()?,
            effective_from: model.effective_from.as_ref().map(date),
            tiers: Cow::Owned(tiers(text, &model.tiers)?),
            modes: Cow::Owned(modes(text, &model.modes)?),
            history: Cow::Owned(
                model
                    .history
                    .iter()
                    .map(|card| {
                        let span = card.span();
                        let card = card.get_ref();
                        Ok(CardEntry {
                            effective_from: card.effective_from.as_ref().map(date),
                            keys: keys(
                                text,
                                [
                                    Some(&card.input),
                                    Some(&card.output),
                                    card.cache_read.as_ref(),
                                    card.cache_write.as_ref(),
                                    card.cache_write_1h.as_ref(),
                                    card.reasoning.as_ref(),
                                ],
                            )?,
                            tiers: Cow::Owned(tiers(text, &card.tiers)?),
                            modes: Cow::Owned(modes(text, &card.modes)?),
                            span: Some(span),
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            limit_input: model
                .limit
                .as_ref()
                .and_then(|l| l.input.as_ref())
                .map(|n| At::new(*n.get_ref(), n.span())),
        });
    }
    let default = raw
        .default_model
        .as_ref()
        .map(|d| At::new(Cow::Owned(d.get_ref().clone()), d.span()));
    Ok(Read { entries, default })
}

impl Entry<'_> {
    /// The entry as a Rust expression of type `Entry<'static>`, placed
    /// nowhere: what build.rs writes for the built-in table.
    #[allow(dead_code)] // the library reads what build.rs wrote
    pub fn to_rust(&self) -> String {
        let text = |at: &At<&str>| format!("At {{ value: {:?}, span: None }}", at.value);
        let owned = |at: &At<Cow<'_, str>>| {
            format!("At {{ value: Cow::Borrowed({:?}), span: None }}", at.value)
        };
        let ratio = |at: &Option<At<f64>>| match at {
            Some(at) => format!(
                "Some(At {{ value: f64::from_bits({:#x}), span: None }})",
                at.value.to_bits()
            ),
            None => "None".to_string(),
        };
        let optional = |at: &Option<At<&str>>| {
            at.as_ref()
                .map_or("None".to_string(), |at| format!("Some({})", text(at)))
        };
        let mut aliases = String::new();
        for alias in self.aliases.iter() {
            let _ = write!(aliases, "{}, ", owned(alias));
        }
        format!(
            "Entry {{ name: {}, provider: {}, input: {}, output: {}, cache_read: {}, \
             cache_write: {}, cache_write_1h: {}, tokenizer: {}, bytes_per_token: {}, \
             chars_per_token: {}, \
             aliases: Cow::Borrowed(&[{aliases}]), reasoning: {}, effective_from: {}, \
             tiers: {}, modes: {}, history: {}, limit_input: {} }}",
            owned(&self.name),
            self.provider
                .as_ref()
                .map_or("None".to_string(), |p| format!(
                    "Some(Cow::Borrowed({p:?}))"
                )),
            text(&self.input),
            text(&self.output),
            optional(&self.cache_read),
            optional(&self.cache_write),
            optional(&self.cache_write_1h),
            self.tokenizer
                .as_ref()
                .map_or("None".to_string(), |t| format!("Some({})", owned(t))),
            ratio(&self.bytes_per_token),
            ratio(&self.chars_per_token),
            rust::optional(&self.reasoning),
            rust::optional_owned(&self.effective_from),
            rust::tiers(&self.tiers),
            rust::modes(&self.modes),
            rust::history(&self.history),
            self.limit_input
                .as_ref()
                .map_or("None".to_string(), |at| format!(
                    "Some({})",
                    rust::integer(at)
                )),
        )
    }
}

/// An error of the pricing file: where, and what.
type ReadError = (Option<Range<usize>>, String);

/// A price as written.
fn price_at<'a>(text: &'a str, number: &Spanned<RawNumber>) -> Result<At<&'a str>, ReadError> {
    number_text(text, number)
        .map(|value| At::new(value, number.span()))
        .map_err(|err| (Some(number.span()), err))
}

/// A TOML date or date-time as written.
fn date(value: &Spanned<toml::value::Datetime>) -> At<Cow<'static, str>> {
    At::new(Cow::Owned(value.get_ref().to_string()), value.span())
}

/// The six keys of a card, in [`Keys`] order.
fn keys<'a>(
    text: &'a str,
    numbers: [Option<&Spanned<RawNumber>>; 6],
) -> Result<Keys<'a>, ReadError> {
    let [
        input,
        output,
        cache_read,
        cache_write,
        cache_write_1h,
        reasoning,
    ] = numbers.map(|n| n.map(|n| price_at(text, n)).transpose());
    Ok(Keys {
        input: input?,
        output: output?,
        cache_read: cache_read?,
        cache_write: cache_write?,
        cache_write_1h: cache_write_1h?,
        reasoning: reasoning?,
    })
}

/// A card's tiers as written.
fn tiers<'a>(text: &'a str, raw: &[Spanned<RawTier>]) -> Result<Vec<TierEntry<'a>>, ReadError> {
    raw.iter()
        .map(|tier| {
            let span = tier.span();
            let t = tier.get_ref();
            let spec = t.tier.get_ref();
            Ok(TierEntry {
                size: At::new(*spec.size.get_ref(), spec.size.span()),
                kind: spec
                    .kind
                    .as_ref()
                    .map(|k| At::new(Cow::Owned(k.get_ref().clone()), k.span())),
                keys: keys(
                    text,
                    [
                        Some(&t.input),
                        Some(&t.output),
                        t.cache_read.as_ref(),
                        t.cache_write.as_ref(),
                        t.cache_write_1h.as_ref(),
                        t.reasoning.as_ref(),
                    ],
                )?,
                span: Some(span),
            })
        })
        .collect()
}

/// A card's modes as written, in file order.
fn modes<'a>(
    text: &'a str,
    raw: &HashMap<String, Spanned<RawMode>>,
) -> Result<Vec<ModeEntry<'a>>, ReadError> {
    let mut raw: Vec<(&String, &Spanned<RawMode>)> = raw.iter().collect();
    raw.sort_by_key(|(_, mode)| mode.span().start);
    raw.into_iter()
        .map(|(name, mode)| {
            let span = mode.span();
            let m = mode.get_ref();
            Ok(ModeEntry {
                name: At::new(Cow::Owned(name.clone()), span),
                keys: keys(
                    text,
                    [
                        Some(&m.input),
                        Some(&m.output),
                        m.cache_read.as_ref(),
                        m.cache_write.as_ref(),
                        m.cache_write_1h.as_ref(),
                        m.reasoning.as_ref(),
                    ],
                )?,
                tiers: m
                    .tiers
                    .as_ref()
                    .map(|t| tiers(text, t).map(Cow::Owned))
                    .transpose()?,
            })
        })
        .collect()
}

/// Rust expressions of the schema's values, placed nowhere: what build.rs
/// writes for the built-in table.
#[allow(dead_code)] // the library reads what build.rs wrote
#[path = "schema_rust.rs"]
mod rust;

/// The source text of a number, for exact re-parsing.
fn number_text<'a>(text: &'a str, number: &Spanned<RawNumber>) -> Result<&'a str, String> {
    let value = text.get(number.span()).unwrap_or("").trim();
    match number.get_ref() {
        RawNumber::Float(f) if !f.is_finite() => Err(format!("{value} is not a price")),
        _ => Ok(value),
    }
}
