//! The OpenAI Chat interpreter on arbitrary payloads: Ok or a non-empty
//! error, never a panic; text deltas are never empty. Detection on the same
//! bytes never panics either.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tokmeter::decode::providers::{Format, Item, detect};

fuzz_target!(|payload: &[u8]| {
    let mut items = Vec::new();
    if let Err(error) = Format::OpenAiChat.interpret(payload, &mut items) {
        assert!(!error.is_empty());
    }
    for item in &items {
        if let Item::Delta(delta) = item {
            assert!(!delta.text.is_empty(), "an empty delta");
        }
    }
    let _ = detect(payload);
});
