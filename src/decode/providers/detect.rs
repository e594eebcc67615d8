//! Telling the format of a stream from its first bytes.
//!
//! `curl -i` output is read past its status line and headers, which may be
//! several blocks when a `100 Continue` comes first. The body is then
//! classified by its framing (SSE field lines, a JSON object per line, or
//! a JSON array) and by the keys its first events carry.

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::Format;
use crate::input::sse::Parser;

/// The keys that tell formats apart.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Probe {
    #[serde(rename = "type")]
    kind: Option<String>,
    object: Option<String>,
    choices: Option<IgnoredAny>,
    candidates: Option<IgnoredAny>,
    usage_metadata: Option<IgnoredAny>,
    model_version: Option<IgnoredAny>,
    response_id: Option<IgnoredAny>,
    error: Option<serde_json::Value>,
    // Ollama's keys are snake case.
    #[serde(rename = "created_at")]
    created_at: Option<IgnoredAny>,
    done: Option<IgnoredAny>,
    message: Option<IgnoredAny>,
    response: Option<IgnoredAny>,
}

/// The format of a stream that starts with `first`, or `None` when these
/// bytes do not show one of the formats. Give it the first read, or up to
/// 64 KiB. A `None` on a prefix that ends inside the first event may turn
/// into a verdict with more bytes, so a caller with fewer than it wants can
/// ask again.
///
/// The verdict comes from the first event or line that decides it:
/// - `event: message_start` or a `"type": "message_start"` (or `"error"`,
///   Anthropic's error before any message) is [`Format::Anthropic`];
/// - an event or `type` starting with `response.` is
///   [`Format::OpenAiResponses`];
/// - `"object": "chat.completion.chunk"` (or `text_completion`), `choices`,
///   or `[DONE]` is [`Format::OpenAiChat`];
/// - `candidates`, `usageMetadata`, `modelVersion` or `responseId` without
///   `object` is [`Format::Gemini`], or [`Format::GeminiArray`] inside a
///   JSON array;
/// - a JSON line with `done` and `message` or `response`, or with only an
///   `error` string, is [`Format::Ollama`].
///
/// Events with only an `error` object decide nothing, and the search goes
/// on to the next one. An event cut off by the end of `first` is judged by
/// the quoted words in it (`"chat.completion.chunk"`, `"message_start"`,
/// `"response.…`, `"candidates"`).
pub fn detect(first: &[u8]) -> Option<Format> {
    let body = skip_http_headers(first)?;
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let start = first_significant_line(body)?;
    let body = &body[start..];
    let line = body
        .split(|&b| b == b'\n' || b == b'\r')
        .next()
        .unwrap_or_default();
    match line.first()? {
        b'{' => ndjson(body),
        b'[' => array(body),
        _ if is_sse_field(line) => sse(body, line),
        _ => None,
    }
}

/// The body after any HTTP status lines and headers, or `None` when the
/// headers do not end within `bytes`.
fn skip_http_headers(mut bytes: &[u8]) -> Option<&[u8]> {
    while bytes.starts_with(b"HTTP/") {
        let crlf = memchr::memmem::find(bytes, b"\r\n\r\n").map(|at| at + 4);
        let lf = memchr::memmem::find(bytes, b"\n\n").map(|at| at + 2);
        let end = match (crlf, lf) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        bytes = &bytes[end..];
    }
    Some(bytes)
}

/// The offset of the first line that is neither blank nor an SSE comment.
fn first_significant_line(body: &[u8]) -> Option<usize> {
    let mut at = 0;
    while at < body.len() {
        let end = memchr::memchr2(b'\n', b'\r', &body[at..]).map_or(body.len(), |i| at + i);
        let line = &body[at..end];
        if !line.trim_ascii().is_empty() && !line.starts_with(b":") {
            return Some(at + (line.len() - line.trim_ascii_start().len()));
        }
        at = end + 1;
    }
    None
}

