//! The daemon core: owns the neighbor tasks, accepts BGP connections, executes
//! control commands and publishes events.
//!
//! Tasks and channels (one owner per piece of state; everything else sends typed
//! messages):
//!
//! ```text
//!   API / control socket                     signals (serve.rs)
//!        | mpsc<ControlRequest>                    | CancellationToken
//!        v                                         v
//!  +---------------------------- daemon::run ----------------------------+
//!  |  executes Command, owns HashMap<peer IP, NeighborHandle>             |
//!  |  config diff on ApplyConfig, Cease to all on Shutdown               |
//!  +----^--------------------------+--------------------------+---------+
//!       | mpsc<(TcpStream, peer)>   | mpsc<NeighborCommand>    | oneshot replies
//!       |                           v  (bounded, per peer)     | (status, adj-rib)
//!  +----+-----------+     +--------------------+  +--------------------+
//!  | accept task    |     | neighbor task A    |  | neighbor task B    |  ...
//!  | per listener   |     | FSM, timers, TCP,  |  | (own Adj-RIB-In/   |
//!  | (dispatch by   |     | Adj-RIB-In/Out     |  |  Out, own socket)  |
//!  |  peer address) |     +---------+----------+  +---------+----------+
//!  +----------------+               |  broadcast<Event>     |
//!                                   v                       v
//!                       API encoders / helpers (lagging receivers lose old
//!                       events; a slow or absent receiver never blocks a session)
//! ```
//!
//! A show command fans out oneshot requests from a spawned task, so a neighbor
//! busy writing a large table never stalls the daemon loop. Commands go to a
//! neighbor with `try_send` into a bounded queue: a neighbor that does not take
//! them (blocked writing to a peer that stopped reading) is answered "neighbor X
//! is not accepting commands", and nothing here waits for it. Stop, a reload's
//! changes, accepted connections and a teardown (one pending at most) use a path
//! that is never refused (see session/neighbor/inbox.rs).
//!
//! The files, in the order a start goes through them:
//!
//! - `startup.rs`: `exabgp server` before the runtime: settings, logging, the
//!   configuration, the control socket and BGP listeners bound (`system/bind.rs`,
//!   `api/control_socket.rs`) or taken from systemd, privileges dropped;
//! - `serve.rs`: the running daemon's tasks (this core, the control socket and
//!   helpers, the supervisor) and its signals; what the tests run too;
//! - `mod.rs` (here): the core's loop; `accept.rs`: accepting connections on the
//!   bound listeners; `reconfig.rs`: applying a new configuration; `reloads.rs`:
//!   SIGHUP; `hitless.rs`: sessions handed to the next process at a restart and
//!   adopted from the previous one (issue 13).

mod accept;
mod error;
pub mod hitless;
mod probe;
mod reconfig;
mod reloads;
pub mod serve;
mod signal_source;
pub mod startup;

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::bgp::{iana, FlowNlri, Prefix};
use crate::config::{Config, NeighborConfig};
use crate::control::{
    Command, ControlReply, ControlRequest, EventSender, HealthSummary, NeighborStatus, PeerState,
    RibEntry, Scope,
};
use crate::rib::{FlowRoute, Route};
use crate::session::{NeighborCommand, NeighborHandle, Refused};
use crate::system::md5::set_md5;
use crate::system::ratelimit::{LogLimiter, Verdict};

/// Sleeps until `when` (forever when None: the select! guard keeps it unpolled).
async fn sleep_until(when: Option<std::time::Instant>) {
    match when {
        Some(w) => tokio::time::sleep_until(w.into()).await,
        None => std::future::pending().await,
    }
}

pub use accept::ListenerError;
pub use error::ServerError;
pub use serve::{serve, Parts};
pub use signal_source::SignalSource;

/// How long a neighbor gets to write its Cease on shutdown.
const STOP_GRACE: Duration = Duration::from_secs(3);
/// How long a show command waits for each neighbor.
const QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// The daemon's connections to the outside, set up by the caller.
pub struct DaemonIo {
    /// Already bound BGP listeners (from exabgp_tcp_bind/port or socket activation).
    pub listeners: Vec<std::net::TcpListener>,
    pub control: mpsc::Receiver<ControlRequest>,
    pub events: EventSender,
    /// Cancelled on SIGTERM/SIGINT: same as Command::Shutdown.
    pub shutdown: CancellationToken,
    /// Sessions to adopt from the previous process, and the switch that makes
    /// the stop hand sessions over (see `hitless.rs`); off by default.
    pub hitless: hitless::Hitless,
}

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Listener(#[from] ListenerError),
}

/// The routes of `config` that go to `n`: those naming it, and those naming no
/// neighbor whose family `n` negotiates.
pub fn routes_for(config: &Config, n: &NeighborConfig) -> Vec<Route> {
    routes_for_iter(config, n).cloned().collect()
}

/// [`routes_for`] without the copy (a big table is not duplicated on the way into
/// the Adj-RIB-Out).
fn routes_for_iter<'a>(
    config: &'a Config,
    n: &'a NeighborConfig,
) -> impl Iterator<Item = &'a Route> + Clone + 'a {
    config
        .routes
        .iter()
        .filter(|r| {
            if r.neighbors.is_empty() {
                n.families.contains(&r.route.prefix.family())
            } else {
                r.neighbors.contains(&n.address)
            }
        })
        .map(|r| &r.route)
}

