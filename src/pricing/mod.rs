//! The pricing table: models, their prices and tokenizers, and lookup.
//!
//! A table is parsed and validated whole before any input is read; every
//! error names the file, line and column. Lookup is by exact name or alias,
//! case-insensitive, never fuzzy; the closest names only appear in errors.

use std::collections::HashMap;
use std::io::Read;
use std::ops::{Range, RangeInclusive};
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

mod builtin;

use crate::money::Price;
use crate::plain::quoted;
use crate::tokenize::{Encoding, HeuristicRule, TokenizerKind};

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
    /// Price of input tokens written to a prompt cache, if listed.
    pub cache_write: Option<Price>,
    /// How its tokens are counted under `--tokenizer auto`.
    pub tokenizer: TokenizerKind,
    /// Other names that select this model.
    pub aliases: Vec<String>,
}

impl Model {
    /// The price the given side pays.
    pub fn price(&self, side: Side) -> Price {
        match side {
            Side::Input => self.input,
            Side::Output => self.output,
        }
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
            tokenizer: TokenizerKind::default(),
            aliases: Vec::new(),
        }
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    provider: Option<String>,
    input: Spanned<RawNumber>,
    output: Spanned<RawNumber>,
    cache_read: Option<Spanned<RawNumber>>,
    cache_write: Option<Spanned<RawNumber>>,
    tokenizer: Option<Spanned<String>>,
    bytes_per_token: Option<Spanned<RawNumber>>,
    chars_per_token: Option<Spanned<RawNumber>>,
    #[serde(default)]
    aliases: Vec<Spanned<String>>,
}

/// A value as written, and where it is in the file (nowhere for the
/// compiled built-in table).
struct At<T> {
    value: T,
    span: Option<Range<usize>>,
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
struct Entry<'t> {
    name: At<&'t str>,
    provider: Option<&'t str>,
    input: At<&'t str>,
    output: At<&'t str>,
    cache_read: Option<At<&'t str>>,
    cache_write: Option<At<&'t str>>,
    tokenizer: Option<At<&'t str>>,
    bytes_per_token: Option<At<f64>>,
    chars_per_token: Option<At<f64>>,
    aliases: Vec<At<&'t str>>,
}

/// A TOML number; its exact value is re-read from the source text.
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

impl PricingTable {
    /// The built-in table, from the data build.rs compiled out of
    /// `pricing.toml`: validated as a pricing file is, without reading TOML.
    pub fn builtin() -> Result<PricingTable, TableError> {
        let origin = "built-in pricing.toml";
        let error_at = |_: Option<Range<usize>>, message: &str| TableError {
            message: format!("{origin}: {message}"),
        };
        let entries = builtin::COMPILED_MODELS
            .iter()
            .map(builtin::Compiled::entry)
            .collect();
        let default = builtin::COMPILED_DEFAULT_MODEL.map(|name| At {
            value: name,
            span: None,
        });
        PricingTable::from_entries(origin, entries, default, &error_at)
    }

