//! Tests of the exact tokenizers: tiktoken's golden counts, and running
//! counts equal to whole-prefix counts however the stream is cut.

use super::*;
use proptest::prelude::*;
use std::sync::OnceLock;

/// The golden samples (counts from OpenAI's tiktoken), read at run time
/// from the repository's fixtures.
const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/tokenizer/golden_samples.jsonl"
);

/// Constructing a tokenizer is const, so it cannot load a vocabulary.
const BOTH: [Exact; 2] = [Exact::o200k_base(), Exact::cl100k_base()];

/// Pieces of text that stress the pre-tokenizers' boundaries, split at
/// commas.
const ATOMS: &str = concat!(
    "hello,World,HTTP,it,don,it's,I'm,you're,isn't,ſ,e\u{301},'s,','ll,'RE,'t, ,  ,   ,",
    "\n,\n\n,\r\n,\t,\u{a0},\u{3000},1,12,12345,٣,!,...,/,==,-,<|,|>,<|endoftext|>,",
    "漢字,日本語,한국어,😀,👍🏽,\u{FFFD},\0,Ω,привет",
);

/// [`ATOMS`], one at a time.
fn atom() -> impl Strategy<Value = &'static str> {
    prop::sample::select(ATOMS.split(',').collect::<Vec<_>>())
}

/// `(text, [o200k_base count, cl100k_base count])` for each golden line.
fn golden() -> &'static [(String, [u64; 2])] {
    static SAMPLES: OnceLock<Vec<(String, [u64; 2])>> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        let file = std::fs::read_to_string(GOLDEN).expect("golden samples are readable");
        let parse = |line| {
            let value: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            let count = |key| value[key].as_u64().expect("a count");
            let text = value["text"].as_str().expect("a text").to_owned();
            (text, [count("o200k_base"), count("cl100k_base")])
        };
        file.lines().map(parse).collect()
    })
}

/// `text` cut into pushes of `sizes` bytes (cycled), each widened to the
/// next character boundary.
fn cut<'a>(text: &'a str, sizes: &[usize]) -> Vec<&'a str> {
    let (mut pushes, mut at, mut sizes) = (Vec::new(), 0, sizes.iter().cycle());
    while at < text.len() {
        let mut end = (at + sizes.next().expect("sizes")).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        pushes.push(&text[at..end]);
        at = end;
    }
    pushes
}

/// Pushes `pushes`: after each, the count must be the prefix's counted
/// afresh; at the end, bpe-openai's count of the whole text.
fn check_stream(pushes: &[&str]) -> Result<(), TestCaseError> {
    let whole = pushes.concat();
    let references = [bpe_openai::o200k_base(), bpe_openai::cl100k_base()];
    for (exact, reference) in BOTH.iter().zip(references) {
        let (mut counter, mut prefix) = (exact.counter(), 0);
        for push in pushes {
            prefix += push.len();
            let fresh = exact.count(&whole.as_bytes()[..prefix]);
            prop_assert_eq!(
                counter.push(push.as_bytes()),
                fresh,
                "{:?}",
                &whole[..prefix]
            );
        }
        prop_assert_eq!(counter.push(b""), reference.count(whole.as_str()) as u64);
    }
    Ok(())
}

/// Texts from the golden samples or made of [`ATOMS`].
fn texts() -> impl Strategy<Value = String> {
    prop_oneof![
        (0..golden().len()).prop_map(|index| golden()[index].0.clone()),
        prop::collection::vec(atom(), 0..80).prop_map(|atoms| atoms.concat()),
    ]
}

/// Length of a truncated UTF-8 sequence ending `bytes`, which a caller
/// must hold back until more bytes come.
fn incomplete_tail(bytes: &[u8]) -> usize {
    let truncated = |back| {
        let error = std::str::from_utf8(&bytes[bytes.len() - back..]).err();
        error.is_some_and(|error| error.valid_up_to() == 0 && error.error_len().is_none())
    };
    (1..=bytes.len().min(3))
        .find(|&back| truncated(back))
        .unwrap_or(0)
}

