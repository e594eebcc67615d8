//! Counting one large text on all cores: the text is cut where a piece must
//! end in both encodings, and the parts are counted apart and added up.
//!
//! Invariant: a cut is a newline followed by an ASCII letter or digit. No
//! pre-tokenizer alternative matches across it (only CR/LF runs, whitespace
//! runs and a punctuation run's CR/LF tail take a newline, and each stops
//! before a letter or digit), and the split has no look-behind, so the
//! count of the whole is the sum of the parts' counts.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use super::cache::{Cache, Counting};
use super::exact::Engine;
use super::workers;

/// Pushes at least this long are worth counting in parallel.
const PARALLEL_MIN: usize = 256 << 10;

/// Runs of lines at least this long are worth counting in parallel (a
/// read from a file, up to 512 KiB, is one such run).
const RUN_MIN: usize = 128 << 10;

/// Parts shorter than this are not worth a thread.
const PART_MIN: usize = 16 << 10;

/// The number of threads a parallel count uses: the cores available.
pub(super) fn threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// Whether `byte` may follow a newline at a cut.
pub(super) fn starts_cut(byte: u8) -> bool {
    byte.is_ascii_alphanumeric()
}

/// Whether a newline followed by `rest` ends its pre-tokenizer piece in
/// both encodings, with the pieces before it the same as if the text ended
/// at the newline, decided by `rest` up to its first character that is not
/// a space or tab: a printable ASCII character, and not `/` right after
/// the newline.
///
/// Only whitespace pieces and a punctuation piece's tail (`[\r\n]*`, and
/// `/` in o200k_base) run on past a newline. Before spaces and a character
/// that is no whitespace, `\s*[\r\n]+` (tried before `\s+(?!\S)`) ends at
/// the newline, and a punctuation tail stops at a space or at a character
/// other than `/` and line breaks. No piece that starts after the newline
/// reaches back over it. So the count of the text up to the newline is a
/// part of every count of the text past the next line break.
pub(super) fn newline_settles(rest: &[u8]) -> bool {
    let blanks = rest
        .iter()
        .take_while(|&&byte| byte == b' ' || byte == b'\t')
        .count();
    rest.get(blanks)
        .is_some_and(|&byte| byte.is_ascii_graphic() && (blanks > 0 || byte != b'/'))
}

/// The last cut in `text` (the offset of the letter or digit after a
/// newline) if `text` is long enough to count in parallel and there is
/// more than one core.
pub(super) fn worth_cutting(text: &[u8]) -> Option<usize> {
    if text.len() < PARALLEL_MIN || threads() < 2 {
        return None;
    }
    memchr::memrchr_iter(b'\n', text)
        .find(|&at| text.get(at + 1).is_some_and(|&byte| starts_cut(byte)))
        .map(|at| at + 1)
}

/// Where to cut a run of lines `text` to count it on all cores (see
/// [`cuts`]), if it is long enough and there is more than one core.
pub(super) fn run_parts(text: &[u8]) -> Option<Vec<usize>> {
    if text.len() < RUN_MIN || threads() < 2 {
        return None;
    }
    let bounds = cuts(text, threads() * PARTS_PER_THREAD, PART_MIN);
    (bounds.len() > 2).then_some(bounds)
}

/// The first cut at or after `from`, if any.
fn cut_from(text: &[u8], from: usize) -> Option<usize> {
    if from >= text.len() {
        return None;
    }
    memchr::memchr_iter(b'\n', &text[from.saturating_sub(1)..])
        .map(|at| at + from.saturating_sub(1) + 1)
        .find(|&at| at >= from && text.get(at).is_some_and(|&byte| starts_cut(byte)))
}

/// Where to cut `text` into about `parts` parts of at least `part_min`
/// bytes: the part boundaries, 0 and `text.len()` included.
fn cuts(text: &[u8], parts: usize, part_min: usize) -> Vec<usize> {
    let mut bounds = vec![0];
    let size = (text.len() / parts.max(1)).max(part_min);
    while let Some(cut) = cut_from(text, bounds[bounds.len() - 1] + size) {
        if bounds.len() == parts || text.len() - cut < part_min {
            break;
        }
        bounds.push(cut);
    }
    bounds.push(text.len());
    bounds
}

/// The token count of `text` (valid UTF-8) as a whole stream ending there,
/// on up to `threads` threads; `cache` serves the calling thread, the
/// others take caches from the engine's pool.
pub(super) fn count(
    engine: &'static Engine,
    cache: &mut Cache,
    text: &[u8],
    threads: usize,
) -> u64 {
    let bounds = cuts(text, threads * PARTS_PER_THREAD, PART_MIN);
    count_parts(engine, cache, text, &bounds, threads)
}

/// Parts per thread: threads take the next part when done with one, so a
/// thread the system runs less (a busy core) holds the others up by one
/// small part at most.
const PARTS_PER_THREAD: usize = 8;

