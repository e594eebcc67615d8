//! Provider streams in a run: the model the stream names, and the bill
//! from its usage report or from tokmeter's count of its deltas.

use std::cell::RefCell;

use tokmeter::decode::{Provider, Verdict, providers::Format};
use tokmeter::money::Price;
use tokmeter::pipeline::{Ending, Stop};
use tokmeter::pricing::Model;
use tokmeter::summary::{self, ProviderSummary, Summary};

use super::cards::closest_models;
use super::config::{Prompt, StreamConfig};
use super::report::warn;

/// The model a stream names, resolved through the pricing table once.
pub struct StreamModel<'c> {
    config: &'c StreamConfig,
    /// The table's model for the name the stream gave, once it gave one,
    /// and whether the table has it.
    pub resolved: RefCell<Option<(Model, bool)>>,
}

impl<'c> StreamModel<'c> {
    /// No model named yet.
    pub fn new(config: &'c StreamConfig) -> StreamModel<'c> {
        StreamModel {
            config,
            resolved: RefCell::new(None),
        }
    }

    /// The output price of the model `name` (as the stream spells it), or
    /// why it has none: a model the table lacks costs nothing under
    /// `--unknown-model zero`, with a warning, and is an error otherwise.
    pub fn price(&self, name: &str) -> Result<Price, String> {
        let table = &self.config.table;
        let (model, priced) = match table.lookup(name) {
            Some(model) => (model.clone(), true),
            None if self.config.unknown_zero => {
                let _ = warn(format_args!(
                    "warning: model {} named by the stream is not in the pricing table: counting at no cost",
                    tokmeter::plain::quoted(name)
                ));
                (Model::unpriced(name), false)
            }
            None => {
                *self.resolved.borrow_mut() = Some((Model::unpriced(name), false));
                return Err(format!(
                    "unknown model {} named by the stream ({}); use -m NAME, or --unknown-model zero to count it at no cost",
                    tokmeter::plain::quoted(name),
                    closest_models(table, name)
                ));
            }
        };
        let price = model.output;
        *self.resolved.borrow_mut() = Some((model, priced));
        Ok(price)
    }
}

/// Fills the figures of a provider stream's summary: the model the stream
/// named (unless `-m` was given), its usage beside tokmeter's count, and
/// the bill from the usage when the stream reported one, else from the
/// count (and the prompt, if given). A stream cut before its end is billed
/// at least for the deltas delivered.
pub fn summarize(
    config: &StreamConfig,
    decoder: &Provider,
    stream_model: &StreamModel<'_>,
    ending: &Ending,
    summary: &mut Summary,
) {
    let resolved = stream_model.resolved.borrow();
    let (model, priced) = match resolved.as_ref() {
        Some((model, priced)) => (model, *priced),
        None => (&config.run.model, config.run.priced),
    };
    summary.model = model.name.clone();
    summary.priced = priced;
    let format = match decoder.verdict() {
        Some(Verdict::Provider(format)) => Some(format),
        _ => None,
    };
    // Gemini's streams and text have no terminal event: their end is the
    // end of input.
    let complete = decoder.ended
        || (matches!(format, None | Some(Format::Gemini | Format::GeminiArray))
            && matches!(ending.stop, Stop::EndOfInput | Stop::UnknownModel(_)));
    let counted = ending.totals;
    let prompt_tokens = match &config.prompt {
        Prompt::Unknown => None,
        Prompt::Tokens(tokens) => Some(*tokens),
        Prompt::Text { tokens, .. } => Some(*tokens),
    };
    let mut usage = (!decoder.usage.is_empty()).then(|| decoder.usage.clone());
    let reported = usage.clone();
    if let Some(usage) = &mut usage
        && !complete
    {
        // Cut before the final report: the deltas delivered were billed.
        usage.output = Some(usage.output.unwrap_or(0).max(counted.tokens));
    }
    let bill = usage.as_ref().and_then(|usage| {
        summary::bill(usage, model, config.card.date, config.card.mode.as_deref())
    });
    let (billed, tokens, cost) = match bill {
        Some((tokens, cost, card)) => {
            // The card of the response, from the prompt its usage reports.
            summary.card = card.filter(|_| priced);
            ("usage", tokens, cost)
        }
        None => {
            let prompt = prompt_tokens.unwrap_or(0);
            (
                "count",
                counted.tokens.saturating_add(prompt),
                counted.cost.saturating_add(model.input.cost(prompt)),
            )
        }
    };
    summary.total_tokens = tokens;
    summary.total_cost = cost;
    summary.side = match (billed, prompt_tokens) {
        ("count", None) => "output",
        _ => "both",
    }
    .to_string();
    summary.provider = Some(ProviderSummary {
        format: format.map_or("text", Format::name).to_string(),
        detected: decoder.detected(),
        model: decoder.model.clone(),
        billed: billed.to_string(),
        complete,
        usage: reported,
        counted_output_tokens: counted.tokens,
        counted_output_cost: counted.cost,
        prompt_tokens,
        bad_payloads: decoder.bad_payloads,
    });
}
