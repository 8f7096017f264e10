//! The daemon's commands to a neighbor: applied to the Adj-RIBs (and answered)
//! while there is no connection, and, while there is one, handled in bursts
//! followed by one Adj-RIB-Out delta.

use tokio::io::AsyncWriteExt;
use tokio::sync::oneshot;

use super::{Conn, End, Flow, Neighbor, NeighborCommand};
use crate::bgp::iana::{CEASE_ADMIN_RESET, CEASE_ADMIN_SHUTDOWN};
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
            NeighborCommand::AnnounceFlow(rules) => {
                for r in rules {
                    self.rib_out.flows.announce_owned(r);
                }
            }
            NeighborCommand::WithdrawFlow(rules) => {
                for r in &rules {
                    self.rib_out.flows.withdraw(r);
                }
            }
            NeighborCommand::FlushOut | NeighborCommand::Teardown(_) => {}
            NeighborCommand::ClearIn => {
                self.drop_stale("adj-rib in cleared");
                self.rib_in.clear();
            }
            NeighborCommand::ClearOut => self.rib_out.clear(),
            NeighborCommand::Status(reply) => {
                let _ = reply.send(self.status());
            }
            NeighborCommand::Rib(dir, reply) => {
                let _ = reply.send(self.rib_entries(dir, None));
            }
            NeighborCommand::FlowRib(dir, reply) => {
                let _ = reply.send(self.flow_entries(dir));
            }
            NeighborCommand::Incoming(_) => {}
            NeighborCommand::Reconfigure(cfg) => self.cfg = *cfg,
            // Not Established: nothing to hand over.
            NeighborCommand::HandOver(reply) => {
                let _ = reply.send(None);
            }
            NeighborCommand::Stop { done, .. } => {
                // Removed or reconfigured while the peer is away: its stale
                // routes go, and helpers are told.
                self.drop_stale("neighbor stopped");
                return Some(done);
            }
        }
        self.publish();
        None
    }

    /// A command while a connection exists; a burst is handled before one send.
    pub(super) async fn on_command(
        &mut self,
        conn: &mut Conn,
        cmd: Option<NeighborCommand>,
    ) -> Flow {
        let Some(mut cmd) = cmd else {
            // The daemon dropped us: leave politely.
            let n = Notification::cease_shutdown(CEASE_ADMIN_SHUTDOWN, "");
            let _ = self.send(conn, &[Message::Notification(n)]).await;
            return Flow::End(End::Stop);
        };
        for handled in 1..=COMMAND_BATCH {
            if let Flow::End(e) = self.command_online(conn, cmd).await {
                return Flow::End(e);
            }
            // Take the next command only when this batch will handle it: one taken
            // off the channel and left unhandled would be lost.
            if handled == COMMAND_BATCH {
                break;
            }
            match self.rx.try_recv() {
                Ok(c) => cmd = c,
                Err(_) => break,
            }
        }
        self.publish();
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
            NeighborCommand::AnnounceFlow(rules) => {
                for r in rules {
                    self.dirty |= self.rib_out.flows.announce_owned(r);
                }
            }
            NeighborCommand::WithdrawFlow(rules) => {
                for r in &rules {
                    self.dirty |= self.rib_out.flows.withdraw(r);
                }
            }
            NeighborCommand::FlushOut => {
                // Not resend_all: a withdraw queued just before must still go out.
                self.rib_out.resend_held();
                self.dirty = true;
            }
            NeighborCommand::ClearOut => {
                self.rib_out.clear();
                self.dirty = true;
            }
            NeighborCommand::ClearIn => {
                self.drop_stale("adj-rib in cleared");
                self.rib_in.clear();
            }
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
            NeighborCommand::FlowRib(dir, reply) => {
                let _ = reply.send(self.flow_entries(dir));
            }
            NeighborCommand::Incoming(s) => return self.on_incoming(conn, s).await,
            NeighborCommand::Reconfigure(cfg) => self.cfg = *cfg,
            NeighborCommand::HandOver(reply) => {
                if self.state == crate::control::PeerState::Established {
                    return Flow::End(End::HandOver(reply));
                }
                let _ = reply.send(None);
            }
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

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};
    use std::sync::Arc;
    use std::time::Duration;

    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;

    use super::*;
    use crate::bgp::{PathAttributes, Prefix};
    use crate::rib::{NextHop, Route};
    use crate::session::NeighborHandle;

    /// A burst of commands longer than one batch, queued while a connection is up:
    /// every command is handled, none is lost at the batch boundary.
    #[tokio::test]
    async fn a_burst_longer_than_one_batch_loses_no_command() {
        let limit = Duration::from_secs(30);
        let peer = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut cfg = super::super::test_config();
        cfg.address = IpAddr::V4(Ipv4Addr::LOCALHOST);
        cfg.port = peer.local_addr().unwrap().port();
        cfg.md5_password = None;
        let (events, _) = crate::control::event_channel(16, 1 << 20);
        let handle = NeighborHandle::spawn(cfg, &[], 0, events);
        // The peer takes the connection, reads our OPEN and stays silent: the
        // neighbor waits in OpenSent, in its connection loop.
        let (mut s, _) = tokio::time::timeout(limit, peer.accept())
            .await
            .unwrap()
            .unwrap();
        let mut buf = [0u8; 4096];
        let read = tokio::time::timeout(limit, s.read(&mut buf)).await.unwrap();
        assert!(read.unwrap() > 0);
        // One batch and one more command, all queued before the task runs again
        // (single-threaded runtime, nothing awaited in between).
        let attributes = Arc::new(PathAttributes::default());
        let total = COMMAND_BATCH + 1;
        for i in 0..total {
            let addr = Ipv4Addr::from(0x0a00_0000 + ((i as u32) << 8));
            let route = Route {
                prefix: Prefix::new(IpAddr::V4(addr), 24).unwrap(),
                next_hop: NextHop::SelfAddress,
                attributes: attributes.clone(),
            };
            assert!(handle.send(NeighborCommand::Announce(vec![route])));
        }
        let (reply, answer) = oneshot::channel();
        assert!(handle.send(NeighborCommand::Status(reply)));
        let status = tokio::time::timeout(limit, answer).await.unwrap().unwrap();
        assert_eq!(status.prefixes_out, total as u64);
        handle
            .stop(CEASE_ADMIN_SHUTDOWN, "", Duration::from_secs(1))
            .await;
    }
}
