//! Opening inputs and cutting them into chunks.
//!
//! An input is standard input or a named file; `-` means standard input.

pub mod mirror;
pub mod scan;
pub mod splitter;
pub mod sse;

pub use splitter::{Block, Chunk, Framing, Splitter};

use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::path::PathBuf;

use crate::signal::Interruptible;

/// One input to read, a session of its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Standard input.
    Stdin,
    /// A file by path.
    File(PathBuf),
}

impl Source {
    /// `-` for standard input, else the path as given.
    pub fn from_arg(arg: &std::ffi::OsStr) -> Source {
        if arg == "-" {
            Source::Stdin
        } else {
            Source::File(PathBuf::from(arg))
        }
    }

    /// The name used in messages and summaries.
    pub fn display_name(&self) -> String {
        match self {
            Source::Stdin => "<stdin>".to_string(),
            Source::File(path) => path.display().to_string(),
        }
    }

    /// Opens the input for reading: a file, or our own handle on fd 0 (so
    /// reads go straight to the descriptor, unbuffered by std). Reads that
    /// wait for a producer stop when a signal arrives (see `signal`). A
    /// directory is refused here, as a missing file is, before any session.
    pub fn open(&self) -> io::Result<Interruptible<File>> {
        let file = match self {
            Source::Stdin => File::from(io::stdin().as_fd().try_clone_to_owned()?),
            Source::File(path) => crate::signal::open_for_reading(path)?,
        };
        if file.metadata()?.is_dir() {
            return Err(io::Error::from_raw_os_error(libc::EISDIR));
        }
        Ok(Interruptible::new(file))
    }
}
