//! One tokio task per neighbor: the RFC 4271 FSM, timers, collision detection,
//! OPEN negotiation and UPDATE packing from the Adj-RIB-Out.
//!
//! The task owns its [`crate::rib::AdjRibOut`] and [`crate::rib::AdjRibIn`]; the
//! daemon talks to it only through a [`NeighborHandle`] (typed commands over a
//! bounded queue for the API and an unbounded one for the daemon's own messages,
//! see `neighbor/inbox.rs`; answers over oneshots), and the task publishes
//! [`crate::control::Event`]s on the broadcast channel. See `daemon/mod.rs` for the
//! whole picture of tasks and channels. This module never touches the filesystem.

pub mod handover;
mod neighbor;
pub mod open;
pub mod outbound;
pub mod tcp;

use std::time::Duration;

use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use crate::config::NeighborConfig;
use crate::control::EventSender;
use crate::rib::Route;

/// Whether this process restarted without a clean stop (see
/// `daemon::restart_marker`): the R bit of the Graceful Restart capability.
static RESTARTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Told once by the daemon, before the neighbors start.
pub fn set_restarted(restarted: bool) {
    RESTARTED.store(restarted, std::sync::atomic::Ordering::Relaxed);
}

fn restarted() -> bool {
    RESTARTED.load(std::sync::atomic::Ordering::Relaxed)
}

pub use handover::{AdoptError, HandoverState, Refusal};
pub use neighbor::{
    Brief, HandedOver, Neighbor, NeighborCommand, Refused, COMMAND_QUEUE, INCOMING_PENDING,
};

/// The daemon's side of a neighbor task.
#[derive(Debug)]
pub struct NeighborHandle {
    pub config: NeighborConfig,
    tx: neighbor::Outbox,
    task: JoinHandle<()>,
    brief: watch::Receiver<Brief>,
}

impl NeighborHandle {
    /// Spawns the neighbor task with `routes` already in its Adj-RIB-Out.
    /// `routes` go into the new Adj-RIB-Out (`count` of them, to size it once).
    pub fn spawn<'a>(
        config: NeighborConfig,
        routes: impl IntoIterator<Item = &'a Route>,
        count: usize,
        events: EventSender,
    ) -> NeighborHandle {
        let (tx, rx) = neighbor::inbox(COMMAND_QUEUE);
        let (brief_tx, brief) = watch::channel(Brief {
            state: crate::control::PeerState::Idle,
            prefixes_out: 0,
        });
        let neighbor = Neighbor::new(config.clone(), routes, count, events, rx, brief_tx);
        let task = tokio::spawn(neighbor.run());
        NeighborHandle {
            config,
            tx,
            task,
            brief,
        }
    }

    /// Continues an Established session handed over by the previous process
    /// (see `session::handover`) over `socket`, with `routes` (`count` of them)
    /// and `flows` as the Adj-RIB-Out wanted now: only the difference to what
    /// the peer holds is sent. Refused, with the socket given back, when the
    /// state does not match `config` or the socket (see
    /// [`handover::validate`]); the caller then sends a Cease and closes it.
    pub fn adopt<'a>(
        config: NeighborConfig,
        routes: impl IntoIterator<Item = &'a Route>,
        count: usize,
        flows: &[crate::rib::FlowRoute],
        events: EventSender,
        socket: std::net::TcpStream,
        state: HandoverState,
    ) -> Result<NeighborHandle, AdoptError> {
        if let Err(refusal) = handover::validate(&config, &state, &socket) {
            return Err(AdoptError { socket, refusal });
        }
        let (tx, rx) = neighbor::inbox(COMMAND_QUEUE);
        let (brief_tx, brief) = watch::channel(Brief {
            state: crate::control::PeerState::Idle,
            prefixes_out: 0,
        });
        let mut neighbor = Neighbor::new(config.clone(), routes, count, events, rx, brief_tx);
        neighbor.add_flows(flows);
        let task = tokio::spawn(neighbor.run_adopted(socket, state));
        Ok(NeighborHandle {
            config,
            tx,
            task,
            brief,
        })
    }

    /// Asks an Established session to hand itself over (see
    /// `neighbor/handover.rs`), waiting at most `grace`. Ok: the socket and the
    /// state, the task has ended without a Cease. Err: the handle back (not
    /// Established, or no answer in time): the caller stops it as usual.
    pub async fn hand_over(self, grace: Duration) -> Result<HandedOver, NeighborHandle> {
        let (reply, wait) = oneshot::channel();
        if !self.tx.internal(NeighborCommand::HandOver(reply)) {
            return Err(self);
        }
        match tokio::time::timeout(grace, wait).await {
            Ok(Ok(Some(h))) => {
                let mut task = self.task;
                if tokio::time::timeout(grace, &mut task).await.is_err() {
                    task.abort();
                }
                Ok(h)
            }
            _ => Err(self),
        }
    }

    /// The neighbor's state and route count as last published by its task; never
    /// waits for the task.
    pub fn brief(&self) -> Brief {
        *self.brief.borrow()
    }

    /// Queues one of the daemon's own messages (a reload's changes): never refused
    /// while the task lives (see `neighbor/inbox.rs`); false when it has ended.
    /// Commands from the API go through [`NeighborHandle::offer`].
    pub fn send(&self, cmd: NeighborCommand) -> bool {
        self.tx.internal(cmd)
    }

    /// Queues a command from the API, or refuses it at once when the task is not
    /// taking commands ([`Refused::Full`]) or has ended: never waits.
    pub fn offer(&self, cmd: NeighborCommand) -> Result<(), Refused> {
        self.tx.offer(cmd)
    }

    /// Queues a teardown (Cease `subcode`) from the API: never refused while the
    /// task lives, even when its API queue is full; at most one is pending.
    pub fn teardown(&self, subcode: u8) -> Result<(), Refused> {
        self.tx.teardown(subcode)
    }

    /// Hands a connection from the peer to the task (refused, and so closed, when
    /// [`INCOMING_PENDING`] are still waiting for it).
    pub fn incoming(&self, stream: tokio::net::TcpStream) -> Result<(), Refused> {
        self.tx.incoming(stream)
    }

    /// Asks the task to send Cease (subcode, text) and end, waiting at most `grace`
    /// for the NOTIFICATION to be written; the task is aborted after that.
    pub async fn stop(self, subcode: u8, text: &str, grace: Duration) {
        let (done, wait) = oneshot::channel();
        let asked = self.tx.internal(NeighborCommand::Stop {
            subcode,
            text: text.to_string(),
            done,
        });
        // One deadline for both waits, so the whole stop takes at most `grace`.
        let deadline = tokio::time::Instant::now() + grace;
        if asked {
            let _ = tokio::time::timeout_at(deadline, wait).await;
        }
        let mut task = self.task;
        if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
            task.abort();
        }
    }
}
