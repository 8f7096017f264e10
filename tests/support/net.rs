//! Addresses and ports on loopback, and what the kernel says a process holds
//! (/proc/net/tcp, /proc/net/unix, /proc/PID/fd).

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{wait_for, WAIT};

/// A free TCP port on `ip` (bound, read, released).
pub fn free_port(ip: IpAddr) -> u16 {
    let l = TcpListener::bind((ip, 0)).expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

/// `ip` with a free TCP port (see `free_port`).
pub fn free_addr(ip: IpAddr) -> SocketAddr {
    SocketAddr::new(ip, free_port(ip))
}

/// A loopback address 127.x.y.1 unlikely to be used by a concurrent test: derived
/// from the process id and a per-call counter.
pub fn loopback_addr(salt: u8) -> Ipv4Addr {
    let pid = std::process::id();
    Ipv4Addr::new(
        127,
        (pid % 200) as u8 + 20,
        salt,
        ((pid / 200) % 250) as u8 + 2,
    )
}

/// Waits until something accepts TCP connections on `addr` (a probe connection
/// from 127.0.0.1, which exabgp closes as an unknown peer). Independent of log text.
pub fn wait_listening(addr: std::net::SocketAddr) -> bool {
    wait_for(WAIT, || {
        std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1))
            .ok()
            .map(|_| ())
    })
    .is_some()
}

/// A loopback address for test `test` (0..5), host `host`: 127.(200..249).x.host,
/// derived from our pid so concurrent test binaries rarely share one (ports are
/// picked free at run time anyway).
pub fn addr(test: u8, host: u8) -> IpAddr {
    let pid = std::process::id();
    let second = 200 + (pid % 50) as u8;
    let third = ((pid / 50) % 50) as u8 * 5 + test;
    IpAddr::V4(Ipv4Addr::new(127, second, third, host))
}

/// The socket inodes a process holds open.
pub fn socket_inodes(pid: u32) -> HashSet<u64> {
    let mut out = HashSet::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return out;
    };
    for e in dir.flatten() {
        if let Ok(target) = std::fs::read_link(e.path()) {
            let t = target.to_string_lossy();
            if let Some(n) = t
                .strip_prefix("socket:[")
                .and_then(|s| s.strip_suffix(']'))
                .and_then(|s| s.parse().ok())
            {
                out.insert(n);
            }
        }
    }
    out
}

/// Listening IPv4 TCP sockets: (address, inode), from /proc/net/tcp.
pub fn tcp_listeners() -> Vec<(SocketAddr, u64)> {
    let text = std::fs::read_to_string("/proc/net/tcp").expect("read /proc/net/tcp");
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 10 || f[3] != "0A" {
            continue;
        }
        let Some((a, p)) = f[1].split_once(':') else {
            continue;
        };
        let (Ok(a), Ok(p), Ok(ino)) = (
            u32::from_str_radix(a, 16),
            u16::from_str_radix(p, 16),
            f[9].parse::<u64>(),
        ) else {
            continue;
        };
        // The address is the in-memory (network order) word printed as a host integer.
        let ip = Ipv4Addr::from(a.to_le_bytes());
        out.push((SocketAddr::new(IpAddr::V4(ip), p), ino));
    }
    out
}

/// Unix sockets with a path: (inode, path), from /proc/net/unix.
pub fn unix_sockets() -> Vec<(u64, PathBuf)> {
    let text = std::fs::read_to_string("/proc/net/unix").expect("read /proc/net/unix");
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let ino = f.get(6)?.parse().ok()?;
            let path = f.get(7)?;
            Some((ino, PathBuf::from(path)))
        })
        .collect()
}

/// Does process `pid` hold a Unix socket bound to `path` (its listener)?
pub fn holds_unix_path(pid: u32, path: &Path) -> bool {
    let held = socket_inodes(pid);
    unix_sockets()
        .iter()
        .any(|(ino, p)| p == path && held.contains(ino))
}
