//! litellm's price list → a pricing table. A litellm key is a base price
//! (`input_cost_per_token`, …), then `_above_1hr` for the 1-hour cache
//! write, `_above_<N>k_tokens` for a context tier, and a service-tier
//! suffix for a mode (`_batches` → `batch`, `_flex`, `_priority`, …).
//! Missing prices fall back as litellm's calculator does: a tier's to the
//! card's, a mode's to the card's, a mode's tier's to the card's tier;
//! except that a mode's tier never pays less than the mode's own base
//! price.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{ImportError, Mode, Model, Notes, Prices, REASONING, Table, Tier, millionths};

/// litellm's base keys and where each goes in [`super::KEYS`].
const BASES: [(&str, usize); 5] = [
    ("input_cost_per_token", 0),
    ("output_cost_per_token", 1),
    ("cache_read_input_token_cost", 2),
    ("cache_creation_input_token_cost", 3),
    ("output_cost_per_reasoning_token", REASONING),
];

/// litellm's service-tier suffixes and the modes they price.
const MODES: [(&str, &str); 6] = [
    ("batches", "batch"),
    ("flex", "flex"),
    ("priority", "priority"),
    ("ultrafast", "ultrafast"),
    ("decisions", "decisions"),
    ("balanced", "balanced"),
];

/// A selection file: which models the table keeps, under which names.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Selection {
    /// Comment lines for the top of the table.
    #[serde(default)]
    header: String,
    source: Option<String>,
    source_date: Option<String>,
    default_model: Option<String>,
    models: Vec<Selected>,
}

/// One `[[models]]` of a selection file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Selected {
    section: Option<String>,
    comment: Option<String>,
    name: String,
    provider: Option<String>,
    /// The litellm key the prices come from.
    key: String,
    tokenizer: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
}

/// Prices by (mode, tier size in thousands as litellm writes it).
type Found = BTreeMap<(Option<&'static str>, Option<u64>), Prices>;

/// The table of `json`, of the selected models or of every priced one.
pub(super) fn import(json: &str, selection: Option<&str>) -> Result<(Table, Notes), ImportError> {
    let db: Map<String, Value> = serde_json::from_str(json)
        .map_err(|err| ImportError(format!("not litellm's price list (JSON): {err}")))?;
    let mut notes = Notes::default();
    let Some(selection) = selection else {
        return Ok((every_model(&db, &mut notes), notes));
    };
    let selection: Selection = toml::from_str(selection)
        .map_err(|err| ImportError(format!("the selection: {}", err.message().trim_end())))?;
    let mut table = Table {
        header: selection.header.lines().map(str::to_string).collect(),
        source: selection.source,
        source_date: selection.source_date,
        default_model: selection.default_model,
        models: Vec::new(),
    };
    for chosen in selection.models {
        let entry = resolve(&db, &chosen.key).ok_or_else(|| {
            ImportError(format!(
                "{}: litellm has no key {:?}",
                chosen.name, chosen.key
            ))
        })?;
        let mut model = card(entry, &chosen.name, &mut notes).map_err(|err| {
            ImportError(format!(
                "{} (litellm key {:?}): {err}",
                chosen.name, chosen.key
            ))
        })?;
        model.section = chosen.section;
        model.comment = chosen.comment;
        model.provider = chosen.provider;
        model.tokenizer = chosen.tokenizer;
        model.aliases = chosen.aliases;
        table.models.push(model);
    }
    Ok((table, notes))
}

/// Every model litellm prices (input and output per token), named by its
/// key, with litellm's `alias_of` entries as aliases.
fn every_model(db: &Map<String, Value>, notes: &mut Notes) -> Table {
    let mut table = Table {
        header: vec![
            "A pricing table imported from litellm's model_prices_and_context_window.json"
                .to_string(),
            "by `tokmeter pricing import litellm`. USD per 1,000,000 tokens.".to_string(),
        ],
        source: Some("litellm model_prices_and_context_window.json".to_string()),
        ..Table::default()
    };
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut at: BTreeMap<&str, usize> = BTreeMap::new();
    for (key, entry) in db {
        let Some(entry) = entry.as_object() else {
            continue;
        };
        if key == "sample_spec" || entry.contains_key("alias_of") {
            continue;
        }
        if !entry.contains_key("input_cost_per_token")
            || !entry.contains_key("output_cost_per_token")
        {
            continue;
        }
        if !taken.insert(key.to_lowercase()) {
            notes.add(
                "skipped: a name that differs from another only in case",
                key,
            );
            continue;
        }
        match card(entry, key, notes) {
            Ok(mut model) => {
                model.provider = entry
                    .get("litellm_provider")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                at.insert(key, table.models.len());
                table.models.push(model);
            }
            Err(err) => notes.add(format!("skipped: {err}"), key),
        }
    }
    for (key, entry) in db {
        let Some(target) = entry.get("alias_of").and_then(Value::as_str) else {
            continue;
        };
        match at.get(target) {
            Some(&i) if taken.insert(key.to_lowercase()) => {
                table.models[i].aliases.push(key.clone())
            }
            _ => notes.add(
                "skipped: an alias_of entry whose model is not imported",
                key,
            ),
        }
    }
    table
}

/// The entry of `key`, following litellm's `alias_of` entries.
fn resolve<'d>(db: &'d Map<String, Value>, key: &str) -> Option<&'d Map<String, Value>> {
    let mut key = key;
    for _ in 0..8 {
        let entry = db.get(key)?.as_object()?;
        match entry.get("alias_of").and_then(Value::as_str) {
            Some(next) => key = next,
            None => return Some(entry),
        }
    }
    None
}

