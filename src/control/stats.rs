//! Published counters for the metrics endpoint: values the daemon's tasks write as
//! they work (atomics, never a lock on a hot path) and a scrape reads without
//! asking any task, so a scrape never waits for the core loop or for a neighbor
//! blocked writing to a peer that stopped reading.
//!
//! One [`Board`] per process ([`board`]): the counters are bumped from layers that
//! share no context object (session tasks, helper supervisors, the control socket,
//! the event bus) and one daemon runs per process. Neighbors and helpers register
//! a `Weak` to their own counters: a neighbor or helper that is gone (its handle
//! dropped) leaves the board by itself, without an unregister call to forget.
//! `src/metrics/` turns a [`Board::snapshot`] into the exposition text.
//!
//! Peer state follows GoBGP's meaning of its metrics: the session's up time is the
//! Unix time it last became Established (kept while it is down, 0 before the
//! first time), and a flop is a session that went down less than
//! [`FLOP_THRESHOLD`] after it came up (measured on the monotonic clock). The
//! state and the flop count share one atomic word, so a reader never sees a
//! state change without the flop it made. A neighbor restarted by a reload keeps
//! the flop count of the address (GoBGP keeps it with the peer's configuration).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::bgp::Family;
use crate::control::{MessageCounters, PeerState};

/// Message counters as atomics (one set sent, one received).
#[derive(Debug, Default)]
pub struct MessageAtomics {
    pub open: AtomicU64,
    pub update: AtomicU64,
    pub notification: AtomicU64,
    pub keepalive: AtomicU64,
    pub route_refresh: AtomicU64,
}

impl MessageAtomics {
    fn store(&self, c: &MessageCounters) {
        self.open.store(c.open, Ordering::Relaxed);
        self.update.store(c.update, Ordering::Relaxed);
        self.notification.store(c.notification, Ordering::Relaxed);
        self.keepalive.store(c.keepalive, Ordering::Relaxed);
        self.route_refresh.store(c.route_refresh, Ordering::Relaxed);
    }

    fn load(&self) -> MessageCounters {
        MessageCounters {
            open: self.open.load(Ordering::Relaxed),
            update: self.update.load(Ordering::Relaxed),
            notification: self.notification.load(Ordering::Relaxed),
            keepalive: self.keepalive.load(Ordering::Relaxed),
            route_refresh: self.route_refresh.load(Ordering::Relaxed),
        }
    }
}

/// Routes of one family in a neighbor's Adj-RIBs.
#[derive(Debug)]
pub struct FamilyRoutes {
    pub family: Family,
    /// Adj-RIB-In: what the peer sent us and we hold (no import policy: all of it
    /// is accepted).
    pub received: AtomicU64,
    /// Adj-RIB-Out: what we announce to the peer.
    pub advertised: AtomicU64,
}

/// A session that goes down less than this long after it became Established is a
/// flop (GoBGP's flopThreshold).
pub const FLOP_THRESHOLD: Duration = Duration::from_secs(30);

/// Flop counts of neighbors whose counters are gone, kept for this many addresses
/// at most (a reload that restarts a neighbor hands its count on through here).
pub const MAX_RETIRED: usize = 4096;

/// What one neighbor task publishes for the metrics endpoint. Written by that
/// task alone (the board only reads it).
#[derive(Debug)]
pub struct PeerStats {
    pub address: IpAddr,
    pub peer_as: u32,
    /// The FSM state's index in [`STATES`] (low 8 bits) and the flop count (the
    /// rest): one word, so a reader sees a state and the flops it made together.
    state_flops: AtomicU64,
    /// Unix time (seconds) the session last became Established; 0 before the first
    /// time. Written before the state that makes it current (Release/Acquire).
    up_unix: AtomicI64,
    /// When the session last became Established, in milliseconds of the
    /// process's monotonic clock ([`mono_ms`]); for the flop threshold.
    up_mono: AtomicU64,
    sent: MessageAtomics,
    received: MessageAtomics,
    /// One entry per configured family, fixed at creation (no lock to read it).
    families: Vec<FamilyRoutes>,
    /// Estimated bytes held by the Adj-RIB-In and the Adj-RIB-Out.
    rib_in_bytes: AtomicU64,
    rib_out_bytes: AtomicU64,
    /// The last NOTIFICATION sent or received: bit 24 set when there is one, bit 16
    /// set when we received it, then code (8 bits) and subcode (8 bits).
    last_notification: AtomicU32,
}

