//! Writing to stdout and stderr without panicking when the reader went away (`| head`).
//!
//! `println!` panics when stdout is a closed pipe (Rust ignores SIGPIPE, so
//! the write fails with EPIPE). Unix tools end quietly instead; so does
//! kubestrap: the first failed write marks stdout closed, later output is
//! dropped, the run winds down as after Ctrl-C (no new task starts, running
//! ones get their grace period, host locks are released) without a word,
//! and the process exits [`ExitCode::BrokenPipe`] (141, as if SIGPIPE had
//! ended it).

use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::ExitCode;

/// 0: open; 1: the reader closed it (EPIPE); 2: another write error.
static STATE: AtomicU8 = AtomicU8::new(0);
const OPEN: u8 = 0;
const CLOSED: u8 = 1;
const FAILED: u8 = 2;

/// Write `text` to `w`, flushing, unless `state` says the stream failed
/// before. True when this write is the one that failed.
fn write_to(state: &AtomicU8, w: &mut impl Write, text: &[u8]) -> bool {
    if state.load(Ordering::Relaxed) != OPEN {
        return false;
    }
    let Err(e) = w.write_all(text).and_then(|()| w.flush()) else {
        return false;
    };
    let why = if e.kind() == std::io::ErrorKind::BrokenPipe {
        CLOSED
    } else {
        // Not a pipe that closed (a full disk, say): that is worth a word.
        error_text(&format!("error: cannot write to stdout: {e}\n"));
        FAILED
    };
    state
        .compare_exchange(OPEN, why, Ordering::Relaxed, Ordering::Relaxed)
        .is_ok()
}

/// Write to the process's stdout; the first failure stops the run.
fn write_stdout(text: &[u8]) {
    if write_to(&STATE, &mut std::io::stdout().lock(), text) {
        crate::interrupt::stop_quietly();
    }
}

/// Print `text` to stdout (`print!` that never panics), every known secret
/// masked: the one way kubestrap's own lines reach stdout.
pub fn print(text: &str) {
    write_stdout(crate::report::redact::text(text).as_bytes());
}

/// Print bytes to stdout as they are.
pub fn print_bytes(bytes: &[u8]) {
    write_stdout(bytes);
}

/// Write `text` to stderr as it is, every known secret masked; a closed
/// stderr is ignored.
pub fn error_text(text: &str) {
    let text = crate::report::redact::text(text);
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Whether stdout can no longer be written.
pub fn closed() -> bool {
    STATE.load(Ordering::Relaxed) != OPEN
}

/// The process's exit code given the run's own: a closed stdout ended the
/// run early, so it wins (141 is what a shell shows for SIGPIPE); another
/// write error is kubestrap's own failure.
pub fn exit_code(run: ExitCode) -> ExitCode {
    code_for(STATE.load(Ordering::Relaxed), run)
}

fn code_for(state: u8, run: ExitCode) -> ExitCode {
    match state {
        CLOSED => run.max(ExitCode::BrokenPipe),
        FAILED => run.max(ExitCode::Internal),
        _ => run,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that went away: every write fails as a closed pipe does.
    struct ClosedPipe(usize);

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            self.0 += 1;
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_is_noted_once_and_later_output_is_dropped() {
        let state = AtomicU8::new(OPEN);
        let mut pipe = ClosedPipe(0);
        assert!(write_to(&state, &mut pipe, b"first\n"), "the failing write");
        assert!(!write_to(&state, &mut pipe, b"second\n"));
        assert_eq!(pipe.0, 1, "nothing is written after the pipe closed");
        assert_eq!(state.load(Ordering::Relaxed), CLOSED);
        let mut fine = Vec::new();
        assert!(!write_to(&AtomicU8::new(OPEN), &mut fine, b"x\n"));
        assert_eq!(fine, b"x\n");
    }

    #[test]
    fn exit_codes_after_stdout_trouble() {
        let table = [
            (OPEN, ExitCode::HostKey, ExitCode::HostKey),
            (CLOSED, ExitCode::Ok, ExitCode::BrokenPipe),
            (CLOSED, ExitCode::HostKey, ExitCode::BrokenPipe),
            (FAILED, ExitCode::Ok, ExitCode::Internal),
            (FAILED, ExitCode::Unreachable, ExitCode::Unreachable),
        ];
        for (state, run, want) in table {
            assert_eq!(code_for(state, run), want, "{state} {run:?}");
        }
    }
}
