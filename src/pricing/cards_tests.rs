//! The rules of cards, through the parser: each rule of validation with
//! the place it names, and a request's card by date, mode and tier.

use crate::money::Money;
use crate::pricing::{PricingTable, Request, Usage};

fn error(text: &str) -> String {
    PricingTable::parse(text, "p.toml").unwrap_err().message
}

const SONNET: &str = r#"
[models.s]
input = 3
output = 15
cache_read = 0.3
cache_write = 3.75
cache_write_1h = 6
[[models.s.tiers]]
tier = { type = "context", size = 200_000 }
input = 6
output = 22.5
cache_read = 0.6
cache_write = 7.5
cache_write_1h = 12
[models.s.modes.batch]
input = 1.5
output = 7.5
[[models.s.modes.batch.tiers]]
tier = { size = 200_000 }
input = 3
output = 11.25
cache_read = 0.3
cache_write = 3.75
cache_write_1h = 6
[models.s.modes.fast]
input = 6
output = 30
tiers = []
"#;

#[test]
fn a_tier_lists_exactly_its_cards_prices() {
    let lacking = SONNET.replacen("cache_write_1h = 12\n", "", 1);
    let message = error(&lacking);
    assert!(message.starts_with("p.toml:8:1: "), "{message}");
    assert!(
        message.contains("this one lacks cache_write_1h"),
        "{message}"
    );
    let adding = SONNET.replacen(
        "cache_write_1h = 12\n",
        "cache_write_1h = 12\nreasoning = 30\n",
        1,
    );
    assert!(error(&adding).contains("this one adds reasoning"));
    let mode_lacking = SONNET.replacen(
        "cache_write_1h = 6\n[models.s.modes.fast]",
        "[models.s.modes.fast]",
        1,
    );
    let message = error(&mode_lacking);
    assert!(
        message.contains("prices of mode \"batch\": this one lacks cache_write_1h"),
        "{message}"
    );
}

#[test]
fn a_mode_of_a_tiered_card_needs_tiers_of_its_own() {
    let message = error(&SONNET.replace("tiers = []\n", ""));
    assert!(message.starts_with("p.toml:25:1: "), "{message}");
    assert!(
        message.contains("needs its own (tiers = [] if it is flat)"),
        "{message}"
    );
    assert!(error(&SONNET.replace("modes.fast]", "modes.standard]")).contains("reserved"));
    assert!(error(&SONNET.replace("modes.fast]", "modes.Fast]")).contains("not a name"));
    let no_output = SONNET.replace("input = 6\noutput = 30\n", "input = 6\n");
    assert!(error(&no_output).contains("output"));
}

#[test]
fn tier_sizes_are_unique_positive_and_below_the_limit() {
    let twice = SONNET.replacen(
        "[models.s.modes.batch]",
        "[[models.s.tiers]]\ntier = { size = 200_000 }\ninput = 1\noutput = 1\ncache_read = 1\ncache_write = 1\ncache_write_1h = 1\n[models.s.modes.batch]",
        1,
    );
    assert!(error(&twice).contains("tier sizes are unique"));
    assert!(error(&SONNET.replacen("size = 200_000 }", "size = 0 }", 1)).contains("at least 1"));
    let limited = SONNET.replacen(
        "cache_write_1h = 6\n",
        "cache_write_1h = 6\nlimit = { input = 200_000 }\n",
        1,
    );
    assert!(error(&limited).contains("below the model's limit.input"));
    let kind = SONNET.replacen("type = \"context\"", "type = \"time\"", 1);
    assert!(error(&kind).contains("tier type \"time\""));
}

#[test]
fn history_cards_are_dated_uniquely_before_the_current_one() {
    let base = "[models.g]\neffective_from = 2026-07-30\ninput = 2\noutput = 12\n";
    let card = |date: &str| format!("[[models.g.history]]\n{date}input = 2.5\noutput = 15\n");
    let ok = format!(
        "{base}{}{}",
        card("effective_from = 2026-07-09\n"),
        card("")
    );
    let table = PricingTable::parse(&ok, "p.toml").unwrap();
    assert_eq!(table.models[0].history().len(), 2);
    let later = format!("{base}{}", card("effective_from = 2026-08-01\n"));
    assert!(error(&later).contains("earlier than the current card's"));
    let same = format!(
        "{base}{}{}",
        card("effective_from = 2026-07-09\n"),
        card("effective_from = 2026-07-09\n")
    );
    assert!(error(&same).contains("unique"));
    let undated = format!("{base}{}{}", card(""), card(""));
    assert!(error(&undated).contains("only one card, the oldest"));
    let no_current = format!(
        "[models.g]\ninput = 2\noutput = 12\n{}",
        card("effective_from = 2026-07-09\n")
    );
    assert!(error(&no_current).contains("needs effective_from on its current card"));
}

/// The cost of a request, by the worked examples of the pricing research.
fn cost(
    table: &PricingTable,
    model: &str,
    usage: Usage,
    mode: Option<&str>,
    time: Option<&str>,
) -> String {
    let model = table.lookup(model).unwrap();
    let time = time.map(|t| {
        chrono::DateTime::parse_from_rfc3339(t)
            .unwrap()
            .with_timezone(&chrono::Utc)
    });
    let chosen = model.choose(&Request {
        time,
        mode,
        prompt: usage.prompt().unwrap(),
    });
    chosen
        .prices
        .costs(&usage)
        .iter()
        .copied()
        .sum::<Money>()
        .to_string()
}

#[test]
fn the_whole_request_pays_its_tier_from_the_prompt_with_cache() {
    let table = PricingTable::parse(SONNET, "p.toml").unwrap();
    let long = Usage {
        input: 250_000,
        output: 1_000,
        ..Usage::default()
    };
    assert_eq!(cost(&table, "s", long, None, None), "1.5225");
    let cached = Usage {
        input: 10_000,
        cache_read: 240_000,
        output: 1_000,
        ..Usage::default()
    };
    assert_eq!(cost(&table, "s", cached, None, None), "0.2265");
    let edge = |input| Usage {
        input,
        ..Usage::default()
    };
    assert_eq!(cost(&table, "s", edge(200_000), None, None), "0.6");
    assert_eq!(cost(&table, "s", edge(200_001), None, None), "1.200006");
    assert_eq!(cost(&table, "s", long, Some("batch"), None), "0.76125");
    assert_eq!(cost(&table, "s", long, Some("fast"), None), "1.53");
}

#[test]
fn a_dated_request_pays_the_card_in_force_then() {
    let text = "[models.t]\neffective_from = 2026-07-30\ninput = 2\noutput = 12\n[[models.t.history]]\neffective_from = 2026-07-09\ninput = 2.5\noutput = 15\n";
    let table = PricingTable::parse(text, "p.toml").unwrap();
    let usage = Usage {
        input: 100_000,
        output: 2_000,
        ..Usage::default()
    };
    assert_eq!(
        cost(&table, "t", usage, None, Some("2026-07-15T12:00:00Z")),
        "0.28"
    );
    assert_eq!(
        cost(&table, "t", usage, None, Some("2026-07-30T00:00:00Z")),
        "0.224"
    );
    assert_eq!(cost(&table, "t", usage, None, None), "0.224");
}

#[test]
fn reasoning_pays_its_own_price_inside_output() {
    let text = "[models.r]\ninput = 2\noutput = 8\nreasoning = 4\n";
    let table = PricingTable::parse(text, "p.toml").unwrap();
    let usage = Usage {
        output: 10_000,
        reasoning: 8_000,
        ..Usage::default()
    };
    assert_eq!(cost(&table, "r", usage, None, None), "0.048");
}
