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
//!
//! This file holds the task's state, its commands and its life cycle (`run`,
//! session down). The rest, one concern a file:
//! - `acquire`: Idle/Active/Connect, ConnectRetry backoff, jitter, first-connect pacing;
//! - `connection`: one connection's `select!` loop, timers, message dispatch by state;
//! - `handshake`: the OPEN exchange, OpenSent -> OpenConfirm -> Established;
//! - `collision`: a second connection from the peer (RFC 4271 §6.8);
//! - `established`: UPDATEs in, Adj-RIB-Out deltas and End-of-RIB out, ROUTE-REFRESH;
//! - `handover`: an Established session handed to the next process, or adopted from
//!   the previous one, over the same socket (issue 13);
//! - `graceful`: graceful restart (RFC 4724): a lost peer's routes kept as stale;
//! - `limits`: max-prefix checks and the idle time after a max-prefix Cease;
//! - `noise`: rate limits for the log lines a peer can repeat at will;
//! - `commands`: the daemon's commands, with or without a connection;
//! - `inbox`: the bounded API queue and the daemon's own queue into the task;
//! - `wire`: encoding, counting and hold-bounded writes;
//! - `status`: `show neighbor` / `show adj-rib` answers;
//! - `events`: the events published to the API.

mod acquire;
mod collision;
mod commands;
mod connection;
mod established;
mod events;
mod graceful;
mod handover;
mod handshake;
mod inbox;
mod limits;
mod noise;
mod status;
mod wire;

pub use handover::HandedOver;
pub use inbox::{inbox, Inbox, Outbox, Refused, COMMAND_QUEUE, INCOMING_PENDING};

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::time::{Duration, Instant};

use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::{oneshot, watch};
use tokio::time::Sleep;
use tracing::{debug, info, warn};

use super::open::Negotiated;
use crate::bgp::FlowNlri;
use crate::bgp::{CodecOptions, Open, Prefix};
use crate::config::NeighborConfig;
use crate::control::{
    Direction, EventKind, EventSender, MessageCounters, NeighborStatus, PeerState, RibDirection,
    RibEntry, SessionState,
};
use crate::rib::{AdjRibIn, AdjRibOut, FlowRoute, Route};

/// Hold time while waiting for the peer's OPEN (RFC 4271 §8: "a large value", 4 min).
const OPEN_HOLD: Duration = Duration::from_secs(240);

/// What the daemon asks of a neighbor task.
#[derive(Debug)]
pub enum NeighborCommand {
    Announce(Vec<Route>),
    Withdraw(Vec<Prefix>),
    /// Flow rules (RFC 8955/8956) to add or replace in the Adj-RIB-Out.
    AnnounceFlow(Vec<FlowRoute>),
    WithdrawFlow(Vec<FlowNlri>),
    /// Re-send the whole Adj-RIB-Out.
    FlushOut,
    ClearIn,
    /// Withdraw everything we announced.
    ClearOut,
    /// Send a Cease with this subcode, drop the session, reconnect as usual.
    Teardown(u8),
    Status(oneshot::Sender<NeighborStatus>),
    Rib(RibDirection, oneshot::Sender<Vec<RibEntry>>),
    /// The flow rules of an Adj-RIB, for `show adj-rib`.
    FlowRib(
        RibDirection,
        oneshot::Sender<Vec<crate::control::FlowEntry>>,
    ),
    /// A connection from this peer, accepted by the daemon's listener.
    Incoming(TcpStream),
    /// New settings that the session does not depend on (description, family
    /// order): taken in place, the session stays.
    Reconfigure(Box<NeighborConfig>),
    /// Hand the Established session over to the next process (see
    /// `neighbor/handover.rs`): answered with the socket and the state, and the
    /// task ends without a Cease; answered None when not Established (the task
    /// then goes on: the daemon stops it as usual).
    HandOver(oneshot::Sender<Option<HandedOver>>),
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
    /// A hand-over was asked in Established: the connection loop ends, the
    /// session is captured and answered on the sender.
    HandOver(oneshot::Sender<Option<HandedOver>>),
    /// The session went to the next process: the task ends, no Cease, no
    /// session-down side effects.
    HandedOver,
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
    /// How long one write may go without progress (see `wire::write_out`): the hold
    /// time, or when it is 0 our configured hold time, or [`OPEN_HOLD`].
    write_limit: Duration,
    /// An incoming connection that arrived in OpenSent, kept until the peer's
    /// identifier is known and the collision can be resolved (RFC 4271 §6.8).
    pending_incoming: Option<TcpStream>,
}

