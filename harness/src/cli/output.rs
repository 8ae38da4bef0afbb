//! Writing to stdout so that a reader who stops reading (`mintcheck list | head`) is a
//! normal end. `println!` panics when the pipe closes; these return the error, which
//! unwinds the command normally (a started target is stopped, temporary files are removed)
//! and which `main` turns into a quiet exit 0. Commands whose exit code is a verdict (`run`,
//! `fuzz`, `coverage`, `explain`, `client`, `export --check`) pass their writes through
//! [`unread_is_fine`] instead: a closed pipe ends their output, never changes their verdict.
//!
//! `SIGPIPE` is not restored to its default instead: the servers this binary runs write to
//! sockets, and a client that hangs up must not kill the process.

/// Like `print!`, returning `std::io::Result<()>`.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        write!(stdout, $($arg)*).and_then(|()| stdout.flush())
    }};
}

/// Like `println!`, returning `std::io::Result<()>`.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, $($arg)*).and_then(|()| stdout.flush())
    }};
}

pub(crate) use {out, outln};

/// Whether the command ended because its reader closed stdout.
pub fn stdout_closed(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// A write whose reader has gone counts as done.
pub fn unread_is_fine(written: std::io::Result<()>) -> std::io::Result<()> {
    match written {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
