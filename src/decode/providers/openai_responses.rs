//! OpenAI Responses stream events.
//!
//! Only the `*.delta` events are metered. The `*.done` events, the finished
//! output items and the output array of `response.completed` repeat the
//! same text, and counting them would count it twice. Usage sits on the
//! terminal event's `response`.

use serde::Deserialize;

use super::{
    Count, ErrorBody, Item, Kind, ProviderError, Str, Usage, malformed, minus, push_delta,
    push_model,
};

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(borrow, default, rename = "type")]
    kind: Option<Str<'a>>,
    #[serde(borrow, default)]
    delta: Option<Str<'a>>,
    #[serde(borrow, default)]
    response: Option<Response<'a>>,
    #[serde(default)]
    error: Option<ErrorBody>,
    /// An `error` event's own code and message, in the older shape.
    #[serde(default)]
    code: Option<serde_json::Value>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct Response<'a> {
    #[serde(borrow, default)]
    model: Option<Str<'a>>,
    #[serde(default)]
    usage: Option<RawUsage>,
    #[serde(default)]
    error: Option<ErrorBody>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct RawUsage {
    input_tokens: Count,
    output_tokens: Count,
    input_tokens_details: Option<InputDetails>,
    output_tokens_details: Option<OutputDetails>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct InputDetails {
    cached_tokens: Count,
    cache_write_tokens: Count,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct OutputDetails {
    reasoning_tokens: Count,
}

impl RawUsage {
    fn normalize(self) -> Usage {
        let input = self.input_tokens_details.unwrap_or_default();
        let cache_read = input.cached_tokens.0;
        Usage {
            input: minus(self.input_tokens.0, cache_read),
            output: self.output_tokens.0,
            cache_read,
            cache_write: input.cache_write_tokens.0,
            cache_write_1h: None,
            reasoning: self
                .output_tokens_details
                .unwrap_or_default()
                .reasoning_tokens
                .0,
            cost: None,
        }
    }
}

/// What a delta event's text is, by the event's type.
fn delta_kind(kind: &str) -> Option<Kind> {
    match kind {
        "response.output_text.delta" => Some(Kind::Text),
        "response.refusal.delta" => Some(Kind::Refusal),
        "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
            Some(Kind::Reasoning)
        }
        "response.function_call_arguments.delta"
        | "response.custom_tool_call_input.delta"
        | "response.mcp_call_arguments.delta"
        | "response.code_interpreter_call_code.delta"
        | "response.shell_call_command.delta" => Some(Kind::ToolArguments),
        _ => None,
    }
}

/// Appends the items of one event's data; see
/// [`super::Format::interpret`]. `response.completed`, `.incomplete`,
/// `.failed`, `.cancelled` and `.done` (or a `[DONE]` some servers append)
/// are terminal events. An `error` event, or a failed response's `error`,
/// carries the provider's message.
pub fn interpret<'a>(payload: &'a [u8], items: &mut Vec<Item<'a>>) -> Result<(), String> {
    if payload.trim_ascii_start().starts_with(b"[DONE]") {
        items.push(Item::End);
        return Ok(());
    }
    let event: Event<'a> = serde_json::from_slice(payload).map_err(malformed)?;
    let kind = event.kind.as_ref().map_or("", |k| &k.0);
    if let Some(delta_kind) = delta_kind(kind) {
        if let Some(Str(text)) = event.delta {
            push_delta(items, delta_kind, 0, text);
        }
        return Ok(());
    }
    let terminal = matches!(
        kind,
        "response.completed"
            | "response.incomplete"
            | "response.failed"
            | "response.cancelled"
            | "response.done"
    );
    if let Some(response) = event.response {
        push_model(items, response.model);
        if let Some(usage) = response.usage {
            items.push(Item::Usage(Box::new(usage.normalize())));
        }
        if let Some(ErrorBody(error)) = response.error {
            items.push(Item::Error(error));
        }
    }
    if kind == "error" {
        let error = match (event.error, event.message) {
            (Some(ErrorBody(error)), _) => error,
            (None, message) => ProviderError {
                code: event.code.map(|code| match code {
                    serde_json::Value::String(code) => code,
                    other => other.to_string(),
                }),
                message: message.unwrap_or_else(|| "an error event without a message".into()),
            },
        };
        items.push(Item::Error(error));
    }
    if terminal {
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
    fn done_events_repeating_the_text_yield_nothing() {
        let got = items(r#"{"type":"response.output_text.done","text":"Why did"}"#);
        assert!(got.is_empty());
    }

    #[test]
    fn usage_subtracts_cached_input() {
        let got = items(
            r#"{"type":"response.completed","response":{"model":"gpt-5","usage":{"input_tokens":16909,
            "input_tokens_details":{"cached_tokens":15744},"output_tokens":54,
            "output_tokens_details":{"reasoning_tokens":3}}}}"#,
        );
        let Item::Usage(usage) = &got[1] else {
            panic!("{got:?}")
        };
        assert_eq!((usage.input, usage.cache_read), (Some(1165), Some(15744)));
        assert_eq!((usage.output, usage.reasoning), (Some(54), Some(3)));
        assert_eq!(got.last(), Some(&Item::End));
    }

    #[test]
    fn error_then_failed_carries_the_message_and_ends() {
        let got = items(
            r#"{"type":"error","sequence_number":2,"error":{"type":"insufficient_quota","code":"insufficient_quota","message":"You exceeded your current quota"}}"#,
        );
        assert!(
            matches!(&got[0], Item::Error(e) if e.message == "You exceeded your current quota")
        );
        let got = items(r#"{"type":"error","code":"server_error","message":"Boom"}"#);
        assert!(matches!(&got[0], Item::Error(e) if e.to_string() == "server_error: Boom"));
        let got = items(r#"{"type":"response.failed","response":{"usage":null,"error":null}}"#);
        assert_eq!(got, [Item::End]);
    }

    #[test]
    fn reasoning_refusal_and_tool_deltas_have_their_kinds() {
        for (kind, want) in [
            ("response.reasoning_summary_text.delta", Kind::Reasoning),
            ("response.refusal.delta", Kind::Refusal),
            (
                "response.function_call_arguments.delta",
                Kind::ToolArguments,
            ),
        ] {
            let payload = format!(r#"{{"type":"{kind}","delta":"x"}}"#);
            let mut got = Vec::new();
            interpret(payload.as_bytes(), &mut got).unwrap();
            assert!(
                matches!(&got[0], Item::Delta(d) if d.kind == want),
                "{kind}"
            );
        }
    }
}
