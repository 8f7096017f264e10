//! Socket activation: adopt the listening sockets systemd handed over
//! (`LISTEN_PID`, `LISTEN_FDS`, `LISTEN_FDNAMES`, fds from 3 on; sd_listen_fds(3)).
//!
//! `exabgp@.socket` names its socket `control` (FileDescriptorName=control), the
//! optional `exabgp-bgp@.socket` names its sockets `bgp`, the optional
//! `exabgp-metrics@.socket` its socket `metrics` (the Prometheus scrape endpoint:
//! only ever by that name, a TCP socket without it is a BGP listener). A socket
//! with any other name
//! (systemd's default name is the socket unit's name) is classified by what it is: a
//! Unix stream socket is the control socket, an IPv4/IPv6 stream socket a BGP listener.
//!
//! The variables are removed from our environment in every case (also when LISTEN_PID
//! names another process): helper processes we spawn later must not believe the fds
//! were meant for them, and a helper that is itself socket-activatable would otherwise
//! try to adopt fd 3.. of its own. Removing environment variables is only sound while
//! the process has a single thread (setenv/unsetenv race with getenv in other
//! threads; this is why `std::env::remove_var` is `unsafe` in edition 2024), so
//! [`take_listeners`] must be called before the tokio runtime or any thread starts.

use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;
use std::sync::atomic::{AtomicBool, Ordering};

use socket2::{Domain, Socket, Type};

/// fd number of the first passed socket (SD_LISTEN_FDS_START).
const LISTEN_FDS_START: RawFd = 3;
/// More than this is not a configuration anybody meant: 64 listeners, and two fds per
/// neighbor handed back from the fd store ([`super::fdstore`]) for up to 8192.
const MAX_LISTEN_FDS: usize = 64 + 2 * 8192;

/// The FileDescriptorName of the control socket.
pub const FDNAME_CONTROL: &str = "control";
/// The FileDescriptorName of BGP listeners.
pub const FDNAME_BGP: &str = "bgp";
/// The FileDescriptorName of the Prometheus scrape endpoint's listeners.
pub const FDNAME_METRICS: &str = "metrics";

static TAKEN: AtomicBool = AtomicBool::new(false);

/// The sockets systemd handed over. Empty when we were not socket-activated.
#[derive(Debug, Default)]
pub struct Activated {
    /// The control socket (`/run/exabgp/<instance>.sock`), already listening; the API
    /// layer serves it instead of binding its own, so clients that connect while the
    /// daemon restarts wait in the backlog instead of failing.
    pub control: Option<UnixListener>,
    /// BGP listeners, already bound (port 179 needs no capability in the daemon);
    /// the daemon accepts on them instead of binding exabgp_tcp_bind itself.
    pub bgp: Vec<std::net::TcpListener>,
    /// Listeners of the metrics endpoint (FileDescriptorName=metrics), served as
    /// exabgp_metrics_listen's would be.
    pub metrics: Vec<std::net::TcpListener>,
    /// Descriptors the previous process of this unit left in systemd's fd store for a
    /// hitless restart (named as [`super::fdstore::session_names`] names them: a
    /// connected TCP socket and a sealed state memfd per neighbor), with their names,
    /// close-on-exec and otherwise untouched. Whoever takes them removes them from
    /// the store once used or refused ([`super::fdstore::remove`]).
    pub stored: Vec<(String, OwnedFd)>,
}

