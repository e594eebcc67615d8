//! The live status line: tokens, cost, rate and elapsed time on stderr.
//!
//! The filter loop only stores its totals in atomics; a thread of its own
//! redraws the line a few times a second, so the stream never waits on the
//! terminal. The line fits the terminal's width, and when standard output
//! is the same terminal, output is written only with the line erased (it is
//! redrawn after, where the output left the cursor at a line's start). The
//! line is erased before the summary is printed.

use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokmeter::meter::Totals;
use tokmeter::money::Money;
use tokmeter::output::{ScreenHold, SharedScreen};
use tokmeter::summary::group;

use super::args::ColorArg;
use super::report::write_stderr;

/// How often the line is redrawn.
const REFRESH: Duration = Duration::from_millis(250);

/// The width assumed when the terminal does not say.
const DEFAULT_WIDTH: usize = 80;

struct Shared {
    started: Instant,
    tokens: AtomicU64,
    /// Cost in 10⁻¹² USD, saturating at u64 (18 million USD).
    cost: AtomicU64,
    stop: AtomicBool,
    wake: (Mutex<()>, Condvar),
    /// What is on the terminal; held while the line or output is written.
    screen: Mutex<Screen>,
}

struct Screen {
    /// The status line is showing.
    drawn: bool,
    /// Standard output goes to the same terminal.
    shared: bool,
    /// The cursor is at the start of a line, where the status line may be
    /// drawn without overwriting output.
    line_start: bool,
    /// How the line is erased.
    erase: Erase,
    /// Characters of the line drawn last, blanked out by [`Erase::Spaces`].
    width: usize,
}

/// How the status line is erased before it is redrawn or gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Erase {
    /// A carriage return and the erase-line escape sequence.
    Escape,
    /// A carriage return and spaces over what was drawn: no escape sequence
    /// (`--color never`, or `NO_COLOR` with `--color auto`).
    Spaces,
}

impl Erase {
    /// The way `--color` and `NO_COLOR` choose.
    pub fn chosen(color: ColorArg) -> Erase {
        let no_color = || std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
        match color {
            ColorArg::Never => Erase::Spaces,
            ColorArg::Auto if no_color() => Erase::Spaces,
            ColorArg::Auto | ColorArg::Always => Erase::Escape,
        }
    }
}

/// A running status line; call [`Progress::finish`] to erase it.
pub struct Progress {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// What standard output holds while it writes to the terminal the status
/// line is on: the line is erased for as long as the hold lasts.
#[derive(Clone)]
pub struct Screenshare {
    shared: Arc<Shared>,
}

/// The terminal held for a write to standard output; dropping it redraws
/// the line if the output ended at a line's start.
pub struct Hold<'a> {
    shared: &'a Shared,
    screen: MutexGuard<'a, Screen>,
    erased: bool,
}

impl Progress {
    /// Starts redrawing the line on stderr. The caller checks that stderr is
    /// a terminal.
    pub fn start(erase: Erase) -> Progress {
        let shared = Arc::new(Shared {
            started: Instant::now(),
            tokens: AtomicU64::new(0),
            cost: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            wake: (Mutex::new(()), Condvar::new()),
            screen: Mutex::new(Screen {
                drawn: false,
                shared: stdout_is_stderr_terminal(),
                line_start: true,
                erase,
                width: 0,
            }),
        });
        let thread = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("progress".into())
                .spawn(move || draw_until_stopped(&shared))
                .ok()
        };
        Progress { shared, thread }
    }

    /// What standard output must hold to write, when it writes to the same
    /// terminal; `None` when it does not.
    pub fn screenshare(&self) -> Option<Screenshare> {
        self.shared.screen().shared.then(|| Screenshare {
            shared: Arc::clone(&self.shared),
        })
    }

    /// Publishes the session's totals so far. Two relaxed stores: cheap
    /// enough for every chunk.
    pub fn update(&self, totals: &Totals) {
        self.shared.tokens.store(totals.tokens, Ordering::Relaxed);
        let cost = u64::try_from(totals.cost.units()).unwrap_or(u64::MAX);
        self.shared.cost.store(cost, Ordering::Relaxed);
    }

    /// Stops the thread and erases the line.
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.shared.wake.1.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop();
    }
}

impl SharedScreen for Screenshare {
    fn hold(&self) -> Box<dyn ScreenHold + '_> {
        Box::new(self.erase())
    }
}

impl ScreenHold for Hold<'_> {
    fn wrote(&mut self, bytes: &[u8]) {
        Hold::wrote(self, bytes);
    }
}

