//! Published counters for the metrics endpoint: values the daemon's tasks write as
//! they work (relaxed atomics, never a lock on a hot path) and a scrape reads
//! without asking any task, so a scrape never waits for the core loop or for a
//! neighbor blocked writing to a peer that stopped reading.
//!
//! One [`Board`] per process ([`board`]): the counters are bumped from layers that
//! share no context object (session tasks, helper supervisors, the control socket,
//! the event bus) and one daemon runs per process. Neighbors and helpers register
//! a `Weak` to their own counters: a neighbor or helper that is gone (its handle
//! dropped) leaves the board by itself, without an unregister call to forget.
//! `src/metrics/` turns a [`Board::snapshot`] into the exposition text.

use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{SystemTime, UNIX_EPOCH};

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

/// What one neighbor task publishes for the metrics endpoint.
#[derive(Debug)]
pub struct PeerStats {
    pub address: IpAddr,
    pub peer_as: u32,
    state: AtomicU8,
    /// Unix time (seconds) the session became Established; 0 when it is not.
    established_since: AtomicI64,
    /// Sessions that went down after being Established (GoBGP's flops).
    flops: AtomicU64,
    sent: MessageAtomics,
    received: MessageAtomics,
    /// One entry per configured family, fixed at creation (no lock to read it).
    families: Vec<FamilyRoutes>,
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
    /// Seconds since the session became Established (None when it is not).
    pub uptime: Option<u64>,
    pub flops: u64,
    pub sent: MessageCounters,
    pub received: MessageCounters,
    /// (family, received, advertised) per configured family.
    pub families: Vec<(Family, u64, u64)>,
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

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl PeerStats {
    /// Counters for a neighbor with these families, registered on the [`board`]
    /// for as long as the returned `Arc` lives.
    pub fn register(address: IpAddr, peer_as: u32, families: &[Family]) -> Arc<PeerStats> {
        let s = Arc::new(PeerStats {
            address,
            peer_as,
            state: AtomicU8::new(0),
            established_since: AtomicI64::new(0),
            flops: AtomicU64::new(0),
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
            last_notification: AtomicU32::new(0),
        });
        board().add_peer(&s);
        s
    }

    /// Publishes the FSM state; entering Established starts the uptime, leaving it
    /// counts a flop.
    pub fn set_state(&self, s: PeerState) {
        let i = STATES.iter().position(|x| *x == s).unwrap_or(0) as u8;
        let was = self.state.swap(i, Ordering::Relaxed);
        let established = STATES.len() as u8 - 1;
        if i == established && was != established {
            self.established_since.store(unix_now(), Ordering::Relaxed);
        } else if i != established && was == established {
            self.established_since.store(0, Ordering::Relaxed);
            self.flops.fetch_add(1, Ordering::Relaxed);
        }
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

    /// Records a NOTIFICATION sent (`received` false) or received.
    pub fn set_notification(&self, code: u8, subcode: u8, received: bool) {
        let v =
            (1 << 24) | (u32::from(received) << 16) | (u32::from(code) << 8) | u32::from(subcode);
        self.last_notification.store(v, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> PeerSnapshot {
        let state = STATES[usize::from(self.state.load(Ordering::Relaxed)).min(STATES.len() - 1)];
        let since = self.established_since.load(Ordering::Relaxed);
        let n = self.last_notification.load(Ordering::Relaxed);
        PeerSnapshot {
            address: self.address,
            peer_as: self.peer_as,
            state,
            uptime: (since > 0).then(|| unix_now().saturating_sub(since).max(0) as u64),
            flops: self.flops.load(Ordering::Relaxed),
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
            last_notification: (n & (1 << 24) != 0).then_some(LastNotification {
                code: (n >> 8) as u8,
                subcode: n as u8,
                received: n & (1 << 16) != 0,
            }),
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
}

/// A copy of one helper's published values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelperSnapshot {
    pub name: String,
    pub starts: u64,
    pub dropped: u64,
    pub given_up: bool,
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

/// The process-wide counters and the registered neighbors and helpers.
#[derive(Default)]
pub struct Board {
    peers: Mutex<Vec<Weak<PeerStats>>>,
    helpers: Mutex<Vec<(String, Weak<dyn HelperView>)>>,
    pub api_done: AtomicU64,
    pub api_error: AtomicU64,
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

impl Board {
    fn add_peer(&self, s: &Arc<PeerStats>) {
        if let Ok(mut v) = self.peers.lock() {
            v.retain(|w| w.strong_count() > 0);
            v.push(Arc::downgrade(s));
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
    /// newest wins); helpers by name.
    pub fn snapshot(&self) -> BoardSnapshot {
        let mut peers: Vec<PeerSnapshot> = Vec::new();
        if let Ok(v) = self.peers.lock() {
            for s in v.iter().rev().filter_map(Weak::upgrade) {
                if !peers.iter().any(|p| p.address == s.address) {
                    peers.push(s.snapshot());
                }
            }
        }
        peers.sort_by_key(|p| p.address);
        let mut helpers: Vec<HelperSnapshot> = Vec::new();
        if let Ok(v) = self.helpers.lock() {
            for (name, w) in v.iter().rev() {
                if let Some(h) = w.upgrade() {
                    if !helpers.iter().any(|x| &x.name == name) {
                        helpers.push(HelperSnapshot {
                            name: name.clone(),
                            starts: h.starts(),
                            dropped: h.dropped(),
                            given_up: h.given_up(),
                        });
                    }
                }
            }
        }
        helpers.sort_by(|a, b| a.name.cmp(&b.name));
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        BoardSnapshot {
            peers,
            helpers,
            api_done: l(&self.api_done),
            api_error: l(&self.api_error),
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

    /// Leaving Established counts one flop and stops the uptime; other moves do not.
    #[test]
    fn a_flop_is_counted_when_established_is_left() {
        let s = PeerStats::register("192.0.2.9".parse().unwrap(), 65000, &[Family::IPV4_UNICAST]);
        s.set_state(PeerState::Active);
        s.set_state(PeerState::OpenSent);
        s.set_state(PeerState::Idle);
        assert_eq!(s.snapshot().flops, 0);
        s.set_state(PeerState::Established);
        assert_eq!(s.snapshot().uptime, Some(0));
        s.set_state(PeerState::Established);
        s.set_state(PeerState::Idle);
        let snap = s.snapshot();
        assert_eq!((snap.flops, snap.uptime), (1, None));
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
