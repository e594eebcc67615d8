//! Provider streams: the formats, how to tell them apart, and the items
//! that one event's payload yields.
//!
//! Each format has its own file with a pure interpreter. One payload goes
//! in (an SSE event's data, an NDJSON line, or an element of a JSON array)
//! and normalized [`Item`]s come out. Each interpreter maps its provider's
//! usage fields to the same buckets, so a [`Usage`] means the same thing
//! whatever the provider. The interpreters keep no state between payloads:
//! merging usage and picking the terminal event are left to the caller.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};

pub mod anthropic;
mod detect;
pub mod gemini;
pub mod ollama;
pub mod openai_chat;
pub mod openai_responses;

pub use detect::{detect, may_show_a_format};

/// A provider's streaming wire format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// OpenAI Chat Completions (`/v1/chat/completions`), as OpenAI and the
    /// servers compatible with it send it: OpenRouter, DeepSeek, Mistral,
    /// Groq, xAI, vLLM, llama.cpp, Ollama's `/v1`. Data-only SSE that ends
    /// with `data: [DONE]`.
    OpenAiChat,
    /// OpenAI Responses (`/v1/responses`): SSE events named after their
    /// `type`. It ends with `response.completed` (or `incomplete`, `failed`).
    OpenAiResponses,
    /// Anthropic Messages (`/v1/messages`): SSE events named after their
    /// `type`. It ends with `message_stop`.
    Anthropic,
    /// Gemini `streamGenerateContent?alt=sse`: data-only SSE, usually
    /// CRLF-framed, with no terminator.
    Gemini,
    /// Gemini `streamGenerateContent` without `alt=sse`: one JSON array
    /// whose elements arrive one by one.
    GeminiArray,
    /// Ollama's native `/api/chat` and `/api/generate`: one JSON object per
    /// line. The last one has `"done": true`.
    Ollama,
}

/// How a format's payloads are framed on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    /// Server-sent events. The payload is each event's data (see
    /// [`crate::input::sse`]).
    Sse,
    /// Newline-delimited JSON. The payload is each line.
    Lines,
    /// The elements of one JSON array (see [`gemini::ArraySplitter`]).
    JsonArray,
}

impl Format {
    /// Every format, in the order detection tries them.
    pub const ALL: [Format; 6] = [
        Format::OpenAiChat,
        Format::OpenAiResponses,
        Format::Anthropic,
        Format::Gemini,
        Format::GeminiArray,
        Format::Ollama,
    ];

    /// The format's name on the command line, in the ecosystem's words.
    pub fn name(self) -> &'static str {
        match self {
            Format::OpenAiChat => "openai-chat",
            Format::OpenAiResponses => "openai-responses",
            Format::Anthropic => "anthropic",
            Format::Gemini => "gemini",
            Format::GeminiArray => "gemini-array",
            Format::Ollama => "ollama",
        }
    }

    /// The format a command-line name stands for.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|format| format.name() == name)
    }

    /// How the format's payloads are framed.
    pub fn wire(self) -> Wire {
        match self {
            Format::OpenAiChat | Format::OpenAiResponses | Format::Anthropic | Format::Gemini => {
                Wire::Sse
            }
            Format::GeminiArray => Wire::JsonArray,
            Format::Ollama => Wire::Lines,
        }
    }

    /// Appends to `items` what one payload of this format carries. A
    /// payload that is empty or only whitespace yields nothing. An error
    /// says in plain words why the payload could not be read: it is not
    /// JSON, or not the shape this format sends. The items already
    /// appended then stay.
    ///
    /// ```
    /// use tokmeter::decode::providers::{Format, Item, detect};
    ///
    /// let payload = br#"{"model":"gpt-4o","choices":[{"delta":{"content":"Hi"}}]}"#;
    /// let format = detect(&[&b"data: "[..], payload, b"\n\n"].concat()).unwrap();
    /// assert_eq!(format, Format::OpenAiChat);
    /// let mut items = Vec::new();
    /// format.interpret(payload, &mut items).unwrap();
    /// assert_eq!(items[0], Item::Model("gpt-4o".into()));
    /// assert!(matches!(&items[1], Item::Delta(delta) if delta.text == "Hi"));
    /// assert!(format.interpret(b"{\"choices\":", &mut items).is_err());
    /// ```
    pub fn interpret<'a>(self, payload: &'a [u8], items: &mut Vec<Item<'a>>) -> Result<(), String> {
        if payload.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        match self {
            Format::OpenAiChat => openai_chat::interpret(payload, items),
            Format::OpenAiResponses => openai_responses::interpret(payload, items),
            Format::Anthropic => anthropic::interpret(payload, items),
            Format::Gemini | Format::GeminiArray => gemini::interpret(payload, items),
            Format::Ollama => ollama::interpret(payload, items),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a piece of streamed text is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Visible answer text.
    Text,
    /// Thinking text, summarized or raw, streamed apart from the answer.
    Reasoning,
    /// Arguments of a tool call, or a tool's input, as the model wrote them.
    ToolArguments,
    /// A refusal streamed instead of the answer.
    Refusal,
}

