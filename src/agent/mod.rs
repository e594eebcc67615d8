//! Agent logs: Claude Code sessions and Codex CLI rollouts, billed as the
//! provider billed them.
//!
//! A reader ([`claude::Reader`], [`codex::Reader`]) turns one file's lines
//! into a [`Log`]: the API calls it records, each with its own model, time,
//! session and tokens by class, and what became of every other line. A
//! [`Ledger`] takes the logs of a run in argument order and keeps each call
//! once: Claude Code writes one response as several lines and copies it into
//! resumed sessions and sub-agents' files. [`Ledger::bill`] then prices each
//! call at its own model.

pub mod claude;
pub mod codex;
mod ledger;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use ledger::{Billed, Ledger, Priced, Prices};

/// Which agent wrote a log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Agent {
    /// Claude Code (`~/.claude/projects`).
    ClaudeCode,
    /// Codex CLI (`~/.codex/sessions`).
    Codex,
}

impl Agent {
    /// `claude-code` or `codex`.
    pub fn name(self) -> &'static str {
        match self {
            Agent::ClaudeCode => "claude-code",
            Agent::Codex => "codex",
        }
    }
}

/// Tokens of one call (or many) by the price they pay, as the pricing
/// cards take them.
pub use crate::pricing::Usage as Tokens;

/// One API call as a log recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// Claude Code's `message.id`; a call without one is never a copy.
    pub id: Option<Box<str>>,
    /// Claude Code's `requestId`.
    pub request: Option<Box<str>>,
    /// A sub-agent's line (`isSidechain`).
    pub sidechain: bool,
    /// The model the log names, if any.
    pub model: Option<Arc<str>>,
    /// The mode it was served in (`priority`, `batch`, `fast`), if the log
    /// says one other than standard.
    pub mode: Option<Arc<str>>,
    /// When it was written.
    pub time: Option<DateTime<Utc>>,
    /// The session it belongs to.
    pub session: Arc<str>,
    /// The project: Claude Code's project directory, Codex's `cwd`.
    pub project: Arc<str>,
    /// Its tokens.
    pub tokens: Tokens,
    /// Its cache writes were not split by lifetime (all billed as
    /// 5-minute writes).
    pub unsplit_writes: bool,
    /// The 1-based number of the line that gave these figures.
    pub line: u64,
}

impl Call {
    /// The key two lines of one response share.
    fn key(&self) -> Option<(&str, &str)> {
        Some((self.id.as_deref()?, self.request.as_deref()?))
    }
}

/// What became of a log's lines, apart from the calls kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lines {
    /// Lines of a response already met, or with less usage than another
    /// line of it (Claude Code).
    pub duplicate: u64,
    /// Sub-agent lines replaying a response of the main session under a
    /// new request (Claude Code).
    pub replay: u64,
    /// `token_count` events whose totals did not move (Codex).
    pub reemitted: u64,
    /// Lines the agent wrote itself, never billed (`<synthetic>`, API
    /// errors).
    pub synthetic: u64,
    /// Lines that record no call: prompts, tool results, snapshots,
    /// summaries, session metadata.
    pub skipped: u64,
    /// Lines that could not be read.
    pub bad: u64,
}

impl Lines {
    /// The field-by-field sum, saturating (line counts cannot come near
    /// `u64::MAX`).
    #[must_use]
    pub fn plus(&self, other: &Lines) -> Lines {
        Lines {
            duplicate: self.duplicate.saturating_add(other.duplicate),
            replay: self.replay.saturating_add(other.replay),
            reemitted: self.reemitted.saturating_add(other.reemitted),
            synthetic: self.synthetic.saturating_add(other.synthetic),
            skipped: self.skipped.saturating_add(other.skipped),
            bad: self.bad.saturating_add(other.bad),
        }
    }
}

/// One file of an agent's log, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Log {
    /// Who wrote it.
    pub agent: Agent,
    /// The calls it records, once each, in the order of the file.
    pub calls: Vec<Call>,
    /// What became of its other lines.
    pub lines: Lines,
}

/// The project directory of a Claude Code file: the component after
/// `projects`, else the file's directory.
pub fn claude_project(path: &std::path::Path) -> String {
    let parts: Vec<_> = path.components().collect();
    let after_projects = parts
        .iter()
        .rposition(|part| part.as_os_str() == "projects")
        .filter(|&at| at + 2 < parts.len())
        .map(|at| parts[at + 1].as_os_str());
    after_projects
        .or_else(|| path.parent().and_then(|dir| dir.file_name()))
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The file's name without `.jsonl`: a session's id when the log names none.
pub fn file_stem(path: &std::path::Path) -> String {
    path.file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A timestamp as logs write it (RFC 3339); `None` if it is not one.
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Which agent's format a line is in, judged from one parsed line: a
/// Codex rollout line is `{"timestamp", "type", "payload"}`; a Claude Code
/// line has a `sessionId`, a `uuid`, or one of its own `type`s.
pub fn detect(line: &[u8]) -> Option<Agent> {
    #[derive(serde::Deserialize)]
    struct Probe<'a> {
        #[serde(rename = "type", borrow, default)]
        kind: Option<std::borrow::Cow<'a, str>>,
        #[serde(default)]
        payload: Option<serde::de::IgnoredAny>,
        #[serde(default)]
        timestamp: Option<serde::de::IgnoredAny>,
        #[serde(rename = "sessionId", default)]
        session: Option<serde::de::IgnoredAny>,
        #[serde(default)]
        uuid: Option<serde::de::IgnoredAny>,
    }
    let probe: Probe<'_> = serde_json::from_slice(line).ok()?;
    if probe.payload.is_some() && probe.timestamp.is_some() && probe.kind.is_some() {
        return Some(Agent::Codex);
    }
    let claude_kind = matches!(
        probe.kind.as_deref(),
        Some("summary" | "file-history-snapshot" | "attachment" | "queue-operation")
    );
    if probe.session.is_some() || probe.uuid.is_some() || claude_kind {
        return Some(Agent::ClaudeCode);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn formats_are_told_from_a_line() {
        let codex =
            br#"{"timestamp":"2026-11-30T15:00:00Z","type":"session_meta","payload":{"id":"x"}}"#;
        assert_eq!(detect(codex), Some(Agent::Codex));
        let claude = br#"{"type":"user","message":{"role":"user","content":"hi"},"sessionId":"s"}"#;
        assert_eq!(detect(claude), Some(Agent::ClaudeCode));
        let snapshot = br#"{"type":"file-history-snapshot","messageId":"m","snapshot":{}}"#;
        assert_eq!(detect(snapshot), Some(Agent::ClaudeCode));
        assert_eq!(detect(br#"{"role":"user","content":"hi"}"#), None);
        assert_eq!(detect(b"not json"), None);
    }

    #[test]
    fn projects_come_from_the_path() {
        let main = Path::new("/h/.claude/projects/-home-user-proj/abc.jsonl");
        assert_eq!(claude_project(main), "-home-user-proj");
        let sub = Path::new("/h/.claude/projects/-home-user-proj/abc/subagents/agent-1.jsonl");
        assert_eq!(claude_project(sub), "-home-user-proj");
        assert_eq!(claude_project(Path::new("logs/x.jsonl")), "logs");
        assert_eq!(file_stem(main), "abc");
    }
}
