//! Inputs that are directories, and the places agents keep their logs.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use anyhow::Context;

use tokmeter::agent::Agent;
use tokmeter::input::Source;

/// The files of an input: a directory's `*.jsonl` files at any depth, in
/// byte order of their paths (symbolic links to directories are not
/// followed); any other input is its own file.
pub fn files_of(source: &Source) -> anyhow::Result<Vec<Source>> {
    let Source::File(path) = source else {
        return Ok(vec![source.clone()]);
    };
    if !path.is_dir() {
        return Ok(vec![source.clone()]);
    }
    let mut files = Vec::new();
    walk(path, &mut files)?;
    files.sort_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
    Ok(files.into_iter().map(Source::File).collect())
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read directory {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read directory {}", dir.display()))?;
        let path = entry.path();
        let kind = entry
            .file_type()
            .with_context(|| format!("cannot read {}", path.display()))?;
        if kind.is_dir() {
            walk(&path, files)?;
        } else if path.extension().is_some_and(|e| e == "jsonl")
            && (kind.is_file() || kind.is_symlink() && path.is_file())
        {
            files.push(path);
        }
    }
    Ok(())
}

/// Where `agent` keeps its logs: for Claude Code the `projects` directory
/// of each path in `$CLAUDE_CONFIG_DIR` (comma-separated), else
/// `~/.config/claude/projects` and `~/.claude/projects`; for Codex
/// `$CODEX_HOME/sessions`, else `~/.codex/sessions`. Those that exist; an
/// error when none does.
pub fn default_places(agent: Agent) -> anyhow::Result<Vec<Source>> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let from_env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let (candidates, variable): (Vec<PathBuf>, &str) = match agent {
        Agent::ClaudeCode => {
            let places = match from_env("CLAUDE_CONFIG_DIR") {
                Some(dirs) => dirs
                    .to_string_lossy()
                    .split(',')
                    .map(str::trim)
                    .filter(|d| !d.is_empty())
                    .map(|d| PathBuf::from(d).join("projects"))
                    .collect(),
                None => home
                    .iter()
                    .flat_map(|h| {
                        [
                            h.join(".config/claude/projects"),
                            h.join(".claude/projects"),
                        ]
                    })
                    .collect(),
            };
            (places, "CLAUDE_CONFIG_DIR")
        }
        Agent::Codex => {
            let place = match from_env("CODEX_HOME") {
                Some(dir) => Some(PathBuf::from(dir).join("sessions")),
                None => home.map(|h| h.join(".codex/sessions")),
            };
            (place.into_iter().collect(), "CODEX_HOME")
        }
    };
    let found: Vec<Source> = candidates
        .iter()
        .filter(|dir| dir.is_dir())
        .cloned()
        .map(Source::File)
        .collect();
    if found.is_empty() {
        let looked: Vec<String> = candidates.iter().map(|d| d.display().to_string()).collect();
        anyhow::bail!(
            "no {} logs: {} not found (set ${variable}, or name files or directories)",
            agent.name(),
            if looked.is_empty() {
                "$HOME is not set".to_string()
            } else {
                looked.join(" or ")
            }
        );
    }
    Ok(found)
}
