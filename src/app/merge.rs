//! `tokmeter merge`: read summaries from files or standard input, print
//! their sum on standard output.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader};
use std::os::unix::fs::MetadataExt;

use anyhow::Context;

use tokmeter::summary::{self, SessionIds};

use super::args::{MergeArgs, SummaryArg};
use super::exit::Exit;
use super::report::{say, write_stdout};

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
                let _ = say(format_args!(
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
        let _ = say(warning);
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
