//! The merge line parser on arbitrary bytes: summaries or an error, never a
//! panic; merging what parsed is a summary or an error.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tokmeter::summary::{dedupe, merge, read_summaries};

fuzz_target!(|data: &[u8]| {
    let mut summaries = Vec::new();
    match read_summaries(data, "fuzz.jsonl", &mut summaries) {
        Ok(()) => {
            let lines = data
                .split(|&b| b == b'\n')
                .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
                .count();
            assert_eq!(summaries.len(), lines, "one summary per non-blank line");
            let (kept, _warnings) = dedupe(&summaries);
            if !kept.is_empty() {
                let _ = merge(&kept, "fuzz".to_string());
            }
        }
        Err(error) => assert!(error.to_string().starts_with("fuzz.jsonl:")),
    }
});