/// Each golden text, whole and pushed a character at a time (checking
/// every prefix of the short ones).
#[test]
fn golden_samples_count_exactly() {
    assert_eq!(
        BOTH.map(|exact| (exact.name(), exact.is_exact())),
        [("o200k_base", true), ("cl100k_base", true)]
    );
    assert_eq!(golden().len(), 3646);
    for (text, want) in golden() {
        assert_eq!(
            BOTH.map(|exact| exact.count(text.as_bytes())),
            *want,
            "{text:?}"
        );
        for (exact, want) in BOTH.iter().zip(want) {
            let mut counter = exact.counter();
            for (at, char) in text.char_indices() {
                let (end, running) = (
                    at + char.len_utf8(),
                    counter.push(char.to_string().as_bytes()),
                );
                if text.len() <= 200 || end == text.len() {
                    assert_eq!(
                        running,
                        exact.count(&text.as_bytes()[..end]),
                        "{:?}",
                        &text[..end]
                    );
                }
            }
            assert_eq!(counter.push(b""), *want, "{} {text:?}", exact.name());
        }
    }
}

/// A reset forgets settled pieces and the open tail alike.
#[test]
fn reset_starts_from_zero() {
    let mut counter = Exact::o200k_base().counter();
    assert_eq!(counter.push(b"hello, it'"), 4);
    counter.reset();
    assert_eq!([counter.push(b"s"), counter.push(b" fine")], [1, 2]);
}

/// Single pieces of 20,000 characters pushed in pieces of 1–8 bytes.
#[test]
fn long_pieces_stay_exact() {
    let letters = (0..20_000u32).map(|i| char::from(b'a' + (i * 7 % 26) as u8));
    let runs = [
        letters.collect(),
        " ".repeat(20_000) + "x",
        format!("x\n{}\n{}", " ".repeat(9_000), "\t".repeat(9_000)),
        "=".repeat(20_000) + "\n\n",
        "漢字仮名交じり文".repeat(1_000),
        "ABCdefGHI".repeat(2_000),
    ];
    let references = [bpe_openai::o200k_base(), bpe_openai::cl100k_base()];
    for (text, (exact, reference)) in runs
        .iter()
        .flat_map(|t| BOTH.iter().zip(references).map(move |e| (t, e)))
    {
        let (mut counter, mut end) = (exact.counter(), 0);
        for (index, push) in cut(text, &[1, 4, 3, 8, 2, 7, 5]).into_iter().enumerate() {
            end += push.len();
            let running = counter.push(push.as_bytes());
            if index % 293 == 0 || end == text.len() {
                assert_eq!(
                    running,
                    reference.count(&text[..end]) as u64,
                    "{}",
                    exact.name()
                );
            }
        }
    }
}

