//! Reading and validating pricing tables: a file, a text, or the built-in
//! table build.rs compiled. Every error names the file, line and column of
//! the value at fault.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;
use std::ops::Range;
use std::path::Path;

use super::cards::{base_prices, cards};
use super::schema::{self, At, Entry};
use super::{Cards, MAX_FILE_BYTES, Model, PricingTable, RATIO_RANGE, TableError, builtin};
use crate::money::Price;
use crate::plain::quoted;
use crate::tokenize::{Encoding, HeuristicRule, TokenizerKind};

impl PricingTable {
    /// The built-in table, from the entries build.rs compiled out of
    /// `pricing.toml`: validated as a pricing file is, without reading TOML.
    pub fn builtin() -> Result<PricingTable, TableError> {
        let origin = "built-in pricing.toml";
        let error_at = |_: Option<Range<usize>>, message: &str| TableError {
            message: format!("{origin}: {message}"),
        };
        PricingTable::read_entries(
            origin,
            builtin::ENTRIES,
            Some(builtin::ENTRIES),
            builtin::DEFAULT_MODEL.as_ref(),
            &error_at,
        )
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
        let read = schema::read(text).map_err(|(span, message)| error_at(span, &message))?;
        PricingTable::from_entries(origin, &read.entries, read.default.as_ref(), &error_at)
    }

    /// Validates a table's entries, in file order; every error goes through
    /// `error_at` with the place of the value at fault, when known.
    pub(super) fn from_entries(
        origin: &str,
        entries: &[Entry<'_>],
        default: Option<&At<Cow<'_, str>>>,
        error_at: &dyn Fn(Option<Range<usize>>, &str) -> TableError,
    ) -> Result<PricingTable, TableError> {
        PricingTable::read_entries(origin, entries, None, default, error_at)
    }

    /// As [`PricingTable::from_entries`]; with `later` (the built-in
    /// entries, the same as `entries`), each model's cards are built when
    /// first asked for.
    fn read_entries(
        origin: &str,
        entries: &[Entry<'_>],
        later: Option<&'static [Entry<'static>]>,
        default: Option<&At<Cow<'_, str>>>,
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
                    let kind = TokenizerKind::from_table_name(&name.value).ok_or_else(|| {
                        error_at(
                            name.span.clone(),
                            &format!(
                                "unknown tokenizer {} (expected o200k_base, cl100k_base or heuristic)",
                                quoted(&name.value)
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
            let at = table.models.len();
            let (cards, limit_input) = match later.and_then(|all| all.get(at)) {
                Some(entry) => {
                    let base = base_prices(entry, error_at)?;
                    let limit = entry.limit_input.as_ref().map(|l| l.value.max(1) as u64);
                    (Cards::later(entry, base), limit)
                }
                None => {
                    let (card, history, limit) = cards(entry, error_at)?;
                    (Cards::built(card, history), limit)
                }
            };
            let model = Model {
                name: entry.name.value.to_string(),
                provider: entry.provider.as_deref().map(str::to_string),
                input: price(&entry.input, "input")?,
                output: price(&entry.output, "output")?,
                cache_read: optional_price(&entry.cache_read, "cache_read")?,
                cache_write: optional_price(&entry.cache_write, "cache_write")?,
                cache_write_1h: optional_price(&entry.cache_write_1h, "cache_write_1h")?,
                tokenizer,
                aliases: entry.aliases.iter().map(|a| a.value.to_string()).collect(),
                cards,
                limit_input,
            };
            for name in std::iter::once(&entry.name).chain(entry.aliases.iter()) {
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
                        .map_or(&*entry.name.value, |m| m.name.as_str());
                    return Err(error_at(
                        name.span.clone(),
                        &format!(
                            "{} already names model {} (names and aliases are unique, ignoring case)",
                            quoted(&name.value),
                            quoted(owner)
                        ),
                    ));
                }
                table.index.insert(key, at);
            }
            table.models.push(model);
        }
        if let Some(default) = default {
            if table.lookup(&default.value).is_none() {
                return Err(error_at(
                    default.span.clone(),
                    &format!(
                        "default_model {} is not in the table",
                        quoted(&default.value)
                    ),
                ));
            }
            table.default_model = Some(default.value.to_string());
        }
        Ok(table)
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    (line, before[line_start..].chars().count() + 1)
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
