//! Adding and removing the service addresses on `lo` through rtnetlink
//! (RTM_NEWADDR / RTM_DELADDR on a NETLINK_ROUTE socket), without /sbin/ip.
//!
//! The addresses already on the interface are listed first with an RTM_GETADDR
//! dump (no privilege needed), so only missing ones are added: a setup whose
//! addresses are all pre-provisioned needs no CAP_NET_ADMIN.
//!
//! Each request asks for an acknowledgement and waits for it, so an error (EPERM
//! without CAP_NET_ADMIN, EEXIST for an address already there) is the answer to
//! that request, not a guess. Addresses are added as `ip address add A/32 dev lo
//! label lo:LABEL` would (scope global; the label for IPv4 only, IPv6 has none).

use std::io;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_LABEL: u16 = 3;
const HDR: usize = 16;

/// What adding an address did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// We added it (so we may remove it).
    New,
    /// It was there already (so it is not ours to remove).
    Existed,
}

/// An address found on an interface, with its label (IPv4 only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Present {
    pub addr: IpAddr,
    pub label: Option<String>,
}

/// A NETLINK_ROUTE socket.
pub struct Netlink {
    fd: OwnedFd,
    seq: u32,
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

fn attr(buf: &mut Vec<u8>, kind: u16, data: &[u8]) {
    let len = 4 + data.len();
    buf.extend_from_slice(&(len as u16).to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(data);
    buf.resize(align4(buf.len()), 0);
}

/// The index of an interface by name.
pub fn ifindex(name: &str) -> io::Result<u32> {
    let c = std::ffi::CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface name with NUL"))?;
    // SAFETY: a valid NUL-terminated string; if_nametoindex only reads it.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if i == 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(i)
    }
}

impl Netlink {
    pub fn open() -> io::Result<Netlink> {
        // SAFETY: plain socket(2) call; the result is checked before use.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a new descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // Answers that do not come would otherwise block forever.
        let tv = libc::timeval {
            tv_sec: 5,
            tv_usec: 0,
        };
        // SAFETY: tv lives across the call; the size is its size.
        let r = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&tv as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Netlink { fd, seq: 0 })
    }

    /// Add `addr` (as a host address) to interface `index`.
    pub fn add(&mut self, index: u32, addr: IpAddr, label: Option<&str>) -> io::Result<Added> {
        let flags =
            (libc::NLM_F_REQUEST | libc::NLM_F_ACK | libc::NLM_F_CREATE | libc::NLM_F_EXCL) as u16;
        match self.request(libc::RTM_NEWADDR, flags, index, addr, label) {
            Ok(()) => Ok(Added::New),
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => Ok(Added::Existed),
            Err(e) => Err(e),
        }
    }

