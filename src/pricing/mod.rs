//! The pricing table: models, their prices and tokenizers, and lookup.
//!
//! A table is parsed and validated whole before any input is read; every
//! error names the file, line and column. Lookup is by exact name or alias,
//! case-insensitive, never fuzzy; the closest names only appear in errors.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::money::Price;
use crate::tokenize::{Encoding, HeuristicRule, TokenizerKind};

/// The built-in table, compiled from `pricing.toml` at the repository root.
pub const BUILTIN_TABLE: &str = include_str!("../pricing.toml");

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
    /// The built-in table.
    pub fn builtin() -> Result<PricingTable, TableError> {
        PricingTable::parse(BUILTIN_TABLE, "built-in pricing.toml")
    }

    /// Reads and validates the table in `path`.
    pub fn load(path: &Path) -> Result<PricingTable, TableError> {
        let text = std::fs::read_to_string(path).map_err(|err| TableError {
            message: format!("cannot read pricing file {}: {err}", path.display()),
        })?;
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

        let mut entries: Vec<(String, Spanned<RawModel>)> = raw.models.into_iter().collect();
        entries.sort_by_key(|(_, model)| model.span().start);

        let mut table = PricingTable {
            origin: origin.to_string(),
            default_model: None,
            models: Vec::with_capacity(entries.len()),
            index: HashMap::new(),
        };
        for (name, raw_model) in entries {
            let model_span = raw_model.span();
            let raw_model = raw_model.into_inner();
            let price = |number: &Spanned<RawNumber>, field: &str| {
                number_text(text, number)
                    .and_then(|value| Price::parse(value).map_err(|err| format!("{field} {err}")))
                    .map_err(|err| error_at(Some(number.span()), &err))
            };
            let optional_price = |number: &Option<Spanned<RawNumber>>, field: &str| {
                number.as_ref().map(|n| price(n, field)).transpose()
            };
            let ratio = |number: &Spanned<RawNumber>, field: &str| match number.get_ref() {
                RawNumber::Float(value) if value.is_finite() && *value > 0.0 => Ok(*value),
                RawNumber::Integer(value) if *value > 0 => Ok(*value as f64),
                _ => Err(error_at(
                    Some(number.span()),
                    &format!("{field} must be a positive number"),
                )),
            };
            let tokenizer = match (
                &raw_model.tokenizer,
                &raw_model.bytes_per_token,
                &raw_model.chars_per_token,
            ) {
                (_, Some(_), Some(chars)) => {
                    return Err(error_at(
                        Some(chars.span()),
                        "give bytes_per_token or chars_per_token, not both",
                    ));
                }
                (Some(name), bytes, chars) => {
                    let kind = TokenizerKind::from_table_name(name.get_ref()).ok_or_else(|| {
                        error_at(
                            Some(name.span()),
                            &format!(
                                "unknown tokenizer \"{}\" (expected o200k_base, cl100k_base or heuristic)",
                                name.get_ref()
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
                        (TokenizerKind::Heuristic(_), None, None) => kind,
                        (_, None, None) => kind,
                        (_, Some(span), _) | (_, _, Some(span)) => {
                            return Err(error_at(
                                Some(span.span()),
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
                name: name.clone(),
                provider: raw_model.provider,
                input: price(&raw_model.input, "input")?,
                output: price(&raw_model.output, "output")?,
                cache_read: optional_price(&raw_model.cache_read, "cache_read")?,
                cache_write: optional_price(&raw_model.cache_write, "cache_write")?,
                tokenizer,
                aliases: raw_model
                    .aliases
                    .iter()
                    .map(|a| a.get_ref().clone())
                    .collect(),
            };
            let at = table.models.len();
            let names = std::iter::once((name.as_str(), model_span)).chain(
                raw_model
                    .aliases
                    .iter()
                    .map(|a| (a.get_ref().as_str(), a.span())),
            );
            for (name, span) in names {
                if name.trim().is_empty() {
                    return Err(error_at(Some(span), "a model name or alias is empty"));
                }
                if let Some(&other) = table.index.get(&name.to_lowercase()) {
                    return Err(error_at(
                        Some(span),
                        &format!(
                            "\"{name}\" already names model \"{}\"",
                            table.models[other].name
                        ),
                    ));
                }
                table.index.insert(name.to_lowercase(), at);
            }
            table.models.push(model);
        }
        if let Some(default) = raw.default_model {
            if table.lookup(default.get_ref()).is_none() {
                return Err(error_at(
                    Some(default.span()),
                    &format!(
                        "default_model \"{}\" is not in the table",
                        default.get_ref()
                    ),
                ));
            }
            table.default_model = Some(default.into_inner());
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
}
