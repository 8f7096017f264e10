//! A tiny program that logs the way the daemon does, for scripts/systest to check
//! what reaches a real journald: `system_journal_probe auto|journal|stderr INSTANCE`.
//! Prints the chosen sink on stdout ("sink=Journal"), then logs the five catalogued
//! events with their fields.

use exabgp::config::LogDestination;
use exabgp::system::logging::{self, LogSink};

fn main() {
    let mut args = std::env::args().skip(1);
    let destination = match args.next().as_deref() {
        Some("journal") => LogDestination::Journal,
        Some("stderr") => LogDestination::Stderr,
        _ => LogDestination::Auto,
    };
    let instance = args.next().unwrap_or_else(|| "probe".to_string());
    let sink: LogSink = logging::init("info", destination, Some(&instance));
    println!("sink={sink:?}");
    let peer = "192.0.2.254";
    let span = tracing::info_span!("peer", PEER_ADDRESS = peer, PEER_AS = 65000u32);
    let _entered = span.enter();
    tracing::info!(
        MESSAGE_ID = logging::MSG_SESSION_UP,
        BGP_STATE = "established",
        "session with {peer} established"
    );
    tracing::warn!(
        MESSAGE_ID = logging::MSG_SESSION_DOWN,
        BGP_STATE = "idle",
        "session with {peer} down: hold timer expired"
    );
    drop(_entered);
    tracing::info!(
        MESSAGE_ID = logging::MSG_CONFIG_RELOADED,
        "configuration reloaded"
    );
    tracing::error!(
        MESSAGE_ID = logging::MSG_CONFIG_REJECTED,
        "configuration rejected: probe.toml:3:1: unknown key"
    );
    tracing::error!(
        MESSAGE_ID = logging::MSG_HELPER_GIVEN_UP,
        "helper healthcheck given up after 5 exits in 60 s"
    );
    tracing::debug!("not shown at level info");
}
