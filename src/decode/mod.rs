//! Decoders: what each unit of an input means.
//!
//! The splitter (in `input`) cuts an input into units: lines, delimited
//! records, or whatever one read returned. A decoder says what a unit holds
//! for the meter: text to count and pass on, or nothing (a record it
//! billed itself, a blank line), or that the unit is bad. Every input
//! format is a decoder of its own, one file here; the pipeline runs them
//! all the same way.
//!
//! ```
//! use tokmeter::decode::{Decoded, Decoder, Text};
//! use tokmeter::input::Chunk;
//!
//! let line = Chunk { content: b"hello\n", stripped: b"", split: false };
//! assert!(matches!(Text.decode(&line), Ok(Decoded::Text(b"hello\n"))));
//! ```

mod provider;
pub mod providers;
mod text;
mod transcript;

pub use provider::{Event, Piece, Provider, Verdict};
pub use text::Text;
pub use transcript::{LogFormat, Read, Transcripts};

use crate::input::{Chunk, Framing};

/// How many bytes a decoder that picks its framing may look at first.
pub const FRAMING_PEEK: usize = 64 << 10;

/// What one unit holds for the meter.
#[derive(Clone, Copy, Debug)]
pub enum Decoded<'a> {
    /// Text to count, and to write in records.
    Text(&'a [u8]),
    /// Nothing to count or write: a unit the decoder accounted for itself.
    Nothing,
    /// A unit of a provider stream: passed through as it is, with the text
    /// deltas it carries metered apart.
    Event(Event<'a>),
}

/// A unit that is not what its format says, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bad {
    /// Its number in the input (a line number for line formats), from 1.
    pub number: u64,
    /// Why, in plain words.
    pub why: String,
}

/// Turns the units of one input into what is metered.
pub trait Decoder {
    /// Decodes one unit. A bad unit counts nothing; the pipeline goes on or
    /// stops, as its settings say.
    fn decode<'s, 'a: 's>(&'s mut self, unit: &Chunk<'a>) -> Result<Decoded<'s>, Bad>;

    /// Whether every unit decodes to its own content, so that a run of
    /// whole units can be metered and passed through at once.
    fn is_pass_through(&self) -> bool {
        false
    }

    /// Whether the decoder picks the framing from the input's first bytes
    /// (see [`Decoder::choose_framing`]).
    fn chooses_framing(&self) -> bool {
        false
    }

    /// The framing the input's first bytes show, or `None` while more are
    /// needed; with `decided` (end of input, or [`FRAMING_PEEK`] bytes) the
    /// decoder must choose.
    fn choose_framing(&mut self, _first: &[u8], _decided: bool) -> Option<Framing> {
        None
    }
}
