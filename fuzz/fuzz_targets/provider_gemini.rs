//! The Gemini interpreter on arbitrary payloads: Ok or a non-empty
//! error, never a panic; text deltas are never empty. Detection on the same
//! bytes never panics either, nor does the search for a stray error, and the
//! array splitter cuts them into the same elements whatever the piece size.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tokmeter::decode::providers::gemini::{ArraySplitter, stray_error};
use tokmeter::decode::providers::{Format, Item, detect};

fuzz_target!(|payload: &[u8]| {
    let mut items = Vec::new();
    if let Err(error) = Format::Gemini.interpret(payload, &mut items) {
        assert!(!error.is_empty());
    }
    for item in &items {
        if let Item::Delta(delta) = item {
            assert!(!delta.text.is_empty(), "an empty delta");
        }
    }
    let _ = detect(payload);
    if let Some(error) = stray_error(payload) {
        let _ = error.to_string();
    }

    let elements = |size: usize| {
        let mut splitter = ArraySplitter::new();
        let mut out = Vec::new();
        for piece in payload.chunks(size) {
            splitter.feed(piece, |element| {
                out.push((element.end, element.bytes.to_vec()))
            });
        }
        (out, splitter.end_of_input())
    };
    let whole = elements(payload.len().max(1));
    for (end, bytes) in &whole.0 {
        assert!(*end as usize <= payload.len());
        assert_eq!(
            &payload[*end as usize - bytes.len()..*end as usize],
            &bytes[..]
        );
        let mut items = Vec::new();
        let _ = Format::GeminiArray.interpret(bytes, &mut items);
    }
    assert_eq!(elements(1), whole);
    assert_eq!(elements(7), whole);
});
