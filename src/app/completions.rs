//! `tokmeter completions SHELL`: the shell completion script, generated
//! from the same flag definitions as `--help`.

use clap::CommandFactory;
use clap_complete::Shell;

use super::args::Args;
use super::exit::Exit;
use super::report::write_stdout;

/// Writes the completion script for `shell` to standard output.
pub fn print(shell: Shell) -> anyhow::Result<Exit> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Args::command(), "tokmeter", &mut script);
    write_stdout(&script)?;
    Ok(Exit::Success)
}
