//! Pricing from the flags: the table in use, the model, and the card a
//! stream pays, chosen before it is read: `--date`, `--mode`, and for a
//! text stream's output the tier of the prompt given.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, Utc};

use tokmeter::money::Price;
use tokmeter::pricing::{Model, PricingTable, Request, Side};

use super::args::{Args, SideArg, UnknownModelArg};
use super::config::{Prompt, Run, StreamInput};
use super::exit::usage;

/// The card a stream pays, chosen before it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamCard {
    /// `--date`, if given.
    pub date: Option<DateTime<Utc>>,
    /// `--mode`, if given.
    pub mode: Option<String>,
    /// The price a text stream's tokens pay.
    pub price: Price,
    /// With `--side input`: the prices every token pays once the stream
    /// passes a tier's size.
    pub tiers: Vec<(u64, Price)>,
    /// The chosen tier's size, when the prompt given passed one.
    pub tier: Option<u64>,
}

/// The card a stream pays: by `--date` and `--mode`, and for a text
/// stream's output the tier of the prompt given. A mode the model lacks is
/// a usage error.
pub fn stream_card(
    run: &Run,
    args: &Args,
    prompt: &Prompt,
    input: StreamInput,
) -> anyhow::Result<StreamCard> {
    let date = args.date.as_deref().map(parse_date).transpose()?;
    let mode = args.service_mode.clone();
    let model = &run.model;
    let prompt_tokens = match prompt {
        Prompt::Unknown => 0,
        Prompt::Tokens(n) | Prompt::Text { tokens: n, .. } => *n,
    };
    let chosen = model.choose(&Request {
        time: date,
        mode: mode.as_deref(),
        prompt: prompt_tokens,
    });
    // A prompt counted by the heuristic is an estimate, within about 15%:
    // near a tier's size, so is the tier.
    if let Prompt::Text { exact: false, .. } = prompt {
        let near = model.card().tiers.iter().find(|t| {
            let size = t.size as f64;
            (prompt_tokens as f64 - size).abs() <= size * 0.15
        });
        if let Some(tier) = near {
            let _ = super::report::warn(format_args!(
                "warning: the prompt's {} tokens are an estimate near the tier at {}: the tier chosen is an estimate too (an exact tokenizer, or --prompt-tokens, decides it)",
                tokmeter::summary::group(prompt_tokens),
                tokmeter::summary::group(tier.size),
            ));
        }
    }
    if chosen.mode_unknown && run.priced {
        return Err(usage(format!(
            "--mode {}: model \"{}\" has no such mode in the pricing table{}",
            mode.as_deref().unwrap_or(""),
            model.name,
            match chosen.card.modes.len() {
                0 => " (it has none)".to_string(),
                _ => format!(
                    " (it has {})",
                    chosen
                        .card
                        .modes
                        .iter()
                        .map(|m| m.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        )));
    }
    let side = if args.side == SideArg::Input {
        Side::Input
    } else {
        Side::Output
    };
    let price_of = |p: &tokmeter::pricing::Prices| match side {
        Side::Input => p.input,
        Side::Output => p.output,
    };
    // The card's own tiers (or the mode's), for a prompt metered as input.
    let tiers = match (side, input) {
        (Side::Input, StreamInput::Text) => chosen
            .tiers()
            .iter()
            .map(|t| (t.size, t.prices.input))
            .collect(),
        _ => Vec::new(),
    };
    Ok(StreamCard {
        date,
        mode,
        price: if run.priced {
            price_of(chosen.prices)
        } else {
            Price::ZERO
        },
        tiers: if run.priced { tiers } else { Vec::new() },
        tier: chosen.tier,
    })
}

/// `--date`: `YYYY-MM-DD` (midnight UTC) or an RFC 3339 time.
pub fn parse_date(text: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(day) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|err| {
            usage(format!(
                "--date {text}: {err} (expected YYYY-MM-DD or RFC 3339)"
            ))
        })
}

/// Warns once when a text stream's output is priced at the base card of a
/// model that costs more above a prompt size the stream cannot see.
pub fn warn_prompt_unknown(config: &super::config::StreamConfig) {
    let card = &config.card;
    let model = &config.run.model;
    if config.input != StreamInput::Text
        || config.side != Side::Output
        || config.prompt != Prompt::Unknown
        || !config.run.priced
    {
        return;
    }
    let chosen = model.choose(&Request {
        time: card.date,
        mode: card.mode.as_deref(),
        prompt: 0,
    });
    if let Some(first) = chosen.tiers().first() {
        let _ = super::report::warn(format_args!(
            "warning: model {} costs more when the prompt passes {} tokens, which a text stream cannot see: priced at its base card (give --prompt-tokens N)",
            tokmeter::plain::quoted(&model.name),
            tokmeter::summary::group(first.size),
        ));
    }
}

/// The table from `--pricing`, `$TOKMETER_PRICING`, the user's config
/// directory, or the built-in one, in that order.
pub fn load_table(flag: Option<&Path>) -> anyhow::Result<PricingTable> {
    let from_env = std::env::var_os("TOKMETER_PRICING").filter(|v| !v.is_empty());
    let chosen = flag
        .map(Path::to_path_buf)
        .or_else(|| from_env.map(PathBuf::from))
        .or_else(|| user_table().filter(|path| path.is_file()));
    match chosen {
        Some(path) => Ok(PricingTable::load(&path)?),
        None => PricingTable::builtin().context("the built-in pricing table is invalid"),
    }
}

/// `$XDG_CONFIG_HOME/tokmeter/pricing.toml`, or `~/.config/…`.
fn user_table() -> Option<PathBuf> {
    let config_home = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|path| path.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))?;
    Some(config_home.join("tokmeter").join("pricing.toml"))
}

/// The named (or default) model, and whether it is priced.
pub fn resolve_model(
    table: &PricingTable,
    name: Option<&str>,
    policy: UnknownModelArg,
) -> anyhow::Result<(Model, bool)> {
    let Some(name) = name.or(table.default_model.as_deref()) else {
        return Err(usage(format!(
            "no model given and {} has no default_model: use -m NAME",
            table.origin
        )));
    };
    if let Some(model) = table.lookup(name) {
        return Ok((model.clone(), true));
    }
    match policy {
        UnknownModelArg::Zero => Ok((Model::unpriced(name), false)),
        UnknownModelArg::Error => Err(usage(format!(
            "unknown model {} in {} ({}); see --list-models, or use --unknown-model zero to count it at no cost",
            tokmeter::plain::quoted(name),
            table.origin,
            closest_models(table, name),
        ))),
    }
}

/// `closest: a, b, c`: the models named most like `name`, for an error.
pub fn closest_models(table: &PricingTable, name: &str) -> String {
    let closest = table.closest(name, 3);
    if closest.is_empty() {
        "the table has no models".to_string()
    } else {
        format!("closest: {}", closest.join(", "))
    }
}
