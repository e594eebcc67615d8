//! models.dev's `api.json` → a pricing table: `cost.*` (USD per 1M) are
//! the card, `cost.tiers[]` its tiers, `limit` its limit, and
//! `experimental.modes.NAME.cost` a flat mode (`fast` is `priority` when
//! it sends `service_tier = "priority"`). A model with tiers keeps no
//! modes: a flat mode over a tiered card would be a guess.
//! `cost.context_over_200k` is derived and often wrong: it is ignored.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::{ImportError, KEYS, Mode, Model, Notes, Prices, Table, Tier, millionths, mode_name_ok};

/// The table of every priced model of `json`.
pub(super) fn import(json: &str) -> Result<(Table, Notes), ImportError> {
    let providers: Map<String, Value> = serde_json::from_str(json)
        .map_err(|err| ImportError(format!("not models.dev's api.json (JSON): {err}")))?;
    let mut notes = Notes::default();
    let mut table = Table {
        header: vec![
            "A pricing table imported from models.dev's api.json".to_string(),
            "by `tokmeter pricing import models-dev`. USD per 1,000,000 tokens.".to_string(),
        ],
        source: Some("models.dev api.json".to_string()),
        ..Table::default()
    };
    let mut taken = BTreeSet::new();
    for (provider_id, provider) in &providers {
        let Some(models) = provider.get("models").and_then(Value::as_object) else {
            continue;
        };
        for (model_id, model) in models {
            let name = format!("{provider_id}/{model_id}");
            let Some(cost) = model.get("cost").and_then(Value::as_object) else {
                notes.add("skipped: no cost", &name);
                continue;
            };
            if !taken.insert(name.to_lowercase()) {
                notes.add(
                    "skipped: a name that differs from another only in case",
                    &name,
                );
                continue;
            }
            match card(model, cost, &name, &mut notes) {
                Ok(mut card) => {
                    card.provider = Some(provider_id.clone());
                    table.models.push(card);
                }
                Err(err) => notes.add(format!("skipped: {err}"), &name),
            }
        }
    }
    Ok((table, notes))
}

/// A `Cost` object's prices; input and output are required.
fn prices(cost: &Map<String, Value>, name: &str, notes: &mut Notes) -> Result<Prices, String> {
    let mut prices = Prices::default();
    for (key, value) in cost {
        match KEYS.iter().position(|k| k == key) {
            Some(slot) => {
                let number = value
                    .as_f64()
                    .ok_or_else(|| format!("cost.{key} is not a number"))?;
                prices[slot] =
                    Some(millionths(number, 0).map_err(|err| format!("cost.{key}: {err}"))?);
            }
            None if matches!(key.as_str(), "tiers" | "context_over_200k" | "tier") => {}
            None => notes.add(
                format!("not imported (no place in the table): cost.{key}"),
                name,
            ),
        }
    }
    if prices[0].is_none() || prices[1].is_none() {
        return Err("cost gives no input or output".to_string());
    }
    Ok(prices)
}

/// The card of one model.
fn card(
    model: &Value,
    cost: &Map<String, Value>,
    name: &str,
    notes: &mut Notes,
) -> Result<Model, String> {
    let base = prices(cost, name, notes)?;
    if cost.contains_key("context_over_200k") {
        notes.add(
            "ignored: cost.context_over_200k (derived; cost.tiers is read)",
            name,
        );
    }
    let mut tiers: Vec<Tier> = Vec::new();
    for tier in cost
        .get("tiers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(tier) = tier.as_object() else {
            return Err("a cost.tiers element is not an object".to_string());
        };
        let spec = tier.get("tier");
        let kind = spec
            .and_then(|s| s.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("context");
        let size = spec.and_then(|s| s.get("size")).and_then(Value::as_u64);
        let size = match size {
            Some(size) if kind == "context" && size > 0 => size,
            _ => {
                notes.add(
                    "not imported: a tier that is not a context size above 0",
                    name,
                );
                continue;
            }
        };
        if tiers.iter().any(|t| t.size == size) {
            notes.add("not imported: a second tier of the same size", name);
            continue;
        }
        let own = prices(tier, name, notes)?;
        for (i, key) in KEYS.iter().enumerate() {
            match (base[i], own[i]) {
                (Some(_), None) => {
                    notes.add(format!("a tier lacks {key}: the card's is used"), name)
                }
                (None, Some(_)) => notes.add(
                    format!("not imported: a tier's {key} where the card has none"),
                    name,
                ),
                _ => {}
            }
        }
        let prices = std::array::from_fn(|i| base[i].and(own[i].or(base[i])));
        tiers.push(Tier { size, prices });
    }
    tiers.sort_by_key(|t| t.size);
    let number = |key: &str| {
        model
            .get("limit")
            .and_then(|l| l.get(key))
            .and_then(Value::as_u64)
            .filter(|n| *n > 0)
    };
    let mut limit = [number("context"), number("input"), number("output")];
    if let (Some(input), Some(last)) = (limit[1], tiers.last())
        && last.size >= input
    {
        notes.add(
            "not imported: limit.input, which is not above every tier",
            name,
        );
        limit[1] = None;
    }
    let mut modes = Vec::new();
    let listed = model
        .get("experimental")
        .and_then(|e| e.get("modes"))
        .and_then(Value::as_object);
    for (mode, entry) in listed.into_iter().flatten() {
        let Some(cost) = entry.get("cost").and_then(Value::as_object) else {
            continue;
        };
        if !tiers.is_empty() {
            notes.add(
                format!("not imported: mode {mode}, flat over a card with tiers"),
                name,
            );
            continue;
        }
        let priority = entry
            .pointer("/provider/body/service_tier")
            .and_then(Value::as_str)
            == Some("priority");
        let mode = if mode == "fast" && priority {
            "priority"
        } else {
            mode.as_str()
        };
        if !mode_name_ok(mode) || modes.iter().any(|m: &Mode| m.name == mode) {
            notes.add(
                format!("not imported: mode {mode:?} (not a usable name)"),
                name,
            );
            continue;
        }
        modes.push(Mode {
            name: mode.to_string(),
            prices: prices(cost, name, notes)?,
            tiers: None,
        });
    }
    Ok(Model {
        name: name.to_string(),
        prices: base,
        limit,
        tiers,
        modes,
        ..Model::default()
    })
}
