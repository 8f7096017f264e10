//! The two ways into a neighbor task, and why there are two.
//!
//! - Commands from the API (announce, withdraw, show, teardown ...) go through a
//!   bounded queue of [`COMMAND_QUEUE`] commands. A task that does not take them (it
//!   is blocked writing to a peer that stopped reading) fills it, and the daemon
//!   then refuses further commands for that neighbor at once (`try_send`): the
//!   sender hears "neighbor X is not accepting commands", the daemon's loop and the
//!   other neighbors never wait, and memory stays bounded.
//! - The daemon's own messages must not be refused: Stop (it ends the task and
//!   writes the Cease), the changes of a reload (refusing one would leave the
//!   Adj-RIB-Out out of step with the configuration for good) and connections the
//!   listener accepted from this peer. They go through a separate unbounded queue
//!   that the task reads first. It cannot grow without bound: Stop is sent once (it
//!   consumes the handle), a reload is an operator action, and incoming connections
//!   are capped at [`INCOMING_PENDING`] not yet taken by the task (beyond that the
//!   connection is closed: the peer has several pending already).
//! - A teardown from the API also takes the second queue: the operator needs it
//!   most when the task is stuck and its API queue full. The API cannot flood the
//!   queue with it: at most one teardown is pending (a flag set when one is queued,
//!   cleared when the task takes it); more while one is pending are merged into it
//!   (its Cease subcode is the first one's).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TryRecvError;

use super::NeighborCommand;

/// API commands queued for one neighbor before the daemon refuses more.
pub const COMMAND_QUEUE: usize = 16_384;
/// Incoming connections handed to a neighbor and not yet taken by its task.
pub const INCOMING_PENDING: usize = 4;

/// Why a command was not queued.
#[derive(Debug)]
pub enum Refused {
    /// The queue is full: the task is not taking commands.
    Full,
    /// The task has ended.
    Gone,
}

/// The daemon's ends of the two queues.
#[derive(Debug)]
pub struct Outbox {
    commands: mpsc::Sender<NeighborCommand>,
    internal: mpsc::UnboundedSender<NeighborCommand>,
    incoming_pending: Arc<AtomicUsize>,
    teardown_pending: Arc<AtomicBool>,
}

/// The task's ends of the two queues.
#[derive(Debug)]
pub struct Inbox {
    commands: mpsc::Receiver<NeighborCommand>,
    internal: mpsc::UnboundedReceiver<NeighborCommand>,
    incoming_pending: Arc<AtomicUsize>,
    teardown_pending: Arc<AtomicBool>,
}

/// A connected pair of queues, the API one holding `capacity` commands.
pub fn inbox(capacity: usize) -> (Outbox, Inbox) {
    let (ctx, crx) = mpsc::channel(capacity.max(1));
    let (itx, irx) = mpsc::unbounded_channel();
    let pending = Arc::new(AtomicUsize::new(0));
    let teardown = Arc::new(AtomicBool::new(false));
    (
        Outbox {
            commands: ctx,
            internal: itx,
            incoming_pending: Arc::clone(&pending),
            teardown_pending: Arc::clone(&teardown),
        },
        Inbox {
            commands: crx,
            internal: irx,
            incoming_pending: pending,
            teardown_pending: teardown,
        },
    )
}

impl Outbox {
    /// An API command: queued, or refused at once.
    pub fn offer(&self, cmd: NeighborCommand) -> Result<(), Refused> {
        self.commands.try_send(cmd).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => Refused::Full,
            mpsc::error::TrySendError::Closed(_) => Refused::Gone,
        })
    }

    /// One of the daemon's own messages (see the module documentation); false when
    /// the task has ended.
    pub fn internal(&self, cmd: NeighborCommand) -> bool {
        self.internal.send(cmd).is_ok()
    }

    /// A teardown from the API (Cease `subcode`): never refused while the task
    /// lives, merged into one already pending (see the module documentation).
    pub fn teardown(&self, subcode: u8) -> Result<(), Refused> {
        if self.teardown_pending.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        if self.internal(NeighborCommand::Teardown(subcode)) {
            Ok(())
        } else {
            self.teardown_pending.store(false, Ordering::Release);
            Err(Refused::Gone)
        }
    }

    /// A connection from the peer, unless [`INCOMING_PENDING`] are still waiting
    /// for the task (the connection is then dropped, which closes it).
    pub fn incoming(&self, stream: TcpStream) -> Result<(), Refused> {
        let taken = self
            .incoming_pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < INCOMING_PENDING).then_some(n + 1)
            });
        if taken.is_err() {
            return Err(Refused::Full);
        }
        if self.internal(NeighborCommand::Incoming(stream)) {
            Ok(())
        } else {
            self.incoming_pending.fetch_sub(1, Ordering::AcqRel);
            Err(Refused::Gone)
        }
    }
}

