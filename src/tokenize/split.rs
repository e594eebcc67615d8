//! The pre-tokenizers of o200k_base and cl100k_base, written out by hand:
//! each finds the next piece the encoding's regex (as bpe-openai writes it,
//! `\s+(?!\S)` as a one-character look-ahead) would match, resolving the
//! alternatives, greedy repetition and backtracking in closed form.
//!
//! Invariant: a piece is reported `open` whenever deciding it looked at the
//! end of the text, so a piece that is not open is the same whatever text
//! is appended later.

include!(concat!(env!("OUT_DIR"), "/classes.rs"));

/// The next piece of a text: where it ends, and whether more text could
/// change it (its end, or the pieces after it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Piece {
    /// Byte offset just past the piece.
    pub end: usize,
    /// Deciding the piece looked at the end of the text.
    pub open: bool,
}

/// A pre-tokenizer: the piece starting at byte `at` (a character boundary
/// before the end) of `text`, which is valid UTF-8.
pub(super) type Split = fn(text: &[u8], at: usize) -> Piece;

/// `[^\r\n\p{L}\p{N}]`, the optional prefix of a word.
const NOT_PREFIX: u8 = LETTER | NUMBER;

/// A character of the text: its code point's classes and its length.
#[derive(Clone, Copy)]
struct Char {
    code: u32,
    class: u8,
    len: usize,
}

/// Reads characters of a text, noting whether it ever reached the end.
struct Reader<'a> {
    text: &'a [u8],
    at_end: bool,
}

/// The class bits of a code point.
#[inline]
fn class_of(code: u32) -> u8 {
    STAGE2[usize::from(STAGE1[(code >> 8) as usize])][(code & 0xff) as usize]
}

