//! The daemon's commands to a neighbor: applied to the Adj-RIBs (and answered)
//! while there is no connection, and, while there is one, handled in bursts
//! followed by one Adj-RIB-Out delta.

use tokio::io::AsyncWriteExt;
use tokio::sync::oneshot;

use super::{Conn, End, Flow, Neighbor, NeighborCommand, CEASE_ADMIN_RESET, CEASE_ADMIN_SHUTDOWN};
use crate::bgp::{Message, Notification};

/// Commands handled before the Adj-RIB-Out delta is sent, so a burst of API
/// commands becomes few UPDATEs.
const COMMAND_BATCH: usize = 10_000;

impl Neighbor {
    /// Commands that need no connection. Returns the Stop acknowledgement, if asked to stop.
    pub(super) fn command_offline(&mut self, cmd: NeighborCommand) -> Option<oneshot::Sender<()>> {
        match cmd {
            NeighborCommand::Announce(routes) => {
                for r in &routes {
                    self.rib_out.announce(r);
                }
            }
            NeighborCommand::Withdraw(prefixes) => {
                for p in &prefixes {
                    self.rib_out.withdraw(p);
                }
            }
            NeighborCommand::FlushOut | NeighborCommand::Teardown(_) => {}
            NeighborCommand::ClearIn => self.rib_in.clear(),
            NeighborCommand::ClearOut => self.rib_out.clear(),
            NeighborCommand::Status(reply) => {
                let _ = reply.send(self.status());
            }
            NeighborCommand::Rib(dir, reply) => {
                let _ = reply.send(self.rib_entries(dir, None));
            }
            NeighborCommand::Incoming(_) => {}
            NeighborCommand::Stop { done, .. } => return Some(done),
        }
        None
    }

    /// A command while a connection exists; a burst is handled before one send.
    pub(super) async fn on_command(
        &mut self,
        conn: &mut Conn,
        cmd: Option<NeighborCommand>,
    ) -> Flow {
        let mut next = cmd;
        for _ in 0..COMMAND_BATCH {
            let Some(cmd) = next.take() else {
                // The daemon dropped us: leave politely.
                let n = Notification::cease_shutdown(CEASE_ADMIN_SHUTDOWN, "");
                let _ = self.send(conn, &[Message::Notification(n)]).await;
                return Flow::End(End::Stop);
            };
            if let Flow::End(e) = self.command_online(conn, cmd).await {
                return Flow::End(e);
            }
            match self.rx.try_recv() {
                Ok(c) => next = Some(c),
                Err(_) => break,
            }
        }
        if self.dirty {
            return self.send_delta(conn, false).await;
        }
        Flow::Continue
    }

    /// One command while a connection exists (any state from OpenSent on).
    async fn command_online(&mut self, conn: &mut Conn, cmd: NeighborCommand) -> Flow {
        match cmd {
            NeighborCommand::Announce(routes) => {
                for r in &routes {
                    self.dirty |= self.rib_out.announce(r);
                }
            }
            NeighborCommand::Withdraw(prefixes) => {
                for p in &prefixes {
                    self.dirty |= self.rib_out.withdraw(p);
                }
            }
            NeighborCommand::FlushOut => {
                self.rib_out.resend_all();
                self.dirty = true;
            }
            NeighborCommand::ClearOut => {
                self.rib_out.clear();
                self.dirty = true;
            }
            NeighborCommand::ClearIn => self.rib_in.clear(),
            NeighborCommand::Teardown(subcode) => {
                let n = Notification::cease_shutdown(subcode, "");
                return self
                    .notify_and_close(
                        conn,
                        n,
                        format!("teardown requested (cease subcode {subcode})"),
                    )
                    .await;
            }
            NeighborCommand::Status(reply) => {
                let _ = reply.send(self.status());
            }
            NeighborCommand::Rib(dir, reply) => {
                let ctx = self.context(conn);
                let _ = reply.send(self.rib_entries(dir, Some(&ctx)));
            }
            NeighborCommand::Incoming(s) => return self.on_incoming(conn, s).await,
            NeighborCommand::Stop {
                subcode,
                text,
                done,
            } => {
                // A shutdown communication belongs only to subcodes 2 and 4 (RFC 8203).
                let with_text = subcode == CEASE_ADMIN_SHUTDOWN || subcode == CEASE_ADMIN_RESET;
                let n = Notification::cease_shutdown(subcode, if with_text { &text } else { "" });
                let _ = self.send(conn, &[Message::Notification(n)]).await;
                let _ = conn.wr.shutdown().await;
                let _ = done.send(());
                return Flow::End(End::Stop);
            }
        }
        Flow::Continue
    }
}