impl Activated {
    /// True when systemd handed over no listener (stored descriptors aside).
    pub fn is_empty(&self) -> bool {
        self.control.is_none() && self.bgp.is_empty() && self.metrics.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ActivationError {
    #[error("socket activation: {var}={value:?} is not a valid number")]
    BadNumber { var: &'static str, value: String },
    #[error("socket activation: LISTEN_FDS={0} is more than the {MAX_LISTEN_FDS} we accept")]
    TooMany(usize),
    #[error("socket activation: LISTEN_FDNAMES has {names} names for {fds} sockets")]
    NameCount { names: usize, fds: usize },
    #[error("socket activation: fd {fd} ({name}) is not usable: {source}")]
    Fd {
        fd: RawFd,
        name: String,
        source: std::io::Error,
    },
    #[error("socket activation: fd {fd} ({name}) is {what}; expected {expected}")]
    WrongKind {
        fd: RawFd,
        name: String,
        what: String,
        expected: &'static str,
    },
    #[error("socket activation: more than one control socket was handed over (fds {first} and {second})")]
    TwoControl { first: RawFd, second: RawFd },
}

impl ActivationError {
    /// The process exit code: 71 (EX_OSERR), what systemd handed over is unusable.
    pub fn exit_code(&self) -> i32 {
        crate::EX_OSERR
    }
}

/// The fds (and their names, if LISTEN_FDNAMES was set) meant for process `our_pid`.
/// Pure: the variables' values are passed in. Empty when LISTEN_PID is unset or names
/// another process.
pub fn parse_listen_env(
    listen_pid: Option<&str>,
    listen_fds: Option<&str>,
    listen_fdnames: Option<&str>,
    our_pid: u32,
) -> Result<Vec<(RawFd, Option<String>)>, ActivationError> {
    let (Some(pid), Some(fds)) = (listen_pid, listen_fds) else {
        return Ok(Vec::new());
    };
    let pid: u32 = pid.trim().parse().map_err(|_| ActivationError::BadNumber {
        var: "LISTEN_PID",
        value: pid.to_string(),
    })?;
    if pid != our_pid {
        return Ok(Vec::new());
    }
    let count: usize = fds.trim().parse().map_err(|_| ActivationError::BadNumber {
        var: "LISTEN_FDS",
        value: fds.to_string(),
    })?;
    if count > MAX_LISTEN_FDS {
        return Err(ActivationError::TooMany(count));
    }
    let names: Vec<Option<String>> = match listen_fdnames {
        Some(names) if count > 0 => {
            let names: Vec<Option<String>> = names
                .split(':')
                .map(|n| (!n.is_empty()).then(|| n.to_string()))
                .collect();
            if names.len() != count {
                return Err(ActivationError::NameCount {
                    names: names.len(),
                    fds: count,
                });
            }
            names
        }
        _ => vec![None; count],
    };
    Ok(names
        .into_iter()
        .zip(LISTEN_FDS_START..)
        .map(|(name, fd)| (fd, name))
        .collect())
}

/// Adopt the sockets handed over by systemd and remove LISTEN_PID, LISTEN_FDS and
/// LISTEN_FDNAMES from the environment. Returns an empty [`Activated`] when nothing
/// was handed over (then the caller binds for itself), and on any call after the
/// first (the fds can be owned once only).
///
/// Call it while the process is still single-threaded (see the module docs).
pub fn take_listeners() -> Result<Activated, ActivationError> {
    let [pid, fds, names] = super::environ::take(super::environ::ACTIVATION_VARS);
    if TAKEN.swap(true, Ordering::SeqCst) {
        return Ok(Activated::default());
    }
    let passed = parse_listen_env(
        pid.as_deref(),
        fds.as_deref(),
        names.as_deref(),
        std::process::id(),
    )?;
    let mut activated = Activated::default();
    let mut control_fd = None;
    for (fd, name) in passed {
        let label = name.clone().unwrap_or_else(|| "unnamed".to_string());
        if let Some(n) = name.as_deref().filter(|n| is_stored_name(n)) {
            activated.stored.push((n.to_string(), adopt_stored(fd, n)?));
            continue;
        }
        let socket = adopt(fd, &label)?;
        match classify(fd, &label, &socket, name.as_deref())? {
            Kind::Control => {
                if let Some(first) = control_fd {
                    return Err(ActivationError::TwoControl { first, second: fd });
                }
                control_fd = Some(fd);
                activated.control = Some(UnixListener::from(OwnedFd::from(socket)));
            }
            Kind::Bgp => activated.bgp.push(std::net::TcpListener::from(socket)),
            Kind::Metrics => activated.metrics.push(std::net::TcpListener::from(socket)),
        }
    }
    Ok(activated)
}

/// A name under which we store descriptors (also one we cannot parse: it is taken so
/// that it can be removed from the store, never mistaken for a listener).
fn is_stored_name(name: &str) -> bool {
    name.starts_with(super::fdstore::SOCKET_PREFIX)
        || name.starts_with(super::fdstore::STATE_PREFIX)
}

/// Take ownership of a descriptor from the fd store: check it is open and set
/// CLOEXEC (helpers must not inherit a BGP session or its state).
fn adopt_stored(fd: RawFd, name: &str) -> Result<OwnedFd, ActivationError> {
    let err = |source| ActivationError::Fd {
        fd,
        name: name.to_string(),
        source,
    };
    // SAFETY: as in `adopt`: F_GETFD only, fails with EBADF when not open.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    if flags < 0 {
        return Err(err(std::io::Error::last_os_error()));
    }
    // SAFETY: open (checked), passed to us alone (LISTEN_PID matched), wrapped once
    // (TAKEN).
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: F_SETFD on an fd we own.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) } < 0 {
        return Err(err(std::io::Error::last_os_error()));
    }
    Ok(owned)
}

enum Kind {
    Control,
    Bgp,
    Metrics,
}