impl Kind {
    /// `text`, `reasoning`, `tool_arguments` or `refusal`, as records say.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Reasoning => "reasoning",
            Kind::ToolArguments => "tool_arguments",
            Kind::Refusal => "refusal",
        }
    }
}

/// One piece of streamed text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delta<'a> {
    /// What the text is.
    pub kind: Kind,
    /// Which choice (OpenAI `n`, Gemini `candidateCount`) it belongs to,
    /// 0 for formats with a single answer.
    pub choice: u32,
    /// The text, never empty. It is borrowed from the payload when the JSON
    /// string had no escapes.
    pub text: Cow<'a, str>,
}

/// A provider's token counts, normalized to the same buckets for every
/// format.
///
/// The buckets are disjoint where it matters for money. `input` is
/// uncached input only. OpenAI's and Gemini's prompt counts include the
/// cached tokens, so those are subtracted. Anthropic's `input_tokens`
/// already excludes them. `output` is all billed output, reasoning
/// included: xAI's completion count and Gemini's candidate count exclude
/// reasoning, so it is added back. `reasoning` is the part of `output`
/// spent on reasoning. A field is `None` when the payload did not report
/// it.
/// In a summary, `cost` is written as `reported_cost`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Usage {
    /// Input tokens read without the cache.
    pub input: Option<u64>,
    /// Output tokens, reasoning and tool calls included.
    pub output: Option<u64>,
    /// Input tokens read from the cache.
    pub cache_read: Option<u64>,
    /// Input tokens written to the cache: the 5-minute cache where the
    /// provider has two, otherwise its only one.
    pub cache_write: Option<u64>,
    /// Input tokens written to Anthropic's 1-hour cache.
    pub cache_write_1h: Option<u64>,
    /// The part of `output` that was reasoning.
    pub reasoning: Option<u64>,
    /// The cost the provider reports (OpenRouter's `cost`, in USD), as
    /// decimal text without an exponent: `3.29e-05` reads as `0.0000329`.
    #[serde(rename = "reported_cost")]
    pub cost: Option<String>,
}

impl Usage {
    /// Takes every field `newer` reports, keeping the others. A stream's
    /// usage is its reports merged in order. Later reports restate totals
    /// so far, so they replace earlier figures: adding them would count
    /// twice.
    pub fn merge(&mut self, newer: &Usage) {
        fn take<T: Clone>(old: &mut Option<T>, new: &Option<T>) {
            if new.is_some() {
                old.clone_from(new);
            }
        }
        take(&mut self.input, &newer.input);
        take(&mut self.output, &newer.output);
        take(&mut self.cache_read, &newer.cache_read);
        take(&mut self.cache_write, &newer.cache_write);
        take(&mut self.cache_write_1h, &newer.cache_write_1h);
        take(&mut self.reasoning, &newer.reasoning);
        take(&mut self.cost, &newer.cost);
    }

    /// Whether no field is reported.
    pub fn is_empty(&self) -> bool {
        *self == Usage::default()
    }
}

/// An error that the provider sent inside the stream (an HTTP-200 error
/// event).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderError {
    /// The provider's type or code for it (`overloaded_error`,
    /// `server_error`, `429`), when it gives one.
    pub code: Option<String>,
    /// The provider's message, as sent.
    pub message: String,
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{code}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// One thing a payload carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item<'a> {
    /// A piece of streamed text.
    Delta(Delta<'a>),
    /// A usage report. Merge reports with [`Usage::merge`] and never add
    /// them. Boxed: it is rare and would triple the size of every item.
    Usage(Box<Usage>),
    /// The model the stream names, as the provider spells it
    /// (`gpt-4o-2024-08-06`).
    Model(Cow<'a, str>),
    /// An error sent in the stream. The provider ends the stream after it.
    Error(ProviderError),
    /// The terminal event (`[DONE]`, `message_stop`, `response.completed`,
    /// `"done": true`). Gemini has none: its streams end at end of input.
    End,
}

/// Pushes a delta unless its text is empty.
fn push_delta<'a>(items: &mut Vec<Item<'a>>, kind: Kind, choice: u32, text: Cow<'a, str>) {
    if !text.is_empty() {
        items.push(Item::Delta(Delta { kind, choice, text }));
    }
}

