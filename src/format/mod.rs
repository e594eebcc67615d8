//! Output formats: how a metered chunk is written to standard output.
//!
//! Formatters append to a byte buffer and never fail; the output module
//! owns all I/O. Raw writes content only, so raw output is the input.

mod json;
mod raw;
mod sse;

pub use json::{JsonLines, write_json_string};
pub use raw::{Discard, Raw};
pub use sse::Sse;

use crate::money::Money;

/// The output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Chunk contents only.
    Raw,
    /// One JSON object per chunk, per line.
    Json,
    /// Server-Sent Events: `data: {json}` and a blank line per chunk.
    Sse,
}

/// One metered chunk, ready to format.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    /// The chunk's bytes as they were read.
    pub content: &'a [u8],
    /// Whether `content` is valid UTF-8.
    pub valid_utf8: bool,
    /// Tokens charged to the chunk.
    pub tokens: u64,
    /// Their cost.
    pub cost: Money,
    /// RFC 3339 text of when the chunk was complete (empty if the formatter
    /// does not need it).
    pub timestamp: &'a [u8],
    /// The chunk's number in its session, from 0.
    pub chunk_id: u64,
}

/// Writes chunks in one format.
pub trait Formatter {
    /// Whether the output is the chunks' content and nothing else, so a run
    /// of chunks can be written as one slice.
    fn is_content_only(&self) -> bool {
        false
    }

    /// Whether records need a timestamp (the caller skips the clock if not).
    fn needs_timestamp(&self) -> bool;

    /// Appends one chunk.
    fn chunk(&mut self, out: &mut Vec<u8>, record: &Record<'_>);

    /// Appends what ends the stream, given the session summary as one JSON
    /// object.
    fn finish(&mut self, out: &mut Vec<u8>, summary_json: &str);
}

/// A formatter for `format`. `metadata` are the extra metadata fields as
/// `(key, JSON value)` pairs, `model` first.
pub fn formatter(format: Format, metadata: &[(String, String)]) -> Box<dyn Formatter> {
    match format {
        Format::Raw => Box::new(Raw),
        Format::Json => Box::new(JsonLines::new(metadata)),
        Format::Sse => Box::new(Sse::new(metadata)),
    }
}