/// The token count of `text`, its parts between `bounds` (cuts, with 0 and
/// `text.len()`) counted by the calling thread, with `cache`, and up to
/// `threads - 1` others, with caches from the engine's pool.
fn count_parts(
    engine: &'static Engine,
    cache: &mut Cache,
    text: &[u8],
    bounds: &[usize],
    threads: usize,
) -> u64 {
    let parts: Vec<&[u8]> = bounds.windows(2).map(|w| &text[w[0]..w[1]]).collect();
    let count = |cache: &mut Cache, index: usize| engine.count_whole(cache, parts[index]);
    let (tokens, helpers) = each_part(
        parts.len(),
        threads,
        cache,
        || engine.take_cache(Counting::BesideAnother),
        |cache| count(cache, 0),
        count,
    );
    for (cache, _) in helpers {
        engine.give_cache(cache);
    }
    tokens.iter().sum()
}

/// Counts `parts` parts: the first by `first` on the calling thread, with
/// `here`; then every other by `rest`, on the calling thread and on up to
/// `threads - 1` workers (each with a state `new` makes), each taking the
/// next part until none is left. Returns the parts' results in order, and
/// each worker's state with the last part it counted.
pub(super) fn each_part<S: Send, R: Send>(
    parts: usize,
    threads: usize,
    here: &mut S,
    new: impl Fn() -> S + Sync,
    first: impl FnOnce(&mut S) -> R,
    rest: impl Fn(&mut S, usize) -> R + Sync,
) -> (Vec<R>, Vec<(S, Option<usize>)>) {
    let next = AtomicUsize::new(1);
    let work = |state: &mut S, results: &mut Vec<(usize, R)>| {
        while let Some(index) = Some(next.fetch_add(1, Ordering::Relaxed)).filter(|&i| i < parts) {
            results.push((index, rest(state, index)));
        }
    };
    let helpers = threads.min(parts).saturating_sub(1);
    let done: Vec<Mutex<Option<WorkerDone<S, R>>>> =
        (0..helpers).map(|_| Mutex::new(None)).collect();
    let task = |helper: usize| {
        let (mut state, mut results) = (new(), Vec::new());
        work(&mut state, &mut results);
        let last = results.last().map(|&(index, _)| index);
        *workers::lock(&done[helper]) = Some((results, state, last));
    };
    let mut results = workers::lend(helpers, &task, || {
        let mut results = vec![(0, first(here))];
        work(here, &mut results);
        results
    });
    let mut states = Vec::with_capacity(helpers);
    for (more, state, last) in done
        .into_iter()
        .filter_map(|done| done.into_inner().unwrap_or_else(PoisonError::into_inner))
    {
        results.extend(more);
        states.push((state, last));
    }
    results.sort_unstable_by_key(|&(index, _)| index);
    (
        results.into_iter().map(|(_, result)| result).collect(),
        states,
    )
}

