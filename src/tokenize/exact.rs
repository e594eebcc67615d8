//! Exact OpenAI token counts (o200k_base, cl100k_base) over a stream.
//!
//! Invariant: after every push the count equals tiktoken's count of all the
//! text pushed so far. A pre-tokenizer piece whose regex search has died can
//! never change, so it is counted once and dropped; only the open tail is
//! re-examined, and incrementally, so a push costs what its own text costs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use bpe_openai::appendable_encoder::AppendableEncoder;
use bpe_openai::byte_pair_encoding::BytePairEncoding;
use regex_automata::Anchored;
use regex_automata::hybrid::LazyStateID;
use regex_automata::hybrid::dfa::{self, Cache, DFA};
use regex_automata::util::start;

use super::{Counter, Encoding, Tokenizer};

/// o200k_base's split pattern as bpe-openai writes it: tiktoken's, with
/// `\s+(?!\S)` rewritten as [`LOOKAHEAD`] and [`WHITESPACE`].
const O200K_PATTERN: &str = concat!(
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+",
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*",
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+$",
);

/// cl100k_base's split pattern, rewritten the same way as [`O200K_PATTERN`].
const CL100K_PATTERN: &str = concat!(
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}",
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+$",
);

/// Pattern 1: `\s+(?!\S)` as a match one character too long, the last
/// character being given back, so that no look-around is needed.
const LOOKAHEAD: &str = r"\s+\s";

/// Pattern 2: the whitespace run left when nothing else matches.
const WHITESPACE: &str = r"\s+";

/// Pieces up to this many bytes have their counts kept in a [`Memo`].
const SHORT: usize = 30;

/// Number of sets in a [`Memo`] (512 KiB in all).
const SETS: usize = 8192;

/// Settled text leaves the buffer once it is this long and at least half of
/// the buffer, so that each byte is moved O(1) times.
const COMPACT: usize = 4096;

/// Most caches an engine keeps for its next counters.
const POOL: usize = 4;

/// Exact token counts in an OpenAI encoding. Cheap to construct: the
/// vocabulary, compiled into the binary, is decoded by the first counter.
#[derive(Clone, Copy, Debug)]
pub struct Exact {
    encoding: Encoding,
}

impl Exact {
    /// The tokenizer for `encoding`; loads nothing yet.
    pub const fn new(encoding: Encoding) -> Exact {
        Exact { encoding }
    }

    /// The o200k_base tokenizer; loads nothing yet.
    pub const fn o200k_base() -> Exact {
        Exact::new(Encoding::O200kBase)
    }

    /// The cl100k_base tokenizer; loads nothing yet.
    pub const fn cl100k_base() -> Exact {
        Exact::new(Encoding::Cl100kBase)
    }

    /// The encoding's engine, built on first use (10–40 ms); a caller
    /// that comes while another thread builds it waits for that build.
    fn engine(&self) -> &'static Engine {
        let (cell, _) = self.slot();
        cell.get_or_init(|| {
            wait_for_test_gate();
            Engine::new(self.encoding, None)
        })
    }

    /// The encoding's engine cell, and whether a background load started.
    fn slot(&self) -> (&'static OnceLock<Engine>, &'static AtomicBool) {
        static O200K: (OnceLock<Engine>, AtomicBool) = (OnceLock::new(), AtomicBool::new(false));
        static CL100K: (OnceLock<Engine>, AtomicBool) = (OnceLock::new(), AtomicBool::new(false));
        let (cell, started) = match self.encoding {
            Encoding::O200kBase => &O200K,
            Encoding::Cl100kBase => &CL100K,
        };
        (cell, started)
    }
}

/// Holds the vocabulary's load back until the file named by
/// `TOKMETER_TEST_VOCABULARY_GATE` exists, so tests can show that output
/// does not wait for the load. Unset (always, outside tests), it costs one
/// environment look-up per load.
fn wait_for_test_gate() {
    let Some(gate) = std::env::var_os("TOKMETER_TEST_VOCABULARY_GATE") else {
        return;
    };
    while !std::path::Path::new(&gate).exists() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

impl Tokenizer for Exact {
    /// `o200k_base` or `cl100k_base`.
    fn name(&self) -> &'static str {
        match self.encoding {
            Encoding::O200kBase => "o200k_base",
            Encoding::Cl100kBase => "cl100k_base",
        }
    }

    /// Always true: these are the encoding's own counts.
    fn is_exact(&self) -> bool {
        true
    }

    /// Whether the vocabulary is loaded.
    fn is_ready(&self) -> bool {
        self.slot().0.get().is_some()
    }

    /// Loads the vocabulary on a thread of its own, once.
    fn prepare_in_background(&self) {
        let (cell, started) = self.slot();
        if cell.get().is_some() || started.swap(true, Ordering::Relaxed) {
            return;
        }
        let exact = *self;
        // Without a thread, the first count loads it.
        let _ = std::thread::Builder::new()
            .name("vocabulary".into())
            .spawn(move || {
                exact.engine();
            });
    }

    /// A counter at zero. The vocabulary loads with the first text pushed,
    /// not before: a stream with nothing to count never loads it.
    fn counter(&self) -> Box<dyn Counter> {
        Box::new(StreamCounter {
            exact: *self,
            engine: None,
            scratch: None,
            stream: Stream::default(),
        })
    }
}

