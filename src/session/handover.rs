//! The state one Established session needs to be continued by the next process
//! over the same TCP socket (issue 13, hitless restart), and its byte format.
//!
//! What is carried: who the session is between (addresses, AS numbers, router
//! ids), what the OPENs negotiated ([`Negotiated`]) and our OPEN, the timers
//! (when the last message was received and the last KEEPALIVE sent), when the
//! session was established (its uptime continues), the message counters, the
//! bytes already read from the socket but not yet decoded, the Adj-RIB-Out as the
//! peer holds it, the Adj-RIB-In (so `show adj-rib in`, helpers and max-prefix
//! see it without a ROUTE-REFRESH), the neighbor's settings (adoption refuses
//! the session exactly when a reload from them would restart it), and the
//! routes the API announced and the configured ones it withdrew (the daemon
//! fills those in: the task does not know which of its routes came from the API).
//! The settings and the withdrawn routes are tagged sections after the API
//! routes, so a state of the first format (without them) still reads.
//!
//! Times are CLOCK_MONOTONIC nanoseconds ([`MonoTime`]). That clock is
//! system-wide (it counts from boot, the same for every process), so an instant
//! taken by the old process means the same in the new one; `std::time::Instant`
//! on Linux reads that clock too, which is how [`MonoTime`] converts.
//!
//! Routes are not given a format of their own: every route, flow rule and
//! received prefix is stored as a BGP UPDATE message, encoded and decoded with
//! the codec at its widest options ([`STATE_CODEC`]: 4-octet AS, extended
//! messages). The Adj-RIB-Out is stored in wire form (next hop resolved,
//! attributes as sent, see `outbound::SessionContext::wire_attributes`): that is
//! what the peer holds, and adoption compares the new configuration's routes in
//! that same form. API routes are stored as configured: an UPDATE with a flag
//! octet saying which fields were absent (next hop self, no ORIGIN, no AS_PATH),
//! filled in only so the message is a valid UPDATE.
//!
//! The envelope: magic, version (an unknown one is refused), body length, body,
//! and a 64-bit FNV-1a checksum over all of it, so a flipped byte is detected.
//! Decoding is bounded: every length is checked against the bytes that remain
//! before anything is allocated, the whole state is capped at [`MAX_STATE`], and
//! any inconsistency is a [`HandoverError`], never a panic.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::open::Negotiated;
use crate::bgp::{self, CodecOptions, Family, FlowNlri, GracefulRestart, Message, Open};
use crate::bgp::{FlowReach, MpReach, PathAttributes, Prefix, Update};
use crate::control::MessageCounters;
use crate::rib::{AdjRibIn, FlowRoute};
use crate::rib::{NextHop, Route};

/// The first octets of every state.
pub const MAGIC: &[u8; 8] = b"EXABGPHO";
/// The format this code writes and the only one it reads.
pub const VERSION: u16 = 1;
/// The largest state accepted (a full table in both Adj-RIBs fits many times).
pub const MAX_STATE: usize = 1 << 30;
/// The most unread bytes carried (less than one message remains after decoding).
const MAX_UNREAD: usize = 1 << 20;
/// The codec options routes are stored with.
pub const STATE_CODEC: CodecOptions = CodecOptions {
    four_octet_as: true,
    extended_message: true,
};

/// Flags of a stored API route: which fields were absent in the route as
/// announced (filled in only to make a valid UPDATE).
const API_NEXT_HOP_SELF: u8 = 1;
const API_NO_ORIGIN: u8 = 2;
const API_NO_AS_PATH: u8 = 4;

/// Why a state was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HandoverError {
    #[error("not a hand-over state (bad magic)")]
    Magic,
    #[error("hand-over state version {0} not understood (this build reads {VERSION})")]
    Version(u16),
    #[error("hand-over state too large ({0} bytes, at most {MAX_STATE})")]
    TooLarge(usize),
    #[error("hand-over state truncated ({0})")]
    Truncated(&'static str),
    #[error("hand-over state checksum mismatch (corrupted)")]
    Checksum,
    #[error("hand-over state malformed: {0}")]
    Malformed(String),
    #[error("cannot encode the hand-over state: {0}")]
    Encode(String),
}

/// A CLOCK_MONOTONIC time in nanoseconds: comparable across the processes of
/// one boot (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct MonoTime(pub u64);

impl MonoTime {
    /// Now.
    pub fn now() -> MonoTime {
        MonoTime(monotonic_ns())
    }

    /// The time of `at`, an `Instant` of this process.
    pub fn from_instant(at: Instant) -> MonoTime {
        let (now, mono) = (Instant::now(), monotonic_ns());
        let ns = match now.checked_duration_since(at) {
            Some(ago) => mono.saturating_sub(duration_ns(ago)),
            None => mono.saturating_add(duration_ns(at.saturating_duration_since(now))),
        };
        MonoTime(ns)
    }

    /// This time as an `Instant` of this process (now, if it is too far back to
    /// be represented).
    pub fn to_instant(self) -> Instant {
        let (now, mono) = (Instant::now(), monotonic_ns());
        if self.0 <= mono {
            now.checked_sub(Duration::from_nanos(mono - self.0))
                .unwrap_or(now)
        } else {
            now + Duration::from_nanos(self.0 - mono)
        }
    }

    /// How long ago this was (zero if in the future).
    pub fn elapsed(self) -> Duration {
        Duration::from_nanos(monotonic_ns().saturating_sub(self.0))
    }
}

fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// CLOCK_MONOTONIC in nanoseconds (the clock `Instant` reads on Linux).
fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own; CLOCK_MONOTONIC always exists.
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) } != 0 {
        return 0;
    }
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(ts.tv_nsec).unwrap_or(0);
    secs.saturating_mul(1_000_000_000).saturating_add(nanos)
}

/// One Established session, as handed from one process to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoverState {
    /// The neighbor's configured address (the key of its configuration).
    pub address: IpAddr,
    /// The socket's local and remote addresses when it was handed over.
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// We opened the connection (not the peer).
    pub outbound: bool,
    pub peer_as: u32,
    pub local_as: u32,
    /// Our router id (BGP identifier) in the OPEN we sent.
    pub router_id: Ipv4Addr,
    pub negotiated: Negotiated,
    pub our_open: Open,
    /// When the old process began handing over: the new one logs the gap.
    pub began: MonoTime,
    pub established: MonoTime,
    /// When the last KEEPALIVE was sent and the last message received.
    pub last_sent: MonoTime,
    pub last_received: MonoTime,
    pub sent: MessageCounters,
    pub received: MessageCounters,
    /// Bytes read from the socket and not decoded yet (a partial message).
    pub unread: Vec<u8>,
    /// The Adj-RIB-Out as the peer holds it: UPDATEs in wire form.
    pub held: Vec<Update>,
    /// The Adj-RIB-In: UPDATEs that rebuild it.
    pub rib_in: Vec<Update>,
    /// Routes and flow rules announced through the API to this neighbor.
    pub api_routes: Vec<Route>,
    pub api_flows: Vec<FlowRoute>,
    /// Configured routes and flow rules withdrawn from this neighbor through
    /// the API, as configured: the next process leaves them out while its
    /// configuration has them unchanged (as a reload does).
    pub withdrawn_routes: Vec<Route>,
    pub withdrawn_flows: Vec<FlowRoute>,
    /// The neighbor's settings the session ran with: adoption refuses the
    /// session exactly when a reload from them would restart it
    /// ([`crate::config::must_restart`]). None in a state of an earlier build
    /// (then the OPEN and addresses are compared, [`validate`]).
    pub config: Option<crate::config::NeighborConfig>,
}