/// The state owned by one neighbor task.
pub struct Neighbor {
    cfg: NeighborConfig,
    rib_out: AdjRibOut,
    rib_in: AdjRibIn,
    events: EventSender,
    rx: Inbox,
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
    /// State and route count, published for the daemon (see [`Brief`]).
    brief: watch::Sender<Brief>,
    /// Per limited family, which max-prefix warning was given this session.
    limit_levels: Vec<(crate::bgp::Family, limits::Level)>,
    /// Set when a max-prefix Cease ended the session: stay idle for this long
    /// (None: until a teardown) before connecting or accepting again.
    hold_after_down: Option<Option<Duration>>,
    /// Prefixes of families not negotiated, dropped this session (see
    /// `established::retain_negotiated`).
    unnegotiated_dropped: u64,
    /// Rate limits for the log lines the peer can repeat at will.
    noise: noise::Noise,
    /// State, counters and route counts published for the metrics endpoint.
    stats: std::sync::Arc<crate::control::stats::PeerStats>,
    /// Set while this process restarted without a clean stop and the neighbor
    /// has not been Established since: the Restart State bit of our Graceful
    /// Restart capability (RFC 4724 §4.1; see `crate::session::set_restarted`).
    restarted: bool,
    /// The peer's routes kept as stale over a lost session (`graceful`).
    stale: Option<graceful::Stale>,
    /// The NOTIFICATION sent or received on the current session, if any: decides
    /// whether a lost session keeps the peer's routes (`graceful`).
    notified: Option<graceful::Notified>,
    /// When the End-of-RIB held back on the first session after our restart is
    /// sent (`graceful::eor_settle`); None: not held back.
    eor_at: Option<Instant>,
}

/// What the daemon can read of a neighbor without asking its task (which may be
/// blocked writing to a peer that stopped reading): enough for the health probe
/// behind STATUS= and the watchdog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Brief {
    pub state: PeerState,
    /// Routes in the Adj-RIB-Out.
    pub prefixes_out: u64,
}

/// Sleeps until `when` (forever when None: a select! guard keeps it unpolled).
async fn sleep_until_std(when: Option<std::time::Instant>) {
    match when {
        Some(w) => tokio::time::sleep_until(w.into()).await,
        None => std::future::pending().await,
    }
}

/// A deadline that never comes: where a timer that is off is parked.
fn far_future() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(86400 * 365)
}

