//! `exabgp-rollback`: change an instance safely, prove it came back healthy, and
//! return to any earlier known-good state (configuration, env file and package).
//!
//! - [`store`]: numbered generations on disk, written whole or not at all.
//! - [`host`]: the commands run on the host (systemctl, journalctl, exabgp,
//!   exabgpcli, apt-get/dnf), each bounded in time.
//! - [`verify`]: "healthy" as a list of checks (active, READY, STATUS, every
//!   neighbor Established, no error in the journal).
//! - [`ops`]: steps the commands share: the lock, recording the installed state,
//!   validation, reload/restart, finishing what a dead run left.
//! - [`apply`], [`restore`]: the `apply` and `rollback` commands.
//! - [`cli`]: the command line; `save`, `list`, `diff`.
//!
//! Operators run this under pressure, so: every wait is bounded, a flock(2) keeps
//! two runs on one instance from interleaving, an interrupted run is finished by the
//! next one, and an invalid change is refused before anything is touched.

pub mod apply;
pub mod cli;
pub mod host;
pub mod ops;
pub mod restore;
pub mod store;
pub mod verify;

/// Exit codes (sysexits where one fits), documented in exabgp-rollback(8).
pub mod exit {
    /// Done, and verified (unless --emergency or --dry-run).
    pub const OK: i32 = 0;
    /// The change failed verification and was undone; the old state verified.
    pub const ROLLED_BACK: i32 = 1;
    /// Verification failed and the undo (or the rollback) did not verify either:
    /// the instance needs a human.
    pub const UNHEALTHY: i32 = 2;
    /// Bad command line (EX_USAGE).
    pub const USAGE: i32 = 64;
    /// No such generation, or nothing to roll back to (EX_DATAERR).
    pub const DATA: i32 = 65;
    /// systemctl or the package manager failed (EX_UNAVAILABLE).
    pub const UNAVAILABLE: i32 = 69;
    /// Reading or writing files failed (EX_IOERR).
    pub const IO: i32 = 74;
    /// Another run holds the instance's lock (EX_TEMPFAIL).
    pub const BUSY: i32 = 75;
    /// The new configuration or env file is invalid; nothing was changed (EX_CONFIG).
    pub const INVALID: i32 = 78;
}

#[derive(Debug, thiserror::Error)]
pub enum RollbackError {
    #[error("{0}")]
    Io(String),
    #[error("{0}")]
    Command(String),
    #[error("package change failed: {0}")]
    Package(String),
    #[error("instance {0} has no generation {1} (see `exabgp-rollback list {0}`)")]
    NoGeneration(String, u32),
    #[error("{0}")]
    Nothing(String),
    #[error("generation data is damaged: {0}")]
    Corrupt(String),
    #[error("another exabgp-rollback run holds {0}; try again later or pass --wait SECONDS")]
    Busy(String),
    #[error("{0}")]
    Invalid(String),
    #[error("invalid instance name {0:?}: use letters, digits and . _ - @ : (at most 64, not starting with . or -)")]
    InstanceName(String),
}

impl RollbackError {
    pub fn exit_code(&self) -> i32 {
        match self {
            RollbackError::Io(_) | RollbackError::Corrupt(_) => exit::IO,
            RollbackError::Command(_) | RollbackError::Package(_) => exit::UNAVAILABLE,
            RollbackError::NoGeneration(..) | RollbackError::Nothing(_) => exit::DATA,
            RollbackError::Busy(_) => exit::BUSY,
            RollbackError::Invalid(_) => exit::INVALID,
            RollbackError::InstanceName(_) => exit::USAGE,
        }
    }
}

static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// SIGINT, SIGTERM and SIGHUP (Ctrl-C, a dropped ssh session) no longer kill the
/// tool half-way: they end the current wait, so an apply undoes itself and a
/// rollback reports what it reached. Children run in their own process group and
/// do not see a terminal's Ctrl-C; they get the default dispositions back at exec.
pub fn catch_interrupts() {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let act = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for sig in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        let _ = unsafe { sigaction(sig, &act) };
    }
}

/// Forgets a signal that was handled: the undo that follows an interrupted wait
/// gets its own full (bounded) wait; a second signal ends that one too.
pub fn clear_interrupt() {
    INTERRUPTED.store(false, std::sync::atomic::Ordering::SeqCst);
}

/// Whether one of those signals arrived.
pub fn interrupted() -> bool {
    INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst)
}

/// An instance name as systemd's `exabgp@NAME` and our file names accept it.
pub fn check_instance(name: &str) -> Result<(), RollbackError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | ':'));
    if ok {
        Ok(())
    } else {
        Err(RollbackError::InstanceName(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_names() {
        for good in ["edge1", "dc-1.edge_2", "a@b:c"] {
            assert!(check_instance(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "-x",
            "a b",
            "a\nb",
            &"x".repeat(65),
        ] {
            assert!(check_instance(bad).is_err(), "{bad:?}");
        }
    }
}
