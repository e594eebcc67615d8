//! Pass-through in the kernel: when input and output are both pipes, the
//! bytes are duplicated from one pipe into the other with tee(2), never
//! copied through user space, and then read once, for counting.
//!
//! The output holds every byte before it is read, so what was read is what
//! was delivered: a session that ends early (the reader went away, a
//! signal) still counts all it read, its last partial line included, and
//! its output is never behind its count.

use std::io::{self, Read};

#[cfg(target_os = "linux")]
use std::os::fd::RawFd;

use crate::signal::Interruptible;

/// An input whose bytes reach the output as they arrive, by tee(2), before
/// they are read: it reads as the input does, and ends (reads 0 bytes) at
/// the input's end or when the output or a signal stopped it.
pub struct Mirror<R> {
    input: Interruptible<R>,
    #[cfg(target_os = "linux")]
    output: RawFd,
    /// Bytes duplicated to the output and not yet read.
    owed: usize,
    /// What stopped it before the input's end: the output's error, or
    /// `ErrorKind::Interrupted` for a signal of ours.
    cut: Option<io::Error>,
}

impl<R: Read + std::os::fd::AsRawFd> Mirror<R> {
    /// Mirrors `input` into `output` if both are pipes and the system moves
    /// bytes between pipes in the kernel (Linux); `Err` gives `input` back.
    #[cfg(target_os = "linux")]
    pub fn new(input: Interruptible<R>, output: RawFd) -> Result<Mirror<R>, Interruptible<R>> {
        if !is_pipe(input.get_ref().as_raw_fd()) || !is_pipe(output) {
            return Err(input);
        }
        // Fewer, larger moves: each pipe holds up to 1 MiB (as much as an
        // unprivileged process may ask; a pipe left smaller still works).
        for fd in [input.get_ref().as_raw_fd(), output] {
            grow_pipe(fd, PIPE_SIZE);
        }
        Ok(Mirror {
            input,
            output,
            owed: 0,
            cut: None,
        })
    }

    /// Never on this system: bytes are copied through user space.
    #[cfg(not(target_os = "linux"))]
    pub fn new(input: Interruptible<R>, _output: i32) -> Result<Mirror<R>, Interruptible<R>> {
        Err(input)
    }

    /// What ended it before the input's end, if anything did: an error of
    /// the output, or `ErrorKind::Interrupted` for a signal of ours.
    pub fn cut(&mut self) -> Option<io::Error> {
        self.cut.take()
    }

    /// Duplicates up to `want` bytes of the input to the output: how many,
    /// 0 at the input's end. Waits, where a signal can wake it, for bytes
    /// to read and for room to write them.
    #[cfg(target_os = "linux")]
    fn mirror(&mut self, want: usize) -> io::Result<usize> {
        let input = self.input.get_ref().as_raw_fd();
        loop {
            if crate::signal::received() != 0 {
                return Err(io::Error::from(io::ErrorKind::Interrupted));
            }
            // SAFETY: tee(2) between two open pipe descriptors; no memory
            // of ours is touched.
            let n = unsafe { libc::tee(input, self.output, want, libc::SPLICE_F_NONBLOCK) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let err = io::Error::last_os_error();
            match err.kind() {
                io::ErrorKind::WouldBlock => crate::signal::wait_ready(&[
                    (input, libc::POLLIN),
                    (self.output, libc::POLLOUT),
                ])?,
                io::ErrorKind::Interrupted => {}
                _ => return Err(err),
            }
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn mirror(&mut self, _want: usize) -> io::Result<usize> {
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
}

impl<R: Read + std::os::fd::AsRawFd> Read for Mirror<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        if buffer.is_empty() || self.cut.is_some() {
            return Ok(0);
        }
        if self.owed == 0 {
            match self.mirror(buffer.len()) {
                Ok(0) => return Ok(0),
                Ok(n) => self.owed = n,
                Err(err) => {
                    self.cut = Some(err);
                    return Ok(0);
                }
            }
        }
        // The bytes are in the pipe already: this read does not wait.
        let want = buffer.len().min(self.owed);
        let n = self.input.get_mut().read(&mut buffer[..want])?;
        self.owed -= n;
        Ok(n)
    }
}

/// The size a mirrored session's pipes are grown to.
#[cfg(target_os = "linux")]
const PIPE_SIZE: libc::c_int = 1 << 20;

/// Grows the pipe `fd` to hold `size` bytes, if it holds fewer and the
/// system allows it.
#[cfg(target_os = "linux")]
fn grow_pipe(fd: RawFd, size: libc::c_int) {
    // SAFETY: fcntl(2) reading and setting a pipe's size; no memory of
    // ours is touched, and a refusal leaves the pipe as it was.
    unsafe {
        if libc::fcntl(fd, libc::F_GETPIPE_SZ) < size {
            libc::fcntl(fd, libc::F_SETPIPE_SZ, size);
        }
    }
}

/// Whether `fd` is a pipe or FIFO.
#[cfg(target_os = "linux")]
fn is_pipe(fd: RawFd) -> bool {
    crate::signal::file_type(fd) == libc::S_IFIFO
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::fs::File;
    use std::io::Write;
    use std::os::fd::{AsRawFd, FromRawFd};

    fn pipe() -> (File, File) {
        let mut fds = [-1; 2];
        // SAFETY: pipe2 fills two new descriptors, each owned by one File.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) }
    }

    #[test]
    fn output_gets_the_bytes_read_before_they_are_read() {
        let (input, mut producer) = pipe();
        let (mut consumer, output) = pipe();
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let sent = bytes.clone();
        let writer = std::thread::spawn(move || producer.write_all(&sent));
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            consumer.read_to_end(&mut got).map(|_| got)
        });
        let mut mirror = Mirror::new(Interruptible::new(input), output.as_raw_fd())
            .unwrap_or_else(|_| panic!("two pipes are mirrored"));
        let mut read = Vec::new();
        let mut buffer = vec![0; 100_000];
        loop {
            let n = mirror.read(&mut buffer).unwrap();
            if n == 0 {
                break;
            }
            read.extend_from_slice(&buffer[..n]);
        }
        assert!(mirror.cut().is_none());
        drop(mirror);
        drop(output);
        writer.join().unwrap().unwrap();
        assert_eq!(read, bytes);
        assert_eq!(reader.join().unwrap().unwrap(), bytes);
    }

    #[test]
    fn a_closed_output_ends_the_input() {
        let (input, mut producer) = pipe();
        let (consumer, output) = pipe();
        drop(consumer);
        producer.write_all(b"abc\n").unwrap();
        let mut mirror = Mirror::new(Interruptible::new(input), output.as_raw_fd())
            .unwrap_or_else(|_| panic!("two pipes are mirrored"));
        let mut buffer = [0; 16];
        assert_eq!(mirror.read(&mut buffer).unwrap(), 0);
        let cut = mirror.cut().expect("the output's error");
        assert_eq!(cut.kind(), io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn a_file_is_not_mirrored() {
        let file = File::open("Cargo.toml").unwrap();
        let (_consumer, output) = pipe();
        assert!(Mirror::new(Interruptible::new(file), output.as_raw_fd()).is_err());
        let (input, _producer) = pipe();
        let file = File::create(
            std::env::temp_dir().join(format!("tokmeter-mirror-{}", std::process::id())),
        )
        .unwrap();
        assert!(Mirror::new(Interruptible::new(input), file.as_raw_fd()).is_err());
    }
}
