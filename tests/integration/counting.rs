//! Counting: the heuristic over the stream, the chunk tokenizer, and the
//! per-chunk counting.

use proptest::prelude::*;

use crate::util::{records, run_ok, summary};

fn tokens_of(args: &[&str], input: &[u8]) -> Vec<u64> {
    let mut all = vec!["-f", "json", "-s", "none"];
    all.extend_from_slice(args);
    records(&run_ok(&all, input).stdout)
        .iter()
        .map(|r| r["tokens"].as_u64().unwrap())
        .collect()
}

#[test]
fn hello_space_world_counts_one_each() {
    // "hello", " ", "world" as three chunks.
    let tokens = tokens_of(
        &["-t", "heuristic", "-z", "--strip-delimiter"],
        b"hello\0 \0world",
    );
    assert_eq!(tokens, [1, 1, 1]);
}

#[test]
fn a_word_cut_in_two_is_not_two_tokens() {
    let tokens = tokens_of(&["-t", "heuristic", "-z", "--strip-delimiter"], b"hel\0lo");
    assert_eq!(tokens.iter().sum::<u64>(), 1);
    let per_chunk = tokens_of(
        &[
            "-t",
            "heuristic",
            "-z",
            "--strip-delimiter",
            "--count",
            "per-chunk",
        ],
        b"hel\0lo",
    );
    assert_eq!(
        per_chunk,
        [1, 1],
        "per-chunk counting counts each piece alone"
    );
}

#[test]
fn chunk_tokenizer_counts_one_per_chunk() {
    let output = run_ok(&["-t", "chunk", "-s", "json"], b"a\nbb\nccc dddd eeee\n\n");
    let summary = summary(&output);
    assert_eq!(summary["total_tokens"], 4);
    assert_eq!(summary["chunk_count"], 4);
    assert_eq!(summary["tokenizer"], "chunk");
    assert_eq!(summary["exact"], false);
}

#[test]
fn heuristic_counts_bytes_not_characters() {
    // 8 CJK characters are 24 bytes: round(24 / 4) = 6.
    let output = run_ok(
        &["-t", "heuristic", "-s", "json"],
        "日本語のテキスト".as_bytes(),
    );
    assert_eq!(summary(&output)["total_tokens"], 6);
}

#[test]
fn table_ratio_is_used() {
    let dir = crate::util::temp_dir("ratio");
    let table = dir.join("p.toml");
    std::fs::write(
        &table,
        "[models.bytes]\ninput = 1\noutput = 1\nbytes_per_token = 2.0\n\
         [models.chars]\ninput = 1\noutput = 1\nchars_per_token = 4\n",
    )
    .unwrap();
    let table = table.to_str().unwrap();
    let text = "日本語のテキスト".as_bytes();
    let bytes = run_ok(&["-p", table, "-m", "bytes", "-s", "json"], text);
    assert_eq!(summary(&bytes)["total_tokens"], 12);
    let chars = run_ok(&["-p", table, "-m", "chars", "-s", "json"], text);
    assert_eq!(summary(&chars)["total_tokens"], 2);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// One chunk or the same text cut into any pieces: the same total.
    #[test]
    fn heuristic_total_does_not_depend_on_the_cuts(
        text in "[a-z ,.日é😀]{0,300}",
        cuts in proptest::collection::vec(0usize..300, 0..30),
    ) {
        let chars: Vec<char> = text.chars().collect();
        let mut cut_text = Vec::new();
        for (i, c) in chars.iter().enumerate() {
            if cuts.contains(&i) {
                cut_text.push(0u8);
            }
            let mut buf = [0u8; 4];
            cut_text.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
        let args = ["-t", "heuristic", "-z", "--strip-delimiter", "-s", "json", "-f", "json"];
        let pieces = run_ok(&args, &cut_text);
        let whole = run_ok(&args, text.as_bytes());
        let total = summary(&pieces)["total_tokens"].as_u64().unwrap();
        prop_assert_eq!(total, summary(&whole)["total_tokens"].as_u64().unwrap());
        prop_assert_eq!(total, (text.len() as u64 + 2) / 4);
        let per_chunk: u64 = records(&pieces.stdout).iter().map(|r| r["tokens"].as_u64().unwrap()).sum();
        prop_assert_eq!(per_chunk, total);
    }
}

proptest! {
    // Inputs of up to 300 KB, each spawning the binary twice: few cases.
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Raw output is metered in runs of whole lines; its totals are those of
    /// the chunk-by-chunk path (json), for any text, valid or not.
    #[test]
    fn raw_runs_count_what_chunks_count(
        input in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'a'), Just(0xE6), Just(0x97), Just(0xA5), any::<u8>()], 0..300_000),
        max_chunk in prop_oneof![Just("1M"), Just("64K"), Just("100")],
    ) {
        let args = ["-t", "heuristic", "-s", "json", "--max-chunk", max_chunk];
        let raw = run_ok(&[&args[..], &["-f", "raw"]].concat(), &input);
        let json = run_ok(&[&args[..], &["-f", "json"]].concat(), &input);
        prop_assert_eq!(&raw.stdout, &input);
        let (raw, json) = (summary(&raw), summary(&json));
        for field in ["chunk_count", "bytes", "total_tokens", "total_cost", "invalid_utf8_chunks", "split_chunks"] {
            prop_assert_eq!(&raw[field], &json[field], "{}", field);
        }
    }
}
