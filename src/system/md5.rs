//! TCP MD5 signatures (RFC 2385): the Linux TCP_MD5SIG socket option, on a listener
//! (for connections from one peer), on a socket about to connect, and on an
//! accepted connection (a key set on an established connection makes the kernel
//! drop every unsigned segment from then on, so a connection accepted before its
//! listener had the key can never carry an unsigned session).
//!
//! An OS socket option, so it lives in system/: the binder (`bind`), the daemon's
//! listeners and accepted connections, and the session's outgoing connections all
//! set keys through here.

use std::io;
use std::net::IpAddr;
use std::os::fd::AsRawFd;

/// Linux `struct tcp_md5sig` (include/uapi/linux/tcp.h).
#[repr(C)]
struct TcpMd5Sig {
    addr: libc::sockaddr_storage,
    flags: u8,
    prefixlen: u8,
    keylen: u16,
    ifindex: libc::c_int,
    key: [u8; 80],
}

/// Longest key the kernel accepts (TCP_MD5SIG_MAXKEYLEN).
pub const MD5_MAX_KEY_LEN: usize = 80;

/// Sets (or with an empty key, removes) the TCP MD5 key for `peer` on `fd`, which may
/// be a listener (then it applies to connections from `peer`) or a socket about to
/// connect.
pub fn set_md5(fd: &impl AsRawFd, peer: IpAddr, key: &[u8]) -> io::Result<()> {
    if key.len() > MD5_MAX_KEY_LEN {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "TCP MD5 key longer than 80 bytes",
        ));
    }
    // SAFETY: all-zero is a valid value for this plain C struct.
    let mut sig: TcpMd5Sig = unsafe { std::mem::zeroed() };
    match peer {
        IpAddr::V4(a) => {
            // SAFETY: sockaddr_storage is large enough and suitably aligned for sockaddr_in.
            let sin = unsafe {
                &mut *(&mut sig.addr as *mut libc::sockaddr_storage as *mut libc::sockaddr_in)
            };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_addr.s_addr = u32::from_ne_bytes(a.octets());
        }
        IpAddr::V6(a) => {
            // SAFETY: as above, for sockaddr_in6.
            let sin6 = unsafe {
                &mut *(&mut sig.addr as *mut libc::sockaddr_storage as *mut libc::sockaddr_in6)
            };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_addr.s6_addr = a.octets();
        }
    }
    sig.keylen = key.len() as u16;
    sig.key[..key.len()].copy_from_slice(key);
    // SAFETY: the pointer and length describe `sig`, which outlives the call.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_MD5SIG,
            &sig as *const TcpMd5Sig as *const libc::c_void,
            std::mem::size_of::<TcpMd5Sig>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// How `peer` appears to a socket whose local address is IPv6 (`local_is_v6`) or
/// IPv4: an IPv6 socket sees IPv4 peers as mapped addresses; an IPv4 socket never
/// sees an IPv6 peer (None).
pub fn peer_as_seen_by(local_is_v6: bool, peer: IpAddr) -> Option<IpAddr> {
    match (peer, local_is_v6) {
        (IpAddr::V4(a), true) => Some(IpAddr::V6(a.to_ipv6_mapped())),
        (IpAddr::V6(_), false) => None,
        (p, _) => Some(p),
    }
}

/// Sets `key` for `peer` on a listener bound to `local_is_v6`'s family (see
/// [`peer_as_seen_by`]); a peer of the other family is skipped.
pub fn set_listener_md5(
    fd: &impl AsRawFd,
    local_is_v6: bool,
    peer: IpAddr,
    key: &[u8],
) -> io::Result<()> {
    match peer_as_seen_by(local_is_v6, peer) {
        Some(p) => set_md5(fd, p, key),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{Ipv4Addr, TcpListener, TcpStream};
    use std::time::Duration;

    use super::*;

    /// What the daemon relies on for a connection accepted before its listener had
    /// the key: once the key is set on the accepted socket, unsigned segments from
    /// the peer are dropped. The control run (no key) shows the same bytes do
    /// arrive, so the check can fail.
    #[test]
    fn a_key_set_on_an_accepted_connection_drops_unsigned_segments() {
        let local = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));
        for keyed in [false, true] {
            let listener = TcpListener::bind((local, 0)).unwrap();
            let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let (mut accepted, peer) = listener.accept().unwrap();
            if keyed {
                set_md5(&accepted, peer.ip(), b"late-key").unwrap();
            }
            client.write_all(b"OPEN").unwrap();
            accepted
                .set_read_timeout(Some(Duration::from_millis(1500)))
                .unwrap();
            let mut buf = [0u8; 4];
            let got = accepted.read(&mut buf).ok().filter(|n| *n > 0);
            if keyed {
                assert_eq!(got, None, "an unsigned segment got through");
            } else {
                assert_eq!(got, Some(4), "control run: nothing arrived");
            }
        }
    }

    #[test]
    fn ipv6_sockets_see_ipv4_peers_mapped() {
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(
            peer_as_seen_by(true, v4),
            Some("::ffff:192.0.2.1".parse().unwrap())
        );
        assert_eq!(peer_as_seen_by(false, v4), Some(v4));
        assert_eq!(peer_as_seen_by(true, v6), Some(v6));
        assert_eq!(peer_as_seen_by(false, v6), None);
    }
}
