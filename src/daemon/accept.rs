//! Accepting BGP connections on the listeners start-up bound (`system/bind.rs`) or
//! systemd handed over: one accept task per socket, each accepted connection
//! handed to the daemon loop, which dispatches it by peer address.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::system::md5;

#[derive(Debug, thiserror::Error)]
pub enum ListenerError {
    #[error("cannot use BGP listener {addr}: {source}")]
    Setup {
        addr: String,
        source: std::io::Error,
    },
}

/// The daemon's listeners (kept so TCP MD5 keys can be set per peer).
pub struct Listeners {
    sockets: Vec<Arc<TcpListener>>,
}

impl Listeners {
    /// Starts one accept task per listener; accepted connections go to `to_daemon`.
    pub fn start(
        listeners: Vec<std::net::TcpListener>,
        to_daemon: mpsc::Sender<(TcpStream, SocketAddr)>,
        shutdown: CancellationToken,
    ) -> Result<Listeners, ListenerError> {
        let mut sockets = Vec::new();
        for l in listeners {
            let addr = l
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|_| "?".into());
            let setup = |source| ListenerError::Setup {
                addr: addr.clone(),
                source,
            };
            l.set_nonblocking(true).map_err(setup)?;
            let l = Arc::new(TcpListener::from_std(l).map_err(setup)?);
            info!(listen = %addr, "accepting BGP connections");
            tokio::spawn(accept_loop(
                Arc::clone(&l),
                to_daemon.clone(),
                shutdown.clone(),
            ));
            sockets.push(l);
        }
        Ok(Listeners { sockets })
    }

    /// Sets the TCP MD5 key for connections from `peer` on every listener of its family.
    pub fn set_md5(&self, peer: IpAddr, key: &str) {
        for l in &self.sockets {
            let v6_listener = l.local_addr().map(|a| a.is_ipv6()).unwrap_or(false);
            if let Err(e) = md5::set_listener_md5(l.as_ref(), v6_listener, peer, key.as_bytes()) {
                warn!(peer = %peer, error = %e, "cannot set the TCP MD5 key on a listener");
            }
        }
    }

    pub fn clear_md5(&self, peer: IpAddr) {
        for l in &self.sockets {
            let v6_listener = l.local_addr().map(|a| a.is_ipv6()).unwrap_or(false);
            let _ = md5::set_listener_md5(l.as_ref(), v6_listener, peer, b"");
        }
    }
}

async fn accept_loop(
    listener: Arc<TcpListener>,
    to_daemon: mpsc::Sender<(TcpStream, SocketAddr)>,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            r = listener.accept() => match r {
                Ok((stream, peer)) => {
                    if to_daemon.send((stream, peer)).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    // EMFILE and friends: wait a little instead of spinning.
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
}
