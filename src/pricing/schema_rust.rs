//! Rust expressions of the pricing schema's values, placed nowhere: what
//! build.rs writes for the built-in table. Like `schema.rs`, it imports
//! nothing of the crate.
use super::{At, CardEntry, Cow, Keys, ModeEntry, TierEntry};

pub fn text(at: &At<&str>) -> String {
    format!("At {{ value: {:?}, span: None }}", at.value)
}

pub fn optional(at: &Option<At<&str>>) -> String {
    at.as_ref()
        .map_or("None".to_string(), |at| format!("Some({})", text(at)))
}

pub fn owned(at: &At<Cow<'_, str>>) -> String {
    format!("At {{ value: Cow::Borrowed({:?}), span: None }}", at.value)
}

pub fn optional_owned(at: &Option<At<Cow<'_, str>>>) -> String {
    at.as_ref()
        .map_or("None".to_string(), |at| format!("Some({})", owned(at)))
}

pub fn integer(at: &At<i64>) -> String {
    format!("At {{ value: {}, span: None }}", at.value)
}

pub fn keys(k: &Keys<'_>) -> String {
    format!(
        "Keys {{ input: {}, output: {}, cache_read: {}, cache_write: {}, cache_write_1h: {}, reasoning: {} }}",
        optional(&k.input),
        optional(&k.output),
        optional(&k.cache_read),
        optional(&k.cache_write),
        optional(&k.cache_write_1h),
        optional(&k.reasoning),
    )
}

pub fn tiers(tiers: &[TierEntry<'_>]) -> String {
    let items: Vec<String> = tiers
        .iter()
        .map(|t| {
            format!(
                "TierEntry {{ size: {}, kind: {}, keys: {}, span: None }}",
                integer(&t.size),
                optional_owned(&t.kind),
                keys(&t.keys)
            )
        })
        .collect();
    format!("Cow::Borrowed(&[{}])", items.join(", "))
}

pub fn modes(modes: &[ModeEntry<'_>]) -> String {
    let items: Vec<String> = modes
        .iter()
        .map(|m| {
            format!(
                "ModeEntry {{ name: {}, keys: {}, tiers: {} }}",
                owned(&m.name),
                keys(&m.keys),
                m.tiers
                    .as_ref()
                    .map_or("None".to_string(), |t| format!("Some({})", tiers(t)))
            )
        })
        .collect();
    format!("Cow::Borrowed(&[{}])", items.join(", "))
}

pub fn history(cards: &[CardEntry<'_>]) -> String {
    let items: Vec<String> = cards
        .iter()
        .map(|c| {
            format!(
                "CardEntry {{ effective_from: {}, keys: {}, tiers: {}, modes: {}, span: None }}",
                optional_owned(&c.effective_from),
                keys(&c.keys),
                tiers(&c.tiers),
                modes(&c.modes)
            )
        })
        .collect();
    format!("Cow::Borrowed(&[{}])", items.join(", "))
}
