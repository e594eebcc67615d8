//! The stdout writer: block buffering with a flush policy, and an exact
//! account of what was delivered.
//!
//! Formatted chunks are collected in one buffer and written with plain
//! `write` calls. After every chunk the writer notes the totals so far at the
//! buffer's end, so when the reader goes away mid-buffer the totals of the
//! chunks that were written whole are known: the summary counts only those.

use std::io::{self, Write};
use std::os::fd::RawFd;

use crate::meter::Totals;

/// Buffered output is written once it reaches this size.
pub const BUFFER_SIZE: usize = 64 * 1024;

/// When output is flushed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlushPolicy {
    /// After every chunk (for a terminal, or `--flush chunk`).
    Chunk,
    /// When the buffer is full, and always before waiting for more input.
    Block,
}

/// Something else drawn on the terminal output goes to (a status line):
/// output is written only while it is held.
pub trait SharedScreen {
    /// Clears the terminal for output until the hold is dropped.
    fn hold(&self) -> Box<dyn ScreenHold + '_>;
}

/// The terminal held for a write; dropping it gives it back.
pub trait ScreenHold {
    /// Notes bytes written to the terminal, in order.
    fn wrote(&mut self, bytes: &[u8]);
}

/// Whether an I/O error means the reader of our output went away.
pub fn is_broken_pipe(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::BrokenPipe
}

/// Buffered output with delivery accounting.
pub struct Output<W> {
    writer: W,
    policy: FlushPolicy,
    buffer: Vec<u8>,
    /// (end of a chunk in `buffer`, totals after that chunk).
    marks: Vec<(usize, Totals)>,
    delivered: Totals,
    /// The status line's terminal, when output goes to it too.
    screen: Option<Box<dyn SharedScreen>>,
    /// The writer's descriptor, polled once a signal asked the run to end.
    fd: Option<RawFd>,
}

impl<W: Write> Output<W> {
    /// Output to `writer` under `policy`. A writer whose writes can wait
    /// (a pipe, a terminal) needs [`Output::descriptor`].
    pub fn new(writer: W, policy: FlushPolicy) -> Output<W> {
        Output {
            writer,
            policy,
            buffer: Vec::with_capacity(BUFFER_SIZE * 2),
            marks: Vec::new(),
            delivered: Totals::default(),
            screen: None,
            fd: None,
        }
    }

    /// Notes the writer's descriptor: once a signal asks the run to end,
    /// output is written only as far as the descriptor takes it without
    /// waiting, so a stalled reader cannot hold the run up.
    #[must_use]
    pub fn descriptor(mut self, fd: RawFd) -> Output<W> {
        self.fd = Some(fd);
        self
    }

    /// Writes with the status line erased from now on (`None`: no more).
    pub fn share_screen(&mut self, screen: Option<Box<dyn SharedScreen>>) {
        self.screen = screen;
    }

    /// Whether its writes erase a status line first.
    pub fn shares_screen(&self) -> bool {
        self.screen.is_some()
    }

    /// Starts accounting a new session: nothing delivered yet. Call it with
    /// the buffer flushed.
    pub fn start_session(&mut self) {
        self.delivered = Totals::default();
        self.marks.clear();
    }

