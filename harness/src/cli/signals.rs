//! Stopping on Ctrl-C and on SIGTERM (what CI runners, `timeout` and process managers
//! send), so every command unwinds: a started target is stopped, the CA and trust bundle
//! files are deleted.

use std::future::Future;
use std::pin::Pin;

/// Resolves on Ctrl-C (and SIGTERM on unix) with the signal's name. Listens from the
/// moment it is called, not from its first poll: a server calls it before printing its
/// ready line, so a signal sent right after that line is not lost.
pub fn interrupted() -> Pin<Box<dyn Future<Output = &'static str> + Send>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let (Ok(mut interrupt), Ok(mut terminate)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            return Box::pin(async move {
                tokio::select! {
                    _ = interrupt.recv() => "Ctrl-C",
                    _ = terminate.recv() => "SIGTERM",
                }
            });
        }
    }
    Box::pin(async {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    })
}
