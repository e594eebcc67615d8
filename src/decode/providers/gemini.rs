//! Gemini `GenerateContentResponse` chunks, and the JSON array they arrive
//! in when `alt=sse` is left out.
//!
//! `usageMetadata` sits on every chunk and is cumulative, so the last one
//! wins. Thought parts are reasoning. A function call's `args` is an object
//! and is metered as its compact JSON. The [`ArraySplitter`] cuts the array
//! form into elements incrementally, tracking only string and bracket
//! nesting, and [`stray_error`] finds an error written outside SSE framing.

use serde::Deserialize;

use super::{
    AnyText, Count, ErrorBody, Item, Kind, Str, Usage, malformed, minus, plus, push_delta,
    push_model,
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Chunk<'a> {
    #[serde(borrow, default)]
    candidates: Option<Vec<Candidate<'a>>>,
    #[serde(default)]
    usage_metadata: Option<RawUsage>,
    #[serde(borrow, default)]
    model_version: Option<Str<'a>>,
    #[serde(default)]
    error: Option<ErrorBody>,
}

#[derive(Deserialize)]
struct Candidate<'a> {
    #[serde(borrow, default)]
    content: Option<Content<'a>>,
    #[serde(default)]
    index: Count,
}

#[derive(Deserialize)]
struct Content<'a> {
    #[serde(borrow, default)]
    parts: Option<Vec<Part<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Part<'a> {
    #[serde(borrow, default)]
    text: Option<Str<'a>>,
    #[serde(default)]
    thought: Option<bool>,
    #[serde(borrow, default)]
    function_call: Option<FunctionCall<'a>>,
    #[serde(borrow, default)]
    executable_code: Option<Code<'a>>,
}

#[derive(Deserialize)]
struct FunctionCall<'a> {
    #[serde(borrow, default)]
    args: Option<AnyText<'a>>,
}

#[derive(Deserialize)]
struct Code<'a> {
    #[serde(borrow, default)]
    code: Option<Str<'a>>,
}

#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct RawUsage {
    prompt_token_count: Count,
    cached_content_token_count: Count,
    candidates_token_count: Count,
    thoughts_token_count: Count,
    tool_use_prompt_token_count: Count,
}

impl RawUsage {
    /// Tool results fed back to the model are billed as input. Thoughts
    /// are billed as output but are not in the candidates' count.
    fn normalize(self) -> Usage {
        let cache_read = self.cached_content_token_count.0;
        let input = minus(self.prompt_token_count.0, cache_read);
        let reasoning = self.thoughts_token_count.0;
        Usage {
            input: plus(input, self.tool_use_prompt_token_count.0),
            output: plus(self.candidates_token_count.0, reasoning),
            cache_read,
            cache_write: None,
            cache_write_1h: None,
            reasoning,
            cost: None,
        }
    }
}

/// Appends the items of one chunk; see [`super::Format::interpret`].
/// Gemini sends no terminal event, and an `{"error": …}` object inside the
/// stream carries the provider's message.
pub fn interpret<'a>(payload: &'a [u8], items: &mut Vec<Item<'a>>) -> Result<(), String> {
    let chunk: Chunk<'a> = serde_json::from_slice(payload).map_err(malformed)?;
    push_model(items, chunk.model_version);
    for (position, candidate) in chunk.candidates.into_iter().flatten().enumerate() {
        let index = candidate.index.0.unwrap_or(position as u64);
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        let parts = candidate.content.and_then(|c| c.parts);
        for part in parts.into_iter().flatten() {
            if let Some(Str(text)) = part.text {
                let kind = if part.thought == Some(true) {
                    Kind::Reasoning
                } else {
                    Kind::Text
                };
                push_delta(items, kind, index, text);
            }
            if let Some(AnyText(args)) = part.function_call.and_then(|call| call.args) {
                push_delta(items, Kind::ToolArguments, index, args);
            }
            if let Some(Str(code)) = part.executable_code.and_then(|code| code.code) {
                push_delta(items, Kind::ToolArguments, index, code);
            }
        }
    }
    if let Some(usage) = chunk.usage_metadata {
        items.push(Item::Usage(Box::new(usage.normalize())));
    }
    if let Some(ErrorBody(error)) = chunk.error {
        items.push(Item::Error(error));
    }
    Ok(())
}