/// The `[[flow]]` rules of `config` that go to `n`: those naming it, and those
/// naming no neighbor whose family `n` negotiates.
pub fn flows_for(config: &Config, n: &NeighborConfig) -> Vec<FlowRoute> {
    config
        .flows
        .iter()
        .filter(|f| {
            if f.neighbors.is_empty() {
                n.families.contains(&f.route.family())
            } else {
                f.neighbors.contains(&n.address)
            }
        })
        .map(|f| f.route.clone())
        .collect()
}

struct Daemon {
    config: Config,
    neighbors: HashMap<IpAddr, NeighborHandle>,
    /// Routes announced at run time (helpers, control socket) per neighbor, so that
    /// a neighbor restarted by a reload gets them back and a reload never withdraws
    /// what a health check announced.
    api_routes: HashMap<IpAddr, HashMap<Prefix, Route>>,
    /// Flow rules announced at run time per neighbor, for the same reason.
    api_flows: HashMap<IpAddr, HashMap<FlowNlri, FlowRoute>>,
    /// Configured routes and flow rules withdrawn at run time per neighbor (a
    /// health check draining a service), as configured: a hitless restart
    /// carries them so the next process does not announce them again. An entry
    /// goes when the API announces the prefix again, when the configuration
    /// changes or drops the route (a reload announces a changed one), and when
    /// the neighbor's session starts anew (all its configured routes go out).
    withdrawn_routes: HashMap<IpAddr, HashMap<Prefix, Route>>,
    withdrawn_flows: HashMap<IpAddr, HashMap<FlowNlri, FlowRoute>>,
    events: EventSender,
    listeners: accept::Listeners,
    /// Anybody who can reach the BGP port can open connections: the line for one
    /// from an unknown address is rate-limited, so they cannot flood the journal.
    unknown_peers: LogLimiter,
    /// A configured peer can open connections faster than its task takes them:
    /// the line for one closed because [`session::INCOMING_PENDING`] are waiting is
    /// rate-limited per neighbor like the unknown-peer line.
    refused_incoming: HashMap<IpAddr, LogLimiter>,
    /// `restart --hitless` sets it (see `hitless.rs`); None when no service
    /// manager can keep the sessions.
    handover: Option<hitless::HandOverSwitch>,
}

/// Lines about connections from unknown addresses: this many per interval...
const UNKNOWN_PEER_BURST: u32 = 10;
/// ...of this length, then one line with the count of those suppressed.
const UNKNOWN_PEER_INTERVAL: Duration = Duration::from_secs(10);
const UNKNOWN_PEER: &str = "connection from an unknown peer closed (not a configured neighbor)";
const REFUSED_INCOMING: &str =
    "connection closed: the neighbor has not taken the previous ones yet";

/// Runs until Command::Shutdown or the shutdown token: every neighbor gets a Cease
/// (administrative shutdown) before this returns.
pub async fn run(config: Config, io: DaemonIo) -> Result<(), DaemonError> {
    let (incoming_tx, mut incoming_rx) = mpsc::channel(64);
    let listeners = accept::Listeners::start(io.listeners, incoming_tx, io.shutdown.clone())?;
    let neighbors = config.neighbors.clone();
    let routes = config.routes.len();
    // The config is moved, not cloned: with a big route table a second copy is most
    // of the daemon's peak memory.
    let mut d = Daemon {
        config,
        neighbors: HashMap::new(),
        api_routes: HashMap::new(),
        api_flows: HashMap::new(),
        withdrawn_routes: HashMap::new(),
        withdrawn_flows: HashMap::new(),
        events: io.events,
        listeners,
        unknown_peers: LogLimiter::new(UNKNOWN_PEER_BURST, UNKNOWN_PEER_INTERVAL),
        refused_incoming: HashMap::new(),
        handover: None,
    };
    let mut hitless = io.hitless;
    if hitless.notifier.is_some() {
        d.handover = Some(hitless.switch.clone());
    }
    for n in neighbors {
        match hitless.take(n.address) {
            Some(stored) => {
                let address = stored.address;
                d.adopt_neighbor(n, stored);
                hitless.forget(address);
            }
            None => d.start_neighbor(n),
        }
    }
    hitless.drop_unclaimed();
    // The R bit (graceful restart) is for the neighbors started now; one a reload
    // adds later had no session with us before the restart.
    crate::session::set_restarted(false);
    // The configuration the daemon starts with is generation 1 (metrics).
    crate::control::stats::board()
        .config_generation
        .store(1, std::sync::atomic::Ordering::Relaxed);
    info!(neighbors = d.neighbors.len(), routes, "daemon started");
    let mut control = io.control;
    let mut control_open = true;
    loop {
        let flush = d.next_flush();
        tokio::select! {
            _ = io.shutdown.cancelled() => break,
            _ = sleep_until(flush), if flush.is_some() => {
                d.flush_unknown_peers();
                d.flush_refused_incoming();
            }
            req = control.recv(), if control_open => match req {
                None => control_open = false,
                Some(req) => {
                    if d.execute(req).await {
                        break;
                    }
                }
            },
            Some((stream, peer)) = incoming_rx.recv() => d.dispatch(stream, peer),
        }
    }
    io.shutdown.cancel();
    if hitless.switch.asked() {
        d.hand_over_all(&hitless.switch).await;
    }
    d.stop_all(iana::CEASE_ADMIN_SHUTDOWN, "exabgp shutting down")
        .await;
    info!("daemon stopped");
    Ok(())
}

