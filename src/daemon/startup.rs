//! `exabgp server`: start-up, everything between the command line and
//! [`super::serve::serve`]: the settings, logging, the configuration, the control
//! socket and the BGP listeners, the privilege drop, then the runtime.

use std::net::SocketAddr;
use std::path::PathBuf;

use tracing::{info, warn};

pub use super::error::ServerError;
use super::serve::{serve, Parts};
use crate::api;
use crate::bgp::{self, CodecOptions};
use crate::config::{self, LoadedSettings, Settings, SettingsError};
use crate::system::activation::{self, Activated};
use crate::system::notify::Notifier;
use crate::system::privileges;
use crate::system::signals::{self, Signals};
use crate::system::{self, bind, logging};

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

/// `exabgp env`: every effective setting, where it came from, and the control
/// socket path with why each earlier candidate was skipped.
pub fn env_report(
    instance: Option<&str>,
    env_file: Option<&std::path::Path>,
) -> Result<String, SettingsError> {
    let LoadedSettings {
        settings,
        warnings,
        ignored,
    } = config::text_environ(std::env::vars_os())
        .and_then(|environ| Settings::load_with_warnings(env_file, environ, &[], instance))?;
    let from = |origin: &config::SettingOrigin| match origin {
        config::SettingOrigin::Default => "default".to_string(),
        config::SettingOrigin::Environment => "environment".to_string(),
        config::SettingOrigin::CommandLine => "command line".to_string(),
        config::SettingOrigin::EnvFile { path, line } => format!("{}:{line}", path.display()),
    };
    let mut out = String::new();
    for w in warnings {
        out.push_str(&format!("# warning: {w}\n"));
    }
    for (name, (value, origin)) in &settings.origins {
        out.push_str(&format!("{name}={value}    # {}\n", from(origin)));
    }
    out.push('\n');
    out.push_str(&crate::system::sockpath::report(
        settings.api_socketpath.as_deref(),
        &settings.api_socketname,
        &settings.root,
    ));
    // What an ExaBGP env file set that is not used, with where (after the socket
    // section, so the applied settings stay one block).
    if !ignored.is_empty() {
        out.push_str("\n# ignored: ExaBGP settings that exabgp-rs does not use\n");
        for i in &ignored {
            out.push_str(&format!(
                "{}={}    # {}\n",
                i.setting.name,
                crate::config::Shown(&i.value),
                from(&i.origin)
            ));
        }
    }
    Ok(out)
}

/// `exabgp validate --env-file FILE`: the env file alone (not the environment),
/// as the daemon would read it; its warnings, or why it would not start (78).
pub fn check_env_file(path: &std::path::Path) -> Result<Vec<String>, SettingsError> {
    Settings::load_with_warnings(Some(path), std::iter::empty(), &[], None).map(|l| l.warnings)
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
    let environ = config::text_environ(std::env::vars_os())?;
    Ok(Settings::load_with_warnings(
        file,
        environ,
        &cli,
        opts.instance.as_deref(),
    )?)
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
    // The descriptors first, before anything that can fail: sessions the
    // previous process stored (hitless restart) must get a Cease if this start
    // fails (a typo in the configuration), not a bare close at our exit.
    let mut activated = activation::take_listeners()?;
    let (notifier, notify_error) = match Notifier::from_env() {
        Ok(n) => (n, None),
        Err(e) => (Notifier::disabled(), Some(e)),
    };
    let mut stored = std::mem::take(&mut activated.stored);
    let result = start(
        opts,
        held,
        activated,
        notifier.clone(),
        notify_error,
        &mut stored,
    );
    if result.is_err() && !stored.is_empty() {
        super::hitless::cease_stored(&notifier, stored, "the daemon failed to start");
    }
    result
}