/// What a worker of [`each_part`] leaves: its parts' results, its state,
/// and the last part it counted.
type WorkerDone<S, R> = (Vec<(usize, R)>, S, Option<usize>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenize::{Exact, Tokenizer};
    use proptest::prelude::*;

    /// Lines that start with letters, digits and everything else.
    fn text() -> impl Strategy<Value = String> {
        let line = prop::sample::select(vec![
            "Hello",
            "1999",
            " indented",
            "\t",
            "",
            "/* c */",
            "a'",
            "x  ",
            "=== ",
            "漢字",
            "\r",
            "s",
            "'s",
            "  \n",
            "!",
            "Ω",
            "é",
        ]);
        prop::collection::vec(prop::collection::vec(line, 0..4), 0..40).prop_map(|lines| {
            lines
                .iter()
                .map(|words| words.concat())
                .collect::<Vec<_>>()
                .join("\n")
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(if cfg!(debug_assertions) { 200 } else { 3_000 }))]

        /// Cut at every cut point, or into a few parts, the parts' counts add
        /// up to the whole text's count.
        #[test]
        fn parts_add_up(text in text(), parts in 1..5usize) {
            for exact in [Exact::o200k_base(), Exact::cl100k_base()] {
                let engine = exact.engine();
                let mut cache = Cache::default();
                let whole = engine.count_whole(&mut cache, text.as_bytes());
                let reference = match exact.name() {
                    "o200k_base" => bpe_openai::o200k_base(),
                    _ => bpe_openai::cl100k_base(),
                };
                prop_assert_eq!(whole, reference.count(text.as_str()) as u64);
                let every: Vec<usize> = std::iter::once(0)
                    .chain((1..text.len()).filter(|&at| {
                        text.as_bytes()[at - 1] == b'\n' && starts_cut(text.as_bytes()[at])
                    }))
                    .chain([text.len()])
                    .collect();
                prop_assert_eq!(count_parts(engine, &mut cache, text.as_bytes(), &every, 3), whole);
                let bounds = cuts(text.as_bytes(), parts, 1);
                prop_assert!(bounds.len() <= parts + 1);
                prop_assert_eq!(count_parts(engine, &mut cache, text.as_bytes(), &bounds, parts), whole);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(if cfg!(debug_assertions) { 200 } else { 3_000 }))]

        /// Where [`newline_settles`] holds, the text up to the newline counts
        /// apart from what follows, for any end past the character that
        /// decided it: the count there is a part of every later count.
        #[test]
        fn a_settled_newline_counts_apart(text in crate::tokenize::ragged_text()) {
            let bytes = text.as_bytes();
            for exact in [Exact::o200k_base(), Exact::cl100k_base()] {
                let engine = exact.engine();
                let mut cache = Cache::default();
                let mut count = |text: &[u8]| engine.count_whole(&mut cache, text);
                for at in (1..bytes.len()).filter(|&at| bytes[at - 1] == b'\n') {
                    if !newline_settles(&bytes[at..]) {
                        continue;
                    }
                    let decided = at + bytes[at..].iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(0);
                    let ends = (decided + 1..=bytes.len())
                        .filter(|&end| end == bytes.len() || bytes[end - 1] == b'\n');
                    let head = count(&bytes[..at]);
                    for end in ends {
                        prop_assert_eq!(
                            count(&bytes[..end]),
                            head + count(&bytes[at..end]),
                            "{:?}: cut at {}, end {}", text, at, end
                        );
                    }
                }
            }
        }
    }

    /// Each part is counted once, by this thread or a worker, whatever the
    /// number of threads, and the results come back in order; the workers'
    /// states come back with the last part each counted.
    #[test]
    fn each_part_counts_every_part_once() {
        for threads in 1..5 {
            for parts in 1..40 {
                let calls: Vec<AtomicUsize> = (0..parts).map(|_| AtomicUsize::new(0)).collect();
                let mut here = Vec::new();
                let (results, states) = each_part(
                    parts,
                    threads,
                    &mut here,
                    Vec::new,
                    |state| {
                        calls[0].fetch_add(1, Ordering::Relaxed);
                        state.push(0);
                        0
                    },
                    |state, index| {
                        calls[index].fetch_add(1, Ordering::Relaxed);
                        state.push(index);
                        index * 10
                    },
                );
                assert_eq!(
                    results,
                    (0..parts).map(|index| index * 10).collect::<Vec<_>>()
                );
                assert!(calls.iter().all(|calls| calls.load(Ordering::Relaxed) == 1));
                assert!(states.len() < threads);
                let mut counted: Vec<usize> = here.clone();
                for (state, last) in &states {
                    assert_eq!(state.last().copied(), *last);
                    counted.extend(state);
                }
                counted.sort_unstable();
                assert_eq!(counted, (0..parts).collect::<Vec<_>>());
            }
        }
    }

    /// A panic while counting a part reaches the caller, and the workers
    /// count the next parts as before; a part that counts in parts itself
    /// (nested) counts on its own thread instead of waiting for the
    /// workers it runs on.
    #[test]
    fn a_panic_reaches_the_caller_and_nesting_counts_alone() {
        let panicked = std::panic::catch_unwind(|| {
            each_part(
                64,
                2,
                &mut (),
                || (),
                |_| 0,
                |_, index| {
                    assert!(index != 40, "part 40");
                    index
                },
            )
        });
        assert!(panicked.is_err());
        let nested = |_: &mut (), index: usize| {
            let (inner, _) = each_part(8, 2, &mut (), || (), |_| 0, |_, inner| inner);
            index * 100 + inner.iter().sum::<usize>()
        };
        let (results, _) = each_part(16, 2, &mut (), || (), |_| 28, nested);
        assert_eq!(results[0], 28);
        assert!((1..16).all(|index| results[index] == index * 100 + 28));
    }

    /// Parts counted from several threads at once (each lending to the
    /// workers in turn, or counting alone) come back whole and in order.
    #[test]
    fn callers_at_once_each_get_their_parts() {
        std::thread::scope(|scope| {
            for caller in 0..4 {
                scope.spawn(move || {
                    for round in 0..50 {
                        let (results, _) = each_part(
                            20,
                            2,
                            &mut (),
                            || (),
                            |_| caller,
                            |_, index| caller + index * round,
                        );
                        assert_eq!(results[0], caller);
                        assert!((1..20).all(|index| results[index] == caller + index * round));
                    }
                });
            }
        });
    }

    /// A push large enough to be counted in parallel counts what a stream
    /// of small pushes does, and so does the public parallel count.
    #[test]
    fn large_pushes_count_as_small_ones() {
        let line = "The quick brown fox's 42 jumps — über 漢字 😀\n\n  indented\tcode();\n";
        let text = line.repeat(3 * PARALLEL_MIN / line.len());
        for exact in [Exact::o200k_base(), Exact::cl100k_base()] {
            let mut small = exact.counter();
            let mut running = 0;
            for piece in text.split_inclusive('\n') {
                running = small.push(piece.as_bytes());
            }
            assert_eq!(exact.count(text.as_bytes()), running);
            for threads in 1..4 {
                assert_eq!(exact.count_parallel(text.as_bytes(), threads), running);
            }
            let mut large = exact.counter();
            let middle = (text.len() / 2..).find(|&at| text.is_char_boundary(at));
            let (head, tail) = text.split_at(middle.unwrap_or(0));
            assert_eq!(large.push(head.as_bytes()), exact.count(head.as_bytes()));
            assert_eq!(large.push(tail.as_bytes()), running);
        }
    }
}
