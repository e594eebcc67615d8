//! Text: every unit is text, counted and passed on as it is.

use super::{Bad, Decoded, Decoder};
use crate::input::Chunk;

/// The decoder of a text stream: a unit is its own text.
#[derive(Clone, Copy, Debug, Default)]
pub struct Text;

impl Decoder for Text {
    #[inline]
    fn decode<'a>(&mut self, unit: &Chunk<'a>) -> Result<Decoded<'a>, Bad> {
        Ok(Decoded::Text(unit.content))
    }

    fn is_pass_through(&self) -> bool {
        true
    }
}
