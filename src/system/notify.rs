//! sd_notify(3): tell systemd we are ready, reloading, stopping, alive (watchdog) and
//! what we are doing (STATUS=). A datagram to `$NOTIFY_SOCKET` (a path, or an abstract
//! socket when it starts with `@`). Without NOTIFY_SOCKET every call is a no-op, so
//! the same code runs under systemd, in a terminal and in tests.
//!
//! [`Notifier::from_env`] reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID once and
//! removes them from the environment (before any thread starts, like activation):
//! helpers we spawn must not send notifications as if they were us, nor believe a
//! watchdog is waiting for them.

use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("NOTIFY_SOCKET={path:?} is not a usable socket address: {source}")]
    Address { path: String, source: io::Error },
    #[error("sd_notify to {path:?} failed: {source}")]
    Send { path: String, source: io::Error },
    #[error("{0:?} is not a valid fd store name (1 to 255 printable ASCII characters, no ':')")]
    BadName(String),
}

/// Whether systemd accepts `name` as an FDNAME (fdname_is_valid in systemd): it ends
/// up in the ':'-separated LISTEN_FDNAMES of the next process.
pub fn valid_fdname(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name
            .bytes()
            .all(|b| (b' '..=b'~').contains(&b) && b != b':')
}

/// A handle to the service manager's notification socket; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Notifier {
    /// The socket and where it sends; None when not run by systemd with Type=notify.
    target: Option<Arc<Target>>,
    /// WatchdogSec as handed over in WATCHDOG_USEC, if the watchdog is for us.
    watchdog: Option<Duration>,
    /// A note appended to every STATUS= until cleared, e.g. that the last reload was
    /// rejected: periodic status updates must not hide it from `systemctl status`.
    note: Arc<Mutex<Option<String>>>,
}

#[derive(Debug)]
struct Target {
    socket: UnixDatagram,
    addr: SocketAddr,
    /// For error messages.
    path: String,
}

impl Notifier {
    /// A notifier that sends nothing.
    pub fn disabled() -> Notifier {
        Notifier::default()
    }

    /// Read NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID, then remove all three from
    /// the environment. Call before any thread starts (see the module docs).
    pub fn from_env() -> Result<Notifier, NotifyError> {
        let [socket, usec, pid] = super::environ::take(super::environ::NOTIFY_VARS);
        let watchdog = parse_watchdog(usec.as_deref(), pid.as_deref(), std::process::id());
        match socket.filter(|s| !s.is_empty()) {
            None => Ok(Notifier {
                target: None,
                watchdog,
                note: Arc::default(),
            }),
            Some(path) => Ok(Notifier {
                target: Some(Arc::new(Target::new(path)?)),
                watchdog,
                note: Arc::default(),
            }),
        }
    }

    /// A notifier sending to `path` (a socket path, or `@name` for an abstract
    /// socket) as if NOTIFY_SOCKET named it, without a watchdog: for tests that
    /// play the service manager's side.
    pub fn to_socket(path: &str) -> Result<Notifier, NotifyError> {
        Ok(Notifier {
            target: Some(Arc::new(Target::new(path.to_string())?)),
            watchdog: None,
            note: Arc::default(),
        })
    }

    /// Whether a service manager listens (NOTIFY_SOCKET was set).
    pub fn is_enabled(&self) -> bool {
        self.target.is_some()
    }

    /// WatchdogSec, if systemd runs a watchdog for this process.
    pub fn watchdog_timeout(&self) -> Option<Duration> {
        self.watchdog
    }