/// [`run_blocking`] once the descriptors are taken: `stored` (the sessions of
/// the previous process) is taken out only once nothing before the runtime can
/// fail; until then the caller sends them a Cease on an error.
fn start(
    opts: ServerOptions,
    held: signals::Held,
    activated: Activated,
    notifier: Notifier,
    notify_error: Option<crate::system::notify::NotifyError>,
    stored: &mut Vec<(String, std::os::fd::OwnedFd)>,
) -> Result<(), ServerError> {
    let LoadedSettings {
        settings, warnings, ..
    } = settings(&opts)?;
    let instance = settings.instance.clone();
    logging::init(
        &settings.log_level,
        settings.log_destination,
        instance.as_deref(),
    );
    for w in warnings {
        warn!("{w}");
    }
    // The file is optional (the unit names /etc/exabgp/NAME.env for every
    // instance), but a misnamed one would silently lose every setting: say so.
    if let Some(p) = opts.env_file.as_deref().filter(|p| !p.exists()) {
        info!(
            "no env file at {}: settings come from the environment and the defaults",
            p.display()
        );
    }
    if let Some(e) = notify_error {
        warn!("sd_notify unusable, readiness will not be reported: {e}");
    }
    let config = config::load(&opts.config)?;
    let Activated {
        control,
        bgp,
        metrics,
        ..
    } = activated;
    // The control socket first: a second start of a running instance is refused as
    // "another instance is already running on PATH" before it touches the BGP port.
    // If the BGP bind then fails, dropping the endpoint removes the socket file.
    let group = socket_group(&settings);
    let endpoint = api::prepare_control(&settings, control, group)?;
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
        bind::bind_bgp_keyed(&addrs, &md5)?
    } else {
        info!(count = bgp.len(), "BGP listeners handed over by systemd");
        bgp
    };
    let metrics = crate::metrics::http::bind(settings.metrics_listen, metrics)?;
    let dropped = privileges::drop_privileges(&settings.daemon_user, settings.daemon_drop)?;
    info!(
        uid = dropped.uid,
        gid = dropped.gid,
        user = dropped.switched_to.as_deref().unwrap_or(""),
        "privileges dropped, no capabilities left"
    );
    let marker = restart_marker(&settings);
    info!(config = %opts.config.display(), instance = instance.as_deref().unwrap_or(""), "{}, router-id {}, local-as {}", config::summary(&opts.config, &config), config.global.router_id, config.global.local_as);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServerError::Runtime)?;
    // Sessions the previous process handed over (hitless restart), to adopt.
    let stored = std::mem::take(stored);
    let stored = if stored.is_empty() {
        Vec::new()
    } else if settings.daemon_hitless {
        super::hitless::pair(&notifier, stored)
    } else {
        super::hitless::cease_stored(&notifier, stored, "exabgp_daemon_hitless is off");
        Vec::new()
    };
    let parts = Parts {
        config,
        config_path: opts.config.clone(),
        control: endpoint,
        listeners,
        metrics,
        api_ack: settings.api_ack,
        notifier,
        hitless: settings.daemon_hitless,
        stored,
        env_file: opts.env_file.clone(),
    };
    let result = runtime.block_on(async move {
        let signals = Signals::new().map_err(ServerError::Runtime)?;
        // block_on runs this future on the main thread, the one that held them.
        held.release().map_err(ServerError::Runtime)?;
        serve(parts, signals).await
    });
    // A clean stop (every peer got its Cease, or its session was handed over):
    // the next start is not a restart.
    let clean = matches!(result, Ok(()) | Err(ServerError::HandedOver(_)));
    if let (true, Some(m)) = (clean, &marker) {
        if let Err(e) = system::restart_marker::disarm(m) {
            warn!(path = %m.display(), error = %e, "cannot remove the restart marker");
        }
    }
    result
}

/// Arms the restart marker next to the control socket (see
/// `system::restart_marker`) and tells the sessions whether the previous daemon
/// stopped without a clean stop (the R bit of graceful restart). None when there
/// is no directory for it (logged; the R bit then stays clear).
fn restart_marker(settings: &Settings) -> Option<std::path::PathBuf> {
    let res = crate::system::sockpath::resolve_default(
        settings.api_socketpath.as_deref(),
        &settings.api_socketname,
        &settings.root,
    );
    let path = system::restart_marker::path_for(res.path()?);
    match system::restart_marker::arm(&path) {
        Ok(restarted) => {
            if restarted {
                info!(marker = %path.display(), "the previous run did not stop cleanly: graceful restart R bit set");
            }
            crate::session::set_restarted(restarted);
            Some(path)
        }
        Err(e) => {
            warn!(path = %path.display(), error = %e, "cannot write the restart marker; the graceful restart R bit will not be set after a crash");
            None
        }
    }
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