    /// Where the formatter writes the next chunk.
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.buffer
    }

    /// Marks the end of a chunk in the buffer, with the totals including it,
    /// and writes out as the policy says.
    pub fn end_chunk(&mut self, totals: &Totals) -> io::Result<()> {
        self.marks.push((self.buffer.len(), *totals));
        if self.policy == FlushPolicy::Chunk || self.buffer.len() >= BUFFER_SIZE {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes `bytes`, a run of whole chunks whose totals are `totals`,
    /// straight to the writer after what is buffered, without copying it.
    /// On error, the run counts as not delivered.
    pub fn write_run(&mut self, bytes: &[u8], totals: &Totals) -> io::Result<()> {
        if self.has_pending() {
            self.flush()?;
        }
        let mut hold = self.screen.as_ref().map(|screen| screen.hold());
        let mut written = 0;
        while written < bytes.len() {
            let room = room(self.fd, bytes.len() - written)?;
            match self.writer.write(&bytes[written..written + room]) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
                Ok(n) => written += n,
                Err(err) if stop_retrying(&err) => return Err(err),
                Err(_) => {}
            }
        }
        if self.policy == FlushPolicy::Chunk {
            self.writer.flush()?;
        }
        if let Some(hold) = &mut hold {
            hold.wrote(bytes);
        }
        self.delivered = *totals;
        Ok(())
    }

    /// Writes out everything buffered. On error, what was written whole is
    /// still accounted as delivered and the buffer is dropped.
    pub fn flush(&mut self) -> io::Result<()> {
        let mut written = 0;
        let mut hold = match self.has_pending() {
            true => self.screen.as_ref().map(|screen| screen.hold()),
            false => None,
        };
        let result = loop {
            if written == self.buffer.len() {
                break self.writer.flush();
            }
            let room = match room(self.fd, self.buffer.len() - written) {
                Ok(room) => room,
                Err(err) => break Err(err),
            };
            match self.writer.write(&self.buffer[written..written + room]) {
                Ok(0) => break Err(io::Error::from(io::ErrorKind::WriteZero)),
                Ok(n) => {
                    if let Some(hold) = &mut hold {
                        hold.wrote(&self.buffer[written..written + n]);
                    }
                    written += n;
                }
                Err(err) if stop_retrying(&err) => break Err(err),
                Err(_) => {}
            }
        };
        if let Some(&(_, totals)) = self.marks.iter().rev().find(|(end, _)| *end <= written) {
            self.delivered = totals;
        }
        self.marks.clear();
        self.buffer.clear();
        result
    }

    /// Adds tokens counted after their chunks were written out (whole) to
    /// what was delivered.
    pub fn add_delivered(&mut self, measure: crate::meter::Measure) {
        self.delivered.tokens += measure.tokens;
        self.delivered.cost = self.delivered.cost.saturating_add(measure.cost);
    }

    /// The totals of the chunks written out whole so far.
    pub fn delivered(&self) -> &Totals {
        &self.delivered
    }

    /// The writer, after a final [`Output::flush`].
    pub fn into_inner(self) -> W {
        self.writer
    }

    /// Whether anything is waiting in the buffer.
    pub fn has_pending(&self) -> bool {
        !self.buffer.is_empty()
    }
}

/// How many of `want` bytes to write next: all while no signal came, and
/// all to a writer with no descriptor (memory, a sink: it never waits).
/// Once a signal asks the run to end, only what the descriptor takes
/// without waiting (a pipe with room takes PIPE_BUF bytes at once);
/// `Interrupted` when it would wait.
fn room(fd: Option<RawFd>, want: usize) -> io::Result<usize> {
    let Some(fd) = fd.filter(|_| crate::signal::received() != 0) else {
        return Ok(want);
    };
    let mut poll = libc::pollfd {
        fd,
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: poll(2) on one descriptor, without waiting.
    let ready = unsafe { libc::poll(&mut poll, 1, 0) };
    if ready == 1 && poll.revents & libc::POLLOUT != 0 {
        Ok(want.min(libc::PIPE_BUF))
    } else {
        Err(io::Error::from(io::ErrorKind::Interrupted))
    }
}

/// Whether a failed write is final: anything but EINTR, and EINTR too
/// once a signal of ours asks the run to end (a stalled reader must not hold
/// it up).
fn stop_retrying(err: &io::Error) -> bool {
    err.kind() != io::ErrorKind::Interrupted || crate::signal::received() != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Accepts `room` bytes, then fails as a closed pipe does.
    struct Closing {
        room: usize,
        got: Vec<u8>,
    }

    impl Write for Closing {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::Error::from(io::ErrorKind::BrokenPipe));
            }
            let take = data.len().min(self.room);
            self.got.extend_from_slice(&data[..take]);
            self.room -= take;
            Ok(take)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn totals(chunks: u64) -> Totals {
        Totals {
            chunks,
            ..Totals::default()
        }
    }

    #[test]
    fn counts_only_whole_chunks_delivered() {
        let mut output = Output::new(
            Closing {
                room: 7,
                got: Vec::new(),
            },
            FlushPolicy::Block,
        );
        for (i, chunk) in ["abc", "def", "ghi"].iter().enumerate() {
            output.buffer().extend_from_slice(chunk.as_bytes());
            output.end_chunk(&totals(i as u64 + 1)).unwrap();
        }
        let err = output.flush().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        assert_eq!(output.delivered().chunks, 2);
    }

    #[test]
    fn chunk_policy_writes_each_chunk() {
        let mut output = Output::new(Vec::new(), FlushPolicy::Chunk);
        output.buffer().extend_from_slice(b"x");
        output.end_chunk(&totals(1)).unwrap();
        assert!(!output.has_pending());
        assert_eq!(output.delivered().chunks, 1);
    }
}