/// A copy of one neighbor's published values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerSnapshot {
    pub address: IpAddr,
    pub peer_as: u32,
    pub state: PeerState,
    /// Unix time (seconds) the session last became Established; 0 if it never did
    /// (kept while the session is down, as GoBGP's bgp_peer_uptime).
    pub up_since: i64,
    pub flops: u64,
    pub sent: MessageCounters,
    pub received: MessageCounters,
    /// (family, received, advertised) per configured family.
    pub families: Vec<(Family, u64, u64)>,
    /// Estimated bytes of the Adj-RIB-In and Adj-RIB-Out.
    pub rib_in_bytes: u64,
    pub rib_out_bytes: u64,
    pub last_notification: Option<LastNotification>,
}

/// The last NOTIFICATION of a session, as `bgp_peer_last_error` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastNotification {
    pub code: u8,
    pub subcode: u8,
    /// True when the peer sent it, false when we did.
    pub received: bool,
}

const STATES: [PeerState; 6] = [
    PeerState::Idle,
    PeerState::Connect,
    PeerState::Active,
    PeerState::OpenSent,
    PeerState::OpenConfirm,
    PeerState::Established,
];

const ESTABLISHED: u64 = STATES.len() as u64 - 1;

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Milliseconds of the monotonic clock since the first call in this process.
fn mono_ms() -> u64 {
    static BASE: OnceLock<Instant> = OnceLock::new();
    let base = *BASE.get_or_init(Instant::now);
    u64::try_from(base.elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl PeerStats {
    /// Counters for a neighbor with these families, registered on the [`board`]
    /// for as long as the returned `Arc` lives. The flop count starts from the
    /// address's earlier counters (a neighbor restarted by a reload).
    pub fn register(address: IpAddr, peer_as: u32, families: &[Family]) -> Arc<PeerStats> {
        board().register_peer(address, |flops| PeerStats {
            address,
            peer_as,
            state_flops: AtomicU64::new(flops << 8),
            up_unix: AtomicI64::new(0),
            up_mono: AtomicU64::new(0),
            sent: MessageAtomics::default(),
            received: MessageAtomics::default(),
            families: families
                .iter()
                .map(|f| FamilyRoutes {
                    family: *f,
                    received: AtomicU64::new(0),
                    advertised: AtomicU64::new(0),
                })
                .collect(),
            rib_in_bytes: AtomicU64::new(0),
            rib_out_bytes: AtomicU64::new(0),
            last_notification: AtomicU32::new(0),
        })
    }

    fn flops(&self) -> u64 {
        self.state_flops.load(Ordering::Acquire) >> 8
    }

    /// Publishes the FSM state (called by the neighbor task only, on every loop
    /// turn: a state that did not change costs one load). Entering Established
    /// records the up time; leaving it within [`FLOP_THRESHOLD`] counts a flop.
    pub fn set_state(&self, s: PeerState) {
        self.set_state_at(s, mono_ms());
    }

    /// [`PeerStats::set_state`] at `now` ([`mono_ms`]'s clock).
    fn set_state_at(&self, s: PeerState, now: u64) {
        let i = STATES.iter().position(|x| *x == s).unwrap_or(0) as u64;
        // One writer: a plain load and store, no read-modify-write needed.
        let cur = self.state_flops.load(Ordering::Relaxed);
        let was = cur & 0xff;
        if i == was {
            return;
        }
        let mut flops = cur >> 8;
        if i == ESTABLISHED {
            self.up_mono.store(now, Ordering::Relaxed);
            self.up_unix.store(unix_now(), Ordering::Relaxed);
        } else if was == ESTABLISHED {
            let up_for = now.saturating_sub(self.up_mono.load(Ordering::Relaxed));
            if u128::from(up_for) < FLOP_THRESHOLD.as_millis() {
                flops = flops.saturating_add(1);
            }
        }
        // Release: a reader that sees the new state sees the up time stored above.
        self.state_flops.store((flops << 8) | i, Ordering::Release);
    }

    /// Publishes the message counters.
    pub fn set_messages(&self, sent: &MessageCounters, received: &MessageCounters) {
        self.sent.store(sent);
        self.received.store(received);
    }

    /// Publishes the route counts: `received(family)` and `advertised(family)` are
    /// asked for each configured family.
    pub fn set_routes(
        &self,
        received: impl Fn(Family) -> usize,
        advertised: impl Fn(Family) -> usize,
    ) {
        for f in &self.families {
            f.received
                .store(received(f.family) as u64, Ordering::Relaxed);
            f.advertised
                .store(advertised(f.family) as u64, Ordering::Relaxed);
        }
    }

    /// Publishes the estimated bytes of the Adj-RIB-In and Adj-RIB-Out.
    pub fn set_rib_bytes(&self, rib_in: usize, rib_out: usize) {
        self.rib_in_bytes.store(rib_in as u64, Ordering::Relaxed);
        self.rib_out_bytes.store(rib_out as u64, Ordering::Relaxed);
    }

    /// Records a NOTIFICATION sent (`received` false) or received.
    pub fn set_notification(&self, code: u8, subcode: u8, received: bool) {
        let v =
            (1 << 24) | (u32::from(received) << 16) | (u32::from(code) << 8) | u32::from(subcode);
        self.last_notification.store(v, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> PeerSnapshot {
        // Acquire pairs with set_state's Release: the up time matches the state.
        let sf = self.state_flops.load(Ordering::Acquire);
        let state = STATES[usize::try_from(sf & 0xff).map_or(0, |i| i.min(STATES.len() - 1))];
        let n = self.last_notification.load(Ordering::Relaxed);
        PeerSnapshot {
            address: self.address,
            peer_as: self.peer_as,
            state,
            up_since: self.up_unix.load(Ordering::Relaxed),
            flops: sf >> 8,
            sent: self.sent.load(),
            received: self.received.load(),
            families: self
                .families
                .iter()
                .map(|f| {
                    (
                        f.family,
                        f.received.load(Ordering::Relaxed),
                        f.advertised.load(Ordering::Relaxed),
                    )
                })
                .collect(),
            rib_in_bytes: self.rib_in_bytes.load(Ordering::Relaxed),
            rib_out_bytes: self.rib_out_bytes.load(Ordering::Relaxed),
            last_notification: (n & (1 << 24) != 0).then_some(LastNotification {
                code: (n >> 8) as u8,
                subcode: n as u8,
                received: n & (1 << 16) != 0,
            }),
        }
    }
}

impl Drop for PeerStats {
    /// Hands the flop count on to the next neighbor of this address.
    fn drop(&mut self) {
        let flops = self.flops();
        if flops > 0 {
            board().retire(self.address, flops);
        }
    }
}

/// What a helper supervisor publishes (implemented by the API layer's own
/// per-helper counters, so nothing is counted twice).
pub trait HelperView: Send + Sync {
    /// Times the program was started (the first start included).
    fn starts(&self) -> u64;
    /// Events not delivered because its queue was full.
    fn dropped(&self) -> u64;
    /// Exited too often and is not respawned any more.
    fn given_up(&self) -> bool;
    /// Ended, and waiting for the respawn delay before the next start.
    fn backing_off(&self) -> bool;
}

/// Where a helper's supervisor is, as `exabgp_helper_state{state}` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelperState {
    /// Started (or being started).
    Running,
    /// Ended; waiting for the respawn delay.
    BackingOff,
    /// Ended too often: not respawned any more.
    GivenUp,
}

impl HelperState {
    pub const ALL: [HelperState; 3] = [
        HelperState::Running,
        HelperState::BackingOff,
        HelperState::GivenUp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HelperState::Running => "running",
            HelperState::BackingOff => "backing_off",
            HelperState::GivenUp => "given_up",
        }
    }
}

/// A copy of one helper's published values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelperSnapshot {
    pub name: String,
    pub starts: u64,
    pub dropped: u64,
    pub state: HelperState,
}

/// How a reload ended, as `exabgp_reloads_total{result}` counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadResult {
    /// The core applied the new configuration.
    Applied,
    /// The file did not read or validate: the running configuration stays.
    Rejected,
    /// Handed to the core, which refused it or did not answer.
    Failed,
}

