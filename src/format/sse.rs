//! Server-Sent Events: `data: {json}` and a blank line per chunk, and a
//! final `summary` event carrying the session summary.
//!
//! The JSON never holds a raw line break, so each record is one `data:` line
//! and any EventSource parser reads back exactly the JSON Lines records.

use super::json::{CostText, metadata_tail, write_record};
use super::{Formatter, Record};

/// The SSE formatter.
pub struct Sse {
    metadata_tail: Vec<u8>,
    costs: CostText,
}

impl Sse {
    /// A formatter adding `metadata` (key, JSON value) after `chunk_id`.
    pub fn new(metadata: &[(String, String)]) -> Sse {
        Sse {
            metadata_tail: metadata_tail(metadata),
            costs: CostText::default(),
        }
    }
}

impl Formatter for Sse {
    fn needs_timestamp(&self) -> bool {
        true
    }

    fn chunk(&mut self, out: &mut Vec<u8>, record: &Record<'_>) {
        out.extend_from_slice(b"data: ");
        write_record(out, record, &self.metadata_tail, &mut self.costs);
        out.extend_from_slice(b"\n\n");
    }

    fn finish(&mut self, out: &mut Vec<u8>, summary_json: &str) {
        out.extend_from_slice(b"event: summary\ndata: ");
        out.extend_from_slice(summary_json.as_bytes());
        out.extend_from_slice(b"\n\n");
    }
}
