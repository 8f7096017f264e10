//! Raw BGP messages and a raw scripted peer over a real TCP socket, for tests that
//! must send exactly the bytes they want (malformed messages, collisions, codec
//! fixtures): message builders (from bytes or from hex text) and a blocking peer
//! that reads whole messages.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// The AS the raw peer speaks as.
pub const RAW_AS: u16 = 65002;

/// A whole message: marker, length, type, then `body`.
pub fn message(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![0xff; 16];
    m.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
    m.push(msg_type);
    m.extend_from_slice(body);
    m
}

pub fn open_body() -> Vec<u8> {
    open_body_with(4, RAW_AS, 30, [192, 0, 2, 77])
}

pub fn open_body_with(version: u8, asn: u16, hold: u16, id: [u8; 4]) -> Vec<u8> {
    // Capabilities: multiprotocol ipv4 unicast, 4-octet AS.
    let mut caps = vec![1, 4, 0, 1, 0, 1, 65, 4];
    caps.extend_from_slice(&u32::from(asn).to_be_bytes());
    open_body_caps_with(version, asn, hold, id, &caps)
}

/// Our OPEN body (version 4, RAW_AS, hold time 30, id 192.0.2.77) with `caps`
/// (whole capability TLVs) in one Capabilities parameter.
pub fn open_body_caps(caps: &[u8]) -> Vec<u8> {
    open_body_caps_with(4, RAW_AS, 30, [192, 0, 2, 77], caps)
}

fn open_body_caps_with(version: u8, asn: u16, hold: u16, id: [u8; 4], caps: &[u8]) -> Vec<u8> {
    let mut b = vec![version];
    b.extend_from_slice(&asn.to_be_bytes());
    b.extend_from_slice(&hold.to_be_bytes());
    b.extend_from_slice(&id);
    b.push(caps.len() as u8 + 2);
    b.push(2);
    b.push(caps.len() as u8);
    b.extend_from_slice(caps);
    b
}

pub fn update_body(attrs: &[u8], nlri: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0];
    b.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    b.extend_from_slice(attrs);
    b.extend_from_slice(nlri);
    b
}

/// Bytes from hex text; whitespace and `_` are ignored so fixtures can be laid
/// out field by field.
pub fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|c| c.is_ascii_hexdigit()).collect();
    assert_eq!(digits.len() % 2, 0, "odd number of hex digits in {s:?}");
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

/// A whole message: marker, length, type, then the body given in hex.
pub fn msg(msg_type: u8, body: &str) -> Vec<u8> {
    message(msg_type, &hex(body))
}

/// An UPDATE with no withdrawn routes, the given attribute block and NLRI (hex).
pub fn update_msg(attrs: &str, nlri: &str) -> Vec<u8> {
    message(2, &update_body(&hex(attrs), &hex(nlri)))
}

pub const ORIGIN_IGP: [u8; 4] = [0x40, 1, 1, 0];
/// AS_PATH, one AS_SEQUENCE of [65002], 4-octet.
pub const AS_PATH: [u8; 9] = [0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xea];
pub const NEXT_HOP: [u8; 7] = [0x40, 3, 4, 192, 0, 2, 77];

pub fn valid_attrs() -> Vec<u8> {
    [&ORIGIN_IGP[..], &AS_PATH, &NEXT_HOP].concat()
}