/// One encoding's merges, its pre-tokenizer as a lazy DFA that can be
/// stepped byte by byte and resumed when more text comes, and the warm
/// caches of dropped counters.
struct Engine {
    /// Vocabulary and merge ranks.
    bpe: &'static BytePairEncoding,
    /// Patterns `[split, LOOKAHEAD, WHITESPACE]`, leftmost-first: bpe-openai's
    /// pre-tokenizer (whose splits its authors test against tiktoken).
    dfa: DFA,
    /// At most [`POOL`] caches: a new DFA cache must determinize its states
    /// again, and a new memo is cold.
    pool: Mutex<Vec<Scratch>>,
}

impl Engine {
    /// Loads the vocabulary and builds the pre-tokenizer (`config`: the lazy
    /// DFA's default if `None`); the patterns are constants, so failing to
    /// build is a bug in this file.
    fn new(encoding: Encoding, config: Option<dfa::Config>) -> Engine {
        let (tokenizer, pattern) = match encoding {
            Encoding::O200kBase => (bpe_openai::o200k_base(), O200K_PATTERN),
            Encoding::Cl100kBase => (bpe_openai::cl100k_base(), CL100K_PATTERN),
        };
        let dfa = (DFA::builder().configure(config.unwrap_or_default()))
            .build_many(&[pattern, LOOKAHEAD, WHITESPACE])
            .expect("the pre-tokenizer patterns are valid");
        let pool = Mutex::new(Vec::new());
        Engine {
            bpe: &tokenizer.bpe,
            dfa,
            pool,
        }
    }

    /// The pool, even after a panic elsewhere: caches are valid whatever
    /// happened while one was taken out or put back.
    fn pool(&self) -> MutexGuard<'_, Vec<Scratch>> {
        self.pool.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A counter's caches, which depend on the encoding only, never on a stream.
struct Scratch {
    /// Lazy DFA states; a clear invalidates the state IDs saved so far.
    cache: Cache,
    /// Counts of recent short pieces.
    memo: Memo,
}

impl Scratch {
    /// Pooled caches if there are any, else new ones.
    fn take(engine: &Engine) -> Scratch {
        let pooled = engine.pool().pop();
        pooled.unwrap_or_else(|| Scratch {
            cache: engine.dfa.create_cache(),
            memo: Memo::default(),
        })
    }
}

/// The counter behind [`Exact`].
struct StreamCounter {
    /// The encoding.
    exact: Exact,
    /// The encoding's shared parts, from the first push of text on.
    engine: Option<&'static Engine>,
    /// Taken from the pool on the first push, given back on drop.
    scratch: Option<Scratch>,
    /// What has been pushed since the last reset.
    stream: Stream,
}

/// A stream being counted. Settled pieces are only a number; the text from
/// the first unsettled piece on is kept, with a resumable search for each
/// unsettled piece (one or two in practice).
#[derive(Default)]
struct Stream {
    /// The stream's text (lossy UTF-8) from absolute offset `origin` on.
    text: Vec<u8>,
    /// Absolute offset of `text[0]` (bytes since the last reset).
    origin: usize,
    /// Absolute offset of the first unsettled piece.
    settled_end: usize,
    /// Tokens of all settled pieces.
    settled: u64,
    /// Searches for the unsettled pieces in stream order, each starting where
    /// the previous piece ends if the stream ends now.
    searches: Vec<Search>,
}

impl Drop for StreamCounter {
    /// Gives the caches back to the pool.
    fn drop(&mut self) {
        let Some(engine) = self.engine else {
            return;
        };
        let mut pool = engine.pool();
        if pool.len() < POOL {
            pool.extend(self.scratch.take());
        }
    }
}

impl Counter for StreamCounter {
    /// Appends `text` and returns the exact count of the whole stream so far.
    ///
    /// Requires whole UTF-8 characters: a caller reading bytes must hold an
    /// incomplete sequence at the end of its chunk back for the next push (a
    /// split character would count as U+FFFD twice). Amortized work is
    /// linear in `text`, even inside a long piece.
    fn push(&mut self, text: &[u8]) -> u64 {
        if text.is_empty() && self.engine.is_none() {
            return 0;
        }
        let engine = *self.engine.get_or_insert_with(|| self.exact.engine());
        let Scratch { cache, memo } = self.scratch.get_or_insert_with(|| Scratch::take(engine));
        let stream = &mut self.stream;
        stream
            .text
            .extend_from_slice(String::from_utf8_lossy(text).as_bytes());
        let (origin, end) = (stream.origin, stream.origin + stream.text.len());
        let mut scan = Scan {
            dfa: &engine.dfa,
            cache,
            text: &stream.text,
            origin,
        };
        let (searches, mut pos, mut index, mut open) =
            (&mut stream.searches, stream.settled_end, 0, 0);
        while pos < end {
            if searches.get(index).is_none_or(|search| search.start != pos) {
                searches.truncate(index);
                searches.push(Search::new(&mut scan, pos));
            }
            let search = &mut searches[index];
            search.advance(&mut scan);
            let piece_end = search.piece_end(&mut scan, end);
            let tokens = search.tokens(engine.bpe, memo, scan.slice(pos, piece_end));
            if index == 0 && search.dead {
                // Neither its match nor its start can change any more.
                (stream.settled, stream.settled_end) = (stream.settled + tokens, piece_end);
                searches.remove(0);
            } else {
                (open, index) = (open + tokens, index + 1);
            }
            pos = piece_end;
        }
        searches.truncate(index);
        let unused = stream.settled_end - stream.origin;
        if unused >= COMPACT && unused >= stream.text.len() / 2 {
            stream.text.drain(..unused);
            stream.origin = stream.settled_end;
        }
        stream.settled + open
    }

