//! Provider API streams: OpenAI Chat Completions and the servers
//! compatible with it, OpenAI Responses, Anthropic Messages, Gemini and
//! Ollama, as `curl -N` prints them.
//!
//! Every unit passes through as it is (an SSE event block, or a line); what
//! it carries for the meter are the text deltas of the payloads in it, read
//! by [`super::providers`]. The stream's usage reports are merged as they
//! come, last value wins, and its model, error and terminal event are kept
//! for the summary. With `auto`, the format is told from the first bytes
//! (`curl -i` headers skipped); a stream that is none of these is metered
//! as text.

use super::providers::{self, Format, Item, Kind, ProviderError, Usage, Wire};
use super::{Bad, Decoded, Decoder};
use crate::input::sse::Parser;
use crate::input::{Chunk, Framing};

/// One piece of streamed text, as the meter gets it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    /// What the text is.
    pub kind: Kind,
    /// Which choice it belongs to.
    pub choice: u32,
    /// The text.
    pub text: String,
    /// The provider's event it came in (`content_block_delta`; `message`
    /// for data-only SSE; empty for JSON lines).
    pub event: String,
}

/// What one unit of a provider stream holds.
#[derive(Clone, Copy, Debug)]
pub struct Event<'s> {
    /// The unit's bytes, passed through as they are.
    pub bytes: &'s [u8],
    /// The text deltas in it, in order.
    pub pieces: &'s [Piece],
    /// The model the stream names, when this unit named it first.
    pub model: Option<&'s str>,
    /// An error the stream carried: the provider ends the stream after it.
    pub error: Option<&'s ProviderError>,
}

/// What the decoder decided the stream is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A provider stream of this format.
    Provider(Format),
    /// None of them: metered as text.
    Text,
}

/// The decoder of a provider stream.
pub struct Provider {
    /// `None` while the format is still to be told from the first bytes.
    verdict: Option<Verdict>,
    /// Whether the format was told from the bytes (`--input auto`).
    detected: bool,
    sse: Parser,
    array: providers::gemini::ArraySplitter,
    /// Inside `curl -i` headers of a line format, skipped.
    in_headers: bool,
    /// Whether no unit was decoded yet.
    first_unit: bool,
    /// The unit's pieces are `pieces[..used]`; the rest keep their
    /// buffers for the next units.
    pieces: Vec<Piece>,
    used: usize,
    /// The payloads of the unit being decoded, one after another, and
    /// where each event's name and data are in it.
    scratch: Vec<u8>,
    spans: Vec<(std::ops::Range<usize>, std::ops::Range<usize>)>,
    /// The stream's usage so far, merged.
    pub usage: Usage,
    /// The model the stream names.
    pub model: Option<String>,
    /// The model named first by the unit being decoded.
    new_model: bool,
    /// The error the stream carried.
    pub error: Option<ProviderError>,
    /// Whether the terminal event came.
    pub ended: bool,
    /// Payloads that could not be read (they pass through all the same).
    pub bad_payloads: u64,
    /// Why the first of them could not be read.
    pub first_bad: Option<String>,
}

impl Provider {
    /// A decoder of `format`, or of the format the first bytes show when
    /// `None`.
    pub fn new(format: Option<Format>) -> Provider {
        Provider {
            verdict: format.map(Verdict::Provider),
            detected: format.is_none(),
            sse: Parser::new(),
            array: providers::gemini::ArraySplitter::new(),
            in_headers: false,
            first_unit: true,
            pieces: Vec::new(),
            used: 0,
            scratch: Vec::new(),
            spans: Vec::new(),
            usage: Usage::default(),
            model: None,
            new_model: false,
            error: None,
            ended: false,
            bad_payloads: 0,
            first_bad: None,
        }
    }

    /// What the stream is, once known.
    pub fn verdict(&self) -> Option<Verdict> {
        self.verdict
    }

    /// Whether the format was told from the bytes.
    pub fn detected(&self) -> bool {
        self.detected
    }

    /// How a format's units are cut: SSE event blocks, or lines.
    pub fn framing(format: Format) -> Framing {
        match format.wire() {
            Wire::Sse => Framing::Events,
            Wire::Lines | Wire::JsonArray => Framing::Delimiter(vec![b'\n']),
        }
    }

