//! OpenAI Chat Completions chunks, as OpenAI and the compatible servers send
//! them.
//!
//! One chunk is one event's data. The differences between servers are read
//! from the chunk itself: reasoning comes as `reasoning`, `reasoning_content`
//! or `reasoning_details` (one of them counted), Mistral sends content as a
//! list of parts, Groq puts usage under `x_groq`, DeepSeek splits the prompt
//! into cache hits and misses, and xAI leaves reasoning out of its
//! completion count.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, SeqAccess, Visitor};

use super::{
    AnyText, Cost, Count, ErrorBody, Item, Kind, Str, Usage, malformed, minus, plus, push_delta,
    push_model,
};

/// One `chat.completion.chunk` (or legacy `text_completion`).
#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(borrow, default)]
    model: Option<Str<'a>>,
    #[serde(borrow, default)]
    choices: Option<Vec<Choice<'a>>>,
    // Boxed: present on few chunks, and moving them unboxed through the
    // deserializer costs every chunk.
    #[serde(default)]
    usage: Option<Box<RawUsage>>,
    #[serde(default)]
    x_groq: Option<Box<Groq>>,
    #[serde(default)]
    error: Option<Box<ErrorBody>>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(default)]
    index: Count,
    #[serde(borrow, default)]
    delta: Option<ChunkDelta<'a>>,
    /// Legacy `/v1/completions` text.
    #[serde(borrow, default)]
    text: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct ChunkDelta<'a> {
    #[serde(borrow, default)]
    content: Option<Content<'a>>,
    #[serde(borrow, default)]
    refusal: Option<Str<'a>>,
    #[serde(borrow, default)]
    reasoning: Option<Str<'a>>,
    #[serde(borrow, default)]
    reasoning_content: Option<Str<'a>>,
    #[serde(borrow, default)]
    reasoning_details: Option<Vec<ReasoningDetail<'a>>>,
    #[serde(borrow, default)]
    tool_calls: Option<Vec<ToolCall<'a>>>,
    #[serde(borrow, default)]
    function_call: Option<Function<'a>>,
}

/// OpenRouter's structured copy of the reasoning.
#[derive(Deserialize)]
struct ReasoningDetail<'a> {
    #[serde(borrow, default)]
    text: Option<Str<'a>>,
    #[serde(borrow, default)]
    summary: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct ToolCall<'a> {
    #[serde(borrow, default)]
    function: Option<Function<'a>>,
}

#[derive(Deserialize)]
struct Function<'a> {
    #[serde(borrow, default)]
    arguments: Option<AnyText<'a>>,
}

#[derive(Deserialize)]
struct Groq {
    #[serde(default)]
    usage: Option<RawUsage>,
}

