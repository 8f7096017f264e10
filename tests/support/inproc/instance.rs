//! Test-only wiring of one daemon instance with the API's library functions, the
//! way main.rs is meant to: bind the control socket, then on a runtime of its own
//! (one thread per instance, as a process would have) serve the socket, run the
//! helpers and the real `daemon::run`.

use std::path::PathBuf;
use std::thread::JoinHandle;

use exabgp::api::{self, ApiContext, ControlEndpoint, Reloader};
use exabgp::config::Config;
use exabgp::daemon::{self, DaemonIo};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub struct Instance {
    pub socket: PathBuf,
    pub shutdown: CancellationToken,
    thread: Option<JoinHandle<()>>,
}

impl Instance {
    pub fn start(
        config: Config,
        endpoint: ControlEndpoint,
        listeners: Vec<std::net::TcpListener>,
        reloader: Option<Reloader>,
    ) -> Instance {
        let socket = match &endpoint {
            ControlEndpoint::Bound(s) => s.file.path().to_path_buf(),
            ControlEndpoint::Activated(_) => PathBuf::new(),
        };
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let (control_tx, control_rx) = mpsc::channel(64);
                let (events, _) = exabgp::control::event_channel(4096, 32 << 20);
                let ctx = ApiContext::new(control_tx, reloader);
                // What main does: serve the socket and start the helpers, run the
                // daemon, then wait for both.
                let plane = api::start(
                    Some(endpoint),
                    &config.processes,
                    ctx,
                    &events,
                    true,
                    token.clone(),
                );
                let io = DaemonIo {
                    listeners,
                    control: control_rx,
                    events,
                    shutdown: token.clone(),
                };
                let r = daemon::run(config, io).await;
                token.cancel();
                plane.wait().await;
                r.unwrap();
            });
        });
        Instance {
            socket,
            shutdown,
            thread: Some(thread),
        }
    }

    /// Wait until the instance has stopped (after a `shutdown` command or cancel).
    pub fn join(mut self) {
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
