//! The transcript line parser on arbitrary lines: each is Ok or Err, never a
//! panic; bad lines are counted once each, and the tally adds up.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tokmeter::tokenize::Heuristic;
use tokmeter::transcript::{Options, Transcript};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, data)) = data.split_first() else {
        return;
    };
    let options = Options {
        replay: flags & 1 != 0,
        cache: flags & 2 != 0,
    };
    let tokenizer = Heuristic::default();
    let mut transcript = Transcript::new(&tokenizer, options);
    let mut bad = 0;
    for line in data.split(|&b| b == b'\n') {
        if let Err(error) = transcript.line(line) {
            assert!(!error.is_empty());
            bad += 1;
        }
    }
    let tally = transcript.finish();
    assert_eq!(tally.bad_lines, bad, "each bad line counted once");
    let bill = tally.bill;
    let parts = [bill.input, bill.output, bill.cache_read, bill.cache_write];
    if let Some(sum) = parts
        .iter()
        .try_fold(0u64, |sum, &part| sum.checked_add(part))
    {
        assert_eq!(tally.tokens(), sum);
    }
    assert!(tally.from_usage + tally.tokenized <= tally.records);
});
