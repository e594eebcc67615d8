//! Validating a model's cards: its tiers, modes and dated history, by the
//! rules that keep a table from under-billing by a guess. A tier lists
//! exactly its card's prices; a mode gives input and output and, when its
//! card has tiers, tiers of its own (`tiers = []` when it is flat); a
//! dated card is complete, and the dates are unique with the current card
//! the latest.

use std::borrow::Cow;
use std::ops::Range;

use chrono::{DateTime, NaiveDate, Utc};

use super::schema::{At, CardEntry, Entry, Keys, ModeEntry, TierEntry};
use super::{Card, ModeCard, Prices, STANDARD_MODES, TableError, Tier};
use crate::money::Price;
use crate::plain::quoted;

type ErrorAt<'e> = &'e dyn Fn(Option<Range<usize>>, &str) -> TableError;

/// The names of the optional keys, in [`Keys`] order after input, output.
const OPTIONAL: [&str; 4] = ["cache_read", "cache_write", "cache_write_1h", "reasoning"];

/// Which optional keys are given.
fn given(keys: &Keys<'_>) -> [bool; 4] {
    [
        keys.cache_read.is_some(),
        keys.cache_write.is_some(),
        keys.cache_write_1h.is_some(),
        keys.reasoning.is_some(),
    ]
}

/// The current card, the history (newest first) and the input limit of
/// `entry`.
pub(super) fn cards(
    entry: &Entry<'_>,
    error_at: ErrorAt<'_>,
) -> Result<(Card, Vec<Card>, Option<u64>), TableError> {
    let limit = match &entry.limit_input {
        Some(at) if at.value <= 0 => {
            return Err(error_at(at.span.clone(), "limit.input must be at least 1"));
        }
        Some(at) => Some(at.value as u64),
        None => None,
    };
    let keys = entry_keys(entry);
    let card = card(
        entry.effective_from.as_ref(),
        &keys,
        &entry.tiers,
        &entry.modes,
        entry.name.span.clone(),
        limit,
        error_at,
    )?;
    let mut history = Vec::with_capacity(entry.history.len());
    for old in entry.history.iter() {
        history.push((card_of(old, limit, error_at)?, old.span.clone()));
    }
    if !history.is_empty() && card.effective_from.is_none() {
        return Err(error_at(
            entry.name.span.clone(),
            "a model with history needs effective_from on its current card",
        ));
    }
    let mut undated = 0;
    for (old, span) in &history {
        match old.effective_from {
            None => undated += 1,
            Some(from) if Some(from) >= card.effective_from => {
                return Err(error_at(
                    span.clone(),
                    "a history card's effective_from must be earlier than the current card's",
                ));
            }
            Some(from) => {
                if history
                    .iter()
                    .filter(|(other, _)| other.effective_from == Some(from))
                    .count()
                    > 1
                {
                    return Err(error_at(span.clone(), "effective_from dates are unique"));
                }
            }
        }
        if undated > 1 {
            return Err(error_at(
                span.clone(),
                "only one card, the oldest, may omit effective_from",
            ));
        }
    }
    let mut history: Vec<Card> = history.into_iter().map(|(c, _)| c).collect();
    history.sort_by_key(|c| std::cmp::Reverse(c.effective_from));
    Ok((card, history, limit))
}

/// The prices of `entry`'s current card, as written.
fn entry_keys<'t>(entry: &Entry<'t>) -> Keys<'t> {
    Keys {
        input: Some(entry.input.clone()),
        output: Some(entry.output.clone()),
        cache_read: entry.cache_read.clone(),
        cache_write: entry.cache_write.clone(),
        cache_write_1h: entry.cache_write_1h.clone(),
        reasoning: entry.reasoning.clone(),
    }
}

/// The base prices of `entry`'s current card.
pub(super) fn base_prices(entry: &Entry<'_>, error_at: ErrorAt<'_>) -> Result<Prices, TableError> {
    let keys = entry_keys(entry);
    prices(&keys, None, entry.name.span.clone(), error_at)
}

/// A history card: complete, with its own tiers and modes.
fn card_of(
    entry: &CardEntry<'_>,
    limit: Option<u64>,
    error_at: ErrorAt<'_>,
) -> Result<Card, TableError> {
    card(
        entry.effective_from.as_ref(),
        &entry.keys,
        &entry.tiers,
        &entry.modes,
        entry.span.clone(),
        limit,
        error_at,
    )
}

