//! Test-only wiring of one daemon instance with the API's library functions, the
//! way main.rs is meant to: bind the control socket, then on a runtime of its own
//! (one thread per instance, as a process would have) serve the socket, run the
//! helpers and the real `daemon::run`.

use std::path::PathBuf;
use std::thread::JoinHandle;

use exabgp::api::helpers::{spawn_all, HelperOptions};
use exabgp::api::{self, ApiContext, ControlSocket, Reloader};
use exabgp::config::Config;
use exabgp::daemon::{self, DaemonIo};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

pub struct Instance {
    pub socket: PathBuf,
    pub shutdown: CancellationToken,
    thread: Option<JoinHandle<()>>,
}

impl Instance {
    pub fn start(
        config: Config,
        sock: ControlSocket,
        listeners: Vec<std::net::TcpListener>,
        reloader: Option<Reloader>,
    ) -> Instance {
        let socket = sock.file.path().to_path_buf();
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
                let (events, _) = broadcast::channel(4096);
                let ctx = ApiContext::new(control_tx, reloader);
                let server =
                    tokio::spawn(api::serve_control_socket(sock, ctx.clone(), token.clone()));
                let helpers = spawn_all(
                    &config.processes,
                    ctx,
                    &events,
                    HelperOptions::default(),
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
                let _ = server.await;
                helpers.wait().await;
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