impl Daemon {
    fn start_neighbor(&mut self, n: NeighborConfig) {
        if let Some(key) = &n.md5_password {
            self.listeners.set_md5(n.address, key);
        }
        // A new session gets every configured route.
        self.withdrawn_routes.remove(&n.address);
        self.withdrawn_flows.remove(&n.address);
        // Run-time announcements win over the config for the same prefix.
        let kept = self.api_routes.get(&n.address);
        let routes = routes_for_iter(&self.config, &n)
            .filter(|r| !kept.is_some_and(|k| k.contains_key(&r.prefix)))
            .chain(kept.into_iter().flat_map(|k| k.values()));
        let count = routes.clone().count();
        info!(peer = %n.address, peer_as = n.peer_as, routes = count, passive = n.passive, "neighbor added");
        let mut flows = flows_for(&self.config, &n);
        if let Some(kept) = self.api_flows.get(&n.address) {
            flows.retain(|f| !kept.contains_key(&f.nlri));
            flows.extend(kept.values().cloned());
        }
        let h = NeighborHandle::spawn(n.clone(), routes, count, self.events.clone());
        if !flows.is_empty() {
            h.send(NeighborCommand::AnnounceFlow(flows));
        }
        self.neighbors.insert(n.address, h);
    }

    /// Continues the session `stored` by the previous process for `n` (see
    /// `hitless.rs`): the routes the API had announced to it are taken back, and
    /// the neighbor adopts the session with the routes wanted now. Refused: the
    /// peer gets a Cease and the neighbor starts as usual.
    fn adopt_neighbor(&mut self, n: NeighborConfig, stored: hitless::StoredSession) {
        let state = match stored.state {
            Ok(state) => state,
            Err(e) => {
                warn!(peer = %n.address, error = %e, "stored session refused: Cease sent, the session is opened again");
                crate::session::handover::cease_and_close(stored.socket, iana::CEASE_ADMIN_RESET);
                return self.start_neighbor(n);
            }
        };
        // The API's routes survive the restart, whether the session does or not.
        if !state.api_routes.is_empty() {
            let kept = self.api_routes.entry(n.address).or_default();
            for r in &state.api_routes {
                kept.insert(r.prefix, r.clone());
            }
        }
        if !state.api_flows.is_empty() {
            let kept = self.api_flows.entry(n.address).or_default();
            for f in &state.api_flows {
                kept.insert(f.nlri.clone(), f.clone());
            }
        }
        // Configured routes withdrawn at run time stay withdrawn while the
        // configuration has them unchanged (as over a reload).
        let gone: HashMap<Prefix, Route> = state
            .withdrawn_routes
            .iter()
            .filter(|w| routes_for_iter(&self.config, &n).any(|r| r == *w))
            .map(|w| (w.prefix, w.clone()))
            .collect();
        let config_flows = flows_for(&self.config, &n);
        let gone_flows: HashMap<FlowNlri, FlowRoute> = state
            .withdrawn_flows
            .iter()
            .filter(|w| config_flows.contains(w))
            .map(|w| (w.nlri.clone(), w.clone()))
            .collect();
        if let Some(key) = &n.md5_password {
            self.listeners.set_md5(n.address, key);
        }
        let kept = self.api_routes.get(&n.address);
        let routes = routes_for_iter(&self.config, &n)
            .filter(|r| !kept.is_some_and(|k| k.contains_key(&r.prefix)))
            .filter(|r| !gone.contains_key(&r.prefix))
            .chain(kept.into_iter().flat_map(|k| k.values()));
        let count = routes.clone().count();
        let mut flows = config_flows;
        flows.retain(|f| !gone_flows.contains_key(&f.nlri));
        if let Some(kept) = self.api_flows.get(&n.address) {
            flows.retain(|f| !kept.contains_key(&f.nlri));
            flows.extend(kept.values().cloned());
        }
        let adopted = NeighborHandle::adopt(
            n.clone(),
            routes,
            count,
            &flows,
            self.events.clone(),
            stored.socket,
            state,
        );
        match adopted {
            Ok(h) => {
                if !gone.is_empty() {
                    self.withdrawn_routes.insert(n.address, gone);
                }
                if !gone_flows.is_empty() {
                    self.withdrawn_flows.insert(n.address, gone_flows);
                }
                info!(peer = %n.address, peer_as = n.peer_as, routes = count, "neighbor added, session adopted from the previous process");
                self.neighbors.insert(n.address, h);
            }
            Err(e) => {
                let subcode = match e.refusal {
                    crate::session::Refusal::Config(_) => iana::CEASE_CONFIG_CHANGE,
                    crate::session::Refusal::Socket(_) => iana::CEASE_ADMIN_RESET,
                };
                warn!(peer = %n.address, reason = %e.refusal, "stored session refused: Cease sent, the session is opened again");
                crate::session::handover::cease_and_close(e.socket, subcode);
                self.start_neighbor(n);
            }
        }
    }

