//! The status line on a real terminal (tmux) that standard output shares:
//! output is never overwritten, and the line fits the terminal's width.

use std::time::{Duration, Instant};

/// A detached tmux session of its own, `width` columns wide, running
/// `script`; killed when dropped.
struct Terminal {
    name: String,
}

fn tmux(args: &[&str]) -> std::process::Output {
    std::process::Command::new("tmux")
        .args(args)
        .output()
        .expect("tmux is installed (.ci/run installs it)")
}

impl Terminal {
    fn start(name: &str, width: u16, script: &str) -> Terminal {
        let name = format!("tokmeter-{name}-{}", std::process::id());
        let width = width.to_string();
        let started = tmux(&[
            "new-session",
            "-d",
            "-s",
            &name,
            "-x",
            &width,
            "-y",
            "30",
            "bash",
            "--norc",
            "-c",
            script,
        ]);
        assert!(
            started.status.success(),
            "{}",
            String::from_utf8_lossy(&started.stderr)
        );
        Terminal { name }
    }

    /// The screen's rows; `joined` rejoins rows the terminal wrapped.
    fn screen(&self, joined: bool) -> Vec<String> {
        let mut args = vec!["capture-pane", "-p", "-t", &self.name];
        if joined {
            args.push("-J");
        }
        let screen = String::from_utf8_lossy(&tmux(&args).stdout).into_owned();
        let mut rows: Vec<String> = screen
            .lines()
            .map(|row| row.trim_end().to_string())
            .collect();
        while rows.last().is_some_and(String::is_empty) {
            rows.pop();
        }
        rows
    }