    /// How often to send WATCHDOG=1: half of WatchdogSec, as sd_watchdog_enabled(3)
    /// recommends, so one late tick does not kill us.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog.map(|d| d / 2)
    }

    /// Send raw notification lines ("KEY=VALUE\n..."). Ok(()) when disabled.
    pub fn send(&self, message: &str) -> Result<(), NotifyError> {
        let Some(target) = &self.target else {
            return Ok(());
        };
        match target.socket.send_to_addr(message.as_bytes(), &target.addr) {
            Ok(n) if n == message.len() => Ok(()),
            Ok(_) => Err(NotifyError::Send {
                path: target.path.clone(),
                source: io::Error::new(io::ErrorKind::WriteZero, "short datagram"),
            }),
            Err(source) => Err(NotifyError::Send {
                path: target.path.clone(),
                source,
            }),
        }
    }

    /// Sends `message` with `fds` attached (SCM_RIGHTS), as sd_pid_notify_with_fds(3)
    /// does: the way to hand descriptors to the service manager's fd store
    /// (`FDSTORE=1`, see [`super::fdstore`]). Ok(false) when disabled: nothing was
    /// stored. systemd takes its own duplicates on receipt, so the caller may close
    /// its copies once this returned Ok(true).
    pub fn send_with_fds(
        &self,
        message: &str,
        fds: &[std::os::fd::BorrowedFd<'_>],
    ) -> Result<bool, NotifyError> {
        use std::os::fd::{AsFd, AsRawFd};
        let Some(target) = &self.target else {
            return Ok(false);
        };
        let err = |source| NotifyError::Send {
            path: target.path.clone(),
            source,
        };
        let addr = match target.path.strip_prefix('@') {
            Some(name) => nix::sys::socket::UnixAddr::new_abstract(name.as_bytes()),
            None => nix::sys::socket::UnixAddr::new(target.path.as_str()),
        }
        .map_err(|e| err(io::Error::from(e)))?;
        let raw: Vec<std::os::fd::RawFd> = fds.iter().map(|f| f.as_raw_fd()).collect();
        let cmsgs = [nix::sys::socket::ControlMessage::ScmRights(&raw)];
        let iov = [io::IoSlice::new(message.as_bytes())];
        let sent = nix::sys::socket::sendmsg(
            target.socket.as_fd().as_raw_fd(),
            &iov,
            if raw.is_empty() { &[] } else { &cmsgs },
            nix::sys::socket::MsgFlags::empty(),
            Some(&addr),
        )
        .map_err(|e| err(io::Error::from(e)))?;
        if sent != message.len() {
            return Err(err(io::Error::new(
                io::ErrorKind::WriteZero,
                "short datagram",
            )));
        }
        Ok(true)
    }

    /// Hands `fds` to the service manager's fd store under `name` (FDSTORE=1,
    /// FDNAME=; see [`super::fdstore`]). Ok(false) when no service manager listens:
    /// nothing was stored, the caller falls back to a normal stop.
    pub fn store_fds(
        &self,
        name: &str,
        fds: &[std::os::fd::BorrowedFd<'_>],
    ) -> Result<bool, NotifyError> {
        if !valid_fdname(name) {
            return Err(NotifyError::BadName(name.to_string()));
        }
        self.send_with_fds(&format!("FDSTORE=1\nFDNAME={name}\n"), fds)
    }

    /// Removes every descriptor stored under `name` (FDSTOREREMOVE=1). Ok(false)
    /// when no service manager listens.
    pub fn remove_fds(&self, name: &str) -> Result<bool, NotifyError> {
        if !valid_fdname(name) {
            return Err(NotifyError::BadName(name.to_string()));
        }
        self.send_with_fds(&format!("FDSTOREREMOVE=1\nFDNAME={name}\n"), &[])
    }

    /// Startup (or reload) finished: READY=1 with a STATUS= line.
    pub fn ready(&self, status: &str) {
        self.log(self.send(&format!("READY=1\nSTATUS={}\n", self.with_note(status))));
    }

    /// Update the free-form status shown by `systemctl status`.
    pub fn status(&self, status: &str) {
        self.log(self.send(&format!("STATUS={}\n", self.with_note(status))));
    }

    /// Set (or clear, with None) the note appended to every STATUS= from now on.
    /// Shared by every clone of this notifier.
    pub fn set_note(&self, note: Option<String>) {
        if let Ok(mut n) = self.note.lock() {
            *n = note;
        }
    }

    /// The note appended to every STATUS=, if any.
    pub fn note(&self) -> Option<String> {
        self.note.lock().ok().and_then(|n| n.clone())
    }

    fn with_note(&self, status: &str) -> String {
        let note = self.note.lock().ok().and_then(|n| n.clone());
        match note {
            Some(note) => one_line(&format!("{status}; {note}")),
            None => one_line(status),
        }
    }

    /// A reload starts: RELOADING=1 with MONOTONIC_USEC= (systemd 253 and later
    /// require it; 252 ignores it). Follow with [`Notifier::ready`].
    pub fn reloading(&self, status: &str) {
        self.log(self.send(&format!(
            "RELOADING=1\nMONOTONIC_USEC={}\nSTATUS={}\n",
            monotonic_usec(),
            one_line(status)
        )));
    }

    /// Shutdown starts: STOPPING=1.
    pub fn stopping(&self, status: &str) {
        self.log(self.send(&format!("STOPPING=1\nSTATUS={}\n", one_line(status))));
    }

    /// Pet the watchdog: WATCHDOG=1. Call it from the event loop that must stay alive.
    pub fn watchdog(&self) {
        if self.watchdog.is_some() {
            self.log(self.send("WATCHDOG=1\n"));
        }
    }

    fn log(&self, result: Result<(), NotifyError>) {
        if let Err(e) = result {
            tracing::warn!("{e}");
        }
    }
}

impl Target {
    fn new(path: String) -> Result<Target, NotifyError> {
        let err = |source| NotifyError::Address {
            path: path.clone(),
            source,
        };
        let addr = match path.strip_prefix('@') {
            Some(name) => SocketAddr::from_abstract_name(name.as_bytes()).map_err(err)?,
            None if path.starts_with('/') => SocketAddr::from_pathname(&path).map_err(err)?,
            None => {
                return Err(err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "neither an absolute path nor an abstract name (@...)",
                )))
            }
        };
        let socket = UnixDatagram::unbound().map_err(err)?;
        Ok(Target { socket, addr, path })
    }
}