    /// Remove `addr` from interface `index`; one already gone is not an error.
    pub fn remove(&mut self, index: u32, addr: IpAddr) -> io::Result<()> {
        let flags = (libc::NLM_F_REQUEST | libc::NLM_F_ACK) as u16;
        match self.request(libc::RTM_DELADDR, flags, index, addr, None) {
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::EADDRNOTAVAIL) | Some(libc::ENOENT)
                ) =>
            {
                Ok(())
            }
            r => r,
        }
    }

    /// The addresses on interface `index` (an RTM_GETADDR dump).
    pub fn addresses(&mut self, index: u32) -> io::Result<Vec<Present>> {
        self.seq = self.seq.wrapping_add(1);
        let mut m = vec![0u8; HDR];
        // struct ifaddrmsg: every family; the kernel dumps every interface.
        m.extend_from_slice(&[libc::AF_UNSPEC as u8, 0, 0, 0]);
        m.extend_from_slice(&0u32.to_ne_bytes());
        let flags = (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16;
        self.send(&mut m, libc::RTM_GETADDR, flags)?;
        let mut found = Vec::new();
        let mut buf = vec![0u8; 32768];
        // Bounded: each read times out after 5 s; a dump of lo is a few messages.
        for _ in 0..4096 {
            // SAFETY: buf is writable for its length.
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            let data = &buf[..n as usize];
            let mut off = 0;
            while let Some((len, kind, seq)) = header(data, off) {
                let msg = &data[off..off + len];
                if seq == self.seq {
                    match kind {
                        NLMSG_DONE => return Ok(found),
                        NLMSG_ERROR => {
                            let err = word(msg, HDR).map(|e| e as i32).unwrap_or(0);
                            return Err(if err == 0 {
                                io::Error::new(io::ErrorKind::InvalidData, "netlink dump ended")
                            } else {
                                io::Error::from_raw_os_error(-err)
                            });
                        }
                        k if k == libc::RTM_NEWADDR => {
                            if let Some(p) = parse_address(&msg[HDR..], index) {
                                found.push(p);
                            }
                        }
                        _ => {}
                    }
                }
                off += align4(len);
            }
        }
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "netlink dump without an end",
        ))
    }

    fn send(&mut self, m: &mut [u8], kind: u16, flags: u16) -> io::Result<()> {
        let total = m.len() as u32;
        m[0..4].copy_from_slice(&total.to_ne_bytes());
        m[4..6].copy_from_slice(&kind.to_ne_bytes());
        m[6..8].copy_from_slice(&flags.to_ne_bytes());
        m[8..12].copy_from_slice(&self.seq.to_ne_bytes());
        // SAFETY: zeroed sockaddr_nl is valid; nl_family set; sizes are right.
        let mut sa: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        sa.nl_family = libc::AF_NETLINK as u16;
        // SAFETY: m and sa outlive the call; lengths are theirs.
        let r = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                m.as_ptr().cast(),
                m.len(),
                0,
                (&sa as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn request(
        &mut self,
        kind: u16,
        flags: u16,
        index: u32,
        addr: IpAddr,
        label: Option<&str>,
    ) -> io::Result<()> {
        self.seq = self.seq.wrapping_add(1);
        let (family, bytes, len): (u8, Vec<u8>, u8) = match addr {
            IpAddr::V4(a) => (libc::AF_INET as u8, a.octets().to_vec(), 32),
            IpAddr::V6(a) => (libc::AF_INET6 as u8, a.octets().to_vec(), 128),
        };
        let mut m = vec![0u8; HDR];
        // struct ifaddrmsg: family, prefixlen, flags, scope (global), index.
        m.extend_from_slice(&[family, len, 0, 0]);
        m.extend_from_slice(&index.to_ne_bytes());
        attr(&mut m, IFA_LOCAL, &bytes);
        attr(&mut m, IFA_ADDRESS, &bytes);
        if let (Some(l), IpAddr::V4(_)) = (label, addr) {
            let mut z = l.as_bytes().to_vec();
            z.push(0);
            attr(&mut m, IFA_LABEL, &z);
        }
        self.send(&mut m, kind, flags)?;
        self.wait_ack()
    }

    /// Read answers until the NLMSG_ERROR for our sequence number (bounded: a
    /// socket read times out after 5 s, and at most 64 unrelated messages).
    fn wait_ack(&mut self) -> io::Result<()> {
        let mut buf = vec![0u8; 16384];
        for _ in 0..64 {
            // SAFETY: buf is writable for its length.
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            let data = &buf[..n as usize];
            let mut off = 0;
            while off + HDR <= data.len() {
                let word =
                    |i: usize| u32::from_ne_bytes([data[i], data[i + 1], data[i + 2], data[i + 3]]);
                let len = word(off) as usize;
                let kind = u16::from_ne_bytes([data[off + 4], data[off + 5]]);
                let seq = word(off + 8);
                if len < HDR || off + len > data.len() {
                    break;
                }
                if kind == NLMSG_ERROR && seq == self.seq && len >= HDR + 4 {
                    let err = word(off + HDR) as i32;
                    return if err == 0 {
                        Ok(())
                    } else {
                        Err(io::Error::from_raw_os_error(-err))
                    };
                }
                off += align4(len);
            }
        }
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "no netlink acknowledgement",
        ))
    }
}

