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
    tokenizer: Option<Spanned<String>>,
    bytes_per_token: Option<Spanned<RawNumber>>,
    chars_per_token: Option<Spanned<RawNumber>>,
    #[serde(default)]
    aliases: Vec<Spanned<String>>,
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
             aliases: Cow::Borrowed(&[{aliases}]) }}",
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
        )
    }
}

/// The source text of a number, for exact re-parsing.
fn number_text<'a>(text: &'a str, number: &Spanned<RawNumber>) -> Result<&'a str, String> {
    let value = text.get(number.span()).unwrap_or("").trim();
    match number.get_ref() {
        RawNumber::Float(f) if !f.is_finite() => Err(format!("{value} is not a price")),
        _ => Ok(value),
    }
}