/// The error in an SSE block that holds JSON outside the SSE framing, or
/// `None` when it holds none. Gemini and Vertex can write a pretty-printed
/// error object into an HTTP-200 stream without `data:` (a 429
/// `RESOURCE_EXHAUSTED` abort, for one). Its lines read as fields the SSE
/// rules ignore, so the parser dispatches nothing for them. The caller hands
/// over the raw bytes of a block that ended without an event, from the
/// previous boundary to this one or to the end of input.
pub fn stray_error(block: &[u8]) -> Option<super::ProviderError> {
    let mut json = Vec::new();
    for line in block.split(|&b| b == b'\n' || b == b'\r') {
        let field = line.split(|&b| b == b':').next().unwrap_or_default();
        if line.starts_with(b":") || matches!(field, b"data" | b"event" | b"id" | b"retry") {
            continue;
        }
        json.extend_from_slice(line);
        json.push(b'\n');
    }
    let start = json.iter().position(|&b| b == b'{')?;
    #[derive(Deserialize)]
    struct Stray {
        error: ErrorBody,
    }
    let stray: Stray = serde_json::from_slice(&json[start..]).ok()?;
    Some(stray.error.0)
}

/// One element cut from the array by [`ArraySplitter::feed`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Element<'a> {
    /// Stream offset just past the element's closing bracket.
    pub end: u64,
    /// The element's JSON text.
    pub bytes: &'a [u8],
}

/// Where the splitter is in the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// Outside any array: an object here is an element too (an error body
    /// sent alone).
    Outside,
    /// Inside the array, between elements.
    Between,
    /// Inside an element.
    Element,
}

/// Cuts a streamed JSON array into its object and array elements,
/// incrementally. Scalars between elements, the separators and anything
/// outside brackets are skipped. The splitter does not validate the JSON:
/// the element's reader does that.
#[derive(Debug)]
pub struct ArraySplitter {
    offset: u64,
    place: Place,
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// Where the current element started, and where its end returns to.
    outer: Place,
    element: Vec<u8>,
}

impl Default for ArraySplitter {
    fn default() -> Self {
        ArraySplitter::new()
    }
}

impl ArraySplitter {
    /// A splitter at the start of a stream.
    pub fn new() -> Self {
        ArraySplitter {
            offset: 0,
            place: Place::Outside,
            depth: 0,
            in_string: false,
            escaped: false,
            outer: Place::Outside,
            element: Vec::new(),
        }
    }

