//! The Established state's traffic: UPDATEs received into the Adj-RIB-In,
//! Adj-RIB-Out deltas and End-of-RIB sent, and ROUTE-REFRESH answered.

use tracing::{debug, info, warn};

use super::wire::write_out;
use super::{Conn, End, Flow, Neighbor};
use crate::bgp::{self, Prefix, RouteRefresh, Update};
use crate::control::{Direction, EventKind, PeerState};
use crate::session::outbound::{self, SessionContext};

impl Neighbor {
    /// An UPDATE from the peer: End-of-RIB, or a change to the Adj-RIB-In, logged and
    /// published, then checked against the max-prefix limits.
    pub(super) async fn on_update(&mut self, conn: &mut Conn, u: Update) -> Flow {
        if let Some(family) = u.end_of_rib() {
            info!(peer = %self.cfg.address, family = outbound::family_name(family), "End-of-RIB received");
            self.emit(Direction::Receive, EventKind::EndOfRib(family));
            return Flow::Continue;
        }
        if let Some(why) = &u.treat_as_withdraw {
            warn!(peer = %self.cfg.address, reason = %why, "malformed UPDATE treated as withdraw (RFC 7606)");
        }
        let change = self.rib_in.apply(&u);
        let mut announced: Vec<Prefix> = u.nlri.clone();
        if let Some(r) = &u.attributes.mp_reach {
            announced.extend(r.nlri.iter().copied());
        }
        let mut withdrawn: Vec<Prefix> = u.withdrawn.clone();
        if let Some(w) = &u.attributes.mp_unreach {
            withdrawn.extend(w.withdrawn.iter().copied());
        }
        // Per UPDATE: debug, or a peer sending many would flood the journal.
        debug!(
            peer = %self.cfg.address,
            announce = %list(&announced),
            withdraw = %list(&withdrawn),
            adj_rib_in = self.rib_in.len(),
            "UPDATE received"
        );
        debug!(peer = %self.cfg.address, ?change, attributes = ?u.attributes, "UPDATE detail");
        self.emit(Direction::Receive, EventKind::Update(Box::new(u)));
        self.check_limits(conn).await
    }

    /// The peer asks for our routes of one family again (RFC 2918): re-send that
    /// family's Adj-RIB-Out. A request for a family the session did not negotiate is
    /// ignored (RFC 2918 §4), and so is a Beginning/End-of-RIB-Refresh marker (RFC 7313
    /// subtypes 1 and 2: the peer re-sending its routes, not asking for ours) or an
    /// unknown subtype.
    pub(super) async fn on_route_refresh(&mut self, conn: &mut Conn, r: RouteRefresh) -> Flow {
        let family = outbound::family_name(r.family);
        let negotiated = conn
            .negotiated
            .as_ref()
            .is_some_and(|n| n.families.contains(&r.family));
        if r.subtype != 0 {
            info!(peer = %self.cfg.address, family, subtype = r.subtype, "ROUTE-REFRESH marker received, nothing to re-send");
            return Flow::Continue;
        }
        if !negotiated {
            info!(peer = %self.cfg.address, family, "ROUTE-REFRESH for a family not negotiated, ignored");
            return Flow::Continue;
        }
        info!(peer = %self.cfg.address, family, "ROUTE-REFRESH received");
        self.emit(Direction::Receive, EventKind::Refresh(r.family));
        self.rib_out.resend_family(r.family);
        self.send_delta(conn, false).await
    }

    /// What packing UPDATEs for this connection needs to know.
    pub(super) fn context(&self, conn: &Conn) -> SessionContext {
        SessionContext {
            local_as: self.cfg.local_as,
            peer_as: self.cfg.peer_as,
            configured_local: self.cfg.local_address,
            socket_local: conn.local.ip(),
            codec: conn.opts,
        }
    }

    /// Sends the Adj-RIB-Out delta (Established only), then End-of-RIB per family
    /// when `eor`.
    pub(super) async fn send_delta(&mut self, conn: &mut Conn, eor: bool) -> Flow {
        self.dirty = false;
        let Some(n) = conn.negotiated.clone() else {
            return Flow::Continue;
        };
        if self.state != PeerState::Established {
            return Flow::Continue;
        }
        let delta = self.rib_out.take_delta(&n.families);
        let packed = outbound::pack_delta(&self.context(conn), &delta);
        for s in &packed.skipped {
            warn!(peer = %self.cfg.address, "{s}");
        }
        let mut out: Vec<u8> = Vec::with_capacity(packed.messages.iter().map(Vec::len).sum());
        for m in &packed.messages {
            out.extend_from_slice(m);
        }
        self.sent.update += packed.messages.len() as u64;
        if eor {
            for f in &n.families {
                out.extend_from_slice(&bgp::encode_end_of_rib(*f, &conn.opts));
                self.sent.update += 1;
            }
        }
        if packed.announced + packed.withdrawn > 0 {
            info!(
                peer = %self.cfg.address,
                announced = packed.announced,
                withdrawn = packed.withdrawn,
                messages = packed.messages.len(),
                "UPDATEs sent"
            );
        }
        match write_out(conn, &out).await {
            Ok(()) => Flow::Continue,
            Err(e) => Flow::End(End::Down(e)),
        }
    }
}

/// "a, b, c" for up to 16 prefixes, then "... (N in total)".
fn list(prefixes: &[Prefix]) -> String {
    let mut s: Vec<String> = prefixes.iter().take(16).map(|p| p.to_string()).collect();
    if prefixes.len() > 16 {
        s.push(format!("... ({} in total)", prefixes.len()));
    }
    s.join(" ")
}
