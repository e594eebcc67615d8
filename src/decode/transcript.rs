//! Transcripts: JSON Lines chat records, one per line, priced by
//! [`crate::transcript::Transcript`]. Nothing is passed on; a line longer
//! than the longest line read is bad, skipped without being held.

use super::{Bad, Decoded, Decoder};
use crate::input::Chunk;
use crate::tokenize::Tokenizer;
use crate::transcript::{Options, Tally, Transcript};

/// The decoder of transcripts: units are lines with their newline stripped,
/// cut at `max_line` bytes.
pub struct Transcripts<'r> {
    transcript: Transcript,
    max_line: usize,
    /// Lines seen.
    number: u64,
    /// Inside a line longer than `max_line`, already reported.
    skipping: bool,
    /// Bytes read, newlines included.
    bytes: u64,
    /// Told of every bad line.
    report: &'r mut dyn FnMut(&Bad),
}

impl<'r> Transcripts<'r> {
    /// Transcripts counted with `tokenizer`, lines of at most `max_line`
    /// bytes (the splitter's `max_chunk`); `report` is told of every bad line.
    pub fn new(
        tokenizer: &dyn Tokenizer,
        options: Options,
        max_line: usize,
        report: &'r mut dyn FnMut(&Bad),
    ) -> Transcripts<'r> {
        Transcripts {
            transcript: Transcript::new(tokenizer, options),
            max_line,
            number: 0,
            skipping: false,
            bytes: 0,
            report,
        }
    }

    /// Ends the input: what its records came to, and the bytes read.
    pub fn finish(self) -> (Tally, u64) {
        (self.transcript.finish(), self.bytes)
    }
}

impl Decoder for Transcripts<'_> {
    fn decode<'a>(&mut self, line: &Chunk<'a>) -> Result<Decoded<'a>, Bad> {
        self.bytes += (line.content.len() + line.stripped.len()) as u64;
        if self.skipping {
            self.skipping = line.split;
            return Ok(Decoded::Nothing);
        }
        self.number += 1;
        let priced = if line.split {
            self.skipping = true;
            self.transcript.skip_bad_line();
            Err(format!(
                "longer than --max-chunk ({} bytes): skipped",
                self.max_line
            ))
        } else {
            self.transcript.line(line.content)
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