/// A card from its parts as written.
fn card(
    effective_from: Option<&At<Cow<'_, str>>>,
    keys: &Keys<'_>,
    tier_list: &[TierEntry<'_>],
    mode_list: &[ModeEntry<'_>],
    span: Option<Range<usize>>,
    limit: Option<u64>,
    error_at: ErrorAt<'_>,
) -> Result<Card, TableError> {
    let prices = prices(keys, None, span, error_at)?;
    let present = given(keys);
    let tiers = tiers(tier_list, &present, None, limit, error_at)?;
    let mut modes = Vec::with_capacity(mode_list.len());
    for mode in mode_list {
        modes.push(mode_card(
            mode,
            &prices,
            &present,
            !tiers.is_empty(),
            limit,
            error_at,
        )?);
    }
    Ok(Card {
        effective_from: effective_from.map(|at| date(at, error_at)).transpose()?,
        prices,
        tiers,
        modes,
    })
}

/// A mode's card: its keys over the card's.
fn mode_card(
    mode: &ModeEntry<'_>,
    base: &Prices,
    base_given: &[bool; 4],
    base_has_tiers: bool,
    limit: Option<u64>,
    error_at: ErrorAt<'_>,
) -> Result<ModeCard, TableError> {
    let name = &mode.name.value;
    let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !valid {
        return Err(error_at(
            mode.name.span.clone(),
            &format!("mode {} is not a name of [a-z][a-z0-9_-]*", quoted(name)),
        ));
    }
    if STANDARD_MODES.contains(&name.as_ref()) {
        return Err(error_at(
            mode.name.span.clone(),
            &format!(
                "mode {} is reserved: it means the card itself",
                quoted(name)
            ),
        ));
    }
    let prices = prices(&mode.keys, Some(base), mode.name.span.clone(), error_at)?;
    let mine = given(&mode.keys);
    let present: [bool; 4] = std::array::from_fn(|i| mine[i] || base_given[i]);
    let tiers = match &mode.tiers {
        Some(list) => tiers(list, &present, Some(name), limit, error_at)?,
        None if base_has_tiers => {
            return Err(error_at(
                mode.name.span.clone(),
                &format!(
                    "mode {}: the card has tiers, so the mode needs its own (tiers = [] if it is flat)",
                    quoted(name)
                ),
            ));
        }
        None => Vec::new(),
    };
    Ok(ModeCard {
        name: name.to_string(),
        prices,
        tiers,
    })
}

/// A card's tiers, by size: unique sizes above 0 and below the input
/// limit, each listing exactly the card's keys.
fn tiers(
    list: &[TierEntry<'_>],
    present: &[bool; 4],
    mode: Option<&str>,
    limit: Option<u64>,
    error_at: ErrorAt<'_>,
) -> Result<Vec<Tier>, TableError> {
    let whose = mode.map_or("its card".to_string(), |m| format!("mode {}", quoted(m)));
    let mut tiers: Vec<Tier> = Vec::with_capacity(list.len());
    for tier in list {
        if let Some(kind) = tier.kind.as_ref().filter(|k| k.value != "context") {
            return Err(error_at(
                kind.span.clone(),
                &format!(
                    "tier type {} is not known (only \"context\")",
                    quoted(&kind.value)
                ),
            ));
        }
        let size = tier.size.value;
        if size <= 0 {
            return Err(error_at(
                tier.size.span.clone(),
                "a tier's size must be at least 1",
            ));
        }
        let size = size as u64;
        if limit.is_some_and(|limit| size >= limit) {
            return Err(error_at(
                tier.size.span.clone(),
                "a tier's size must be below the model's limit.input",
            ));
        }
        if tiers.iter().any(|t| t.size == size) {
            return Err(error_at(tier.size.span.clone(), "tier sizes are unique"));
        }
        let mine = given(&tier.keys);
        for (i, key) in OPTIONAL.iter().enumerate() {
            let what = match (present[i], mine[i]) {
                (true, false) => "lacks",
                (false, true) => "adds",
                _ => continue,
            };
            return Err(error_at(
                tier.span.clone().or(tier.size.span.clone()),
                &format!("a tier lists exactly the prices of {whose}: this one {what} {key}"),
            ));
        }
        tiers.push(Tier {
            size,
            prices: prices(&tier.keys, None, tier.span.clone(), error_at)?,
        });
    }
    tiers.sort_by_key(|t| t.size);
    Ok(tiers)
}

/// The prices of `keys`, each over `base`'s when given (a mode).
fn prices(
    keys: &Keys<'_>,
    base: Option<&Prices>,
    span: Option<Range<usize>>,
    error_at: ErrorAt<'_>,
) -> Result<Prices, TableError> {
    let one = |at: &Option<At<&str>>, field: &str| -> Result<Option<Price>, TableError> {
        at.as_ref()
            .map(|at| {
                Price::parse(at.value)
                    .map_err(|err| error_at(at.span.clone(), &format!("{field} {err}")))
            })
            .transpose()
    };
    let required = |at: &Option<At<&str>>, field: &str| -> Result<Price, TableError> {
        one(at, field)?.ok_or_else(|| error_at(span.clone(), &format!("missing {field}")))
    };
    let or_base = |own: Option<Price>, base: Option<Option<Price>>| own.or(base.flatten());
    Ok(Prices {
        input: required(&keys.input, "input")?,
        output: required(&keys.output, "output")?,
        cache_read: or_base(
            one(&keys.cache_read, "cache_read")?,
            base.map(|b| b.cache_read),
        ),
        cache_write: or_base(
            one(&keys.cache_write, "cache_write")?,
            base.map(|b| b.cache_write),
        ),
        cache_write_1h: or_base(
            one(&keys.cache_write_1h, "cache_write_1h")?,
            base.map(|b| b.cache_write_1h),
        ),
        reasoning: or_base(
            one(&keys.reasoning, "reasoning")?,
            base.map(|b| b.reasoning),
        ),
    })
}

/// `2026-07-30` (midnight UTC) or an RFC 3339 date-time with its offset.
fn date(at: &At<Cow<'_, str>>, error_at: ErrorAt<'_>) -> Result<DateTime<Utc>, TableError> {
    let text = at.value.as_ref();
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    DateTime::parse_from_rfc3339(&text.replace(' ', "T"))
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            error_at(
                at.span.clone(),
                &format!(
                    "effective_from {} is not a date (2026-07-30) or a date-time with an offset",
                    quoted(text)
                ),
            )
        })
}

#[cfg(test)]
#[path = "cards_tests.rs"]
mod tests;
