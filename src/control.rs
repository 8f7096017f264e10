//! The contract between the API layer (control socket, helper processes) and the
//! daemon core that owns the neighbors and their RIBs.
//!
//! The API parses text into a [`Command`], sends a [`ControlRequest`] over an mpsc
//! channel and awaits the [`ControlReply`]. The daemon publishes [`Event`]s on a
//! broadcast channel bounded in bytes ([`bus`]); the API turns them into
//! ExaBGP-shaped JSON or text for helpers.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, SystemTime};

use tokio::sync::oneshot;

use crate::bgp::{Family, Notification, Open, Prefix, Update};
use crate::config::Config;
use crate::rib::Route;

pub mod bus;
pub mod stats;
pub use bus::{event_channel, ByteBudget, EventReceiver, EventSender};

/// Which neighbors a command is for: `None` means every neighbor (ExaBGP's default).
pub type Scope = Option<Vec<IpAddr>>;

/// How much `show neighbor` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShowDetail {
    Basic,
    Summary,
    Extensive,
    Configuration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RibDirection {
    In,
    Out,
}

/// A command for the daemon core.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Add or replace routes in the Adj-RIB-Out of the scoped neighbors.
    Announce { scope: Scope, routes: Vec<Route> },
    /// Remove routes from the Adj-RIB-Out of the scoped neighbors.
    Withdraw { scope: Scope, prefixes: Vec<Prefix> },
    /// Add or replace flow rules (RFC 8955/8956) in the scoped neighbors' Adj-RIB-Out.
    AnnounceFlow {
        scope: Scope,
        rules: Vec<crate::rib::FlowRoute>,
    },
    /// Remove flow rules from the scoped neighbors' Adj-RIB-Out.
    WithdrawFlow {
        scope: Scope,
        rules: Vec<crate::bgp::FlowNlri>,
    },
    ShowNeighbor {
        detail: ShowDetail,
        address: Option<IpAddr>,
    },
    ShowAdjRib {
        direction: RibDirection,
        address: Option<IpAddr>,
    },
    /// Re-send the whole Adj-RIB-Out to the scoped neighbors.
    FlushAdjRibOut { scope: Scope },
    /// Empty the Adj-RIB (in: forget what was received; out: withdraw everything).
    ClearAdjRib {
        scope: Scope,
        direction: RibDirection,
    },
    /// Send a Cease NOTIFICATION (subcode `code`, default Administrative Shutdown)
    /// and restart the session.
    Teardown { address: IpAddr, code: u8 },
    /// Replace the running configuration by this one (already parsed and validated):
    /// new neighbors come up, removed ones get Cease, changed routes are announced or
    /// withdrawn, untouched sessions stay up.
    ApplyConfig(Box<Config>),
    /// Stop the daemon: Cease to every peer, helpers stopped.
    Shutdown,
    /// `restart --hitless`: hand every Established session to the next process
    /// through systemd's fd store (issue 13), Cease to the other peers, then
    /// exit with EX_TEMPFAIL (75) so that systemd starts the unit again
    /// (RestartForceExitStatus=75). Refused when no service manager can keep
    /// the sessions (not under systemd, or exabgp_daemon_hitless off).
    RestartHitless,
    /// How many neighbors are Established and how many routes are announced,
    /// answered by the core loop itself from what the neighbor tasks last published
    /// (never waiting for one): the probe behind STATUS= and the watchdog.
    Health,
}

/// A request with the channel its answer goes back on.
#[derive(Debug)]
pub struct ControlRequest {
    pub command: Command,
    pub reply: oneshot::Sender<ControlReply>,
}

/// The daemon's answer to a command.
#[derive(Debug, Clone, PartialEq)]
pub enum ControlReply {
    Done,
    Error(String),
    Neighbors(Vec<NeighborStatus>),
    Routes(Vec<RibEntry>),
    /// `show adj-rib` when flow rules are held: the routes, then the rules
    /// (without flow rules the answer stays [`ControlReply::Routes`]).
    RoutesAndFlows(Vec<RibEntry>, Vec<FlowEntry>),
    Health(HealthSummary),
}

