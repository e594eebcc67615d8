//! Ollama's native stream lines, from `/api/chat` (text under `message`)
//! and `/api/generate` (text under `response`).
//!
//! The counts come only on the last line, the one with `"done": true`.
//! Ollama leaves out a count that is zero, and old servers left out the
//! prompt count on a cache hit, so an absent count stays unknown. Ollama
//! reports no cache figures.

use serde::Deserialize;

use super::{AnyText, Count, ErrorBody, Item, Kind, Str, Usage, malformed, push_delta, push_model};

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow, default)]
    model: Option<Str<'a>>,
    #[serde(borrow, default)]
    message: Option<Message<'a>>,
    /// `/api/generate`'s text.
    #[serde(borrow, default)]
    response: Option<Str<'a>>,
    #[serde(borrow, default)]
    thinking: Option<Str<'a>>,
    #[serde(default)]
    done: Option<bool>,
    #[serde(default)]
    prompt_eval_count: Count,
    #[serde(default)]
    eval_count: Count,
    #[serde(default)]
    error: Option<ErrorBody>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow, default)]
    content: Option<Str<'a>>,
    #[serde(borrow, default)]
    thinking: Option<Str<'a>>,
    #[serde(borrow, default)]
    tool_calls: Option<Vec<ToolCall<'a>>>,
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

/// Appends the items of one line; see [`super::Format::interpret`]. The
/// `"done": true` line has the usage and is the terminal event. An
/// `{"error": "…"}` line carries the provider's message.
pub fn interpret<'a>(payload: &'a [u8], items: &mut Vec<Item<'a>>) -> Result<(), String> {
    let line: Line<'a> = serde_json::from_slice(payload).map_err(malformed)?;
    push_model(items, line.model);
    let (thinking, content, calls) = match line.message {
        Some(message) => (
            message.thinking.or(line.thinking),
            message.content.or(line.response),
            message.tool_calls,
        ),
        None => (line.thinking, line.response, None),
    };
    if let Some(Str(text)) = thinking {
        push_delta(items, Kind::Reasoning, 0, text);
    }
    if let Some(Str(text)) = content {
        push_delta(items, Kind::Text, 0, text);
    }
    for function in calls.into_iter().flatten().filter_map(|call| call.function) {
        if let Some(AnyText(arguments)) = function.arguments {
            push_delta(items, Kind::ToolArguments, 0, arguments);
        }
    }
    if let Some(ErrorBody(error)) = line.error {
        items.push(Item::Error(error));
    }
    if line.done == Some(true) {
        items.push(Item::Usage(Box::new(Usage {
            input: line.prompt_eval_count.0,
            output: line.eval_count.0,
            ..Usage::default()
        })));
        items.push(Item::End);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(payload: &str) -> Vec<Item<'_>> {
        let mut items = Vec::new();
        interpret(payload.as_bytes(), &mut items).unwrap();
        items
    }

    #[test]
    fn an_error_line_carries_the_message() {
        let got = items(r#"{"error":"an error was encountered while running the model"}"#);
        assert!(
            matches!(&got[0], Item::Error(e) if e.message == "an error was encountered while running the model" && e.code.is_none())
        );
    }

    #[test]
    fn thinking_and_whole_tool_calls_have_their_kinds() {
        let got = items(
            r#"{"model":"qwen3","message":{"role":"assistant","content":"","thinking":"Hm",
            "tool_calls":[{"function":{"name":"f","arguments":{"x":1}}}]},"done":false}"#,
        );
        assert!(matches!(&got[1], Item::Delta(d) if d.kind == Kind::Reasoning && d.text == "Hm"));
        assert!(
            matches!(&got[2], Item::Delta(d) if d.kind == Kind::ToolArguments && d.text == r#"{"x":1}"#)
        );
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn an_absent_count_is_unknown() {
        let got = items(r#"{"model":"m","response":"","done":true,"eval_count":3}"#);
        let Item::Usage(usage) = &got[1] else {
            panic!("{got:?}")
        };
        assert_eq!((usage.input, usage.output), (None, Some(3)));
        assert_eq!(got[2], Item::End);
    }
}
