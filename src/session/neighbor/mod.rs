//! One neighbor: the task that owns its FSM, its TCP connection and its Adj-RIBs.
//!
//! The task alternates between two phases:
//! - getting a connection (Idle -> Active/Connect): wait for the ConnectRetry timer
//!   (exponential backoff on repeated failures) while accepting an incoming
//!   connection the daemon hands over, then try to connect (never when passive);
//! - running it (OpenSent -> OpenConfirm -> Established): one `select!` over the
//!   socket, the Hold and Keepalive timers and the command channel, each input
//!   handled by a plain `match` on the state with the RFC 4271 event in a comment.
//!
//! Nothing here blocks another neighbor: every neighbor is its own task.

mod acquire;
mod collision;
mod commands;
mod established;
mod events;
mod handshake;
mod status;
mod wire;

pub use status::describe_config;

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::Sleep;
use tracing::{debug, info, warn};

use super::open::{self, Negotiated};
use crate::bgp::{self, CodecOptions, Message, Notification, Open, Prefix};
use crate::config::NeighborConfig;
use crate::control::{
    Direction, Event, EventKind, MessageCounters, NeighborStatus, PeerState, RibDirection,
    RibEntry, SessionState,
};
use crate::rib::{AdjRibIn, AdjRibOut, Route};
use wire::{count, describe};

/// Hold time while waiting for the peer's OPEN (RFC 4271 §8: "a large value", 4 min).
const OPEN_HOLD: Duration = Duration::from_secs(240);
/// Cease subcodes (RFC 4486).
pub const CEASE: u8 = 6;
pub const CEASE_ADMIN_SHUTDOWN: u8 = 2;
pub const CEASE_PEER_DECONFIGURED: u8 = 3;
pub const CEASE_ADMIN_RESET: u8 = 4;
pub const CEASE_CONFIG_CHANGE: u8 = 6;
pub const CEASE_COLLISION: u8 = 7;
/// Finite State Machine Error (RFC 6608): unexpected message in OpenSent /
/// OpenConfirm / Established.
const FSM_ERROR: u8 = 5;

/// What the daemon asks of a neighbor task.
#[derive(Debug)]
pub enum NeighborCommand {
    Announce(Vec<Route>),
    Withdraw(Vec<Prefix>),
    /// Re-send the whole Adj-RIB-Out.
    FlushOut,
    ClearIn,
    /// Withdraw everything we announced.
    ClearOut,
    /// Send a Cease with this subcode, drop the session, reconnect as usual.
    Teardown(u8),
    Status(oneshot::Sender<NeighborStatus>),
    Rib(RibDirection, oneshot::Sender<Vec<RibEntry>>),
    /// A connection from this peer, accepted by the daemon's listener.
    Incoming(TcpStream),
    /// Send Cease (subcode, RFC 8203 text) if a session exists, then end the task.
    Stop {
        subcode: u8,
        text: String,
        done: oneshot::Sender<()>,
    },
}

/// How a session ended.
enum End {
    /// The task must end.
    Stop,
    /// Session down; reconnect as usual.
    Down(String),
    /// Collision resolved in favour of this newer incoming connection.
    Switch(TcpStream, String),
}

/// What handling one input asks the session loop to do.
enum Flow {
    Continue,
    End(End),
}

/// One live TCP connection and what was negotiated on it.
struct Conn {
    wr: OwnedWriteHalf,
    opts: CodecOptions,
    outbound: bool,
    local: SocketAddr,
    our_open: Open,
    negotiated: Option<Negotiated>,
    hold: Pin<Box<Sleep>>,
    hold_for: Option<Duration>,
    keepalive: Pin<Box<Sleep>>,
    keepalive_every: Option<Duration>,
    /// An incoming connection that arrived in OpenSent, kept until the peer's
    /// identifier is known and the collision can be resolved (RFC 4271 §6.8).
    pending_incoming: Option<TcpStream>,
}

/// The state owned by one neighbor task.
pub struct Neighbor {
    cfg: NeighborConfig,
    rib_out: AdjRibOut,
    rib_in: AdjRibIn,
    events: broadcast::Sender<Event>,
    rx: mpsc::UnboundedReceiver<NeighborCommand>,
    state: PeerState,
    sent: MessageCounters,
    received: MessageCounters,
    last_error: Option<String>,
    established_at: Option<Instant>,
    peer_router_id: Option<std::net::Ipv4Addr>,
    local_addr: Option<IpAddr>,
    negotiated: Option<Negotiated>,
    /// Consecutive failures, for the ConnectRetry backoff; reset when Established.
    failures: u32,
    /// Whether the Adj-RIB-Out changed since the last send.
    dirty: bool,
}

fn far_future() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(86400 * 365)
}

