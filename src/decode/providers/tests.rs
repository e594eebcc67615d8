//! Every sample in tests/fixtures/streams, framed and interpreted whole and
//! in 1- and 7-byte pieces, against the figures its README lists.

use std::collections::BTreeMap;

use super::gemini::ArraySplitter;
use super::*;
use crate::input::sse::Parser;

/// What a whole stream yielded.
#[derive(Debug, Default, PartialEq)]
struct Decoded {
    /// Text by kind and choice, the deltas concatenated.
    text: BTreeMap<(u32, &'static str), String>,
    usage: Usage,
    model: Option<String>,
    errors: Vec<ProviderError>,
    /// Terminal events seen.
    ends: usize,
    /// Payloads read, and those that were not readable.
    payloads: usize,
    unreadable: Vec<String>,
}

impl Decoded {
    fn read(&mut self, format: Format, payload: &[u8]) {
        self.payloads += 1;
        let mut items = Vec::new();
        if let Err(error) = format.interpret(payload, &mut items) {
            self.unreadable.push(error);
        }
        for item in items {
            match item {
                Item::Delta(delta) => {
                    let kind = match delta.kind {
                        Kind::Text => "text",
                        Kind::Reasoning => "reasoning",
                        Kind::ToolArguments => "tool",
                        Kind::Refusal => "refusal",
                    };
                    let text = self.text.entry((delta.choice, kind)).or_default();
                    text.push_str(&delta.text);
                }
                Item::Usage(usage) => self.usage.merge(&usage),
                Item::Model(model) => {
                    self.model.get_or_insert_with(|| model.into_owned());
                }
                Item::Error(error) => self.errors.push(error),
                Item::End => self.ends += 1,
            }
        }
    }