    /// Hands every Established session over (see `hitless.rs`), with the routes
    /// the API announced to it; the neighbors that are not Established stay, for
    /// the Cease of the stop that follows.
    async fn hand_over_all(&mut self, switch: &hitless::HandOverSwitch) {
        let began = std::time::Instant::now();
        let asks: Vec<_> = self
            .neighbors
            .drain()
            .map(|(a, h)| (a, tokio::spawn(h.hand_over(STOP_GRACE))))
            .collect();
        let mut handed = 0;
        for (address, ask) in asks {
            match ask.await {
                Ok(Ok(mut h)) => {
                    if let Some(k) = self.api_routes.get(&address) {
                        h.state.api_routes = k.values().cloned().collect();
                    }
                    if let Some(k) = self.api_flows.get(&address) {
                        h.state.api_flows = k.values().cloned().collect();
                    }
                    if let Some(k) = self.withdrawn_routes.get(&address) {
                        h.state.withdrawn_routes = k.values().cloned().collect();
                    }
                    if let Some(k) = self.withdrawn_flows.get(&address) {
                        h.state.withdrawn_flows = k.values().cloned().collect();
                    }
                    handed += 1;
                    switch.push(h);
                }
                Ok(Err(h)) => {
                    self.neighbors.insert(address, h);
                }
                Err(e) => warn!(peer = %address, error = %e, "hand-over task failed"),
            }
        }
        info!(
            handed,
            others = self.neighbors.len(),
            handover_ms = began.elapsed().as_millis() as u64,
            "sessions handed over: {handed}; the other neighbors get a Cease"
        );
    }

    /// Remembers the configured routes and flow rules of neighbor `a` that
    /// `route` and `flow` select as withdrawn at run time (see
    /// `withdrawn_routes`).
    fn note_withdrawn(
        &mut self,
        a: IpAddr,
        route: impl Fn(&Route) -> bool,
        flow: impl Fn(&FlowRoute) -> bool,
    ) {
        let Some(h) = self.neighbors.get(&a) else {
            return;
        };
        let n = &h.config;
        let routes: Vec<Route> = routes_for_iter(&self.config, n)
            .filter(|r| route(r))
            .cloned()
            .collect();
        let flows: Vec<FlowRoute> = flows_for(&self.config, n)
            .into_iter()
            .filter(|f| flow(f))
            .collect();
        if !routes.is_empty() {
            let w = self.withdrawn_routes.entry(a).or_default();
            w.extend(routes.into_iter().map(|r| (r.prefix, r)));
        }
        if !flows.is_empty() {
            let w = self.withdrawn_flows.entry(a).or_default();
            w.extend(flows.into_iter().map(|f| (f.nlri.clone(), f)));
        }
    }

    /// Takes a neighbor out of the daemon (its MD5 key off the listeners); the
    /// caller stops the returned handle.
    fn detach_neighbor(&mut self, addr: IpAddr) -> Option<NeighborHandle> {
        let h = self.neighbors.remove(&addr)?;
        if let Some(mut l) = self.refused_incoming.remove(&addr) {
            // Nothing later would report what its last interval suppressed.
            let end = std::time::Instant::now() + UNKNOWN_PEER_INTERVAL;
            if let Some(k) = l.flush(end) {
                warn!(peer = %addr, suppressed = k, "suppressed {k} similar messages: {REFUSED_INCOMING}");
            }
        }
        if h.config.md5_password.is_some() {
            self.listeners.clear_md5(addr);
        }
        Some(h)
    }

    async fn stop_all(&mut self, subcode: u8, text: &str) {
        let all: Vec<(NeighborHandle, u8, &str)> = self
            .neighbors
            .drain()
            .map(|(_, h)| (h, subcode, text))
            .collect();
        stop_together(all).await;
    }

    /// An accepted connection goes to the neighbor with that address. For a
    /// neighbor with a TCP MD5 password the key is also set on the connection
    /// itself: one the kernel completed before the listener had the key (a socket
    /// handed over by systemd, a neighbor added by a reload) then cannot carry a
    /// single unsigned segment more.
    fn dispatch(&mut self, stream: tokio::net::TcpStream, peer: std::net::SocketAddr) {
        let ip = peer.ip().to_canonical();
        match self.neighbors.get(&ip) {
            Some(h) => {
                if let Some(key) = &h.config.md5_password {
                    if let Err(e) = set_md5(&stream, peer.ip(), key.as_bytes()) {
                        warn!(peer = %peer, error = %e, "cannot set the TCP MD5 key on an accepted connection: closed");
                        return;
                    }
                }
                match h.incoming(stream) {
                    Ok(()) => {}
                    Err(Refused::Full) => self.refused_incoming(ip, peer),
                    Err(Refused::Gone) => {
                        warn!(peer = %peer, "neighbor task gone, connection closed")
                    }
                }
            }
            None => {
                self.flush_unknown_peers();
                match self.unknown_peers.check(std::time::Instant::now()) {
                    Verdict::Log => warn!(peer = %peer, "{UNKNOWN_PEER}"),
                    Verdict::LogLast => warn!(
                        peer = %peer,
                        "{UNKNOWN_PEER}; more such lines in the next {} s are only counted",
                        UNKNOWN_PEER_INTERVAL.as_secs()
                    ),
                    Verdict::Suppress => {}
                }
            }
        }
    }

