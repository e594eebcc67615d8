//! Importing a price list (litellm's `model_prices_and_context_window.json`,
//! models.dev's `api.json`) into a pricing table's TOML, offline. Every
//! price is converted exactly to USD per 1M tokens with at most 6 decimals,
//! or reported; keys are written in one stable order; and the text written
//! always parses and validates as a pricing table. What a source gives that
//! the table has no place for is counted in notes, never dropped silently.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::PricingTable;

#[path = "import_litellm.rs"]
mod litellm;
#[path = "import_models_dev.rs"]
mod models_dev;

/// A table written by an import, and what it left out or changed.
#[derive(Debug)]
pub struct Imported {
    /// The pricing table, as TOML.
    pub toml: String,
    /// One line each: what of the source the table does not carry, and why.
    pub notes: Vec<String>,
}

/// An import that could not be done: the source or the selection is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError(pub String);

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ImportError {}

/// Imports litellm's price list: every model it prices, or with
/// `selection` (a selection file's text) the models it names, with their
/// names, aliases, tokenizers and the litellm key each is priced from.
pub fn from_litellm(json: &str, selection: Option<&str>) -> Result<Imported, ImportError> {
    finish(litellm::import(json, selection)?)
}

/// Imports models.dev's `api.json`: every priced model, named
/// `PROVIDER/MODEL`.
pub fn from_models_dev(json: &str) -> Result<Imported, ImportError> {
    finish(models_dev::import(json)?)
}

/// Writes `table` and checks the text is a valid pricing table.
fn finish((table, notes): (Table, Notes)) -> Result<Imported, ImportError> {
    let toml = table.write();
    PricingTable::parse(&toml, "the imported table")
        .map_err(|err| ImportError(format!("the imported table is not valid: {err}")))?;
    Ok(Imported {
        toml,
        notes: notes.lines(),
    })
}

/// The price keys of a card, in the order they are written.
pub(super) const KEYS: [&str; 6] = [
    "input",
    "output",
    "cache_read",
    "cache_write",
    "cache_write_1h",
    "reasoning",
];
/// Index of `reasoning` in [`KEYS`].
pub(super) const REASONING: usize = 5;

/// A card's prices in millionths of USD per 1M tokens, in [`KEYS`] order.
pub(super) type Prices = [Option<u64>; 6];

/// A context tier: the prices of a prompt above `size` tokens.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Tier {
    pub size: u64,
    pub prices: Prices,
}

/// A mode: the keys it gives, and its tiers (`Some(empty)` is `tiers = []`).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Mode {
    pub name: String,
    pub prices: Prices,
    pub tiers: Option<Vec<Tier>>,
}

/// One model as it will be written.
#[derive(Clone, Debug, Default)]
pub(super) struct Model {
    /// A banner written before the model.
    pub section: Option<String>,
    /// A comment line written before the model.
    pub comment: Option<String>,
    pub name: String,
    pub provider: Option<String>,
    pub prices: Prices,
    pub tokenizer: Option<String>,
    pub aliases: Vec<String>,
    /// `limit = { context, input, output }`.
    pub limit: [Option<u64>; 3],
    pub tiers: Vec<Tier>,
    pub modes: Vec<Mode>,
}

/// A whole table as it will be written.
#[derive(Debug, Default)]
pub(super) struct Table {
    /// Comment lines at the top.
    pub header: Vec<String>,
    pub source: Option<String>,
    pub source_date: Option<String>,
    pub default_model: Option<String>,
    pub models: Vec<Model>,
}

/// Notes gathered while importing: each kind once, with how many models
/// it concerns.
#[derive(Debug, Default)]
pub(super) struct Notes(BTreeMap<String, Vec<String>>);

impl Notes {
    /// Notes `what` of model `model`.
    pub fn add(&mut self, what: impl Into<String>, model: &str) {
        let models = self.0.entry(what.into()).or_default();
        if models.last().map(String::as_str) != Some(model) {
            models.push(model.to_string());
        }
    }

    /// One line per note: what, and the models (the first few by name).
    fn lines(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|(what, models)| {
                let shown: Vec<&str> = models.iter().take(3).map(String::as_str).collect();
                let more = models.len().saturating_sub(3);
                let more = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                format!("{what}: {}{more}", shown.join(", "))
            })
            .collect()
    }
}

