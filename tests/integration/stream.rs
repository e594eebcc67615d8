//! The stream's edges: tiny chunk limits, when the vocabulary loads and what
//! the session clock counts.

use serde_json::Value;

use crate::util::{records, run_ok, summary};

#[test]
fn max_chunk_below_a_character_never_cuts_inside_it() {
    let text = "日本語\naé😀b\n";
    for max in ["1", "2", "3", "4"] {
        let output = run_ok(
            &["--max-chunk", max, "-f", "json", "-s", "json"],
            text.as_bytes(),
        );
        let chunks = records(&output.stdout);
        let contents: Vec<&str> = chunks
            .iter()
            .map(|record| record["content"].as_str().unwrap())
            .collect();
        assert_eq!(contents.concat(), text, "--max-chunk {max}");
        assert!(
            contents.iter().all(|content| !content.contains('\u{fffd}')),
            "--max-chunk {max}: {contents:?}"
        );
        let summary = summary(&output);
        assert_eq!(summary["invalid_utf8_chunks"], 0, "--max-chunk {max}");
        // The stream's count does not depend on the cut.
        let whole = summary_of(&["-s", "json"], text.as_bytes());
        assert_eq!(
            summary["total_tokens"], whole["total_tokens"],
            "--max-chunk {max}"
        );
    }
}

fn summary_of(args: &[&str], stdin: &[u8]) -> Value {
    summary(&run_ok(args, stdin))
}
