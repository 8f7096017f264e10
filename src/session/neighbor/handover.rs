//! Hitless restart (issue 13): an Established session handed over to the next
//! process, and adopted from the previous one, over the same TCP socket and
//! without a new OPEN. The state's format is `session::handover`.
//!
//! Handing over (the `HandOver` command in Established): the connection loop
//! stops taking commands and input. No message is half written at that point:
//! every write is awaited to its end inside the loop (`wire::write_out`), so
//! the loop only sees a command between whole messages. What is half read is in
//! the read buffer and travels with the state. Changes taken but not yet sent
//! (and an End-of-RIB held back after our restart) are sent first, so the
//! Adj-RIB-Out is exactly what the peer holds; then a KEEPALIVE, so the peer's
//! hold timer starts afresh at the gap. The halves are reunited and the
//! socket becomes a `std::net::TcpStream`; its flags are left as they are
//! (`into_std` leaves it non-blocking; the next process's tokio wants it so,
//! and the descriptor is only stored meanwhile). No Cease is sent and none of
//! the session-down side effects happen (routes kept, no "down" event): the
//! event published says the session was handed over, and is still up.
//!
//! Adopting (`run_adopted`): the Conn is rebuilt from the state (codec options,
//! timers: the hold deadline is the last message received plus the hold time;
//! a KEEPALIVE goes out at once, then every interval), the unread bytes are
//! decoded first, the Adj-RIB-In is restored, and the Adj-RIB-Out, filled with
//! the routes wanted now, is told what the peer holds
//! ([`crate::rib::AdjRibOut::adopt_held`]) so only the difference is sent: no
//! End-of-RIB (the peer had it).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::net::tcp::OwnedReadHalf;
use tokio::sync::oneshot;
use tracing::{info, warn};

use super::{far_future, Conn, End, Flow, Neighbor};
use crate::bgp::{self, Family, FlowNlri, Message, Prefix};
use crate::control::{Direction, EventKind, PeerState, SessionState};
use crate::rib::{AnnounceGroup, Delta, FlowDelta, FlowRoute, NextHop, OutEntry};
use crate::session::handover::{self, HandoverState, MonoTime, WireForm, STATE_CODEC};
use crate::session::outbound::{self, SessionContext};

/// An Established session taken out of its task: the socket and the state the
/// next process needs to continue it.
#[derive(Debug)]
pub struct HandedOver {
    pub socket: std::net::TcpStream,
    pub state: HandoverState,
}

impl Neighbor {
    /// Ends the connection loop by handing the session over (see the module
    /// documentation); answers `reply` with the socket and state, or None when
    /// that failed (the session then ends as any other).
    pub(super) async fn hand_over(
        &mut self,
        mut conn: Conn,
        rd: OwnedReadHalf,
        buf: Vec<u8>,
        reply: oneshot::Sender<Option<HandedOver>>,
    ) -> End {
        let began = MonoTime::now();
        if reply.is_closed() {
            return self.hand_over_abandoned(&mut conn).await;
        }
        if self.dirty || self.eor_at.is_some() {
            let eor = self.eor_at.take().is_some();
            if let Flow::End(e) = self.send_delta(&mut conn, eor).await {
                let _ = reply.send(None);
                return e;
            }
        }
        // The delta can take long to write (a peer slow to read): the daemon
        // may have stopped waiting meanwhile.
        if reply.is_closed() {
            return self.hand_over_abandoned(&mut conn).await;
        }
        // A KEEPALIVE just before the gap: the peer's hold timer starts afresh
        // while no process holds the session.
        if let Some(every) = conn.keepalive_every {
            conn.keepalive
                .as_mut()
                .reset(tokio::time::Instant::now() + every);
            if let Err(e) = self.send(&mut conn, &[Message::Keepalive]).await {
                let _ = reply.send(None);
                return End::Down(e);
            }
        }
        let Some(negotiated) = conn.negotiated.clone() else {
            let _ = reply.send(None);
            return End::Down("hand-over without a negotiated session".into());
        };
        let held = self.held_updates(&conn, &negotiated.families);
        let (rib_in, lost) = handover::rib_in_updates(&self.rib_in);
        if lost > 0 {
            warn!(peer = %self.cfg.address, lost, "hand-over: received routes the codec cannot store again are left out of the Adj-RIB-In");
        }
        let now = tokio::time::Instant::now();
        let last_received = match conn.hold_for {
            Some(h) => conn.hold.deadline().checked_sub(h).unwrap_or(now),
            None => now,
        };
        let last_sent = match conn.keepalive_every {
            Some(k) => conn.keepalive.deadline().checked_sub(k).unwrap_or(now),
            None => now,
        };
        let remote = conn.wr.peer_addr();
        let stream = match rd.reunite(conn.wr) {
            Ok(s) => s,
            Err(_) => {
                let _ = reply.send(None);
                return End::Down("hand-over: the socket halves do not match".into());
            }
        };
        let (socket, remote) = match (stream.into_std(), remote) {
            (Ok(s), Ok(r)) => (s, r),
            (Err(e), _) | (_, Err(e)) => {
                let _ = reply.send(None);
                return End::Down(format!("hand-over: socket unusable: {e}"));
            }
        };
        let state = HandoverState {
            address: self.cfg.address,
            local: conn.local,
            remote,
            outbound: conn.outbound,
            peer_as: self.cfg.peer_as,
            local_as: self.cfg.local_as,
            router_id: conn.our_open.router_id,
            negotiated,
            our_open: conn.our_open.clone(),
            began,
            established: MonoTime::from_instant(self.established_at.unwrap_or_else(Instant::now)),
            last_sent: MonoTime::from_instant(last_sent.into_std()),
            last_received: MonoTime::from_instant(last_received.into_std()),
            sent: self.sent,
            received: self.received,
            unread: buf,
            held,
            rib_in,
            api_routes: Vec::new(),
            api_flows: Vec::new(),
            withdrawn_routes: Vec::new(),
            withdrawn_flows: Vec::new(),
            config: Some(self.cfg.clone()),
        };
        let (unread, held) = (state.unread.len(), state.held.len());
        // The daemon may have given up just now: nobody will store the socket,
        // so the peer is told, not left with a bare close.
        if let Err(Some(h)) = reply.send(Some(HandedOver { socket, state })) {
            warn!(peer = %self.cfg.address, "hand-over answered too late: Cease sent, closed");
            let closed = tokio::task::spawn_blocking(move || {
                handover::cease_and_close(h.socket, bgp::iana::CEASE_ADMIN_SHUTDOWN)
            });
            let _ = closed.await;
            return End::Stop;
        }
        info!(peer = %self.cfg.address, unread, held, "session handed over to the next process");
        self.emit(
            Direction::Send,
            EventKind::State {
                state: SessionState::Up,
                reason: Some("handed over to the next process".into()),
            },
        );
        End::HandedOver
    }

