//! The API's three calls, as daemon/startup.rs and daemon/serve.rs make them:
//! one before the runtime (find and bind the
//! control socket, or take systemd's), one inside it (serve the socket, start
//! the helpers), one at the end (wait for both).
//!
//! ```text
//!   let endpoint = api::prepare_control(&settings, activated_control_fd, Some(gid))?; // exit 69/71 on Err
//!   ... runtime ...
//!   let ctx = api::ApiContext::new(control_tx, Some(api::reloader_for(config_path)));
//!   let plane = api::start(endpoint, &config.processes, ctx, &events_tx, settings.api_ack, shutdown.clone());
//!   daemon::run(config, io).await?;          // daemon/serve.rs
//!   plane.wait().await;
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::{ProcessConfig, Settings};
use crate::control::EventSender;
use crate::system::sockpath;

use super::control_socket::{
    bind_control_socket, serve_control, serve_control_socket, std_to_tokio, BindError,
    ControlSocket, ServerLimits,
};
use super::exec::{ApiContext, Reloader};
use super::helpers::{spawn_all, HelperEnd, HelperOptions, HelperSet};

/// Where control connections come from.
#[derive(Debug)]
pub enum ControlEndpoint {
    /// Bound by us; the file is removed on exit.
    Bound(ControlSocket),
    /// Handed over by systemd (FileDescriptorName=control); systemd owns the file.
    Activated(std::os::unix::net::UnixListener),
}

/// Before the runtime: the control endpoint per the settings. `Ok(None)` when
/// `exabgp_api_cli` is false. `activated`: the listener systemd passed, if any.
/// `group`: the group the socket file gets (the daemon user's, when started as
/// root; default our effective gid).
pub fn prepare_control(
    settings: &Settings,
    activated: Option<std::os::unix::net::UnixListener>,
    group: Option<u32>,
) -> Result<Option<ControlEndpoint>, BindError> {
    if let Some(l) = activated {
        return Ok(Some(ControlEndpoint::Activated(l)));
    }
    if !settings.api_cli {
        return Ok(None);
    }
    let res = sockpath::resolve_default(
        settings.api_socketpath.as_deref(),
        &settings.api_socketname,
        &settings.root,
    );
    let Some(path) = res.path() else {
        return Err(BindError::NoDirectory {
            report: res.report(),
        });
    };
    tracing::info!(path = %path.display(), "control socket");
    bind_control_socket(path, group).map(|s| Some(ControlEndpoint::Bound(s)))
}

/// `reload` / `restart` re-read this file (validated; errors as file:line:col).
pub fn reloader_for(path: PathBuf) -> Reloader {
    Arc::new(move || crate::config::load(&path).map_err(|e| e.to_string()))
}

/// The running API: the socket server and the helpers.
pub struct ApiPlane {
    server: Option<JoinHandle<()>>,
    helpers: HelperSet,
}

impl ApiPlane {
    /// Wait for the server (which removes its socket file) and the helpers (which
    /// are terminated) after `shutdown` was cancelled.
    pub async fn wait(self) -> Vec<(String, HelperEnd)> {
        if let Some(s) = self.server {
            let _ = s.await;
        }
        self.helpers.wait().await
    }
}

/// Inside the runtime: serve the control endpoint and start the helpers.
pub fn start(
    endpoint: Option<ControlEndpoint>,
    processes: &[ProcessConfig],
    ctx: ApiContext,
    events: &EventSender,
    ack: bool,
    shutdown: CancellationToken,
) -> ApiPlane {
    let server = endpoint.map(|e| match e {
        ControlEndpoint::Bound(sock) => {
            tokio::spawn(serve_control_socket(sock, ctx.clone(), shutdown.clone()))
        }
        ControlEndpoint::Activated(l) => {
            let (ctx, token) = (ctx.clone(), shutdown.clone());
            tokio::spawn(async move {
                match std_to_tokio(l) {
                    Ok(l) => serve_control(l, ctx, ServerLimits::default(), token).await,
                    Err(e) => tracing::error!("control socket from systemd unusable: {e}"),
                }
            })
        }
    });
    let opts = HelperOptions {
        ack,
        ..Default::default()
    };
    let helpers = spawn_all(processes, ctx, events, opts, shutdown);
    ApiPlane { server, helpers }
}