    /// Takes what one payload carries.
    fn payload(&mut self, format: Format, payload: &[u8], event: &str) {
        let mut items = Vec::new();
        let read = format.interpret(payload, &mut items);
        for item in items {
            match item {
                Item::Delta(delta) => {
                    // Reuse a piece's buffers where one is left over.
                    if self.used == self.pieces.len() {
                        self.pieces.push(Piece {
                            kind: delta.kind,
                            choice: delta.choice,
                            text: String::new(),
                            event: String::new(),
                        });
                    }
                    let piece = &mut self.pieces[self.used];
                    piece.kind = delta.kind;
                    piece.choice = delta.choice;
                    piece.text.clear();
                    piece.text.push_str(&delta.text);
                    piece.event.clear();
                    piece.event.push_str(event);
                    self.used += 1;
                }
                Item::Usage(usage) => self.usage.merge(&usage),
                Item::Model(model) => {
                    if self.model.is_none() {
                        self.model = Some(model.into_owned());
                        self.new_model = true;
                    }
                }
                Item::Error(error) => {
                    self.error.get_or_insert(error);
                }
                Item::End => self.ended = true,
            }
        }
        if let Err(why) = read {
            self.bad_payloads += 1;
            self.first_bad.get_or_insert(why);
        }
    }
}

impl Decoder for Provider {
    fn decode<'s, 'a: 's>(&'s mut self, unit: &Chunk<'a>) -> Result<Decoded<'s>, Bad> {
        let format = match self.verdict {
            Some(Verdict::Provider(format)) => format,
            Some(Verdict::Text) | None => return Ok(Decoded::Text(unit.content)),
        };
        self.used = 0;
        self.new_model = false;
        let error_before = self.error.is_some();
        let bytes = unit.content;
        match format.wire() {
            Wire::Sse => {
                let mut scratch = std::mem::take(&mut self.scratch);
                let mut spans = std::mem::take(&mut self.spans);
                scratch.clear();
                spans.clear();
                self.sse.feed(bytes, |boundary| {
                    if let Some(event) = boundary.event {
                        let name = scratch.len()..scratch.len() + event.name.len();
                        scratch.extend_from_slice(event.name);
                        let data = scratch.len()..scratch.len() + event.data.len();
                        scratch.extend_from_slice(event.data);
                        spans.push((name, data));
                    }
                });
                for (name, data) in &spans {
                    let name = String::from_utf8_lossy(&scratch[name.clone()]);
                    self.payload(format, &scratch[data.clone()], &name);
                }
                self.scratch = scratch;
                self.spans = spans;
            }
            Wire::Lines | Wire::JsonArray => {
                if self.first_unit && bytes.starts_with(b"HTTP/") {
                    self.in_headers = true;
                }
                if self.in_headers {
                    // Headers end at a blank line (a 100 Continue's may be
                    // followed by more).
                    if bytes.trim_ascii().is_empty() {
                        self.in_headers = false;
                    }
                } else if format.wire() == Wire::Lines {
                    self.payload(format, bytes, "");
                } else {
                    let mut elements: Vec<Vec<u8>> = Vec::new();
                    self.array
                        .feed(bytes, |element| elements.push(element.bytes.to_vec()));
                    for element in elements {
                        self.payload(format, &element, "");
                    }
                }
            }
        }
        self.first_unit = false;
        Ok(Decoded::Event(Event {
            bytes,
            pieces: &self.pieces[..self.used],
            model: self.model.as_deref().filter(|_| self.new_model),
            error: self.error.as_ref().filter(|_| !error_before),
        }))
    }

    fn chooses_framing(&self) -> bool {
        self.verdict.is_none()
    }

    fn choose_framing(&mut self, first: &[u8], decided: bool) -> Option<Framing> {
        if self.verdict.is_some() {
            return None;
        }
        let verdict = match providers::detect(first) {
            Some(format) => Verdict::Provider(format),
            None if decided || !providers::may_show_a_format(first) => Verdict::Text,
            None => return None,
        };
        self.verdict = Some(verdict);
        Some(match verdict {
            Verdict::Provider(format) => Provider::framing(format),
            Verdict::Text => Framing::Delimiter(vec![b'\n']),
        })
    }
}