/// Sections after the API routes, each a tag octet and its content; a state
/// of an earlier build has none, and an unknown tag is refused (an older
/// build then sends a Cease rather than lose what the section says).
const SECTION_WITHDRAWN: u8 = 1;
const SECTION_CONFIG: u8 = 2;

/// Why a stored session was not adopted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refusal {
    /// The configuration changed what the session was opened with: the peer
    /// is told with a Cease (Other Configuration Change) and the session is
    /// opened again.
    #[error("configuration changed since the hand-over: {0}")]
    Config(String),
    /// The socket is not the session's (closed, another peer, another address).
    #[error("socket does not belong to the session: {0}")]
    Socket(String),
}

/// An adoption that was refused: the socket, given back so the caller can
/// send a Cease and close it.
#[derive(Debug)]
pub struct AdoptError {
    pub socket: std::net::TcpStream,
    pub refusal: Refusal,
}

/// `o` with the Restart State bit of its Graceful Restart capability cleared
/// (and that capability's families sorted).
fn without_restart_bit(o: &Open) -> Open {
    let mut o = o.clone();
    for c in &mut o.capabilities {
        if let bgp::Capability::GracefulRestart(g) = c {
            g.flags &= !GracefulRestart::RESTART_STATE;
            // Its families in the order of the file's: compared as a set.
            g.families.sort();
        }
    }
    o
}

/// Sends a Cease with `subcode` (e.g. 6, Other Configuration Change) on a
/// stored session's socket, best effort and bounded by a one-second write
/// timeout, then closes it: what a refused adoption does with the socket.
pub fn cease_and_close(socket: std::net::TcpStream, subcode: u8) {
    use std::io::Write;
    let n = bgp::Notification::cease_shutdown(subcode, "");
    let mut out = Vec::new();
    if bgp::encode_message(&Message::Notification(n), &CodecOptions::INITIAL, &mut out).is_ok() {
        let mut socket = socket;
        let _ = socket.set_nonblocking(false);
        let _ = socket.set_write_timeout(Some(Duration::from_secs(1)));
        let _ = socket.write_all(&out);
        let _ = socket.shutdown(std::net::Shutdown::Both);
    }
}

/// Checks that `state` can continue over `socket` for the neighbor `cfg`: the
/// same address, settings a reload would keep the session with
/// ([`crate::config::must_restart`], when the state carries the settings;
/// for a state of an earlier build: AS numbers, router id, our OPEN with its
/// capabilities as a set, local address), and a socket connected from the
/// state's local address to the neighbor.
pub fn validate(
    cfg: &crate::config::NeighborConfig,
    state: &HandoverState,
    socket: &std::net::TcpStream,
) -> Result<(), Refusal> {
    let differs = |what: &str, was: String, now: String| {
        Err(Refusal::Config(format!("{what} was {was}, is {now}")))
    };
    if cfg.address != state.address {
        return differs(
            "address",
            state.address.to_string(),
            cfg.address.to_string(),
        );
    }
    if cfg.peer_as != state.peer_as {
        return differs(
            "peer AS",
            state.peer_as.to_string(),
            cfg.peer_as.to_string(),
        );
    }
    if cfg.local_as != state.local_as {
        return differs(
            "local AS",
            state.local_as.to_string(),
            cfg.local_as.to_string(),
        );
    }
    if cfg.router_id != state.router_id {
        return differs(
            "router id",
            state.router_id.to_string(),
            cfg.router_id.to_string(),
        );
    }
    match &state.config {
        Some(old) => {
            if crate::config::must_restart(old, cfg) {
                return Err(Refusal::Config(format!(
                    "changed: {} (a reload would restart the session)",
                    changed_settings(old, cfg).join(", ")
                )));
            }
        }
        None => validate_open(cfg, state)?,
    }
    validate_socket(cfg, state, socket)
}

/// The names of the session settings that differ (never their values: one is
/// the MD5 key).
fn changed_settings(
    old: &crate::config::NeighborConfig,
    new: &crate::config::NeighborConfig,
) -> Vec<&'static str> {
    let (o, n) = (old.session_view(), new.session_view());
    let mut out = Vec::new();
    let mut check = |name: &'static str, same: bool| {
        if !same {
            out.push(name);
        }
    };
    check("peer-as", o.peer_as == n.peer_as);
    check("local-as", o.local_as == n.local_as);
    check("router-id", o.router_id == n.router_id);
    check("local-address", o.local_address == n.local_address);
    check("port", o.port == n.port);
    check("hold-time", o.hold_time == n.hold_time);
    check("passive", o.passive == n.passive);
    check("families", o.families == n.families);
    check("md5-password", o.md5_password == n.md5_password);
    check("max-prefix", o.max_prefix == n.max_prefix);
    check("graceful-restart", o.graceful_restart == n.graceful_restart);
    if out.is_empty() {
        out.push("neighbor settings");
    }
    out
}

/// For a state without the neighbor's settings: what our OPEN and the
/// addresses say of them.
fn validate_open(
    cfg: &crate::config::NeighborConfig,
    state: &HandoverState,
) -> Result<(), Refusal> {
    let differs = |what: &str, was: String, now: String| {
        Err(Refusal::Config(format!("{what} was {was}, is {now}")))
    };
    let offered = |o: &Open| -> Vec<Family> {
        let mut f: Vec<Family> = o
            .capabilities
            .iter()
            .filter_map(|c| match c {
                bgp::Capability::Multiprotocol(f) => Some(*f),
                _ => None,
            })
            .collect();
        f.sort();
        f.dedup();
        f
    };
    let ours_now = super::open::local_open(cfg, false);
    let was = offered(&state.our_open);
    let now = offered(&ours_now);
    if was != now {
        return differs("families", format!("{was:?}"), format!("{now:?}"));
    }
    if state.our_open.hold_time != ours_now.hold_time {
        return differs(
            "hold time",
            state.our_open.hold_time.to_string(),
            ours_now.hold_time.to_string(),
        );
    }
    // Anything else the OPEN carries (graceful restart and its time, ...), as a
    // reload would restart the session for it; the Restart State bit aside (it
    // only says whether the process restarted), the order of the capabilities
    // too (families reordered in the file: a reload keeps the session).
    let (was_open, now_open) = (
        without_restart_bit(&state.our_open),
        without_restart_bit(&ours_now),
    );
    let same_caps = was_open.capabilities.len() == now_open.capabilities.len()
        && was_open
            .capabilities
            .iter()
            .all(|c| now_open.capabilities.contains(c))
        && now_open
            .capabilities
            .iter()
            .all(|c| was_open.capabilities.contains(c));
    let header = |o: &Open| (o.version, o.my_as, o.hold_time, o.router_id);
    if !same_caps || header(&was_open) != header(&now_open) {
        return differs(
            "our OPEN",
            format!("{:?}", state.our_open.capabilities),
            format!("{:?}", ours_now.capabilities),
        );
    }
    if let Some(want) = cfg.local_address {
        if want.to_canonical() != state.local.ip().to_canonical() {
            return differs(
                "local address",
                state.local.ip().to_string(),
                want.to_string(),
            );
        }
    }
    Ok(())
}

