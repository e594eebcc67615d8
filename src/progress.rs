//! The live status line: tokens, cost, rate and elapsed time on stderr.
//!
//! The filter loop only stores its totals in atomics; a thread of its own
//! redraws the line a few times a second, so the stream never waits on the
//! terminal. The line is erased before the summary is printed.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::meter::Totals;
use crate::money::Money;
use crate::summary::group;

/// How often the line is redrawn.
const REFRESH: Duration = Duration::from_millis(250);

struct Shared {
    tokens: AtomicU64,
    /// Cost in 10⁻¹² USD, saturating at u64 (18 million USD).
    cost: AtomicU64,
    stop: AtomicBool,
    wake: (Mutex<()>, Condvar),
}

/// A running status line; call [`Progress::finish`] to erase it.
pub struct Progress {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts redrawing the line on stderr. The caller checks that stderr is
    /// a terminal.
    pub fn start() -> Progress {
        let shared = Arc::new(Shared {
            tokens: AtomicU64::new(0),
            cost: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            wake: (Mutex::new(()), Condvar::new()),
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

fn draw_until_stopped(shared: &Shared) {
    let started = Instant::now();
    let (lock, wake) = &shared.wake;
    let mut drawn = false;
    loop {
        if let Ok(guard) = lock.lock() {
            let _ =
                wake.wait_timeout_while(guard, REFRESH, |_| !shared.stop.load(Ordering::Relaxed));
        }
        let mut stderr = std::io::stderr().lock();
        if shared.stop.load(Ordering::Relaxed) {
            if drawn {
                let _ = write!(stderr, "\r\x1b[K");
                let _ = stderr.flush();
            }
            return;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let tokens = shared.tokens.load(Ordering::Relaxed);
        let cost = Money::from_units(u128::from(shared.cost.load(Ordering::Relaxed)));
        let rate = if elapsed > 0.0 {
            tokens as f64 / elapsed
        } else {
            0.0
        };
        let _ = write!(
            stderr,
            "\r\x1b[Ktokmeter: {} tokens · ${} · {} tokens/s · {:.1} s",
            group(tokens),
            cost.to_string_min_decimals(2),
            group(rate.round() as u64),
            elapsed
        );
        let _ = stderr.flush();
        drawn = true;
    }
}