/// The process-wide counters and the registered neighbors and helpers. The two
/// lists are behind locks taken only to register (neighbor or helper start) and
/// to copy the `Arc`s out for a snapshot: never while a neighbor works.
#[derive(Default)]
pub struct Board {
    peers: Mutex<Vec<Weak<PeerStats>>>,
    helpers: Mutex<Vec<(String, Weak<dyn HelperView>)>>,
    /// Flop counts of neighbors whose counters were dropped, by address.
    retired: Mutex<HashMap<IpAddr, u64>>,
    pub api_done: AtomicU64,
    pub api_error: AtomicU64,
    /// Lines that were not a command (syntax, too long, not UTF-8).
    pub api_parse_error: AtomicU64,
    pub control_clients: AtomicI64,
    pub reloads_applied: AtomicU64,
    pub reloads_rejected: AtomicU64,
    pub reloads_failed: AtomicU64,
    /// Configurations applied since start: 1 for the startup one, +1 per reload.
    pub config_generation: AtomicU64,
    /// Events dropped for every helper (the event bus's byte budget was full).
    pub events_dropped: AtomicU64,
}

/// A copy of everything on the board.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BoardSnapshot {
    pub peers: Vec<PeerSnapshot>,
    pub helpers: Vec<HelperSnapshot>,
    pub api_done: u64,
    pub api_error: u64,
    pub api_parse_error: u64,
    pub control_clients: i64,
    pub reloads_applied: u64,
    pub reloads_rejected: u64,
    pub reloads_failed: u64,
    pub config_generation: u64,
    pub events_dropped: u64,
}

