//! Exact tokenizers through the binary and the filter loop: tiktoken's
//! golden counts, stream counting over any cuts, and honest summaries.

use proptest::prelude::*;
use serde_json::Value;

use tokmeter::tokenize::{Encoding, Exact};
use tokmeter::{CountMode, Framing, Meter, Price, Splitter, Tokenizer};

use crate::util::{records, run_ok, summary};

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/tokenizer/golden_samples.jsonl"
);

fn golden() -> Vec<Value> {
    std::fs::read_to_string(GOLDEN)
        .expect("tests/fixtures/tokenizer/golden_samples.jsonl")
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The non-empty golden texts, each with its two counts.
fn golden_texts() -> Vec<(String, [u64; 2])> {
    let samples = golden();
    assert_eq!(samples.len(), 3646);
    samples
        .iter()
        .map(|s| {
            let count = |key: &str| s[key].as_u64().unwrap();
            let text = s["text"].as_str().unwrap().to_string();
            (text, [count("o200k_base"), count("cl100k_base")])
        })
        .filter(|(text, _)| !text.is_empty() && !text.contains('\0'))
        .collect()
}

/// Every golden text in one run per encoding, NUL-separated and counted
/// each on its own: one launch checks 3,645 counts.
#[test]
fn binary_gives_tiktoken_counts_for_every_golden_text() {
    let texts = golden_texts();
    assert!(texts.len() >= 3600);
    let input = texts
        .iter()
        .map(|(text, _)| text.as_bytes())
        .collect::<Vec<_>>()
        .join(&0u8);
    for (index, encoding) in ["o200k_base", "cl100k_base"].into_iter().enumerate() {
        let args = [
            "-t",
            encoding,
            "-z",
            "--strip-delimiter",
            "--count",
            "per-chunk",
            "-f",
            "json",
            "-s",
            "json",
        ];
        let output = run_ok(&args, &input);
        let records = records(&output.stdout);
        assert_eq!(records.len(), texts.len(), "{encoding}: one record a text");
        for (record, (text, want)) in records.iter().zip(&texts) {
            assert_eq!(record["content"], text.as_str(), "{encoding}");
            assert_eq!(record["tokens"], want[index], "{encoding}: {text:?}");
        }
        let summary = summary(&output);
        let total: u64 = texts.iter().map(|(_, want)| want[index]).sum();
        assert_eq!(summary["total_tokens"], total, "{encoding}");
        assert_eq!(summary["exact"], true);
        assert_eq!(summary["tokenizer"], encoding);
    }
}

/// A sample of the golden texts, each in a run of its own: the whole text
/// as one chunk gives its count; cut into lines, never less (a line's drop
/// in the running count is absorbed, not subtracted).
#[test]
fn binary_gives_tiktoken_counts_for_a_sample_of_single_runs() {
    let texts = golden_texts();
    let mut checked = 0;
    for (text, want) in texts.iter().step_by(300) {
        for (encoding, want) in ["o200k_base", "cl100k_base"].into_iter().zip(want) {
            let output = run_ok(&["-t", encoding, "-z", "-s", "json"], text.as_bytes());
            assert_eq!(
                summary(&output)["total_tokens"],
                *want,
                "{encoding}: {text:?}"
            );
            let lines = run_ok(&["-t", encoding, "-s", "json"], text.as_bytes());
            assert!(summary_tokens(&lines) >= *want, "{encoding}: {text:?}");
        }
        checked += 1;
    }
    assert!(checked >= 12);
}

/// Raw output, counted in runs of lines, gives the totals that JSON
/// output, counted line by line, gives: on the golden texts as one stream
/// and on text whose count drops at line ends (16 newlines are fewer tokens
/// than 15), also at its end, over indented lines and slashes, where pieces
/// run on past a newline.
#[test]
fn raw_output_counts_as_chunk_records_do() {
    let golden: String = golden_texts()
        .iter()
        .step_by(7)
        .map(|(text, _)| format!("{text}\n"))
        .collect();
    let ragged = "para.\n\n  indented\n\t/path\n/ x\n".to_string()
        + &"\n".repeat(16)
        + "end\n"
        + &"x\n".repeat(15)
        + &"\n".repeat(31)
        + "// c\n  \n \nword"
        + &"\n".repeat(16);
    for text in [golden, ragged] {
        for encoding in ["o200k_base", "cl100k_base"] {
            assert_raw_bills_as_json(encoding, &[], text.as_bytes(), text.as_bytes());
        }
    }
}

/// Asserts that raw and JSON output of the same input (`stdin`, or files
/// named in `files`) give the same totals, and that raw output is `text`.
fn assert_raw_bills_as_json(encoding: &str, files: &[&str], stdin: &[u8], text: &[u8]) {
    let figures = |format: &str| {
        let mut args = vec!["-t", encoding, "-m", "gpt-4o", "-f", format, "-s", "json"];
        args.extend_from_slice(files);
        let output = run_ok(&args, stdin);
        let summary = summary(&output);
        let keys = ["total_tokens", "total_cost", "chunk_count", "bytes"];
        (keys.map(|key| summary[key].clone()), output.stdout)
    };
    let (raw, passed) = figures("raw");
    let (json, _) = figures("json");
    assert_eq!(raw, json, "{encoding}");
    assert!(
        passed == text,
        "{encoding}: raw output differs from the input"
    );
}

/// A file read in large blocks, each a run of lines counted in parts on
/// all cores, gives the totals JSON output, counted line by line, gives.
#[test]
fn a_large_file_counts_as_chunk_records_do() {
    let lines: String = golden_texts()
        .iter()
        .step_by(3)
        .map(|(text, _)| format!("{text}\n"))
        .chain(["\n".repeat(16), "  indented\n/ x\n".into()])
        .collect();
    let text = lines.repeat((3 << 20) / lines.len() + 1);
    let file = crate::util::temp_dir("large-file").join("large.txt");
    std::fs::write(&file, &text).unwrap();
    let path = file.to_str().unwrap();
    for encoding in ["o200k_base", "cl100k_base"] {
        assert_raw_bills_as_json(encoding, &[path], b"", text.as_bytes());
    }
}

fn summary_tokens(output: &std::process::Output) -> u64 {
    summary(output)["total_tokens"].as_u64().unwrap()
}

#[test]
fn auto_takes_the_tokenizer_from_the_table() {
    for (model, tokenizer) in [
        ("gpt-4o", "o200k_base"),
        ("gpt-4.1-mini", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
        ("claude-sonnet-4-5", "heuristic"),
    ] {
        let output = run_ok(&["-m", model, "-s", "json"], b"hello world\n");
        assert_eq!(summary(&output)["tokenizer"], tokenizer, "{model}");
    }
    let text = run_ok(&["-m", "gpt-4o"], b"hello world\n");
    let stderr = String::from_utf8(text.stderr).unwrap();
    assert!(
        stderr.starts_with("tokmeter: 3 tokens (exact, o200k_base)"),
        "{stderr}"
    );
}

#[test]
fn cutting_a_word_does_not_add_tokens() {
    // "hello world" is 2 tokens however it is cut.
    let output = run_ok(
        &[
            "-t",
            "o200k_base",
            "-z",
            "--strip-delimiter",
            "-f",
            "json",
            "-s",
            "json",
        ],
        b"hel\0lo w\0orld",
    );
    let tokens: u64 = records(&output.stdout)
        .iter()
        .map(|r| r["tokens"].as_u64().unwrap())
        .sum();
    assert_eq!(tokens, 2);
    assert_eq!(summary_tokens(&output), 2);
}

/// The largest count of any prefix ending at a cut: what the stream's chunks
/// must sum to (the count of the whole text, unless the last piece lowered it).
fn running_max(encoding: Encoding, pieces: &[&[u8]]) -> u64 {
    let tokenizer = Exact::new(encoding);
    let mut prefix = Vec::new();
    let mut best = 0;
    for piece in pieces {
        prefix.extend_from_slice(piece);
        best = best.max(tokenizer.count(&prefix));
    }
    best
}

fn text_strategy() -> impl Strategy<Value = String> {
    let sample = proptest::sample::select(
        golden()
            .into_iter()
            .filter_map(|s| s["text"].as_str().map(str::to_string))
            .filter(|t| t.len() < 2000 && !t.contains('\0'))
            .collect::<Vec<_>>(),
    );
    prop_oneof![
        sample,
        "([a-z]{1,7}|'s|'t| |  |\n|\n\n|[0-9]{1,5}|日本語|😀|, |\t)*"
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Through the binary: cut into chunks of 1 to 64 bytes, the chunks'
    /// tokens sum to the stream's count, for both encodings.
    #[test]
    fn chunks_sum_to_the_stream_count(text in text_strategy(), sizes in proptest::collection::vec(1usize..=64, 1..40)) {
        let bytes = text.as_bytes();
        let mut pieces: Vec<&[u8]> = Vec::new();
        let (mut at, mut turn) = (0, 0);
        while at < bytes.len() {
            let mut end = (at + sizes[turn % sizes.len()]).min(bytes.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            pieces.push(&bytes[at..end]);
            at = end;
            turn += 1;
        }
        let input = pieces.join(&0u8);
        for (encoding, name) in [(Encoding::O200kBase, "o200k_base"), (Encoding::Cl100kBase, "cl100k_base")] {
            let output = run_ok(&["-t", name, "-z", "--strip-delimiter", "-f", "json", "-s", "json"], &input);
            let sum: u64 = records(&output.stdout).iter().map(|r| r["tokens"].as_u64().unwrap()).sum();
            prop_assert_eq!(sum, summary_tokens(&output));
            prop_assert_eq!(sum, running_max(encoding, &pieces));
            prop_assert!(sum >= Exact::new(encoding).count(bytes));
        }
    }

    /// Arrival framing at arbitrary byte offsets: the splitter holds back
    /// incomplete characters, so every chunk is whole UTF-8 and the chunks'
    /// tokens sum to the stream's count.
    #[test]
    fn arrival_at_any_byte_offset(text in text_strategy(), sizes in proptest::collection::vec(1usize..=64, 1..40)) {
        for encoding in [Encoding::O200kBase, Encoding::Cl100kBase] {
            let reader = Reads { data: text.as_bytes(), sizes: sizes.clone(), turn: 0 };
            let mut splitter = Splitter::new(reader, Framing::Arrival, false, 1 << 20);
            let tokenizer = Exact::new(encoding);
            let mut meter = Meter::new(&tokenizer, CountMode::Stream, Price::ZERO);
            let mut chunks: Vec<Vec<u8>> = Vec::new();
            let mut sum = 0;
            loop {
                while let Some(chunk) = splitter.next_chunk() {
                    prop_assert!(std::str::from_utf8(chunk.content).is_ok());
                    sum += meter.measure(chunk.content).tokens;
                    chunks.push(chunk.content.to_vec());
                }
                if splitter.at_eof() {
                    break;
                }
                splitter.fill().unwrap();
            }
            prop_assert_eq!(chunks.concat(), text.as_bytes());
            let pieces: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
            prop_assert_eq!(sum, running_max(encoding, &pieces));
            let mut counter = tokenizer.counter();
            prop_assert!(sum >= counter.push(text.as_bytes()));
        }
    }
}

/// A reader returning the given read sizes in turn, cutting anywhere.
struct Reads<'a> {
    data: &'a [u8],
    sizes: Vec<usize>,
    turn: usize,
}

impl std::io::Read for Reads<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let take = self.sizes[self.turn % self.sizes.len()]
            .min(self.data.len())
            .min(out.len());
        self.turn += 1;
        out[..take].copy_from_slice(&self.data[..take]);
        self.data = &self.data[take..];
        Ok(take)
    }
}
