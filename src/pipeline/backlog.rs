//! Raw output that passed through before the vocabulary was ready, counted
//! in order once it is.

use std::io::{self, Write};

use crate::meter::{Measure, Meter};
use crate::output::Output;

/// Most bytes of chunks passed through uncounted while a vocabulary loads;
/// past it the stream waits for the load.
pub(super) const BACKLOG_LIMIT: usize = 16 << 20;

/// Chunks written out before the tokenizer was ready, to be counted in order.
#[derive(Default)]
pub(super) struct Backlog {
    /// Their contents, one after another.
    pub(super) text: Vec<u8>,
    /// Where each ends in `text`.
    ends: Vec<usize>,
    /// The chunk number of the first.
    first: u64,
}

impl Backlog {
    pub(super) fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub(super) fn push(&mut self, content: &[u8], chunk_id: u64) {
        if self.is_empty() {
            self.first = chunk_id;
        }
        self.text.extend_from_slice(content);
        self.ends.push(self.text.len());
    }

    /// Counts the chunks (waiting for the tokenizer if need be) and adds
    /// their tokens to the meter's totals and, for those written out whole,
    /// to the output's account. Flushes first, so that every chunk still
    /// buffered is accounted at once; returns the flush's error.
    pub(super) fn count<W: Write>(
        &mut self,
        meter: &mut Meter,
        output: &mut Output<W>,
    ) -> io::Result<()> {
        let flushed = output.flush();
        let delivered_chunks = output.delivered().chunks;
        let mut delivered = Measure::ZERO;
        let mut start = 0;
        for (number, &end) in (self.first..).zip(&self.ends) {
            let measure = meter.measure(&self.text[start..end]);
            meter.record_run(measure, 0, 0);
            if number < delivered_chunks {
                delivered = delivered.plus(measure);
            }
            start = end;
        }
        output.add_delivered(delivered);
        self.text.clear();
        self.ends.clear();
        flushed
    }
}
