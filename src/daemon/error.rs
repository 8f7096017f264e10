//! Why `exabgp server` stopped: [`ServerError`], one variant per module that can
//! fail start-up or the run, each keeping that module's own error (and so its
//! exit code). Used by startup.rs (before the runtime) and serve.rs (inside it).

use super::DaemonError;
use crate::api;
use crate::config::{ConfigError, SettingsError};
use crate::system::activation::ActivationError;
use crate::system::bind;
use crate::system::privileges::PrivilegeError;

/// Why `exabgp server` stopped with an error. Each variant keeps the error of the
/// module that found it, so main prints it unchanged and takes the exit code from it.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Already says which setting, where it came from and what was expected.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// Already formatted as file:line:col: what was wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// What systemd handed over (LISTEN_FDS, LISTEN_FDNAMES) is unusable.
    #[error(transparent)]
    Activation(#[from] ActivationError),
    /// "another instance is already running on PATH", or why no socket could be bound.
    #[error(transparent)]
    Control(#[from] api::BindError),
    /// Names the address, the port and what to check.
    #[error(transparent)]
    Listen(#[from] bind::BindError),
    /// The daemon user does not exist, or switching to it or dropping a capability failed.
    #[error(transparent)]
    Privileges(#[from] PrivilegeError),
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
    /// The core's task did not end normally (it panicked or was cancelled).
    #[error("the daemon core ended abnormally: {0}")]
    Core(tokio::task::JoinError),
    #[error(transparent)]
    Daemon(#[from] DaemonError),
    /// exabgp_metrics_listen could not be bound, or systemd's metrics socket is unusable.
    #[error(transparent)]
    Metrics(#[from] crate::metrics::http::HttpError),
    /// Not a failure: `restart --hitless` handed this many sessions to the next
    /// process; the exit code (75) asks systemd to start it.
    #[error("restart --hitless: {0} session(s) handed over to the next process; exiting with 75 for systemd to start it")]
    HandedOver(usize),
}

impl ServerError {
    /// The process exit code (sysexits), the one the wrapped error gives: 78 for a
    /// configuration or settings error (a misspelled daemon user included), 77 for a
    /// missing permission, 69 when another instance runs, 71 for other OS errors.
    pub fn exit_code(&self) -> i32 {
        match self {
            ServerError::Settings(e) => e.exit_code(),
            ServerError::Config(e) => e.exit_code(),
            ServerError::Activation(e) => e.exit_code(),
            ServerError::Control(e) => e.exit_code(),
            ServerError::Listen(e) => e.exit_code(),
            ServerError::Privileges(e) => e.exit_code(),
            ServerError::Metrics(e) => e.exit_code(),
            ServerError::HandedOver(_) => crate::EX_TEMPFAIL,
            ServerError::Runtime(_) | ServerError::Core(_) | ServerError::Daemon(_) => {
                crate::EX_OSERR
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each error keeps its own exit code through ServerError: the codes README.md,
    /// docs/settings.md, docs/systemd.md and docs/api.md promise.
    #[test]
    fn exit_codes_follow_the_docs() {
        use std::io::ErrorKind;
        let listen = |kind: ErrorKind| bind::BindError {
            addr: "127.0.0.1:179".parse().unwrap_or_else(|_| unreachable!()),
            source: std::io::Error::from(kind),
            hint: String::new(),
        };
        let cases: Vec<(ServerError, i32)> = vec![
            (ConfigError::Invalid(vec![]).into(), crate::EX_CONFIG),
            (SettingsError::Invalid(vec![]).into(), crate::EX_CONFIG),
            (
                PrivilegeError::NoSuchUser("nosuchuser".into()).into(),
                crate::EX_CONFIG,
            ),
            (
                PrivilegeError::Switch {
                    user: "exabgp".into(),
                    step: "setuid",
                    source: nix::Error::EPERM,
                }
                .into(),
                crate::EX_NOPERM,
            ),
            (listen(ErrorKind::PermissionDenied).into(), crate::EX_NOPERM),
            (listen(ErrorKind::AddrInUse).into(), crate::EX_OSERR),
            (
                api::BindError::AlreadyRunning {
                    path: "/run/exabgp/x.sock".into(),
                }
                .into(),
                crate::EX_UNAVAILABLE,
            ),
            (ActivationError::TooMany(9999).into(), crate::EX_OSERR),
            (ServerError::HandedOver(1), crate::EX_TEMPFAIL),
        ];
        for (e, code) in cases {
            assert_eq!(e.exit_code(), code, "{e}");
        }
    }
}
