//! Raw output: the chunk contents and nothing else.
//!
//! With delimiters kept (the default), raw output is the input, byte for byte.

use super::{Formatter, Record};

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
        out.extend_from_slice(record.content);
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
