//! Opening inputs and cutting them into chunks.
//!
//! An input is standard input or a named file; `-` means standard input.

pub mod splitter;

pub use splitter::{Chunk, Framing, Splitter};

use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;

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

    /// Opens the input for reading.
    pub fn open(&self) -> io::Result<Box<dyn Read>> {
        match self {
            Source::Stdin => Ok(Box::new(io::stdin().lock())),
            Source::File(path) => Ok(Box::new(File::open(path)?)),
        }
    }
}
