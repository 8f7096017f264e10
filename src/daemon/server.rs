//! `exabgp server`: everything between the command line and [`super::run`]:
//! logging, the configuration, the BGP listeners, the runtime and the signals.

use std::net::SocketAddr;
use std::path::PathBuf;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::{reloads, DaemonError, DaemonIo};
use crate::api;
use crate::bgp::{self, CodecOptions};
use crate::config::{self, Config, LoadedSettings, Settings};
use crate::control::{Command, ControlReply};
use crate::system::activation::{self, Activated};
use crate::system::notify::Notifier;
use crate::system::signals::{self, Signal, Signals};
use crate::system::supervise::{self, Health};
use crate::system::{listen, logging, privileges};

/// What `exabgp server` was asked to do.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub config: PathBuf,
    pub log_level: Option<String>,
    pub instance: Option<String>,
    /// `--log`: auto, stderr or journal (overrides exabgp_log_destination).
    pub log_destination: Option<String>,
    /// `--env-file`: settings file; skipped when it does not exist.
    pub env_file: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Already formatted as file:line:col: what was wrong.
    #[error("{0}")]
    Config(String),
    /// Names the address, the port and what to check.
    #[error(transparent)]
    Listen(listen::BindError),
    /// "another instance is already running on PATH", or why no socket could be bound.
    #[error(transparent)]
    Control(api::BindError),
    #[error("{0}")]
    Activation(String),
    #[error("{0}")]
    Privileges(String),
    /// Already says which setting, where it came from and what was expected.
    #[error("{0}")]
    Settings(String),
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
    #[error(transparent)]
    Daemon(#[from] DaemonError),
    #[error(transparent)]
    Metrics(#[from] crate::metrics::http::HttpError),
}

impl ServerError {
    /// The process exit code (sysexits): 78 for configuration, 77 for a missing
    /// permission, 69 when another instance runs, 71 for other OS errors.
    pub fn exit_code(&self) -> i32 {
        match self {
            ServerError::Config(_) | ServerError::Settings(_) => crate::EX_CONFIG,
            ServerError::Listen(e) if e.is_permission() => crate::EX_NOPERM,
            ServerError::Control(e) => e.exit_code(),
            ServerError::Privileges(_) => crate::EX_NOPERM,
            _ => crate::EX_OSERR,
        }
    }
}

/// One line describing a configuration, for `validate` and the startup log.
pub fn summary(c: &Config) -> String {
    format!(
        "{} neighbor(s), {} route(s), {} process(es), router-id {}, local-as {}",
        c.neighbors.len(),
        c.routes.len(),
        c.processes.len(),
        c.global.router_id,
        c.global.local_as
    )
}

/// `exabgp env`: every effective setting, where it came from, and the control
/// socket path with why each earlier candidate was skipped.
pub fn env_report(
    instance: Option<&str>,
    env_file: Option<&std::path::Path>,
) -> Result<String, String> {
    let LoadedSettings { settings, warnings } = config::text_environ(std::env::vars_os())
        .and_then(|environ| Settings::load_with_warnings(env_file, environ, &[], instance))
        .map_err(|e| e.to_string())?;
    let mut out = String::new();
    for w in warnings {
        out.push_str(&format!("# warning: {w}\n"));
    }
    for (name, (value, origin)) in &settings.origins {
        let from = match origin {
            config::SettingOrigin::Default => "default".to_string(),
            config::SettingOrigin::Environment => "environment".to_string(),
            config::SettingOrigin::CommandLine => "command line".to_string(),
            config::SettingOrigin::EnvFile { path, line } => {
                format!("{}:{line}", path.display())
            }
        };
        out.push_str(&format!("{name}={value}    # {from}\n"));
    }
    out.push('\n');
    out.push_str(&crate::system::sockpath::report(
        settings.api_socketpath.as_deref(),
        &settings.api_socketname,
        &settings.root,
    ));
    Ok(out)
}

/// The effective settings: --log-level / --log > environment (exabgp_*) >
/// --env-file > default.
fn settings(opts: &ServerOptions) -> Result<LoadedSettings, ServerError> {
    let mut cli: Vec<(&str, String)> = Vec::new();
    if let Some(l) = &opts.log_level {
        cli.push(("exabgp.log.level", l.clone()));
    }
    if let Some(d) = &opts.log_destination {
        cli.push(("exabgp.log.destination", d.clone()));
    }
    // Optional, as EnvironmentFile=- was: an instance without its own settings
    // needs no file.
    let file = opts.env_file.as_deref().filter(|p| p.exists());
    config::text_environ(std::env::vars_os())
        .and_then(|environ| {
            Settings::load_with_warnings(file, environ, &cli, opts.instance.as_deref())
        })
        .map_err(|e| ServerError::Settings(e.to_string()))
}

/// Runs the daemon until SIGTERM/SIGINT (or a Shutdown command).
///
/// The order matters (see `system/mod.rs`): settings and logging, the config, then
/// while still single-threaded: adopt systemd's sockets (and scrub LISTEN_* and
/// NOTIFY_SOCKET from the environment so helpers never inherit them), bind what was
/// not handed over, drop privileges and every capability; only then build the tokio
/// runtime, start the core, the control socket and the helpers, and say READY=1.
pub fn run_blocking(opts: ServerOptions) -> Result<(), ServerError> {
    // Until the signal streams exist, a SIGTERM/SIGINT/SIGHUP stays pending instead
    // of killing the half-started daemon.
    let held = signals::hold().map_err(ServerError::Runtime)?;
    let LoadedSettings { settings, warnings } = settings(&opts)?;
    let instance = settings.instance.clone();
    logging::init(
        &settings.log_level,
        settings.log_destination,
        instance.as_deref(),
    );
    for w in warnings {
        warn!("{w}");
    }
    let config = config::load(&opts.config).map_err(|e| ServerError::Config(e.to_string()))?;
    let activated =
        activation::take_listeners().map_err(|e| ServerError::Activation(e.to_string()))?;
    let notifier = Notifier::from_env().unwrap_or_else(|e| {
        warn!("sd_notify unusable, readiness will not be reported: {e}");
        Notifier::disabled()
    });
    let Activated {
        control,
        bgp,
        metrics,
    } = activated;
    // The control socket first: a second start of a running instance is refused as
    // "another instance is already running on PATH" before it touches the BGP port.
    // If the BGP bind then fails, dropping the endpoint removes the socket file.
    let group = socket_group(&settings);
    let endpoint = api::prepare_control(&settings, control, group).map_err(ServerError::Control)?;
    let listeners = if bgp.is_empty() {
        let addrs: Vec<SocketAddr> = settings
            .tcp_bind
            .iter()
            .map(|a| SocketAddr::new(*a, settings.tcp_port))
            .collect();
        // Every MD5 neighbor's key goes on before listen(): an unsigned
        // handshake from such a peer never completes.
        let md5: Vec<(std::net::IpAddr, &str)> = config
            .neighbors
            .iter()
            .filter_map(|n| n.md5_password.as_deref().map(|k| (n.address, k)))
            .collect();
        listen::bind_bgp_keyed(&addrs, &md5).map_err(ServerError::Listen)?
    } else {
        info!(count = bgp.len(), "BGP listeners handed over by systemd");
        bgp
    };
    let metrics = crate::metrics::http::bind(settings.metrics_listen, metrics)?;
    let dropped = privileges::drop_privileges(&settings.daemon_user, settings.daemon_drop)
        .map_err(|e| ServerError::Privileges(e.to_string()))?;
    info!(
        uid = dropped.uid,
        gid = dropped.gid,
        user = dropped.switched_to.as_deref().unwrap_or(""),
        "privileges dropped, no capabilities left"
    );
    info!(config = %opts.config.display(), instance = instance.as_deref().unwrap_or(""), "{}", summary(&config));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServerError::Runtime)?;
    let config_path = opts.config.clone();
    runtime.block_on(async move {
        let mut signals = Signals::new().map_err(ServerError::Runtime)?;
        // block_on runs this future on the main thread, the one that held them.
        held.release().map_err(ServerError::Runtime)?;
        let (control_tx, control_rx) = mpsc::channel(256);
        let (events, _) = crate::control::event_channel(
            crate::control::bus::EVENT_CHANNEL_SLOTS,
            crate::control::bus::EVENT_CHANNEL_BYTES,
        );
        let shutdown = CancellationToken::new();
        // The control socket and helpers stop on their own token, before the core.
        let api_stop = shutdown.child_token();
        let ctx = api::ApiContext::new(
            control_tx.clone(),
            Some(api::reloader_for(config_path.clone())),
        );
        let plane = api::start(
            endpoint,
            &config.processes,
            ctx.clone(),
            &events,
            settings.api_ack,
            api_stop.clone(),
        );
        let io = DaemonIo {
            listeners,
            control: control_rx,
            events,
            shutdown: shutdown.clone(),
        };
        let mut core = tokio::spawn(super::run(config, io));
        let supervisor = tokio::spawn(supervise::supervise(notifier.clone(), shutdown.clone(), {
            let ctx = ctx.clone();
            move || health(ctx.clone())
        }));
        let status = health(ctx.clone()).await.unwrap_or_default().status_line();
        notifier.ready(&status);
        info!("ready: {status}");
        // Served once the core has started every neighbor (health() went through its
        // loop): the first scrape already lists them all.
        if !metrics.is_empty() {
            let local: Vec<String> = metrics
                .iter()
                .filter_map(|l| l.local_addr().ok().map(|a| a.to_string()))
                .collect();
            // Past READY=1 a failure here is reported, not fatal: the sessions run on.
            match crate::metrics::http::adopt(metrics) {
                Ok(served) => {
                    info!(listen = %local.join(" "), "metrics endpoint serving GET /metrics");
                    tokio::spawn(crate::metrics::http::serve(served, shutdown.clone()));
                }
                Err(e) => tracing::error!("metrics endpoint not served: {e}"),
            }
        }
        // SIGTERM stops the control socket and the helpers first, while the core still
        // answers, so a command that arrived just before is answered; then the core
        // sends Cease to every peer.
        // The core's answer to a reload that was still pending when it gave up
        // waiting (see reloads.rs).
        let mut late: Option<api::LateReply> = None;
        let stopped = loop {
            tokio::select! {
                r = &mut core => {
                    // The core ended on its own: the API's `shutdown` (or a failure).
                    notifier.stopping("stopping: shutdown requested through the API");
                    break Some(r);
                }
                sig = signals.recv() => match sig {
                    Signal::Terminate | Signal::Interrupt => {
                        let name = if sig == Signal::Terminate { "SIGTERM" } else { "SIGINT" };
                        info!("{name} received: sending Cease to every peer and stopping");
                        notifier.stopping("stopping: sending Cease to every peer");
                        break None;
                    }
                    Signal::Reload => {
                        // A newer reload supersedes a pending one's late answer.
                        drop(late.take());
                        match reloads::reload_while_asked(&config_path, &ctx, &notifier, &mut signals).await {
                            reloads::Settled::Done(l) => late = l,
                            reloads::Settled::Stop => {
                                info!("stop signal during a reload: sending Cease to every peer and stopping");
                                notifier.stopping("stopping: sending Cease to every peer");
                                break None;
                            }
                        }
                    }
                },
                outcome = async { match late.as_mut() { Some(l) => l.outcome().await, None => std::future::pending().await } }, if late.is_some() => {
                    late = None;
                    reloads::landed(outcome, &config_path, &ctx, &notifier).await;
                }
            }
        };
        api_stop.cancel();
        let ended = plane.wait().await;
        for (name, end) in ended {
            info!(helper = %name, "helper stopped: {end:?}");
        }
        shutdown.cancel();
        let result = match stopped {
            Some(r) => r,
            None => core.await,
        };
        let _ = supervisor.await;
        match result {
            Ok(r) => r.map_err(ServerError::from),
            Err(e) => Err(ServerError::Runtime(std::io::Error::other(e.to_string()))),
        }
    })?;
    Ok(())
}