/// The watchdog timeout meant for process `our_pid`, from WATCHDOG_USEC / WATCHDOG_PID.
pub fn parse_watchdog(usec: Option<&str>, pid: Option<&str>, our_pid: u32) -> Option<Duration> {
    let usec: u64 = usec?.trim().parse().ok()?;
    if usec == 0 {
        return None;
    }
    match pid {
        Some(pid) if pid.trim().parse::<u32>().ok() != Some(our_pid) => None,
        _ => Some(Duration::from_micros(usec)),
    }
}

/// The status text for STATUS=: "N/M peers established, R routes announced".
pub fn status_line(established: usize, total: usize, routes: u64) -> String {
    format!("{established}/{total} peers established, {routes} routes announced")
}

/// STATUS= is one line; a newline would start another KEY=VALUE assignment.
fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

/// CLOCK_MONOTONIC in microseconds, the clock systemd uses for MONOTONIC_USEC.
fn monotonic_usec() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own; CLOCK_MONOTONIC always exists.
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) } != 0 {
        return 0;
    }
    (ts.tv_sec as u64) * 1_000_000 + (ts.tv_nsec as u64) / 1_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watchdog_parsing() {
        assert_eq!(
            parse_watchdog(Some("30000000"), None, 7),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_watchdog(Some("30000000"), Some("7"), 7),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_watchdog(Some("30000000"), Some("8"), 7), None);
        assert_eq!(parse_watchdog(Some("0"), None, 7), None);
        assert_eq!(parse_watchdog(Some("x"), None, 7), None);
        assert_eq!(parse_watchdog(None, Some("7"), 7), None);
    }

    #[test]
    fn status_is_one_line() {
        assert_eq!(one_line("a\nb\rc"), "a b c");
        assert_eq!(
            status_line(1, 2, 30),
            "1/2 peers established, 30 routes announced"
        );
    }

    #[test]
    fn notifications_arrive_as_datagrams() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let server = UnixDatagram::bind(&path).unwrap();
        let n = Notifier {
            target: Some(Arc::new(
                Target::new(path.to_string_lossy().into_owned()).unwrap(),
            )),
            watchdog: Some(Duration::from_secs(4)),
            note: Arc::default(),
        };
        assert_eq!(n.watchdog_interval(), Some(Duration::from_secs(2)));
        n.ready("0/1 peers\nestablished");
        n.watchdog();
        n.reloading("reloading");
        let mut buf = [0u8; 512];
        let len = server.recv(&mut buf).unwrap();
        assert_eq!(
            std::str::from_utf8(&buf[..len]).unwrap(),
            "READY=1\nSTATUS=0/1 peers established\n"
        );
        let len = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"WATCHDOG=1\n");
        let len = server.recv(&mut buf).unwrap();
        let text = std::str::from_utf8(&buf[..len]).unwrap();
        assert!(text.starts_with("RELOADING=1\nMONOTONIC_USEC="), "{text}");
        let usec: u64 = text.lines().nth(1).unwrap()["MONOTONIC_USEC=".len()..]
            .parse()
            .unwrap();
        assert!(usec > 0);
    }

    #[test]
    fn abstract_socket_is_reached() {
        let name = format!("exabgp-notify-test-{}", std::process::id());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let server = UnixDatagram::bind_addr(&addr).unwrap();
        let target = Target::new(format!("@{name}")).unwrap();
        let n = Notifier {
            target: Some(Arc::new(target)),
            watchdog: None,
            note: Arc::default(),
        };
        n.stopping("bye");
        // Without a watchdog, WATCHDOG=1 is not sent.
        n.watchdog();
        // The note sticks to every status, through clones, until cleared.
        n.clone()
            .set_note(Some("last reload rejected:\nx.toml:1:1".into()));
        n.status("still here");
        n.set_note(None);
        n.status("1/1");
        let mut buf = [0u8; 128];
        let len = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"STOPPING=1\nSTATUS=bye\n");
        let len = server.recv(&mut buf).unwrap();
        assert_eq!(
            &buf[..len],
            b"STATUS=still here; last reload rejected: x.toml:1:1\n"
        );
        let len = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"STATUS=1/1\n");
    }

    #[test]
    fn relative_path_is_rejected() {
        assert!(matches!(
            Target::new("relative".into()),
            Err(NotifyError::Address { .. })
        ));
    }

    #[test]
    fn disabled_sends_nothing_and_succeeds() {
        let n = Notifier::disabled();
        assert!(!n.is_enabled());
        assert!(n.send("READY=1\n").is_ok());
        assert_eq!(n.watchdog_interval(), None);
    }
}