/// The process's board.
pub fn board() -> &'static Board {
    static BOARD: OnceLock<Board> = OnceLock::new();
    BOARD.get_or_init(Board::default)
}

/// Counts a connected control socket client while it lives.
pub struct ClientGuard(());

impl Drop for ClientGuard {
    fn drop(&mut self) {
        board().control_clients.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Keeps, of `items` (in registration order), the newest of each key, sorted by
/// key: O(n log n).
fn newest_by_key<T, K: Ord>(mut items: Vec<T>, key: impl Fn(&T) -> K) -> Vec<T> {
    items.reverse();
    // Stable: within one key, the newest registration stays first.
    items.sort_by_key(&key);
    items.dedup_by(|later, first| key(later) == key(first));
    items
}

impl Board {
    /// Registers the counters `make(flops)` builds, `flops` being the count the
    /// address had so far (its live registrations, or the retired one).
    fn register_peer(
        &self,
        address: IpAddr,
        make: impl FnOnce(u64) -> PeerStats,
    ) -> Arc<PeerStats> {
        let retired = self
            .retired
            .lock()
            .ok()
            .and_then(|mut m| m.remove(&address))
            .unwrap_or(0);
        let Ok(mut v) = self.peers.lock() else {
            return Arc::new(make(retired));
        };
        v.retain(|w| w.strong_count() > 0);
        let live = v
            .iter()
            .filter_map(Weak::upgrade)
            .filter(|p| p.address == address)
            .map(|p| p.flops())
            .max()
            .unwrap_or(0);
        let s = Arc::new(make(live.max(retired)));
        v.push(Arc::downgrade(&s));
        s
    }

    /// Keeps the flop count of a neighbor whose counters are dropped.
    fn retire(&self, address: IpAddr, flops: u64) {
        if let Ok(mut m) = self.retired.lock() {
            if m.len() < MAX_RETIRED || m.contains_key(&address) {
                let e = m.entry(address).or_insert(0);
                *e = (*e).max(flops);
            }
        }
    }

    /// Registers a helper's counters under its name while they live.
    pub fn add_helper(&self, name: &str, h: Weak<dyn HelperView>) {
        if let Ok(mut v) = self.helpers.lock() {
            v.retain(|(_, w)| w.strong_count() > 0);
            v.push((name.to_string(), h));
        }
    }

    /// One more control socket client, until the guard is dropped.
    pub fn control_client(&self) -> ClientGuard {
        self.control_clients.fetch_add(1, Ordering::Relaxed);
        ClientGuard(())
    }

    /// Counts an API command's outcome.
    pub fn api_command(&self, ok: bool) {
        let c = if ok { &self.api_done } else { &self.api_error };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a line that was not a command (refused before it ran).
    pub fn api_unparsed(&self) {
        self.api_parse_error.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a reload's outcome (an applied one also moves the generation on).
    pub fn reload(&self, r: ReloadResult) {
        let c = match r {
            ReloadResult::Applied => {
                self.config_generation.fetch_add(1, Ordering::Relaxed);
                &self.reloads_applied
            }
            ReloadResult::Rejected => &self.reloads_rejected,
            ReloadResult::Failed => &self.reloads_failed,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Everything, read now. Neighbors sorted by address (two registrations of one
    /// address, a neighbor restarted by a reload while the old task ends: the
    /// newest wins); helpers by name. The locks are held only to copy the `Arc`s.
    pub fn snapshot(&self) -> BoardSnapshot {
        let live: Vec<Arc<PeerStats>> = match self.peers.lock() {
            Ok(v) => v.iter().filter_map(Weak::upgrade).collect(),
            Err(_) => Vec::new(),
        };
        let peers = newest_by_key(live, |p| p.address)
            .iter()
            .map(|p| p.snapshot())
            .collect();
        let helpers: Vec<(String, Arc<dyn HelperView>)> = match self.helpers.lock() {
            Ok(v) => v
                .iter()
                .filter_map(|(n, w)| Some((n.clone(), w.upgrade()?)))
                .collect(),
            Err(_) => Vec::new(),
        };
        let helpers = newest_by_key(helpers, |(n, _)| n.clone())
            .into_iter()
            .map(|(name, h)| HelperSnapshot {
                name,
                starts: h.starts(),
                dropped: h.dropped(),
                state: if h.given_up() {
                    HelperState::GivenUp
                } else if h.backing_off() {
                    HelperState::BackingOff
                } else {
                    HelperState::Running
                },
            })
            .collect();
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        BoardSnapshot {
            peers,
            helpers,
            api_done: l(&self.api_done),
            api_error: l(&self.api_error),
            api_parse_error: l(&self.api_parse_error),
            control_clients: self.control_clients.load(Ordering::Relaxed).max(0),
            reloads_applied: l(&self.reloads_applied),
            reloads_rejected: l(&self.reloads_rejected),
            reloads_failed: l(&self.reloads_failed),
            config_generation: l(&self.config_generation),
            events_dropped: l(&self.events_dropped),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Leaving Established soon after counts one flop; other moves do not. The up
    /// time is the Unix time of the last establishment and stays while down.
    #[test]
    fn a_flop_is_counted_when_established_is_left() {
        let s = PeerStats::register("192.0.2.9".parse().unwrap(), 65000, &[Family::IPV4_UNICAST]);
        s.set_state(PeerState::Active);
        s.set_state(PeerState::OpenSent);
        s.set_state(PeerState::Idle);
        assert_eq!((s.snapshot().flops, s.snapshot().up_since), (0, 0));
        let before = unix_now();
        s.set_state(PeerState::Established);
        let up = s.snapshot().up_since;
        assert!(up >= before && up <= unix_now(), "{up}");
        s.set_state(PeerState::Established);
        s.set_state(PeerState::Idle);
        let snap = s.snapshot();
        assert_eq!(
            (snap.flops, snap.up_since, snap.state),
            (1, up, PeerState::Idle)
        );
    }

    /// A session that stayed up for FLOP_THRESHOLD or more is not a flop when it
    /// goes down (GoBGP's rule); the threshold is read on the monotonic clock.
    #[test]
    fn a_long_session_going_down_is_not_a_flop() {
        let s = PeerStats::register("192.0.2.12".parse().unwrap(), 65000, &[]);
        let t = u64::try_from(FLOP_THRESHOLD.as_millis()).unwrap();
        s.set_state_at(PeerState::Established, 1000);
        s.set_state_at(PeerState::Idle, 1000 + t);
        assert_eq!(s.snapshot().flops, 0);
        s.set_state_at(PeerState::Established, 5 * t);
        s.set_state_at(PeerState::Idle, 6 * t - 1);
        assert_eq!(s.snapshot().flops, 1);
    }

    /// A neighbor restarted by a reload (new counters for the same address, while
    /// the old ones live or after they are gone) keeps the address's flop count.
    #[test]
    fn the_flop_count_survives_a_restart_of_the_neighbor() {
        let a: IpAddr = "192.0.2.13".parse().unwrap();
        let old = PeerStats::register(a, 65000, &[]);
        old.set_state(PeerState::Established);
        old.set_state(PeerState::Idle);
        old.set_state(PeerState::Established);
        old.set_state(PeerState::Idle);
        // Restarted while the old task still ends.
        let new = PeerStats::register(a, 65000, &[]);
        assert_eq!(new.snapshot().flops, 2);
        drop(old);
        new.set_state(PeerState::Established);
        new.set_state(PeerState::Idle);
        // Restarted after the old counters are gone.
        drop(new);
        let third = PeerStats::register(a, 65000, &[]);
        assert_eq!(third.snapshot().flops, 3);
        let seen = board().snapshot();
        let p = seen.peers.iter().find(|p| p.address == a).unwrap();
        assert_eq!(p.flops, 3);
    }

    /// A reader sees the state and the flop it made in one load: never the state
    /// Idle after an Established session with the flop count from before.
    #[test]
    fn state_and_flops_are_read_together() {
        let s = PeerStats::register("192.0.2.14".parse().unwrap(), 65000, &[]);
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let reader = {
            let (s, done) = (s.clone(), done.clone());
            std::thread::spawn(move || {
                let mut bad = 0u32;
                let mut seen_up = false;
                let mut last = 0;
                for _ in 0..2_000_000 {
                    if done.load(Ordering::Relaxed) {
                        break;
                    }
                    let p = s.snapshot();
                    // Each Established -> Idle flops once: Established with n flops
                    // is followed by Idle with n + 1.
                    if p.state == PeerState::Established {
                        seen_up = true;
                        last = p.flops;
                    } else if seen_up && p.state == PeerState::Idle && p.flops == last {
                        bad += 1;
                    }
                    if p.state == PeerState::Idle {
                        seen_up = false;
                    }
                }
                bad
            })
        };
        for _ in 0..1_000_000 {
            s.set_state(PeerState::Established);
            s.set_state(PeerState::Idle);
        }
        done.store(true, Ordering::Relaxed);
        assert_eq!(reader.join().unwrap(), 0);
    }

    #[derive(Default)]
    struct Helper {
        starts: AtomicU64,
        given_up: std::sync::atomic::AtomicBool,
        backing_off: std::sync::atomic::AtomicBool,
    }

    impl HelperView for Helper {
        fn starts(&self) -> u64 {
            self.starts.load(Ordering::Relaxed)
        }
        fn dropped(&self) -> u64 {
            0
        }
        fn given_up(&self) -> bool {
            self.given_up.load(Ordering::Relaxed)
        }
        fn backing_off(&self) -> bool {
            self.backing_off.load(Ordering::Relaxed)
        }
    }

    /// A helper's state on the board follows its supervisor: running, backing
    /// off between two starts, given up (which wins).
    #[test]
    fn helper_states() {
        let h = Arc::new(Helper::default());
        let view: Arc<dyn HelperView> = h.clone();
        board().add_helper("stats-test-helper", Arc::downgrade(&view));
        let state = || {
            board()
                .snapshot()
                .helpers
                .into_iter()
                .find(|x| x.name == "stats-test-helper")
                .map(|x| x.state)
        };
        assert_eq!(state(), Some(HelperState::Running));
        h.backing_off.store(true, Ordering::Relaxed);
        assert_eq!(state(), Some(HelperState::BackingOff));
        h.given_up.store(true, Ordering::Relaxed);
        assert_eq!(state(), Some(HelperState::GivenUp));
        drop(view);
        drop(h);
        assert_eq!(state(), None);
    }

    /// The snapshot keeps the newest registration of an address, sorted.
    #[test]
    fn newest_registration_wins_sorted() {
        let v = vec![(3, 'a'), (1, 'b'), (3, 'c'), (2, 'd'), (1, 'e')];
        assert_eq!(
            newest_by_key(v, |x| x.0),
            vec![(1, 'e'), (2, 'd'), (3, 'c')]
        );
    }

    #[test]
    fn the_last_notification_round_trips() {
        let s = PeerStats::register("192.0.2.10".parse().unwrap(), 65000, &[]);
        assert_eq!(s.snapshot().last_notification, None);
        s.set_notification(6, 2, true);
        assert_eq!(
            s.snapshot().last_notification,
            Some(LastNotification {
                code: 6,
                subcode: 2,
                received: true
            })
        );
        s.set_notification(4, 0, false);
        assert_eq!(
            s.snapshot().last_notification,
            Some(LastNotification {
                code: 4,
                subcode: 0,
                received: false
            })
        );
    }

    /// A neighbor whose counters are dropped leaves the board.
    #[test]
    fn dropped_peers_leave_the_board() {
        let a: IpAddr = "192.0.2.11".parse().unwrap();
        let s = PeerStats::register(a, 65000, &[]);
        assert!(board().snapshot().peers.iter().any(|p| p.address == a));
        drop(s);
        assert!(!board().snapshot().peers.iter().any(|p| p.address == a));
    }
}
