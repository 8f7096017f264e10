//! The daemon core in the test process, on a runtime of its own: `InProcess` runs
//! `daemon::run` alone, driven through its control channel the way the API layer
//! drives it; `Instance` (instance.rs) wires it with the control socket and the
//! helpers through `daemon::serve`, as `exabgp server` does.

pub mod instance;
pub use instance::Instance;

use std::net::{IpAddr, TcpListener};
use std::time::Duration;

use std::sync::Arc;

use exabgp::bgp::{Origin, PathAttributes, Prefix};
use exabgp::config::Config;
use exabgp::control::PeerState;
use exabgp::control::{Command, ControlReply, ControlRequest, NeighborStatus, ShowDetail};
use exabgp::daemon::{self, DaemonError, DaemonIo};
use exabgp::rib::{NextHop, Route};
use tokio::runtime::Runtime;
use tokio::sync::{mpsc, oneshot};
use tokio::task::{JoinError, JoinHandle};
use tokio::time::error::Elapsed;
use tokio_util::sync::CancellationToken;

/// The sending end of the daemon's control channel.
pub struct Control {
    pub tx: mpsc::Sender<ControlRequest>,
}

impl Control {
    /// Sends `command` and waits for the daemon's reply.
    pub fn ask(&self, command: Command) -> ControlReply {
        let (reply, rx) = oneshot::channel();
        self.tx
            .blocking_send(ControlRequest { command, reply })
            .expect("daemon is running");
        rx.blocking_recv().expect("daemon answered")
    }

    /// `show neighbor extensive` of the one neighbor `addr`.
    pub fn neighbor(&self, addr: IpAddr) -> NeighborStatus {
        match self.ask(Command::ShowNeighbor {
            detail: ShowDetail::Extensive,
            address: Some(addr),
        }) {
            ControlReply::Neighbors(mut v) if v.len() == 1 => v.remove(0),
            other => panic!("unexpected reply {other:?}"),
        }
    }
}

impl Control {
    /// Waits up to `timeout` for neighbor `addr` to leave Established with a last
    /// error (a session the daemon tore down), and returns its status.
    pub fn wait_down(&self, addr: IpAddr, timeout: Duration) -> Option<NeighborStatus> {
        super::wait_for(timeout, || {
            match self.ask(Command::ShowNeighbor {
                detail: ShowDetail::Summary,
                address: Some(addr),
            }) {
                ControlReply::Neighbors(v) => v
                    .into_iter()
                    .find(|s| s.state != PeerState::Established && s.last_error.is_some()),
                _ => None,
            }
        })
    }
}

/// Route number `i`: 10.0.0.0/24 + i (i < 65536 * 256), next hop 192.0.2.20, MED
/// `med`. Routes with different MEDs go out one UPDATE each, so a table of them is
/// far more than socket buffers hold.
pub fn numbered_route(i: u32, med: u32) -> Route {
    Route {
        prefix: Prefix::new(IpAddr::V4((0x0a00_0000 + (i << 8)).into()), 24)
            .expect("a /24 of 10.0.0.0/8"),
        next_hop: NextHop::Address("192.0.2.20".parse().expect("an address")),
        attributes: Arc::new(PathAttributes {
            origin: Some(Origin::Igp),
            med: Some(med),
            ..Default::default()
        }),
    }
}

/// `n` numbered routes, each with its own MED: `n` UPDATEs.
pub fn distinct_routes(n: u32) -> Vec<Route> {
    (0..n).map(|i| numbered_route(i, i)).collect()
}

/// What `daemon::run` ended with, if it ended in time.
pub type RunOutcome = Result<Result<Result<(), DaemonError>, JoinError>, Elapsed>;

/// `daemon::run` on a two-thread runtime; dropping this drops the runtime and with
/// it the daemon.
pub struct InProcess {
    pub rt: Runtime,
    pub ctl: Control,
    /// The daemon's shutdown token (never cancelled by this harness).
    pub shutdown: CancellationToken,
    daemon: Option<JoinHandle<Result<(), DaemonError>>>,
}

impl InProcess {
    /// Runs `config` with `listeners` (already bound), events sent on `events`.
    pub fn start(
        config: Config,
        listeners: Vec<TcpListener>,
        events: exabgp::control::EventSender,
    ) -> InProcess {
        InProcess::start_with(config, listeners, events, Default::default())
    }

    /// [`InProcess::start`] with sessions to adopt and a hand-over switch.
    pub fn start_with(
        config: Config,
        listeners: Vec<TcpListener>,
        events: exabgp::control::EventSender,
        hitless: daemon::hitless::Hitless,
    ) -> InProcess {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let (tx, control_rx) = mpsc::channel(16);
        let shutdown = CancellationToken::new();
        let io = DaemonIo {
            listeners,
            control: control_rx,
            events,
            shutdown: shutdown.clone(),
            hitless,
        };
        let daemon = rt.spawn(daemon::run(config, io));
        InProcess {
            rt,
            ctl: Control { tx },
            shutdown,
            daemon: Some(daemon),
        }
    }

    /// Waits at most `timeout` for `daemon::run` to return (after a Shutdown); the
    /// runtime lives on until this is dropped.
    pub fn join(&mut self, timeout: Duration) -> RunOutcome {
        let daemon = self.daemon.take().expect("joined once");
        self.rt
            .block_on(async { tokio::time::timeout(timeout, daemon).await })
    }
}
