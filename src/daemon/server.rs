//! `exabgp server`: everything between the command line and [`super::run`]:
//! logging, the configuration, the BGP listeners, the runtime and the signals.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::{DaemonError, DaemonIo};
use crate::bgp::{self, CodecOptions};
use crate::config::{self, Config, LoadedSettings, Settings};

/// What `exabgp server` was asked to do.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub config: PathBuf,
    pub log_level: Option<String>,
    pub instance: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Already formatted as file:line:col: what was wrong.
    #[error("{0}")]
    Config(String),
    #[error(
        "cannot listen on {addr} port {port}: address already in use. Another BGP speaker \
         (bird, gobgpd, another exabgp instance) may hold it: check `ss -ltnp 'sport = :{port}'`, \
         or change exabgp_tcp_bind / exabgp_tcp_port"
    )]
    AddrInUse { addr: IpAddr, port: u16 },
    #[error("cannot listen on {addr} port {port}: {source}")]
    Bind {
        addr: IpAddr,
        port: u16,
        source: std::io::Error,
    },
    /// Already says which setting, where it came from and what was expected.
    #[error("{0}")]
    Settings(String),
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
    #[error(transparent)]
    Daemon(#[from] DaemonError),
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

/// A log level name (ours or ExaBGP's: DEBUG, INFO, WARNING, ERR, CRITICAL) as a
/// tracing filter.
fn log_filter(level: &str) -> String {
    match level.to_ascii_lowercase().as_str() {
        "trace" => "trace",
        "debug" => "debug",
        "warn" | "warning" | "notice" => "warn",
        "err" | "error" | "critical" | "crit" | "alert" | "emerg" => "error",
        _ => "info",
    }
    .to_string()
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::new(level);
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

/// The effective settings: --log-level > environment (exabgp_*) > default.
fn settings(opts: &ServerOptions) -> Result<LoadedSettings, ServerError> {
    let mut cli: Vec<(&str, String)> = Vec::new();
    if let Some(l) = &opts.log_level {
        cli.push(("exabgp.log.level", l.clone()));
    }
    Settings::load_with_warnings(None, std::env::vars(), &cli, opts.instance.as_deref())
        .map_err(|e| ServerError::Settings(e.to_string()))
}

fn bind(addrs: &[SocketAddr]) -> Result<Vec<std::net::TcpListener>, ServerError> {
    addrs
        .iter()
        .map(|a| {
            std::net::TcpListener::bind(a).map_err(|source| {
                if source.kind() == std::io::ErrorKind::AddrInUse {
                    ServerError::AddrInUse {
                        addr: a.ip(),
                        port: a.port(),
                    }
                } else {
                    ServerError::Bind {
                        addr: a.ip(),
                        port: a.port(),
                        source,
                    }
                }
            })
        })
        .collect()
}

/// Runs the daemon until SIGTERM/SIGINT (or a Shutdown command).
pub fn run_blocking(opts: ServerOptions) -> Result<(), ServerError> {
    let LoadedSettings { settings, warnings } = settings(&opts)?;
    init_logging(&log_filter(&settings.log_level));
    for w in warnings {
        warn!("{w}");
    }
    let config = config::load(&opts.config).map_err(|e| ServerError::Config(e.to_string()))?;
    let addrs: Vec<SocketAddr> = settings
        .tcp_bind
        .iter()
        .map(|a| SocketAddr::new(*a, settings.tcp_port))
        .collect();
    let listeners = bind(&addrs)?;
    info!(config = %opts.config.display(), instance = opts.instance.as_deref().unwrap_or(""), "{}", summary(&config));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServerError::Runtime)?;
    runtime.block_on(async move {
        let (control_tx, control_rx) = mpsc::channel(64);
        let (events, _) = broadcast::channel(4096);
        let shutdown = CancellationToken::new();
        tokio::spawn(watch_signals(shutdown.clone()));
        // The control socket and helper processes (api::start) plug in here: they
        // get `control_tx`, `events` and `shutdown`; until then the sender is kept
        // alive so the daemon's control channel stays open.
        let _control_tx = control_tx;
        let io = DaemonIo {
            listeners,
            control: control_rx,
            events,
            shutdown,
        };
        super::run(config, io).await
    })?;
    Ok(())
}

async fn watch_signals(shutdown: CancellationToken) {
    use tokio::signal::unix::{signal, SignalKind};
    let (mut term, mut int) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(t), Ok(i)) => (t, i),
        _ => {
            error!("cannot install SIGTERM/SIGINT handlers");
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => info!("SIGTERM received, shutting down"),
        _ = int.recv() => info!("SIGINT received, shutting down"),
    }
    shutdown.cancel();
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
    use std::net::Ipv4Addr;

    #[test]
    fn log_levels_accept_exabgp_names() {
        assert_eq!(log_filter("DEBUG"), "debug");
        assert_eq!(log_filter("WARNING"), "warn");
        assert_eq!(log_filter("CRITICAL"), "error");
        assert_eq!(log_filter("info"), "info");
    }

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

    #[test]
    fn bind_reports_address_in_use() {
        let held = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let addr = held.local_addr().unwrap();
        // std sets SO_REUSEADDR, which does not allow two listeners on one port.
        match bind(&[addr]) {
            Err(ServerError::AddrInUse { port, .. }) => assert_eq!(port, addr.port()),
            other => panic!("expected AddrInUse, got {other:?}"),
        }
    }
}