impl Screenshare {
    /// Erases the line, and keeps it off until the hold is dropped.
    pub fn erase(&self) -> Hold<'_> {
        let mut screen = self.shared.screen();
        let erased = screen.drawn;
        if erased {
            erase(&mut screen);
        }
        Hold {
            shared: &self.shared,
            screen,
            erased,
        }
    }
}

impl Hold<'_> {
    /// Notes the last byte written to the terminal.
    pub fn wrote(&mut self, bytes: &[u8]) {
        if let Some(&last) = bytes.last() {
            self.screen.line_start = last == b'\n';
        }
    }
}

impl Drop for Hold<'_> {
    fn drop(&mut self) {
        if self.erased && !self.shared.stop.load(Ordering::Relaxed) {
            draw(self.shared, &mut self.screen);
        }
    }
}

impl Shared {
    /// The screen, even after a panic elsewhere: it is two flags.
    fn screen(&self) -> MutexGuard<'_, Screen> {
        self.screen.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn draw_until_stopped(shared: &Shared) {
    let (lock, wake) = &shared.wake;
    loop {
        if let Ok(guard) = lock.lock() {
            let _ =
                wake.wait_timeout_while(guard, REFRESH, |_| !shared.stop.load(Ordering::Relaxed));
        }
        let mut screen = shared.screen();
        if shared.stop.load(Ordering::Relaxed) {
            if screen.drawn {
                erase(&mut screen);
            }
            return;
        }
        draw(shared, &mut screen);
    }
}

/// Draws the line over itself, unless output left the cursor mid-line on
/// the same terminal.
fn draw(shared: &Shared, screen: &mut Screen) {
    if screen.shared && !screen.line_start {
        return;
    }
    let elapsed = shared.started.elapsed().as_secs_f64();
    let tokens = shared.tokens.load(Ordering::Relaxed);
    let cost = Money::from_units(u128::from(shared.cost.load(Ordering::Relaxed)));
    let rate = if elapsed > 0.0 {
        tokens as f64 / elapsed
    } else {
        0.0
    };
    let line = format!(
        "tokmeter: {} tokens · ${} · {} tokens/s · {:.1} s",
        group(tokens),
        cost.to_string_min_decimals(2),
        group(rate.round() as u64),
        elapsed
    );
    // One column short of the width: a line that fills it would wrap.
    let line = fit(&line, terminal_width().saturating_sub(1));
    let width = line.chars().count();
    if screen.erase == Erase::Spaces {
        let blank = " ".repeat(screen.width.saturating_sub(width));
        let _ = write_stderr(format!("\r{line}{blank}").as_bytes());
    } else {
        let _ = write_stderr(format!("\r\x1b[K{line}").as_bytes());
    }
    screen.drawn = true;
    screen.width = width;
}

fn erase(screen: &mut Screen) {
    if screen.erase == Erase::Spaces {
        let _ = write_stderr(format!("\r{}\r", " ".repeat(screen.width)).as_bytes());
    } else {
        let _ = write_stderr(b"\r\x1b[K");
    }
    screen.drawn = false;
    screen.width = 0;
}

/// `line` cut to at most `width` characters (the line is one column a
/// character: digits, ASCII and `·`).
fn fit(line: &str, width: usize) -> &str {
    match line.char_indices().nth(width) {
        Some((end, _)) => &line[..end],
        None => line,
    }
}

/// The terminal's width in columns, from stderr.
fn terminal_width() -> usize {
    // SAFETY: TIOCGWINSZ fills a winsize; a zeroed one is valid.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let asked = unsafe { libc::ioctl(std::io::stderr().as_raw_fd(), libc::TIOCGWINSZ, &mut size) };
    if asked == 0 && size.ws_col > 0 {
        usize::from(size.ws_col)
    } else {
        DEFAULT_WIDTH
    }
}

/// Whether stdout is a terminal, and the same one as stderr.
fn stdout_is_stderr_terminal() -> bool {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return false;
    }
    let device = |fd: i32| {
        // SAFETY: fstat on an open descriptor into a zeroed struct.
        unsafe {
            let mut stat: libc::stat = std::mem::zeroed();
            (libc::fstat(fd, &mut stat) == 0).then_some(stat.st_rdev)
        }
    };
    let (out, err) = (device(1), device(2));
    out.is_some() && out == err
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_cuts_at_characters() {
        assert_eq!(fit("ab·cd", 3), "ab·");
        assert_eq!(fit("ab·cd", 10), "ab·cd");
        assert_eq!(fit("ab", 0), "");
    }
}
