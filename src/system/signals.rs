//! The signals a daemon under systemd handles: SIGTERM (systemctl stop), SIGINT
//! (Ctrl-C in a terminal), SIGHUP (systemctl reload: ExecReload=kill -HUP) and
//! SIGUSR1, ExaBGP's reload signal, which reloads as SIGHUP does (its default
//! action would end the process without a Cease to the peers).
//! Tokio signal streams, created inside the runtime. Before the runtime exists,
//! [`hold`] blocks the four signals on the main thread (and so on every thread
//! started after it), so one that arrives during startup (after the listeners are
//! bound, while the runtime is being built) stays pending instead of killing us by
//! its default action; [`Held::release`] lets it through once the streams exist.
//! A child would inherit the mask (std's spawning keeps it): helpers are spawned
//! through [`unblock_in_child`], which empties it after fork, before exec.

use std::io;

use tokio::signal::unix::{signal, SignalKind};

/// What a received signal asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM: Cease to every peer, stop helpers, exit 0.
    Terminate,
    /// SIGINT: the same as SIGTERM.
    Interrupt,
    /// SIGHUP or SIGUSR1: re-read the configuration and apply the difference.
    Reload,
}

impl Signal {
    /// The signal's name, for log lines ("SIGTERM received, shutting down").
    pub fn name(&self) -> &'static str {
        match self {
            Signal::Terminate => "SIGTERM",
            Signal::Interrupt => "SIGINT",
            Signal::Reload => "SIGHUP/SIGUSR1",
        }
    }
}

/// SIGTERM, SIGINT, SIGHUP and SIGUSR1 blocked on the calling thread, from [`hold`].
#[must_use = "release() once the signal streams exist, or the signals stay blocked"]
pub struct Held {
    set: nix::sys::signal::SigSet,
}

fn handled() -> nix::sys::signal::SigSet {
    use nix::sys::signal::{SigSet, Signal as S};
    let mut set = SigSet::empty();
    for s in [S::SIGTERM, S::SIGINT, S::SIGHUP, S::SIGUSR1] {
        set.add(s);
    }
    set
}

/// Block SIGTERM, SIGINT, SIGHUP and SIGUSR1 on the calling thread; threads it starts later
/// inherit the mask. Call it first thing on the main thread.
pub fn hold() -> io::Result<Held> {
    let set = handled();
    nix::sys::signal::pthread_sigmask(nix::sys::signal::SigmaskHow::SIG_BLOCK, Some(&set), None)
        .map_err(io::Error::from)?;
    Ok(Held { set })
}

impl Held {
    /// Unblock the signals on this thread (the one that called [`hold`]); one that
    /// arrived meanwhile is delivered now, to the handlers [`Signals::new`] installed.
    pub fn release(self) -> io::Result<()> {
        nix::sys::signal::pthread_sigmask(
            nix::sys::signal::SigmaskHow::SIG_UNBLOCK,
            Some(&self.set),
            None,
        )
        .map_err(io::Error::from)
    }
}

/// Make `cmd`'s child start with no signal blocked. Worker threads started while
/// [`hold`] was in force keep the four signals blocked (harmless for them: the
/// main thread takes delivery), and a child spawned from one would inherit that and
/// could not be stopped by SIGTERM.
pub fn unblock_in_child(cmd: &mut tokio::process::Command) {
    let empty = nix::sys::signal::SigSet::empty();
    // SAFETY: the closure runs in the child between fork and exec; it only calls
    // pthread_sigmask, which is async-signal-safe, on a set built before the fork,
    // and allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::signal::pthread_sigmask(
                nix::sys::signal::SigmaskHow::SIG_SETMASK,
                Some(&empty),
                None,
            )
            .map_err(io::Error::from)
        });
    }
}

/// The four signal streams.
pub struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
    usr1: tokio::signal::unix::Signal,
}

impl Signals {
    /// Install the handlers. Must be called from inside a tokio runtime.
    pub fn new() -> io::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
            usr1: signal(SignalKind::user_defined1())?,
        })
    }

    /// The next signal. Cancel-safe: use it in `tokio::select!`.
    pub async fn recv(&mut self) -> Signal {
        loop {
            tokio::select! {
                Some(()) = self.term.recv() => return Signal::Terminate,
                Some(()) = self.int.recv() => return Signal::Interrupt,
                Some(()) = self.hup.recv() => return Signal::Reload,
                Some(()) = self.usr1.recv() => return Signal::Reload,
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

    /// A SIGHUP raised while held is neither lost nor fatal: it comes out of the
    /// stream after release. (Without `hold`, raising SIGHUP before the handler
    /// exists kills the test binary.) `raise` targets this thread only, so other
    /// tests' threads are not involved.
    #[test]
    fn a_signal_held_during_startup_is_delivered_after_release() {
        let held = hold().unwrap();
        nix::sys::signal::raise(nix::sys::signal::Signal::SIGHUP).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let got = rt.block_on(async {
            let mut signals = Signals::new().unwrap();
            held.release().unwrap();
            tokio::time::timeout(std::time::Duration::from_secs(5), signals.recv()).await
        });
        assert_eq!(got.unwrap(), Signal::Reload);
    }

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
        assert_eq!(got.name(), "SIGTERM");
    }

    /// SIGUSR1 is ExaBGP's reload signal: a reload here too, not the default action
    /// (which would end the test binary, as it ended the daemon without a Cease).
    #[tokio::test]
    async fn sigusr1_is_reload_as_in_exabgp() {
        let mut signals = Signals::new().unwrap();
        let me = nix::unistd::Pid::this();
        nix::sys::signal::kill(me, nix::sys::signal::Signal::SIGUSR1).unwrap();
        let got = tokio::time::timeout(std::time::Duration::from_secs(5), signals.recv())
            .await
            .unwrap();
        assert_eq!(got, Signal::Reload);
    }
}