/// Take ownership of a passed fd: check it is open, set CLOEXEC (helpers must not
/// inherit our listeners) and non-blocking (ready for tokio's `from_std`).
fn adopt(fd: RawFd, label: &str) -> Result<Socket, ActivationError> {
    let err = |source| ActivationError::Fd {
        fd,
        name: label.to_string(),
        source,
    };
    // SAFETY-relevant check: F_GETFD fails with EBADF for an fd that is not open,
    // so we never wrap a closed (or later reused) fd number.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(err(std::io::Error::last_os_error()));
    }
    // SAFETY: the fd is open (checked above), was passed to this process by the
    // service manager for us alone (LISTEN_PID matched) and TAKEN guarantees we wrap
    // each passed fd at most once, so this OwnedFd is its only owner.
    let socket = Socket::from(unsafe { OwnedFd::from_raw_fd(fd) });
    socket.set_cloexec(true).map_err(err)?;
    socket.set_nonblocking(true).map_err(err)?;
    Ok(socket)
}

fn classify(
    fd: RawFd,
    label: &str,
    socket: &Socket,
    name: Option<&str>,
) -> Result<Kind, ActivationError> {
    let err = |source| ActivationError::Fd {
        fd,
        name: label.to_string(),
        source,
    };
    let ty = socket.r#type().map_err(err)?;
    let domain = socket.local_addr().map_err(err)?.domain();
    let listening = socket.is_listener().map_err(err)?;
    let what = format!(
        "a {} {} socket{}",
        match domain {
            Domain::UNIX => "unix",
            Domain::IPV4 => "IPv4",
            Domain::IPV6 => "IPv6",
            _ => "other",
        },
        if ty == Type::STREAM {
            "stream"
        } else {
            "non-stream"
        },
        if listening { "" } else { " (not listening)" }
    );
    let wrong = |expected| ActivationError::WrongKind {
        fd,
        name: label.to_string(),
        what: what.clone(),
        expected,
    };
    let is_unix = domain == Domain::UNIX && ty == Type::STREAM && listening;
    let is_inet =
        (domain == Domain::IPV4 || domain == Domain::IPV6) && ty == Type::STREAM && listening;
    match name {
        Some(FDNAME_CONTROL) if is_unix => Ok(Kind::Control),
        Some(FDNAME_CONTROL) => Err(wrong("a listening unix stream socket")),
        Some(FDNAME_BGP) if is_inet => Ok(Kind::Bgp),
        Some(FDNAME_BGP) => Err(wrong("a listening TCP socket")),
        Some(FDNAME_METRICS) if is_inet => Ok(Kind::Metrics),
        Some(FDNAME_METRICS) => Err(wrong("a listening TCP socket")),
        _ if is_unix => Ok(Kind::Control),
        _ if is_inet => Ok(Kind::Bgp),
        _ => Err(wrong("a listening unix stream socket or TCP socket")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_are_never_listeners() {
        assert!(is_stored_name("peer-socket-192.0.2.1"));
        assert!(is_stored_name("peer-state-2001_db8__1"));
        // Ours but unparsable: still taken (to be removed from the store).
        assert!(is_stored_name("peer-state-garbage"));
        assert!(!is_stored_name(FDNAME_BGP));
        assert!(!is_stored_name(FDNAME_CONTROL));
        assert!(!is_stored_name("peer"));
    }

    #[test]
    fn nothing_passed_is_empty() {
        assert!(parse_listen_env(None, None, None, 42).unwrap().is_empty());
        assert!(parse_listen_env(None, Some("2"), None, 42)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn other_pid_is_ignored() {
        let r = parse_listen_env(Some("41"), Some("2"), Some("bgp:control"), 42).unwrap();
        assert!(r.is_empty());
    }

    #[test]
    fn names_are_zipped_from_fd_3() {
        let r = parse_listen_env(Some("42"), Some("2"), Some("bgp:control"), 42).unwrap();
        assert_eq!(
            r,
            vec![
                (3, Some("bgp".to_string())),
                (4, Some("control".to_string()))
            ]
        );
    }

    #[test]
    fn without_names_every_fd_is_unnamed() {
        let r = parse_listen_env(Some("42"), Some("2"), None, 42).unwrap();
        assert_eq!(r, vec![(3, None), (4, None)]);
        let r = parse_listen_env(Some("42"), Some("1"), Some(""), 42).unwrap();
        assert_eq!(r, vec![(3, None)]);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(matches!(
            parse_listen_env(Some("x"), Some("1"), None, 42),
            Err(ActivationError::BadNumber {
                var: "LISTEN_PID",
                ..
            })
        ));
        assert!(matches!(
            parse_listen_env(Some("42"), Some("-1"), None, 42),
            Err(ActivationError::BadNumber {
                var: "LISTEN_FDS",
                ..
            })
        ));
        assert!(matches!(
            parse_listen_env(Some("42"), Some("2"), Some("a"), 42),
            Err(ActivationError::NameCount { names: 1, fds: 2 })
        ));
        assert!(matches!(
            parse_listen_env(Some("42"), Some("100000"), None, 42),
            Err(ActivationError::TooMany(100000))
        ));
    }
}
