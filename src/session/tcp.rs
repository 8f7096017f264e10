//! TCP for BGP: outgoing connections (bound to local-address, with TCP MD5) and
//! TCP MD5 signatures (RFC 2385) on listeners and on accepted connections (a key
//! set on an established connection makes the kernel drop every unsigned segment
//! from then on, so a connection accepted before its listener had the key can
//! never carry an unsigned session), and the liveness options every BGP connection
//! gets whichever way it came (connected, accepted, handed over by systemd).
//!
//! Why liveness below BGP: a peer may ask for hold time 0 (RFC 4271 §4.2), and then
//! neither side sends KEEPALIVEs nor runs a Hold timer, so a peer that dies without
//! a FIN (power loss, a firewall that forgets the flow) would be kept forever. TCP
//! keepalive probes an idle connection; TCP_USER_TIMEOUT aborts one whose sent
//! data (or keepalive probes, or zero-window probes) stays unacknowledged. The two
//! are chosen together: with TCP_USER_TIMEOUT set, Linux aborts a keepalive-probed
//! connection when the user timeout has passed since the last segment received
//! (TCP_KEEPCNT is then not what decides), so the user timeout is
//! KEEPIDLE + KEEPINTVL x KEEPCNT: a silent dead peer is dropped after 90 s, the
//! RFC 4271 suggested hold time. When the session's own liveness bound is longer
//! (a longer hold time), the user timeout is raised to it after the OPEN exchange,
//! so TCP never drops a session its hold time would still keep. TCP_NOTSENT_LOWAT
//! (see [`NOTSENT_LOWAT`]) makes a blocked write resume as the peer reads, so the
//! session's write bound measures the peer, not the kernel's wake-up threshold.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd};
use std::time::Duration;

use tokio::net::{TcpSocket, TcpStream};

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

/// TCP keepalive: the first probe after this much silence on the connection.
pub const KEEPALIVE_IDLE: Duration = Duration::from_secs(30);
/// TCP keepalive: time between unanswered probes.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
/// TCP keepalive: unanswered probes before the kernel gives up (without a user
/// timeout; with one, see the module header).
pub const KEEPALIVE_COUNT: u32 = 6;
/// TCP_USER_TIMEOUT: longest time sent data may stay unacknowledged;
/// KEEPALIVE_IDLE + KEEPALIVE_INTERVAL x KEEPALIVE_COUNT (90 s).
pub const USER_TIMEOUT: Duration = Duration::from_secs(90);

/// TCP_NOTSENT_LOWAT: unsent bytes the kernel holds for us before a write waits.
/// Without it a blocked write wakes only once a third of the send buffer (up to
/// 4 MiB) is free again, so a peer reading steadily but slowly would look stalled
/// to the write bound (`session::neighbor::wire::write_out`); with it, a write goes
/// on as soon as the peer has taken about 64 KiB.
pub const NOTSENT_LOWAT: u32 = 128 * 1024;

/// Turns on the liveness options of a BGP connection: TCP keepalive with the
/// constants above, TCP_USER_TIMEOUT of `user_timeout` (at least
/// [`USER_TIMEOUT`]) and TCP_NOTSENT_LOWAT.
pub fn set_liveness(sock: &impl AsFd, user_timeout: Duration) -> io::Result<()> {
    let s = socket2::SockRef::from(sock);
    let ka = socket2::TcpKeepalive::new()
        .with_time(KEEPALIVE_IDLE)
        .with_interval(KEEPALIVE_INTERVAL)
        .with_retries(KEEPALIVE_COUNT);
    s.set_tcp_keepalive(&ka)?;
    s.set_tcp_user_timeout(Some(user_timeout.max(USER_TIMEOUT)))?;
    let lowat = NOTSENT_LOWAT as libc::c_int;
    // SAFETY: the pointer and length describe `lowat`, which outlives the call.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_fd().as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_NOTSENT_LOWAT,
            &lowat as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The TCP_NOTSENT_LOWAT of `sock` (for tests and diagnostics).
pub fn notsent_lowat(sock: &impl AsFd) -> io::Result<u32> {
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the pointers describe `v` and `len`, which outlive the call.
    let rc = unsafe {
        libc::getsockopt(
            sock.as_fd().as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_NOTSENT_LOWAT,
            &mut v as *mut libc::c_int as *mut libc::c_void,
            &mut len,
        )
    };
    if rc == 0 {
        Ok(v as u32)
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Raises (never lowers below [`USER_TIMEOUT`]) the TCP_USER_TIMEOUT of a connection
/// to `bound`, the session's own liveness bound.
pub fn set_user_timeout(sock: &impl AsFd, bound: Duration) -> io::Result<()> {
    socket2::SockRef::from(sock).set_tcp_user_timeout(Some(bound.max(USER_TIMEOUT)))
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

/// Connects to `peer`, from `local` (port chosen by the kernel) when given, with a
/// TCP MD5 key when given.
pub async fn connect(
    peer: SocketAddr,
    local: Option<IpAddr>,
    md5: Option<&str>,
) -> io::Result<TcpStream> {
    let socket = if peer.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(l) = local {
        socket.bind(SocketAddr::new(l, 0))?;
    }
    if let Some(key) = md5 {
        set_md5(&socket, peer.ip(), key.as_bytes())?;
    }
    let stream = socket.connect(peer).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
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

    /// The options read back from both ends' kernel sockets (a connected and an
    /// accepted one), and a raised user timeout.
    #[test]
    fn liveness_options_are_set() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (accepted, _) = listener.accept().unwrap();
        for s in [&client, &accepted] {
            let r = socket2::SockRef::from(s);
            assert!(!r.keepalive().unwrap(), "control: keepalive off by default");
            set_liveness(s, Duration::ZERO).unwrap();
            assert!(r.keepalive().unwrap());
            assert_eq!(r.tcp_keepalive_time().unwrap(), KEEPALIVE_IDLE);
            assert_eq!(r.tcp_keepalive_interval().unwrap(), KEEPALIVE_INTERVAL);
            assert_eq!(r.tcp_keepalive_retries().unwrap(), KEEPALIVE_COUNT);
            assert_eq!(r.tcp_user_timeout().unwrap(), Some(USER_TIMEOUT));
            assert_eq!(notsent_lowat(s).unwrap(), NOTSENT_LOWAT);
        }
        set_user_timeout(&client, Duration::from_secs(600)).unwrap();
        let r = socket2::SockRef::from(&client);
        assert_eq!(
            r.tcp_user_timeout().unwrap(),
            Some(Duration::from_secs(600))
        );
        set_user_timeout(&client, Duration::from_secs(3)).unwrap();
        assert_eq!(r.tcp_user_timeout().unwrap(), Some(USER_TIMEOUT));
        assert_eq!(
            KEEPALIVE_IDLE + KEEPALIVE_INTERVAL * KEEPALIVE_COUNT,
            USER_TIMEOUT
        );
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