    /// When the daemon loop must wake up to report suppressed log lines.
    fn next_flush(&self) -> Option<std::time::Instant> {
        self.refused_incoming
            .values()
            .filter_map(LogLimiter::next_flush)
            .chain(self.unknown_peers.next_flush())
            .min()
    }

    /// A connection from a configured peer closed because it has
    /// [`session::INCOMING_PENDING`] waiting already: logged, rate-limited.
    fn refused_incoming(&mut self, ip: IpAddr, peer: std::net::SocketAddr) {
        let now = std::time::Instant::now();
        let limiter = self
            .refused_incoming
            .entry(ip)
            .or_insert_with(|| LogLimiter::new(UNKNOWN_PEER_BURST, UNKNOWN_PEER_INTERVAL));
        if let Some(k) = limiter.flush(now) {
            warn!(peer = %ip, suppressed = k, "suppressed {k} similar messages: {REFUSED_INCOMING}");
        }
        match limiter.check(now) {
            Verdict::Log => warn!(peer = %peer, "{REFUSED_INCOMING}"),
            Verdict::LogLast => warn!(
                peer = %peer,
                "{REFUSED_INCOMING}; more such lines in the next {} s are only counted",
                UNKNOWN_PEER_INTERVAL.as_secs()
            ),
            Verdict::Suppress => {}
        }
    }

    /// Logs how many refused-connection lines were suppressed per neighbor, once
    /// their interval is over.
    fn flush_refused_incoming(&mut self) {
        let now = std::time::Instant::now();
        for (ip, limiter) in &mut self.refused_incoming {
            if let Some(k) = limiter.flush(now) {
                warn!(peer = %ip, suppressed = k, "suppressed {k} similar messages: {REFUSED_INCOMING}");
            }
        }
    }

    /// Logs how many unknown-peer lines were suppressed, once their interval is over.
    fn flush_unknown_peers(&mut self) {
        if let Some(k) = self.unknown_peers.flush(std::time::Instant::now()) {
            warn!(
                suppressed = k,
                "suppressed {k} similar messages: {UNKNOWN_PEER}"
            );
        }
    }

    fn scoped(&self, scope: &Scope) -> Vec<&NeighborHandle> {
        match scope {
            None => self.neighbors.values().collect(),
            Some(addrs) => addrs
                .iter()
                .filter_map(|a| self.neighbors.get(&a.to_canonical()))
                .collect(),
        }
    }

