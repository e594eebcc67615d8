//! Raw output is the input, byte for byte, in every split mode and for every
//! kind of input; `--strip-delimiter` leaves the delimiter out.

use std::io::{Read, Write};
use std::process::Stdio;

use proptest::prelude::*;

use crate::util::{random_bytes, run_ok, summary, tokmeter_process};

/// The split modes every input is checked in.
const MODES: &[&[&str]] = &[
    &[],
    &["-d", "→"],
    &["-d", "\\r\\n"],
    &["-z"],
    &["--arrival"],
    &["--max-chunk", "7"],
    &["--arrival", "--max-chunk", "5"],
];

fn assert_raw_identity(name: &str, input: &[u8]) {
    for mode in MODES {
        let mut args = vec!["-s", "none", "-f", "raw"];
        args.extend_from_slice(mode);
        let output = run_ok(&args, input);
        assert!(
            output.stdout == input,
            "{name}: raw output differs from input with {mode:?}"
        );
    }
}

#[test]
fn empty_input() {
    assert_raw_identity("empty", b"");
    let output = run_ok(&["-s", "json"], b"");
    assert_eq!(summary(&output)["chunk_count"], 0);
}

#[test]
fn no_final_newline() {
    assert_raw_identity("no final newline", b"one\ntwo\nthree");
}

#[test]
fn crlf_lines() {
    assert_raw_identity("crlf", b"one\r\ntwo\r\n\r\nthree\r\n");
    let output = run_ok(&["-f", "json", "-s", "none"], b"a\r\nb\r\n");
    let records = crate::util::records(&output.stdout);
    assert_eq!(records[0]["content"], "a\r\n");
    assert_eq!(records[1]["content"], "b\r\n");
}

#[test]
fn invalid_utf8() {
    let input = b"ok\n\xff\xfe bad \xc3\n\xe6\x97\xa5 half \xe6\x97\ntail \xf0\x9f";
    assert_raw_identity("invalid utf-8", input);
    let output = run_ok(&["-s", "json"], input);
    assert_eq!(summary(&output)["invalid_utf8_chunks"], 3);
}

#[test]
fn random_megabyte() {
    assert_raw_identity("1 MiB random", &random_bytes(7, 1 << 20));
}

#[test]
fn five_mebibyte_line_is_split_and_passed() {
    let line: Vec<u8> = "abcdéfgh日本語".bytes().cycle().take(5 << 20).collect();
    for mode in [&[][..], &["-z"], &["--arrival"], &["-d", "→"]] {
        let mut args = vec!["-s", "json", "--max-chunk", "1M"];
        args.extend_from_slice(mode);
        let output = run_ok(&args, &line);
        assert!(output.stdout == line, "5 MiB line changed with {mode:?}");
        let summary = summary(&output);
        if mode.is_empty() || mode[0] != "--arrival" {
            assert_eq!(summary["split_chunks"], 5, "{mode:?}");
            assert_eq!(summary["chunk_count"], 6, "{mode:?}");
        }
        assert_eq!(summary["invalid_utf8_chunks"], 0, "cut inside a character");
    }
}

/// Peak resident memory (VmHWM) of a running process, in KiB.
fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn memory_stays_bounded_on_a_line_without_newline() {
    let mut child = tokmeter_process()
        .args(["-s", "none", "-t", "heuristic"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut total = 0usize;
        let mut buffer = vec![0u8; 1 << 16];
        loop {
            match stdout.read(&mut buffer) {
                Ok(0) | Err(_) => return total,
                Ok(n) => total += n,
            }
        }
    });
    let block = vec![b'x'; 1 << 20];
    for _ in 0..64 {
        stdin.write_all(&block).unwrap();
    }
    stdin.flush().unwrap();
    // While the 64 MiB line is still open, tokmeter holds at most one chunk.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let peak = peak_kib(child.id());
    drop(stdin);
    assert!(child.wait().unwrap().success());
    assert_eq!(reader.join().unwrap(), 64 << 20);
    assert!(peak < 24 * 1024, "peak memory {peak} KiB on a 64 MiB line");
}

#[test]
fn strip_delimiter_leaves_it_out_of_content_and_counts() {
    let output = run_ok(
        &[
            "-t",
            "heuristic",
            "-f",
            "json",
            "-s",
            "json",
            "-d",
            "::",
            "--strip-delimiter",
        ],
        b"abcd::efgh::ij",
    );
    let records = crate::util::records(&output.stdout);
    let contents: Vec<&str> = records
        .iter()
        .map(|r| r["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["abcd", "efgh", "ij"]);
    let summary = summary(&output);
    assert_eq!(summary["bytes"], 10);
    // round(10 / 4) = 3 over the stream; with the delimiters it would be 4.
    assert_eq!(summary["total_tokens"], 3);
    let raw = run_ok(&["-s", "none", "-z", "--strip-delimiter"], b"a\0b\0c");
    assert_eq!(raw.stdout, b"abc");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Through the binary: random bytes, a random split mode, raw out = in.
    #[test]
    fn raw_output_equals_input(
        input in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(0u8), Just(0xE6), Just(0x97), any::<u8>()], 0..4000),
        mode in 0..MODES.len(),
    ) {
        let mut args = vec!["-s", "none"];
        args.extend_from_slice(MODES[mode]);
        let output = run_ok(&args, &input);
        prop_assert_eq!(output.stdout, input);
    }
}

/// A reader that hands out its data in the given read sizes, in turn.
struct Steps {
    data: Vec<u8>,
    at: usize,
    steps: Vec<usize>,
    turn: usize,
}

impl Read for Steps {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let step = self.steps[self.turn % self.steps.len()];
        self.turn += 1;
        let take = step.min(out.len()).min(self.data.len() - self.at);
        out[..take].copy_from_slice(&self.data[self.at..self.at + take]);
        self.at += take;
        Ok(take)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The whole filter loop over random read sizes: raw output = input.
    #[test]
    fn raw_output_equals_input_for_any_read_sizes(
        input in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'<'), Just(b'|'), Just(0xE6), any::<u8>()], 0..3000),
        steps in proptest::collection::vec(1usize..200, 1..20),
        framing in prop_oneof![
            Just(tokmeter::Framing::Delimiter(b"\n".to_vec())),
            Just(tokmeter::Framing::Delimiter(b"<|".to_vec())),
            Just(tokmeter::Framing::Arrival),
        ],
        max_chunk in 1usize..64,
    ) {
        use tokmeter::format::{Format, formatter};
        use tokmeter::output::{FlushPolicy, Output};
        use tokmeter::pipeline::{Settings, run};

        let reader = Steps { data: input.clone(), at: 0, steps, turn: 0 };
        let mut output = Output::new(Vec::new(), FlushPolicy::Block);
        let tokenizer = tokmeter::tokenize::Heuristic::default();
        let settings = Settings {
            max_chunk,
            ..Settings::new(&tokenizer, framing, tokmeter::Price::ZERO)
        };
        let mut clock = tokmeter::clock::Clock::start();
        let mut raw = formatter(Format::Raw, &[]);
        let ending = run(reader, &mut output, raw.as_mut(), &mut tokmeter::decode::Text, &mut clock, &settings);
        prop_assert!(ending.stop.describe().is_none());
        prop_assert_eq!(ending.totals.bytes, input.len() as u64);
        prop_assert_eq!(output.into_inner(), input);
    }
}
