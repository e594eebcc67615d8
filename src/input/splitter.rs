//! Framing: cutting a byte stream into chunks.
//!
//! The splitter owns one buffer and hands out chunks as slices of it. Every
//! byte read is in exactly one chunk, in order, so the chunks concatenated
//! (delimiters included) are the input. Memory stays bounded by the largest
//! chunk plus one read, whatever the input.

use std::io::{self, Read};

/// Bytes asked of the reader per read.
const READ_SIZE: usize = 512 * 1024;

/// Where chunks end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Framing {
    /// After each occurrence of this (non-empty) byte string.
    Delimiter(Vec<u8>),
    /// Wherever one read ended, never inside a UTF-8 character.
    Arrival,
    /// After each server-sent event block: the blank line that ends it, by
    /// the SSE rules (CR, LF or CRLF line ends; see [`super::sse`]).
    Events,
}

/// One chunk of input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk<'a> {
    /// The chunk's bytes, delimiter included unless stripped.
    pub content: &'a [u8],
    /// The delimiter that ended the chunk when it was stripped from content.
    pub stripped: &'a [u8],
    /// Whether the chunk was cut at the size limit rather than at its end.
    pub split: bool,
}

/// A run of whole chunks from [`Splitter::peek_block`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block<'a> {
    /// The chunks' bytes, delimiters included.
    pub bytes: &'a [u8],
    /// How many chunks they are.
    pub chunks: u64,
    /// The byte that ends each chunk.
    pub delimiter: u8,
    /// Whether the bytes are valid UTF-8.
    pub valid_utf8: bool,
}

/// Cuts a reader's bytes into chunks.
pub struct Splitter<R> {
    reader: R,
    framing: Framing,
    strip_delimiter: bool,
    max_chunk: usize,
    buffer: Vec<u8>,
    /// Start of the bytes not yet handed out.
    start: usize,
    /// End of the bytes read.
    end: usize,
    /// No delimiter starts in `start..scan`.
    scan: usize,
    eof: bool,
    /// Whether nothing was handed out yet.
    at_stream_start: bool,
}

impl<R: Read> Splitter<R> {
    /// A splitter over `reader`. `max_chunk` (at least 1) bounds a chunk's
    /// content; longer records are cut at a character boundary.
    pub fn new(reader: R, framing: Framing, strip_delimiter: bool, max_chunk: usize) -> Self {
        Splitter {
            reader,
            framing,
            strip_delimiter,
            max_chunk: max_chunk.max(1),
            buffer: Vec::new(),
            start: 0,
            end: 0,
            scan: 0,
            eof: false,
            at_stream_start: true,
        }
    }

    /// The bytes read and not yet handed out.
    pub fn buffered(&self) -> &[u8] {
        &self.buffer[self.start..self.end]
    }

    /// Cuts the next chunks by `framing` instead (as decided from the first
    /// bytes of the input).
    pub fn set_framing(&mut self, framing: Framing) {
        self.framing = framing;
        self.scan = self.start;
    }

    /// Whether the reader has reported the end of input.
    pub fn at_eof(&self) -> bool {
        self.eof
    }

