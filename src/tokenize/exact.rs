//! Exact OpenAI token counts (o200k_base, cl100k_base) over a stream.
//!
//! Invariant: after every push the count equals tiktoken's count of all the
//! text pushed so far. A pre-tokenizer piece that did not need the end of the
//! text to be decided can never change, so it is counted once and dropped;
//! only the text from the first open piece on is kept and split again.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

use super::cache::{Cache, Counting, Key, LONG, SHORT};
use super::split::{self, Split};
use super::vocabulary::{Appendable, Vocabulary};
use super::{Counter, Encoding, Tokenizer, parallel, workers};

/// Most caches an engine keeps for its next counters (one per thread of a
/// parallel count, a few counters in turn).
const POOL: usize = 8;

/// Bytes of a push joined to the open pieces before the rest is counted in
/// place.
const JOIN: usize = 64;

/// Pushes on which an open piece longer than [`LONG`] is merged afresh.
/// Open on more (it is growing), it is counted a byte at a time by an
/// [`Appendable`], so a long piece arriving in small pushes costs what its
/// bytes cost, not its length times the pushes; one that settles within a
/// few pushes (a line of dashes at the end of a chunk of lines) never
/// builds the tables an `Appendable` needs (a pass over the vocabulary and
/// a MiB of memory).
const FRESH: u8 = 4;

