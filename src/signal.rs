//! SIGINT and SIGTERM: note the first, end the process at the second.
//!
//! The first signal sets a flag the loop polls between chunks and writes a
//! byte to a wake-up pipe, so an input waiting for a silent producer (see
//! [`Interruptible`]) returns at once, even if the signal came just before
//! the wait began. The loop stops only between chunks, so nothing written is
//! cut. A second signal, e.g. during the summary, ends the process at once.
//! Handlers are installed without SA_RESTART: a write to a stalled reader,
//! an open of a FIFO or a lock wait returns EINTR, and the caller stops.

use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicI32, Ordering};

/// The first signal received, or 0.
static RECEIVED: AtomicI32 = AtomicI32::new(0);
/// The wake-up pipe's read and write ends, or -1 before `install`.
static WAKE_READ: AtomicI32 = AtomicI32::new(-1);
static WAKE_WRITE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(signal: libc::c_int) {
    if RECEIVED
        .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        // SAFETY: _exit is async-signal-safe; nothing else runs here.
        unsafe { libc::_exit(128 + signal) };
    }
    let wake = WAKE_WRITE.load(Ordering::SeqCst);
    if wake >= 0 {
        // SAFETY: write(2) is async-signal-safe; the pipe is non-blocking.
        unsafe { libc::write(wake, b"!".as_ptr().cast(), 1) };
    }
}

/// Installs the handlers for SIGINT and SIGTERM. Errors are ignored: without
/// them the default action (ending the process) still applies.
pub fn install() {
    let mut fds = [-1; 2];
    // SAFETY: pipe2 fills two new descriptors, kept open for the process.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } == 0 {
        WAKE_READ.store(fds[0], Ordering::SeqCst);
        WAKE_WRITE.store(fds[1], Ordering::SeqCst);
    }
    // Past the file size limit a write fails with EFBIG (the ledger is cut
    // back and the run fails) instead of the process being killed.
    // SAFETY: setting a signal to be ignored has no handler to run.
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: a zeroed sigaction is a valid "no flags, empty mask"
        // value; the handler only touches an atomic and calls _exit.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
            libc::sigemptyset(&mut action.sa_mask);
            action.sa_flags = 0;
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

/// The flag the handlers set: the first signal's number, or 0. The filter
/// loop polls it between chunks.
pub fn flag() -> &'static AtomicI32 {
    &RECEIVED
}

/// The signal received, or 0.
pub fn received() -> i32 {
    RECEIVED.load(Ordering::SeqCst)
}

/// Whether `err` is a blocking call cut short by a signal of ours (the
/// handlers are installed without SA_RESTART, so writes, opens and locks
/// return EINTR): the caller stops instead of trying again.
pub fn stopped_by_signal(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::Interrupted && received() != 0
}

/// Opens `path` for reading, like `File::open`, but gives up with
/// `ErrorKind::Interrupted` when a signal of ours arrives while the open
/// blocks (a FIFO with no writer yet).
pub fn open_for_reading(path: &std::path::Path) -> io::Result<std::fs::File> {
    use std::os::fd::FromRawFd;
    use std::os::unix::ffi::OsStrExt;
    let name = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    loop {
        // SAFETY: open(2) on a NUL-terminated path; the new descriptor is
        // owned by the File made from it.
        let fd = unsafe { libc::open(name.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        if fd >= 0 {
            // SAFETY: fd was just opened and is owned by no one else.
            return Ok(unsafe { std::fs::File::from_raw_fd(fd) });
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted || received() != 0 {
            return Err(err);
        }
    }
}

/// The name of a signal we handle.
pub fn name(signal: i32) -> &'static str {
    match signal {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        _ => "signal",
    }
}

/// An input that stops waiting when a signal arrives: before each read that
/// could block, it polls the input together with the wake-up pipe, and
/// returns `ErrorKind::Interrupted` once a signal was received. Regular files
/// never block, so they are read directly.
pub struct Interruptible<R> {
    inner: R,
    fd: RawFd,
    may_block: bool,
}

impl<R: Read + AsRawFd> Interruptible<R> {
    /// The input it reads.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The input it reads, to read without waiting first.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Wraps `inner`.
    pub fn new(inner: R) -> Interruptible<R> {
        let fd = inner.as_raw_fd();
        Interruptible {
            inner,
            fd,
            may_block: file_type(fd) != libc::S_IFREG,
        }
    }
}

/// The type bits of `fd`'s mode (`S_IFREG`, `S_IFIFO`, …), 0 if unknown.
pub fn file_type(fd: RawFd) -> libc::mode_t {
    // SAFETY: fstat on a descriptor into a zeroed struct.
    unsafe {
        let mut stat: libc::stat = std::mem::zeroed();
        match libc::fstat(fd, &mut stat) {
            0 => stat.st_mode & libc::S_IFMT,
            _ => 0,
        }
    }
}

/// Waits until each of `waits` (at most two: a descriptor and the poll(2)
/// events it waits for) has been ready once; `ErrorKind::Interrupted` as
/// soon as a signal of ours came, even one that came before the wait.
pub fn wait_ready(waits: &[(RawFd, libc::c_short)]) -> io::Result<()> {
    let pollfd = |fd, events| libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // The wake-up pipe first; a negative descriptor is skipped by poll.
    let mut fds = [pollfd(WAKE_READ.load(Ordering::SeqCst), libc::POLLIN); 3];
    let count = 1 + waits.len().min(2);
    for (slot, &(fd, events)) in fds[1..count].iter_mut().zip(waits) {
        *slot = pollfd(fd, events);
    }
    while fds[1..count].iter().any(|entry| entry.fd >= 0) {
        // SAFETY: poll(2) on `count` entries, each a descriptor or -1.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), count as libc::nfds_t, -1) };
        if RECEIVED.load(Ordering::SeqCst) != 0 || (fds[0].fd >= 0 && fds[0].revents != 0) {
            return Err(io::Error::from(io::ErrorKind::Interrupted));
        }
        if ready < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        for entry in &mut fds[1..count] {
            if entry.revents != 0 {
                entry.fd = -1;
            }
            entry.revents = 0;
        }
    }
    Ok(())
}

impl<R: Read + AsRawFd> Read for Interruptible<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        if self.may_block {
            wait_ready(&[(self.fd, libc::POLLIN)])?;
        }
        self.inner.read(buffer)
    }
}