/// The answer to [`Command::Health`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HealthSummary {
    pub established: usize,
    pub total: usize,
    /// Routes in every Adj-RIB-Out together.
    pub routes: u64,
}

/// The FSM states of RFC 4271.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeerState {
    Idle,
    Connect,
    Active,
    OpenSent,
    OpenConfirm,
    Established,
}

impl PeerState {
    pub fn as_str(&self) -> &'static str {
        match self {
            PeerState::Idle => "idle",
            PeerState::Connect => "connect",
            PeerState::Active => "active",
            PeerState::OpenSent => "opensent",
            PeerState::OpenConfirm => "openconfirm",
            PeerState::Established => "established",
        }
    }
}

/// Message counters of one neighbor, since the daemon started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageCounters {
    pub open: u64,
    pub update: u64,
    pub notification: u64,
    pub keepalive: u64,
    pub route_refresh: u64,
}

/// What `show neighbor` reports about one neighbor.
#[derive(Debug, Clone, PartialEq)]
pub struct NeighborStatus {
    pub peer_address: IpAddr,
    pub local_address: Option<IpAddr>,
    pub peer_as: u32,
    pub local_as: u32,
    pub router_id: Ipv4Addr,
    /// The peer's BGP identifier, once OPEN was received.
    pub peer_router_id: Option<Ipv4Addr>,
    pub state: PeerState,
    /// Time since the session became Established.
    pub uptime: Option<Duration>,
    pub hold_time: u16,
    pub families: Vec<Family>,
    pub sent: MessageCounters,
    pub received: MessageCounters,
    /// Prefixes currently held in the Adj-RIB-In / Adj-RIB-Out.
    pub prefixes_in: u64,
    pub prefixes_out: u64,
    pub last_error: Option<String>,
    /// The neighbor's configuration, for `show neighbor configuration`.
    pub configuration: String,
}

/// One route in an Adj-RIB, for `show adj-rib`.
#[derive(Debug, Clone, PartialEq)]
pub struct RibEntry {
    pub neighbor: IpAddr,
    pub prefix: Prefix,
    /// The next hop as sent or received.
    pub next_hop: Option<IpAddr>,
    pub attributes: std::sync::Arc<crate::bgp::PathAttributes>,
    /// Received: kept from a lost session of a peer that is restarting
    /// (graceful restart, RFC 4724), not announced again yet.
    pub stale: bool,
}

/// One flow rule (RFC 8955/8956) in an Adj-RIB, for `show adj-rib`.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowEntry {
    pub neighbor: IpAddr,
    pub nlri: crate::bgp::FlowNlri,
    /// The next hop as sent or received (flow rules usually carry none).
    pub next_hop: Option<IpAddr>,
    pub attributes: std::sync::Arc<crate::bgp::PathAttributes>,
}

/// Who a session event is about.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerInfo {
    pub local_address: Option<IpAddr>,
    pub peer_address: IpAddr,
    pub local_as: u32,
    pub peer_as: u32,
    pub peer_router_id: Option<Ipv4Addr>,
    /// Our router-id for this neighbor: the JSON header's "router-id", as ExaBGP
    /// prints the neighbor's configured (local) router-id there.
    pub router_id: Ipv4Addr,
}

/// `state` events: ExaBGP's connected / up / down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    Connected,
    Up,
    Down,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Send,
    Receive,
}

/// Something that happened on a session, for helpers and logs.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    State {
        state: SessionState,
        reason: Option<String>,
    },
    Update(Box<Update>),
    EndOfRib(Family),
    Notification(Notification),
    Open(Box<Open>),
    Keepalive,
    Refresh(Family),
    /// The peer's prefixes of one family crossed a max-prefix limit or its warning
    /// threshold.
    PrefixLimit(PrefixLimit),
}

/// A `prefix-limit` event: how many prefixes of `family` the peer has in our
/// Adj-RIB-In, against the configured maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixLimit {
    pub family: Family,
    pub prefixes: u64,
    pub maximum: u32,
    /// Above the maximum (else: at the warning threshold).
    pub exceeded: bool,
    /// The session was closed with a Cease (else: a warning, the session is kept).
    pub cease: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub time: SystemTime,
    pub peer: PeerInfo,
    pub direction: Direction,
    pub kind: EventKind,
}
