//! Claude Code session logs: one JSON object per line, an assistant line per
//! content block of a response.
//!
//! The lines of one response share `message.id` and `requestId`; from 2.x
//! the early ones carry partial output counts, so the line with the largest
//! token total is the one billed. Lines of other kinds (prompts, tool
//! results, snapshots, summaries, system lines) record no call and are
//! skipped; `<synthetic>` lines and API errors were never billed.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;

use super::{Agent, Call, Lines, Log, Tokens, parse_time};
use crate::transcript::{describe, replace_lone_surrogates};

/// One line, with only the fields billing reads.
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    message: Option<Message<'a>>,
    #[serde(rename = "requestId", borrow, default)]
    request: Option<Cow<'a, str>>,
    #[serde(rename = "isSidechain", default)]
    sidechain: Option<bool>,
    #[serde(rename = "isApiErrorMessage", default)]
    api_error: Option<bool>,
    #[serde(borrow, default)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(rename = "sessionId", borrow, default)]
    session: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    model: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    role: Option<Cow<'a, str>>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Usage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
    cache_creation: Option<CacheCreation>,
    service_tier: Option<String>,
    speed: Option<String>,
}

#[derive(Deserialize)]
struct CacheCreation {
    ephemeral_5m_input_tokens: Option<u64>,
    ephemeral_1h_input_tokens: Option<u64>,
}

impl Usage {
    /// The mode it was served in: `fast` for fast mode, else its service
    /// tier unless standard.
    fn mode(&self) -> Option<&str> {
        match (self.speed.as_deref(), self.service_tier.as_deref()) {
            (Some("fast"), _) => Some("fast"),
            (_, Some(tier)) if !crate::pricing::STANDARD_MODES.contains(&tier) => Some(tier),
            _ => None,
        }
    }

    /// Tokens by class: writes split by lifetime where the line says, all
    /// 5-minute where it does not.
    fn tokens(&self) -> Tokens {
        let (five, hour) = self.cache_creation.as_ref().map_or((0, 0), |c| {
            (
                c.ephemeral_5m_input_tokens.unwrap_or(0),
                c.ephemeral_1h_input_tokens.unwrap_or(0),
            )
        });
        let writes = self
            .cache_creation_input_tokens
            .unwrap_or(five.saturating_add(hour));
        let hour = hour.min(writes);
        Tokens {
            input: self.input_tokens.unwrap_or(0),
            output: self.output_tokens.unwrap_or(0),
            cache_read: self.cache_read_input_tokens.unwrap_or(0),
            cache_write: writes - hour,
            cache_write_1h: hour,
            reasoning: 0,
        }
    }
}

/// Reads one Claude Code file.
pub struct Reader {
    project: Arc<str>,
    /// The file's own name: the session when a line names none.
    fallback_session: Arc<str>,
    /// The last session named, shared by the calls of it.
    session: Arc<str>,
    /// Models named so far, shared by their calls.
    models: Vec<Arc<str>>,
    calls: Vec<Call>,
    /// `(message.id, requestId)` → index into `calls`.
    seen: HashMap<(Box<str>, Box<str>), usize>,
    lines: Lines,
    number: u64,
}

