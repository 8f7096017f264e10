//! The loaded runtime settings: [`Settings`], and where each value came from.
//!
//! Both spellings are accepted: `exabgp_tcp_port` and `exabgp.tcp.port`.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

/// Where a setting's effective value came from (for `exabgp env`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingOrigin {
    Default,
    /// An env file, with its path and line.
    EnvFile {
        path: PathBuf,
        line: usize,
    },
    Environment,
    CommandLine,
}

/// Where log lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogDestination {
    /// journald when stderr is the journal (JOURNAL_STREAM matches), else stderr.
    Auto,
    Stderr,
    Journal,
}

/// The effective settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `exabgp_tcp_bind`: addresses to listen on for incoming BGP connections
    /// (space or comma separated); empty = do not listen (ExaBGP's default).
    pub tcp_bind: Vec<IpAddr>,
    /// `exabgp_tcp_port`: the port we listen on (default 179).
    pub tcp_port: u16,
    /// `exabgp_api_socketname`: control socket file name without `.sock`
    /// (default: the instance name, else "exabgp").
    pub api_socketname: String,
    /// `exabgp_api_socketpath`: the full control socket path; wins over resolution.
    pub api_socketpath: Option<PathBuf>,
    /// `exabgp_api_cli`: run the control socket at all (default true).
    pub api_cli: bool,
    /// `exabgp_api_ack`: answer each API command with `done` / `error: ...` (default true).
    pub api_ack: bool,
    /// `exabgp_metrics_listen`: address:port of the Prometheus scrape endpoint
    /// (default none: off; a socket systemd hands over with
    /// FileDescriptorName=metrics is served either way).
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// `exabgp_log_level`: trace, debug, info, warning, error (ExaBGP's INFO, DEBUG,
    /// ... accepted too). Default info.
    pub log_level: String,
    /// `exabgp_log_destination`: auto, stderr, journal (default auto).
    pub log_destination: LogDestination,
    /// `exabgp_daemon_user`: the user to switch to when started as root (default exabgp).
    pub daemon_user: String,
    /// `exabgp_daemon_drop`: switch user and drop capabilities when root (default true).
    pub daemon_drop: bool,
    /// `exabgp_daemon_hitless`: a `systemctl restart` hands the Established
    /// sessions to the next process instead of sending a Cease (default true).
    pub daemon_hitless: bool,
    /// The instance name (`--instance`), if any.
    pub instance: Option<String>,
    /// The install prefix (`<root>` of the socket path resolution): the directory
    /// above the one holding the executable, e.g. /usr for /usr/sbin/exabgp.
    pub root: PathBuf,
    /// Every setting's effective value as text and where it came from, by its
    /// canonical name (`exabgp.tcp.port`), for `exabgp env`.
    pub origins: BTreeMap<&'static str, (String, SettingOrigin)>,
}
