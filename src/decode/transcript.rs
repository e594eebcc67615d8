//! Transcripts and agent logs: JSON Lines, one record per line.
//!
//! A file is a chat transcript (priced by [`crate::transcript::Transcript`]),
//! a Claude Code session log or a Codex rollout (read by
//! [`crate::agent`]); the format is told from its first readable line
//! unless it is given. Nothing is passed on; a line longer than the longest
//! line read is bad, skipped without being held.

use std::path::Path;

use super::{Bad, Decoded, Decoder};
use crate::agent::{self, Agent, Log};
use crate::input::Chunk;
use crate::tokenize::Tokenizer;
use crate::transcript::{Cards, Options, Tally, Transcript};

/// The format of a transcript file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Chat records: `{"role", "content"}` or `{"messages": [...]}`.
    Chat,
    /// An agent's log.
    Agent(Agent),
}

/// What one file came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Read {
    /// A chat transcript's tally.
    Chat(Tally),
    /// An agent log's calls and lines.
    Agent(Log),
}

enum Reader<'t> {
    /// No readable line yet: `tokenizer` for a chat transcript.
    Undecided(&'t dyn Tokenizer),
    Chat(Box<Transcript>),
    Claude(agent::claude::Reader),
    Codex(agent::codex::Reader),
}

/// The decoder of transcripts: units are lines with their newline stripped,
/// cut at `max_line` bytes.
pub struct Transcripts<'r> {
    reader: Reader<'r>,
    options: Options,
    /// The cards a chat transcript's records with usage are priced by.
    cards: Option<&'r Cards>,
    /// The file's project and name, for an agent log.
    project: String,
    stem: String,
    max_line: usize,
    /// Lines seen.
    number: u64,
    /// Bad lines before the format was known.
    bad_before: u64,
    /// Inside a line longer than `max_line`, already reported.
    skipping: bool,
    /// Bytes read, newlines included.
    bytes: u64,
    /// Told of every bad line.
    report: &'r mut dyn FnMut(&Bad),
}

impl<'r> Transcripts<'r> {
    /// A transcript file at `path` (its name and project directory label
    /// an agent log's calls) in `format`, or in the one its first readable
    /// line shows (`None`); chat records are counted with `tokenizer`
    /// (built only if some record needs it), lines of at most `max_line`
    /// bytes; `report` is told of every bad line.
    pub fn new(
        tokenizer: &'r dyn Tokenizer,
        options: Options,
        format: Option<LogFormat>,
        path: Option<&Path>,
        max_line: usize,
        report: &'r mut dyn FnMut(&Bad),
    ) -> Transcripts<'r> {
        let (project, stem) = path.map_or_else(
            || (String::new(), String::new()),
            |path| (agent::claude_project(path), agent::file_stem(path)),
        );
        let mut transcripts = Transcripts {
            reader: Reader::Undecided(tokenizer),
            options,
            cards: None,
            project,
            stem,
            max_line,
            number: 0,
            bad_before: 0,
            skipping: false,
            bytes: 0,
            report,
        };
        if let Some(format) = format {
            transcripts.decide(format);
        }
        transcripts
    }

    /// Prices a chat transcript's records with usage each as a request,
    /// at its card.
    #[must_use]
    pub fn with_cards(mut self, cards: Option<&'r Cards>) -> Transcripts<'r> {
        self.cards = cards;
        self
    }

    /// Ends the input: what its records came to, and the bytes read.
    pub fn finish(mut self) -> (Read, u64) {
        if matches!(self.reader, Reader::Undecided(_)) {
            self.decide(LogFormat::Chat);
        }
        let read = match self.reader {
            Reader::Undecided(_) => Read::Chat(Tally::default()),
            Reader::Chat(transcript) => {
                let mut tally = transcript.finish();
                tally.bad_lines = tally.bad_lines.saturating_add(self.bad_before);
                Read::Chat(tally)
            }
            Reader::Claude(reader) => Read::Agent(with_bad(reader.finish(), self.bad_before)),
            Reader::Codex(reader) => Read::Agent(with_bad(reader.finish(), self.bad_before)),
        };
        (read, self.bytes)
    }

    fn decide(&mut self, format: LogFormat) {
        let Reader::Undecided(tokenizer) = self.reader else {
            return;
        };
        self.reader = match format {
            LogFormat::Chat => Reader::Chat(Box::new(
                Transcript::new(tokenizer, self.options).with_cards(self.cards.cloned()),
            )),
            LogFormat::Agent(Agent::ClaudeCode) => {
                Reader::Claude(agent::claude::Reader::new(&self.project, &self.stem))
            }
            LogFormat::Agent(Agent::Codex) => Reader::Codex(agent::codex::Reader::new(&self.stem)),
        };
    }

    /// Reads one whole line into the file's reader.
    fn line(&mut self, line: &[u8]) -> Result<(), String> {
        if let Reader::Undecided(_) = self.reader {
            if line.iter().all(u8::is_ascii_whitespace) {
                return Ok(());
            }
            let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
            match agent::detect(line) {
                Some(agent) => self.decide(LogFormat::Agent(agent)),
                None if serde_json::from_slice::<serde::de::IgnoredAny>(line).is_err() => {
                    self.bad_before += 1;
                    return Err(crate::transcript::describe(
                        serde_json::from_slice::<serde::de::IgnoredAny>(line).unwrap_err(),
                    ));
                }
                None => self.decide(LogFormat::Chat),
            }
        }
        match &mut self.reader {
            Reader::Undecided(_) => Ok(()),
            Reader::Chat(transcript) => transcript.line(line),
            Reader::Claude(reader) => reader.line(line),
            Reader::Codex(reader) => reader.line(line),
        }
    }

    fn skip_bad_line(&mut self) {
        match &mut self.reader {
            Reader::Undecided(_) => self.bad_before += 1,
            Reader::Chat(transcript) => transcript.skip_bad_line(),
            Reader::Claude(reader) => reader.skip_bad_line(),
            Reader::Codex(reader) => reader.skip_bad_line(),
        }
    }
}

/// `log` with `bad` more bad lines.
fn with_bad(mut log: Log, bad: u64) -> Log {
    log.lines.bad = log.lines.bad.saturating_add(bad);
    log
}

impl Decoder for Transcripts<'_> {
    fn decode<'s, 'a: 's>(&'s mut self, line: &Chunk<'a>) -> Result<Decoded<'s>, Bad> {
        self.bytes += (line.content.len() + line.stripped.len()) as u64;
        if self.skipping {
            self.skipping = line.split;
            return Ok(Decoded::Nothing);
        }
        self.number += 1;
        let priced = if line.split {
            self.skipping = true;
            self.skip_bad_line();
            Err(format!(
                "longer than --max-chunk ({} bytes): skipped",
                self.max_line
            ))
        } else {
            self.line(line.content)
        };
        match priced {
            Ok(()) => Ok(Decoded::Nothing),
            Err(why) => {
                let bad = Bad {
                    number: self.number,
                    why,
                };
                (self.report)(&bad);
                Err(bad)
            }
        }
    }
}