    /// The next complete chunk among the bytes already read, or `None` when
    /// more must be read first (or, after end of input, when all is out).
    pub fn next_chunk(&mut self) -> Option<Chunk<'_>> {
        if self.start == self.end {
            return None;
        }
        let (cut, delimiter_len, split) = match &self.framing {
            Framing::Delimiter(delimiter) => self.find_delimited(delimiter.len())?,
            Framing::Arrival => self.find_arrival()?,
            Framing::Events => self.find_event()?,
        };
        self.at_stream_start = false;
        let chunk_start = self.start;
        self.start = cut;
        self.scan = self.scan.max(cut);
        let whole = &self.buffer[chunk_start..cut];
        let (content, stripped) = if self.strip_delimiter {
            whole.split_at(whole.len() - delimiter_len)
        } else {
            (whole, &whole[whole.len()..])
        };
        Some(Chunk {
            content,
            stripped,
            split,
        })
    }

    /// Reads once more from the reader, blocking until bytes or end of input
    /// arrive. Call it only when `next_chunk` returned `None` and not at EOF.
    /// Returns the number of bytes read (0 at end of input). A read
    /// interrupted by a signal returns `ErrorKind::Interrupted`, so the caller
    /// can decide whether to stop; calling again retries.
    pub fn fill(&mut self) -> io::Result<usize> {
        if self.start > 0 {
            self.buffer.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.scan -= self.start;
            self.start = 0;
        }
        if self.buffer.len() < self.end + READ_SIZE {
            self.buffer.resize(self.end + READ_SIZE, 0);
        }
        // One read's worth, even where the buffer grew past it for a long
        // chunk: a larger read would only touch more memory.
        let read = self
            .reader
            .read(&mut self.buffer[self.end..self.end + READ_SIZE])?;
        self.end += read;
        self.eof = read == 0;
        Ok(read)
    }

    /// All complete chunks among the bytes already read, as one block, when
    /// the framing is a single-byte delimiter kept in the content and no
    /// chunk in it can exceed the size limit; `None` otherwise. The bytes
    /// stay unconsumed until [`Splitter::consume_block`].
    pub fn peek_block(&self) -> Option<Block<'_>> {
        let Framing::Delimiter(delimiter) = &self.framing else {
            return None;
        };
        if delimiter.len() != 1 || self.strip_delimiter {
            return None;
        }
        let last = memchr::memrchr(delimiter[0], &self.buffer[self.scan..self.end])?;
        let bytes = &self.buffer[self.start..self.scan + last + 1];
        if bytes.len() > self.max_chunk {
            return None;
        }
        let (chunks, valid_utf8) = super::scan::count_and_validate(bytes, delimiter[0]);
        Some(Block {
            bytes,
            chunks,
            delimiter: delimiter[0],
            valid_utf8,
        })
    }

    /// Marks the `len` bytes of the block from [`Splitter::peek_block`] as
    /// handed out.
    pub fn consume_block(&mut self, len: usize) {
        self.start += len;
        self.scan = self.scan.max(self.start);
    }

    /// (end of chunk, delimiter length in it, split?) for delimiter framing.
    fn find_delimited(&mut self, delimiter_len: usize) -> Option<(usize, usize, bool)> {
        let Framing::Delimiter(delimiter) = &self.framing else {
            return None;
        };
        let haystack = &self.buffer[self.scan..self.end];
        let found = if delimiter_len == 1 {
            memchr::memchr(delimiter[0], haystack)
        } else {
            memchr::memmem::find(haystack, delimiter)
        };
        if let Some(at) = found {
            let cut = self.scan + at + delimiter_len;
            if cut - self.start - delimiter_len <= self.max_chunk {
                return Some((cut, delimiter_len, false));
            }
        } else {
            // A delimiter may start in the last delimiter_len − 1 bytes.
            self.scan = self.end.saturating_sub(delimiter_len - 1).max(self.start);
        }
        let pending = self.end - self.start;
        if pending > self.max_chunk
            && (found.is_some() || self.eof || pending >= self.max_chunk + delimiter_len)
            && let Some(cut) =
                cut_point(&self.buffer[self.start..self.end], self.max_chunk, self.eof)
        {
            return Some((self.start + cut, 0, true));
        }
        if self.eof {
            return Some((self.end, 0, false));
        }
        None
    }

    /// (end of chunk, 0, split?) for event framing: an event block whole,
    /// or cut at the size limit, or what is left at end of input.
    fn find_event(&mut self) -> Option<(usize, usize, bool)> {
        let pending = &self.buffer[self.start..self.end];
        let limit = self.max_chunk;
        match super::sse::event_end(pending, self.at_stream_start, self.eof) {
            Some(end) if end <= limit => Some((self.start + end, 0, false)),
            _ if pending.len() > limit => {
                cut_point(pending, limit, self.eof).map(|cut| (self.start + cut, 0, true))
            }
            _ if self.eof => Some((self.end, 0, false)),
            _ => None,
        }
    }

    /// (end of chunk, 0, split?) for arrival framing.
    fn find_arrival(&mut self) -> Option<(usize, usize, bool)> {
        let pending = &self.buffer[self.start..self.end];
        if pending.len() > self.max_chunk {
            return cut_point(pending, self.max_chunk, self.eof)
                .map(|cut| (self.start + cut, 0, true));
        }
        let held = if self.eof {
            0
        } else {
            incomplete_tail(pending)
        };
        if held == pending.len() {
            return None;
        }
        Some((self.end - held, 0, false))
    }
}

