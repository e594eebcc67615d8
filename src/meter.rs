//! Stream accounting: each chunk's tokens and cost, and the running totals.
//!
//! In stream mode a chunk's tokens are what the stream's count gained with
//! it, never negative: the sum over chunks is the running maximum of the
//! stream's count, which equals the whole text's count unless the very last
//! piece lowered it. Costs are exact, so the total is the sum of the chunks.

use crate::money::{Money, Price};
use crate::tokenize::{Counter, Tokenizer};

/// How chunks are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CountMode {
    /// Over the stream: a chunk's tokens are what it added to the whole.
    #[default]
    Stream,
    /// Each chunk on its own, at least 1 for a non-empty chunk (over-counts
    /// when words are cut across chunks).
    PerChunk,
}

/// Running totals of a session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Chunks counted.
    pub chunks: u64,
    /// Bytes of content counted.
    pub bytes: u64,
    /// Tokens counted.
    pub tokens: u64,
    /// Their cost.
    pub cost: Money,
    /// Chunks holding invalid UTF-8.
    pub invalid_utf8_chunks: u64,
    /// Chunks that were cut at the size limit.
    pub split_chunks: u64,
}

impl Totals {
    /// The field-by-field sum of two totals.
    #[must_use]
    pub fn plus(&self, other: &Totals) -> Totals {
        Totals {
            chunks: self.chunks + other.chunks,
            bytes: self.bytes + other.bytes,
            tokens: self.tokens + other.tokens,
            cost: self.cost.saturating_add(other.cost),
            invalid_utf8_chunks: self.invalid_utf8_chunks + other.invalid_utf8_chunks,
            split_chunks: self.split_chunks + other.split_chunks,
        }
    }
}

/// The measure of one chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Measure {
    /// Tokens the chunk is charged.
    pub tokens: u64,
    /// What they cost.
    pub cost: Money,
}

impl Measure {
    /// No tokens, no cost.
    pub const ZERO: Measure = Measure {
        tokens: 0,
        cost: Money::ZERO,
    };

    /// The sum of two measures.
    #[must_use]
    pub fn plus(self, other: Measure) -> Measure {
        Measure {
            tokens: self.tokens + other.tokens,
            cost: self.cost.saturating_add(other.cost),
        }
    }
}

/// Counts and prices the chunks of one stream.
pub struct Meter {
    counter: Box<dyn Counter>,
    mode: CountMode,
    price: Price,
    /// Prices that replace `price` once the session's tokens pass a size
    /// (a prompt's context tiers), by size.
    tiers: Vec<(u64, Price)>,
    /// Tokens priced so far.
    priced: u64,
    /// Tokens charged so far: the running maximum of the stream's count.
    charged: u64,
    totals: Totals,
}

impl Meter {
    /// A meter counting with `tokenizer` and charging `price` per token.
    pub fn new(tokenizer: &dyn Tokenizer, mode: CountMode, price: Price) -> Meter {
        Meter {
            counter: tokenizer.counter(),
            mode,
            price,
            tiers: Vec::new(),
            priced: 0,
            charged: 0,
            totals: Totals::default(),
        }
    }

    /// Prices the session's tokens by `tiers` (size, price), by size: once
    /// the session has more tokens than a size, every one of them pays that
    /// price, so a chunk's cost is the change in the session's total cost
    /// and the chunk that crosses a size carries the re-pricing of all
    /// before it.
    #[must_use]
    pub fn with_tiers(mut self, tiers: &[(u64, Price)]) -> Meter {
        self.tiers = tiers.to_vec();
        self.tiers.sort_by_key(|(size, _)| *size);
        self
    }

    /// What `tokens` tokens of the session cost together.
    fn session_cost(&self, tokens: u64) -> Money {
        let price = self
            .tiers
            .iter()
            .rev()
            .find(|(size, _)| tokens > *size)
            .map_or(self.price, |(_, price)| *price);
        price.cost(tokens)
    }

    /// Counts the next chunk's content and prices it, without adding it to
    /// the totals: call [`Meter::record`] once it is written.
    pub fn measure(&mut self, content: &[u8]) -> Measure {
        let tokens = match self.mode {
            CountMode::Stream => {
                let count = self.counter.push(content);
                self.charge(count)
            }
            CountMode::PerChunk => {
                self.counter.reset();
                let count = self.counter.push(content);
                if content.is_empty() { 0 } else { count.max(1) }
            }
        };
        self.priced(tokens)
    }

    /// The tokens the stream's count `count` adds to what was charged.
    fn charge(&mut self, count: u64) -> u64 {
        let gained = count.saturating_sub(self.charged);
        self.charged += gained;
        gained
    }

    /// `tokens` more tokens of the session, priced.
    fn priced(&mut self, tokens: u64) -> Measure {
        let cost = if self.tiers.is_empty() {
            self.price.cost(tokens)
        } else {
            let before = self.session_cost(self.priced);
            self.priced = self.priced.saturating_add(tokens);
            self.session_cost(self.priced).saturating_sub(before)
        };
        Measure { tokens, cost }
    }

