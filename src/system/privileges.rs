//! Least privilege: once every socket is bound (or adopted from systemd), switch to
//! `exabgp_daemon_user` when started as root, and drop every capability.
//!
//! Capabilities are per thread (capset(2) changes only the calling thread), so
//! [`drop_privileges`] must run before the tokio runtime starts its worker threads;
//! threads created afterwards inherit the empty sets. The uid/gid switch goes through
//! glibc, which applies it to every thread, but the capability drop does not.
//! PR_SET_NO_NEW_PRIVS is set too, so no helper we spawn can regain privileges
//! through a setuid binary or file capabilities.

use std::io;

use caps::CapSet;
use nix::unistd::{Gid, Uid, User};

#[derive(Debug, thiserror::Error)]
pub enum PrivilegeError {
    #[error(
        "exabgp_daemon_user={0:?}: no such user, and exabgp refuses to keep running as root: \
         create it (systemd-sysusers), set exabgp_daemon_user to another user, or set \
         exabgp_daemon_drop=false to stay root (capabilities are dropped all the same)"
    )]
    NoSuchUser(String),
    #[error("exabgp_daemon_user={user:?}: looking the user up failed: {source}")]
    Lookup { user: String, source: nix::Error },
    #[error("switching to user {user:?} ({step}) failed: {source}")]
    Switch {
        user: String,
        step: &'static str,
        source: nix::Error,
    },
    #[error("dropping the {set} capability set failed: {reason}")]
    Caps { set: &'static str, reason: String },
    #[error("prctl(PR_SET_NO_NEW_PRIVS) failed: {0}")]
    NoNewPrivs(io::Error),
}

impl PrivilegeError {
    /// The process exit code: a user that does not exist is a typo in the settings
    /// (exabgp_daemon_user), so 78 (EX_CONFIG) as docs/settings.md says of every
    /// settings error, and the unit's RestartPreventExitStatus=78 does not loop on
    /// it; everything else is 77 (EX_NOPERM).
    pub fn exit_code(&self) -> i32 {
        match self {
            PrivilegeError::NoSuchUser(_) => crate::EX_CONFIG,
            _ => crate::EX_NOPERM,
        }
    }
}

/// What [`drop_privileges`] did, for a log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    /// The user we switched to, when we were root and asked to switch.
    pub switched_to: Option<String>,
    pub uid: u32,
    pub gid: u32,
    /// Threads in the process when the capabilities were dropped. Anything above 1
    /// means some thread kept its capabilities: a bug in the caller's ordering.
    pub threads: usize,
}

/// Switch to `user` if we are root and `switch_user` is set (exabgp_daemon_drop), then
/// drop every capability (ambient, bounding when permitted, inheritable, effective,
/// permitted) and set no_new_privs. Sync; call after binding and before any thread
/// starts.
pub fn drop_privileges(user: &str, switch_user: bool) -> Result<Dropped, PrivilegeError> {
    let threads = thread_count();
    if threads > 1 {
        tracing::warn!(
            threads,
            "dropping privileges with more than one thread: other threads keep their capabilities"
        );
    }
    let mut switched_to = None;
    if switch_user && Uid::effective().is_root() {
        let entry = User::from_name(user)
            .map_err(|source| PrivilegeError::Lookup {
                user: user.to_string(),
                source,
            })?
            .ok_or_else(|| PrivilegeError::NoSuchUser(user.to_string()))?;
        if !entry.uid.is_root() {
            // The bounding set can only be reduced with CAP_SETPCAP, i.e. still as root.
            drop_bounding_set();
            switch(user, entry.uid, entry.gid)?;
            switched_to = Some(user.to_string());
        }
    }
    drop_bounding_set();
    clear(CapSet::Ambient, "ambient")?;
    clear(CapSet::Inheritable, "inheritable")?;
    clear(CapSet::Effective, "effective")?;
    clear(CapSet::Permitted, "permitted")?;
    // SAFETY: prctl with PR_SET_NO_NEW_PRIVS takes plain integer arguments.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(PrivilegeError::NoNewPrivs(io::Error::last_os_error()));
    }
    Ok(Dropped {
        switched_to,
        uid: Uid::current().as_raw(),
        gid: Gid::current().as_raw(),
        threads,
    })
}

fn switch(user: &str, uid: Uid, gid: Gid) -> Result<(), PrivilegeError> {
    let err = |step| {
        move |source| PrivilegeError::Switch {
            user: user.to_string(),
            step,
            source,
        }
    };
    // Supplementary groups first (needs root), then the gid, then the uid: after
    // setuid we could change neither.
    nix::unistd::setgroups(&[gid]).map_err(err("setgroups"))?;
    nix::unistd::setgid(gid).map_err(err("setgid"))?;
    nix::unistd::setuid(uid).map_err(err("setuid"))?;
    Ok(())
}

/// Best effort: without CAP_SETPCAP (already unprivileged) the bounding set stays as it
/// is, which is harmless since the permitted set is emptied.
fn drop_bounding_set() {
    if caps::has_cap(None, CapSet::Effective, caps::Capability::CAP_SETPCAP).unwrap_or(false) {
        if let Err(e) = caps::clear(None, CapSet::Bounding) {
            tracing::debug!("could not clear the capability bounding set: {e}");
        }
    }
}

/// Empty one capability set. A set that is already empty is left alone: under
/// systemd (User=exabgp, CapabilityBoundingSet= empty) there is nothing to drop, and
/// the unit's SystemCallFilter=~@privileged makes capset(2) fail with EPERM.
fn clear(set: CapSet, name: &'static str) -> Result<(), PrivilegeError> {
    let err = |e: caps::errors::CapsError| PrivilegeError::Caps {
        set: name,
        reason: e.to_string(),
    };
    if caps::read(None, set).map_err(err)?.is_empty() {
        return Ok(());
    }
    caps::clear(None, set).map_err(err)
}

/// The number of threads of this process, from /proc/self/status (0 if unknown).
pub fn thread_count() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}
