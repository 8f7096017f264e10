//! Where the daemon's signals come from: the process's handlers, or a channel a
//! test sends on. serve.rs waits on it for SIGTERM/SIGINT/SIGHUP, reloads.rs for
//! a second SIGHUP during a reload.

use std::future::Future;

use tokio::sync::mpsc;

use crate::system::signals::{Signal, Signals};

/// Where the signals come from: the process's handlers ([`Signals`]), or a
/// channel a test sends on (the process's own signals are shared by every test).
pub trait SignalSource {
    /// The next signal; cancel-safe.
    fn next(&mut self) -> impl Future<Output = Signal> + Send;
}

impl SignalSource for Signals {
    fn next(&mut self) -> impl Future<Output = Signal> + Send {
        self.recv()
    }
}

/// A closed channel sends nothing more: it waits forever, as the process's
/// handlers do once nobody signals.
impl SignalSource for mpsc::UnboundedReceiver<Signal> {
    async fn next(&mut self) -> Signal {
        match self.recv().await {
            Some(s) => s,
            None => std::future::pending().await,
        }
    }
}