/// `CompletionUsage` with the compatible servers' additions.
#[derive(Default, Deserialize)]
#[serde(default)]
struct RawUsage {
    prompt_tokens: Count,
    completion_tokens: Count,
    prompt_tokens_details: Option<PromptDetails>,
    completion_tokens_details: Option<CompletionDetails>,
    /// DeepSeek: prompt = hits + misses.
    prompt_cache_hit_tokens: Count,
    prompt_cache_miss_tokens: Count,
    /// OpenRouter, in USD.
    cost: Cost,
    /// xAI's own fields, which mark its completion count as excluding
    /// reasoning.
    num_sources_used: Option<IgnoredAny>,
    cost_in_usd_ticks: Option<IgnoredAny>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct PromptDetails {
    cached_tokens: Count,
    cache_write_tokens: Count,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct CompletionDetails {
    reasoning_tokens: Count,
}

impl RawUsage {
    fn normalize(self) -> Usage {
        let details = self.prompt_tokens_details.unwrap_or_default();
        let reasoning = self
            .completion_tokens_details
            .unwrap_or_default()
            .reasoning_tokens
            .0;
        let cache_read = details.cached_tokens.0.or(self.prompt_cache_hit_tokens.0);
        let input = match self.prompt_cache_miss_tokens.0 {
            Some(misses) => Some(misses),
            None => minus(self.prompt_tokens.0, cache_read),
        };
        let xai = self.num_sources_used.is_some() || self.cost_in_usd_ticks.is_some();
        let output = if xai {
            plus(self.completion_tokens.0, reasoning)
        } else {
            self.completion_tokens.0
        };
        Usage {
            input,
            output,
            cache_read,
            cache_write: details.cache_write_tokens.0,
            cache_write_1h: None,
            reasoning,
            cost: self.cost.0,
        }
    }
}

/// `delta.content`: a string, or Mistral's list of parts where thinking
/// parts hold reasoning, each piece kept with its kind.
enum Content<'a> {
    /// A string, the common case, read without allocating.
    Text(Cow<'a, str>),
    Parts(Vec<(Kind, Cow<'a, str>)>),
}

/// One part of Mistral's content list.
#[derive(Deserialize)]
struct Part<'a> {
    #[serde(borrow, default, rename = "type")]
    kind: Option<Str<'a>>,
    #[serde(borrow, default)]
    text: Option<Str<'a>>,
    #[serde(borrow, default)]
    thinking: Option<Vec<Part<'a>>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Content<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ContentVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for ContentVisitor<'a> {
            type Value = Content<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("content: a string, a list of parts, or null")
            }
            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Content<'a>, E> {
                Ok(Content::Text(Cow::Borrowed(text)))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Content<'a>, E> {
                Ok(Content::Text(Cow::Owned(text.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Content<'a>, E> {
                Ok(Content::Parts(Vec::new()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Content<'a>, A::Error> {
                let mut pieces = Vec::new();
                while let Some(part) = seq.next_element::<Part<'a>>()? {
                    let thinking = part.kind.as_ref().is_some_and(|k| k.0 == "thinking");
                    if let Some(Str(text)) = part.text {
                        let kind = if thinking {
                            Kind::Reasoning
                        } else {
                            Kind::Text
                        };
                        pieces.push((kind, text));
                    }
                    for inner in part.thinking.into_iter().flatten() {
                        if let Some(Str(text)) = inner.text {
                            pieces.push((Kind::Reasoning, text));
                        }
                    }
                }
                Ok(Content::Parts(pieces))
            }
        }
        deserializer.deserialize_any(ContentVisitor(std::marker::PhantomData))
    }
}

/// An OpenAI-compatible server that a chunk shows, for saying what was
/// detected. Only the servers whose chunks differ from OpenAI's are named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    /// An `id` starting with `gen-`, a `provider` or `native_finish_reason`.
    OpenRouter,
    /// An `x_groq` object.
    Groq,
    /// A `timings` object, or a `system_fingerprint` naming a build
    /// (`b6290-…`).
    LlamaCpp,
    /// A `deepseek-` model, or usage split into cache hits and misses.
    DeepSeek,
    /// xAI's own usage fields (`num_sources_used`, `cost_in_usd_ticks`).
    XAi,
}

impl Server {
    /// The server's name as its makers write it.
    pub fn name(self) -> &'static str {
        match self {
            Server::OpenRouter => "OpenRouter",
            Server::Groq => "Groq",
            Server::LlamaCpp => "llama.cpp",
            Server::DeepSeek => "DeepSeek",
            Server::XAi => "xAI",
        }
    }
}

/// The keys that tell servers apart.
#[derive(Deserialize)]
struct ServerProbe<'a> {
    #[serde(borrow, default)]
    id: Option<Str<'a>>,
    #[serde(borrow, default)]
    model: Option<Str<'a>>,
    #[serde(borrow, default)]
    system_fingerprint: Option<Str<'a>>,
    #[serde(default)]
    provider: Option<IgnoredAny>,
    #[serde(default)]
    x_groq: Option<IgnoredAny>,
    #[serde(default)]
    timings: Option<IgnoredAny>,
    #[serde(default)]
    choices: Option<Vec<ServerChoice>>,
    #[serde(default)]
    usage: Option<RawUsage>,
}

#[derive(Deserialize)]
struct ServerChoice {
    #[serde(default)]
    native_finish_reason: Option<IgnoredAny>,
}

/// The compatible server one chunk shows, or `None` for OpenAI itself, a
/// server that sends OpenAI's shape unchanged (vLLM, Mistral, Ollama's
/// `/v1`), or a payload that is not a chunk.
pub fn server(payload: &[u8]) -> Option<Server> {
    let probe: ServerProbe<'_> = serde_json::from_slice(payload).ok()?;
    let text = |field: &Option<Str<'_>>| field.as_ref().map_or("", |s| &*s.0).to_string();
    let (id, model, fingerprint) = (
        text(&probe.id),
        text(&probe.model),
        text(&probe.system_fingerprint),
    );
    let native = probe
        .choices
        .iter()
        .flatten()
        .any(|choice| choice.native_finish_reason.is_some());
    let usage = probe.usage.as_ref();
    if id.starts_with("gen-") || probe.provider.is_some() || native {
        Some(Server::OpenRouter)
    } else if probe.x_groq.is_some() {
        Some(Server::Groq)
    } else if probe.timings.is_some() || is_build_fingerprint(&fingerprint) {
        Some(Server::LlamaCpp)
    } else if usage.is_some_and(|u| u.num_sources_used.is_some() || u.cost_in_usd_ticks.is_some()) {
        Some(Server::XAi)
    } else if model.starts_with("deepseek-")
        || usage.is_some_and(|u| u.prompt_cache_miss_tokens.0.is_some())
    {
        Some(Server::DeepSeek)
    } else {
        None
    }
}

/// Whether a fingerprint names a llama.cpp build: `b` and digits, a dash.
fn is_build_fingerprint(fingerprint: &str) -> bool {
    fingerprint
        .strip_prefix('b')
        .and_then(|rest| rest.split_once('-'))
        .is_some_and(|(build, _)| !build.is_empty() && build.bytes().all(|b| b.is_ascii_digit()))
}

/// Appends the items of one chunk's payload; see [`super::Format::interpret`].
/// `[DONE]` is the terminal event. A chunk with a top-level `error` is an
/// error event (OpenAI, OpenRouter).
pub fn interpret<'a>(payload: &'a [u8], items: &mut Vec<Item<'a>>) -> Result<(), String> {
    if payload.trim_ascii_start().starts_with(b"[DONE]") {
        items.push(Item::End);
        return Ok(());
    }
    let chunk: Chunk<'a> = serde_json::from_slice(payload).map_err(malformed)?;
    push_model(items, chunk.model);
    for choice in chunk.choices.into_iter().flatten() {
        let index = u32::try_from(choice.index.0.unwrap_or(0)).unwrap_or(u32::MAX);
        if let Some(Str(text)) = choice.text {
            push_delta(items, Kind::Text, index, text);
        }
        let Some(delta) = choice.delta else {
            continue;
        };
        delta_items(delta, index, items);
    }
    let usage = match (chunk.usage, chunk.x_groq) {
        (Some(usage), _) => Some(*usage),
        (None, Some(groq)) => groq.usage,
        (None, None) => None,
    };
    if let Some(usage) = usage {
        items.push(Item::Usage(Box::new(usage.normalize())));
    }
    if let Some(error) = chunk.error {
        items.push(Item::Error(error.0));
    }
    Ok(())
}