impl Inbox {
    fn taken(&self, cmd: NeighborCommand) -> NeighborCommand {
        match cmd {
            NeighborCommand::Incoming(_) => {
                self.incoming_pending.fetch_sub(1, Ordering::AcqRel);
            }
            NeighborCommand::Teardown(_) => self.teardown_pending.store(false, Ordering::Release),
            _ => {}
        }
        cmd
    }

    /// The next message, the daemon's own first; None when the daemon dropped the
    /// handle.
    pub async fn recv(&mut self) -> Option<NeighborCommand> {
        let cmd = tokio::select! {
            biased;
            Some(c) = self.internal.recv() => Some(c),
            c = self.commands.recv() => c,
        };
        cmd.map(|c| self.taken(c))
    }

    /// The next message if one is queued, the daemon's own first.
    pub fn try_recv(&mut self) -> Result<NeighborCommand, TryRecvError> {
        let cmd = match self.internal.try_recv() {
            Ok(c) => c,
            Err(_) => self.commands.try_recv()?,
        };
        Ok(self.taken(cmd))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// The API queue refuses when full; the daemon's messages are still taken, and
    /// first; incoming connections are capped while the task has not taken them.
    #[tokio::test]
    async fn bounded_commands_unrefused_internal_capped_incoming() {
        let (out, mut inbox) = inbox(2);
        assert!(out.offer(NeighborCommand::FlushOut).is_ok());
        assert!(out.offer(NeighborCommand::ClearIn).is_ok());
        assert!(matches!(
            out.offer(NeighborCommand::ClearOut),
            Err(Refused::Full)
        ));
        assert!(out.internal(NeighborCommand::Teardown(4)));

        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        for _ in 0..INCOMING_PENDING {
            let s = TcpStream::connect(addr).await.unwrap();
            assert!(out.incoming(s).is_ok());
        }
        let s = TcpStream::connect(addr).await.unwrap();
        assert!(matches!(out.incoming(s), Err(Refused::Full)));

        assert!(matches!(
            inbox.recv().await,
            Some(NeighborCommand::Teardown(4))
        ));
        assert!(matches!(
            inbox.recv().await,
            Some(NeighborCommand::Incoming(_))
        ));
        // One taken: room for one more.
        let s = TcpStream::connect(addr).await.unwrap();
        assert!(out.incoming(s).is_ok());
        for _ in 0..INCOMING_PENDING {
            assert!(matches!(inbox.try_recv(), Ok(NeighborCommand::Incoming(_))));
        }
        assert!(matches!(inbox.try_recv(), Ok(NeighborCommand::FlushOut)));
        assert!(matches!(inbox.recv().await, Some(NeighborCommand::ClearIn)));
        drop(out);
        assert!(inbox.recv().await.is_none());
    }

    /// A full API queue does not refuse a teardown; teardowns while one is pending
    /// are merged, so the API cannot grow the unbounded queue with them; once the
    /// task took it, the next one is queued again.
    #[tokio::test]
    async fn teardown_is_never_refused_and_coalesced() {
        let (out, mut inbox) = inbox(1);
        assert!(out.offer(NeighborCommand::FlushOut).is_ok());
        assert!(matches!(
            out.offer(NeighborCommand::ClearIn),
            Err(Refused::Full)
        ));
        for _ in 0..10_000 {
            assert!(out.teardown(4).is_ok());
        }
        assert!(matches!(inbox.try_recv(), Ok(NeighborCommand::Teardown(4))));
        assert!(matches!(inbox.try_recv(), Ok(NeighborCommand::FlushOut)));
        assert!(inbox.try_recv().is_err(), "one teardown queued, not 10000");
        assert!(out.teardown(2).is_ok());
        assert!(matches!(inbox.try_recv(), Ok(NeighborCommand::Teardown(2))));
        drop(inbox);
        assert!(matches!(out.teardown(4), Err(Refused::Gone)));
    }
}
