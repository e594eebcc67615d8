//! Codex CLI rollouts: `{"timestamp", "type", "payload"}` lines.
//!
//! Usage is in `event_msg` `token_count` events, as running totals
//! (`total_token_usage`), re-emitted unchanged when only the rate limits
//! moved. A call is billed by the growth of the totals: input net of cached
//! input at the input price, cached input at the cache-read price, output
//! (reasoning included) at the output price. Its model is the latest
//! `turn_context`'s.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};

use super::{Agent, Call, Lines, Log, Tokens, parse_time};
use crate::transcript::{describe, replace_lone_surrogates};

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow, default)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    payload: Option<Payload<'a>>,
}

/// The payload fields billing reads; a field of another type in a payload
/// of another kind is ignored.
#[derive(Deserialize)]
struct Payload<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Text<'a>,
    #[serde(borrow, default)]
    id: Text<'a>,
    #[serde(borrow, default)]
    cwd: Text<'a>,
    #[serde(borrow, default)]
    model: Text<'a>,
    #[serde(default)]
    info: Option<Info>,
}

#[derive(Deserialize)]
struct Info {
    total_token_usage: Option<Totals>,
    last_token_usage: Option<Totals>,
}

/// Running totals of a session (or one call's, in `last_token_usage`).
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
struct Totals {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    cached_input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    reasoning_output_tokens: u64,
}

impl Totals {
    /// `self − before`, field by field, if no field went down.
    fn growth(&self, before: &Totals) -> Option<Totals> {
        Some(Totals {
            input_tokens: self.input_tokens.checked_sub(before.input_tokens)?,
            cached_input_tokens: self
                .cached_input_tokens
                .checked_sub(before.cached_input_tokens)?,
            output_tokens: self.output_tokens.checked_sub(before.output_tokens)?,
            reasoning_output_tokens: self
                .reasoning_output_tokens
                .checked_sub(before.reasoning_output_tokens)?,
        })
    }

    /// Tokens by class: cached input is inside input, reasoning inside
    /// output.
    fn tokens(&self) -> Result<Tokens, String> {
        let input = self
            .input_tokens
            .checked_sub(self.cached_input_tokens)
            .ok_or_else(|| {
                format!(
                    "cached_input_tokens ({}) exceed input_tokens ({})",
                    self.cached_input_tokens, self.input_tokens
                )
            })?;
        Ok(Tokens {
            input,
            output: self.output_tokens,
            cache_read: self.cached_input_tokens,
            cache_write: 0,
            cache_write_1h: 0,
            reasoning: self.reasoning_output_tokens,
        })
    }
}

