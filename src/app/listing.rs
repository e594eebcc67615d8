//! `--list-models`: the pricing table in use, a line per model; with a
//! model's name, its whole card.

use tokmeter::pricing::{Card, Model, Prices, PricingTable, Tier};

use super::exit::Exit;
use super::report::write_stdout;

/// Prints the table: each model's current base prices, its tokenizer, what
/// more its cards hold (tiers, modes, history) and its aliases.
pub fn list_models(table: &PricingTable) -> anyhow::Result<Exit> {
    let dash = || "-".to_string();
    let mut text = format!("# {} (USD per 1M tokens)\n", table.origin);
    text.push_str(&format!(
        "{:<32} {:>10} {:>10} {:>10} {:>11} {:>14}  {:<11}  {:<24}  {}\n",
        "MODEL",
        "INPUT",
        "OUTPUT",
        "CACHE_READ",
        "CACHE_WRITE",
        "CACHE_WRITE_1H",
        "TOKENIZER",
        "TIERS/MODES",
        "ALIASES"
    ));
    for model in &table.models {
        let name = if table.default_model.as_deref() == Some(model.name.as_str()) {
            format!("{} (default)", model.name)
        } else {
            model.name.clone()
        };
        text.push_str(&format!(
            "{:<32} {:>10} {:>10} {:>10} {:>11} {:>14}  {:<11}  {:<24}  {}\n",
            name,
            model.input.to_string(),
            model.output.to_string(),
            model.cache_read.map_or_else(dash, |p| p.to_string()),
            model.cache_write.map_or_else(dash, |p| p.to_string()),
            model.cache_write_1h.map_or_else(dash, |p| p.to_string()),
            model.tokenizer.name(),
            more(model),
            model.aliases.join(", ")
        ));
    }
    write_stdout(text.as_bytes())?;
    Ok(Exit::Success)
}

/// `>200000 batch flex +1 dated`: the current card's tier sizes and modes,
/// and how many earlier cards; `-` for none.
fn more(model: &Model) -> String {
    let mut parts: Vec<String> = model
        .card()
        .tiers
        .iter()
        .map(|t| format!(">{}", t.size))
        .collect();
    parts.extend(model.card().modes.iter().map(|m| m.name.clone()));
    if !model.history().is_empty() {
        parts.push(format!("+{} dated", model.history().len()));
    }
    if parts.is_empty() {
        "-".to_string()
    } else {
        parts.join(" ")
    }
}

/// Prints one model's cards: the current one, then each earlier one, each
/// with its base prices, tiers and modes.
pub fn show_model(table: &PricingTable, model: &Model) -> anyhow::Result<Exit> {
    let mut text = format!(
        "# {} in {} (USD per 1M tokens)\nmodel {}\n",
        model.name, table.origin, model.name
    );
    if let Some(provider) = &model.provider {
        text.push_str(&format!("provider {provider}\n"));
    }
    text.push_str(&format!("tokenizer {}\n", model.tokenizer.name()));
    if !model.aliases.is_empty() {
        text.push_str(&format!("aliases {}\n", model.aliases.join(", ")));
    }
    if let Some(limit) = model.limit_input {
        text.push_str(&format!("limit.input {limit}\n"));
    }
    card(&mut text, "current card", model.card());
    for old in model.history() {
        card(&mut text, "earlier card", old);
    }
    write_stdout(text.as_bytes())?;
    Ok(Exit::Success)
}

fn card(text: &mut String, label: &str, card: &Card) {
    let from = card.effective_from.map_or("since ever".to_string(), |t| {
        format!("from {}", t.format("%Y-%m-%d %H:%M:%S UTC"))
    });
    text.push_str(&format!("\n{label}, {from}\n"));
    prices(text, "  base", &card.prices);
    tiers(text, "  ", &card.tiers);
    for mode in &card.modes {
        prices(text, &format!("  mode {}", mode.name), &mode.prices);
        tiers(text, "    ", &mode.tiers);
    }
}

fn tiers(text: &mut String, indent: &str, tiers: &[Tier]) {
    for tier in tiers {
        prices(
            text,
            &format!("{indent}prompt > {}", tier.size),
            &tier.prices,
        );
    }
}

fn prices(text: &mut String, label: &str, p: &Prices) {
    let mut line = format!("{label}: input {} output {}", p.input, p.output);
    let optional = [
        ("cache_read", p.cache_read),
        ("cache_write", p.cache_write),
        ("cache_write_1h", p.cache_write_1h),
        ("reasoning", p.reasoning),
    ];
    for (name, price) in optional {
        if let Some(price) = price {
            line.push_str(&format!(" {name} {price}"));
        }
    }
    text.push_str(&line);
    text.push('\n');
}
