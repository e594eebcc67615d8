//! Anthropic Messages stream events.
//!
//! The event's `type` in the data is used, not the SSE event name, because
//! proxies that frame the stream as data only drop the names. Usage comes
//! in two parts. `message_start` has the input and cache counts, with an
//! output of 1 that is only a placeholder and is left out here. Each
//! `message_delta` then has the output so far, cumulative, and newer API
//! versions repeat the input there.

use serde::Deserialize;

use super::{Count, ErrorBody, Item, Kind, Str, Usage, malformed, minus, push_delta, push_model};

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(borrow, default, rename = "type")]
    kind: Option<Str<'a>>,
    #[serde(borrow, default)]
    message: Option<Message<'a>>,
    #[serde(borrow, default)]
    content_block: Option<Block<'a>>,
    #[serde(borrow, default)]
    delta: Option<Block<'a>>,
    #[serde(default)]
    usage: Option<RawUsage>,
    #[serde(default)]
    error: Option<ErrorBody>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow, default)]
    model: Option<Str<'a>>,
    #[serde(default)]
    usage: Option<RawUsage>,
}

/// A content block as started, or a delta to one: `text`, `thinking` and
/// `input_json` carry text. Signatures, citations and redacted thinking do
/// not.
#[derive(Deserialize)]
struct Block<'a> {
    #[serde(borrow, default, rename = "type")]
    kind: Option<Str<'a>>,
    #[serde(borrow, default)]
    text: Option<Str<'a>>,
    #[serde(borrow, default)]
    thinking: Option<Str<'a>>,
    #[serde(borrow, default)]
    partial_json: Option<Str<'a>>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct RawUsage {
    input_tokens: Count,
    output_tokens: Count,
    cache_read_input_tokens: Count,
    cache_creation_input_tokens: Count,
    cache_creation: Option<CacheCreation>,
}

/// The cache writes split by lifetime.
#[derive(Default, Deserialize)]
#[serde(default)]
struct CacheCreation {
    ephemeral_5m_input_tokens: Count,
    ephemeral_1h_input_tokens: Count,
}

impl RawUsage {
    /// The usage, with the output left out when it is `message_start`'s
    /// placeholder.
    fn normalize(self, with_output: bool) -> Usage {
        let split = self.cache_creation.unwrap_or_default();
        let cache_write_1h = split.ephemeral_1h_input_tokens.0;
        let cache_write = split
            .ephemeral_5m_input_tokens
            .0
            .or_else(|| minus(self.cache_creation_input_tokens.0, cache_write_1h));
        Usage {
            input: self.input_tokens.0,
            output: self.output_tokens.0.filter(|_| with_output),
            cache_read: self.cache_read_input_tokens.0,
            cache_write,
            cache_write_1h,
            reasoning: None,
            cost: None,
        }
    }
}

/// Appends the items of one event's data; see
/// [`super::Format::interpret`]. `message_stop` is the terminal event, and
/// an `error` event carries the provider's message.
pub fn interpret<'a>(payload: &'a [u8], items: &mut Vec<Item<'a>>) -> Result<(), String> {
    let event: Event<'a> = serde_json::from_slice(payload).map_err(malformed)?;
    let kind = event.kind.as_ref().map_or("", |k| &k.0);
    match kind {
        "message_start" => {
            if let Some(message) = event.message {
                push_model(items, message.model);
                if let Some(usage) = message.usage {
                    items.push(Item::Usage(Box::new(usage.normalize(false))));
                }
            }
        }
        "content_block_start" => {
            if let Some(block) = event.content_block {
                block_items(block, items);
            }
        }
        "content_block_delta" => {
            if let Some(delta) = event.delta {
                block_items(delta, items);
            }
        }
        "message_delta" => {
            if let Some(usage) = event.usage {
                items.push(Item::Usage(Box::new(usage.normalize(true))));
            }
        }
        "message_stop" => items.push(Item::End),
        "error" => {
            if let Some(ErrorBody(error)) = event.error {
                items.push(Item::Error(error));
            }
        }
        _ => {}
    }
    Ok(())
}

/// The text of a block or a delta, by its type.
fn block_items<'a>(block: Block<'a>, items: &mut Vec<Item<'a>>) {
    let kind = block.kind.as_ref().map_or("", |k| &k.0);
    let (kind, text) = match kind {
        "text" | "text_delta" => (Kind::Text, block.text),
        "thinking" | "thinking_delta" => (Kind::Reasoning, block.thinking),
        "input_json_delta" => (Kind::ToolArguments, block.partial_json),
        _ => return,
    };
    if let Some(Str(text)) = text {
        push_delta(items, kind, 0, text);
    }
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
    fn message_start_output_is_a_placeholder_left_out() {
        let got = items(
            r#"{"type":"message_start","message":{"model":"claude","usage":{"input_tokens":12,"output_tokens":1}}}"#,
        );
        let Item::Usage(usage) = &got[1] else {
            panic!("{got:?}")
        };
        assert_eq!((usage.input, usage.output), (Some(12), None));
    }

    #[test]
    fn cache_writes_are_split_by_lifetime() {
        let got = items(
            r#"{"type":"message_delta","usage":{"output_tokens":5,"cache_read_input_tokens":100,
            "cache_creation_input_tokens":30,
            "cache_creation":{"ephemeral_5m_input_tokens":10,"ephemeral_1h_input_tokens":20}}}"#,
        );
        let Item::Usage(usage) = &got[0] else {
            panic!("{got:?}")
        };
        assert_eq!(usage.cache_read, Some(100));
        assert_eq!(
            (usage.cache_write, usage.cache_write_1h),
            (Some(10), Some(20))
        );
        assert_eq!(usage.input, None, "a delta without input reports none");
        let got = items(r#"{"type":"message_delta","usage":{"cache_creation_input_tokens":30}}"#);
        assert!(matches!(&got[0], Item::Usage(u) if u.cache_write == Some(30)));
    }

    #[test]
    fn thinking_and_tool_input_deltas_are_kinds_of_their_own() {
        let got = items(
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"thinking_delta","thinking":"Hm"}}"#,
        );
        assert!(matches!(&got[0], Item::Delta(d) if d.kind == Kind::Reasoning && d.text == "Hm"));
        let got = items(
            r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"a"}}"#,
        );
        assert!(
            matches!(&got[0], Item::Delta(d) if d.kind == Kind::ToolArguments && d.text == "{\"a")
        );
        let got = items(
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"signature_delta","signature":"EqQB"}}"#,
        );
        assert!(got.is_empty());
    }

    #[test]
    fn an_error_event_with_padding_carries_the_message() {
        let got = items(
            r#"{"type":"error","error":{"details":null,"type":"overloaded_error","message":"Overloaded"}              }"#,
        );
        assert!(
            matches!(&got[0], Item::Error(e) if e.to_string() == "overloaded_error: Overloaded")
        );
    }
}