/// Whether more bytes than `first` may still show a format, when
/// [`detect`] found none in them: the `curl -i` headers or the first line
/// that counts are not complete yet, or that line starts as SSE, a JSON
/// object or a JSON array do. A `false` is final: the stream is no
/// provider's.
pub fn may_show_a_format(first: &[u8]) -> bool {
    let Some(body) = skip_http_headers(first) else {
        return true;
    };
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let Some(start) = first_significant_line(body) else {
        return true;
    };
    let body = &body[start..];
    let end = memchr::memchr2(b'\n', b'\r', body);
    let line = &body[..end.unwrap_or(body.len())];
    // A field's name may still be arriving.
    if end.is_none() && line.len() < 8 {
        return true;
    }
    matches!(line.first(), Some(b'{' | b'[')) || is_sse_field(line)
}

/// Whether a line is one of the SSE fields providers send.
fn is_sse_field(line: &[u8]) -> bool {
    [&b"data"[..], b"event", b"id", b"retry"]
        .iter()
        .any(|field| {
            line.strip_prefix(*field)
                .is_some_and(|rest| rest.is_empty() || rest[0] == b':')
        })
}

/// The verdict for an SSE body.
fn sse(body: &[u8], first_line: &[u8]) -> Option<Format> {
    // The first event's name decides even before its data is whole.
    if let Some(name) = first_line.strip_prefix(b"event:") {
        let name = name.strip_prefix(b" ").unwrap_or(name);
        if let Some(format) = by_event_name(name) {
            return Some(format);
        }
    }
    let mut parser = Parser::new();
    let mut verdict = None;
    parser.feed(body, |boundary| {
        if verdict.is_some() {
            return;
        }
        if let Some(event) = boundary.event {
            verdict = by_event_name(event.name).or_else(|| by_data(event.data));
        }
    });
    verdict.or_else(|| {
        let data = parser.end_of_input(|_| {}).data?;
        by_data(&data).or_else(|| by_quoted_value(&data))
    })
}

/// The format that the data of an event cut off by the end of `first`
/// shows through the quoted words only it sends. The data is not whole
/// JSON, so its keys cannot be read.
fn by_quoted_value(data: &[u8]) -> Option<Format> {
    let has = |word: &[u8]| memchr::memmem::find(data, word).is_some();
    if has(b"\"chat.completion.chunk\"") {
        Some(Format::OpenAiChat)
    } else if has(b"\"message_start\"") {
        Some(Format::Anthropic)
    } else if has(b"\"response.") {
        Some(Format::OpenAiResponses)
    } else if has(b"\"candidates\"") && !has(b"\"object\"") {
        Some(Format::Gemini)
    } else {
        None
    }
}

/// The format an SSE event name shows, if any.
fn by_event_name(name: &[u8]) -> Option<Format> {
    if name.starts_with(b"response.") {
        return Some(Format::OpenAiResponses);
    }
    match name {
        b"message_start"
        | b"content_block_start"
        | b"content_block_delta"
        | b"message_delta"
        | b"message_stop" => Some(Format::Anthropic),
        _ => None,
    }
}

/// The format one SSE event's data shows, if any.
fn by_data(data: &[u8]) -> Option<Format> {
    if data.trim_ascii_start().starts_with(b"[DONE]") {
        return Some(Format::OpenAiChat);
    }
    let probe: Probe = serde_json::from_slice(data).ok()?;
    match probe.kind.as_deref() {
        Some(kind) if kind.starts_with("response.") => return Some(Format::OpenAiResponses),
        Some(
            "message_start"
            | "content_block_start"
            | "content_block_delta"
            | "message_delta"
            | "message_stop"
            | "error",
        ) => return Some(Format::Anthropic),
        _ => {}
    }
    if matches!(
        probe.object.as_deref(),
        Some("chat.completion.chunk" | "text_completion")
    ) || probe.choices.is_some()
    {
        return Some(Format::OpenAiChat);
    }
    if probe.object.is_none() && is_gemini(&probe) {
        return Some(Format::Gemini);
    }
    None
}

