//! The tokmeter binary: the command-line layer (`app`) over the engine.

mod app;

use std::process::ExitCode;

/// Runs before std's start-up, which puts /dev/null opened for writing on a
/// closed fd 0, 1 or 2 so that writes there would silently succeed: a closed
/// stdout or stderr gets /dev/null opened read-only instead, where every
/// write fails with EBADF as on a closed descriptor, and is reported.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static KEEP_CLOSED_OUTPUTS_FAILING: extern "C" fn() = keep_closed_outputs_failing;

#[cfg(target_os = "linux")]
extern "C" fn keep_closed_outputs_failing() {
    for fd in [1, 2] {
        // SAFETY: only descriptors 1 and 2 are probed and, when closed,
        // filled; nothing else runs yet.
        unsafe {
            if libc::fcntl(fd, libc::F_GETFD) == -1 {
                let opened = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY);
                if opened >= 0 && opened != fd {
                    libc::dup2(opened, fd);
                    libc::close(opened);
                }
            }
        }
    }
}

fn main() -> ExitCode {
    tokmeter::clock::mark_program_start();
    app::main().into()
}
