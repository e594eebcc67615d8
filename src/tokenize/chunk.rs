//! The `chunk` tokenizer: every non-empty chunk is exactly one token.
//!
//! For input that is already one token per chunk (a model's deltas, one per
//! line), where the count should be the number of chunks.

use super::{Counter, Tokenizer};

/// Counts one token per non-empty piece pushed.
#[derive(Clone, Copy, Debug, Default)]
pub struct ChunkTokenizer;

impl Tokenizer for ChunkTokenizer {
    fn name(&self) -> &'static str {
        "chunk"
    }

    /// Not exact: one token per chunk is the input's promise, not a count.
    fn is_exact(&self) -> bool {
        false
    }

    fn counter(&self) -> Box<dyn Counter> {
        Box::new(ChunkCounter { pieces: 0 })
    }
}

struct ChunkCounter {
    pieces: u64,
}

impl Counter for ChunkCounter {
    fn push(&mut self, text: &[u8]) -> u64 {
        self.pieces += u64::from(!text.is_empty());
        self.pieces
    }

    fn reset(&mut self) {
        self.pieces = 0;
    }
}