    /// The daemon stopped waiting for the hand-over (it took longer than its
    /// grace): the session is not handed to anybody, so it ends as at a stop,
    /// with a Cease (Administrative Shutdown).
    async fn hand_over_abandoned(&mut self, conn: &mut Conn) -> End {
        warn!(peer = %self.cfg.address, "hand-over abandoned by the daemon (too slow): sending Cease");
        let n = bgp::Notification::cease_shutdown(bgp::iana::CEASE_ADMIN_SHUTDOWN, "");
        let _ = self.send(conn, &[Message::Notification(n)]).await;
        let _ = tokio::io::AsyncWriteExt::shutdown(&mut conn.wr).await;
        End::Stop
    }

    /// The Adj-RIB-Out as the peer holds it (nothing is pending: the last changes
    /// were just sent), as UPDATEs in wire form. Routes the session cannot carry
    /// (no next hop of their family) are not held by the peer and left out.
    fn held_updates(&mut self, conn: &Conn, families: &[Family]) -> Vec<bgp::Update> {
        let ctx = SessionContext {
            codec: STATE_CODEC,
            ..self.context(conn)
        };
        self.rib_out.resend_all();
        let delta = self.rib_out.take_delta(families);
        let mut packed = outbound::pack_delta(&ctx, &delta);
        let flows = self.rib_out.flows.take_delta(families);
        outbound::pack_flow_delta(&ctx, &flows, &mut packed);
        packed
            .messages
            .iter()
            .filter_map(|m| match bgp::decode_message(m, &STATE_CODEC) {
                Ok(Some((Message::Update(u), _))) => Some(u),
                _ => None,
            })
            .collect()
    }

    /// The task of an adopted session: it runs Established from `state` over
    /// `socket`, then goes on as any neighbor task when that session ends.
    pub async fn run_adopted(mut self, socket: std::net::TcpStream, state: HandoverState) {
        let first = match tokio::net::TcpStream::from_std(socket) {
            Ok(stream) => self.adopted(stream, state).await,
            Err(e) => (End::Down(format!("adopted socket unusable: {e}")), None),
        };
        self.run_from(Some(first)).await
    }