    /// Counts and prices a run of whole chunks, each ending in `delimiter`
    /// (but maybe the last), as [`Meter::measure`] would the chunks one by
    /// one, with the same sum (see [`Counter::push_chunks`]). For the
    /// stream count only, whose sum is the running maximum.
    pub fn measure_run(&mut self, run: &[u8], delimiter: u8) -> Measure {
        debug_assert_eq!(self.mode, CountMode::Stream);
        let most = self.counter.push_chunks(run, delimiter);
        let tokens = self.charge(most);
        self.priced(tokens)
    }

    /// Prices what is measured from now on at `price`.
    pub fn set_price(&mut self, price: Price) {
        self.price = price;
    }

    /// Adds a measured chunk to the totals.
    pub fn record(&mut self, measure: Measure, bytes: usize, valid_utf8: bool, split: bool) {
        self.record_run(measure, bytes, 1);
        self.totals.invalid_utf8_chunks += u64::from(!valid_utf8);
        self.totals.split_chunks += u64::from(split);
    }

    /// Adds a measured run of `chunks` whole chunks of valid UTF-8, none cut
    /// at the size limit, to the totals.
    pub fn record_run(&mut self, measure: Measure, bytes: usize, chunks: u64) {
        let totals = &mut self.totals;
        totals.chunks += chunks;
        totals.bytes += bytes as u64;
        totals.tokens += measure.tokens;
        totals.cost = totals.cost.saturating_add(measure.cost);
    }

    /// The totals of the chunks recorded so far.
    pub fn totals(&self) -> &Totals {
        &self.totals
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenize::{Exact, Heuristic};

    fn run(mode: CountMode, pieces: &[&str]) -> Vec<u64> {
        let mut meter = Meter::new(&Heuristic::default(), mode, Price::from_millionths(1));
        pieces
            .iter()
            .map(|piece| meter.measure(piece.as_bytes()).tokens)
            .collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(
            if cfg!(debug_assertions) { 100 } else { 2_000 }
        ))]

        /// A run of lines measured at once gives what its lines measured one
        /// by one give, with exact encodings whose count may drop at a line
        /// end (16 newlines are fewer tokens than 15): the same tokens and
        /// cost.
        #[test]
        fn a_run_measures_as_its_lines(run in crate::tokenize::ragged_text()) {
            for exact in [Exact::o200k_base(), Exact::cl100k_base()] {
                let price = Price::from_millionths(3);
                let mut whole = Meter::new(&exact, CountMode::Stream, price);
                let mut lines = Meter::new(&exact, CountMode::Stream, price);
                let at_once = whole.measure_run(run.as_bytes(), b'\n');
                let one_by_one = run
                    .split_inclusive('\n')
                    .map(|line| lines.measure(line.as_bytes()))
                    .fold(Measure::ZERO, Measure::plus);
                proptest::prop_assert_eq!(at_once, one_by_one, "{:?}", run);
            }
        }
    }

    #[test]
    fn a_chunk_that_crosses_a_tier_re_prices_the_session() {
        let tiers = [(4, Price::from_millionths(2))];
        let mut meter = Meter::new(
            &Heuristic::default(),
            CountMode::PerChunk,
            Price::from_millionths(1),
        )
        .with_tiers(&tiers);
        // 4 tokens at 1, then 1 more: all 5 at 2.
        let first = meter.measure(b"0123456789abcdef");
        let second = meter.measure(b"wxyz");
        assert_eq!((first.tokens, second.tokens), (4, 1));
        assert_eq!(first.cost, Price::from_millionths(1).cost(4));
        assert_eq!(
            first.cost.saturating_add(second.cost),
            Price::from_millionths(2).cost(5)
        );
    }

    #[test]
    fn stream_mode_charges_what_the_stream_gained() {
        assert_eq!(
            run(CountMode::Stream, &["hello", " ", "world"]),
            vec![1, 1, 1]
        );
        assert_eq!(run(CountMode::Stream, &["hel", "lo"]), vec![1, 0]);
    }

    #[test]
    fn per_chunk_mode_counts_each_alone() {
        assert_eq!(run(CountMode::PerChunk, &["hel", "lo", ""]), vec![1, 1, 0]);
        assert_eq!(run(CountMode::PerChunk, &["hello world!"]), vec![3]);
    }

    #[test]
    fn record_adds_to_totals() {
        let mut meter = Meter::new(
            &Heuristic::default(),
            CountMode::Stream,
            Price::from_millionths(150_000),
        );
        for piece in ["abcd", "efgh", "\u{fffd}"] {
            let measure = meter.measure(piece.as_bytes());
            meter.record(measure, piece.len(), true, false);
        }
        let totals = meter.totals();
        assert_eq!((totals.chunks, totals.bytes, totals.tokens), (3, 11, 3));
        assert_eq!(totals.cost.to_string(), "0.00000045");
    }
}