/// A litellm key read: its slot, mode and threshold (in thousands); `None`
/// for a key the table has no place for.
fn parse_key(key: &str) -> Option<(usize, Option<&'static str>, Option<u64>)> {
    let &(base, mut slot) = BASES.iter().find(|(base, _)| key.starts_with(base))?;
    let mut rest = &key[base.len()..];
    if let Some(after) = rest.strip_prefix("_above_1hr") {
        if slot != 3 {
            return None;
        }
        slot = 4;
        rest = after;
    }
    let mut threshold = None;
    if let Some(after) = rest.strip_prefix("_above_") {
        let digits = after
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after.len());
        let tail = after[digits..].strip_prefix("k_tokens")?;
        threshold = Some(after[..digits].parse().ok()?);
        rest = tail;
    }
    let mode = match rest {
        "" => None,
        suffix => Some(
            MODES
                .iter()
                .find(|(s, _)| Some(*s) == suffix.strip_prefix('_'))?
                .1,
        ),
    };
    Some((slot, mode, threshold))
}

/// The model card of one litellm entry, named `name`.
fn card(entry: &Map<String, Value>, name: &str, notes: &mut Notes) -> Result<Model, String> {
    let mut found: Found = BTreeMap::new();
    for (key, value) in entry {
        let Some(number) = value.as_f64() else {
            if key.ends_with("_pricing") {
                notes.add(format!("not imported (no place in the table): {key}"), name);
            }
            continue;
        };
        match parse_key(key) {
            Some((slot, mode, threshold)) => {
                let units = millionths(number, 6).map_err(|err| format!("{key}: {err}"))?;
                found.entry((mode, threshold)).or_default()[slot] = Some(units);
            }
            None if key.contains("cost") => {
                notes.add(
                    format!("not imported (no place in the table): {}", family(key)),
                    name,
                );
            }
            None => {}
        }
    }
    let xai = entry.get("litellm_provider").and_then(Value::as_str) == Some("xai");
    let mut base = found.get(&(None, None)).copied().unwrap_or_default();
    if base[0].is_none() || base[1].is_none() {
        return Err("no input_cost_per_token or output_cost_per_token".to_string());
    }
    if base[REASONING] == base[1] {
        base[REASONING] = None;
    }
    // litellm picks a tier by its input key alone.
    let thresholds: Vec<u64> = found
        .iter()
        .filter(|((mode, t), prices)| mode.is_none() && t.is_some() && prices[0].is_some())
        .filter_map(|((_, t), _)| *t)
        .collect();
    for (_, t) in found.keys() {
        if let Some(t) = t.filter(|t| !thresholds.contains(t)) {
            notes.add(
                format!("not imported: prices above {t}k tokens with no input price there (litellm never applies them)"),
                name,
            );
        }
    }
    let size = |t: u64| if xai { t * 1000 - 1 } else { t * 1000 };
    let tiers: Vec<Tier> = thresholds
        .iter()
        .map(|&t| Tier {
            size: size(t),
            prices: over(&base, &found[&(None, Some(t))], name, notes),
        })
        .collect();
    let mut modes = Vec::new();
    let names: BTreeSet<&'static str> = found.keys().filter_map(|(m, _)| *m).collect();
    for mode in MODES.iter().map(|(_, m)| *m).filter(|m| names.contains(m)) {
        let own = found.get(&(Some(mode), None)).copied().unwrap_or_default();
        let mut prices = own;
        for slot in [0, 1] {
            prices[slot] = prices[slot].or(base[slot]);
        }
        let effective: Prices = std::array::from_fn(|i| own[i].or(base[i]));
        let mut mode_tiers = Vec::with_capacity(tiers.len());
        for (tier, &t) in tiers.iter().zip(&thresholds) {
            let own_tier = found
                .get(&(Some(mode), Some(t)))
                .copied()
                .unwrap_or_default();
            for (i, key) in super::KEYS.iter().enumerate() {
                if own[i].is_some() && own_tier[i].is_none() {
                    notes.add(
                        format!(
                            "a {mode} price above a threshold litellm lacks is the larger of the {mode} base and the standard tier's (never below either): {key}"
                        ),
                        name,
                    );
                }
            }
            // Where litellm has the mode's base price but not its price above
            // the threshold, neither guess may under-bill: the larger of the
            // mode's base and the standard tier's.
            let prices = std::array::from_fn(|i| {
                let missing = match (own[i], tier.prices[i]) {
                    (Some(mode), Some(standard)) => Some(mode.max(standard)),
                    (mode, standard) => standard.or(mode),
                };
                effective[i].and(own_tier[i].or(missing).or(effective[i]))
            });
            mode_tiers.push(Tier {
                size: tier.size,
                prices,
            });
        }
        let mode_tiers = (!tiers.is_empty()).then_some(mode_tiers);
        modes.push(Mode {
            name: mode.to_string(),
            prices,
            tiers: mode_tiers,
        });
    }
    Ok(Model {
        name: name.to_string(),
        prices: base,
        tiers,
        modes,
        ..Model::default()
    })
}

/// A tier's prices: its own, else the card's, for exactly the card's keys.
fn over(base: &Prices, own: &Prices, name: &str, notes: &mut Notes) -> Prices {
    for (i, price) in own.iter().enumerate() {
        if price.is_some() && base[i].is_none() {
            notes.add(
                format!(
                    "not imported: a tier's {} where the card has none",
                    super::KEYS[i]
                ),
                name,
            );
        }
    }
    std::array::from_fn(|i| base[i].and(own[i].or(base[i])))
}

/// A key with its threshold and mode generalised, to count it once.
fn family(key: &str) -> String {
    let mut out = String::new();
    let mut rest = key;
    while let Some(at) = rest.find("_above_") {
        out.push_str(&rest[..at + 7]);
        rest = &rest[at + 7..];
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits > 0 && rest[digits..].starts_with("k_tokens") {
            out.push('N');
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    for (suffix, _) in MODES {
        if let Some(stripped) = out.strip_suffix(&format!("_{suffix}")) {
            return format!("{stripped}_<mode>");
        }
    }
    out
}