/// Pushes the model unless it is empty.
fn push_model<'a>(items: &mut Vec<Item<'a>>, model: Option<Str<'a>>) {
    if let Some(Str(model)) = model
        && !model.is_empty()
    {
        items.push(Item::Model(model));
    }
}

/// A serde error about a payload, in plain words.
fn malformed(error: serde_json::Error) -> String {
    let text = error.to_string();
    // serde_json ends its message with the place; plain words need it apart.
    let core = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(core, _)| core);
    let message = crate::plain::json_error(core);
    let place = format!("line {}, column {}", error.line(), error.column());
    if error.is_syntax() || error.is_eof() {
        format!("the payload is not valid JSON ({place}): {message}")
    } else {
        format!("the payload is not the shape expected ({place}): {message}")
    }
}

/// `a − b`, or `a` alone when `b` is unknown.
fn minus(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    a.map(|a| a.saturating_sub(b.unwrap_or(0)))
}

/// `a + b` when either is known.
fn plus(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
    }
}

/// A JSON string, borrowed from the payload when it has no escapes.
#[derive(Debug, Default)]
struct Str<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl<'de> Visitor<'de> for StrVisitor {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(text)))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(text.to_string())))
            }
            fn visit_string<E: de::Error>(self, text: String) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(text)))
            }
        }
        deserializer.deserialize_str(StrVisitor)
    }
}

/// Text that is a JSON string or any other JSON value written out compactly:
/// tool arguments sent as a string by some providers and as an object by
/// others. `null` reads as empty.
#[derive(Debug, Default)]
struct AnyText<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for AnyText<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        Ok(AnyText(match value {
            serde_json::Value::Null => Cow::Borrowed(""),
            serde_json::Value::String(text) => Cow::Owned(text),
            other => Cow::Owned(other.to_string()),
        }))
    }
}

/// A token count, read leniently so that one odd figure never costs the
/// rest of a usage report. It takes a whole number, an integral float, or
/// a string of digits. Anything else (null, a negative number, a fraction)
/// is unknown.
#[derive(Clone, Copy, Debug, Default)]
struct Count(Option<u64>);

impl<'de> serde::Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CountVisitor;
        impl<'de> Visitor<'de> for CountVisitor {
            type Value = Count;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a token count")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Count, E> {
                Ok(Count(Some(n)))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Count, E> {
                Ok(Count(u64::try_from(n).ok()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Count, E> {
                let whole = n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n < 1.8e19;
                // The cast is exact: n is a whole number within u64's range.
                Ok(Count(whole.then_some(n as u64)))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Count, E> {
                Ok(Count(text.parse().ok()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Count, E> {
                Ok(Count(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Count, E> {
                Ok(Count(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Count, D::Error> {
                d.deserialize_any(CountVisitor)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Count, E> {
                Ok(Count(None))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Count, A::Error> {
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(Count(None))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Count, A::Error> {
                while map
                    .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Count(None))
            }
        }
        deserializer.deserialize_any(CountVisitor)
    }
}

/// A provider-reported cost as decimal text: a JSON number printed in
/// full without an exponent (the shortest decimal that reads back as the
/// same number), or a string that is a plain decimal. Anything else is
/// unknown.
#[derive(Clone, Debug, Default)]
struct Cost(Option<String>);

impl<'de> serde::Deserialize<'de> for Cost {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        let text = match value {
            serde_json::Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
            serde_json::Value::Number(n) => {
                n.as_f64().filter(|x| x.is_finite()).map(|x| x.to_string())
            }
            serde_json::Value::String(text) => {
                let digits = text.strip_prefix('-').unwrap_or(&text);
                let decimal = digits.bytes().filter(|&b| b == b'.').count() <= 1
                    && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                    && digits.bytes().any(|b| b.is_ascii_digit());
                decimal.then_some(text)
            }
            _ => None,
        };
        Ok(Cost(text))
    }
}

/// An error object as providers send it: `{"type" or "code", "message"}`,
/// or a bare string (Ollama).
#[derive(Debug)]
struct ErrorBody(ProviderError);

impl<'de> serde::Deserialize<'de> for ErrorBody {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        Ok(ErrorBody(error_from_value(&value)))
    }
}

/// The code and message of an error value, whatever its shape.
fn error_from_value(value: &serde_json::Value) -> ProviderError {
    use serde_json::Value;
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    match value {
        Value::String(message) => ProviderError {
            code: None,
            message: message.clone(),
        },
        Value::Object(map) => ProviderError {
            code: text(map.get("type"))
                .or_else(|| text(map.get("code")))
                .or_else(|| text(map.get("status"))),
            message: text(map.get("message")).unwrap_or_else(|| value.to_string()),
        },
        other => ProviderError {
            code: None,
            message: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests;