/// Connects from `src` to `dst`, retrying every 100 ms for at most 15 s while
/// `peer` (named in the failure) is not listening yet; reads time out after 15 s.
pub fn connect_when_listening(src: IpAddr, dst: SocketAddr, peer: &str) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(15);
    let stream = loop {
        let sock =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        sock.bind(&SocketAddr::new(src, 0).into()).unwrap();
        match sock.connect_timeout(&dst.into(), Duration::from_secs(1)) {
            Ok(()) => break TcpStream::from(sock),
            Err(e) => {
                assert!(Instant::now() < deadline, "cannot connect to {peer}: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    stream
}

/// The raw peer.
pub struct RawPeer {
    pub s: TcpStream,
}

impl RawPeer {
    /// A peer over an already connected stream (e.g. accepted from exabgp).
    pub fn from_stream(s: TcpStream) -> RawPeer {
        s.set_read_timeout(Some(Duration::from_secs(15)))
            .expect("read timeout");
        RawPeer { s }
    }

    pub fn connect(src: IpAddr, dst: SocketAddr) -> RawPeer {
        let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("socket");
        sock.bind(&SocketAddr::new(src, 0).into())
            .expect("bind source address");
        sock.connect_timeout(&dst.into(), Duration::from_secs(10))
            .expect("connect to exabgp");
        let s: TcpStream = sock.into();
        s.set_read_timeout(Some(Duration::from_secs(15)))
            .expect("read timeout");
        RawPeer { s }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.s.write_all(bytes).expect("write to exabgp");
    }

    /// One message: (type, body). Err on EOF or timeout.
    pub fn read(&mut self) -> std::io::Result<(u8, Vec<u8>)> {
        let mut h = [0u8; 19];
        self.s.read_exact(&mut h)?;
        let len = u16::from_be_bytes([h[16], h[17]]) as usize;
        let mut body = vec![0u8; len.saturating_sub(19)];
        self.s.read_exact(&mut body)?;
        Ok((h[18], body))
    }

    /// OPEN from exabgp, our OPEN and KEEPALIVE, then exabgp's KEEPALIVE: Established.
    pub fn handshake(&mut self) {
        self.handshake_with(&open_body());
    }

    /// Like `handshake`, with our OPEN body given.
    pub fn handshake_with(&mut self, open: &[u8]) {
        let (t, _) = self.read().expect("exabgp OPEN");
        assert_eq!(t, 1, "first message is OPEN");
        self.send(&message(1, open));
        self.keepalive_until_established();
    }

    /// Our KEEPALIVE (after both OPENs), then exabgp's KEEPALIVE: Established.
    pub fn keepalive_until_established(&mut self) {
        self.send(&message(4, &[]));
        for _ in 0..10 {
            let (t, body) = self.read().expect("exabgp KEEPALIVE");
            assert_ne!(t, 3, "NOTIFICATION during handshake: {body:?}");
            if t == 4 {
                return;
            }
        }
        panic!("no KEEPALIVE from exabgp");
    }

    /// Reads until a NOTIFICATION (skipping KEEPALIVE/UPDATE) and returns (code,
    /// subcode); then checks exabgp closed the connection.
    pub fn notification(&mut self) -> (u8, u8) {
        for _ in 0..100 {
            let (t, body) = self.read().expect("NOTIFICATION from exabgp");
            if t == 3 {
                let mut rest = Vec::new();
                let closed = self.s.read_to_end(&mut rest).is_ok();
                assert!(
                    closed,
                    "exabgp did not close the connection after its NOTIFICATION"
                );
                return (body[0], body[1]);
            }
        }
        panic!("no NOTIFICATION from exabgp");
    }

    /// Reads until an IPv4 End-of-RIB (an UPDATE with nothing in it, RFC 4724) and
    /// returns the UPDATEs seen before it.
    pub fn until_end_of_rib(&mut self) -> Vec<Vec<u8>> {
        let mut updates = Vec::new();
        for _ in 0..1000 {
            let (t, body) = self.read().expect("UPDATE from exabgp");
            assert_ne!(t, 3, "NOTIFICATION instead of End-of-RIB: {body:?}");
            if t == 2 {
                if body == [0, 0, 0, 0] {
                    return updates;
                }
                updates.push(body);
            }
        }
        panic!("no End-of-RIB from exabgp");
    }

    /// Like `notification`, also counting the KEEPALIVEs received before it.
    pub fn notification_counting_keepalives(&mut self) -> ((u8, u8), usize) {
        let mut keepalives = 0;
        for _ in 0..100 {
            let (t, body) = self.read().expect("NOTIFICATION from exabgp");
            match t {
                3 => return ((body[0], body[1]), keepalives),
                4 => keepalives += 1,
                _ => {}
            }
        }
        panic!("no NOTIFICATION from exabgp");
    }

    /// Reads for a second: only UPDATE/KEEPALIVE may arrive, no NOTIFICATION, no EOF.
    pub fn assert_still_up(&mut self) {
        self.s
            .set_read_timeout(Some(Duration::from_secs(1)))
            .expect("read timeout");
        loop {
            match self.read() {
                Ok((t, body)) => assert!(t == 2 || t == 4, "unexpected message type {t}: {body:?}"),
                Err(e) => {
                    let timeout = matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    );
                    assert!(timeout, "connection closed by exabgp: {e}");
                    break;
                }
            }
        }
        self.s
            .set_read_timeout(Some(Duration::from_secs(15)))
            .expect("read timeout");
    }

    /// Leaves politely (Cease) and waits for exabgp to close, so the next
    /// connection does not collide with this one.
    pub fn close(mut self) {
        self.send(&message(3, &[6, 2]));
        let mut rest = Vec::new();
        let _ = self.s.read_to_end(&mut rest);
    }
}