impl Reader<'_> {
    /// The character at byte `at`, or `None` at the end of the text.
    #[inline]
    fn get(&mut self, at: usize) -> Option<Char> {
        let Some(&first) = self.text.get(at) else {
            self.at_end = true;
            return None;
        };
        if first < 0x80 {
            let code = u32::from(first);
            return Some(Char {
                code,
                class: STAGE2[0][usize::from(first)],
                len: 1,
            });
        }
        let (len, mut code) = match first {
            0xC0..=0xDF => (2, u32::from(first & 0x1F)),
            0xE0..=0xEF => (3, u32::from(first & 0x0F)),
            _ => (4, u32::from(first & 0x07)),
        };
        for &byte in &self.text[at + 1..at + len] {
            code = code << 6 | u32::from(byte & 0x3F);
        }
        Some(Char {
            code,
            class: class_of(code),
            len,
        })
    }

    /// Whether the character at `at` has any of the `class` bits.
    #[inline]
    fn is(&mut self, at: usize, class: u8) -> bool {
        self.get(at).is_some_and(|c| c.class & class != 0)
    }

    /// End of the run of characters with any of the `class` bits from `at`.
    #[inline]
    fn run(&mut self, mut at: usize, class: u8) -> usize {
        while let Some(c) = self.get(at) {
            if c.class & class == 0 {
                break;
            }
            at += c.len;
        }
        at
    }

    /// End of `(?i:'s|'t|'re|'ve|'m|'ll|'d)` at `at`, if it matches there.
    fn contraction(&mut self, at: usize) -> Option<usize> {
        if self.get(at)?.code != u32::from(b'\'') {
            return None;
        }
        let letter = self.get(at + 1)?;
        let lower = |code: u32| match code {
            0x17F => Some(b's'), // ſ, which (?i) folds to s
            0..0x80 => Some((code as u8).to_ascii_lowercase()),
            _ => None,
        };
        let second = |reader: &mut Self, want: u8| {
            let c = reader.get(at + 2)?;
            (lower(c.code) == Some(want)).then_some(at + 3)
        };
        match lower(letter.code)? {
            b's' | b't' | b'm' | b'd' => Some(at + 1 + letter.len),
            b'r' | b'v' => second(self, b'e'),
            b'l' => second(self, b'l'),
            _ => None,
        }
    }

    /// End of `[^\r\n\p{L}\p{N}]`, the optional word prefix, at `at`.
    #[inline]
    fn prefix(&mut self, at: usize) -> Option<usize> {
        let c = self.get(at)?;
        let newline = c.code == u32::from(b'\r') || c.code == u32::from(b'\n');
        (c.class & NOT_PREFIX == 0 && !newline).then_some(at + c.len)
    }

    /// o200k's words at `at`: `U*W+c?` (`upper`) or `U+W*c?`, with U =
    /// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`, W = `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`, c
    /// the contractions.
    fn o200k_word(&mut self, at: usize, upper_first: bool) -> Option<usize> {
        // The U run, and its last character that is also W.
        let (mut end, mut last_lower) = (at, None);
        while let Some(c) = self.get(end) {
            if c.class & UPPER == 0 {
                break;
            }
            if c.class & LOWER != 0 {
                last_lower = Some(end);
            }
            end += c.len;
        }
        let word_end = if upper_first {
            // U* gives characters back until W+ can match.
            let lower_from = if self.is(end, LOWER) {
                end
            } else {
                last_lower?
            };
            self.run(lower_from, LOWER)
        } else {
            if end == at {
                return None;
            }
            self.run(end, LOWER)
        };
        Some(self.contraction(word_end).unwrap_or(word_end))
    }

    /// `\p{N}{1,3}` at `at`.
    fn digits(&mut self, at: usize) -> Option<usize> {
        let mut end = at;
        for _ in 0..3 {
            match self.get(end) {
                Some(c) if c.class & NUMBER != 0 => end += c.len,
                _ => break,
            }
        }
        (end > at).then_some(end)
    }

    /// ` ?[^\s\p{L}\p{N}]+[\r\n]*` at `at`, with `/` also in the tail if
    /// `slash`.
    fn punctuation(&mut self, at: usize, slash: bool) -> Option<usize> {
        const OTHER: u8 = SPACE | LETTER | NUMBER;
        let first = self.get(at)?;
        let start = if first.code == u32::from(b' ') {
            at + 1
        } else {
            at
        };
        let mut end = start;
        while let Some(c) = self.get(end) {
            if c.class & OTHER != 0 {
                break;
            }
            end += c.len;
        }
        if end == start {
            return None;
        }
        while let Some(&byte) = self.text.get(end) {
            if !(byte == b'\r' || byte == b'\n' || (slash && byte == b'/')) {
                return Some(end);
            }
            end += 1;
        }
        self.at_end = true;
        Some(end)
    }

    /// `\s*[\r\n]+|\s+$|\s+(?!\S)|\s+` at `at`, which is whitespace.
    fn whitespace(&mut self, at: usize) -> usize {
        let (mut end, mut last_newline, mut last_start) = (at, None, at);
        while let Some(c) = self.get(end) {
            if c.class & SPACE == 0 {
                break;
            }
            if c.code == u32::from(b'\r') || c.code == u32::from(b'\n') {
                last_newline = Some(end + 1);
            }
            last_start = end;
            end += c.len;
        }
        if let Some(newline_end) = last_newline {
            newline_end
        } else if end == self.text.len() || last_start == at {
            end
        } else {
            last_start
        }
    }
}

/// o200k_base's pre-tokenizer:
/// `[^\r\n\p{L}\p{N}]?U*W+c?|[^\r\n\p{L}\p{N}]?U+W*c?|\p{N}{1,3}`
/// `| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
pub(super) fn o200k(text: &[u8], at: usize) -> Piece {
    let mut reader = Reader {
        text,
        at_end: false,
    };
    let end = first_match(&mut reader, at, ascii_o200k, |reader, at| {
        let prefixed = reader.prefix(at);
        (prefixed.and_then(|from| reader.o200k_word(from, true)))
            .or_else(|| reader.o200k_word(at, true))
            .or_else(|| prefixed.and_then(|from| reader.o200k_word(from, false)))
            .or_else(|| reader.o200k_word(at, false))
            .or_else(|| reader.digits(at))
            .or_else(|| reader.punctuation(at, true))
    });
    Piece {
        end,
        open: reader.at_end,
    }
}

