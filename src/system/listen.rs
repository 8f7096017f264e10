//! Binding the BGP listeners ourselves, when systemd did not hand them over, with
//! errors that tell the operator what to do (a port below 1024 without
//! CAP_NET_BIND_SERVICE, an address already in use).
//!
//! SO_REUSEADDR (lets us rebind while old connections sit in TIME_WAIT) but never
//! SO_REUSEPORT: two live listeners on one port would hide a real conflict.

use std::io;
use std::net::{SocketAddr, TcpListener};

use socket2::{Domain, Protocol, Socket, Type};

/// Listen backlog: peers connect rarely; a handful is plenty, 128 is generous.
const BACKLOG: i32 = 128;

#[derive(Debug, thiserror::Error)]
#[error("cannot listen for BGP on {addr}: {source}. {hint}")]
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
}

/// Bind and listen on every address (non-blocking, ready for tokio's `from_std`).
pub fn bind_bgp(addrs: &[SocketAddr]) -> Result<Vec<TcpListener>, BindError> {
    addrs
        .iter()
        .map(|addr| {
            bind_one(addr).map_err(|source| BindError {
                addr: *addr,
                hint: explain_bind_error(addr, &source),
                source,
            })
        })
        .collect()
}

fn bind_one(addr: &SocketAddr) -> io::Result<TcpListener> {
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
             /usr/share/doc/exabgp/systemd.md), or grant \
             AmbientCapabilities=CAP_NET_BIND_SERVICE in a drop-in for exabgp@.service, \
             or start as root (the daemon drops to exabgp_daemon_user after binding), \
             or set exabgp_tcp_port to a port >= 1024."
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
        assert!(text.contains(&addr.to_string()), "{text}");
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

    #[test]
    fn listeners_are_nonblocking() {
        let l = bind_bgp(&["127.0.0.1:0".parse().unwrap()]).unwrap();
        // Non-blocking: accept with nobody connecting returns WouldBlock at once.
        let e = l[0].accept().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
    }
}
