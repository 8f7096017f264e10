//! The events a neighbor publishes for the API (state changes, messages
//! received and NOTIFICATIONs sent), stamped with who the peer is.

use std::time::SystemTime;

use super::Neighbor;
use crate::control::{Direction, Event, EventKind, PeerInfo};

impl Neighbor {
    /// Who the events are about: addresses, AS numbers, the peer's identifier.
    fn peer_info(&self) -> PeerInfo {
        PeerInfo {
            local_address: self.local_addr,
            peer_address: self.cfg.address,
            local_as: self.cfg.local_as,
            peer_as: self.cfg.peer_as,
            peer_router_id: self.peer_router_id,
            router_id: self.cfg.router_id,
        }
    }

    /// Publishes one event to the API (helpers, `exabgpcli`) on the broadcast channel.
    pub(super) fn emit(&self, direction: Direction, kind: EventKind) {
        if let EventKind::Notification(n) = &kind {
            let received = direction == Direction::Receive;
            self.stats.set_notification(n.code, n.subcode, received);
        }
        // No receiver is fine; a lagging receiver loses old events, never blocks us.
        let _ = self.events.send(Event {
            time: SystemTime::now(),
            peer: self.peer_info(),
            direction,
            kind,
        });
    }
}