/// The socket is the session's: connected from the state's local address to
/// the neighbor, without a pending error.
fn validate_socket(
    cfg: &crate::config::NeighborConfig,
    state: &HandoverState,
    socket: &std::net::TcpStream,
) -> Result<(), Refusal> {
    let peer = socket
        .peer_addr()
        .map_err(|e| Refusal::Socket(format!("not connected: {e}")))?;
    if peer.ip().to_canonical() != cfg.address.to_canonical() || peer != state.remote {
        return Err(Refusal::Socket(format!(
            "connected to {peer}, the session was with {}",
            state.remote
        )));
    }
    let local = socket
        .local_addr()
        .map_err(|e| Refusal::Socket(format!("no local address: {e}")))?;
    if local != state.local {
        return Err(Refusal::Socket(format!(
            "local address {local}, the session's was {}",
            state.local
        )));
    }
    if let Ok(Some(e)) = socket.take_error() {
        return Err(Refusal::Socket(format!("socket error: {e}")));
    }
    Ok(())
}

/// 64-bit FNV-1a: detects corruption (not tampering: the state travels only
/// between two processes of one unit, through systemd).
fn fnv1a(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl HandoverState {
    /// The state as bytes.
    pub fn encode(&self) -> Result<Vec<u8>, HandoverError> {
        let mut w = Writer(Vec::with_capacity(4096));
        w.0.extend_from_slice(MAGIC);
        w.u16(VERSION);
        let len_at = w.0.len();
        w.u64(0);
        let body_start = w.0.len();
        w.ip(self.address);
        w.sockaddr(self.local);
        w.sockaddr(self.remote);
        w.u8(u8::from(self.outbound));
        w.u32(self.peer_as);
        w.u32(self.local_as);
        w.u32(u32::from(self.router_id));
        w.negotiated(&self.negotiated)?;
        w.message(&Message::Open(self.our_open.clone()))?;
        for t in [
            self.began,
            self.established,
            self.last_sent,
            self.last_received,
        ] {
            w.u64(t.0);
        }
        w.counters(&self.sent);
        w.counters(&self.received);
        if self.unread.len() > MAX_UNREAD {
            return Err(HandoverError::Encode("too many unread bytes".into()));
        }
        w.bytes(&self.unread);
        w.updates(&self.held)?;
        w.updates(&self.rib_in)?;
        let api = api_updates(&self.api_routes, &self.api_flows)?;
        w.u32(len_u32(api.len()));
        for (flags, m) in &api {
            w.u8(*flags);
            w.bytes(m);
        }
        if let Some(c) = &self.config {
            w.u8(SECTION_CONFIG);
            w.neighbor(c);
        }
        if !self.withdrawn_routes.is_empty() || !self.withdrawn_flows.is_empty() {
            let gone = api_updates(&self.withdrawn_routes, &self.withdrawn_flows)?;
            w.u8(SECTION_WITHDRAWN);
            w.u32(len_u32(gone.len()));
            for (flags, m) in &gone {
                w.u8(*flags);
                w.bytes(m);
            }
        }
        let body_len = (w.0.len() - body_start) as u64;
        w.0[len_at..len_at + 8].copy_from_slice(&body_len.to_be_bytes());
        let sum = fnv1a(&w.0);
        w.u64(sum);
        if w.0.len() > MAX_STATE {
            return Err(HandoverError::TooLarge(w.0.len()));
        }
        Ok(w.0)
    }

    /// A state from bytes: refused (never a panic) when it is not one, of another
    /// version, truncated, corrupted or inconsistent.
    pub fn decode(data: &[u8]) -> Result<HandoverState, HandoverError> {
        if data.len() > MAX_STATE {
            return Err(HandoverError::TooLarge(data.len()));
        }
        let mut r = Reader(data);
        if r.take(MAGIC.len(), "magic")? != MAGIC {
            return Err(HandoverError::Magic);
        }
        let version = r.u16("version")?;
        if version != VERSION {
            return Err(HandoverError::Version(version));
        }
        let body_len = usize::try_from(r.u64("body length")?)
            .map_err(|_| HandoverError::TooLarge(usize::MAX))?;
        let header = MAGIC.len() + 2 + 8;
        let body = r.take(body_len, "body")?;
        let sum = r.u64("checksum")?;
        if !r.0.is_empty() {
            return Err(HandoverError::Malformed("bytes after the checksum".into()));
        }
        if fnv1a(&data[..header + body_len]) != sum {
            return Err(HandoverError::Checksum);
        }
        let mut r = Reader(body);
        let address = r.ip()?;
        let local = r.sockaddr()?;
        let remote = r.sockaddr()?;
        let outbound = r.bool("outbound")?;
        let peer_as = r.u32("peer as")?;
        let local_as = r.u32("local as")?;
        let router_id = Ipv4Addr::from(r.u32("router id")?);
        let negotiated = r.negotiated()?;
        let our_open = match r.message()? {
            Message::Open(o) => o,
            _ => return Err(HandoverError::Malformed("our OPEN is not an OPEN".into())),
        };
        let began = MonoTime(r.u64("times")?);
        let established = MonoTime(r.u64("times")?);
        let last_sent = MonoTime(r.u64("times")?);
        let last_received = MonoTime(r.u64("times")?);
        let sent = r.counters()?;
        let received = r.counters()?;
        let unread = r.bytes("unread bytes")?;
        if unread.len() > MAX_UNREAD {
            return Err(HandoverError::Malformed("too many unread bytes".into()));
        }
        let unread = unread.to_vec();
        let held = r.updates()?;
        let rib_in = r.updates()?;
        let api = r.api_list("api routes")?;
        let mut gone = None;
        let mut config = None;
        for _ in 0..2 {
            if r.0.is_empty() {
                break;
            }
            match r.u8("section")? {
                SECTION_WITHDRAWN if gone.is_none() => gone = Some(r.api_list("withdrawn routes")?),
                SECTION_CONFIG if config.is_none() => config = Some(r.neighbor()?),
                t => {
                    return Err(HandoverError::Malformed(format!(
                        "section {t} not understood"
                    )))
                }
            }
        }
        let gone = gone.unwrap_or_default();
        if !r.0.is_empty() {
            return Err(HandoverError::Malformed(
                "bytes after the last field".into(),
            ));
        }
        let (api_routes, api_flows) = api_from_updates(api)?;
        let (withdrawn_routes, withdrawn_flows) = api_from_updates(gone)?;
        Ok(HandoverState {
            address,
            local,
            remote,
            outbound,
            peer_as,
            local_as,
            router_id,
            negotiated,
            our_open,
            began,
            established,
            last_sent,
            last_received,
            sent,
            received,
            unread,
            held,
            rib_in,
            api_routes,
            api_flows,
            withdrawn_routes,
            withdrawn_flows,
            config,
        })
    }
}

fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u32(len_u32(b.len()));
        self.0.extend_from_slice(b);
    }
    fn ip(&mut self, a: IpAddr) {
        match a {
            IpAddr::V4(v4) => {
                self.u8(4);
                self.0.extend_from_slice(&v4.octets());
            }
            IpAddr::V6(v6) => {
                self.u8(6);
                self.0.extend_from_slice(&v6.octets());
            }
        }
    }
    fn sockaddr(&mut self, a: SocketAddr) {
        self.ip(a.ip());
        self.u16(a.port());
    }
    fn family(&mut self, f: Family) {
        self.u16(f.afi.code());
        self.u8(f.safi.code());
    }
    fn negotiated(&mut self, n: &Negotiated) -> Result<(), HandoverError> {
        self.u16(n.hold_time);
        self.u8(u8::from(n.codec.four_octet_as));
        self.u8(u8::from(n.codec.extended_message));
        if n.families.len() > usize::from(u16::MAX) {
            return Err(HandoverError::Encode("too many families".into()));
        }
        self.u16(n.families.len() as u16);
        for f in &n.families {
            self.family(*f);
        }
        self.u8(u8::from(n.route_refresh));
        self.u32(u32::from(n.peer_router_id));
        self.u32(n.peer_as);
        match &n.graceful_restart {
            None => self.u8(0),
            Some(g) => {
                self.u8(1);
                self.u8(g.flags);
                self.u16(g.restart_time);
                if g.families.len() > usize::from(u16::MAX) {
                    return Err(HandoverError::Encode("too many families".into()));
                }
                self.u16(g.families.len() as u16);
                for (f, flags) in &g.families {
                    self.family(*f);
                    self.u8(*flags);
                }
            }
        }
        Ok(())
    }
    fn counters(&mut self, c: &MessageCounters) {
        for v in [
            c.open,
            c.update,
            c.notification,
            c.keepalive,
            c.route_refresh,
        ] {
            self.u64(v);
        }
    }
    fn message(&mut self, m: &Message) -> Result<(), HandoverError> {
        let mut out = Vec::new();
        bgp::encode_message(m, &STATE_CODEC, &mut out)
            .map_err(|e| HandoverError::Encode(e.to_string()))?;
        self.bytes(&out);
        Ok(())
    }
    fn opt_u32(&mut self, v: Option<u32>) {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                self.u32(v);
            }
        }
    }
    /// The settings a neighbor's session depends on (not its description).
    fn neighbor(&mut self, c: &crate::config::NeighborConfig) {
        self.ip(c.address);
        self.u32(c.peer_as);
        self.u32(c.local_as);
        self.u32(u32::from(c.router_id));
        match c.local_address {
            None => self.u8(0),
            Some(a) => {
                self.u8(1);
                self.ip(a);
            }
        }
        self.u16(c.port);
        self.u16(c.hold_time);
        self.u8(u8::from(c.passive));
        self.u32(len_u32(c.families.len()));
        for f in &c.families {
            self.family(*f);
        }
        match &c.md5_password {
            None => self.u8(0),
            Some(k) => {
                self.u8(1);
                self.bytes(k.as_bytes());
            }
        }
        match &c.max_prefix {
            None => self.u8(0),
            Some(m) => {
                self.u8(1);
                self.u32(len_u32(m.limits.len()));
                for (f, n) in &m.limits {
                    self.family(*f);
                    self.u32(*n);
                }
                self.u8(u8::from(m.warning_only));
                self.opt_u32(m.restart_after);
                self.opt_u32(m.warning_threshold.map(u32::from));
            }
        }
        self.opt_u32(c.graceful_restart.map(u32::from));
    }
    fn updates(&mut self, us: &[Update]) -> Result<(), HandoverError> {
        self.u32(len_u32(us.len()));
        for u in us {
            self.message(&Message::Update(u.clone()))?;
        }
        Ok(())
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], HandoverError> {
        if self.0.len() < n {
            return Err(HandoverError::Truncated(what));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], HandoverError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }
    fn u8(&mut self, what: &'static str) -> Result<u8, HandoverError> {
        Ok(self.array::<1>(what)?[0])
    }
    fn bool(&mut self, what: &'static str) -> Result<bool, HandoverError> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(HandoverError::Malformed(format!(
                "{what}: {v} is not a boolean"
            ))),
        }
    }
    fn u16(&mut self, what: &'static str) -> Result<u16, HandoverError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, HandoverError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }
    fn u64(&mut self, what: &'static str) -> Result<u64, HandoverError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }
    fn bytes(&mut self, what: &'static str) -> Result<&'a [u8], HandoverError> {
        let n = self.u32(what)? as usize;
        self.take(n, what)
    }
    fn ip(&mut self) -> Result<IpAddr, HandoverError> {
        match self.u8("address")? {
            4 => Ok(IpAddr::V4(Ipv4Addr::from(self.array::<4>("address")?))),
            6 => Ok(IpAddr::V6(Ipv6Addr::from(self.array::<16>("address")?))),
            v => Err(HandoverError::Malformed(format!("address kind {v}"))),
        }
    }
    fn sockaddr(&mut self) -> Result<SocketAddr, HandoverError> {
        let ip = self.ip()?;
        Ok(SocketAddr::new(ip, self.u16("port")?))
    }
    fn family(&mut self) -> Result<Family, HandoverError> {
        let afi = self.u16("family")?;
        Ok(Family::from_codes(afi, self.u8("family")?))
    }
    fn negotiated(&mut self) -> Result<Negotiated, HandoverError> {
        let hold_time = self.u16("hold time")?;
        let codec = CodecOptions {
            four_octet_as: self.bool("codec")?,
            extended_message: self.bool("codec")?,
        };
        let n = usize::from(self.u16("families")?);
        let mut families = Vec::with_capacity(n.min(self.0.len() / 3));
        for _ in 0..n {
            families.push(self.family()?);
        }
        let route_refresh = self.bool("route refresh")?;
        let peer_router_id = Ipv4Addr::from(self.u32("peer router id")?);
        let peer_as = self.u32("peer as")?;
        let graceful_restart = if self.bool("graceful restart")? {
            let flags = self.u8("graceful restart")?;
            let restart_time = self.u16("graceful restart")?;
            let n = usize::from(self.u16("graceful restart")?);
            let mut fams = Vec::with_capacity(n.min(self.0.len() / 4));
            for _ in 0..n {
                let f = self.family()?;
                fams.push((f, self.u8("graceful restart")?));
            }
            Some(GracefulRestart {
                flags,
                restart_time,
                families: fams,
            })
        } else {
            None
        };
        Ok(Negotiated {
            hold_time,
            codec,
            families,
            route_refresh,
            peer_router_id,
            peer_as,
            graceful_restart,
        })
    }
    fn counters(&mut self) -> Result<MessageCounters, HandoverError> {
        Ok(MessageCounters {
            open: self.u64("counters")?,
            update: self.u64("counters")?,
            notification: self.u64("counters")?,
            keepalive: self.u64("counters")?,
            route_refresh: self.u64("counters")?,
        })
    }
    /// One whole BGP message, which must fill its field exactly.
    fn message(&mut self) -> Result<Message, HandoverError> {
        let b = self.bytes("message")?;
        match bgp::decode_message(b, &STATE_CODEC) {
            Ok(Some((m, used))) if used == b.len() => Ok(m),
            Ok(_) => Err(HandoverError::Malformed("a stored message is cut".into())),
            Err(e) => Err(HandoverError::Malformed(format!("a stored message: {e}"))),
        }
    }
    fn opt_u32(&mut self, what: &'static str) -> Result<Option<u32>, HandoverError> {
        Ok(if self.bool(what)? {
            Some(self.u32(what)?)
        } else {
            None
        })
    }
    fn neighbor(&mut self) -> Result<crate::config::NeighborConfig, HandoverError> {
        let bad = |what: &str| HandoverError::Malformed(format!("neighbor settings: {what}"));
        let address = self.ip()?;
        let peer_as = self.u32("peer as")?;
        let local_as = self.u32("local as")?;
        let router_id = Ipv4Addr::from(self.u32("router id")?);
        let local_address = if self.bool("local address")? {
            Some(self.ip()?)
        } else {
            None
        };
        let port = self.u16("port")?;
        let hold_time = self.u16("hold time")?;
        let passive = self.bool("passive")?;
        let n = self.u32("families")? as usize;
        if n > self.0.len() / 3 {
            return Err(HandoverError::Truncated("families"));
        }
        let families = (0..n)
            .map(|_| self.family())
            .collect::<Result<Vec<_>, _>>()?;
        let md5_password = if self.bool("md5")? {
            let k = self.bytes("md5")?;
            Some(String::from_utf8(k.to_vec()).map_err(|_| bad("md5 password"))?)
        } else {
            None
        };
        let max_prefix = if self.bool("max prefix")? {
            let n = self.u32("max prefix")? as usize;
            if n > self.0.len() / 7 {
                return Err(HandoverError::Truncated("max prefix"));
            }
            let limits = (0..n)
                .map(|_| Ok((self.family()?, self.u32("max prefix")?)))
                .collect::<Result<Vec<_>, HandoverError>>()?;
            let warning_only = self.bool("max prefix")?;
            let restart_after = self.opt_u32("max prefix")?;
            let warning_threshold = match self.opt_u32("max prefix")? {
                None => None,
                Some(t) => Some(u8::try_from(t).map_err(|_| bad("warning threshold"))?),
            };
            Some(crate::config::MaxPrefix {
                limits,
                warning_only,
                restart_after,
                warning_threshold,
            })
        } else {
            None
        };
        let graceful_restart = match self.opt_u32("graceful restart")? {
            None => None,
            Some(t) => Some(u16::try_from(t).map_err(|_| bad("graceful restart"))?),
        };
        Ok(crate::config::NeighborConfig {
            address,
            peer_as,
            local_as,
            router_id,
            local_address,
            port,
            hold_time,
            passive,
            families,
            md5_password,
            description: None,
            max_prefix,
            graceful_restart,
        })
    }
    /// A list of routes stored as configured: (flags, UPDATE) pairs.
    fn api_list(&mut self, what: &'static str) -> Result<Vec<(u8, Update)>, HandoverError> {
        let count = self.u32(what)? as usize;
        let mut api = Vec::with_capacity(count.min(self.0.len() / 5));
        for _ in 0..count {
            let flags = self.u8(what)?;
            match self.message()? {
                Message::Update(u) => api.push((flags, u)),
                _ => {
                    return Err(HandoverError::Malformed(format!(
                        "one of the {what} is not an UPDATE"
                    )))
                }
            }
        }
        Ok(api)
    }
    fn updates(&mut self) -> Result<Vec<Update>, HandoverError> {
        let n = self.u32("updates")? as usize;
        // A message is at least 23 octets (with its 4-octet length): no more
        // than that many can be in what remains.
        let mut v = Vec::with_capacity(n.min(self.0.len() / 23));
        for _ in 0..n {
            match self.message()? {
                Message::Update(u) if u.treat_as_withdraw.is_none() => v.push(u),
                _ => {
                    return Err(HandoverError::Malformed(
                        "a stored route is not a valid UPDATE".into(),
                    ))
                }
            }
        }
        Ok(v)
    }
}

/// An address of `family` that stands for "next hop self" in a stored API route.
fn placeholder(family: Family) -> IpAddr {
    if family == Family::IPV6_UNICAST {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    }
}

/// Fills in ORIGIN and AS_PATH when absent; the flags say which were.
fn complete(attrs: &PathAttributes) -> (u8, PathAttributes) {
    let mut a = attrs.clone();
    let mut flags = 0;
    if a.origin.is_none() {
        a.origin = Some(bgp::Origin::Igp);
        flags |= API_NO_ORIGIN;
    }
    if a.as_path.is_none() {
        a.as_path = Some(bgp::AsPath::default());
        flags |= API_NO_AS_PATH;
    }
    (flags, a)
}

/// The API's routes and flow rules as flagged UPDATE messages.
fn api_updates(routes: &[Route], flows: &[FlowRoute]) -> Result<Vec<(u8, Vec<u8>)>, HandoverError> {
    let mut out = Vec::new();
    // Routes sharing attributes and next hop in one message when they can.
    let mut groups: Vec<(&Arc<PathAttributes>, NextHop, Family, Vec<Prefix>)> = Vec::new();
    for r in routes {
        let f = r.prefix.family();
        match groups
            .iter_mut()
            .rev()
            .take(1)
            .find(|(a, nh, fam, _)| Arc::ptr_eq(a, &r.attributes) && *nh == r.next_hop && *fam == f)
        {
            Some(g) => g.3.push(r.prefix),
            None => groups.push((&r.attributes, r.next_hop, f, vec![r.prefix])),
        }
    }
    for (attrs, nh, family, prefixes) in groups {
        let (mut flags, a) = complete(attrs);
        let hop = match nh {
            NextHop::SelfAddress => {
                flags |= API_NEXT_HOP_SELF;
                placeholder(family)
            }
            NextHop::Address(h) => h,
        };
        let mut msgs = Vec::new();
        bgp::pack_announce(&a, family, &[hop], &prefixes, &STATE_CODEC, &mut msgs)
            .map_err(|e| HandoverError::Encode(format!("API route: {e}")))?;
        out.extend(msgs.into_iter().map(|m| (flags, m)));
    }
    for r in flows {
        let (flags, mut a) = complete(&r.attributes);
        a.flow_reach = Some(FlowReach {
            family: r.family(),
            next_hops: r.next_hop.into_iter().collect(),
            nlri: vec![r.nlri.clone()],
        });
        let u = Update {
            attributes: a,
            ..Default::default()
        };
        let mut m = Vec::new();
        bgp::encode_message(&Message::Update(u), &STATE_CODEC, &mut m)
            .map_err(|e| HandoverError::Encode(format!("API flow rule: {e}")))?;
        out.push((flags, m));
    }
    Ok(out)
}

/// The routes and flow rules of flagged UPDATEs (the inverse of [`api_updates`]).
fn api_from_updates(
    updates: Vec<(u8, Update)>,
) -> Result<(Vec<Route>, Vec<FlowRoute>), HandoverError> {
    let mut routes = Vec::new();
    let mut flows = Vec::new();
    for (flags, u) in updates {
        let mut a = u.attributes;
        if flags & API_NO_ORIGIN != 0 {
            a.origin = None;
        }
        if flags & API_NO_AS_PATH != 0 {
            a.as_path = None;
        }
        let self_hop = flags & API_NEXT_HOP_SELF != 0;
        let classic_hop = a.next_hop.take();
        let mp = a.mp_reach.take();
        let flow = a.flow_reach.take();
        a.mp_unreach = None;
        a.flow_unreach = None;
        let attributes = Arc::new(a);
        let hop = |h: Option<IpAddr>| -> Result<NextHop, HandoverError> {
            if self_hop {
                return Ok(NextHop::SelfAddress);
            }
            h.map(NextHop::Address)
                .ok_or_else(|| HandoverError::Malformed("API route without next hop".into()))
        };
        if !u.nlri.is_empty() {
            let nh = hop(classic_hop.map(IpAddr::V4))?;
            for p in u.nlri {
                routes.push(Route {
                    prefix: p,
                    next_hop: nh,
                    attributes: Arc::clone(&attributes),
                });
            }
        }
        if let Some(MpReach {
            next_hops, nlri, ..
        }) = mp
        {
            let nh = hop(next_hops.first().copied())?;
            for p in nlri {
                routes.push(Route {
                    prefix: p,
                    next_hop: nh,
                    attributes: Arc::clone(&attributes),
                });
            }
        }
        if let Some(f) = flow {
            for nlri in f.nlri {
                flows.push(FlowRoute {
                    nlri,
                    next_hop: f.next_hops.first().copied(),
                    attributes: Arc::clone(&attributes),
                });
            }
        }
    }
    Ok((routes, flows))
}

/// UPDATEs that rebuild `rib` with [`AdjRibIn::apply`] (stale marks are not
/// carried: a route kept as stale comes back fresh). A set of routes the codec
/// cannot encode again is left out and counted in the second value.
pub fn rib_in_updates(rib: &AdjRibIn) -> (Vec<Update>, usize) {
    type Key = (usize, Option<IpAddr>, Family);
    let mut groups: std::collections::HashMap<Key, (Arc<PathAttributes>, Vec<Prefix>)> =
        std::collections::HashMap::new();
    for (p, e) in rib.iter() {
        groups
            .entry((Arc::as_ptr(&e.attributes) as usize, e.next_hop, p.family()))
            .or_insert_with(|| (Arc::clone(&e.attributes), Vec::new()))
            .1
            .push(*p);
    }
    let mut out = Vec::new();
    let mut lost = 0;
    for ((_, hop, family), (attrs, prefixes)) in groups {
        let build = |chunk: &[Prefix]| {
            let mut a = (*attrs).clone();
            let mut u = Update::default();
            match hop {
                Some(IpAddr::V4(h)) if family == Family::IPV4_UNICAST => {
                    a.next_hop = Some(h);
                    u.nlri = chunk.to_vec();
                }
                _ => {
                    a.mp_reach = Some(MpReach {
                        family,
                        next_hops: hop.into_iter().collect(),
                        nlri: chunk.to_vec(),
                    });
                }
            }
            u.attributes = a;
            u
        };
        lost += split_fit(&prefixes, build, &mut out);
    }
    for (nlri, attrs) in rib.flows() {
        let mut a = (**attrs).clone();
        a.flow_reach = Some(FlowReach {
            family: nlri.family(),
            next_hops: Vec::new(),
            nlri: vec![nlri.clone()],
        });
        let u = Update {
            attributes: a,
            ..Default::default()
        };
        lost += split_fit(&[()], |_| u.clone(), &mut out);
    }
    (out, lost)
}

/// Pushes `build(items)` when it encodes, else halves the items until each
/// part does; returns how many items could not be encoded at all.
fn split_fit<T>(items: &[T], build: impl Fn(&[T]) -> Update, out: &mut Vec<Update>) -> usize {
    let mut lost = 0;
    let mut todo: Vec<&[T]> = vec![items];
    while let Some(part) = todo.pop() {
        if part.is_empty() {
            continue;
        }
        let u = build(part);
        let mut bytes = Vec::new();
        match bgp::encode_message(&Message::Update(u.clone()), &STATE_CODEC, &mut bytes) {
            Ok(()) => match bgp::decode_message(&bytes, &STATE_CODEC) {
                // Stored only when it reads back as a valid UPDATE.
                Ok(Some((Message::Update(d), _))) if d.treat_as_withdraw.is_none() => out.push(u),
                _ => lost += part.len(),
            },
            Err(bgp::EncodeError::TooLong { .. }) if part.len() > 1 => {
                let (a, b) = part.split_at(part.len() / 2);
                todo.push(a);
                todo.push(b);
            }
            Err(_) => lost += part.len(),
        }
    }
    lost
}

/// The routes of a held UPDATE in a form to compare: per prefix, the next hops
/// and the attributes without NEXT_HOP and MP_*; per flow rule the same.
pub type WireForm = (Vec<IpAddr>, PathAttributes);

/// The prefixes and the flow rules of one UPDATE, each with its [`WireForm`].
pub type WireForms = (Vec<(Prefix, WireForm)>, Vec<(FlowNlri, WireForm)>);

/// Splits `u` into its announced prefixes and flow rules with their wire form.
pub fn wire_forms(u: &Update) -> WireForms {
    let mut a = u.attributes.clone();
    let classic = a.next_hop.take();
    let mp = a.mp_reach.take();
    let flow = a.flow_reach.take();
    a.mp_unreach = None;
    a.flow_unreach = None;
    let mut routes = Vec::new();
    for p in &u.nlri {
        routes.push((
            *p,
            (classic.map(IpAddr::V4).into_iter().collect(), a.clone()),
        ));
    }
    if let Some(m) = mp {
        for p in m.nlri {
            routes.push((p, (m.next_hops.clone(), a.clone())));
        }
    }
    let mut flows = Vec::new();
    if let Some(f) = flow {
        for n in f.nlri {
            flows.push((n, (f.next_hops.clone(), a.clone())));
        }
    }
    (routes, flows)
}

/// `u` as it reads back from the codec (what a held UPDATE is compared with).
pub fn through_codec(u: &Update) -> Option<Update> {
    let mut bytes = Vec::new();
    bgp::encode_message(&Message::Update(u.clone()), &STATE_CODEC, &mut bytes).ok()?;
    match bgp::decode_message(&bytes, &STATE_CODEC) {
        Ok(Some((Message::Update(d), _))) => Some(d),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp::{AsPath, Capability, Origin};

    fn attrs(med: u32) -> Arc<PathAttributes> {
        Arc::new(PathAttributes {
            med: Some(med),
            communities: vec![bgp::Community(65000 << 16 | 1)],
            ..Default::default()
        })
    }

    pub(crate) fn sample() -> HandoverState {
        let a = attrs(5);
        let wire = PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::sequence(vec![65001])),
            next_hop: Some("192.0.2.1".parse().unwrap()),
            med: Some(5),
            ..Default::default()
        };
        let held = Update {
            attributes: wire.clone(),
            nlri: vec![
                "10.0.0.0/24".parse().unwrap(),
                "10.0.1.0/24".parse().unwrap(),
            ],
            ..Default::default()
        };
        let flow = FlowRoute {
            nlri: FlowNlri {
                rd: None,
                rule: bgp::FlowRule::parse("destination 10.9.0.1/32", None).unwrap(),
            },
            next_hop: None,
            attributes: attrs(7),
        };
        HandoverState {
            address: "127.0.0.2".parse().unwrap(),
            local: "127.0.0.1:40000".parse().unwrap(),
            remote: "127.0.0.2:179".parse().unwrap(),
            outbound: true,
            peer_as: 65000,
            local_as: 65001,
            router_id: "192.0.2.1".parse().unwrap(),
            negotiated: Negotiated {
                hold_time: 90,
                codec: CodecOptions {
                    four_octet_as: true,
                    extended_message: false,
                },
                families: vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST],
                route_refresh: true,
                peer_router_id: "192.0.2.254".parse().unwrap(),
                peer_as: 65000,
                graceful_restart: Some(GracefulRestart {
                    flags: 0,
                    restart_time: 120,
                    families: vec![(Family::IPV4_UNICAST, 0x80)],
                }),
            },
            our_open: Open {
                version: 4,
                my_as: 65001,
                hold_time: 90,
                router_id: "192.0.2.1".parse().unwrap(),
                capabilities: vec![
                    Capability::Multiprotocol(Family::IPV4_UNICAST),
                    Capability::RouteRefresh,
                    Capability::FourOctetAs(65001),
                ],
            },
            began: MonoTime(5_000),
            established: MonoTime(1_000),
            last_sent: MonoTime(4_000),
            last_received: MonoTime(4_500),
            sent: MessageCounters {
                open: 1,
                update: 3,
                keepalive: 9,
                ..Default::default()
            },
            received: MessageCounters {
                open: 1,
                update: 2,
                keepalive: 8,
                ..Default::default()
            },
            unread: vec![0xff; 7],
            held: vec![held.clone()],
            rib_in: vec![held],
            api_routes: vec![
                Route {
                    prefix: "10.7.0.0/24".parse().unwrap(),
                    next_hop: NextHop::SelfAddress,
                    attributes: Arc::clone(&a),
                },
                Route {
                    prefix: "2001:db8:7::/48".parse().unwrap(),
                    next_hop: NextHop::Address("2001:db8::1".parse().unwrap()),
                    attributes: Arc::new(PathAttributes {
                        origin: Some(Origin::Egp),
                        as_path: Some(AsPath::sequence(vec![65010])),
                        ..Default::default()
                    }),
                },
            ],
            api_flows: vec![flow],
            withdrawn_routes: vec![],
            withdrawn_flows: vec![],
            config: None,
        }
    }

    /// Withdrawn configured routes and flow rules are carried after the API
    /// routes; a state without them has no such section (it reads as an
    /// earlier build's state).
    #[test]
    fn withdrawn_routes_round_trip_and_are_optional() {
        let s = sample();
        let without = s.encode().unwrap();
        let mut w = s.clone();
        w.withdrawn_routes = vec![s.api_routes[1].clone()];
        w.withdrawn_flows = s.api_flows.clone();
        let with = w.encode().unwrap();
        assert!(with.len() > without.len());
        assert_eq!(HandoverState::decode(&with).unwrap(), w);
        assert_eq!(HandoverState::decode(&without).unwrap(), s);
    }

    #[test]
    fn round_trip() {
        let s = sample();
        let bytes = s.encode().unwrap();
        let back = HandoverState::decode(&bytes).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn every_truncation_is_refused() {
        let bytes = sample().encode().unwrap();
        for n in 0..bytes.len() {
            assert!(
                HandoverState::decode(&bytes[..n]).is_err(),
                "truncated at {n} accepted"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(HandoverState::decode(&longer).is_err());
    }

    /// Every single flipped byte is refused (the checksum covers everything
    /// before it, and a flip in the checksum no longer matches).
    #[test]
    fn every_flipped_byte_is_refused() {
        let s = sample();
        let bytes = s.encode().unwrap();
        for i in 0..bytes.len() {
            for bit in [0x01u8, 0x80] {
                let mut b = bytes.clone();
                b[i] ^= bit;
                match HandoverState::decode(&b) {
                    Err(_) => {}
                    Ok(d) => panic!("flip at {i} accepted: {d:?}"),
                }
            }
        }
    }

    #[test]
    fn unknown_version_and_magic_are_refused() {
        let mut bytes = sample().encode().unwrap();
        bytes[8..10].copy_from_slice(&2u16.to_be_bytes());
        assert_eq!(
            HandoverState::decode(&bytes),
            Err(HandoverError::Version(2))
        );
        let mut bytes = sample().encode().unwrap();
        bytes[0] = b'X';
        assert_eq!(HandoverState::decode(&bytes), Err(HandoverError::Magic));
    }

    /// A length field claiming far more than the state holds allocates nothing
    /// and is refused (here with a valid checksum, so the body's bounds are what
    /// refuses it).
    #[test]
    fn huge_counts_with_a_valid_checksum_are_refused() {
        let mut bytes = sample().encode().unwrap();
        let body_end = bytes.len() - 8;
        // The API route count is the last u32 before the API routes: rewrite the
        // body so that the count claims 4 billion routes.
        let s = sample();
        let mut empty = s.clone();
        empty.api_routes.clear();
        empty.api_flows.clear();
        let e = empty.encode().unwrap();
        let count_at = e.len() - 8 - 4;
        bytes.truncate(body_end);
        bytes[count_at..count_at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        let sum = fnv1a(&bytes);
        bytes.extend_from_slice(&sum.to_be_bytes());
        assert!(matches!(
            HandoverState::decode(&bytes),
            Err(HandoverError::Truncated(_) | HandoverError::Malformed(_))
        ));
    }

    /// A state validates against the configuration it was made with and a
    /// socket of the session; each change a reload would restart the session
    /// for is refused, and so is another socket.
    #[test]
    fn validate_refuses_what_changed() {
        use crate::config::NeighborConfig;
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let ours = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (theirs, _) = l.accept().unwrap();
        let cfg = NeighborConfig {
            address: "127.0.0.1".parse().unwrap(),
            peer_as: 65000,
            local_as: 65001,
            router_id: "192.0.2.1".parse().unwrap(),
            local_address: None,
            port: l.local_addr().unwrap().port(),
            hold_time: 90,
            passive: false,
            families: vec![Family::IPV4_UNICAST],
            md5_password: None,
            description: Some("shown only".into()),
            max_prefix: None,
            graceful_restart: Some(120),
        };
        let mut state = sample();
        state.address = cfg.address;
        state.local = ours.local_addr().unwrap();
        state.remote = ours.peer_addr().unwrap();
        state.our_open = super::super::open::local_open(&cfg, true);
        assert_eq!(validate(&cfg, &state, &ours), Ok(()));
        let config = |f: &dyn Fn(&mut NeighborConfig)| {
            let mut c = cfg.clone();
            f(&mut c);
            c
        };
        let changed: Vec<NeighborConfig> = vec![
            config(&|c| c.peer_as = 65099),
            config(&|c| c.local_as = 65098),
            config(&|c| c.router_id = "192.0.2.9".parse().unwrap()),
            config(&|c| c.families.push(Family::IPV6_UNICAST)),
            config(&|c| c.hold_time = 30),
            config(&|c| c.graceful_restart = None),
            config(&|c| c.local_address = Some("127.0.0.9".parse().unwrap())),
        ];
        for c in &changed {
            assert!(
                matches!(validate(c, &state, &ours), Err(Refusal::Config(_))),
                "{c:?}"
            );
        }
        // The other end of the connection is not our side of the session.
        assert!(matches!(
            validate(&cfg, &state, &theirs),
            Err(Refusal::Socket(_))
        ));
    }

    /// With the settings in the state, adoption follows the reload rule
    /// (`config::must_restart`): families in another order, or a new
    /// description, keep the session; a change of max-prefix, MD5 key or port
    /// (which a reload restarts the session for) refuses it. A state of an
    /// earlier build (no settings) compares our OPEN, its capabilities as a set.
    #[test]
    fn validate_follows_the_reload_rule() {
        use crate::config::{MaxPrefix, NeighborConfig};
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let ours = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let _theirs = l.accept().unwrap();
        let cfg = NeighborConfig {
            address: "127.0.0.1".parse().unwrap(),
            peer_as: 65000,
            local_as: 65001,
            router_id: "192.0.2.1".parse().unwrap(),
            local_address: None,
            port: l.local_addr().unwrap().port(),
            hold_time: 90,
            passive: false,
            families: vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST],
            md5_password: None,
            description: None,
            max_prefix: Some(MaxPrefix {
                limits: vec![(Family::IPV4_UNICAST, 100)],
                warning_only: false,
                restart_after: None,
                warning_threshold: None,
            }),
            graceful_restart: Some(120),
        };
        let mut state = sample();
        state.address = cfg.address;
        state.local = ours.local_addr().unwrap();
        state.remote = ours.peer_addr().unwrap();
        state.our_open = super::super::open::local_open(&cfg, true);
        state.config = Some(cfg.clone());
        // Through the byte format, as adoption gets it.
        let state = HandoverState::decode(&state.encode().unwrap()).unwrap();
        assert_eq!(state.config, Some(cfg.clone()));
        let config = |f: &dyn Fn(&mut NeighborConfig)| {
            let mut c = cfg.clone();
            f(&mut c);
            c
        };
        let reordered = config(&|c| {
            c.families.reverse();
            c.description = Some("rack 2".into());
        });
        assert_eq!(validate(&reordered, &state, &ours), Ok(()));
        for c in [
            config(&|c| c.max_prefix = None),
            config(&|c| {
                if let Some(m) = &mut c.max_prefix {
                    m.limits[0].1 = 10;
                }
            }),
            config(&|c| c.md5_password = Some("secret".into())),
            config(&|c| c.port = 1179),
            config(&|c| c.passive = true),
            config(&|c| c.hold_time = 30),
        ] {
            match validate(&c, &state, &ours) {
                Err(Refusal::Config(why)) => assert!(!why.contains("secret"), "{why}"),
                other => panic!("{c:?}: {other:?}"),
            }
        }
        // A state of an earlier build: families reordered still keep it.
        let mut old = state.clone();
        old.config = None;
        assert_eq!(validate(&reordered, &old, &ours), Ok(()));
    }

    #[test]
    fn monotonic_time_converts_both_ways() {
        let at = Instant::now() - Duration::from_millis(1500);
        let m = MonoTime::from_instant(at);
        assert!(m.elapsed() >= Duration::from_millis(1500));
        let back = m.to_instant();
        let diff = if back > at { back - at } else { at - back };
        assert!(diff < Duration::from_millis(50), "{diff:?}");
    }

    #[test]
    fn rib_in_is_rebuilt_from_its_updates() {
        let mut rib = AdjRibIn::new();
        let s = sample();
        rib.apply(&s.held[0]);
        let v6 = Update {
            attributes: PathAttributes {
                origin: Some(Origin::Igp),
                as_path: Some(AsPath::sequence(vec![65000])),
                mp_reach: Some(MpReach {
                    family: Family::IPV6_UNICAST,
                    next_hops: vec!["2001:db8::9".parse().unwrap()],
                    nlri: vec!["2001:db8:9::/48".parse().unwrap()],
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        rib.apply(&v6);
        let (updates, lost) = rib_in_updates(&rib);
        assert_eq!(lost, 0);
        let mut back = AdjRibIn::new();
        for u in &updates {
            back.apply(u);
        }
        assert_eq!(back.len(), 3);
        for (p, e) in rib.iter() {
            assert_eq!(back.get(p), Some(e), "{p}");
        }
    }
}