    /// Forgets the stream; keeps the caches and buffers.
    fn reset(&mut self) {
        let stream = &mut self.stream;
        (stream.origin, stream.settled_end, stream.settled) = (0, 0, 0);
        stream.text.clear();
        stream.searches.clear();
    }
}

/// What searches read during one push: the lazy DFA with its cache, and the
/// buffered text, whose first byte is at absolute offset `origin`.
struct Scan<'a> {
    /// The pre-tokenizer.
    dfa: &'a DFA,
    /// Its states, shared by all searches of the stream.
    cache: &'a mut Cache,
    /// The stream's buffered text.
    text: &'a [u8],
    /// Absolute offset of `text[0]`.
    origin: usize,
}

impl Scan<'_> {
    /// The text between two absolute offsets.
    fn slice(&self, from: usize, to: usize) -> &[u8] {
        &self.text[from - self.origin..to - self.origin]
    }

    /// The anchored start state. No look-behind: each piece is split as if
    /// it began a text, as bpe-openai does.
    fn start_state(&mut self) -> LazyStateID {
        let config = start::Config::new().anchored(Anchored::Yes);
        (self.dfa.start_state(self.cache, &config)).expect("no look-behind, no quit bytes")
    }

    /// End of the match that `state` reports at absolute offset `at`: `at`,
    /// or one character less for [`LOOKAHEAD`].
    #[inline]
    fn match_end(&self, state: LazyStateID, at: usize) -> usize {
        // Only a match ending in whitespace can be LOOKAHEAD's; asking the
        // DFA which pattern matched is slow, so most matches skip it.
        let before = self.text[at - self.origin - 1];
        if (before < 0x80 && !matches!(before, b'\t'..=b'\r' | b' '))
            || self.dfa.match_pattern(self.cache, state, 0).as_usize() != 1
        {
            return at;
        }
        let text = &self.text[..at - self.origin];
        self.origin
            + text
                .iter()
                .rposition(|&byte| byte & 0xC0 != 0x80)
                .unwrap_or(0)
    }
}

/// One anchored leftmost-first search of the pre-tokenizer from `start`,
/// resumable: it has consumed the text up to `scanned`.
struct Search {
    /// Absolute offset where the piece starts.
    start: usize,
    /// Absolute offset of the next byte to consume.
    scanned: usize,
    /// The DFA state after consuming `start..scanned`.
    state: LazyStateID,
    /// The cache's clear count when `state` was saved: if it differs now,
    /// `state` is stale and the search starts over.
    clears: usize,
    /// End of the best match in the consumed text (LOOKAHEAD's given back).
    best: Option<usize>,
    /// No more text can change the match: the piece is final.
    dead: bool,
    /// The piece end last counted, and its token count.
    counted: Option<(usize, u64)>,
    /// The count of every prefix of a long piece that keeps changing.
    encoder: Option<AppendableEncoder<'static>>,
}

impl Search {
    /// A search for the piece starting at absolute offset `start`.
    fn new(scan: &mut Scan, start: usize) -> Search {
        let (state, clears) = (scan.start_state(), scan.cache.clear_count());
        let (best, counted, encoder) = (None, None, None);
        Search {
            start,
            scanned: start,
            state,
            clears,
            best,
            dead: false,
            counted,
            encoder,
        }
    }