fn word(data: &[u8], i: usize) -> Option<u32> {
    let b = data.get(i..i.checked_add(4)?)?;
    Some(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}

/// The (length, type, sequence) of the netlink message at `off`, if whole.
fn header(data: &[u8], off: usize) -> Option<(usize, u16, u32)> {
    let len = word(data, off)? as usize;
    let kind = data.get(off.checked_add(4)?..off.checked_add(6)?)?;
    let seq = word(data, off.checked_add(8)?)?;
    if len < HDR || off.checked_add(len)? > data.len() {
        return None;
    }
    Some((len, u16::from_ne_bytes([kind[0], kind[1]]), seq))
}

/// One RTM_NEWADDR payload (ifaddrmsg + attributes) if it is on `index`.
fn parse_address(p: &[u8], index: u32) -> Option<Present> {
    let family = *p.first()?;
    if word(p, 4)? != index {
        return None;
    }
    let (mut local, mut address, mut label) = (None, None, None);
    let mut off = 8;
    while off + 4 <= p.len() {
        let len = u16::from_ne_bytes([p[off], p[off + 1]]) as usize;
        let kind = u16::from_ne_bytes([p[off + 2], p[off + 3]]);
        if len < 4 || off + len > p.len() {
            break;
        }
        let v = &p[off + 4..off + len];
        let ip = |v: &[u8]| -> Option<IpAddr> {
            match (family as i32, v.len()) {
                (libc::AF_INET, 4) => Some(IpAddr::from(<[u8; 4]>::try_from(v).ok()?)),
                (libc::AF_INET6, 16) => Some(IpAddr::from(<[u8; 16]>::try_from(v).ok()?)),
                _ => None,
            }
        };
        match kind {
            IFA_LOCAL => local = ip(v),
            IFA_ADDRESS => address = ip(v),
            IFA_LABEL => {
                let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
                label = Some(String::from_utf8_lossy(&v[..end]).into_owned());
            }
            _ => {}
        }
        off += align4(len);
    }
    Some(Present {
        addr: local.or(address)?,
        label,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The real kernel's dump of lo (no privilege needed) has 127.0.0.1.
    #[test]
    fn dump_of_lo_lists_loopback() {
        let mut nl = Netlink::open().unwrap();
        let lo = ifindex("lo").unwrap();
        let found = nl.addresses(lo).unwrap();
        assert!(
            found
                .iter()
                .any(|p| p.addr == IpAddr::from([127, 0, 0, 1]) && p.label.as_deref() == Some("lo")),
            "{found:?}"
        );
    }

    /// Truncated or lying lengths never panic and yield nothing wrong.
    #[test]
    fn malformed_messages_do_not_panic() {
        let mut p = vec![libc::AF_INET as u8, 32, 0, 0];
        p.extend_from_slice(&1u32.to_ne_bytes());
        let mut full = p.clone();
        attr(&mut full, IFA_LOCAL, &[192, 0, 2, 1]);
        attr(&mut full, IFA_LABEL, b"lo:x\0");
        assert_eq!(
            parse_address(&full, 1),
            Some(Present {
                addr: IpAddr::from([192, 0, 2, 1]),
                label: Some("lo:x".into())
            })
        );
        assert_eq!(parse_address(&full, 2), None);
        for n in 0..full.len() {
            let _ = parse_address(&full[..n], 1);
        }
        // An attribute claiming more than there is.
        let mut bad = p.clone();
        bad.extend_from_slice(&200u16.to_ne_bytes());
        bad.extend_from_slice(&IFA_LOCAL.to_ne_bytes());
        bad.extend_from_slice(&[192, 0, 2, 1]);
        assert_eq!(parse_address(&bad, 1), None);
        // A message header claiming more than the buffer.
        let mut h = vec![0u8; HDR];
        h[0..4].copy_from_slice(&1000u32.to_ne_bytes());
        assert_eq!(header(&h, 0), None);
        assert_eq!(header(&h[..3], 0), None);
        assert_eq!(header(&h, usize::MAX - 2), None);
    }
}
