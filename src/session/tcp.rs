//! TCP for BGP: outgoing connections (bound to local-address, with a TCP MD5 key
//! set through [`crate::system::md5`], the home of the MD5 socket option), and the
//! liveness options every BGP connection gets whichever way it came (connected,
//! accepted, handed over by systemd).
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

use crate::system::md5::set_md5;

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
    use std::net::{Ipv4Addr, TcpListener, TcpStream};
    use std::time::Duration;

    use super::*;

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
}