    /// Executes one command; true when the daemon must stop.
    async fn execute(&mut self, req: ControlRequest) -> bool {
        let ControlRequest { command, reply } = req;
        let mut stop = false;
        let answer = match command {
            Command::Announce { scope, routes } => {
                let targets = self.scoped(&scope);
                if targets.is_empty() {
                    ControlReply::Error("no neighbor matches".into())
                } else {
                    let (accepted, refused) =
                        offer_all(&targets, || NeighborCommand::Announce(routes.clone()));
                    for a in accepted {
                        let kept = self.api_routes.entry(a).or_default();
                        for r in &routes {
                            kept.insert(r.prefix, r.clone());
                        }
                        if let Some(w) = self.withdrawn_routes.get_mut(&a) {
                            for r in &routes {
                                w.remove(&r.prefix);
                            }
                        }
                    }
                    refused_reply(refused)
                }
            }
            Command::Withdraw { scope, prefixes } => {
                let targets = self.scoped(&scope);
                if targets.is_empty() {
                    ControlReply::Error("no neighbor matches".into())
                } else {
                    let (accepted, refused) =
                        offer_all(&targets, || NeighborCommand::Withdraw(prefixes.clone()));
                    let wanted: std::collections::HashSet<&Prefix> = prefixes.iter().collect();
                    for a in accepted {
                        if let Some(kept) = self.api_routes.get_mut(&a) {
                            for p in &prefixes {
                                kept.remove(p);
                            }
                        }
                        self.note_withdrawn(a, |r| wanted.contains(&r.prefix), |_| false);
                    }
                    refused_reply(refused)
                }
            }
            Command::AnnounceFlow { scope, rules } => {
                let targets = self.scoped(&scope);
                // A rule goes only to neighbors configured with its family; one
                // that no target has would be kept and never sent, silently
                // (review): refuse it, as `validate` refuses such a [[flow]].
                let homeless: Vec<String> = rules
                    .iter()
                    .map(|r| r.family())
                    .filter(|f| !targets.iter().any(|t| t.config.families.contains(f)))
                    .map(|f| f.to_string())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                if targets.is_empty() {
                    ControlReply::Error("no neighbor matches".into())
                } else if !homeless.is_empty() {
                    ControlReply::Error(format!(
                        "no neighbor this rule goes to has the family {} in its families",
                        homeless.join(", ")
                    ))
                } else {
                    let (accepted, refused) =
                        offer_all(&targets, || NeighborCommand::AnnounceFlow(rules.clone()));
                    for a in accepted {
                        let kept = self.api_flows.entry(a).or_default();
                        for r in &rules {
                            kept.insert(r.nlri.clone(), r.clone());
                        }
                        if let Some(w) = self.withdrawn_flows.get_mut(&a) {
                            for r in &rules {
                                w.remove(&r.nlri);
                            }
                        }
                    }
                    refused_reply(refused)
                }
            }
            Command::WithdrawFlow { scope, rules } => {
                let targets = self.scoped(&scope);
                if targets.is_empty() {
                    ControlReply::Error("no neighbor matches".into())
                } else {
                    let (accepted, refused) =
                        offer_all(&targets, || NeighborCommand::WithdrawFlow(rules.clone()));
                    for a in accepted {
                        if let Some(kept) = self.api_flows.get_mut(&a) {
                            for r in &rules {
                                kept.remove(r);
                            }
                        }
                        self.note_withdrawn(a, |_| false, |f| rules.contains(&f.nlri));
                    }
                    refused_reply(refused)
                }
            }
            Command::FlushAdjRibOut { scope } => {
                let (_, refused) = offer_all(&self.scoped(&scope), || NeighborCommand::FlushOut);
                refused_reply(refused)
            }
            Command::ClearAdjRib { scope, direction } => {
                let (accepted, refused) = offer_all(&self.scoped(&scope), || match direction {
                    crate::control::RibDirection::In => NeighborCommand::ClearIn,
                    crate::control::RibDirection::Out => NeighborCommand::ClearOut,
                });
                if direction == crate::control::RibDirection::Out {
                    for a in accepted {
                        self.api_routes.remove(&a);
                        self.api_flows.remove(&a);
                        self.note_withdrawn(a, |_| true, |_| true);
                    }
                }
                refused_reply(refused)
            }
            Command::Teardown { address, code } => {
                match self.neighbors.get(&address.to_canonical()) {
                    // Not through the bounded API queue: a stuck neighbor (queue
                    // full) is when the operator needs the teardown most.
                    // A task that has ended is on its way out of the daemon: as
                    // for other commands, nothing to say.
                    Some(h) => {
                        let _ = h.teardown(code);
                        ControlReply::Done
                    }
                    None => ControlReply::Error(format!("no neighbor {address}")),
                }
            }
            Command::ShowNeighbor { address, .. } => {
                let asks = self.ask(address, NeighborCommand::Status);
                tokio::spawn(async move {
                    let mut out: Vec<NeighborStatus> = collect(asks).await;
                    out.sort_by_key(|s| s.peer_address);
                    let _ = reply.send(ControlReply::Neighbors(out));
                });
                return false;
            }
            Command::ShowAdjRib { direction, address } => {
                let asks = self.ask(address, |tx| NeighborCommand::Rib(direction, tx));
                let flow_asks = self.ask(address, |tx| NeighborCommand::FlowRib(direction, tx));
                tokio::spawn(async move {
                    let out: Vec<Vec<RibEntry>> = collect(asks).await;
                    let routes = out.into_iter().flatten().collect();
                    let flows: Vec<crate::control::FlowEntry> =
                        collect(flow_asks).await.into_iter().flatten().collect();
                    let _ = reply.send(if flows.is_empty() {
                        ControlReply::Routes(routes)
                    } else {
                        ControlReply::RoutesAndFlows(routes, flows)
                    });
                });
                return false;
            }
            Command::ApplyConfig(new) => {
                self.apply(*new).await;
                crate::control::stats::board().reload(crate::control::stats::ReloadResult::Applied);
                ControlReply::Done
            }
            Command::Shutdown => {
                stop = true;
                ControlReply::Done
            }
            Command::RestartHitless => match &self.handover {
                Some(switch) if switch.try_ask() => {
                    info!("restart --hitless: handing the sessions over to the next process");
                    stop = true;
                    ControlReply::Done
                }
                Some(_) => ControlReply::Error(
                    "restart --hitless refused: the daemon is stopping and sends Cease to every peer".into(),
                ),
                None => ControlReply::Error(
                    "restart --hitless needs systemd (NOTIFY_SOCKET, the fd store) and exabgp_daemon_hitless=true".into(),
                ),
            },
            Command::Health => {
                let mut h = HealthSummary::default();
                for n in self.neighbors.values() {
                    let b = n.brief();
                    h.total += 1;
                    h.established += usize::from(b.state == PeerState::Established);
                    h.routes += b.prefixes_out;
                }
                ControlReply::Health(h)
            }
        };
        let _ = reply.send(answer);
        stop
    }

    /// Sends a query to the neighbors (all, or the one at `address`) and returns the
    /// receivers in neighbor address order.
    fn ask<T>(
        &self,
        address: Option<IpAddr>,
        make: impl Fn(oneshot::Sender<T>) -> NeighborCommand,
    ) -> Vec<oneshot::Receiver<T>> {
        let mut addrs: Vec<&IpAddr> = self.neighbors.keys().collect();
        addrs.sort();
        addrs
            .into_iter()
            .filter(|a| address.map_or(true, |want| want.to_canonical() == **a))
            .filter_map(|a| {
                let (tx, rx) = oneshot::channel();
                // A neighbor that refuses the query is left out at once, as one
                // that does not answer in time is.
                self.neighbors
                    .get(a)
                    .is_some_and(|h| h.offer(make(tx)).is_ok())
                    .then_some(rx)
            })
            .collect()
    }
}

/// Offers the command `make` builds to each neighbor: the addresses that took it
/// and those that refused it because their queue is full (a neighbor whose task
/// has ended is on its way out of the daemon: neither).
fn offer_all(
    targets: &[&NeighborHandle],
    make: impl Fn() -> NeighborCommand,
) -> (Vec<IpAddr>, Vec<IpAddr>) {
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    for h in targets {
        match h.offer(make()) {
            Ok(()) => accepted.push(h.config.address),
            Err(Refused::Full) => {
                // The sender is told; a flood of refusals is not the journal's.
                debug!(peer = %h.config.address, "command refused: the neighbor is not accepting commands (queue full)");
                refused.push(h.config.address);
            }
            Err(Refused::Gone) => {}
        }
    }
    (accepted, refused)
}

