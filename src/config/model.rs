//! The validated configuration: what the TOML file means once every check passed.
//! The parsers (entry: `load.rs`) produce these; the daemon consumes them.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use crate::bgp::Family;
use crate::rib::{FlowRoute, Route};

/// The whole configuration file.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file it was read from (for messages and reload).
    pub source: Option<PathBuf>,
    pub global: Global,
    pub neighbors: Vec<NeighborConfig>,
    pub routes: Vec<RouteConfig>,
    pub processes: Vec<ProcessConfig>,
    /// `[[flow]]`: flow specification rules (RFC 8955/8956).
    pub flows: Vec<FlowConfig>,
}

/// `[global]`: defaults for every neighbor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Global {
    pub router_id: Ipv4Addr,
    pub local_as: u32,
}

/// One `[[neighbor]]`, with the global defaults already applied.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NeighborConfig {
    /// The peer's address; unique across the file.
    pub address: IpAddr,
    pub peer_as: u32,
    pub local_as: u32,
    pub router_id: Ipv4Addr,
    /// Bind outgoing connections to this address; also the next hop for "self".
    pub local_address: Option<IpAddr>,
    /// The peer's TCP port (default 179).
    pub port: u16,
    /// Proposed hold time in seconds: 0 or >= 3 (default 90).
    pub hold_time: u16,
    /// Only accept connections, never connect.
    pub passive: bool,
    /// Families to negotiate (default: the family of `address`).
    pub families: Vec<Family>,
    /// TCP MD5 signature key (RFC 2385).
    pub md5_password: Option<String>,
    /// Free text shown by `show neighbor`.
    pub description: Option<String>,
    /// Limit on the prefixes the peer may have in our Adj-RIB-In (`max-prefix`).
    pub max_prefix: Option<MaxPrefix>,
    /// Graceful restart (RFC 4724): the restart time in seconds (0..=4095) we
    /// advertise; None (the default): no capability, no stale routes kept.
    pub graceful_restart: Option<u16>,
}

impl NeighborConfig {
    /// What of the settings the session depends on: everything but the
    /// description, with the families and the max-prefix limits (one per
    /// family, in the order of `families` or of the table's keys) as sorted
    /// sets.
    pub fn session_view(&self) -> NeighborConfig {
        let mut v = self.clone();
        v.description = None;
        v.families.sort();
        v.families.dedup();
        if let Some(m) = &mut v.max_prefix {
            m.limits.sort();
            m.limits.dedup();
        }
        v
    }
}

/// Whether going from `old` to `new` needs a new session: the one rule for a
/// reload (which restarts the session) and for a hitless restart (which
/// refuses to adopt it).
pub fn must_restart(old: &NeighborConfig, new: &NeighborConfig) -> bool {
    old.session_view() != new.session_view()
}

/// `max-prefix` and its options: what to do when a peer sends more prefixes of a
/// family than we accept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MaxPrefix {
    /// The limit per family; a family not listed has none.
    pub limits: Vec<(Family, u32)>,
    /// Only log and publish an event when a limit is exceeded; keep the session.
    pub warning_only: bool,
    /// Seconds the neighbor stays idle (neither connecting nor accepting) after the
    /// Cease; None: until a teardown command, a reload that changes a session
    /// setting of the neighbor (not its description alone),
    /// or a restart.
    pub restart_after: Option<u32>,
    /// Percentage of a limit at which a warning is logged and published before the
    /// limit is reached; None: no early warning.
    pub warning_threshold: Option<u8>,
}

impl MaxPrefix {
    /// The limit for `family`, if any.
    pub fn limit(&self, family: Family) -> Option<u32> {
        self.limits
            .iter()
            .find(|(f, _)| *f == family)
            .map(|(_, n)| *n)
    }
}

/// One `[[route]]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RouteConfig {
    pub route: Route,
    /// Neighbors the route goes to; empty = all neighbors of the route's family.
    pub neighbors: Vec<IpAddr>,
}

/// One `[[flow]]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FlowConfig {
    pub route: FlowRoute,
    /// Neighbors the rule goes to; empty = all neighbors of the rule's family.
    pub neighbors: Vec<IpAddr>,
}

/// What a helper gets on its stdin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoder {
    Json,
    Text,
}

/// Which events a helper receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReceiveKind {
    Update,
    State,
    Notification,
    Open,
    Keepalive,
    Refresh,
    Negotiated,
}

/// One `[[process]]`: a helper program speaking the text API on its stdout.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProcessConfig {
    /// Unique name, used in logs.
    pub name: String,
    /// argv, run without a shell; `run[0]` is the program.
    pub run: Vec<String>,
    pub encoder: Encoder,
    pub receive: Vec<ReceiveKind>,
    /// Respawn at most this many times within `respawn_window` seconds (default 5 in 60).
    pub respawn_limit: u32,
    pub respawn_window: u32,
}
