//! `tokmeter merge`: read summaries from files or standard input, print
//! their sum on standard output.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader};
use std::os::unix::fs::MetadataExt;

use anyhow::Context;

use chrono::Local;

use tokmeter::summary::{self, Figures, Placed, Report, SessionIds, Summary};

use super::args::SummaryArg;
use super::commands::{MergeArgs, ReportFormatArg};
use super::exit::Exit;
use super::report::{warn, write_stdout};

/// Reads the summaries named by `args`, prints their sum on stdout. A file
/// named twice is read once, with a warning.
pub fn run(args: &MergeArgs) -> anyhow::Result<Exit> {
    let mut summaries = Vec::new();
    if args.files.is_empty() {
        summary::read_summaries(io::stdin().lock(), "<stdin>", &mut summaries)?;
    }
    let mut seen: HashMap<(u64, u64), String> = HashMap::new();
    for file in &args.files {
        if file == "-" {
            summary::read_summaries(io::stdin().lock(), "<stdin>", &mut summaries)?;
            continue;
        }
        let name = std::path::Path::new(file).display().to_string();
        let reader = File::open(file).with_context(|| format!("cannot open {name}"))?;
        if let Ok(meta) = reader.metadata() {
            if let Some(first) = seen.get(&(meta.dev(), meta.ino())) {
                let _ = warn(format_args!(
                    "warning: {name} is the same file as {first}: read once"
                ));
                continue;
            }
            seen.insert((meta.dev(), meta.ino()), name.clone());
        }
        summary::read_summaries(BufReader::new(reader), &name, &mut summaries)?;
    }
    let (kept, warnings) = summary::dedupe(&summaries);
    for warning in warnings {
        let _ = warn(warning);
    }
    if !args.by.is_empty() {
        let report = report(&kept, &args.by, args.utc)?;
        let text = match args.format {
            ReportFormatArg::Text => report.to_table(),
            ReportFormatArg::Json => report.to_json_lines(),
        };
        write_stdout(text.as_bytes())?;
        return Ok(Exit::Success);
    }
    let id = SessionIds::new(args.session_id.clone(), 1);
    let merged = summary::merge(&kept, id.total().to_string())?;
    let mut line = match args.summary {
        SummaryArg::None => return Ok(Exit::Success),
        SummaryArg::Text => merged.to_text(),
        SummaryArg::Json => merged.to_json(),
    };
    line.push('\n');
    write_stdout(line.as_bytes())?;
    Ok(Exit::Success)
}

/// The summaries grouped by `by`: `day`, `month` (of their start),
/// `model` (an agent log's split by the models it billed), `agent`,
/// `session`, `input`, or a metadata key (`meta:KEY` or any other word).
fn report(kept: &[&Placed], by: &[String], utc: bool) -> anyhow::Result<Report> {
    let mut parts = Vec::new();
    for placed in kept {
        let s = &placed.summary;
        let label = |key: &str, model: &str| -> String {
            let time = |format: &str| match utc {
                true => s.start_time.format(format).to_string(),
                false => s
                    .start_time
                    .with_timezone(&Local)
                    .format(format)
                    .to_string(),
            };
            let text = match key {
                "day" => time("%Y-%m-%d"),
                "month" => time("%Y-%m"),
                "model" => model.to_string(),
                "agent" => s.agent_id.clone().unwrap_or_default(),
                "session" => s.session_id.clone(),
                "input" => s.input.clone().unwrap_or_default(),
                other => {
                    let key = other.strip_prefix("meta:").unwrap_or(other);
                    match s.metadata.get(key) {
                        Some(serde_json::Value::String(text)) => text.clone(),
                        Some(value) => value.to_string(),
                        None => String::new(),
                    }
                }
            };
            if text.is_empty() {
                "-".to_string()
            } else {
                text
            }
        };
        let labels = |model: &str| by.iter().map(|key| label(key, model)).collect::<Vec<_>>();
        match s
            .agent
            .as_ref()
            .filter(|a| by.iter().any(|k| k == "model") && !a.models.is_empty())
        {
            Some(agent) => {
                for model in &agent.models {
                    parts.push((labels(&model.model), model.figures.clone()));
                }
            }
            None => parts.push((labels(&s.model), figures(s))),
        }
    }
    Report::from_parts(by.to_vec(), parts).map_err(|why| anyhow::anyhow!("the report: {why}"))
}

/// A summary's figures: its tokens by class (a stream's on the side it
/// paid), its records (a stream session counts as one) and its cost.
fn figures(s: &Summary) -> Figures {
    let unpriced_tokens = if s.priced { 0 } else { s.total_tokens };
    match (&s.transcript, &s.agent) {
        (Some(t), agent) => Figures {
            responses: agent.as_ref().map_or(t.records, |a| {
                a.responses + t.records_tokenized + t.records_from_usage.saturating_sub(a.responses)
            }),
            input_tokens: t.input_tokens,
            output_tokens: t.output_tokens,
            cache_read_tokens: t.cache_read_tokens,
            cache_write_tokens: t.cache_write_tokens,
            cache_write_1h_tokens: t.cache_write_1h_tokens,
            reasoning_tokens: agent.as_ref().map_or(0, |a| a.reasoning_tokens),
            cost: s.total_cost,
            unpriced_tokens: agent
                .as_ref()
                .map_or(unpriced_tokens, |a| a.unpriced_tokens),
        },
        (None, _) => {
            let (input, output) = match s.side.as_str() {
                "input" => (s.total_tokens, 0),
                _ => (0, s.total_tokens),
            };
            Figures {
                responses: s.sessions.unwrap_or(1),
                input_tokens: input,
                output_tokens: output,
                cost: s.total_cost,
                unpriced_tokens,
                ..Figures::default()
            }
        }
    }
}