    /// Reads and validates the table in `path`; a file over
    /// [`MAX_FILE_BYTES`] is refused, never read to the end.
    pub fn load(path: &Path) -> Result<PricingTable, TableError> {
        let cannot = |why: String| TableError {
            message: format!("cannot read pricing file {}: {why}", path.display()),
        };
        let file = std::fs::File::open(path).map_err(|err| cannot(err.to_string()))?;
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|err| cannot(err.to_string()))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(cannot(format!("larger than {} MiB", MAX_FILE_BYTES >> 20)));
        }
        let text = String::from_utf8(bytes).map_err(|_| cannot("not UTF-8 text".to_string()))?;
        PricingTable::parse(&text, &path.display().to_string())
    }

    /// Parses and validates `text`; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<PricingTable, TableError> {
        let error_at = |span: Option<Range<usize>>, message: &str| TableError {
            message: match span {
                Some(span) => {
                    let (line, column) = line_column(text, span.start);
                    format!("{origin}:{line}:{column}: {message}")
                }
                None => format!("{origin}: {message}"),
            },
        };
        let raw: RawTable =
            toml::from_str(text).map_err(|err| error_at(err.span(), err.message().trim_end()))?;
        let mut models: Vec<(String, Spanned<RawModel>)> = raw.models.into_iter().collect();
        models.sort_by_key(|(_, model)| model.span().start);
        let price = |number: &Spanned<RawNumber>| -> Result<At<&str>, TableError> {
            number_text(text, number)
                .map(|value| At::new(value, number.span()))
                .map_err(|err| error_at(Some(number.span()), &err))
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
                name: At::new(name.as_str(), span),
                provider: model.provider.as_deref(),
                input: price(&model.input)?,
                output: price(&model.output)?,
                cache_read: model.cache_read.as_ref().map(price).transpose()?,
                cache_write: model.cache_write.as_ref().map(price).transpose()?,
                tokenizer: model
                    .tokenizer
                    .as_ref()
                    .map(|t| At::new(t.get_ref().as_str(), t.span())),
                bytes_per_token: model.bytes_per_token.as_ref().map(ratio),
                chars_per_token: model.chars_per_token.as_ref().map(ratio),
                aliases: model
                    .aliases
                    .iter()
                    .map(|a| At::new(a.get_ref().as_str(), a.span()))
                    .collect(),
            });
        }
        let default = raw
            .default_model
            .as_ref()
            .map(|d| At::new(d.get_ref().as_str(), d.span()));
        PricingTable::from_entries(origin, entries, default, &error_at)
    }

    /// Validates a table's entries, in file order; every error goes through
    /// `error_at` with the place of the value at fault, when known.
    fn from_entries(
        origin: &str,
        entries: Vec<Entry<'_>>,
        default: Option<At<&str>>,
        error_at: &dyn Fn(Option<Range<usize>>, &str) -> TableError,
    ) -> Result<PricingTable, TableError> {
        let mut table = PricingTable {
            origin: origin.to_string(),
            default_model: None,
            models: Vec::with_capacity(entries.len()),
            index: HashMap::new(),
        };
        for entry in entries {
            let price = |at: &At<&str>, field: &str| {
                Price::parse(at.value)
                    .map_err(|err| error_at(at.span.clone(), &format!("{field} {err}")))
            };
            let optional_price = |at: &Option<At<&str>>, field: &str| {
                at.as_ref().map(|at| price(at, field)).transpose()
            };
            let ratio = |at: &At<f64>, field: &str| {
                if RATIO_RANGE.contains(&at.value) {
                    Ok(at.value)
                } else {
                    Err(error_at(
                        at.span.clone(),
                        &format!(
                            "{field} must be a number from {} to {}",
                            RATIO_RANGE.start(),
                            RATIO_RANGE.end()
                        ),
                    ))
                }
            };
            let tokenizer = match (
                &entry.tokenizer,
                &entry.bytes_per_token,
                &entry.chars_per_token,
            ) {
                (_, Some(_), Some(chars)) => {
                    return Err(error_at(
                        chars.span.clone(),
                        "give bytes_per_token or chars_per_token, not both",
                    ));
                }
                (Some(name), bytes, chars) => {
                    let kind = TokenizerKind::from_table_name(name.value).ok_or_else(|| {
                        error_at(
                            name.span.clone(),
                            &format!(
                                "unknown tokenizer {} (expected o200k_base, cl100k_base or heuristic)",
                                quoted(name.value)
                            ),
                        )
                    })?;
                    match (kind, bytes, chars) {
                        (TokenizerKind::Heuristic(_), Some(bytes), _) => TokenizerKind::Heuristic(
                            HeuristicRule::BytesPerToken(ratio(bytes, "bytes_per_token")?),
                        ),
                        (TokenizerKind::Heuristic(_), _, Some(chars)) => TokenizerKind::Heuristic(
                            HeuristicRule::CharsPerToken(ratio(chars, "chars_per_token")?),
                        ),
                        (_, None, None) => kind,
                        (_, Some(at), _) | (_, _, Some(at)) => {
                            return Err(error_at(
                                at.span.clone(),
                                "a ratio applies to the heuristic tokenizer only",
                            ));
                        }
                    }
                }
                (None, Some(bytes), None) => TokenizerKind::Heuristic(
                    HeuristicRule::BytesPerToken(ratio(bytes, "bytes_per_token")?),
                ),
                (None, None, Some(chars)) => TokenizerKind::Heuristic(
                    HeuristicRule::CharsPerToken(ratio(chars, "chars_per_token")?),
                ),
                (None, None, None) => TokenizerKind::default(),
            };
            let model = Model {
                name: entry.name.value.to_string(),
                provider: entry.provider.map(str::to_string),
                input: price(&entry.input, "input")?,
                output: price(&entry.output, "output")?,
                cache_read: optional_price(&entry.cache_read, "cache_read")?,
                cache_write: optional_price(&entry.cache_write, "cache_write")?,
                tokenizer,
                aliases: entry.aliases.iter().map(|a| a.value.to_string()).collect(),
            };
            let at = table.models.len();
            for name in std::iter::once(&entry.name).chain(&entry.aliases) {
                if name.value.trim().is_empty() {
                    return Err(error_at(
                        name.span.clone(),
                        "a model name or alias is empty",
                    ));
                }
                let key = name.value.to_lowercase();
                if let Some(&other) = table.index.get(&key) {
                    // The model being added is not in `models` yet: a name
                    // it repeats itself has no index there.
                    let owner = table
                        .models
                        .get(other)
                        .map_or(entry.name.value, |m| m.name.as_str());
                    return Err(error_at(
                        name.span.clone(),
                        &format!(
                            "{} already names model {} (names and aliases are unique, ignoring case)",
                            quoted(name.value),
                            quoted(owner)
                        ),
                    ));
                }
                table.index.insert(key, at);
            }
            table.models.push(model);
        }
        if let Some(default) = default {
            if table.lookup(default.value).is_none() {
                return Err(error_at(
                    default.span.clone(),
                    &format!(
                        "default_model {} is not in the table",
                        quoted(default.value)
                    ),
                ));
            }
            table.default_model = Some(default.value.to_string());
        }
        Ok(table)
    }

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