impl Reader {
    /// A reader for a file of `project`, named `stem` (without `.jsonl`).
    pub fn new(project: &str, stem: &str) -> Reader {
        let stem: Arc<str> = Arc::from(stem);
        Reader {
            project: Arc::from(project),
            fallback_session: stem.clone(),
            session: stem,
            models: Vec::new(),
            calls: Vec::new(),
            seen: HashMap::new(),
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

    /// The file's calls and line counts.
    pub fn finish(self) -> Log {
        Log {
            agent: Agent::ClaudeCode,
            calls: self.calls,
            lines: self.lines,
        }
    }

    fn read(&mut self, line: &[u8]) -> Result<(), String> {
        let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        if line.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err("not a JSON object".to_string());
        }
        // Most bytes are prompts and tool results: a line that cannot be a
        // billed or synthetic one is only checked to be a whole object.
        if memchr::memmem::find(line, b"\"usage\"").is_none()
            && memchr::memmem::find(line, b"<synthetic>").is_none()
            && memchr::memmem::find(line, b"\"isApiErrorMessage\"").is_none()
        {
            if line.iter().rev().find(|b| !b.is_ascii_whitespace()) != Some(&b'}') {
                return Err("truncated JSON: the object does not end".to_string());
            }
            self.lines.skipped += 1;
            return Ok(());
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
        let assistant = line.kind.as_deref() == Some("assistant")
            || line.kind.is_none()
                && line
                    .message
                    .as_ref()
                    .is_some_and(|m| m.role.as_deref() == Some("assistant"));
        let Some(message) = line.message.filter(|_| assistant) else {
            self.lines.skipped += 1;
            return Ok(());
        };
        if message.model.as_deref() == Some("<synthetic>") || line.api_error == Some(true) {
            self.lines.synthetic += 1;
            return Ok(());
        }
        let Some(usage) = &message.usage else {
            self.lines.skipped += 1;
            return Ok(());
        };
        let tokens = usage.tokens();
        if tokens.total().is_none() {
            return Err(crate::transcript::overflow());
        }
        if let Some(session) = line.session.as_deref()
            && *self.session != *session
        {
            self.session = Arc::from(session);
        }
        let call = Call {
            id: message.id.as_deref().map(Box::from),
            request: line.request.as_deref().map(Box::from),
            sidechain: line.sidechain == Some(true),
            model: message.model.as_deref().map(|name| self.model(name)),
            mode: usage.mode().map(|mode| self.model(mode)),
            time: line.timestamp.as_deref().and_then(parse_time),
            session: if line.session.is_some() {
                self.session.clone()
            } else {
                self.fallback_session.clone()
            },
            project: self.project.clone(),
            tokens,
            unsplit_writes: usage.cache_creation.is_none() && tokens.cache_write > 0,
            line: self.number,
        };
        self.keep(call);
        Ok(())
    }

    /// Keeps a call, or the fuller of it and an earlier line of the same
    /// response (the first of a tie).
    fn keep(&mut self, call: Call) {
        let Some((id, request)) = call.key() else {
            self.calls.push(call);
            return;
        };
        let key = (Box::from(id), Box::from(request));
        match self.seen.get(&key) {
            Some(&at) => {
                self.lines.duplicate += 1;
                if call.tokens.total() > self.calls[at].tokens.total() {
                    self.calls[at] = call;
                }
            }
            None => {
                self.seen.insert(key, self.calls.len());
                self.calls.push(call);
            }
        }
    }

    /// The shared name of a model (or a mode).
    fn model(&mut self, name: &str) -> Arc<str> {
        match self.models.iter().find(|m| ***m == *name) {
            Some(model) => model.clone(),
            None => {
                let model: Arc<str> = Arc::from(name);
                self.models.push(model.clone());
                model
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(lines: &[&str]) -> Log {
        let mut reader = Reader::new("p", "file");
        for line in lines {
            let _ = reader.line(line.as_bytes());
        }
        reader.finish()
    }

    fn assistant(id: &str, request: &str, output: u64, extra: &str) -> String {
        format!(
            r#"{{"type":"assistant","message":{{"model":"claude-sonnet-4-5","id":"{id}","usage":{{"input_tokens":3,"cache_read_input_tokens":100,"cache_creation_input_tokens":50,"cache_creation":{{"ephemeral_5m_input_tokens":20,"ephemeral_1h_input_tokens":30}},"output_tokens":{output}}}}},"requestId":"{request}","sessionId":"s1","timestamp":"2026-11-30T14:02:15.380Z"{extra}}}"#
        )
    }

    #[test]
    fn the_lines_of_one_response_are_billed_once_with_the_fullest() {
        let lines = [
            assistant("m1", "r1", 4, ""),
            assistant("m1", "r1", 412, ""),
            assistant("m1", "r1", 4, ""),
            assistant("m2", "r1", 7, ""),
        ];
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let log = read(&lines);
        assert_eq!(log.calls.len(), 2);
        assert_eq!(log.calls[0].tokens.output, 412);
        assert_eq!(log.calls[0].line, 2);
        assert_eq!(
            (
                log.calls[0].tokens.cache_write,
                log.calls[0].tokens.cache_write_1h
            ),
            (20, 30)
        );
        assert_eq!(log.lines.duplicate, 2);
        assert_eq!(&*log.calls[0].session, "s1");
    }

    #[test]
    fn other_lines_are_skipped_synthetic_or_bad() {
        let synthetic = r#"{"type":"assistant","message":{"model":"<synthetic>","id":"x","usage":{"input_tokens":0,"output_tokens":0}},"isApiErrorMessage":true}"#;
        let log = read(&[
            r#"{"type":"summary","summary":"x","leafUuid":"u"}"#,
            r#"{"type":"user","message":{"role":"user","content":"hi"}}"#,
            synthetic,
            "",
            r#"{"type":"assistant","message":{"usage":{"input_tokens":1,"cache_read_input_tokens":74"#,
            "[1]",
        ]);
        assert!(log.calls.is_empty());
        assert_eq!(
            (log.lines.skipped, log.lines.synthetic, log.lines.bad),
            (2, 1, 2)
        );
    }

    #[test]
    fn writes_without_a_breakdown_are_five_minute_writes() {
        let line = r#"{"type":"assistant","message":{"model":"m","id":"a","usage":{"input_tokens":4,"output_tokens":221,"cache_read_input_tokens":13390,"cache_creation_input_tokens":2841}},"requestId":"r","costUSD":0.01799775}"#;
        let log = read(&[line]);
        assert_eq!(log.calls[0].tokens.cache_write, 2841);
        assert_eq!(log.calls[0].tokens.cache_write_1h, 0);
        assert_eq!(&*log.calls[0].session, "file");
    }
}