/// A string, or nothing for a value of another type.
#[derive(Default)]
struct Text<'a>(Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Some(Cow::Borrowed(text))))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Text<'de>, E> {
                Ok(Text(Some(Cow::Owned(text.to_string()))))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Text<'de>, E> {
                Ok(Text(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Text<'de>, E> {
                Ok(Text(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Text<'de>, E> {
                Ok(Text(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Text<'de>, E> {
                Ok(Text(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Text<'de>, E> {
                Ok(Text(None))
            }
            fn visit_seq<S: de::SeqAccess<'de>>(self, mut seq: S) -> Result<Text<'de>, S::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
            fn visit_map<M: de::MapAccess<'de>>(self, mut map: M) -> Result<Text<'de>, M::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

/// Reads one rollout.
pub struct Reader {
    session: Arc<str>,
    project: Arc<str>,
    model: Option<Arc<str>>,
    totals: Option<Totals>,
    calls: Vec<Call>,
    lines: Lines,
    number: u64,
}

impl Reader {
    /// A reader for a rollout named `stem` (the session until its
    /// `session_meta` names one).
    pub fn new(stem: &str) -> Reader {
        Reader {
            session: Arc::from(stem),
            project: Arc::from(""),
            model: None,
            totals: None,
            calls: Vec::new(),
            lines: Lines::default(),
            number: 0,
        }
    }

    /// Reads the next line (its newline removed). A blank line is no line;
    /// a bad one is counted and the error says why.
    pub fn line(&mut self, line: &[u8]) -> Result<(), String> {
        self.number += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        self.read(line).inspect_err(|_| self.lines.bad += 1)
    }

    /// A line too long to be read: bad.
    pub fn skip_bad_line(&mut self) {
        self.number += 1;
        self.lines.bad += 1;
    }

    /// The rollout's calls and line counts.
    pub fn finish(self) -> Log {
        Log {
            agent: Agent::Codex,
            calls: self.calls,
            lines: self.lines,
        }
    }

    fn read(&mut self, line: &[u8]) -> Result<(), String> {
        let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        if line.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err("not a JSON object".to_string());
        }
        match serde_json::from_slice::<Line<'_>>(line) {
            Ok(parsed) => self.take(parsed),
            Err(first) => {
                let repaired = replace_lone_surrogates(line);
                match serde_json::from_slice::<Line<'_>>(&repaired) {
                    Ok(parsed) => self.take(parsed),
                    Err(_) => Err(describe(first)),
                }
            }
        }
    }

    fn take(&mut self, line: Line<'_>) -> Result<(), String> {
        let Some(payload) = line.payload else {
            self.lines.skipped += 1;
            return Ok(());
        };
        match line.kind.as_deref() {
            Some("session_meta") => {
                if let Some(id) = payload.id.0 {
                    self.session = Arc::from(&*id);
                }
                if let Some(cwd) = payload.cwd.0 {
                    self.project = Arc::from(&*cwd);
                }
            }
            Some("turn_context") => {
                if let Some(model) = payload.model.0
                    && self.model.as_deref() != Some(&*model)
                {
                    self.model = Some(Arc::from(&*model));
                }
            }
            Some("event_msg") if payload.kind.0.as_deref() == Some("token_count") => {
                if let Some(info) = payload.info {
                    return self.count(info, line.timestamp.as_deref());
                }
            }
            _ => {}
        }
        self.lines.skipped += 1;
        Ok(())
    }

    /// A `token_count` event with figures: a call if its totals moved.
    fn count(&mut self, info: Info, timestamp: Option<&str>) -> Result<(), String> {
        let Some(totals) = info.total_token_usage else {
            // Only this call's usage: bill it as it is.
            let Some(last) = info.last_token_usage else {
                self.lines.skipped += 1;
                return Ok(());
            };
            return self.call(last.tokens()?, timestamp);
        };
        let before = self.totals.unwrap_or_default();
        if totals == before {
            self.lines.reemitted += 1;
            return Ok(());
        }
        // Totals that went down start again (a new session in the same
        // file): this call is its own usage.
        let growth = totals
            .growth(&before)
            .or(info.last_token_usage)
            .unwrap_or(totals);
        let tokens = growth.tokens()?;
        self.totals = Some(totals);
        self.call(tokens, timestamp)
    }

    fn call(&mut self, tokens: Tokens, timestamp: Option<&str>) -> Result<(), String> {
        if tokens.total().is_none() {
            return Err(crate::transcript::overflow());
        }
        self.calls.push(Call {
            id: None,
            request: None,
            sidechain: false,
            model: self.model.clone(),
            mode: None,
            time: timestamp.and_then(parse_time),
            session: self.session.clone(),
            project: self.project.clone(),
            tokens,
            unsplit_writes: false,
            line: self.number,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(input: u64, cached: u64, output: u64) -> String {
        format!(
            r#"{{"timestamp":"2026-11-30T15:00:12.571Z","type":"event_msg","payload":{{"type":"token_count","info":{{"total_token_usage":{{"input_tokens":{input},"cached_input_tokens":{cached},"output_tokens":{output},"reasoning_output_tokens":0}}}},"rate_limits":{{}}}}}}"#
        )
    }

    #[test]
    fn calls_are_the_growth_of_the_totals_and_re_emits_count_once() {
        let lines = [
            r#"{"timestamp":"2026-11-30T15:00:00Z","type":"session_meta","payload":{"id":"s","cwd":"/p"}}"#.to_string(),
            r#"{"timestamp":"2026-11-30T15:00:01Z","type":"turn_context","payload":{"model":"gpt-5","cwd":"/p","sandbox_policy":{"type":"x"}}}"#.to_string(),
            r#"{"timestamp":"2026-11-30T15:00:02Z","type":"event_msg","payload":{"type":"token_count","info":null}}"#.to_string(),
            count(100, 40, 10),
            count(100, 40, 10),
            count(250, 140, 30),
            r#"{"timestamp":"2026-11-30T15:00:03Z","type":"response_item","payload":{"type":"message","id":5,"content":[]}}"#.to_string(),
        ];
        let mut reader = Reader::new("rollout");
        for line in &lines {
            reader.line(line.as_bytes()).unwrap();
        }
        let log = reader.finish();
        let tokens: Vec<_> = log
            .calls
            .iter()
            .map(|c| (c.tokens.input, c.tokens.cache_read, c.tokens.output))
            .collect();
        assert_eq!(tokens, [(60, 40, 10), (50, 100, 20)]);
        assert_eq!(log.calls[0].model.as_deref(), Some("gpt-5"));
        assert_eq!(
            (&*log.calls[0].session, &*log.calls[0].project),
            ("s", "/p")
        );
        assert_eq!((log.lines.reemitted, log.lines.skipped), (1, 4));
    }

    #[test]
    fn cached_beyond_input_is_a_bad_line() {
        let mut reader = Reader::new("r");
        assert!(reader.line(count(10, 20, 1).as_bytes()).is_err());
        assert_eq!(reader.finish().lines.bad, 1);
    }
}