/// Exact token counts in an OpenAI encoding. Cheap to construct: the
/// vocabulary, a table compiled into the binary, is mapped by the first
/// counter (a few slice casts).
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

    /// The token count of `text` as a whole stream, counted on up to
    /// `threads` threads: the text is cut where a piece must end (a newline
    /// before an ASCII letter or digit) and the parts are counted apart.
    /// Invalid UTF-8 counts as U+FFFD, as in a stream.
    pub fn count_parallel(&self, text: &[u8], threads: usize) -> u64 {
        let engine = self.engine();
        let text = String::from_utf8_lossy(text);
        let mut cache = engine.take_cache(Counting::Alone);
        let tokens = parallel::count(engine, &mut cache, text.as_bytes(), threads);
        engine.give_cache(cache);
        tokens
    }

    /// The encoding's engine, built on first use (microseconds); a caller
    /// that comes while another thread builds it waits for that build.
    pub(super) fn engine(&self) -> &'static Engine {
        let (cell, _) = self.slot();
        cell.get_or_init(|| {
            wait_for_test_gate();
            Engine::new(self.encoding)
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

/// The environment variable naming the test gate of [`wait_for_test_gate`].
const TEST_GATE: &str = "TOKMETER_TEST_VOCABULARY_GATE";

/// Holds the vocabulary's load back until the file named by
/// `TOKMETER_TEST_VOCABULARY_GATE` exists, so tests can show that output
/// does not wait for the load. Unset (always, outside tests), it costs one
/// environment look-up per load.
fn wait_for_test_gate() {
    let Some(gate) = std::env::var_os(TEST_GATE) else {
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
    ///
    /// Viewing the tables in place takes microseconds, so this loads on the
    /// calling thread and the stream never waits; only a test holding the
    /// load back (`TOKMETER_TEST_VOCABULARY_GATE`) gets a thread.
    fn prepare_in_background(&self) {
        let (cell, started) = self.slot();
        if cell.get().is_some() || started.swap(true, Ordering::Relaxed) {
            return;
        }
        if std::env::var_os(TEST_GATE).is_none() {
            self.engine();
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
        Box::new(self.stream_counter())
    }
}

impl Exact {
    /// A counter at zero.
    fn stream_counter(self) -> StreamCounter {
        StreamCounter {
            exact: self,
            engine: None,
            cache: None,
            open: Vec::new(),
            settled: 0,
            open_tokens: 0,
            growing: Vec::new(),
            alone: false,
        }
    }
}

/// One encoding's vocabulary and pre-tokenizer, and the warm caches of
/// dropped counters.
pub(super) struct Engine {
    /// Token ranks, in the binary.
    pub(super) vocabulary: Vocabulary,
    /// The encoding's pre-tokenizer.
    pub(super) split: Split,
    /// At most [`POOL`] caches: a new cache is cold.
    pool: Mutex<Vec<Cache>>,
}

impl Engine {
    /// The encoding's tables, viewed in place.
    fn new(encoding: Encoding) -> Engine {
        let split: Split = match encoding {
            Encoding::O200kBase => split::o200k,
            Encoding::Cl100kBase => split::cl100k,
        };
        Engine {
            vocabulary: Vocabulary::new(encoding),
            split,
            pool: Mutex::new(Vec::new()),
        }
    }

    /// The pool, even after a panic elsewhere: caches are valid whatever
    /// happened while one was taken out or put back.
    fn pool(&self) -> MutexGuard<'_, Vec<Cache>> {
        workers::lock(&self.pool)
    }

    /// A pooled cache if there is one, else a new one, for a thread
    /// `counting` alone or beside another.
    pub(super) fn take_cache(&self, counting: Counting) -> Cache {
        self.pool().pop().unwrap_or_default().counting(counting)
    }

    /// Gives a cache back for later counters.
    pub(super) fn give_cache(&self, cache: Cache) {
        let mut pool = self.pool();
        if pool.len() < POOL {
            pool.push(cache);
        }
    }

    /// The token count of the piece `text[at..end]`.
    #[inline]
    pub(super) fn piece(&self, cache: &mut Cache, text: &[u8], at: usize, end: usize) -> u64 {
        let len = end - at;
        if len <= SHORT {
            cache.count(&self.vocabulary, text, at, end)
        } else if len <= LONG {
            cache.count_long(&self.vocabulary, &text[at..end])
        } else {
            self.vocabulary.count(&text[at..end])
        }
    }

    /// The token count of `text` (valid UTF-8) as a whole stream that ends
    /// there.
    pub(super) fn count_whole(&self, cache: &mut Cache, text: &[u8]) -> u64 {
        self.count_pieces(cache, text, true).1
    }

    /// Counts the pieces of `text` (valid UTF-8) from its start, up to the
    /// first open one unless `whole`: returns where it stopped and the
    /// tokens. Pieces are split [`AHEAD`] ahead of the one counted, their
    /// cache slots prefetched, so each probe finds its slot loaded.
    fn count_pieces(&self, cache: &mut Cache, text: &[u8], whole: bool) -> (usize, u64) {
        const AHEAD: usize = 8;
        let (mut queue, mut queued, mut next) = ([(0, None); AHEAD], 0, 0);
        let (mut at, mut split_to, mut tokens, mut open) = (0, 0, 0, false);
        loop {
            while queued < AHEAD && !open && split_to < text.len() {
                let piece = (self.split)(text, split_to);
                if piece.open && !whole {
                    open = true;
                    break;
                }
                let key =
                    (piece.end - split_to <= SHORT).then(|| Key::new(text, split_to, piece.end));
                if let Some(key) = &key {
                    cache.prefetch(key);
                }
                queue[(next + queued) % AHEAD] = (piece.end, key);
                (split_to, queued) = (piece.end, queued + 1);
            }
            if queued == 0 {
                return (at, tokens);
            }
            let (end, key) = queue[next];
            tokens += match key {
                Some(key) => cache.count_key(&self.vocabulary, &text[at..end], key),
                None => self.piece(cache, text, at, end),
            };
            (at, next, queued) = (end, (next + 1) % AHEAD, queued - 1);
        }
    }
}

/// The counter behind [`Exact`].
struct StreamCounter {
    /// The encoding.
    exact: Exact,
    /// The encoding's shared parts, from the first push of text on.
    engine: Option<&'static Engine>,
    /// Taken from the pool on the first push, given back on drop.
    cache: Option<Cache>,
    /// The stream's text (lossy UTF-8) from its first open piece on.
    open: Vec<u8>,
    /// Tokens of the stream before `open`.
    settled: u64,
    /// Tokens of `open` as if the stream ended there (the last push's count
    /// less `settled`).
    open_tokens: u64,
    /// Long open pieces seen on earlier pushes, by their offset in `open`.
    growing: Vec<Growing>,
    /// Whether it counts on this thread only: set while counting a part of
    /// a parallel count, so no part is cut again.
    alone: bool,
}

/// A long piece that stays open across pushes.
struct Growing {
    /// Its offset in the counter's open text.
    at: usize,
    /// Pushes on which it was merged afresh, at most [`FRESH`].
    merged: u8,
    /// Counts of its prefixes, once merged afresh [`FRESH`] times.
    prefixes: Option<Appendable>,
    /// Whether the current push saw it.
    seen: bool,
}

impl Drop for StreamCounter {
    /// Gives the cache back to the pool.
    fn drop(&mut self) {
        if let (Some(engine), Some(cache)) = (self.engine, self.cache.take()) {
            engine.give_cache(cache);
        }
    }
}

impl Counter for StreamCounter {
    /// Appends `text` and returns the exact count of the whole stream so far.
    ///
    /// Requires whole UTF-8 characters: a caller reading bytes must hold an
    /// incomplete sequence at the end of its chunk back for the next push (a
    /// split character would count as U+FFFD twice). A large push is counted
    /// on all cores, cut where a piece must end (see `parallel`). Work is
    /// linear in `text`, except that the open pieces (usually one short one)
    /// are split again on each push.
    fn push(&mut self, text: &[u8]) -> u64 {
        if text.is_empty() && self.engine.is_none() {
            return 0;
        }
        let engine = *self.engine.get_or_insert_with(|| self.exact.engine());
        let cache = self
            .cache
            .get_or_insert_with(|| engine.take_cache(Counting::Alone));
        let text: Cow<[u8]> = match simdutf8::basic::from_utf8(text) {
            Ok(_) => Cow::Borrowed(text),
            Err(_) => Cow::Owned(String::from_utf8_lossy(text).into_owned().into_bytes()),
        };
        let mut text = &text[..];
        if let Some(cut) = parallel::worth_cutting(text).filter(|_| !self.alone) {
            let head: Cow<[u8]> = if self.open.is_empty() {
                Cow::Borrowed(&text[..cut])
            } else {
                Cow::Owned([&self.open[..], &text[..cut]].concat())
            };
            self.settled += parallel::count(engine, cache, &head, parallel::threads());
            self.open.clear();
            self.growing.clear();
            text = &text[cut..];
        }
        if self.open.last() == Some(&b'\n')
            && text.first().is_some_and(|&b| parallel::starts_cut(b))
        {
            // A piece must end at this cut (see `parallel`): the open pieces
            // are final, with the count they had as the stream's end.
            self.settled += self.open_tokens;
            self.open.clear();
            self.growing.clear();
        }
        if !self.open.is_empty() {
            // The open pieces usually settle within the first bytes of the
            // new text: join just those, and count the rest in place.
            let (old, mut take) = (self.open.len(), text.len().min(JOIN));
            while take < text.len() && text[take] & 0xC0 == 0x80 {
                take -= 1; // whole characters only
            }
            self.open.extend_from_slice(&text[..take]);
            let mut at = 0;
            while at < old {
                let piece = (engine.split)(&self.open, at);
                if piece.open {
                    break;
                }
                self.settled += engine.piece(cache, &self.open, at, piece.end);
                at = piece.end;
            }
            if at >= old {
                text = &text[at - old..];
                self.open.clear();
                self.growing.clear();
            } else {
                self.open.extend_from_slice(&text[take..]);
                self.open.drain(..at);
                self.growing.retain_mut(|growing| {
                    growing.at = growing.at.wrapping_sub(at);
                    growing.at < self.open.len()
                });
                text = &[];
            }
        }
        let from_open = !self.open.is_empty();
        if from_open {
            self.open.extend_from_slice(text);
        }
        let buffer = if from_open { &self.open[..] } else { text };
        let (settled_len, settled, open) = count_stream(engine, cache, buffer, &mut self.growing);
        self.settled += settled;
        if from_open {
            self.open.drain(..settled_len);
        } else {
            self.open.extend_from_slice(&text[settled_len..]);
        }
        self.growing.retain_mut(|growing| {
            growing.at -= settled_len;
            std::mem::take(&mut growing.seen)
        });
        self.open_tokens = open;
        self.settled + open
    }

    /// Lines are pushed only where the count might drop after them, and a
    /// long run is cut where a piece must end and counted on all cores (see
    /// [`StreamCounter::push_lines`]).
    fn push_chunks(&mut self, text: &[u8], delimiter: u8) -> u64 {
        if delimiter != b'\n' {
            return super::push_each(self, text, delimiter);
        }
        self.push_lines(text)
    }

    /// Forgets the stream; keeps the cache and buffers.
    fn reset(&mut self) {
        self.open.clear();
        self.settled = 0;
        self.open_tokens = 0;
        self.growing.clear();
    }
}

/// Splits and counts `buffer`, which starts at a piece boundary: returns
/// the length of its leading settled pieces, their tokens, and the tokens
/// of the open pieces after them. Long open pieces are counted through
/// `growing`, whose entries are marked `seen` when used.
fn count_stream(
    engine: &Engine,
    cache: &mut Cache,
    buffer: &[u8],
    growing: &mut Vec<Growing>,
) -> (usize, u64, u64) {
    let (settled_len, settled) = engine.count_pieces(cache, buffer, false);
    let (mut at, mut open) = (settled_len, 0);
    while at < buffer.len() {
        let end = (engine.split)(buffer, at).end;
        let bytes = &buffer[at..end];
        open += if bytes.len() <= LONG {
            engine.piece(cache, buffer, at, end)
        } else {
            count_growing(engine, growing, at, bytes)
        };
        at = end;
    }
    (settled_len, settled, open)
}

/// The token count of the long open piece `bytes` at offset `at`.
fn count_growing(engine: &Engine, growing: &mut Vec<Growing>, at: usize, bytes: &[u8]) -> u64 {
    let entry = match growing.iter_mut().position(|growing| growing.at == at) {
        Some(index) => &mut growing[index],
        None => {
            growing.push(Growing {
                at,
                merged: 0,
                prefixes: None,
                seen: false,
            });
            growing.last_mut().expect("just pushed")
        }
    };
    entry.seen = true;
    if entry.merged < FRESH {
        entry.merged += 1;
        return engine.vocabulary.count(bytes);
    }
    let prefixes = entry.prefixes.get_or_insert_with(Appendable::default);
    prefixes.count(&engine.vocabulary, bytes)
}

#[path = "exact_lines.rs"]
mod lines;

#[cfg(test)]
#[path = "exact_tests.rs"]
mod tests;