impl Neighbor {
    pub fn new<'a>(
        cfg: NeighborConfig,
        routes: impl IntoIterator<Item = &'a Route>,
        count: usize,
        events: broadcast::Sender<Event>,
        rx: mpsc::UnboundedReceiver<NeighborCommand>,
    ) -> Neighbor {
        let mut rib_out = AdjRibOut::with_capacity(count);
        for r in routes {
            rib_out.announce(r);
        }
        Neighbor {
            cfg,
            rib_out,
            rib_in: AdjRibIn::new(),
            events,
            rx,
            state: PeerState::Idle,
            sent: MessageCounters::default(),
            received: MessageCounters::default(),
            last_error: None,
            established_at: None,
            peer_router_id: None,
            local_addr: None,
            negotiated: None,
            failures: 0,
            dirty: false,
        }
    }

    /// The task body: runs until Stop or until the command channel closes.
    pub async fn run(mut self) {
        let mut next: Option<(TcpStream, bool)> = None;
        loop {
            let (stream, outbound) = match next.take() {
                Some(c) => c,
                None => match self.acquire().await {
                    Some(c) => c,
                    None => return,
                },
            };
            let (end, pending) = self.session(stream, outbound).await;
            match end {
                End::Stop => {
                    self.down("stopped");
                    return;
                }
                End::Down(reason) => {
                    self.down(&reason);
                    next = pending.map(|s| (s, false));
                }
                End::Switch(stream, reason) => {
                    self.down(&reason);
                    next = Some((stream, false));
                }
            }
        }
    }

    fn set_state(&mut self, s: PeerState) {
        if self.state != s {
            debug!(peer = %self.cfg.address, from = self.state.as_str(), to = s.as_str(), "state change");
            self.state = s;
        }
    }

    /// Session went down (or never came up): forget what the peer sent, plan a full
    /// re-send for the next session.
    fn down(&mut self, reason: &str) {
        let was_up = self.state == PeerState::Established;
        if was_up {
            // Field names follow system::logging (journald): PEER_ADDRESS, PEER_AS, BGP_STATE.
            warn!(
                MESSAGE_ID = crate::system::logging::MSG_SESSION_DOWN,
                PEER_ADDRESS = %self.cfg.address,
                PEER_AS = self.cfg.peer_as,
                BGP_STATE = "idle",
                reason,
                "session with {} down: {reason}",
                self.cfg.address
            );
        } else {
            info!(peer = %self.cfg.address, reason, "connection closed");
        }
        self.emit(
            Direction::Receive,
            EventKind::State {
                state: SessionState::Down,
                reason: Some(reason.to_string()),
            },
        );
        self.rib_in.clear();
        self.rib_out.resend_all();
        self.negotiated = None;
        self.established_at = None;
        self.last_error = Some(reason.to_string());
        self.failures = self.failures.saturating_add(1);
        self.set_state(PeerState::Idle);
    }

    /// OpenSent -> Established over one connection. Returns how it ended and an
    /// incoming connection kept for collision resolution, if any.
    async fn session(&mut self, stream: TcpStream, outbound: bool) -> (End, Option<TcpStream>) {
        let (local, peer) = match (stream.local_addr(), stream.peer_addr()) {
            (Ok(l), Ok(p)) => (l, p),
            _ => return (End::Down("connection lost before it was used".into()), None),
        };
        let _ = stream.set_nodelay(true);
        self.local_addr = Some(local.ip().to_canonical());
        info!(peer = %self.cfg.address, local = %local, remote = %peer, outbound, "connected");
        self.emit(
            Direction::Receive,
            EventKind::State {
                state: SessionState::Connected,
                reason: None,
            },
        );
        let (mut rd, wr) = stream.into_split();
        let mut conn = Conn {
            wr,
            opts: CodecOptions::INITIAL,
            outbound,
            local,
            our_open: open::local_open(&self.cfg),
            negotiated: None,
            hold: Box::pin(tokio::time::sleep(OPEN_HOLD)),
            hold_for: Some(OPEN_HOLD),
            keepalive: Box::pin(tokio::time::sleep_until(far_future())),
            keepalive_every: None,
            pending_incoming: None,
        };
        let open_msg = Message::Open(conn.our_open.clone());
        if let Err(e) = self.send(&mut conn, &[open_msg]).await {
            return (End::Down(e), None);
        }
        self.set_state(PeerState::OpenSent);
        let mut buf: Vec<u8> = Vec::with_capacity(65536);
        let end = loop {
            // Read in large chunks: a full table arrives as thousands of messages.
            if buf.capacity() - buf.len() < 16384 {
                buf.reserve(65536);
            }
            let flow = tokio::select! {
                r = rd.read_buf(&mut buf) => match r {
                    // Event 18: TcpConnectionFails (peer closed).
                    Ok(0) => Flow::End(End::Down("peer closed the connection".into())),
                    Err(e) => Flow::End(End::Down(format!("read failed: {e}"))),
                    Ok(_) => self.on_bytes(&mut conn, &mut buf).await,
                },
                // Event 10: HoldTimer_Expires.
                _ = &mut conn.hold, if conn.hold_for.is_some() => {
                    let n = Notification { code: 4, subcode: 0, data: Vec::new() };
                    self.notify_and_close(&mut conn, n, "hold timer expired".into()).await
                }
                // Event 11: KeepaliveTimer_Expires.
                _ = &mut conn.keepalive, if conn.keepalive_every.is_some() => {
                    if let Some(every) = conn.keepalive_every {
                        conn.keepalive.as_mut().reset(tokio::time::Instant::now() + every);
                    }
                    match self.send(&mut conn, &[Message::Keepalive]).await {
                        Ok(()) => Flow::Continue,
                        Err(e) => Flow::End(End::Down(e)),
                    }
                }
                cmd = self.rx.recv() => self.on_command(&mut conn, cmd).await,
            };
            if let Flow::End(end) = flow {
                break end;
            }
        };
        (end, conn.pending_incoming.take())
    }

    /// Decodes every complete message in `buf` and handles it.
    async fn on_bytes(&mut self, conn: &mut Conn, buf: &mut Vec<u8>) -> Flow {
        let mut start = 0;
        let flow = loop {
            match bgp::decode_message(&buf[start..], &conn.opts) {
                Ok(None) => break Flow::Continue,
                Ok(Some((msg, used))) => {
                    start += used;
                    // Any message restarts the Hold timer (RFC 4271 §4.4).
                    if let Some(h) = conn.hold_for {
                        conn.hold.as_mut().reset(tokio::time::Instant::now() + h);
                    }
                    count(&mut self.received, &msg);
                    if let Flow::End(e) = self.on_message(conn, msg).await {
                        break Flow::End(e);
                    }
                }
                Err(e) => {
                    // Event 21/22/28: BGPHeaderErr / BGPOpenMsgErr / UpdateMsgErr.
                    let n = e.notification();
                    warn!(peer = %self.cfg.address, error = %e, "malformed message");
                    break self
                        .notify_and_close(conn, n, format!("malformed message from peer: {e}"))
                        .await;
                }
            }
        };
        buf.drain(..start.min(buf.len()));
        flow
    }

    async fn on_message(&mut self, conn: &mut Conn, msg: Message) -> Flow {
        use PeerState::*;
        match (self.state, msg) {
            // Event 24/25: NotifMsgVerErr / NotifMsg, in any state.
            (_, Message::Notification(n)) => {
                warn!(peer = %self.cfg.address, notification = %describe(&n), "NOTIFICATION received");
                self.emit(Direction::Receive, EventKind::Notification(n.clone()));
                Flow::End(End::Down(format!(
                    "NOTIFICATION received: {}",
                    describe(&n)
                )))
            }
            // Event 19: BGPOpen.
            (OpenSent, Message::Open(peer_open)) => self.on_open(conn, peer_open).await,
            // Event 26: KeepAliveMsg in OpenConfirm -> Established.
            (OpenConfirm, Message::Keepalive) => self.established(conn).await,
            (Established, Message::Keepalive) => {
                self.emit(Direction::Receive, EventKind::Keepalive);
                Flow::Continue
            }
            // Event 27: UpdateMsg.
            (Established, Message::Update(u)) => {
                self.on_update(u);
                Flow::Continue
            }
            (Established, Message::RouteRefresh(r)) => self.on_route_refresh(conn, r).await,
            // Anything else is unexpected in this state (RFC 6608 subcodes 1..3).
            (state, m) => {
                let subcode = match state {
                    OpenSent => 1,
                    OpenConfirm => 2,
                    _ => 3,
                };
                let n = Notification {
                    code: FSM_ERROR,
                    subcode,
                    data: Vec::new(),
                };
                let what = format!("unexpected {} in state {}", kind_name(&m), state.as_str());
                self.notify_and_close(conn, n, what).await
            }
        }
    }
}

fn kind_name(m: &Message) -> &'static str {
    match m {
        Message::Open(_) => "OPEN",
        Message::Update(_) => "UPDATE",
        Message::Notification(_) => "NOTIFICATION",
        Message::Keepalive => "KEEPALIVE",
        Message::RouteRefresh(_) => "ROUTE-REFRESH",
    }
}

#[cfg(test)]
fn test_config() -> NeighborConfig {
    NeighborConfig {
        address: "192.0.2.254".parse().unwrap(),
        peer_as: 65000,
        local_as: 65001,
        router_id: "192.0.2.1".parse().unwrap(),
        local_address: None,
        port: 179,
        hold_time: 90,
        passive: false,
        families: vec![crate::bgp::Family::IPV4_UNICAST],
        md5_password: Some("secret".into()),
        description: None,
    }
}