/// `value` (a price from the source, in USD per `10^-shift` tokens: 6 for
/// litellm's per-token prices, 0 for per-1M prices) as millionths of USD
/// per 1M tokens. The value's shortest decimal form is shifted and rounded
/// to 6 decimals; a price that this changes by more than 1e-9 of itself
/// (one that needs more decimals) is an error.
pub(super) fn millionths(value: f64, shift: i32) -> Result<u64, String> {
    if !value.is_finite() || value < 0.0 {
        return Err(format!("{value} is not a price"));
    }
    // `{:e}` is the shortest form that reads back as the same f64.
    let text = format!("{value:e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let exponent: i32 = exponent
        .parse()
        .map_err(|_| format!("{value} is not a price"))?;
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: u128 = format!("{whole}{fraction}")
        .parse()
        .map_err(|_| format!("{value} is not a price"))?;
    // value = digits × 10^power, in millionths.
    let power = exponent - fraction.len() as i32 + shift + 6;
    let too_precise = || format!("{value} needs more than 6 decimals per 1M tokens");
    if power >= 0 {
        let scale = 10u128.checked_pow(power as u32);
        return scale
            .and_then(|s| digits.checked_mul(s))
            .and_then(|units| u64::try_from(units).ok())
            .ok_or_else(|| format!("{value} is too large a price"));
    }
    let down = (-power) as u32;
    if down > 27 {
        return if digits == 0 {
            Ok(0)
        } else {
            Err(too_precise())
        };
    }
    let scale = 10u128.pow(down);
    let (quotient, remainder) = (digits / scale, digits % scale);
    // Half to even, as decimal arithmetic rounds.
    let up = remainder * 2 > scale || (remainder * 2 == scale && quotient % 2 == 1);
    let units = quotient + u128::from(up);
    let off = (units * scale).abs_diff(digits);
    if off * 1_000_000_000 > digits {
        return Err(too_precise());
    }
    u64::try_from(units).map_err(|_| format!("{value} is too large a price"))
}

/// Millionths as a TOML decimal: `2.5`, `0.000125`, `4.0`.
fn decimal(units: u64) -> String {
    let (whole, fraction) = (units / 1_000_000, units % 1_000_000);
    let fraction = format!("{fraction:06}");
    let fraction = fraction.trim_end_matches('0');
    format!(
        "{whole}.{}",
        if fraction.is_empty() { "0" } else { fraction }
    )
}

/// A TOML basic string.
fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An integer with `_` between thousands: `272_000`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('_');
        }
        out.push(c);
    }
    out
}

/// Writes the given prices, one `key = value` line each.
fn write_prices(out: &mut String, prices: &Prices) {
    for (key, price) in KEYS.iter().zip(prices) {
        if let Some(units) = price {
            let _ = writeln!(out, "{key} = {}", decimal(*units));
        }
    }
}

/// Writes `tiers` as `[[HEADER.tiers]]` tables.
fn write_tiers(out: &mut String, header: &str, tiers: &[Tier]) {
    for tier in tiers {
        let _ = writeln!(out, "\n[[{header}.tiers]]");
        let _ = writeln!(
            out,
            "tier = {{ type = \"context\", size = {} }}",
            grouped(tier.size)
        );
        write_prices(out, &tier.prices);
    }
}

impl Table {
    /// The table as TOML.
    fn write(&self) -> String {
        let mut out = String::new();
        for line in &self.header {
            let _ = writeln!(out, "#{}{line}", if line.is_empty() { "" } else { " " });
        }
        if !self.header.is_empty() {
            out.push('\n');
        }
        for (key, value) in [
            ("source", &self.source),
            ("source_date", &self.source_date),
            ("default_model", &self.default_model),
        ] {
            if let Some(value) = value {
                let _ = writeln!(out, "{key} = {}", quote(value));
            }
        }
        for model in &self.models {
            model.write(&mut out);
        }
        out
    }
}

impl Model {
    /// Writes the model's tables.
    fn write(&self, out: &mut String) {
        if let Some(section) = &self.section {
            let rule = "=".repeat(70);
            let _ = write!(out, "\n# {rule}\n# {section}\n# {rule}\n");
        }
        out.push('\n');
        if let Some(comment) = &self.comment {
            let _ = writeln!(out, "# {comment}");
        }
        let header = format!("models.{}", quote(&self.name));
        let _ = writeln!(out, "[{header}]");
        if let Some(provider) = &self.provider {
            let _ = writeln!(out, "provider = {}", quote(provider));
        }
        write_prices(out, &self.prices);
        if let Some(tokenizer) = &self.tokenizer {
            let _ = writeln!(out, "tokenizer = {}", quote(tokenizer));
        }
        if !self.aliases.is_empty() {
            let aliases: Vec<String> = self.aliases.iter().map(|a| quote(a)).collect();
            let _ = writeln!(out, "aliases = [{}]", aliases.join(", "));
        }
        let limit: Vec<String> = ["context", "input", "output"]
            .iter()
            .zip(self.limit)
            .filter_map(|(key, n)| n.map(|n| format!("{key} = {}", grouped(n))))
            .collect();
        if !limit.is_empty() {
            let _ = writeln!(out, "limit = {{ {} }}", limit.join(", "));
        }
        write_tiers(out, &header, &self.tiers);
        for mode in &self.modes {
            let header = format!("{header}.modes.{}", mode.name);
            let _ = writeln!(out, "\n[{header}]");
            write_prices(out, &mode.prices);
            match &mode.tiers {
                Some(tiers) if tiers.is_empty() => out.push_str("tiers = []\n"),
                Some(tiers) => write_tiers(out, &header, tiers),
                None => {}
            }
        }
    }
}

/// Whether `name` may name a mode: `[a-z][a-z0-9_-]*`, not a reserved
/// name for the card itself.
pub(super) fn mode_name_ok(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        && !super::STANDARD_MODES.contains(&name)
}

#[cfg(test)]
#[path = "import_tests.rs"]
mod tests;
