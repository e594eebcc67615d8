//! Threads that count beside the calling one: started with the first
//! parallel count and parked between counts, so a count of each run of
//! lines lends them its work instead of spawning and joining threads (a
//! thread's start, its stack's pages and the unmapping at its end cost
//! each run of a large input about a tenth of a millisecond).
//!
//! Invariant: [`lend`] returns, or unwinds, only after every worker it lent
//! the task to has finished with it, so a task that borrows the caller's
//! stack is never called after the borrow ends.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, LazyLock, Mutex, MutexGuard, Once, PoisonError, TryLockError};

/// A task lent to the workers, called with each worker's index: a pointer,
/// valid from its [`lend`] call's start to its end and dereferenced only
/// by workers counted busy with it.
#[derive(Clone, Copy)]
struct Task(*const (dyn Fn(usize) + Sync + 'static));

// SAFETY: the task behind the pointer is `Sync`, and `lend` keeps it alive
// while any worker may call it.
unsafe impl Send for Task {}

/// Rounds (of a few dozen nanoseconds) a caller spins, once its own share
/// is done, before it sleeps until the workers finish: the last part of a
/// count takes a fraction of a millisecond, and waking a sleeping thread
/// takes a tenth of one on a virtual machine.
const SPIN: u32 = 1 << 15;

/// Rounds a worker spins, once done with a task, before it sleeps until
/// the next: the next run of a large input is read in a fraction of a
/// millisecond, so its task finds the worker awake.
const WORKER_SPIN: u32 = 1 << 14;

/// The workers and what they share with callers.
struct Crew {
    /// The task and the panic of a worker.
    state: Mutex<State>,
    /// Signalled when a new task is lent.
    lent: Condvar,
    /// Signalled when the last worker is done with a task.
    done: Condvar,
    /// Workers that took the current task (or may still) and are not done
    /// with it; changed under `state`.
    busy: AtomicUsize,
    /// Counts the tasks lent, so a worker takes each new one once, and
    /// a spinning worker sees one come; changed under `state`.
    generation: AtomicU64,
    /// Held by the one caller lending to the workers at a time.
    lender: Mutex<()>,
    /// Workers started.
    workers: AtomicUsize,
}

/// What callers and workers change under the crew's lock.
struct State {
    task: Option<Task>,
    /// Workers the current task may still have.
    wanted: usize,
    /// Workers that took it.
    taken: usize,
    /// The first panic of a worker in the current task.
    panic: Option<Box<dyn Any + Send>>,
}

impl Crew {
    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
}

/// `mutex`'s guard, even after a panic elsewhere: what the counting threads
/// share is valid whatever a panicking holder left (a panic while counting
/// is passed on to the caller).
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

static CREW: LazyLock<Crew> = LazyLock::new(|| Crew {
    state: Mutex::new(State {
        task: None,
        wanted: 0,
        taken: 0,
        panic: None,
    }),
    lent: Condvar::new(),
    done: Condvar::new(),
    busy: AtomicUsize::new(0),
    generation: AtomicU64::new(0),
    lender: Mutex::new(()),
    workers: AtomicUsize::new(0),
});

/// The crew, its `threads() - 1` workers started on first use (fewer if
/// the system starts fewer threads).
fn crew() -> &'static Crew {
    static START: Once = Once::new();
    START.call_once(|| {
        let started = (1..super::parallel::threads())
            .take_while(|_| {
                std::thread::Builder::new()
                    .name("counter".into())
                    .spawn(|| work(&CREW))
                    .is_ok()
            })
            .count();
        CREW.workers.store(started, Ordering::Relaxed);
    });
    &CREW
}

/// A worker's life: waits for each new task, and takes it while the task
/// wants more workers.
fn work(crew: &'static Crew) {
    let mut seen = 0;
    loop {
        for _ in 0..WORKER_SPIN {
            if crew.generation.load(Ordering::Acquire) != seen {
                break;
            }
            std::hint::spin_loop();
        }
        let (task, index) = {
            let mut state = crew.state();
            while crew.generation.load(Ordering::Relaxed) == seen {
                state = crew
                    .lent
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            seen = crew.generation.load(Ordering::Relaxed);
            if state.taken == state.wanted {
                continue;
            }
            state.taken += 1;
            (state.task, state.taken - 1)
        };
        let Some(task) = task else { continue };
        // SAFETY: this worker is counted busy with the task, so its `lend`
        // call has not returned and the task is alive.
        let outcome = catch_unwind(AssertUnwindSafe(|| unsafe { (*task.0)(index) }));
        let mut state = crew.state();
        if let Err(panic) = outcome {
            state.panic.get_or_insert(panic);
        }
        if crew.busy.fetch_sub(1, Ordering::Release) == 1 {
            crew.done.notify_all();
        }
    }
}

/// Calls `task` on up to `helpers` workers (each with its own index below
/// `helpers`) while `here` runs on this thread, and returns what `here`
/// returns once every worker that took the task is done. Fewer workers
/// take part, maybe none: where fewer are started, where another caller is
/// lending to them, and those not awake yet when `here` returns; so `task`
/// and `here` must do the work between them whoever takes part. A
/// worker's panic is passed on.
pub(super) fn lend<R>(
    helpers: usize,
    task: &(dyn Fn(usize) + Sync),
    here: impl FnOnce() -> R,
) -> R {
    let crew = crew();
    let workers = crew.workers.load(Ordering::Relaxed);
    let lender = (helpers > 0 && workers > 0)
        .then(|| match crew.lender.try_lock() {
            Ok(lender) => Some(lender),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        })
        .flatten();
    let Some(_lender) = lender else {
        return here();
    };
    // SAFETY: only the pointer's lifetime bound changes; the task is called
    // only by workers counted in `busy`, and `Wait` does not let this call
    // return or unwind before `busy` is zero, that is before every such
    // call has returned.
    let task = Task(unsafe {
        std::mem::transmute::<
            *const (dyn Fn(usize) + Sync + '_),
            *const (dyn Fn(usize) + Sync + 'static),
        >(task)
    });
    {
        let mut state = crew.state();
        let wanted = helpers.min(workers);
        crew.busy.store(wanted, Ordering::Relaxed);
        (state.task, state.wanted, state.taken, state.panic) = (Some(task), wanted, 0, None);
        crew.generation.fetch_add(1, Ordering::Release);
    }
    crew.lent.notify_all();
    let wait = Wait(crew);
    let result = here();
    drop(wait);
    if let Some(panic) = crew.state().panic.take() {
        resume_unwind(panic);
    }
    result
}

/// When dropped: no more workers take the lent task, and it waits until
/// those that took it are done.
struct Wait(&'static Crew);

impl Drop for Wait {
    fn drop(&mut self) {
        let crew = self.0;
        {
            let mut state = crew.state();
            let late = state.wanted - state.taken;
            state.wanted = state.taken;
            crew.busy.fetch_sub(late, Ordering::Relaxed);
        }
        for _ in 0..SPIN {
            if crew.busy.load(Ordering::Acquire) == 0 {
                break;
            }
            std::hint::spin_loop();
        }
        let mut state = crew.state();
        while crew.busy.load(Ordering::Acquire) != 0 {
            state = crew
                .done
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        state.task = None;
    }
}