    /// Reads the next piece of the stream and calls `on` for each element
    /// completed in it, in order.
    pub fn feed(&mut self, bytes: &[u8], mut on: impl FnMut(Element<'_>)) {
        let base = self.offset;
        self.offset += bytes.len() as u64;
        let mut start = 0;
        for (at, &byte) in bytes.iter().enumerate() {
            match self.place {
                Place::Outside | Place::Between => match byte {
                    b'[' if self.place == Place::Outside => self.place = Place::Between,
                    b'{' | b'[' => {
                        self.outer = self.place;
                        self.place = Place::Element;
                        self.depth = 1;
                        start = at;
                    }
                    b']' => self.place = Place::Outside,
                    _ => {}
                },
                Place::Element if self.in_string => {
                    if self.escaped {
                        self.escaped = false;
                    } else if byte == b'\\' {
                        self.escaped = true;
                    } else if byte == b'"' {
                        self.in_string = false;
                    }
                }
                Place::Element => match byte {
                    b'"' => self.in_string = true,
                    b'{' | b'[' => self.depth = self.depth.saturating_add(1),
                    b'}' | b']' => {
                        self.depth -= 1;
                        if self.depth == 0 {
                            self.place = self.outer;
                            let end = base + at as u64 + 1;
                            if self.element.is_empty() {
                                on(Element {
                                    end,
                                    bytes: &bytes[start..=at],
                                });
                            } else {
                                self.element.extend_from_slice(&bytes[..=at]);
                                on(Element {
                                    end,
                                    bytes: &self.element,
                                });
                                self.element.clear();
                            }
                        }
                    }
                    _ => {}
                },
            }
        }
        if self.place == Place::Element {
            let from = if self.element.is_empty() { start } else { 0 };
            self.element.extend_from_slice(&bytes[from..]);
        }
    }

    /// Ends the stream, returning how many bytes of an unfinished element
    /// were dropped.
    pub fn end_of_input(&mut self) -> u64 {
        let dropped = self.element.len() as u64;
        *self = ArraySplitter {
            offset: self.offset,
            ..ArraySplitter::new()
        };
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_adds_thoughts_to_output_and_drops_cache_from_input() {
        let payload = br#"{"candidates":[{"content":{"parts":[{"text":"a","thought":true},{"text":"b"}]},"index":1}],
            "usageMetadata":{"promptTokenCount":100,"cachedContentTokenCount":60,"candidatesTokenCount":29,
            "thoughtsTokenCount":256,"toolUsePromptTokenCount":5},"modelVersion":"gemini-3-pro-preview"}"#;
        let mut got = Vec::new();
        interpret(payload, &mut got).unwrap();
        assert_eq!(got[0], Item::Model("gemini-3-pro-preview".into()));
        assert!(matches!(&got[1], Item::Delta(d) if d.kind == Kind::Reasoning && d.choice == 1));
        assert!(matches!(&got[2], Item::Delta(d) if d.kind == Kind::Text && d.text == "b"));
        let Item::Usage(usage) = &got[3] else {
            panic!("{got:?}")
        };
        assert_eq!((usage.input, usage.cache_read), (Some(45), Some(60)));
        assert_eq!((usage.output, usage.reasoning), (Some(285), Some(256)));
    }

    #[test]
    fn function_call_args_are_metered_as_json() {
        let payload = br#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{"city":"Paris"}}}]}}]}"#;
        let mut got = Vec::new();
        interpret(payload, &mut got).unwrap();
        assert!(
            matches!(&got[0], Item::Delta(d) if d.kind == Kind::ToolArguments && d.text == r#"{"city":"Paris"}"#)
        );
    }

    #[test]
    fn an_error_object_carries_the_message() {
        let mut got = Vec::new();
        interpret(
            br#"{"error":{"code":500,"message":"Error","status":"INTERNAL"}}"#,
            &mut got,
        )
        .unwrap();
        assert!(matches!(&got[0], Item::Error(e) if e.message == "Error"));
    }

    #[test]
    fn an_error_outside_the_sse_framing_is_found_in_its_block() {
        let stream = b"data: {\"candidates\":[]}\r\n\r\n{\n  \"error\": {\n    \"code\": 429,\n    \"message\": \"Resource exhausted\",\n    \"status\": \"RESOURCE_EXHAUSTED\"\n  }\n}\n";
        let mut parser = crate::input::sse::Parser::new();
        let mut blocks = Vec::new();
        let mut from = 0;
        parser.feed(stream, |boundary| {
            blocks.push((from, boundary.end, boundary.event.is_some()));
            from = boundary.end;
        });
        let tail = parser.end_of_input(|_| {});
        assert_eq!(blocks, [(0, 27, true)]);
        assert_eq!(tail.data, None, "the parser sees no event in it");
        let error = stray_error(&stream[27..]).unwrap();
        assert_eq!(error.message, "Resource exhausted");
        assert_eq!(stray_error(b": keep-alive\n\n"), None);
        assert_eq!(stray_error(b"event: ping\n{\"candidates\": []}\n"), None);
    }

    fn split(input: &[u8], size: usize) -> (Vec<(u64, Vec<u8>)>, u64) {
        let mut splitter = ArraySplitter::new();
        let mut out = Vec::new();
        for piece in input.chunks(size.max(1)) {
            splitter.feed(piece, |e| out.push((e.end, e.bytes.to_vec())));
        }
        (out, splitter.end_of_input())
    }

    #[test]
    fn the_array_is_cut_into_its_elements_in_any_pieces() {
        let input = b"[{\"a\": \"}]\\\"{\"},\r\n{\"b\": [1, {\"c\": 2}]}\n,\n[3]\n]\n{\"error\": {}}[{\"d\":";
        let whole = split(input, input.len());
        let texts: Vec<_> = whole
            .0
            .iter()
            .map(|(_, e)| String::from_utf8_lossy(e).into_owned())
            .collect();
        assert_eq!(
            texts,
            [
                r#"{"a": "}]\"{"}"#,
                r#"{"b": [1, {"c": 2}]}"#,
                "[3]",
                r#"{"error": {}}"#
            ]
        );
        assert_eq!(whole.0[0].0, 15);
        assert_eq!(whole.1, 5, "the unfinished element is dropped");
        for size in [1, 7] {
            assert_eq!(split(input, size), whole, "pieces of {size}");
        }
    }
}
