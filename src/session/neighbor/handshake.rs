//! The OPEN exchange (OpenSent -> OpenConfirm -> Established): the peer's OPEN
//! negotiated against ours, the Hold and Keepalive timers armed from the result,
//! and the move to Established with the initial table.

use std::time::{Duration, Instant};

use tracing::{info, warn};

use super::wire::describe;
use super::{far_future, Conn, End, Flow, Neighbor, OPEN_HOLD};
use crate::bgp::{Family, Message, Open};
use crate::control::{Direction, EventKind, PeerState, SessionState};
use crate::session::{open, tcp};

impl Neighbor {
    /// Event 19 (BGPOpen) in OpenSent: negotiate, arm the timers, send KEEPALIVE and
    /// go to OpenConfirm, or reject the OPEN with the NOTIFICATION it deserves.
    pub(super) async fn on_open(&mut self, conn: &mut Conn, peer_open: Open) -> Flow {
        self.emit(
            Direction::Receive,
            EventKind::Open(Box::new(peer_open.clone())),
        );
        let n = match open::negotiate(&self.cfg, &conn.our_open, &peer_open) {
            Ok(n) => n,
            Err(notification) => {
                let reason = format!("OPEN rejected: {}", describe(&notification));
                return self.notify_and_close(conn, notification, reason).await;
            }
        };
        self.peer_router_id = Some(n.peer_router_id);
        conn.opts = n.codec;
        conn.hold_for = n.hold_duration();
        match conn.hold_for {
            Some(h) => conn.hold.as_mut().reset(tokio::time::Instant::now() + h),
            None => conn.hold.as_mut().reset(far_future()),
        }
        conn.write_limit = write_limit(n.hold_duration(), self.cfg.hold_time);
        if let Err(e) = tcp::set_user_timeout(conn.wr.as_ref(), conn.write_limit) {
            warn!(peer = %self.cfg.address, error = %e, "cannot set the TCP user timeout");
        }
        conn.keepalive_every = n.keepalive_interval();
        if let Some(k) = conn.keepalive_every {
            conn.keepalive
                .as_mut()
                .reset(tokio::time::Instant::now() + k);
        }
        info!(
            peer = %self.cfg.address,
            router_id = %n.peer_router_id,
            hold_time = n.hold_time,
            families = ?n.families.iter().map(Family::to_string).collect::<Vec<_>>(),
            four_octet_as = n.codec.four_octet_as,
            extended_message = n.codec.extended_message,
            "OPEN accepted"
        );
        let peer_id = n.peer_router_id;
        conn.negotiated = Some(n.clone());
        self.negotiated = Some(n);
        if let Err(e) = self.send(conn, &[Message::Keepalive]).await {
            return Flow::End(End::Down(e));
        }
        self.set_state(PeerState::OpenConfirm);
        // A connection that arrived during OpenSent: resolve the collision now.
        if let Some(incoming) = conn.pending_incoming.take() {
            return self.collision(conn, incoming, peer_id).await;
        }
        Flow::Continue
    }

    /// Event 26 (KeepAliveMsg) in OpenConfirm: Established; send the whole
    /// Adj-RIB-Out, then End-of-RIB.
    pub(super) async fn established(&mut self, conn: &mut Conn) -> Flow {
        self.set_state(PeerState::Established);
        self.established_at = Some(Instant::now());
        self.failures = 0;
        // RFC 4724 §4.1: the R bit is for the first session after our restart.
        let restarted = std::mem::replace(&mut self.restarted, false);
        if let Some(n) = conn.negotiated.clone() {
            self.stale_on_established(&n);
        }
        self.last_error = None;
        info!(
            MESSAGE_ID = crate::system::logging::MSG_SESSION_UP,
            PEER_ADDRESS = %self.cfg.address,
            PEER_AS = self.cfg.peer_as,
            BGP_STATE = "established",
            "session with {} established",
            self.cfg.address
        );
        self.emit(
            Direction::Receive,
            EventKind::State {
                state: SessionState::Up,
                reason: None,
            },
        );
        // The peer has nothing from us yet: the whole table, then End-of-RIB; after
        // our restart, End-of-RIB waits until the helpers had time to announce
        // their routes again (see `graceful::eor_settle`).
        self.rib_out.resend_all();
        let settle = conn
            .negotiated
            .as_ref()
            .and_then(|n| super::graceful::eor_settle(restarted, self.cfg.graceful_restart, n));
        if let Some(settle) = settle {
            info!(
                peer = %self.cfg.address,
                settle_secs = settle.as_secs(),
                "graceful restart: End-of-RIB to {} held back {}s for the helpers to announce again",
                self.cfg.address,
                settle.as_secs()
            );
            self.eor_at = Some(Instant::now() + settle);
            return self.send_delta(conn, false).await;
        }
        self.send_delta(conn, true).await
    }
}

/// How long one write may go without progress once the OPENs are exchanged: the
/// negotiated hold time; when the peer asked for 0 (no Hold timer at all), our own
/// configured hold time still says how long we are willing to wait for it; when
/// that is 0 too, the RFC 4271 §8 "large value" ([`OPEN_HOLD`], 4 minutes).
pub(super) fn write_limit(negotiated: Option<Duration>, configured: u16) -> Duration {
    negotiated
        .or((configured > 0).then(|| Duration::from_secs(u64::from(configured))))
        .unwrap_or(OPEN_HOLD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_is_bounded_even_without_hold_time() {
        let s = Duration::from_secs;
        assert_eq!(write_limit(Some(s(9)), 90), s(9));
        assert_eq!(write_limit(None, 90), s(90));
        assert_eq!(write_limit(None, 0), OPEN_HOLD);
    }
}
