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

#[test]
fn progress_line_never_overwrites_output_on_the_same_terminal() {
    let script = format!(
        "for i in $(seq 1 8); do echo \"line $i\"; sleep 0.4; done | {} -t heuristic --progress; sleep 60",
        crate::util::BIN
    );
    let terminal = Terminal::start("progress-lines", 40, &script);
    // While it runs: lines so far, then the status line, cut to fit.
    let during = terminal.wait_for(false, |rows| {
        rows.len() >= 3 && rows.last().is_some_and(|row| row.starts_with("tokmeter: "))
    });
    let (status, lines) = during.split_last().expect("the screen shows something");
    assert!(
        status.starts_with("tokmeter: "),
        "no status line: {during:#?}"
    );
    assert!(
        status.chars().count() < 40,
        "wider than the terminal: {status:?}"
    );
    for (number, row) in lines.iter().enumerate() {
        assert_eq!(row, &format!("line {}", number + 1), "{during:#?}");
    }
    // At the end: every line intact, then the summary alone.
    let after = terminal.wait_for(true, |rows| rows.last().is_some_and(|row| is_summary(row)));
    let expected: Vec<String> = (1..=8).map(|number| format!("line {number}")).collect();
    assert_eq!(after[..after.len() - 1], expected[..], "{after:#?}");
    assert!(is_summary(&after[8]), "{after:#?}");
}

#[test]
fn progress_line_leaves_a_partial_line_of_output_alone() {
    let script = format!(
        "(printf 'partial answer'; sleep 1; printf ' more'; sleep 1; echo ' end') | {} -t heuristic --arrival --progress; sleep 60",
        crate::util::BIN
    );
    let terminal = Terminal::start("progress-arrival", 80, &script);
    let during = terminal.wait_for(false, |rows| rows.iter().any(|row| row.contains("more")));
    assert_eq!(during, ["partial answer more"], "overwritten while it ran");
    let after = terminal.wait_for(true, |rows| rows.last().is_some_and(|row| is_summary(row)));
    assert_eq!(after.len(), 2, "{after:#?}");
    assert_eq!(after[0], "partial answer more end");
}