    async fn adopted(
        &mut self,
        stream: tokio::net::TcpStream,
        state: HandoverState,
    ) -> (End, Option<tokio::net::TcpStream>) {
        let local = match stream.local_addr() {
            Ok(l) => l,
            Err(e) => return (End::Down(format!("adopted socket unusable: {e}")), None),
        };
        let (mut rd, wr) = stream.into_split();
        let n = state.negotiated.clone();
        self.local_addr = Some(local.ip().to_canonical());
        self.peer_router_id = Some(n.peer_router_id);
        self.negotiated = Some(n.clone());
        self.established_at = Some(state.established.to_instant());
        self.sent = state.sent;
        self.received = state.received;
        self.failures = 0;
        self.restarted = false;
        self.last_error = None;
        for u in &state.rib_in {
            self.rib_in.apply(u);
        }
        let hold_for = n.hold_duration();
        let hold_at = match hold_for {
            Some(h) => tokio::time::Instant::from_std(state.last_received.to_instant() + h),
            None => far_future(),
        };
        let mut conn = Conn {
            wr,
            opts: n.codec,
            outbound: state.outbound,
            local,
            our_open: state.our_open.clone(),
            negotiated: Some(n.clone()),
            hold: Box::pin(tokio::time::sleep_until(hold_at)),
            hold_for,
            keepalive: Box::pin(tokio::time::sleep_until(far_future())),
            keepalive_every: n.keepalive_interval(),
            write_limit: super::handshake::write_limit(hold_for, self.cfg.hold_time),
            pending_incoming: None,
        };
        self.set_state(PeerState::Established);
        // A KEEPALIVE at once: the hand-over took some of the peer's hold time.
        if let Some(k) = conn.keepalive_every {
            conn.keepalive
                .as_mut()
                .reset(tokio::time::Instant::now() + k);
        }
        if let Err(e) = self.send(&mut conn, &[Message::Keepalive]).await {
            return (End::Down(e), None);
        }
        self.adopt_held(&conn, &state);
        info!(
            MESSAGE_ID = crate::system::logging::MSG_SESSION_UP,
            PEER_ADDRESS = %self.cfg.address,
            PEER_AS = self.cfg.peer_as,
            BGP_STATE = "established",
            handover_ms = state.began.elapsed().as_millis() as u64,
            "session with {} adopted from the previous process after {} ms",
            self.cfg.address,
            state.began.elapsed().as_millis()
        );
        self.emit(
            Direction::Receive,
            EventKind::State {
                state: SessionState::Up,
                reason: Some("adopted from the previous process".into()),
            },
        );
        let mut buf = state.unread;
        buf.reserve(65536);
        if !buf.is_empty() {
            if let Flow::End(e) = self.on_bytes(&mut conn, &mut buf).await {
                return (e, None);
            }
        }
        if let Flow::End(e) = self.send_delta(&mut conn, false).await {
            return (e, None);
        }
        let end = self.drive(&mut conn, &mut rd, &mut buf).await;
        if let End::HandOver(reply) = end {
            return (self.hand_over(conn, rd, buf, reply).await, None);
        }
        (end, conn.pending_incoming.take())
    }

    /// Tells the Adj-RIB-Out what the peer holds (`state.held`): pending becomes
    /// the difference to the routes wanted now, compared in wire form.
    fn adopt_held(&mut self, conn: &Conn, state: &HandoverState) {
        let mut routes: HashMap<Prefix, WireForm> = HashMap::new();
        let mut flows: HashMap<FlowNlri, WireForm> = HashMap::new();
        for u in &state.held {
            let (r, f) = handover::wire_forms(u);
            routes.extend(r);
            flows.extend(f);
        }
        let ctx = SessionContext {
            codec: STATE_CODEC,
            ..self.context(conn)
        };
        // One wire form per attribute set, next hop and family.
        let cache: std::cell::RefCell<HashMap<(usize, NextHop, Family), Option<WireForm>>> =
            Default::default();
        let unchanged = |p: &Prefix, e: &OutEntry| {
            let Some(held) = routes.get(p) else {
                return false;
            };
            let key = (Arc::as_ptr(&e.attributes) as usize, e.next_hop, p.family());
            let mut cache = cache.borrow_mut();
            let wire = cache
                .entry(key)
                .or_insert_with(|| route_wire_form(&ctx, p, e));
            wire.as_ref() == Some(held)
        };
        self.rib_out
            .adopt_held(routes.keys().copied(), |p, e| unchanged(p, e));
        let flow_unchanged = |r: &FlowRoute| {
            flows
                .get(&r.nlri)
                .is_some_and(|held| flow_wire_form(&ctx, r).as_ref() == Some(held))
        };
        self.rib_out
            .flows
            .adopt_held(flows.keys().cloned(), flow_unchanged);
        self.dirty = true;
    }
}

/// The wire form of our route for `p` on this session, as the peer would hold
/// it (packed and decoded as the held routes were).
fn route_wire_form(ctx: &SessionContext, p: &Prefix, e: &OutEntry) -> Option<WireForm> {
    let delta = Delta {
        announce: vec![AnnounceGroup {
            family: p.family(),
            next_hop: e.next_hop,
            attributes: Arc::clone(&e.attributes),
            prefixes: vec![*p],
        }],
        withdraw: Vec::new(),
    };
    let packed = outbound::pack_delta(ctx, &delta);
    let m = packed.messages.first()?;
    match bgp::decode_message(m, &STATE_CODEC) {
        Ok(Some((Message::Update(u), _))) => handover::wire_forms(&u).0.pop().map(|(_, w)| w),
        _ => None,
    }
}

fn flow_wire_form(ctx: &SessionContext, r: &FlowRoute) -> Option<WireForm> {
    let delta = FlowDelta {
        announce: vec![r.clone()],
        withdraw: Vec::new(),
    };
    let mut packed = outbound::Packed::default();
    outbound::pack_flow_delta(ctx, &delta, &mut packed);
    let m = packed.messages.first()?;
    match bgp::decode_message(m, &STATE_CODEC) {
        Ok(Some((Message::Update(u), _))) => handover::wire_forms(&u).1.pop().map(|(_, w)| w),
        _ => None,
    }
}