fn is_gemini(probe: &Probe) -> bool {
    probe.candidates.is_some()
        || probe.usage_metadata.is_some()
        || probe.model_version.is_some()
        || probe.response_id.is_some()
}

/// The verdict for a body whose first line is a JSON object.
fn ndjson(body: &[u8]) -> Option<Format> {
    let line = memchr::memchr(b'\n', body).map_or(body, |end| &body[..end]);
    let probe: Probe = serde_json::from_slice(line).ok()?;
    let text = probe.message.is_some() || probe.response.is_some();
    let ollama_error = matches!(probe.error, Some(serde_json::Value::String(_)))
        && probe.kind.is_none()
        && probe.object.is_none();
    (probe.done.is_some() && text || ollama_error).then_some(Format::Ollama)
}

/// The verdict for a body that opens a JSON array.
fn array(body: &[u8]) -> Option<Format> {
    let inside = body.get(1..)?.trim_ascii_start();
    if !inside.starts_with(b"{") {
        return None;
    }
    let gemini = [
        &b"\"candidates\""[..],
        b"\"usageMetadata\"",
        b"\"modelVersion\"",
        b"\"responseId\"",
    ]
    .iter()
    .any(|key| memchr::memmem::find(inside, key).is_some());
    gemini.then_some(Format::GeminiArray)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curl_i_headers_are_skipped_with_a_100_continue() {
        let body = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/2 200\r\ncontent-type: text/event-stream\r\n\r\ndata: {\"object\":\"chat.completion.chunk\",\"choices\":[]}\n\n";
        assert_eq!(detect(body), Some(Format::OpenAiChat));
        assert_eq!(
            detect(b"HTTP/2 200\r\ncontent-type: text/event-stream\r\n"),
            None
        );
    }

    #[test]
    fn an_event_name_decides_before_its_data_is_whole() {
        assert_eq!(
            detect(b"event: message_start\ndata: {\"ty"),
            Some(Format::Anthropic)
        );
        assert_eq!(
            detect(b"event: response.created\n"),
            Some(Format::OpenAiResponses)
        );
    }

    #[test]
    fn a_first_event_cut_off_is_read_by_its_quoted_words() {
        let cut = b"data: {\"id\":\"x\",\"object\": \"chat.completion.chunk\",\"choi";
        assert_eq!(detect(cut), Some(Format::OpenAiChat));
        assert_eq!(
            detect(b"data: {\"candidates\": [{\"content\": {\"pa"),
            Some(Format::Gemini)
        );
        assert_eq!(detect(b"data: {\"id\":\"x\",\"obj"), None);
    }

    #[test]
    fn error_only_events_decide_nothing() {
        let body = b"data: {\"error\":{\"message\":\"x\"}}\n\ndata: {\"candidates\":[]}\r\n\r\n";
        assert_eq!(detect(body), Some(Format::Gemini));
        assert_eq!(detect(b"data: {\"error\":{\"message\":\"x\"}}\n\n"), None);
    }

    #[test]
    fn json_lines_and_arrays() {
        assert_eq!(
            detect(b"{\"error\":\"model not found\"}\n"),
            Some(Format::Ollama)
        );
        assert_eq!(
            detect(b"[{\n  \"candidates\": ["),
            Some(Format::GeminiArray)
        );
        assert_eq!(detect(b"[1, 2]"), None);
        assert_eq!(
            detect(b"{\"object\":\"chat.completion\",\"choices\":[]}"),
            None
        );
    }

    #[test]
    fn text_is_no_stream() {
        assert_eq!(detect(b"hello world\n"), None);
        assert_eq!(detect(b""), None);
        assert_eq!(detect(b"database: up\n"), None);
    }
}
