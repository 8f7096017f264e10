//! Hitless restart (issue 13) in the daemon: Established sessions handed over at
//! a stop that is a restart, stored in systemd's fd store, and adopted by the
//! next process at start. The session side is `session::handover` and
//! `session/neighbor/handover.rs`; the store is `system::fdstore`.
//!
//! Stop (see `serve.rs` for when): the core asks every neighbor to hand over
//! instead of sending a Cease; those that are Established give their socket and
//! state, the rest are stopped with a Cease as on any stop. The routes the API
//! announced to a neighbor go into its state. `serve` then stores each socket
//! and a sealed memfd with the state, under `fdstore::session_names`.
//!
//! Start: `startup.rs` takes the stored descriptors systemd handed back and
//! pairs socket and state by name ([`pair`]); pieces without their pair are
//! closed (a socket after a Cease) and removed from the store. The core adopts each pair when its
//! neighbor starts: refused (configuration changed, socket not the session's,
//! state unreadable), the peer gets a Cease and the neighbor starts as usual.
//! Either way both names are removed from the store once the attempt is over,
//! so no later process is handed the same session again.

use std::collections::HashMap;
use std::net::IpAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tracing::{info, warn};

use crate::bgp::iana;
use crate::session::handover::{cease_and_close, HandoverState, MAX_STATE};
use crate::session::HandedOver;
use crate::system::fdstore::{self, Stored};
use crate::system::notify::Notifier;

/// A session stored by the previous process, to adopt at start.
#[derive(Debug)]
pub struct StoredSession {
    pub address: IpAddr,
    pub socket: std::net::TcpStream,
    /// The decoded state, or why it could not be read.
    pub state: Result<HandoverState, String>,
}

/// Set by `serve` before the core stops: hand over instead of Cease. Collects
/// what the neighbors handed over for `serve` to store.
#[derive(Debug, Clone, Default)]
pub struct HandOverSwitch {
    inner: Arc<Mutex<Switch>>,
}

#[derive(Debug, Default)]
struct Switch {
    asked: bool,
    /// A stop that is not a hand-over has begun: no later ask is taken.
    closed: bool,
    handed: Vec<HandedOver>,
}

impl HandOverSwitch {
    /// The next stop of the core hands sessions over.
    pub fn ask(&self) {
        if let Ok(mut s) = self.inner.lock() {
            s.asked = true;
        }
    }

    /// [`HandOverSwitch::ask`] unless a stop has already closed the switch
    /// (`restart --hitless` arriving while a plain stop is under way); false
    /// then, and nothing is asked.
    pub fn try_ask(&self) -> bool {
        match self.inner.lock() {
            Ok(mut s) if !s.closed => {
                s.asked = true;
                true
            }
            _ => false,
        }
    }

    /// A stop that sends Cease has begun: a later [`HandOverSwitch::try_ask`]
    /// is refused.
    pub fn close(&self) {
        if let Ok(mut s) = self.inner.lock() {
            s.closed = true;
        }
    }

    pub fn asked(&self) -> bool {
        self.inner.lock().map(|s| s.asked).unwrap_or(false)
    }

    pub(super) fn push(&self, h: HandedOver) {
        match self.inner.lock() {
            Ok(mut s) => s.handed.push(h),
            // Poisoned: nobody will store it; the peer is told.
            Err(_) => cease_and_close(h.socket, iana::CEASE_ADMIN_SHUTDOWN),
        }
    }

    /// What the core handed over (once it has stopped).
    pub fn take(&self) -> Vec<HandedOver> {
        self.inner
            .lock()
            .map(|mut s| std::mem::take(&mut s.handed))
            .unwrap_or_default()
    }
}

/// What the core needs for hitless restarts; `Default` is "off" (tests, and runs
/// outside systemd).
#[derive(Debug, Default)]
pub struct Hitless {
    /// Sessions of the previous process, to adopt.
    pub stored: Vec<StoredSession>,
    /// Where their names are removed from the fd store after the attempt.
    pub notifier: Option<Notifier>,
    pub switch: HandOverSwitch,
}

impl Hitless {
    /// Takes the stored session of `address`, if any.
    pub(super) fn take(&mut self, address: IpAddr) -> Option<StoredSession> {
        let i = self
            .stored
            .iter()
            .position(|s| s.address.to_canonical() == address.to_canonical())?;
        Some(self.stored.swap_remove(i))
    }