/// The text pieces of one choice's delta: reasoning, content, refusal, tool
/// arguments.
fn delta_items<'a>(delta: ChunkDelta<'a>, index: u32, items: &mut Vec<Item<'a>>) {
    // Servers send the same reasoning under several names (vLLM's old and
    // new field, OpenRouter's text and details): the first one present
    // counts.
    let reasoning = [delta.reasoning, delta.reasoning_content]
        .into_iter()
        .flatten()
        .find(|Str(text)| !text.is_empty());
    match reasoning {
        Some(Str(text)) => push_delta(items, Kind::Reasoning, index, text),
        None => {
            for detail in delta.reasoning_details.into_iter().flatten() {
                if let Some(Str(text)) = detail.text.or(detail.summary) {
                    push_delta(items, Kind::Reasoning, index, text);
                }
            }
        }
    }
    match delta.content {
        Some(Content::Text(text)) => push_delta(items, Kind::Text, index, text),
        Some(Content::Parts(parts)) => {
            for (kind, text) in parts {
                push_delta(items, kind, index, text);
            }
        }
        None => {}
    }
    if let Some(Str(text)) = delta.refusal {
        push_delta(items, Kind::Refusal, index, text);
    }
    let calls = delta
        .tool_calls
        .into_iter()
        .flatten()
        .filter_map(|c| c.function);
    for function in calls.chain(delta.function_call) {
        if let Some(AnyText(text)) = function.arguments {
            push_delta(items, Kind::ToolArguments, index, text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::providers::{Delta, ProviderError};

    fn items(payload: &str) -> Vec<Item<'_>> {
        let mut items = Vec::new();
        interpret(payload.as_bytes(), &mut items).unwrap();
        items
    }

    fn delta(kind: Kind, choice: u32, text: &str) -> Item<'_> {
        Item::Delta(Delta {
            kind,
            choice,
            text: Cow::Borrowed(text),
        })
    }

    #[test]
    fn openai_usage_subtracts_cached_input() {
        let got = items(
            r#"{"choices":[],"usage":{"prompt_tokens":100,"completion_tokens":30,
            "prompt_tokens_details":{"cached_tokens":64},
            "completion_tokens_details":{"reasoning_tokens":10}}}"#,
        );
        let Item::Usage(usage) = &got[0] else {
            panic!("{got:?}")
        };
        assert_eq!(usage.input, Some(36));
        assert_eq!(usage.cache_read, Some(64));
        assert_eq!(usage.output, Some(30));
        assert_eq!(usage.reasoning, Some(10));
    }

    #[test]
    fn xai_completion_count_gets_reasoning_added() {
        // The xAI docs' example: 26 + 168 + 304 = total 498.
        let got = items(
            r#"{"choices":[],"usage":{"prompt_tokens":26,"completion_tokens":168,
            "total_tokens":498,"prompt_tokens_details":{"cached_tokens":4},
            "completion_tokens_details":{"reasoning_tokens":304},"num_sources_used":0}}"#,
        );
        let Item::Usage(usage) = &got[0] else {
            panic!("{got:?}")
        };
        assert_eq!((usage.input, usage.output), (Some(22), Some(472)));
    }

    #[test]
    fn deepseek_input_is_the_cache_misses() {
        let got = items(
            r#"{"choices":[{"index":0,"delta":{"content":""},"finish_reason":"stop"}],
            "usage":{"prompt_tokens":20,"completion_tokens":219,"prompt_cache_hit_tokens":16,
            "prompt_cache_miss_tokens":4,"completion_tokens_details":{"reasoning_tokens":205}}}"#,
        );
        let Item::Usage(usage) = &got[0] else {
            panic!("{got:?}")
        };
        assert_eq!((usage.input, usage.cache_read), (Some(4), Some(16)));
        assert_eq!((usage.output, usage.reasoning), (Some(219), Some(205)));
    }

    #[test]
    fn groq_usage_is_read_under_x_groq() {
        let got =
            items(r#"{"choices":[],"x_groq":{"usage":{"prompt_tokens":5,"completion_tokens":7}}}"#);
        assert!(matches!(&got[0], Item::Usage(u) if u.output == Some(7) && u.input == Some(5)));
    }

    #[test]
    fn reasoning_under_two_names_counts_once() {
        let got = items(
            r#"{"choices":[{"index":0,"delta":{"content":"","reasoning":"The",
            "reasoning_details":[{"type":"reasoning.text","text":"The"}]}}]}"#,
        );
        assert_eq!(got, [delta(Kind::Reasoning, 0, "The")]);
        let got = items(
            r#"{"choices":[{"index":1,"delta":{"reasoning_details":[{"type":"reasoning.summary","summary":"S"},{"type":"reasoning.encrypted","data":"xx"}]}}]}"#,
        );
        assert_eq!(got, [delta(Kind::Reasoning, 1, "S")]);
    }

    #[test]
    fn tool_arguments_refusals_and_choices_are_told_apart() {
        let got = items(
            r#"{"model":"m","choices":[{"index":2,"delta":{"refusal":"No"}},
            {"index":1,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\""}}]}},
            {"index":0,"delta":{"tool_calls":[{"function":{"name":"f","arguments":{"b":1}}}]}}]}"#,
        );
        assert_eq!(
            got,
            [
                Item::Model(Cow::Borrowed("m")),
                delta(Kind::Refusal, 2, "No"),
                Item::Delta(Delta {
                    kind: Kind::ToolArguments,
                    choice: 1,
                    text: Cow::Owned("{\"a\"".into())
                }),
                Item::Delta(Delta {
                    kind: Kind::ToolArguments,
                    choice: 0,
                    text: Cow::Owned("{\"b\":1}".into())
                }),
            ]
        );
    }

    #[test]
    fn mistral_content_parts_split_thinking_from_text() {
        let got = items(
            r#"{"choices":[{"index":0,"delta":{"content":[{"type":"thinking","thinking":[{"type":"text","text":"hm"}]},{"type":"text","text":"Hi"}]}}]}"#,
        );
        assert_eq!(
            got,
            [delta(Kind::Reasoning, 0, "hm"), delta(Kind::Text, 0, "Hi")]
        );
    }

    #[test]
    fn an_error_chunk_carries_the_message() {
        let got = items(r#"{"error":{"message":"Sorry","type":"server_error"}}"#);
        assert_eq!(
            got,
            [Item::Error(ProviderError {
                code: Some("server_error".into()),
                message: "Sorry".into()
            })]
        );
    }

    #[test]
    fn text_without_escapes_is_borrowed_from_the_payload() {
        let got = items(
            r#"{"choices":[{"index":0,"delta":{"content":"Hi"}},{"index":1,"delta":{"content":"\n"}}]}"#,
        );
        assert!(matches!(&got[0], Item::Delta(d) if matches!(d.text, Cow::Borrowed("Hi"))));
        assert!(matches!(&got[1], Item::Delta(d) if matches!(&d.text, Cow::Owned(t) if t == "\n")));
    }

    #[test]
    fn servers_are_told_apart_by_their_chunks() {
        let cases = [
            (r#"{"id":"gen-1","choices":[]}"#, Some(Server::OpenRouter)),
            (
                r#"{"id":"x","x_groq":{"id":"req"},"choices":[]}"#,
                Some(Server::Groq),
            ),
            (
                r#"{"system_fingerprint":"b6290-1b3f0c2a","choices":[]}"#,
                Some(Server::LlamaCpp),
            ),
            (
                r#"{"model":"deepseek-reasoner","choices":[]}"#,
                Some(Server::DeepSeek),
            ),
            (
                r#"{"choices":[],"usage":{"num_sources_used":0}}"#,
                Some(Server::XAi),
            ),
            (
                r#"{"system_fingerprint":"fp_5050236cbd","choices":[]}"#,
                None,
            ),
            ("[DONE]", None),
        ];
        for (payload, want) in cases {
            assert_eq!(server(payload.as_bytes()), want, "{payload}");
        }
    }

    #[test]
    fn done_ends_and_broken_json_is_an_error() {
        assert_eq!(items("[DONE]"), [Item::End]);
        let mut out = Vec::new();
        let error = interpret(b"{\"choices\":[", &mut out).unwrap_err();
        assert!(
            error.starts_with("the payload is not valid JSON"),
            "{error}"
        );
        let error = interpret(b"{\"choices\":5}", &mut out).unwrap_err();
        assert!(error.contains("list was expected"), "{error}");
    }
}