/// cl100k_base's pre-tokenizer:
/// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}`
/// `| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
pub(super) fn cl100k(text: &[u8], at: usize) -> Piece {
    let mut reader = Reader {
        text,
        at_end: false,
    };
    let end = first_match(&mut reader, at, ascii_cl100k, |reader, at| {
        let word = |reader: &mut Reader, from: usize| {
            reader.is(from, LETTER).then(|| reader.run(from, LETTER))
        };
        (reader.contraction(at))
            .or_else(|| reader.prefix(at).and_then(|from| word(reader, from)))
            .or_else(|| word(reader, at))
            .or_else(|| reader.digits(at))
            .or_else(|| reader.punctuation(at, false))
    });
    Piece {
        end,
        open: reader.at_end,
    }
}

/// An ASCII fast path: the end of the piece at a byte offset and whether
/// it is open, when plain ASCII decides it.
type AsciiSplit = fn(&[u8], usize) -> Option<(usize, bool)>;

/// The end of the piece at `at`: the ASCII fast path `ascii` if it knows,
/// else `others` (every alternative before the whitespace ones), else the
/// whitespace alternatives. Every character matches one of them; one
/// character is the fallback that never happens.
#[inline]
fn first_match(
    reader: &mut Reader,
    at: usize,
    ascii: AsciiSplit,
    others: impl FnOnce(&mut Reader, usize) -> Option<usize>,
) -> usize {
    if let Some((end, open)) = ascii(reader.text, at) {
        reader.at_end |= open;
        return end;
    }
    let first = reader.get(at).expect("a piece starts before the end");
    if first.class & SPACE != 0 {
        // The word alternatives can start with whitespace (as the prefix).
        if let Some(end) = others(reader, at) {
            return end;
        }
        return reader.whitespace(at);
    }
    others(reader, at).unwrap_or(at + first.len)
}

/// Whether `byte` ends an ASCII word with nothing more to look at: an ASCII
/// byte that is no letter and not `'`.
#[inline]
fn ends_ascii(byte: u8) -> bool {
    byte < 0x80 && !byte.is_ascii_alphabetic() && byte != b'\''
}

/// End of `run` bytes from `at` on.
#[inline]
fn skip(text: &[u8], mut at: usize, run: impl Fn(u8) -> bool) -> usize {
    while text.get(at).is_some_and(|&byte| run(byte)) {
        at += 1;
    }
    at
}

/// The bit that makes an ASCII letter lowercase: a byte or'd with it is in
/// `a..=z` just when it is an ASCII letter.
const CASE: u8 = 0x20;