/// The group the control socket file gets: the daemon user's when we are root and
/// about to switch to it, else ours.
fn socket_group(settings: &Settings) -> Option<u32> {
    if settings.daemon_drop && nix::unistd::Uid::effective().is_root() {
        if let Ok(Some(u)) = nix::unistd::User::from_name(&settings.daemon_user) {
            return Some(u.gid.as_raw());
        }
    }
    None
}

/// Ask the core how it is, through its own command loop (so a hung loop answers
/// nothing and the watchdog is not petted). The core answers from what the neighbor
/// tasks published, so one neighbor blocked on a peer that stopped reading does not
/// starve the watchdog.
pub(super) async fn health(ctx: api::ApiContext) -> Option<Health> {
    match api::send(&ctx, Command::Health).await.ok()? {
        ControlReply::Health(h) => Some(h),
        _ => None,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeHexError {
    #[error("not hexadecimal: {0}")]
    Hex(String),
    #[error("{0}")]
    Bgp(String),
    #[error("incomplete message: the length field asks for more bytes than given")]
    Incomplete,
    #[error("{0} byte(s) left after the message")]
    Trailing(usize),
}

/// Decodes one BGP message given in hex ("FFFF...", spaces, colons and a 0x prefix
/// allowed; without the 16-byte marker, one is added). 4-octet AS paths and
/// extended messages are assumed, as on a modern session.
pub fn decode_hex(text: &str) -> Result<String, DecodeHexError> {
    let clean: String = text
        .trim()
        .trim_start_matches("0x")
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':' && *c != '-')
        .collect();
    if clean.len() % 2 != 0 || !clean.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(DecodeHexError::Hex(
            "expected an even number of hex digits".into(),
        ));
    }
    let mut bytes: Vec<u8> = (0..clean.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&clean[i..i + 2], 16).map_err(|e| DecodeHexError::Hex(e.to_string()))
        })
        .collect::<Result<_, _>>()?;
    if bytes.len() < 16 || bytes[..16] != [0xff; 16] {
        let mut with_marker = vec![0xff; 16];
        with_marker.extend_from_slice(&bytes);
        bytes = with_marker;
    }
    let opts = CodecOptions {
        four_octet_as: true,
        extended_message: true,
    };
    match bgp::decode_message(&bytes, &opts) {
        Ok(Some((msg, used))) => {
            if used < bytes.len() {
                return Err(DecodeHexError::Trailing(bytes.len() - used));
            }
            Ok(format!("{msg:#?}"))
        }
        Ok(None) => Err(DecodeHexError::Incomplete),
        Err(e) => Err(DecodeHexError::Bgp(format!(
            "{e} (NOTIFICATION {:?})",
            e.notification()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_keepalive_with_and_without_marker() {
        let with = format!("{}001304", "ff".repeat(16));
        assert!(decode_hex(&with).unwrap().contains("Keepalive"));
        assert!(decode_hex("001304").unwrap().contains("Keepalive"));
        assert!(matches!(
            decode_hex("0013"),
            Err(DecodeHexError::Incomplete)
        ));
        assert!(matches!(decode_hex("zz"), Err(DecodeHexError::Hex(_))));
    }
}
