//! The signals a daemon under systemd handles: SIGTERM (systemctl stop), SIGINT
//! (Ctrl-C in a terminal) and SIGHUP (systemctl reload: ExecReload=kill -HUP).
//! Tokio signal streams; create them inside the runtime, early, so a SIGHUP that
//! arrives during startup is queued rather than killing us (its default action).

use std::io;

use tokio::signal::unix::{signal, SignalKind};

/// What a received signal asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM: Cease to every peer, stop helpers, exit 0.
    Terminate,
    /// SIGINT: the same as SIGTERM.
    Interrupt,
    /// SIGHUP: re-read the configuration and apply the difference.
    Reload,
}

/// The three signal streams.
pub struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    /// Install the handlers. Must be called from inside a tokio runtime.
    pub fn new() -> io::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    /// The next signal. Cancel-safe: use it in `tokio::select!`.
    pub async fn recv(&mut self) -> Signal {
        loop {
            tokio::select! {
                Some(()) = self.term.recv() => return Signal::Terminate,
                Some(()) = self.int.recv() => return Signal::Interrupt,
                Some(()) = self.hup.recv() => return Signal::Reload,
                else => {
                    // Every stream closed: only at runtime shutdown. Wait forever
                    // rather than spin.
                    std::future::pending::<()>().await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sighup_is_reload_and_sigterm_is_terminate() {
        let mut signals = Signals::new().unwrap();
        let me = nix::unistd::Pid::this();
        nix::sys::signal::kill(me, nix::sys::signal::Signal::SIGHUP).unwrap();
        let got = tokio::time::timeout(std::time::Duration::from_secs(5), signals.recv())
            .await
            .unwrap();
        assert_eq!(got, Signal::Reload);
        nix::sys::signal::kill(me, nix::sys::signal::Signal::SIGTERM).unwrap();
        let got = tokio::time::timeout(std::time::Duration::from_secs(5), signals.recv())
            .await
            .unwrap();
        assert_eq!(got, Signal::Terminate);
    }
}
