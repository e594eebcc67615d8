//! The merge line parser on arbitrary bytes: summaries or an error, never a
//! panic; merging what parsed is a summary or an error.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tokmeter::merge::{merge, read_summaries};

fuzz_target!(|data: &[u8]| {
    let mut summaries = Vec::new();
    match read_summaries(data, "fuzz.jsonl", &mut summaries) {
        Ok(()) => {
            let lines = data
                .split(|&b| b == b'\n')
                .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
                .count();
            assert_eq!(summaries.len(), lines, "one summary per non-blank line");
            if !summaries.is_empty() {
                let _ = merge(summaries, "fuzz".to_string());
            }
        }
        Err(error) => assert!(error.to_string().starts_with("fuzz.jsonl:")),
    }
});