/// A long open piece is merged afresh on its first [`FRESH`] pushes, with
/// no byte-at-a-time tables, and counted through them only on the next:
/// the same counts either way.
#[test]
fn a_long_piece_open_on_a_few_pushes_is_merged_afresh() {
    let engine = Engine::new(Encoding::O200kBase);
    // A table's last line, arriving a few characters at a time.
    let line = format!(" └{}┴{}┘\n", "─".repeat(30), "─".repeat(20));
    let fresh = usize::from(FRESH);
    let mut growing = Vec::new();
    for push in 0..=fresh {
        let chars = line.chars().count() - 3 * (fresh - push);
        let piece = line.chars().take(chars).collect::<String>();
        let piece = piece.as_bytes();
        let count = count_growing(&engine, &mut growing, 0, piece);
        assert_eq!(count, engine.vocabulary.count(piece), "push {push}");
        assert_eq!(
            engine.vocabulary.has_endings(),
            push == fresh,
            "push {push}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(debug_assertions) { 1_000 } else { 10_000 }))]

    /// Pushes of 1–64 bytes, at character boundaries.
    #[test]
    fn pushes_of_1_to_64_bytes(text in texts(), sizes in prop::collection::vec(1..=64usize, 1..16)) {
        check_stream(&cut(&text, &sizes))?;
    }

    /// Pushes of 1–8 bytes, at character boundaries.
    #[test]
    fn token_sized_pushes(text in texts(), sizes in prop::collection::vec(1..=8usize, 1..16)) {
        check_stream(&cut(&text, &sizes))?;
    }

    /// Cuts at any byte, invalid UTF-8 included, the caller holding back
    /// an incomplete sequence at the end of each push as `push` requires.
    #[test]
    fn byte_cuts_holding_back_incomplete_characters(
        parts in prop::collection::vec(prop_oneof![
            atom().prop_map(|atom| atom.as_bytes().to_vec()),
            prop::collection::vec(any::<u8>(), 1..4),
        ], 0..60),
        sizes in prop::collection::vec(1..=64usize, 1..16),
    ) {
        let (bytes, mut sizes) = (parts.concat(), sizes.iter().cycle());
        for exact in BOTH {
            let (mut counter, mut pushed, mut held) = (exact.counter(), Vec::new(), Vec::new());
            while pushed.len() + held.len() < bytes.len() {
                let at = pushed.len() + held.len();
                held.extend_from_slice(&bytes[at..(at + sizes.next().unwrap_or(&1)).min(bytes.len())]);
                let push: Vec<u8> = held.drain(..held.len() - incomplete_tail(&held)).collect();
                pushed.extend_from_slice(&push);
                prop_assert_eq!(counter.push(&push), exact.count(&pushed));
            }
            prop_assert_eq!(counter.push(&held), exact.count(&bytes));
        }
    }
}

proptest! {
    /// A run of lines pushed at once gives the most a line-by-line stream
    /// reached, and leaves the counter where that stream is: the next push
    /// counts the same.
    #[test]
    fn a_run_of_lines_counts_as_its_lines(run in super::super::ragged_text(), next in super::super::ragged_text()) {
        for exact in BOTH {
            let mut lines = exact.counter();
            let most = super::super::push_each(&mut *lines, run.as_bytes(), b'\n');
            let mut counter = exact.stream_counter();
            prop_assert_eq!(counter.push_lines(run.as_bytes()), most, "{:?}", run);
            let whole = [run.as_bytes(), next.as_bytes()].concat();
            prop_assert_eq!(counter.push(next.as_bytes()), exact.count(&whole));
        }
    }
}

proptest! {
    /// A run cut where a piece must end and counted in parts on up to three
    /// threads gives the most its lines gave one by one after the same
    /// stream, and leaves the counter where that stream is.
    #[test]
    fn a_run_in_parts_counts_as_its_lines(
        before in super::super::ragged_text(),
        run in super::super::ragged_text(),
        next in super::super::ragged_text(),
        keep in prop::collection::vec(any::<bool>(), 1..32),
        threads in 1..4usize,
    ) {
        let run = run.as_bytes();
        let cuts = (1..run.len())
            .filter(|&at| run[at - 1] == b'\n' && super::parallel::starts_cut(run[at]))
            .zip(keep.iter().cycle())
            .filter_map(|(at, &keep)| keep.then_some(at));
        let bounds: Vec<usize> = std::iter::once(0).chain(cuts).chain([run.len()]).collect();
        prop_assume!(bounds.len() > 2);
        for exact in BOTH {
            let mut lines = exact.counter();
            lines.push(before.as_bytes());
            let most = super::super::push_each(&mut *lines, run, b'\n');
            let mut counter = exact.stream_counter();
            counter.push(before.as_bytes());
            prop_assert_eq!(counter.push_parts(run, &bounds, threads), most);
            let whole = [before.as_bytes(), run, next.as_bytes()].concat();
            prop_assert_eq!(counter.push(next.as_bytes()), exact.count(&whole));
        }
    }
}