impl Neighbor {
    /// A neighbor in Idle with `routes` (`count` of them, to size it once) in its
    /// Adj-RIB-Out; [`Neighbor::run`] is the task.
    pub fn new<'a>(
        cfg: NeighborConfig,
        routes: impl IntoIterator<Item = &'a Route>,
        count: usize,
        events: EventSender,
        rx: Inbox,
        brief: watch::Sender<Brief>,
    ) -> Neighbor {
        let mut rib_out = AdjRibOut::with_capacity(count);
        for r in routes {
            rib_out.announce(r);
        }
        brief.send_replace(Brief {
            state: PeerState::Idle,
            prefixes_out: rib_out.len() as u64,
        });
        let stats =
            crate::control::stats::PeerStats::register(cfg.address, cfg.peer_as, &cfg.families);
        // Published now: a neighbor that stays idle has its routes counted too.
        stats.set_routes(|_| 0, |f| rib_out.count(f));
        stats.set_rib_bytes(0, rib_out.approx_bytes());
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
            brief,
            limit_levels: Vec::new(),
            hold_after_down: None,
            unnegotiated_dropped: 0,
            noise: noise::Noise::default(),
            stats,
            restarted: super::restarted(),
            stale: None,
            notified: None,
            eor_at: None,
        }
    }

    /// Flow rules wanted in the Adj-RIB-Out before the task starts.
    pub fn add_flows(&mut self, flows: &[FlowRoute]) {
        for f in flows {
            self.rib_out.flows.announce(f);
        }
    }

    /// Publishes the current [`Brief`] (only when it changed) and the metrics.
    fn publish(&self) {
        self.publish_stats();
        let now = Brief {
            state: self.state,
            prefixes_out: self.rib_out.len() as u64,
        };
        self.brief.send_if_modified(|b| {
            let changed = *b != now;
            *b = now;
            changed
        });
    }

    /// Publishes state, message counters and route counts for the metrics
    /// endpoint (a few relaxed stores: cheap enough for every loop turn).
    fn publish_stats(&self) {
        self.stats.set_state(self.state);
        self.stats.set_messages(&self.sent, &self.received);
        self.stats
            .set_routes(|f| self.rib_in.count(f), |f| self.rib_out.count(f));
        self.stats
            .set_rib_bytes(self.rib_in.approx_bytes(), self.rib_out.approx_bytes());
    }

    /// The task body: runs until Stop or until the command channel closes.
    pub async fn run(self) {
        self.run_from(None).await
    }

    /// The task body, starting with the outcome of a session already run (an
    /// adopted one, see `handover`) when `first` is given.
    async fn run_from(mut self, mut first: Option<(End, Option<TcpStream>)>) {
        let mut next: Option<(TcpStream, bool)> = None;
        loop {
            let (end, pending) = match first.take() {
                Some(done) => done,
                None => {
                    let (stream, outbound) = match next.take() {
                        Some(c) => c,
                        None => match self.acquire().await {
                            Some(c) => c,
                            None => return,
                        },
                    };
                    self.session(stream, outbound).await
                }
            };
            match end {
                // Handed to the next process: nothing is torn down.
                End::HandedOver => return,
                // Answered by `session` already; never reaches here.
                End::HandOver(reply) => {
                    let _ = reply.send(None);
                    self.down("hand-over failed");
                }
                End::Stop => {
                    self.down("stopped");
                    // Stale routes of an earlier session, kept by a connection
                    // that never got to Established: the task ends, they go.
                    self.drop_stale("neighbor stopped");
                    return;
                }
                End::Down(reason) => {
                    self.down(&reason);
                    next = pending.map(|s| (s, false));
                    if let Some(restart) = self.hold_after_down.take() {
                        // A connection kept from a collision is refused too.
                        next = None;
                        if !self.hold_down(restart).await {
                            return;
                        }
                    }
                }
                End::Switch(stream, reason) => {
                    self.down(&reason);
                    next = Some((stream, false));
                }
            }
        }
    }

    /// Moves the FSM to `s` (logged at debug level when it changes).
    fn set_state(&mut self, s: PeerState) {
        if self.state != s {
            debug!(peer = %self.cfg.address, from = self.state.as_str(), to = s.as_str(), "state change");
            self.state = s;
            self.publish();
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
        // Graceful restart (RFC 4724 §4.2): a lost Established session may keep
        // the peer's routes as stale; a connection that never got there leaves
        // the stale routes of an earlier one alone (their timer runs on).
        let kept = if was_up {
            self.keep_stale()
        } else {
            self.stale.is_some()
        };
        if !kept {
            self.drop_stale(reason);
            self.rib_in.clear();
        }
        self.notified = None;
        self.limit_levels.clear();
        self.unnegotiated_dropped = 0;
        self.noise.flush(self.cfg.address, true);
        self.rib_out.resend_all();
        self.negotiated = None;
        self.established_at = None;
        self.last_error = Some(reason.to_string());
        self.failures = self.failures.saturating_add(1);
        self.set_state(PeerState::Idle);
    }
}

/// A neighbor's settings for the unit tests (with a password, to check it is masked).
#[cfg(test)]
fn test_brief() -> watch::Sender<Brief> {
    watch::channel(Brief {
        state: PeerState::Idle,
        prefixes_out: 0,
    })
    .0
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
        max_prefix: None,
        graceful_restart: None,
    }
}