/// Done, or an error naming every neighbor that refused the command (the others
/// have it).
fn refused_reply(refused: Vec<IpAddr>) -> ControlReply {
    if refused.is_empty() {
        return ControlReply::Done;
    }
    let each: Vec<String> = refused
        .iter()
        .map(|a| format!("neighbor {a} is not accepting commands"))
        .collect();
    ControlReply::Error(each.join("; "))
}

/// Stops neighbors concurrently (Cease with each one's subcode and text): the
/// whole takes at most [`STOP_GRACE`] however many peers are slow to take it.
async fn stop_together(stops: Vec<(NeighborHandle, u8, &str)>) {
    let joined: Vec<_> = stops
        .into_iter()
        .map(|(h, subcode, text)| {
            let text = text.to_string();
            tokio::spawn(async move { h.stop(subcode, &text, STOP_GRACE).await })
        })
        .collect();
    for j in joined {
        let _ = j.await;
    }
}

/// The answers that arrive within [`QUERY_TIMEOUT`] of the first wait, in order.
/// One deadline for all: a neighbor that does not answer (its task blocked writing
/// to a peer that stopped reading) costs the query at most that, not that much per
/// neighbor.
async fn collect<T>(asks: Vec<oneshot::Receiver<T>>) -> Vec<T> {
    let deadline = tokio::time::Instant::now() + QUERY_TIMEOUT;
    let mut out = Vec::with_capacity(asks.len());
    for rx in asks {
        if let Ok(Ok(v)) = tokio::time::timeout_at(deadline, rx).await {
            out.push(v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_go_to_named_neighbors_or_to_every_neighbor_of_their_family() {
        let text = r#"
[global]
router-id = "192.0.2.1"
local-as = 65001

[[neighbor]]
address = "192.0.2.254"
peer-as = 65000

[[neighbor]]
address = "192.0.2.253"
peer-as = 65000
families = ["ipv4 unicast", "ipv6 unicast"]

[[route]]
prefix = "203.0.113.0/24"
next-hop = "192.0.2.10"

[[route]]
prefix = "198.51.100.0/24"
next-hop = "192.0.2.10"
neighbors = ["192.0.2.253"]

[[route]]
prefix = "2001:db8::/32"
next-hop = "2001:db8::1"
"#;
        let c = crate::config::parse_str(text, "t.toml").unwrap();
        let names = |n: &NeighborConfig| {
            let mut v: Vec<String> = routes_for(&c, n)
                .iter()
                .map(|r| r.prefix.to_string())
                .collect();
            v.sort();
            v
        };
        assert_eq!(names(&c.neighbors[0]), vec!["203.0.113.0/24"]);
        assert_eq!(
            names(&c.neighbors[1]),
            vec!["198.51.100.0/24", "2001:db8::/32", "203.0.113.0/24"]
        );
    }
}

#[cfg(test)]
mod core_tests {
    use std::sync::Arc;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::bgp::{AsPath, Origin, PathAttributes};
    use crate::rib::NextHop;

    /// A daemon core with `text`'s neighbors started and no BGP listener.
    fn daemon(text: &str) -> Daemon {
        let config = crate::config::parse_str(text, "t.toml").unwrap();
        let (incoming, _) = mpsc::channel(1);
        let listeners =
            accept::Listeners::start(vec![], incoming, CancellationToken::new()).unwrap();
        let (events, _) = crate::control::event_channel(16, 1 << 20);
        let mut d = Daemon {
            config: config.clone(),
            neighbors: HashMap::new(),
            api_routes: HashMap::new(),
            api_flows: HashMap::new(),
            withdrawn_routes: HashMap::new(),
            withdrawn_flows: HashMap::new(),
            events,
            listeners,
            unknown_peers: LogLimiter::new(UNKNOWN_PEER_BURST, UNKNOWN_PEER_INTERVAL),
            refused_incoming: HashMap::new(),
            handover: None,
        };
        for n in config.neighbors {
            d.start_neighbor(n);
        }
        d
    }

    /// Hands `command` to the core; the receiver of its reply.
    async fn send(d: &mut Daemon, command: Command) -> oneshot::Receiver<ControlReply> {
        let (reply, rx) = oneshot::channel();
        d.execute(ControlRequest { command, reply }).await;
        rx
    }

    /// `command`'s reply.
    async fn run(d: &mut Daemon, command: Command) -> ControlReply {
        send(d, command).await.await.unwrap()
    }

    /// A peer that completes the handshake and then stops reading blocks its
    /// neighbor task in a write; the health probe (STATUS=, watchdog) is still
    /// answered at once, from what the tasks published.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn health_is_answered_while_a_peer_stops_reading() {
        let peer = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = peer.local_addr().unwrap().port();
        let text = format!(
            "[global]\nrouter-id = \"192.0.2.1\"\nlocal-as = 65001\n\
             [[neighbor]]\naddress = \"127.0.0.1\"\npeer-as = 65000\nport = {port}\n\
             [[neighbor]]\naddress = \"127.0.0.3\"\npeer-as = 65000\npassive = true\n"
        );
        let mut d = daemon(&text);
        // Distinct MEDs: one UPDATE per route, megabytes in all.
        let routes: Vec<Route> = (0..200_000u32)
            .map(|i| Route {
                prefix: Prefix::new(IpAddr::V4((0x0a00_0000 + (i << 8)).into()), 24).unwrap(),
                next_hop: NextHop::SelfAddress,
                attributes: Arc::new(PathAttributes {
                    origin: Some(Origin::Igp),
                    as_path: Some(AsPath::sequence(vec![65001])),
                    med: Some(i),
                    ..Default::default()
                }),
            })
            .collect();
        send(
            &mut d,
            Command::Announce {
                scope: Some(vec!["127.0.0.1".parse().unwrap()]),
                routes,
            },
        )
        .await;
        let limit = Duration::from_secs(20);
        let (mut s, _) = tokio::time::timeout(limit, peer.accept())
            .await
            .unwrap()
            .unwrap();
        let mut buf = vec![0u8; 4096];
        let _ = s.read(&mut buf).await.unwrap(); // its OPEN
        let mut open = vec![0xffu8; 16];
        open.extend_from_slice(&[0, 29, 1, 4, 0xfd, 0xe8, 0, 90, 10, 0, 0, 9, 0]);
        s.write_all(&open).await.unwrap();
        let mut keepalive = vec![0xffu8; 16];
        keepalive.extend_from_slice(&[0, 19, 4]);
        s.write_all(&keepalive).await.unwrap();
        // Not reading from here on. Wait until the task is Established (and so
        // stuck writing the table).
        let up = async {
            loop {
                if let Ok(ControlReply::Health(h)) = send(&mut d, Command::Health).await.await {
                    if h.established == 1 {
                        return h;
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        let h = tokio::time::timeout(limit, up).await.expect("Established");
        assert_eq!((h.total, h.routes), (2, 200_000));
        // The task is blocked: a Status query to it goes unanswered...
        tokio::time::sleep(Duration::from_millis(500)).await;
        let asks = d.ask(Some("127.0.0.1".parse().unwrap()), NeighborCommand::Status);
        let status = tokio::time::timeout(Duration::from_secs(1), async {
            for rx in asks {
                let _ = rx.await;
            }
        })
        .await;
        assert!(
            status.is_err(),
            "the stalled task answered: no stall to test"
        );
        // ... while Health is answered at once, every time.
        for _ in 0..3 {
            let rx = send(&mut d, Command::Health).await;
            let got = tokio::time::timeout(Duration::from_millis(200), rx).await;
            assert!(
                matches!(got, Ok(Ok(ControlReply::Health(h))) if h.total == 2 && h.established == 1),
                "{got:?}"
            );
        }
        drop(s);
        d.stop_all(iana::CEASE_ADMIN_SHUTDOWN, "test over").await;
    }

    /// A config route withdrawn at run time stays withdrawn across a reload that
    /// does not change it; a reload that changes it announces it again.
    #[tokio::test]
    async fn reload_keeps_a_run_time_withdraw_of_an_unchanged_config_route() {
        let text = "[global]\nrouter-id = \"192.0.2.1\"\nlocal-as = 65001\n\
                    [[neighbor]]\naddress = \"192.0.2.254\"\npeer-as = 65000\npassive = true\n\
                    [[route]]\nprefix = \"203.0.113.0/24\"\nnext-hop = \"192.0.2.10\"\n\
                    [[route]]\nprefix = \"198.51.100.0/24\"\nnext-hop = \"192.0.2.10\"\n";
        let config = crate::config::parse_str(text, "t.toml").unwrap();
        let mut d = daemon(text);
        async fn held(d: &mut Daemon) -> Vec<String> {
            match run(
                d,
                Command::ShowAdjRib {
                    direction: crate::control::RibDirection::Out,
                    address: None,
                },
            )
            .await
            {
                ControlReply::Routes(r) => r.iter().map(|e| e.prefix.to_string()).collect(),
                other => panic!("{other:?}"),
            }
        }
        let drained: Prefix = "203.0.113.0/24".parse().unwrap();
        run(
            &mut d,
            Command::Withdraw {
                scope: None,
                prefixes: vec![drained],
            },
        )
        .await;
        assert_eq!(held(&mut d).await, vec!["198.51.100.0/24"]);
        run(&mut d, Command::ApplyConfig(Box::new(config.clone()))).await;
        assert_eq!(
            held(&mut d).await,
            vec!["198.51.100.0/24"],
            "a no-op reload re-announced the drained route"
        );
        let changed = text.replacen(
            "prefix = \"203.0.113.0/24\"\nnext-hop = \"192.0.2.10\"",
            "prefix = \"203.0.113.0/24\"\nnext-hop = \"192.0.2.10\"\nmed = 5",
            1,
        );
        let changed = crate::config::parse_str(&changed, "t.toml").unwrap();
        run(&mut d, Command::ApplyConfig(Box::new(changed))).await;
        assert_eq!(
            held(&mut d).await,
            vec!["198.51.100.0/24", "203.0.113.0/24"],
            "a reload that changes the route announces it"
        );
        d.stop_all(iana::CEASE_ADMIN_SHUTDOWN, "test over").await;
    }
}
