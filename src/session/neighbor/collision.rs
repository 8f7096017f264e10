//! Connection collisions (RFC 4271 §6.8): a second connection from the peer while
//! one exists is kept until the peer's BGP identifier is known, then the
//! connection opened by the speaker with the higher identifier survives.

use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tracing::info;

use super::{Conn, End, Flow, Neighbor};
use crate::bgp::iana::{CEASE_COLLISION, ERR_CEASE};
use crate::bgp::{self, CodecOptions, Message, Notification};
use crate::control::PeerState;

impl Neighbor {
    /// A second connection from the peer while one exists (RFC 4271 §6.8).
    pub(super) async fn on_incoming(&mut self, conn: &mut Conn, incoming: TcpStream) -> Flow {
        match (self.state, self.peer_router_id) {
            (PeerState::OpenConfirm, Some(id)) => self.collision(conn, incoming, id).await,
            (PeerState::OpenSent, _) => {
                // The peer's identifier is not known yet: decide when its OPEN arrives.
                if let Some(old) = conn.pending_incoming.replace(incoming) {
                    self.count_rejection(reject_incoming(old).await);
                }
                Flow::Continue
            }
            _ => {
                info!(peer = %self.cfg.address, "connection collision with an established session: refusing the new one");
                self.count_rejection(reject_incoming(incoming).await);
                Flow::Continue
            }
        }
    }

    /// RFC 4271 §6.8 with the peer's identifier known: the connection opened by the
    /// speaker with the higher BGP identifier survives.
    pub(super) async fn collision(
        &mut self,
        conn: &mut Conn,
        incoming: TcpStream,
        peer_id: std::net::Ipv4Addr,
    ) -> Flow {
        let keep_existing = conn.outbound && u32::from(self.cfg.router_id) > u32::from(peer_id);
        if keep_existing {
            info!(peer = %self.cfg.address, "connection collision: keeping our connection");
            self.count_rejection(reject_incoming(incoming).await);
            Flow::Continue
        } else {
            info!(peer = %self.cfg.address, "connection collision: switching to the peer's connection");
            let n = Notification {
                code: ERR_CEASE,
                subcode: CEASE_COLLISION,
                data: Vec::new(),
            };
            let _ = self.send(conn, &[Message::Notification(n)]).await;
            let _ = conn.wr.shutdown().await;
            Flow::End(End::Switch(
                incoming,
                "connection collision resolved for the peer's connection".into(),
            ))
        }
    }
}

impl Neighbor {
    /// Counts the Cease a refused connection was sent, if it was written.
    fn count_rejection(&mut self, written: bool) {
        if written {
            self.sent.notification += 1;
        }
    }
}

/// Closes a connection that lost a collision, with Cease / Connection Collision
/// Resolution. True when the NOTIFICATION was written.
async fn reject_incoming(mut s: TcpStream) -> bool {
    let n = Notification {
        code: ERR_CEASE,
        subcode: CEASE_COLLISION,
        data: Vec::new(),
    };
    let mut out = Vec::new();
    let written = bgp::encode_message(&Message::Notification(n), &CodecOptions::INITIAL, &mut out)
        .is_ok()
        && matches!(
            tokio::time::timeout(Duration::from_secs(2), s.write_all(&out)).await,
            Ok(Ok(()))
        );
    let _ = s.shutdown().await;
    written
}