/// Where to cut `bytes`, longer than `limit`, so that no UTF-8 character is
/// split: the largest boundary ≤ `limit`, else (a limit below 4 bytes that
/// falls inside the first character) the end of that character, so a chunk
/// is at least one whole character. `None` when that character is not
/// complete yet and more input may come. Bytes that are not UTF-8 are cut at
/// `limit`.
fn cut_point(bytes: &[u8], limit: usize, eof: bool) -> Option<usize> {
    if let Some(cut) = (limit.saturating_sub(3)..=limit)
        .rev()
        .find(|&cut| cut > 0 && !is_continuation(bytes[cut]))
    {
        return Some(cut);
    }
    let width = match bytes[0] {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return Some(limit),
    };
    if width <= limit {
        // A run of continuation bytes longer than a character: not UTF-8.
        return Some(limit);
    }
    // The first character's end: its width, or sooner where it is cut short.
    match (1..width).find(|&at| at >= bytes.len() || !is_continuation(bytes[at])) {
        Some(at) if at < bytes.len() => Some(at),
        Some(_) if !eof => None,
        Some(at) => Some(at),
        None => Some(width),
    }
}

fn is_continuation(byte: u8) -> bool {
    byte & 0xC0 == 0x80
}

/// How many bytes at the end of `bytes` start a UTF-8 character that is not
/// complete yet (0 to 3).
pub fn incomplete_tail(bytes: &[u8]) -> usize {
    for back in 1..=bytes.len().min(3) {
        let byte = bytes[bytes.len() - back];
        if is_continuation(byte) {
            continue;
        }
        let width = match byte {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => return 0,
        };
        return if width > back { back } else { 0 };
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that returns at most `step` bytes per read.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let take = self.step.min(self.data.len()).min(out.len());
            out[..take].copy_from_slice(&self.data[..take]);
            self.data = &self.data[take..];
            Ok(take)
        }
    }

    fn split(data: &[u8], step: usize, framing: Framing, strip: bool, max: usize) -> Vec<Vec<u8>> {
        let mut splitter = Splitter::new(Trickle { data, step }, framing, strip, max);
        let mut chunks = Vec::new();
        loop {
            while let Some(chunk) = splitter.next_chunk() {
                chunks.push(chunk.content.to_vec());
            }
            if splitter.at_eof() {
                return chunks;
            }
            splitter.fill().unwrap();
        }
    }

    fn lines() -> Framing {
        Framing::Delimiter(b"\n".to_vec())
    }

    #[test]
    fn lines_keep_their_newline() {
        let chunks = split(b"a\nbb\r\nccc", 64, lines(), false, 1 << 20);
        assert_eq!(
            chunks,
            vec![b"a\n".to_vec(), b"bb\r\n".to_vec(), b"ccc".to_vec()]
        );
    }

    #[test]
    fn empty_input_has_no_chunks() {
        assert!(split(b"", 7, lines(), false, 16).is_empty());
        assert!(split(b"", 7, Framing::Arrival, false, 16).is_empty());
    }

    #[test]
    fn strip_leaves_delimiter_out() {
        let chunks = split(b"a::b::c", 1, Framing::Delimiter(b"::".to_vec()), true, 99);
        assert_eq!(chunks, vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    }

    #[test]
    fn every_read_size_gives_the_same_chunks() {
        let data = "one\ntwo, three\n\nfour 日本 five\nsix".as_bytes();
        let whole = split(data, data.len(), lines(), false, 1 << 20);
        for step in 1..data.len() {
            assert_eq!(
                split(data, step, lines(), false, 1 << 20),
                whole,
                "step {step}"
            );
        }
    }

    #[test]
    fn multibyte_delimiter_at_every_boundary() {
        let data = b"ab<|>cd<|><|>e<|";
        for step in 1..=data.len() {
            let chunks = split(data, step, Framing::Delimiter(b"<|>".to_vec()), false, 99);
            assert_eq!(
                chunks,
                vec![
                    b"ab<|>".to_vec(),
                    b"cd<|>".to_vec(),
                    b"<|>".to_vec(),
                    b"e<|".to_vec()
                ]
            );
        }
    }

    #[test]
    fn long_records_split_at_character_boundaries() {
        let data = "é".repeat(10); // 20 bytes
        for step in 1..=20 {
            let chunks = split(data.as_bytes(), step, lines(), false, 5);
            assert!(chunks.iter().all(|c| std::str::from_utf8(c).is_ok()));
            assert!(chunks.iter().all(|c| c.len() <= 5));
            assert_eq!(chunks.concat(), data.as_bytes());
        }
    }

    #[test]
    fn limits_below_a_character_keep_characters_whole() {
        let data = "日本語\naé😀b\n".as_bytes();
        for max in 1..=4 {
            for step in 1..=data.len() {
                for framing in [lines(), Framing::Arrival] {
                    let chunks = split(data, step, framing.clone(), false, max);
                    assert_eq!(chunks.concat(), data, "max {max} step {step}");
                    for chunk in &chunks {
                        let text = std::str::from_utf8(chunk).unwrap_or_else(|_| {
                            panic!("max {max} step {step} {framing:?}: {chunk:?}")
                        });
                        // At most the limit (a line's newline aside), or
                        // one character beyond it.
                        let body = text.strip_suffix('\n').unwrap_or(text);
                        assert!(body.len() <= max || body.chars().count() == 1, "{text:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn invalid_bytes_are_cut_at_tiny_limits() {
        let data = b"\x80\x80\x80\x80\x80\xe6\x97";
        for max in 1..=4 {
            for step in 1..=data.len() {
                let chunks = split(data, step, lines(), false, max);
                assert_eq!(chunks.concat(), data.to_vec(), "max {max} step {step}");
            }
        }
    }

    #[test]
    fn delimiter_just_past_the_limit_is_not_lost() {
        let chunks = split(b"abcde\nf", 3, lines(), false, 5);
        assert_eq!(chunks.concat(), b"abcde\nf");
        assert!(chunks.iter().all(|c| c.len() <= 6));
    }

    #[test]
    fn arrival_holds_back_incomplete_characters() {
        let data = "aé日😀b".as_bytes();
        for step in 1..=data.len() {
            let chunks = split(data, step, Framing::Arrival, false, 99);
            assert!(
                chunks.iter().all(|c| std::str::from_utf8(c).is_ok()),
                "step {step}"
            );
            assert_eq!(chunks.concat(), data);
        }
    }

    #[test]
    fn arrival_passes_invalid_bytes() {
        let data = b"\xff\xfe\x80abc\xe3";
        let chunks = split(data, 2, Framing::Arrival, false, 99);
        assert_eq!(chunks.concat(), data.to_vec());
    }

    /// A reader that records the largest read asked of it.
    struct Widest<'a> {
        data: &'a [u8],
        widest: usize,
    }

    impl Read for Widest<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            self.widest = self.widest.max(out.len());
            let take = self.data.len().min(out.len());
            out[..take].copy_from_slice(&self.data[..take]);
            self.data = &self.data[take..];
            Ok(take)
        }
    }

    /// A read asks for one read's worth, even after a long chunk made the
    /// buffer grow past it: the buffer holds the chunk plus one read.
    #[test]
    fn reads_stay_one_read_long_after_a_long_chunk() {
        let mut data = vec![b'a'; READ_SIZE + READ_SIZE / 2];
        data.extend_from_slice(b"\nshort\n".repeat(READ_SIZE).as_slice());
        let reader = Widest {
            data: &data,
            widest: 0,
        };
        let mut splitter = Splitter::new(reader, lines(), false, usize::MAX);
        let mut total = 0;
        loop {
            while let Some(chunk) = splitter.next_chunk() {
                total += chunk.content.len();
            }
            if splitter.at_eof() {
                break;
            }
            splitter.fill().unwrap();
        }
        assert_eq!(total, data.len());
        assert_eq!(splitter.reader.widest, READ_SIZE);
    }

    #[test]
    fn incomplete_tail_lengths() {
        assert_eq!(incomplete_tail(b"abc"), 0);
        assert_eq!(incomplete_tail(b"a\xe6"), 1);
        assert_eq!(incomplete_tail(b"a\xe6\x97"), 2);
        assert_eq!(incomplete_tail("a日".as_bytes()), 0);
        assert_eq!(incomplete_tail(b"\xf0\x9f\x98"), 3);
        assert_eq!(incomplete_tail(b"\x80\x80\x80"), 0);
    }
}