    /// Removes the names of `address`'s session from the fd store.
    pub(super) fn forget(&self, address: IpAddr) {
        let Some(n) = &self.notifier else {
            return;
        };
        let (socket, state) = fdstore::session_names(address);
        for name in [socket, state] {
            if let Err(e) = n.remove_fds(&name) {
                warn!(name = %name, error = %e, "cannot remove a descriptor from the fd store");
            }
        }
    }

    /// Sessions stored for neighbors the configuration no longer has: Cease
    /// (Peer De-configured) and closed, names removed.
    pub(super) fn drop_unclaimed(&mut self) {
        for s in std::mem::take(&mut self.stored) {
            warn!(peer = %s.address, "stored session of a neighbor no longer configured: Cease sent, closed");
            cease_and_close(s.socket, iana::CEASE_PEER_DECONFIGURED);
            self.forget(s.address);
        }
    }
}

/// Pairs the descriptors systemd handed back (`Activated::stored`) into stored
/// sessions: a socket and a state per neighbor. A piece without its pair, a
/// state that cannot be read, or a name that is not ours is closed (a socket
/// after a Cease) and removed from the store (logged); an unreadable state
/// still yields its socket, so the peer is told with a Cease.
pub fn pair(notifier: &Notifier, stored: Vec<(String, OwnedFd)>) -> Vec<StoredSession> {
    let mut sockets: HashMap<IpAddr, (String, OwnedFd)> = HashMap::new();
    let mut states: HashMap<IpAddr, (String, OwnedFd)> = HashMap::new();
    let mut leftovers = Vec::new();
    for (name, fd) in stored {
        match fdstore::parse_name(&name) {
            Some(Stored::Socket(a)) if !sockets.contains_key(&a) => {
                sockets.insert(a, (name, fd));
            }
            Some(Stored::State(a)) if !states.contains_key(&a) => {
                states.insert(a, (name, fd));
            }
            _ => leftovers.push((name, fd)),
        }
    }
    let mut out = Vec::new();
    for (address, (sname, sfd)) in sockets {
        let Some((tname, tfd)) = states.remove(&address) else {
            leftovers.push((sname, sfd));
            continue;
        };
        let state = fdstore::read_sealed(&tfd, MAX_STATE)
            .map_err(|e| e.to_string())
            .and_then(|b| HandoverState::decode(&b).map_err(|e| e.to_string()));
        drop((tname, tfd));
        out.push(StoredSession {
            address,
            socket: std::net::TcpStream::from(sfd),
            state,
        });
    }
    leftovers.extend(states.into_values());
    if !leftovers.is_empty() {
        // A live session's socket without its state: told with a Cease.
        cease_stored(notifier, leftovers, "stored without its pair");
    }
    out
}

/// Ends the sessions among descriptors from the fd store that will not be
/// adopted (this process fails to start, or hitless restarts are off): each
/// socket gets a Cease (Administrative Shutdown) and is closed, so its peer
/// does not keep our routes for a process that will not come; every name is
/// removed from the store.
pub fn cease_stored(notifier: &Notifier, stored: Vec<(String, OwnedFd)>, why: &str) {
    for (name, fd) in stored {
        if let Some(Stored::Socket(a)) = fdstore::parse_name(&name) {
            warn!(peer = %a, why, "stored session not adopted: Cease sent, closed");
            cease_and_close(std::net::TcpStream::from(fd), iana::CEASE_ADMIN_SHUTDOWN);
        } else {
            drop(fd);
        }
        if let Err(e) = notifier.remove_fds(&name) {
            warn!(name = %name, error = %e, "cannot remove a descriptor from the fd store");
        }
    }
}

/// Cease (Administrative Shutdown) and close every session in `handed`: a
/// hand-over that no next process will take.
pub fn cease_all(handed: Vec<HandedOver>) {
    for h in handed {
        warn!(peer = %h.state.address, "session handed over during a stop: Cease sent, closed");
        cease_and_close(h.socket, iana::CEASE_ADMIN_SHUTDOWN);
    }
}

