//! systemd's file descriptor store, as a hitless restart uses it: descriptors handed
//! to the service manager with `FDSTORE=1` (sd_pid_notify_with_fds(3)) come back to
//! the next process of the same unit in `LISTEN_FDS`/`LISTEN_FDNAMES`, after the
//! unit's listening sockets (see [`super::activation`]). A restart job keeps the
//! store; a stop followed by a start empties it (systemd 252 has no
//! FileDescriptorStorePreserve=). The unit must allow it with FileDescriptorStoreMax=.
//!
//! What we store, per neighbor handed over: its connected TCP socket and a sealed
//! memfd with the session's state (`session::handover`), under the names
//! [`session_names`] gives. A sealed memfd cannot be changed by anyone after it was
//! written (F_SEAL_WRITE, GROW, SHRINK, then SEAL), so what the next process reads is
//! what this one wrote; [`read_sealed`] refuses a memfd without those seals.
//!
//! A stored descriptor stays in the store until removed (`FDSTOREREMOVE=1`,
//! `Notifier::remove_fds`): the next process removes each one once it adopted or refused it, or
//! the process after it would be handed the same sockets again.

use std::io;
use std::net::IpAddr;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

use super::notify::Notifier;

/// Prefix of the name under which a neighbor's TCP socket is stored.
pub const SOCKET_PREFIX: &str = "peer-socket-";
/// Prefix of the name under which a neighbor's session state is stored.
pub const STATE_PREFIX: &str = "peer-state-";

/// The seals a state memfd must carry: nobody can write, grow, shrink or unseal it.
const SEALS: libc::c_int =
    libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;

#[derive(Debug, thiserror::Error)]
pub enum FdStoreError {
    #[error("cannot create the memfd {name:?}: {source}")]
    Create { name: String, source: io::Error },
    #[error("cannot write the memfd {name:?}: {source}")]
    Write { name: String, source: io::Error },
    #[error("cannot seal the memfd {name:?}: {source}")]
    Seal { name: String, source: io::Error },
    #[error("the stored state is not a sealed memfd: {0}")]
    NotSealed(String),
    #[error("the stored state is {size} bytes, more than the {max} accepted")]
    TooLarge { size: u64, max: usize },
    #[error("cannot read the stored state: {0}")]
    Read(io::Error),
    #[error("{0:?} cannot name a memfd")]
    BadName(String),
}

/// What a stored descriptor is, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// The connected TCP socket of the session with this neighbor.
    Socket(IpAddr),
    /// The sealed memfd with the state of the session with this neighbor.
    State(IpAddr),
}

/// The fd store names (socket, state) for the session with `address`. An FDNAME may
/// not contain ':' (LISTEN_FDNAMES is ':'-separated), so an IPv6 address is written
/// with '_' in its place ('_' never occurs in an address).
pub fn session_names(address: IpAddr) -> (String, String) {
    let a = address.to_canonical().to_string().replace(':', "_");
    (format!("{SOCKET_PREFIX}{a}"), format!("{STATE_PREFIX}{a}"))
}

/// What a name from LISTEN_FDNAMES stands for, if it is one of [`session_names`].
pub fn parse_name(name: &str) -> Option<Stored> {
    let addr = |rest: &str| rest.replace('_', ":").parse::<IpAddr>().ok();
    if let Some(rest) = name.strip_prefix(SOCKET_PREFIX) {
        return addr(rest).map(Stored::Socket);
    }
    if let Some(rest) = name.strip_prefix(STATE_PREFIX) {
        return addr(rest).map(Stored::State);
    }
    None
}

/// Closes descriptors taken from the store that nobody uses and removes their names
/// from the store, so no later process is handed them again. Logs what it dropped.
pub fn discard(notifier: &Notifier, stored: Vec<(String, OwnedFd)>, why: &str) {
    let mut names: Vec<String> = stored.into_iter().map(|(n, _fd)| n).collect();
    names.sort();
    names.dedup();
    for name in names {
        tracing::info!(name = %name, why, "descriptor from the fd store closed and removed");
        if let Err(e) = notifier.remove_fds(&name) {
            tracing::warn!(name = %name, error = %e, "cannot remove a descriptor from the fd store");
        }
    }
}

/// A memfd holding `data`, sealed against any change (see the module docs).
pub fn sealed_memfd(name: &str, data: &[u8]) -> Result<OwnedFd, FdStoreError> {
    let cname = std::ffi::CString::new(name.replace('\0', "_"))
        .map_err(|_| FdStoreError::BadName(name.to_string()))?;
    // SAFETY: memfd_create takes a NUL-terminated name and flags; it returns a new
    // fd we own alone, or -1.
    let fd =
        unsafe { libc::memfd_create(cname.as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING) };
    if fd < 0 {
        return Err(FdStoreError::Create {
            name: name.to_string(),
            source: io::Error::last_os_error(),
        });
    }
    // SAFETY: fd was just created by memfd_create and is owned by nobody else.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut file = std::fs::File::from(owned);
    io::Write::write_all(&mut file, data).map_err(|source| FdStoreError::Write {
        name: name.to_string(),
        source,
    })?;
    let owned = OwnedFd::from(file);
    // SAFETY: F_ADD_SEALS on an fd we own; no memory is passed.
    if unsafe { libc::fcntl(owned.as_raw_fd(), libc::F_ADD_SEALS, SEALS) } < 0 {
        return Err(FdStoreError::Seal {
            name: name.to_string(),
            source: io::Error::last_os_error(),
        });
    }
    Ok(owned)
}