    /// Consumes the text to its end, or until the DFA dies.
    fn advance(&mut self, scan: &mut Scan) {
        if self.dead {
            return;
        }
        if self.clears != scan.cache.clear_count() {
            (self.state, self.scanned, self.best) = (scan.start_state(), self.start, None);
        }
        for &byte in &scan.text[self.scanned - scan.origin..] {
            self.state = (scan.dfa.next_state(scan.cache, self.state, byte))
                .expect("a lazy DFA without a clear limit never gives up");
            if self.state.is_tagged() {
                if self.state.is_match() {
                    // Matches are reported one byte late: this one ends here.
                    self.best = Some(scan.match_end(self.state, self.scanned));
                } else if self.state.is_dead() {
                    self.dead = true;
                    break;
                }
            }
            self.scanned += 1;
        }
        self.clears = scan.cache.clear_count();
    }

    /// Where the piece ends if the stream ends at absolute offset `end`, which
    /// the search has reached unless it is dead.
    fn piece_end(&self, scan: &mut Scan, end: usize) -> usize {
        let at_end = if self.dead {
            None
        } else {
            // This may clear the cache; `clears` then restarts the search.
            let eoi = (scan.dfa.next_eoi_state(scan.cache, self.state))
                .expect("a lazy DFA without a clear limit never gives up");
            eoi.is_match().then(|| scan.match_end(eoi, end))
        };
        // Every character matches some pattern: no piece is empty.
        let piece_end = at_end
            .or(self.best)
            .filter(|&piece_end| piece_end > self.start);
        piece_end.expect("every character matches a pre-tokenizer pattern")
    }

    /// The token count of `piece`, which starts at `start`: short pieces
    /// through the memo, long ones once, or per prefix if they keep changing.
    fn tokens(&mut self, bpe: &'static BytePairEncoding, memo: &mut Memo, piece: &[u8]) -> u64 {
        let end = self.start + piece.len();
        let tokens = match self.counted {
            Some((counted_end, tokens)) if counted_end == end => return tokens,
            _ if piece.len() <= SHORT && self.encoder.is_none() => memo.count(bpe, piece),
            None => bpe.count(piece) as u64,
            Some(_) => {
                // Recounting a growing piece on each push would be quadratic.
                let encoder = self
                    .encoder
                    .get_or_insert_with(|| AppendableEncoder::new(bpe));
                encoder.truncate(piece.len());
                encoder.extend(piece[encoder.len()..].iter().copied());
                encoder.token_count() as u64
            }
        };
        self.counted = Some((end, tokens));
        tokens
    }
}

/// A bounded memo of short pieces' token counts: prose repeats its words,
/// and a hit costs a hash instead of a BPE run. Two-way set associative,
/// most recent first, a cache line per set.
#[derive(Default)]
struct Memo {
    /// Allocated on first use; empty slots have `len` 0 (no piece is empty).
    sets: Vec<Set>,
}

/// The two slots that one hash selects.
#[derive(Clone, Copy, Default)]
#[repr(align(64))]
struct Set([Slot; 2]);

/// One remembered piece.
#[derive(Clone, Copy, Default)]
struct Slot {
    /// Length of the piece, 0 for an empty slot.
    len: u8,
    /// Its token count.
    tokens: u8,
    /// The piece, then zeros.
    bytes: [u8; SHORT],
}

impl Memo {
    /// The token count of `piece`, at most [`SHORT`] bytes long.
    fn count(&mut self, bpe: &BytePairEncoding, piece: &[u8]) -> u64 {
        if self.sets.is_empty() {
            self.sets = vec![Set::default(); SETS];
        }
        let mut hash = piece.len() as u64;
        for word in piece.chunks(8) {
            let mut bytes = [0; 8];
            bytes[..word.len()].copy_from_slice(word);
            hash = (hash.rotate_left(5) ^ u64::from_le_bytes(bytes))
                .wrapping_mul(0x517c_c1b7_2722_0a95);
        }
        let Set(slots) = &mut self.sets[(hash >> 40) as usize % SETS];
        let holds = |slot: &Slot| {
            usize::from(slot.len) == piece.len() && slot.bytes[..piece.len()] == *piece
        };
        if !holds(&slots[0]) {
            if !holds(&slots[1]) {
                // A piece of n bytes has at most n tokens: both fit in a u8.
                slots[1] = Slot {
                    len: piece.len() as u8,
                    tokens: bpe.count(piece) as u8,
                    bytes: [0; SHORT],
                };
                slots[1].bytes[..piece.len()].copy_from_slice(piece);
            }
            slots.swap(0, 1);
        }
        u64::from(slots[0].tokens)
    }
}

#[cfg(test)]
#[path = "exact_tests.rs"]
mod tests;