/// End of the run of bytes (ASCII) that are in `low..=high` once or'd with
/// `fold`, from `at` on, eight bytes at a time: a word is mostly one step.
#[inline]
fn skip_range(text: &[u8], mut at: usize, low: u8, high: u8, fold: u8) -> usize {
    const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
    const ONES: u64 = 0x0101_0101_0101_0101;
    while let Some(bytes) = text.get(at..at + 8) {
        let word = u64::from_le_bytes(bytes.try_into().expect("8 bytes"));
        // Each byte's high bit set (no borrow crosses bytes), less `low`
        // and less `high + 1`: the high bit stays where the byte is at
        // least that, for the byte's low seven bits.
        let set = word | HIGH_BITS | (ONES * u64::from(fold));
        let from_low = set.wrapping_sub(ONES * u64::from(low));
        let past_high = set.wrapping_sub(ONES * u64::from(high + 1));
        let outside = !(from_low & !past_high & !word) & HIGH_BITS;
        if outside != 0 {
            return at + (outside.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    skip(text, at, |byte| {
        byte < 0x80 && (low..=high).contains(&(byte | fold))
    })
}

/// The classes of an ASCII byte.
#[inline]
fn ascii_class(byte: u8) -> u8 {
    STAGE2[0][usize::from(byte)]
}

/// Whether an ASCII byte is `[^\s\p{L}\p{N}]`.
#[inline]
fn is_ascii_other(byte: u8) -> bool {
    byte < 0x80 && ascii_class(byte) & (SPACE | LETTER | NUMBER) == 0
}

/// o200k's pre-tokenizer on plain ASCII, when the bytes at hand decide.
#[inline]
fn ascii_o200k(text: &[u8], at: usize) -> Option<(usize, bool)> {
    ascii::<true>(text, at)
}

/// cl100k's pre-tokenizer on plain ASCII, when the bytes at hand decide.
#[inline]
fn ascii_cl100k(text: &[u8], at: usize) -> Option<(usize, bool)> {
    ascii::<false>(text, at)
}

/// The piece at `at` when it is plain ASCII and ends before an ASCII byte
/// that decides it (else `None`, and the general path decides):
/// - 1–3 digits;
/// - a word after an optional prefix (a space, tab or punctuation): o200k's
///   `[A-Z]*[a-z]*` (uppercase then lowercase is one piece; a lowercase run
///   ends at an uppercase letter), cl100k's `[A-Za-z]+`;
/// - ` ?[^\s\p{L}\p{N}]+` with its CR/LF (and, in o200k, `/`) tail;
/// - a whitespace run, cut as `\s*[\r\n]+|\s+(?!\S)|\s+` cut it.
///
/// `'` is left to the general path (contractions). The flag is whether the
/// piece is open: punctuation and whitespace that reach the end of the text.
#[inline]
fn ascii<const O200K: bool>(text: &[u8], at: usize) -> Option<(usize, bool)> {
    let first = text[at];
    if first >= 0x80 || first == b'\'' {
        return None;
    }
    let class = ascii_class(first);
    let Some(&next) = text.get(at + 1) else {
        // The last character: punctuation or whitespace is a piece to the
        // end, which more text could extend.
        return (class & (LETTER | NUMBER) == 0).then_some((at + 1, true));
    };
    if next >= 0x80 || next == b'\'' {
        return None;
    }
    if class & NUMBER != 0 {
        return ascii_digits(text, at).map(|end| (end, false));
    }
    if class & LETTER != 0 {
        return ascii_word::<O200K>(text, at).map(|end| (end, false));
    }
    let newline = first == b'\r' || first == b'\n';
    if next.is_ascii_alphabetic() {
        // `first` is the word's prefix, unless it is a newline.
        return if newline {
            Some((at + 1, false))
        } else {
            ascii_word::<O200K>(text, at + 1).map(|end| (end, false))
        };
    }
    if class & SPACE == 0 || (first == b' ' && is_ascii_other(next)) {
        let start = if class & SPACE == 0 { at } else { at + 1 };
        let mut end = skip(text, start, is_ascii_other);
        match text.get(end) {
            None => return Some((end, true)),
            Some(&byte) if byte >= 0x80 => return None,
            Some(b'\r' | b'\n') => {
                end = skip(text, end, |byte| {
                    byte == b'\r' || byte == b'\n' || (O200K && byte == b'/')
                });
            }
            Some(_) => {}
        }
        return Some((end, end == text.len()));
    }
    // Whitespace not followed by a letter.
    let (mut end, mut last_newline) = (at, None);
    while let Some(&byte) = text.get(end) {
        if byte >= 0x80 {
            return None; // perhaps more whitespace
        }
        if ascii_class(byte) & SPACE == 0 {
            break;
        }
        if byte == b'\r' || byte == b'\n' {
            last_newline = Some(end + 1);
        }
        end += 1;
    }
    if end == text.len() {
        // `\s*[\r\n]+` first, else `\s+$`; more text could extend the run.
        return Some((last_newline.unwrap_or(end), true));
    }
    Some(match last_newline {
        Some(newline_end) => (newline_end, false),
        None if end - at >= 2 => (end - 1, false),
        None => (end, false),
    })
}

/// The word at `at`, which is an ASCII letter: o200k's `[A-Z]*[a-z]*` or
/// cl100k's `[A-Za-z]+`, if an ASCII byte that is no letter and not `'`
/// follows.
#[inline]
fn ascii_word<const O200K: bool>(text: &[u8], at: usize) -> Option<usize> {
    let end = if O200K {
        let upper = skip_range(text, at, b'A', b'Z', 0);
        skip_range(text, upper, b'a', b'z', 0)
    } else {
        skip_range(text, at, b'a', b'z', CASE)
    };
    (end > at && text.get(end).is_some_and(|&byte| ends_ascii(byte))).then_some(end)
}

/// `\p{N}{1,3}` over ASCII digits: three, or fewer before an ASCII byte
/// that is no digit.
#[inline]
fn ascii_digits(text: &[u8], at: usize) -> Option<usize> {
    let end = skip(text, at, |byte| byte.is_ascii_digit()).min(at + 3);
    (end == at + 3 || text.get(end).is_some_and(|&byte| byte < 0x80)).then_some(end)
}

#[cfg(test)]
#[path = "split_tests.rs"]
mod tests;