/// The contents of a sealed memfd from the store, at most `max` bytes. Refuses
/// anything that is not a memfd sealed as [`sealed_memfd`] seals (a socket, a file,
/// a memfd someone could still write).
pub fn read_sealed(fd: &OwnedFd, max: usize) -> Result<Vec<u8>, FdStoreError> {
    // SAFETY: F_GET_SEALS on a valid fd; fails (EINVAL) for anything but a memfd
    // or shmem file.
    let seals = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GET_SEALS) };
    if seals < 0 {
        return Err(FdStoreError::NotSealed(
            io::Error::last_os_error().to_string(),
        ));
    }
    if seals & SEALS != SEALS {
        return Err(FdStoreError::NotSealed(format!(
            "seals {seals:#x}, expected {SEALS:#x}"
        )));
    }
    let file = std::fs::File::from(
        fd.as_fd()
            .try_clone_to_owned()
            .map_err(FdStoreError::Read)?,
    );
    let size = file.metadata().map_err(FdStoreError::Read)?.len();
    if size > max as u64 {
        return Err(FdStoreError::TooLarge { size, max });
    }
    let mut data = vec![0u8; size as usize];
    std::os::unix::fs::FileExt::read_exact_at(&file, &mut data, 0).map_err(FdStoreError::Read)?;
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixDatagram;

    #[test]
    fn names_round_trip_and_are_valid() {
        for a in ["192.0.2.1", "2001:db8::1", "::ffff:192.0.2.9", "::1"] {
            let ip: IpAddr = a.parse().unwrap();
            let (s, t) = session_names(ip);
            assert!(
                crate::system::notify::valid_fdname(&s) && crate::system::notify::valid_fdname(&t),
                "{s} {t}"
            );
            assert_eq!(parse_name(&s), Some(Stored::Socket(ip.to_canonical())));
            assert_eq!(parse_name(&t), Some(Stored::State(ip.to_canonical())));
        }
        assert_eq!(parse_name("control"), None);
        assert_eq!(parse_name("peer-socket-nonsense"), None);
        assert!(!crate::system::notify::valid_fdname("a:b"));
        assert!(!crate::system::notify::valid_fdname(""));
        assert!(!crate::system::notify::valid_fdname(&"x".repeat(256)));
        assert!(!crate::system::notify::valid_fdname("tab\there"));
    }

    #[test]
    fn sealed_memfd_reads_back_and_cannot_be_written() {
        let fd = sealed_memfd("state", b"hello state").unwrap();
        assert_eq!(read_sealed(&fd, 1024).unwrap(), b"hello state");
        // The seals hold: writing fails.
        let mut f = std::fs::File::from(fd.try_clone().unwrap());
        assert!(io::Write::write_all(&mut f, b"x").is_err());
        // Bounded.
        assert!(matches!(
            read_sealed(&fd, 4),
            Err(FdStoreError::TooLarge { size: 11, max: 4 })
        ));
    }

    #[test]
    fn unsealed_or_non_memfd_is_refused() {
        // A memfd without seals.
        let name = std::ffi::CString::new("x").unwrap();
        let raw = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
        assert!(raw >= 0);
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        assert!(matches!(
            read_sealed(&fd, 10),
            Err(FdStoreError::NotSealed(_))
        ));
        // A socket.
        let (a, _b) = UnixDatagram::pair().unwrap();
        let fd = OwnedFd::from(a);
        assert!(matches!(
            read_sealed(&fd, 10),
            Err(FdStoreError::NotSealed(_))
        ));
    }

    #[test]
    fn store_sends_the_fds_with_the_name() {
        use std::os::linux::net::SocketAddrExt;
        use std::os::unix::net::SocketAddr as UnixSocketAddr;
        let name = format!("exabgp-fdstore-test-{}", std::process::id());
        let addr = UnixSocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let server = UnixDatagram::bind_addr(&addr).unwrap();
        server
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let notifier = Notifier::to_socket(&format!("@{name}")).unwrap();
        let memfd = sealed_memfd("s", b"abc").unwrap();
        assert!(notifier
            .store_fds("peer-state-192.0.2.1", &[memfd.as_fd()])
            .unwrap());
        let mut buf = [0u8; 256];
        let mut cmsg = nix::cmsg_space!([std::os::fd::RawFd; 4]);
        let mut iov = [io::IoSliceMut::new(&mut buf)];
        let msg = nix::sys::socket::recvmsg::<()>(
            server.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            nix::sys::socket::MsgFlags::empty(),
        )
        .unwrap();
        let mut got = Vec::new();
        for c in msg.cmsgs().unwrap() {
            if let nix::sys::socket::ControlMessageOwned::ScmRights(fds) = c {
                got.extend(fds);
            }
        }
        let len = msg.bytes;
        let text = std::str::from_utf8(&buf[..len]).unwrap().to_string();
        assert_eq!(text, "FDSTORE=1\nFDNAME=peer-state-192.0.2.1\n");
        assert_eq!(got.len(), 1);
        // The received fd is the same sealed memfd.
        let received = unsafe { OwnedFd::from_raw_fd(got[0]) };
        assert_eq!(read_sealed(&received, 10).unwrap(), b"abc");
        // Removing sends no fd.
        assert!(notifier.remove_fds("peer-state-192.0.2.1").unwrap());
        let n = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"FDSTOREREMOVE=1\nFDNAME=peer-state-192.0.2.1\n");
        // A bad name is refused before anything is sent.
        assert!(notifier.store_fds("a:b", &[]).is_err());
        // Disabled: nothing stored.
        assert!(!Notifier::disabled().store_fds("x", &[]).unwrap());
    }
}
