//! Raw output: the chunk contents and nothing else; decoded text; nothing.
//!
//! With delimiters kept (the default), raw output is the input, byte for byte.

use super::{Formatter, Record};
use crate::decode::providers::Kind;

/// The raw formatter.
pub struct Raw;

impl Formatter for Raw {
    fn is_content_only(&self) -> bool {
        true
    }

    fn needs_timestamp(&self) -> bool {
        false
    }

    fn chunk(&mut self, out: &mut Vec<u8>, record: &Record<'_>) {
        // A provider stream's deltas are in the bytes it passed through.
        if record.piece.is_none() {
            out.extend_from_slice(record.content);
        }
    }

    fn passthrough(&mut self, out: &mut Vec<u8>, bytes: &[u8]) {
        out.extend_from_slice(bytes);
    }

    fn finish(&mut self, _out: &mut Vec<u8>, _summary_json: &str) {}
}

/// Decoded text: a text stream as it is, and of a provider stream only the
/// visible answer (no reasoning, tool arguments or framing), as it arrives.
pub struct Text;

impl Formatter for Text {
    fn needs_timestamp(&self) -> bool {
        false
    }

    fn chunk(&mut self, out: &mut Vec<u8>, record: &Record<'_>) {
        match record.piece {
            None => out.extend_from_slice(record.content),
            Some(piece) if piece.kind == Kind::Text => out.extend_from_slice(record.content),
            Some(_) => {}
        }
    }

    fn finish(&mut self, _out: &mut Vec<u8>, _summary_json: &str) {}
}

/// Writes nothing: for inputs that are priced, not passed on (transcripts).
pub struct Discard;

impl Formatter for Discard {
    fn needs_timestamp(&self) -> bool {
        false
    }

    fn chunk(&mut self, _out: &mut Vec<u8>, _record: &Record<'_>) {}

    fn finish(&mut self, _out: &mut Vec<u8>, _summary_json: &str) {}
}