/// The source text of a number, for exact re-parsing.
fn number_text<'a>(text: &'a str, number: &Spanned<RawNumber>) -> Result<&'a str, String> {
    let value = text.get(number.span()).unwrap_or("").trim();
    match number.get_ref() {
        RawNumber::Float(f) if !f.is_finite() => Err(format!("{value} is not a price")),
        _ => Ok(value),
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    (line, before[line_start..].chars().count() + 1)
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

impl TokenizerKind {
    /// The tokenizer a table entry names, if it is one we know.
    fn from_table_name(name: &str) -> Option<TokenizerKind> {
        match name {
            "o200k_base" => Some(TokenizerKind::Exact(Encoding::O200kBase)),
            "cl100k_base" => Some(TokenizerKind::Exact(Encoding::Cl100kBase)),
            "heuristic" => Some(TokenizerKind::default()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let error_at = |_: Option<Range<usize>>, message: &str| TableError {
            message: format!("built-in: {message}"),
        };
        let at = |value| At { value, span: None };
        let entry = |name, input| Entry {
            name: at(name),
            provider: None,
            input: at(input),
            output: at("1"),
            cache_read: None,
            cache_write: None,
            tokenizer: None,
            bytes_per_token: None,
            chars_per_token: None,
            aliases: vec![],
        };
        let err =
            PricingTable::from_entries("b", vec![entry("m", "x")], None, &error_at).unwrap_err();
        assert!(
            err.message.starts_with("built-in: input "),
            "{}",
            err.message
        );
        let err = PricingTable::from_entries(
            "b",
            vec![entry("m", "1"), entry("M", "2")],
            None,
            &error_at,
        )
        .unwrap_err();
        assert!(
            err.message.contains("already names model"),
            "{}",
            err.message
        );
    }
}