    /// Polls the screen until `done` holds. The limit only keeps a broken
    /// build from hanging the suite; a slow machine is far inside it.
    fn wait_for(&self, joined: bool, done: impl Fn(&[String]) -> bool) -> Vec<String> {
        let limit = Instant::now() + Duration::from_secs(120);
        loop {
            let rows = self.screen(joined);
            if done(&rows) || Instant::now() > limit {
                return rows;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = tmux(&["kill-session", "-t", &self.name]);
    }
}

fn is_summary(row: &str) -> bool {
    row.starts_with("tokmeter: ") && row.contains("(estimated, heuristic)")
}

/// A file the producer in a script waits for, so the test decides when the
/// stream goes on: `(script, path to create)`.
fn gate(name: &str) -> (String, std::path::PathBuf) {
    let path = crate::util::temp_dir(name).join("go");
    let wait = format!("while [ ! -e '{}' ]; do sleep 0.05; done", path.display());
    (wait, path)
}

#[test]
fn progress_line_lives_on_a_terminal_and_is_erased() {
    let (wait, go) = gate("progress");
    let script = format!(
        "(printf 'a%.0s' {{1..400}}; echo; {wait}; echo end) | {} -t heuristic --progress > /dev/null; sleep 300",
        crate::util::BIN
    );
    let terminal = Terminal::start("progress", 300, &script);
    let live = |rows: &[String]| {
        rows.iter().any(|row| {
            row.starts_with("tokmeter: 100 tokens · $0.001 · ") && row.contains(" tokens/s · ")
        })
    };
    let during = terminal.wait_for(false, live);
    std::fs::write(&go, b"").unwrap();
    assert!(
        live(&during),
        "no live line while the stream runs: {during:#?}"
    );
    let after = terminal.wait_for(false, |rows| rows.iter().any(|row| is_summary(row)));
    assert_eq!(after.len(), 1, "only the summary remains: {after:#?}");
    assert!(
        after[0].starts_with("tokmeter: 101 tokens (estimated, heuristic)"),
        "{after:#?}"
    );
}

#[test]
fn progress_line_never_overwrites_output_on_the_same_terminal() {
    let (wait, go) = gate("progress-lines");
    let script = format!(
        "(for i in 1 2 3; do echo \"line $i\"; sleep 0.3; done; {wait}; \
         for i in 4 5 6 7 8; do echo \"line $i\"; sleep 0.3; done) | {} -t heuristic --progress; sleep 300",
        crate::util::BIN
    );
    let terminal = Terminal::start("progress-lines", 40, &script);
    // While it waits: the lines so far, then the status line, cut to fit.
    let during = terminal.wait_for(false, |rows| {
        rows.len() == 4 && rows[3].starts_with("tokmeter: ") && !is_summary(&rows[3])
    });
    std::fs::write(&go, b"").unwrap();
    assert_eq!(during.len(), 4, "{during:#?}");
    assert_eq!(during[..3], ["line 1", "line 2", "line 3"], "{during:#?}");
    assert!(
        during[3].starts_with("tokmeter: "),
        "no status line: {during:#?}"
    );
    assert!(
        during[3].chars().count() < 40,
        "wider than the terminal: {during:#?}"
    );
    // At the end: every line intact, then the summary alone.
    let after = terminal.wait_for(true, |rows| rows.last().is_some_and(|row| is_summary(row)));
    let expected: Vec<String> = (1..=8).map(|number| format!("line {number}")).collect();
    assert_eq!(after.len(), 9, "{after:#?}");
    assert_eq!(after[..8], expected[..], "{after:#?}");
    assert!(is_summary(&after[8]), "{after:#?}");
}

#[test]
fn progress_line_leaves_a_partial_line_of_output_alone() {
    let (wait, go) = gate("progress-arrival");
    let script = format!(
        "(printf 'partial answer'; sleep 0.3; printf ' more'; {wait}; echo ' end') | {} -t heuristic --arrival --progress; sleep 300",
        crate::util::BIN
    );
    let terminal = Terminal::start("progress-arrival", 80, &script);
    terminal.wait_for(false, |rows| rows.iter().any(|row| row.contains("more")));
    // The status line is redrawn four times a second: give it the chance
    // to draw over the answer (it must not).
    std::thread::sleep(Duration::from_secs(1));
    let during = terminal.screen(false);
    std::fs::write(&go, b"").unwrap();
    assert_eq!(during, ["partial answer more"], "overwritten while it ran");
    let after = terminal.wait_for(true, |rows| rows.last().is_some_and(|row| is_summary(row)));
    assert_eq!(after.len(), 2, "{after:#?}");
    assert_eq!(after[0], "partial answer more end");
}

/// With `--color never` or `NO_COLOR`, the progress line is drawn and
/// erased with carriage returns and spaces, no escape sequence: the bytes
/// written to the terminal (recorded by `script`) hold none, and the
/// screen still ends with the summary alone. By default the line is erased
/// with an escape sequence.
#[test]
fn progress_line_without_escape_sequences_under_no_color() {
    for (name, env, flag, plain) in [
        ("progress-never", "", "--color never", true),
        ("progress-no-color", "NO_COLOR=1", "", true),
        ("progress-auto", "", "", false),
    ] {
        let (wait, go) = gate(name);
        let log = std::env::temp_dir().join(format!("tokmeter-{name}-{}.log", std::process::id()));
        let command = format!(
            "(printf 'a%.0s' {{1..400}}; echo; {wait}; echo end) | {env} {} -t heuristic --progress {flag} > /dev/null",
            crate::util::BIN
        );
        let script = format!("script -qfec \"{command}\" {}; sleep 300", log.display());
        let terminal = Terminal::start(name, 300, &script);
        let live = |rows: &[String]| {
            rows.iter()
                .any(|row| row.starts_with("tokmeter: 100 tokens · "))
        };
        let during = terminal.wait_for(false, live);
        std::fs::write(&go, b"").unwrap();
        assert!(live(&during), "{name}: no live line: {during:#?}");
        let after = terminal.wait_for(false, |rows| rows.iter().any(|row| is_summary(row)));
        assert_eq!(
            after.len(),
            1,
            "{name}: only the summary remains: {after:#?}"
        );
        drop(terminal);
        let bytes = std::fs::read(&log).unwrap();
        let _ = std::fs::remove_file(&log);
        assert!(bytes.contains(&b'\r'), "{name}");
        assert_eq!(
            !bytes.contains(&0x1b),
            plain,
            "{name}: {:?}",
            String::from_utf8_lossy(&bytes)
        );
    }
}