    fn text(&self, kind: &'static str) -> &str {
        self.text.get(&(0, kind)).map_or("", String::as_str)
    }
}

/// Decodes `input` as `format`, fed in pieces of `size` bytes.
fn decode(format: Format, input: &[u8], size: usize) -> Decoded {
    let mut decoded = Decoded::default();
    match format.wire() {
        Wire::Sse => {
            let mut parser = Parser::new();
            for piece in input.chunks(size) {
                parser.feed(piece, |boundary| {
                    if let Some(event) = boundary.event {
                        decoded.read(format, event.data);
                    }
                });
            }
            parser.end_of_input(|_| {});
        }
        Wire::Lines => {
            let mut line = Vec::new();
            for piece in input.chunks(size) {
                for &byte in piece {
                    if byte == b'\n' {
                        decoded.read(format, &line);
                        line.clear();
                    } else {
                        line.push(byte);
                    }
                }
            }
        }
        Wire::JsonArray => {
            let mut splitter = ArraySplitter::new();
            for piece in input.chunks(size) {
                splitter.feed(piece, |element| decoded.read(format, element.bytes));
            }
        }
    }
    decoded
}

/// Decodes a sample whole and in 1- and 7-byte pieces, checking that all
/// three agree and that detection names the format, with and without
/// `curl -i` headers before it.
fn sample(name: &str, format: Format) -> Decoded {
    let path = format!(
        "{}/tests/fixtures/streams/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let input = std::fs::read(&path).unwrap();
    assert_eq!(detect(&input), Some(format), "{name} detected");
    let mut curl_i = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/2 200\r\nserver: x\r\n\r\n".to_vec();
    curl_i.extend_from_slice(&input);
    assert_eq!(
        detect(&curl_i),
        Some(format),
        "{name} detected after headers"
    );
    let whole = decode(format, &input, input.len().max(1));
    for size in [1, 7] {
        assert_eq!(
            decode(format, &input, size),
            whole,
            "{name} in pieces of {size}"
        );
    }
    whole
}

const WEATHER: &str = "I'm unable to provide real-time weather updates. To get the current \
    weather in San Francisco, I recommend checking a reliable weather website or a weather app.";

#[test]
fn openai_chat_without_usage_has_text_only() {
    let got = sample("openai-chat.sse", Format::OpenAiChat);
    assert_eq!(got.text("text"), WEATHER);
    assert_eq!(got.text("text").chars().count(), 159);
    assert_eq!(got.text.len(), 1, "only visible text: {:?}", got.text);
    assert!(got.usage.is_empty(), "{:?}", got.usage);
    assert_eq!(got.model.as_deref(), Some("gpt-4o-2024-08-06"));
    assert_eq!(
        (got.ends, got.errors.len(), got.unreadable.len()),
        (1, 0, 0)
    );
}

#[test]
fn openai_chat_usage_chunk_with_empty_choices_is_read() {
    let got = sample("openai-chat-usage.sse", Format::OpenAiChat);
    assert_eq!(got.text("text"), WEATHER);
    let want = Usage {
        input: Some(14),
        output: Some(30),
        reasoning: Some(0),
        ..Usage::default()
    };
    assert_eq!(got.usage, want);
    assert_eq!(got.model.as_deref(), Some("gpt-4o-2024-08-06"));
    assert_eq!(got.ends, 1);
}

#[test]
fn openai_chat_error_carries_the_message_and_no_done() {
    let got = sample("openai-chat-error.sse", Format::OpenAiChat);
    assert_eq!(got.text("text"), "The question \"");
    assert_eq!(
        got.errors,
        [ProviderError {
            code: Some("server_error".into()),
            message: "The server had an error while processing your request. Sorry about that!"
                .into(),
        }]
    );
    assert_eq!(got.ends, 0);
    assert!(got.usage.is_empty());
    assert_eq!(got.model.as_deref(), Some("gpt-4.1-2025-04-14"));
}

#[test]
fn openai_responses_counts_deltas_not_their_repeats() {
    let got = sample("openai-responses.sse", Format::OpenAiResponses);
    assert_eq!(
        got.text("text"),
        "Why did the scarecrow win an award?\n\nBecause he was outstanding in his field!"
    );
    assert_eq!(got.text.len(), 1);
    let want = Usage {
        input: Some(11),
        output: Some(18),
        cache_read: Some(0),
        reasoning: Some(0),
        ..Usage::default()
    };
    assert_eq!(got.usage, want);
    assert_eq!(got.model.as_deref(), Some("gpt-4o-mini-2024-07-18"));
    assert_eq!((got.ends, got.payloads), (1, 25));
}

#[test]
fn anthropic_usage_merges_message_start_and_delta() {
    let got = sample("anthropic.sse", Format::Anthropic);
    assert_eq!(
        got.text("text"),
        "Hello! I'm doing well, thank you for asking. How are you doing today? \
         Is there anything I can help you with?"
    );
    let want = Usage {
        input: Some(12),
        output: Some(30),
        cache_read: Some(0),
        cache_write: Some(0),
        cache_write_1h: Some(0),
        ..Usage::default()
    };
    assert_eq!(got.usage, want);
    assert_eq!(got.model.as_deref(), Some("claude-sonnet-4-5-20250929"));
    assert_eq!((got.ends, got.payloads), (1, 12));
}

#[test]
fn gemini_crlf_stream_keeps_the_last_cumulative_usage() {
    let got = sample("gemini.sse", Format::Gemini);
    assert_eq!(
        got.text("text"),
        "There are **3** \"r\"s in strawberry.\n\nHere is the breakdown: st**r**awbe**rr**y."
    );
    let want = Usage {
        input: Some(9),
        output: Some(29 + 256),
        reasoning: Some(256),
        ..Usage::default()
    };
    assert_eq!(got.usage, want);
    assert_eq!(got.model.as_deref(), Some("gemini-3-pro-preview"));
    assert_eq!((got.ends, got.payloads), (0, 3));
}

#[test]
fn gemini_array_form_yields_what_the_sse_form_does() {
    let path = format!(
        "{}/tests/fixtures/streams/gemini.sse",
        env!("CARGO_MANIFEST_DIR")
    );
    let sse = std::fs::read(path).unwrap();
    let text = String::from_utf8(sse.clone()).unwrap();
    let elements: Vec<&str> = text
        .split("\r\n\r\n")
        .filter_map(|event| event.strip_prefix("data: "))
        .collect();
    let array = format!("[{}]", elements.join(",\r\n"));
    assert_eq!(detect(array.as_bytes()), Some(Format::GeminiArray));
    let whole = decode(Format::GeminiArray, array.as_bytes(), array.len());
    for size in [1, 7] {
        assert_eq!(decode(Format::GeminiArray, array.as_bytes(), size), whole);
    }
    assert_eq!(whole, decode(Format::Gemini, &sse, sse.len()));
}

#[test]
fn openrouter_reasoning_counts_once_and_cost_is_kept() {
    let got = sample("openrouter.sse", Format::OpenAiChat);
    assert_eq!(got.text("text"), "Paris.");
    assert_eq!(got.text("reasoning"), "The user wants a one-word answer.");
    let want = Usage {
        input: Some(14),
        output: Some(12),
        cache_read: Some(0),
        cache_write: Some(0),
        reasoning: Some(9),
        cost: Some("0.0000329".into()),
        ..Usage::default()
    };
    assert_eq!(got.usage, want);
    assert_eq!(got.model.as_deref(), Some("deepseek/deepseek-r1"));
    assert_eq!(got.ends, 1);
}

#[test]
fn ollama_chat_final_line_has_the_counts() {
    let got = sample("ollama-chat.ndjson", Format::Ollama);
    assert_eq!(
        got.text("text"),
        "The sky looks blue because air molecules scatter short blue wavelengths of sunlight \
         more than red ones ( Rayleigh scattering)."
    );
    let want = Usage {
        input: Some(26),
        output: Some(22),
        ..Usage::default()
    };
    assert_eq!(got.usage, want);
    assert_eq!(got.model.as_deref(), Some("llama3.2"));
    assert_eq!(got.ends, 1);
}

#[test]
fn ollama_generate_final_line_has_the_counts() {
    let got = sample("ollama-generate.ndjson", Format::Ollama);
    assert_eq!(got.text("text"), "That's a fantastic question!");
    let want = Usage {
        input: Some(11),
        output: Some(7),
        ..Usage::default()
    };
    assert_eq!(got.usage, want);
    assert_eq!(got.model.as_deref(), Some("gemma4"));
    assert_eq!((got.ends, got.payloads), (1, 8));
}

#[test]
fn sse_edge_cases_decode_as_chat_chunks() {
    let got = sample("sse-edge-cases.sse", Format::OpenAiChat);
    assert_eq!(got.payloads, 6);
    assert_eq!(got.text("text"), "Hello, world\u{2028}!");
    assert_eq!(got.ends, 1);
    assert!(got.unreadable.is_empty(), "{:?}", got.unreadable);
}

#[test]
fn format_names_round_trip() {
    for format in Format::ALL {
        assert_eq!(Format::from_name(format.name()), Some(format));
    }
    assert_eq!(Format::from_name("openai"), None);
}

#[test]
fn merging_keeps_fields_the_newer_report_lacks() {
    let mut usage = Usage {
        input: Some(12),
        output: Some(1),
        ..Usage::default()
    };
    usage.merge(&Usage {
        output: Some(30),
        ..Usage::default()
    });
    usage.merge(&Usage {
        output: Some(40),
        ..Usage::default()
    });
    assert_eq!((usage.input, usage.output), (Some(12), Some(40)));
}

#[test]
fn costs_are_read_as_decimal_text() {
    let cost = |json: &str| serde_json::from_str::<Cost>(json).unwrap().0;
    assert_eq!(cost("3.29e-05").as_deref(), Some("0.0000329"));
    assert_eq!(cost("2").as_deref(), Some("2"));
    assert_eq!(cost("\"0.0012\"").as_deref(), Some("0.0012"));
    assert_eq!(cost("\"--1\""), None);
    assert_eq!(cost("\"1e-3\""), None);
    assert_eq!(cost("null"), None);
}

#[test]
fn counts_are_read_leniently() {
    let count = |json: &str| serde_json::from_str::<Count>(json).unwrap().0;
    assert_eq!(count("12"), Some(12));
    assert_eq!(count("12.0"), Some(12));
    assert_eq!(count("\"12\""), Some(12));
    assert_eq!(count("-1"), None);
    assert_eq!(count("1.5"), None);
    assert_eq!(count("{\"a\":[1]}"), None);
}

const SAMPLES: [&str; 10] = [
    "anthropic.sse",
    "gemini.sse",
    "ollama-chat.ndjson",
    "ollama-generate.ndjson",
    "openai-chat-error.sse",
    "openai-chat-usage.sse",
    "openai-chat.sse",
    "openai-responses.sse",
    "openrouter.sse",
    "sse-edge-cases.sse",
];

proptest::proptest! {
    #[test]
    fn cut_or_altered_samples_never_panic_any_format(
        which in 0..SAMPLES.len(),
        cut in proptest::prelude::any::<proptest::sample::Index>(),
        at in proptest::prelude::any::<proptest::sample::Index>(),
        byte in proptest::prelude::any::<u8>(),
    ) {
        let path = format!("{}/tests/fixtures/streams/{}", env!("CARGO_MANIFEST_DIR"), SAMPLES[which]);
        let mut input = std::fs::read(path).unwrap();
        input.truncate(cut.index(input.len() + 1));
        if !input.is_empty() {
            let at = at.index(input.len());
            input[at] = byte;
        }
        let _ = detect(&input);
        for format in Format::ALL {
            let decoded = decode(format, &input, 7);
            proptest::prop_assert!(decoded.text.values().all(|text| !text.is_empty()));
            proptest::prop_assert!(decoded.unreadable.iter().all(|error| !error.is_empty()));
        }
    }
}
