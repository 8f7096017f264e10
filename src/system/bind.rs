//! Binding the BGP listeners ourselves, when systemd did not hand them over, with
//! errors that tell the operator what to do (a port below 1024 without
//! CAP_NET_BIND_SERVICE, an address already in use).
//!
//! SO_REUSEADDR (lets us rebind while old connections sit in TIME_WAIT) but never
//! SO_REUSEPORT: two live listeners on one port would hide a real conflict.

use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener};

use socket2::{Domain, Protocol, Socket, Type};

/// Listen backlog: peers connect rarely; a handful is plenty, 128 is generous.
const BACKLOG: i32 = 128;

#[derive(Debug, thiserror::Error)]
#[error("cannot listen for BGP on {} port {}: {source}. {hint}", addr.ip(), addr.port())]
pub struct BindError {
    pub addr: SocketAddr,
    pub source: io::Error,
    /// What to check or change.
    pub hint: String,
}

impl BindError {
    /// True for a missing permission (exit EX_NOPERM), false for other OS errors.
    pub fn is_permission(&self) -> bool {
        self.source.kind() == io::ErrorKind::PermissionDenied
    }

    /// The process exit code: 77 (EX_NOPERM) for a missing permission (a port
    /// below 1024 without CAP_NET_BIND_SERVICE), 71 (EX_OSERR) otherwise.
    pub fn exit_code(&self) -> i32 {
        if self.is_permission() {
            crate::EX_NOPERM
        } else {
            crate::EX_OSERR
        }
    }
}

/// Bind and listen on every address (non-blocking, ready for tokio's `from_std`).
pub fn bind_bgp(addrs: &[SocketAddr]) -> Result<Vec<TcpListener>, BindError> {
    bind_bgp_keyed(addrs, &[])
}

/// [`bind_bgp`], with the TCP MD5 key of each `(peer, key)` set between bind and
/// listen: no unsigned handshake from those peers ever completes, not even in the
/// moment before the daemon core starts.
pub fn bind_bgp_keyed(
    addrs: &[SocketAddr],
    md5: &[(IpAddr, &str)],
) -> Result<Vec<TcpListener>, BindError> {
    addrs
        .iter()
        .map(|addr| {
            bind_one(addr, md5).map_err(|source| BindError {
                addr: *addr,
                hint: explain_bind_error(addr, &source),
                source,
            })
        })
        .collect()
}

fn bind_one(addr: &SocketAddr, md5: &[(IpAddr, &str)]) -> io::Result<TcpListener> {
    let socket = Socket::new(
        Domain::for_address(*addr),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    if addr.is_ipv6() {
        // [::] must not also take 0.0.0.0: that is a separate exabgp_tcp_bind entry.
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.set_cloexec(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&(*addr).into())?;
    for (peer, key) in md5 {
        super::md5::set_listener_md5(&socket, addr.is_ipv6(), *peer, key.as_bytes())
            .map_err(|e| io::Error::new(e.kind(), format!("TCP MD5 key for {peer}: {e}")))?;
    }
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

/// What to do about a failed bind of `addr`.
pub fn explain_bind_error(addr: &SocketAddr, err: &io::Error) -> String {
    let port = addr.port();
    match err.kind() {
        io::ErrorKind::PermissionDenied if port < 1024 => format!(
            "Port {port} is privileged and this process lacks CAP_NET_BIND_SERVICE. Fix one of: \
             let systemd hold the port (enable exabgp-bgp@INSTANCE.socket, see \
             /usr/share/doc/exabgp-rs/systemd.md), or grant it in a drop-in for \
             exabgp@.service (AmbientCapabilities=CAP_NET_BIND_SERVICE, \
             CapabilityBoundingSet=CAP_NET_BIND_SERVICE, SystemCallFilter=capset), \
             or start as root outside systemd (the daemon drops to exabgp_daemon_user \
             after binding), or set exabgp_tcp_port to a port >= 1024."
        ),
        io::ErrorKind::PermissionDenied => {
            "The address is not ours to bind; check exabgp_tcp_bind and any \
             RestrictAddressFamilies=/IPAddressDeny= in the unit."
                .to_string()
        }
        io::ErrorKind::AddrInUse => format!(
            "Another process listens on {addr}: check `ss -ltnp 'sport = :{port}'` (another \
             exabgp instance, bird, frr, gobgpd?), give each instance its own \
             exabgp_tcp_bind address or exabgp_tcp_port, or let systemd hold the port \
             (exabgp-bgp@INSTANCE.socket) so restarts never race for it."
        ),
        io::ErrorKind::AddrNotAvailable => format!(
            "{} is not an address of this host; check exabgp_tcp_bind and that the \
             interface is up (order the unit After=network-online.target).",
            addr.ip()
        ),
        _ => "Check exabgp_tcp_bind and exabgp_tcp_port.".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_bind_is_addr_in_use_with_hint() {
        let first = bind_bgp(&["127.0.0.1:0".parse().unwrap()]).unwrap();
        let addr = first[0].local_addr().unwrap();
        let err = bind_bgp(&[addr]).unwrap_err();
        assert_eq!(err.source.kind(), io::ErrorKind::AddrInUse);
        let text = err.to_string();
        assert!(
            text.contains(&format!("{} port {}", addr.ip(), addr.port())),
            "{text}"
        );
        assert!(text.contains("ss -ltnp"), "{text}");
        assert!(!err.is_permission());
    }

    #[test]
    fn privileged_port_hint_says_how_to_fix() {
        let addr: SocketAddr = "0.0.0.0:179".parse().unwrap();
        let err = io::Error::from(io::ErrorKind::PermissionDenied);
        let hint = explain_bind_error(&addr, &err);
        assert!(hint.contains("CAP_NET_BIND_SERVICE"), "{hint}");
        assert!(hint.contains("exabgp-bgp@INSTANCE.socket"), "{hint}");
        assert!(hint.contains(">= 1024"), "{hint}");
    }

    /// Keys set before listen(): an unsigned handshake from a keyed peer never
    /// completes, a signed one does, and other peers are not affected.
    #[test]
    fn keyed_listener_refuses_unsigned_handshakes_from_the_peer() {
        use std::time::Duration;
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        let l = bind_bgp_keyed(&["127.0.0.1:0".parse().unwrap()], &[(peer, "k1")]).unwrap();
        let addr = l[0].local_addr().unwrap();
        let connect = |key: Option<&[u8]>| -> io::Result<()> {
            let s = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
            if let Some(k) = key {
                crate::system::md5::set_md5(&s, addr.ip(), k)?;
            }
            s.connect_timeout(&addr.into(), Duration::from_millis(1500))
        };
        assert!(connect(None).is_err(), "unsigned handshake completed");
        assert!(connect(Some(b"other")).is_err(), "wrong key accepted");
        connect(Some(b"k1")).expect("signed handshake");
        let unkeyed = bind_bgp_keyed(&["127.0.0.1:0".parse().unwrap()], &[]).unwrap();
        let s = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap();
        s.connect_timeout(
            &unkeyed[0].local_addr().unwrap().into(),
            Duration::from_millis(1500),
        )
        .expect("a listener without keys takes unsigned peers");
    }

    #[test]
    fn listeners_are_nonblocking() {
        let l = bind_bgp(&["127.0.0.1:0".parse().unwrap()]).unwrap();
        // Non-blocking: accept with nobody connecting returns WouldBlock at once.
        let e = l[0].accept().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
    }
}