/// Stores what the neighbors handed over in the fd store: per session its
/// socket and a sealed memfd with its state. A session that cannot be stored
/// gets a Cease (the peer must not wait for a process that will not come).
/// Returns how many were stored.
pub fn store(notifier: &Notifier, handed: Vec<HandedOver>, began: Instant) -> usize {
    let mut stored = 0;
    for h in handed {
        let address = h.state.address;
        let (sname, tname) = fdstore::session_names(address);
        let kept = h
            .state
            .encode()
            .map_err(|e| e.to_string())
            .and_then(|bytes| fdstore::sealed_memfd(&tname, &bytes).map_err(|e| e.to_string()))
            .and_then(|memfd| {
                let socket = notifier
                    .store_fds(&sname, &[h.socket.as_fd()])
                    .map_err(|e| e.to_string())?;
                let state = notifier
                    .store_fds(&tname, &[memfd.as_fd()])
                    .map_err(|e| e.to_string())?;
                if socket && state {
                    Ok(())
                } else {
                    Err("no service manager to store it".to_string())
                }
            });
        match kept {
            Ok(()) => {
                stored += 1;
                info!(peer = %address, "session stored for the next process");
            }
            Err(e) => {
                warn!(peer = %address, error = %e, "session could not be stored: Cease sent");
                let _ = notifier.remove_fds(&sname);
                let _ = notifier.remove_fds(&tname);
                cease_and_close(h.socket, iana::CEASE_ADMIN_SHUTDOWN);
            }
        }
    }
    if stored > 0 {
        info!(
            sessions = stored,
            handover_ms = began.elapsed().as_millis() as u64,
            "{stored} session(s) handed over to the next process in {} ms",
            began.elapsed().as_millis()
        );
    }
    stored
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::{TcpListener, TcpStream};

    fn state_for(address: IpAddr) -> HandoverState {
        let open = crate::bgp::Open {
            version: 4,
            my_as: 65001,
            hold_time: 90,
            router_id: "192.0.2.1".parse().unwrap(),
            capabilities: vec![],
        };
        HandoverState {
            address,
            local: "127.0.0.1:1".parse().unwrap(),
            remote: "127.0.0.1:2".parse().unwrap(),
            outbound: true,
            peer_as: 65000,
            local_as: 65001,
            router_id: "192.0.2.1".parse().unwrap(),
            negotiated: crate::session::open::Negotiated {
                hold_time: 90,
                codec: crate::bgp::CodecOptions::INITIAL,
                families: vec![crate::bgp::Family::IPV4_UNICAST],
                route_refresh: true,
                peer_router_id: "192.0.2.2".parse().unwrap(),
                peer_as: 65000,
                graceful_restart: None,
            },
            our_open: open,
            began: crate::session::handover::MonoTime(1),
            established: crate::session::handover::MonoTime(1),
            last_sent: crate::session::handover::MonoTime(1),
            last_received: crate::session::handover::MonoTime(1),
            sent: Default::default(),
            received: Default::default(),
            unread: vec![],
            held: vec![],
            rib_in: vec![],
            api_routes: vec![],
            api_flows: vec![],
            withdrawn_routes: vec![],
            withdrawn_flows: vec![],
            config: None,
        }
    }

    /// Socket and state are paired by name; a corrupted state still yields its
    /// socket (so the peer gets a Cease); a socket without its state gets a
    /// Cease and is closed.
    #[test]
    fn stored_descriptors_are_paired_by_name() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a: IpAddr = "192.0.2.7".parse().unwrap();
        let b: IpAddr = "192.0.2.8".parse().unwrap();
        let c: IpAddr = "2001:db8::9".parse().unwrap();
        let sa = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let sb = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let sc = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (mut far_c, _) = {
            let _ = l.accept().unwrap();
            let _ = l.accept().unwrap();
            l.accept().unwrap()
        };
        let good = state_for(a).encode().unwrap();
        let mut bad = state_for(b).encode().unwrap();
        let mid = bad.len() / 2;
        bad[mid] ^= 1;
        let name = |addr: IpAddr, socket: bool| {
            let (s, t) = fdstore::session_names(addr);
            if socket {
                s
            } else {
                t
            }
        };
        let stored = vec![
            (name(a, true), OwnedFd::from(sa)),
            (name(a, false), fdstore::sealed_memfd("a", &good).unwrap()),
            (name(b, false), fdstore::sealed_memfd("b", &bad).unwrap()),
            (name(b, true), OwnedFd::from(sb)),
            (name(c, true), OwnedFd::from(sc)),
        ];
        let mut sessions = pair(&Notifier::disabled(), stored);
        sessions.sort_by_key(|s| s.address);
        assert_eq!(sessions.len(), 2);
        assert_eq!(sessions[0].address, a);
        assert_eq!(sessions[0].state.as_ref().unwrap(), &state_for(a));
        assert_eq!(sessions[1].address, b);
        assert!(sessions[1].state.as_ref().unwrap_err().contains("checksum"));
        // c's socket had no state: a NOTIFICATION (Cease), then the end.
        far_c
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let mut got = Vec::new();
        far_c.read_to_end(&mut got).unwrap();
        assert!(
            got.len() >= 21 && got[18] == 3 && got[19] == 6,
            "no Cease: {got:?}"
        );
    }
}
