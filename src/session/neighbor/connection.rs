//! Running one TCP connection from OpenSent until it ends: the `select!` over the
//! socket, the Hold and Keepalive timers and the command channel, and every
//! message from the peer dispatched by a plain `match` on the state, with the
//! RFC 4271 event in a comment.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;
use tracing::{info, warn};

use super::wire::{count, describe};
use super::{far_future, Conn, End, Flow, Neighbor, OPEN_HOLD};
use crate::bgp::iana::{
    ERR_FSM, ERR_HOLD_TIMER, FSM_IN_ESTABLISHED, FSM_IN_OPENCONFIRM, FSM_IN_OPENSENT,
    SUBCODE_UNSPECIFIC,
};
use crate::bgp::{self, CodecOptions, Message, Notification};
use crate::control::{Direction, EventKind, PeerState, SessionState};
use crate::session::{open, tcp};

impl Neighbor {
    /// OpenSent -> Established over one connection. Returns how it ended and an
    /// incoming connection kept for collision resolution, if any.
    pub(super) async fn session(
        &mut self,
        stream: TcpStream,
        outbound: bool,
    ) -> (End, Option<TcpStream>) {
        let (local, peer) = match (stream.local_addr(), stream.peer_addr()) {
            (Ok(l), Ok(p)) => (l, p),
            _ => return (End::Down("connection lost before it was used".into()), None),
        };
        let _ = stream.set_nodelay(true);
        // Every connection, connected or accepted (ours or systemd's listener).
        if let Err(e) = tcp::set_liveness(&stream, tcp::USER_TIMEOUT) {
            warn!(peer = %self.cfg.address, error = %e, "cannot set TCP keepalive / user timeout");
        }
        self.local_addr = Some(local.ip().to_canonical());
        info!(peer = %self.cfg.address, local = %local, remote = %peer, outbound, "connected");
        self.emit(
            Direction::Receive,
            EventKind::State {
                state: SessionState::Connected,
                reason: None,
            },
        );
        let (mut rd, wr) = stream.into_split();
        let mut conn = Conn {
            wr,
            opts: CodecOptions::INITIAL,
            outbound,
            local,
            our_open: open::local_open(&self.cfg, self.restarted),
            negotiated: None,
            hold: Box::pin(tokio::time::sleep(OPEN_HOLD)),
            hold_for: Some(OPEN_HOLD),
            keepalive: Box::pin(tokio::time::sleep_until(far_future())),
            keepalive_every: None,
            write_limit: OPEN_HOLD,
            pending_incoming: None,
        };
        let open_msg = Message::Open(conn.our_open.clone());
        if let Err(e) = self.send(&mut conn, &[open_msg]).await {
            return (End::Down(e), None);
        }
        self.set_state(PeerState::OpenSent);
        let mut buf: Vec<u8> = Vec::with_capacity(65536);
        self.eor_at = None;
        let end = self.drive(&mut conn, &mut rd, &mut buf).await;
        if let End::HandOver(reply) = end {
            return (self.hand_over(conn, rd, buf, reply).await, None);
        }
        (end, conn.pending_incoming.take())
    }

