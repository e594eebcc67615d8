//! The heuristic estimate: tokens ≈ round(bytes / ratio) on the stream.
//!
//! The ratio is applied to the stream's running total, never per piece, so
//! cutting the same text into different pieces gives the same count.

use super::{Counter, Tokenizer};

/// What the heuristic divides by the ratio.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HeuristicRule {
    /// round(UTF-8 bytes / ratio): the default, within ±15% of o200k on prose,
    /// code, CJK and mixed text at a ratio of 4.
    BytesPerToken(f64),
    /// round(characters / ratio), which undercounts CJK (a CJK character is
    /// about one token, not a quarter).
    CharsPerToken(f64),
}

/// The heuristic tokenizer.
#[derive(Clone, Copy, Debug)]
pub struct Heuristic {
    rule: HeuristicRule,
}

impl Heuristic {
    /// Bytes per token by default.
    pub const DEFAULT_RATIO: f64 = 4.0;

    /// A heuristic with the given rule; the ratio must be finite and positive
    /// (the pricing table validates it).
    pub fn new(rule: HeuristicRule) -> Heuristic {
        Heuristic { rule }
    }
}

impl Default for Heuristic {
    fn default() -> Heuristic {
        Heuristic::new(HeuristicRule::BytesPerToken(Heuristic::DEFAULT_RATIO))
    }
}

impl Tokenizer for Heuristic {
    fn name(&self) -> &'static str {
        "heuristic"
    }

    fn is_exact(&self) -> bool {
        false
    }

    fn counts_bytes_only(&self) -> bool {
        matches!(self.rule, HeuristicRule::BytesPerToken(_))
    }

    fn counter(&self) -> Box<dyn Counter> {
        Box::new(HeuristicCounter {
            rule: self.rule,
            units: 0,
        })
    }
}

struct HeuristicCounter {
    rule: HeuristicRule,
    /// Bytes or characters seen so far, by the rule.
    units: u64,
}

impl Counter for HeuristicCounter {
    fn push(&mut self, text: &[u8]) -> u64 {
        match self.rule {
            HeuristicRule::BytesPerToken(ratio) => {
                self.units += text.len() as u64;
                divide_round(self.units, ratio)
            }
            HeuristicRule::CharsPerToken(ratio) => {
                self.units += count_chars(text);
                divide_round(self.units, ratio)
            }
        }
    }

    /// One push: the count never drops, so its most is at the end.
    fn push_chunks(&mut self, text: &[u8], _delimiter: u8) -> u64 {
        self.push(text)
    }

    fn reset(&mut self) {
        self.units = 0;
    }
}

/// round(units / ratio), halves away from zero; exact integer arithmetic for
/// the common ratio of 4.
fn divide_round(units: u64, ratio: f64) -> u64 {
    if ratio == 4.0 {
        return units / 4 + u64::from(units % 4 >= 2);
    }
    (units as f64 / ratio).round() as u64
}

/// Characters in `text`: every byte that does not continue a UTF-8 sequence
/// starts one, so an invalid byte counts as one character (U+FFFD).
fn count_chars(text: &[u8]) -> u64 {
    text.iter().filter(|&&b| (b as i8) >= -0x40).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_space_world_counts_one_each() {
        let mut counter = Heuristic::default().counter();
        let counts: Vec<u64> = ["hello", " ", "world"]
            .iter()
            .map(|piece| counter.push(piece.as_bytes()))
            .collect();
        assert_eq!(counts, vec![1, 2, 3]);
    }

    #[test]
    fn rounds_half_up() {
        let tokenizer = Heuristic::default();
        assert_eq!(tokenizer.count(b""), 0);
        assert_eq!(tokenizer.count(b"a"), 0);
        assert_eq!(tokenizer.count(b"ab"), 1);
        assert_eq!(tokenizer.count(b"abcdef"), 2);
        assert_eq!(tokenizer.count(b"abcdefg"), 2);
    }

    #[test]
    fn chars_rule_counts_characters() {
        let tokenizer = Heuristic::new(HeuristicRule::CharsPerToken(4.0));
        // Eight CJK characters are 24 bytes but 8 characters.
        assert_eq!(tokenizer.count("日本語のテキスト".as_bytes()), 2);
        assert_eq!(Heuristic::default().count("日本語のテキスト".as_bytes()), 6);
    }

    #[test]
    fn other_ratios_round() {
        let tokenizer = Heuristic::new(HeuristicRule::BytesPerToken(3.5));
        assert_eq!(tokenizer.count(b"abcdefg"), 2);
        assert_eq!(tokenizer.count(b"abcdefghij"), 3);
    }
}
