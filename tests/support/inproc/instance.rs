//! One daemon instance inside the test process, wired as `exabgp server` wires
//! it: [`exabgp::daemon::serve`] on a runtime of its own (one per instance, as a
//! process would have), with the listeners and the control socket the test bound,
//! and signals sent on a channel instead of the process's own.

use std::path::PathBuf;
use std::thread::JoinHandle;

use exabgp::api::ControlEndpoint;
use exabgp::config::Config;
use exabgp::daemon::{self, Parts};
use exabgp::system::notify::Notifier;
use exabgp::system::signals::Signal;
use tokio::sync::mpsc;

pub struct Instance {
    pub socket: PathBuf,
    /// This instance's SIGTERM/SIGHUP.
    signals: mpsc::UnboundedSender<Signal>,
    thread: Option<JoinHandle<()>>,
}

impl Instance {
    pub fn start(
        config: Config,
        endpoint: ControlEndpoint,
        listeners: Vec<std::net::TcpListener>,
    ) -> Instance {
        let socket = match &endpoint {
            ControlEndpoint::Bound(s) => s.file.path().to_path_buf(),
            ControlEndpoint::Activated(_) => PathBuf::new(),
        };
        let (signals, rx) = mpsc::unbounded_channel();
        let parts = Parts {
            config,
            // Parsed from a string: a reload would be refused (no such file).
            config_path: PathBuf::from("/nonexistent/exabgp-test-instance.toml"),
            control: Some(endpoint),
            listeners,
            metrics: Vec::new(),
            api_ack: true,
            notifier: Notifier::disabled(),
            hitless: false,
            stored: Vec::new(),
            env_file: None,
        };
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(daemon::serve(parts, rx)).unwrap();
        });
        Instance {
            socket,
            signals,
            thread: Some(thread),
        }
    }

    /// Wait until the instance has stopped (after a `shutdown` command or SIGTERM).
    pub fn join(mut self) {
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // Gone already after a `shutdown` command: nobody receives it then.
        let _ = self.signals.send(Signal::Terminate);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
