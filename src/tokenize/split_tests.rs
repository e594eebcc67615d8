//! Tests of the pre-tokenizers: pieces equal the encodings' regexes, closed
//! pieces stay closed, the word scanner ends runs as a byte loop does.

use super::*;
use proptest::prelude::*;

/// Characters of every class the patterns distinguish, and the
/// contractions' letters in their cases.
const ALPHABET: &str = concat!(
    "aZsStTrReEvVlLmMdDſK'' \t\n\r\u{a0}\u{3000}\u{2028}\u{85}\u{1680}\u{b}\u{c}",
    "19٣Ⅻ½!/.-_=<|>\"漢字한😀👍🏽\u{301}\u{20dd}ǅʰªƻ\u{200d}\u{FEFF}\0\u{7f}\u{1b}\u{10FFFF}Ωпß",
);

/// Random text over [`ALPHABET`], with now and then any character.
fn text() -> impl Strategy<Value = String> {
    let chars: Vec<char> = ALPHABET.chars().collect();
    let ascii: Vec<char> = "aAzZsS09 \t\n\r\x0b\x1f\0'/.(_-".chars().collect();
    let char = prop_oneof![
        5 => prop::sample::select(chars),
        4 => prop::sample::select(ascii),
        1 => any::<char>(),
    ];
    prop::collection::vec(char, 0..48).prop_map(|chars| chars.into_iter().collect())
}

/// The pieces `split` cuts `text` into.
fn pieces(split: Split, text: &str) -> Vec<&str> {
    let (mut pieces, mut at) = (Vec::new(), 0);
    while at < text.len() {
        let end = split(text.as_bytes(), at).end;
        pieces.push(&text[at..end]);
        at = end;
    }
    pieces
}

/// Both encodings: the hand-written splitter and bpe-openai's regex.
fn both() -> [(Split, &'static bpe_openai::Tokenizer); 2] {
    [
        (o200k, bpe_openai::o200k_base()),
        (cl100k, bpe_openai::cl100k_base()),
    ]
}

/// The run of bytes in a range ends where a byte at a time ends it,
/// for every start, at every offset of an eight-byte word.
#[test]
fn skip_range_ends_runs_as_a_byte_loop() {
    let mixed: Vec<u8> = (0..300u32)
        .map(|i| match i * 7919 % 13 {
            0 => b'Z' + 1 + (i % 6) as u8,
            1 => b'a' - 1,
            2 => 0xC3 + (i % 3) as u8,
            3 => b'z' + 1 + (i % 5) as u8,
            4 => b'A' - 1,
            n if n % 2 == 0 => b'a' + (i % 26) as u8,
            _ => b'A' + (i % 26) as u8,
        })
        .collect();
    let runs = b"thequickbrownfoxjumps HTTPSERVERZZ 01234567890123 azAZ@[`{_^ xMLHttpRequests";
    let text = [&mixed[..], runs, &mixed[..], runs].concat();
    let ranges = [
        (b'a', b'z', 0),
        (b'A', b'Z', 0),
        (b'0', b'9', 0),
        (0, 0x7f, 0),
        (b'a', b'z', CASE),
    ];
    for (low, high, fold) in ranges {
        for at in 0..=text.len() {
            let want = skip(&text, at, |byte| match fold {
                CASE => byte.is_ascii_alphabetic(),
                _ => (low..=high).contains(&byte),
            });
            let got = skip_range(&text, at, low, high, fold);
            assert_eq!(got, want, "{low}..={high} | {fold} at {at}");
        }
    }
}

/// Samples of what each alternative of the patterns matches.
#[test]
fn pieces_of_each_alternative() {
    let text = "Hello, it's HTTPServer's 12345 ſ'S  \n\n  x\t\ty ...\n/ end  ";
    assert_eq!(
        pieces(o200k, text),
        [
            "Hello",
            ",",
            " it's",
            " HTTPServer's",
            " ",
            "123",
            "45",
            " ſ'S",
            "  \n\n",
            " ",
            " x",
            "\t",
            "\ty",
            " ...\n/",
            " end",
            "  "
        ]
    );
    for (split, reference) in both() {
        assert_eq!(
            pieces(split, text),
            reference.split(text).collect::<Vec<_>>()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(debug_assertions) { 2_000 } else { 50_000 }))]

    /// The pieces are those of the encoding's regex.
    #[test]
    fn pieces_equal_the_regex(text in text()) {
        for (split, reference) in both() {
            let want: Vec<&str> = reference.split(&text).collect();
            prop_assert_eq!(pieces(split, &text), want);
        }
    }

    /// A piece that is not open is the same piece whatever follows.
    #[test]
    fn closed_pieces_stay(text in text(), more in text()) {
        let whole = format!("{text}{more}");
        for (split, _) in both() {
            let mut at = 0;
            while at < text.len() {
                let piece = split(text.as_bytes(), at);
                if piece.open {
                    break;
                }
                prop_assert_eq!(split(whole.as_bytes(), at).end, piece.end, "{:?}", text);
                at = piece.end;
            }
        }
    }
}