    /// The connection's loop: the socket, the timers and the commands, until the
    /// session ends (or is to be handed over).
    pub(super) async fn drive(
        &mut self,
        conn: &mut Conn,
        rd: &mut OwnedReadHalf,
        buf: &mut Vec<u8>,
    ) -> End {
        loop {
            // Read in large chunks: a full table arrives as thousands of messages.
            if buf.capacity() - buf.len() < 16384 {
                buf.reserve(65536);
            }
            // What the last turn changed is published before waiting again.
            self.publish_stats();
            let stale_at = self.stale_deadline();
            let eor_at = self.eor_at;
            let flow = tokio::select! {
                // Graceful restart: the End-of-RIB held back after our restart.
                _ = super::sleep_until_std(eor_at), if eor_at.is_some() => {
                    self.eor_at = None;
                    self.send_delta(conn, true).await
                }
                // Graceful restart: the peer's stale routes ran out of time.
                _ = super::sleep_until_std(stale_at), if stale_at.is_some() => {
                    self.stale_expired();
                    Flow::Continue
                }
                r = rd.read_buf(buf) => match r {
                    // Event 18: TcpConnectionFails (peer closed).
                    Ok(0) => Flow::End(End::Down("peer closed the connection".into())),
                    Err(e) => Flow::End(End::Down(format!("read failed: {e}"))),
                    Ok(_) => self.on_bytes(conn, buf).await,
                },
                // Event 10: HoldTimer_Expires. The timer runs on while we write (this
                // loop waits meanwhile), so what the peer sent during a long write is
                // still unread: read it first, and call the peer dead only when
                // nothing is there.
                _ = &mut conn.hold, if conn.hold_for.is_some() => match rd.try_read_buf(buf) {
                    Ok(0) => Flow::End(End::Down("peer closed the connection".into())),
                    Ok(_) => self.on_bytes(conn, buf).await,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        let n = Notification { code: ERR_HOLD_TIMER, subcode: SUBCODE_UNSPECIFIC, data: Vec::new() };
                        self.notify_and_close(conn, n, "hold timer expired".into()).await
                    }
                    Err(e) => Flow::End(End::Down(format!("read failed: {e}"))),
                },
                // Event 11: KeepaliveTimer_Expires.
                _ = &mut conn.keepalive, if conn.keepalive_every.is_some() => {
                    if let Some(every) = conn.keepalive_every {
                        conn.keepalive.as_mut().reset(tokio::time::Instant::now() + every);
                    }
                    match self.send(conn, &[Message::Keepalive]).await {
                        Ok(()) => Flow::Continue,
                        Err(e) => Flow::End(End::Down(e)),
                    }
                }
                cmd = self.rx.recv() => self.on_command(conn, cmd).await,
            };
            if let Flow::End(end) = flow {
                break end;
            }
        }
    }

    /// Decodes every complete message in `buf` and handles it.
    pub(super) async fn on_bytes(&mut self, conn: &mut Conn, buf: &mut Vec<u8>) -> Flow {
        let mut start = 0;
        let flow = loop {
            // Once negotiated, MP routes of other families stay unparsed (RFC 4760 §8).
            let decoded = match &conn.negotiated {
                Some(n) => bgp::decode_message_negotiated(&buf[start..], &conn.opts, &n.families),
                None => bgp::decode_message(&buf[start..], &conn.opts),
            };
            match decoded {
                Ok(None) => break Flow::Continue,
                Ok(Some((msg, used))) => {
                    start += used;
                    // Any message restarts the Hold timer (RFC 4271 §4.4).
                    if let Some(h) = conn.hold_for {
                        conn.hold.as_mut().reset(tokio::time::Instant::now() + h);
                    }
                    count(&mut self.received, &msg);
                    if let Flow::End(e) = self.on_message(conn, msg).await {
                        break Flow::End(e);
                    }
                }
                Err(e) => {
                    // Event 21/22/28: BGPHeaderErr / BGPOpenMsgErr / UpdateMsgErr.
                    warn!(peer = %self.cfg.address, error = %e, "malformed message");
                    let reason = format!("malformed message from peer: {e}");
                    match e.reply() {
                        Some(n) => break self.notify_and_close(conn, n, reason).await,
                        // RFC 4271 §6.4: an error in a NOTIFICATION is not answered.
                        None => {
                            let _ = conn.wr.shutdown().await;
                            break Flow::End(End::Down(reason));
                        }
                    }
                }
            }
        };
        buf.drain(..start.min(buf.len()));
        flow
    }

    /// One message from the peer, handled by the state it arrives in.
    async fn on_message(&mut self, conn: &mut Conn, msg: Message) -> Flow {
        use PeerState::*;
        match (self.state, msg) {
            // Event 24/25: NotifMsgVerErr / NotifMsg, in any state.
            (_, Message::Notification(n)) => {
                warn!(peer = %self.cfg.address, notification = %describe(&n), "NOTIFICATION received");
                self.emit(Direction::Receive, EventKind::Notification(n.clone()));
                self.notified = Some(super::graceful::Notified {
                    code: n.code,
                    sent: false,
                });
                Flow::End(End::Down(format!(
                    "NOTIFICATION received: {}",
                    describe(&n)
                )))
            }
            // Event 19: BGPOpen.
            (OpenSent, Message::Open(peer_open)) => self.on_open(conn, peer_open).await,
            // Event 26: KeepAliveMsg in OpenConfirm -> Established.
            (OpenConfirm, Message::Keepalive) => self.established(conn).await,
            (Established, Message::Keepalive) => {
                self.emit(Direction::Receive, EventKind::Keepalive);
                Flow::Continue
            }
            // Event 27: UpdateMsg.
            (Established, Message::Update(u)) => self.on_update(conn, u).await,
            (Established, Message::RouteRefresh(r)) => self.on_route_refresh(conn, r).await,
            // Anything else is unexpected in this state (RFC 6608 subcodes 1..3).
            (state, m) => {
                let subcode = match state {
                    OpenSent => FSM_IN_OPENSENT,
                    OpenConfirm => FSM_IN_OPENCONFIRM,
                    _ => FSM_IN_ESTABLISHED,
                };
                let n = Notification {
                    code: ERR_FSM,
                    subcode,
                    data: Vec::new(),
                };
                let what = format!("unexpected {} in state {}", kind_name(&m), state.as_str());
                self.notify_and_close(conn, n, what).await
            }
        }
    }
}

/// The message type's name, for the FSM error's reason.
fn kind_name(m: &Message) -> &'static str {
    match m {
        Message::Open(_) => "OPEN",
        Message::Update(_) => "UPDATE",
        Message::Notification(_) => "NOTIFICATION",
        Message::Keepalive => "KEEPALIVE",
        Message::RouteRefresh(_) => "ROUTE-REFRESH",
    }
}
