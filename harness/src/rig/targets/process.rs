//! A target command's process: started through the shell in a process group of its own,
//! and ended with its whole group, so what the shell started goes too.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

/// `sh -c command_line` with piped output, in a process group of its own, killed if dropped.
pub(crate) fn shell(command_line: &str) -> Command {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(command_line)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    command
}

/// Ends a child and the process group it leads (`group`: its pid, read when it was
/// spawned, since tokio forgets the pid once the child is reaped): SIGTERM and up to
/// `grace` to go, then SIGKILL for whatever of the group is left.
pub(super) async fn stop_child(child: &mut Child, group: Option<u32>, grace: Duration) {
    let exited = matches!(child.try_wait(), Ok(Some(_)));
    if !exited && !grace.is_zero() {
        if let Some(group) = group {
            signal_group(group, Signal::Term);
        }
        let _ = tokio::time::timeout(grace, child.wait()).await;
    }
    // The shell may be gone while what it started is not.
    if let Some(group) = group {
        signal_group(group, Signal::Kill);
    }
    let _ = child.start_kill();
    let _ = child.wait().await;
}

/// A signal [`signal_group`] sends.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Signal {
    Term,
    Kill,
}

/// Sends `signal` to the process group `pid` leads. Where there are no process groups
/// (not Unix), [`Child::start_kill`] is all there is.
pub(crate) fn signal_group(pid: u32, signal: Signal) {
    #[cfg(unix)]
    {
        let number = match signal {
            Signal::Term => libc::SIGTERM,
            Signal::Kill => libc::SIGKILL,
        };
        // Zero or a negative number would signal this process's own group, or every process.
        if let Ok(group) = libc::pid_t::try_from(pid)
            && group > 0
        {
            // SAFETY: kill(2) takes plain integers and touches no memory of this process.
            unsafe {
                libc::kill(-group, number);
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (pid, signal);
}
