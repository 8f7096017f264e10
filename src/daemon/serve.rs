//! The running daemon, once start-up (`startup.rs`) has bound every socket and
//! dropped privileges: the core ([`super::run`]), the control socket and the
//! helpers, the watchdog/STATUS= supervisor, READY=1, and the signal loop
//! (SIGTERM/SIGINT stop, SIGHUP reloads). `exabgp server` runs [`serve`] on its
//! runtime; the tests run the same function with listeners bound on loopback, a
//! control socket in a temporary directory and signals sent on a channel, so what
//! they check is the daemon as it runs in production.
//!
//! The tasks [`serve`] starts, and the order they stop in:
//!
//! ```text
//!   signals ──> serve's loop ──(SIGHUP)──> reloads::reload_while_asked
//!                  │ stop: SIGTERM/SIGINT, or the core ended (`shutdown` command)
//!                  v
//!   1. api_stop:   control socket + helpers (a command that came just before is
//!                  answered: the core still runs)
//!   2. shutdown:   the core (Cease to every peer), the supervisor
//!   3. at a restart (see `hand_over_on_stop`) or after `restart --hitless`: the
//!      core hands the Established sessions over instead of a Cease, and they
//!      are stored in systemd's fd store (`hitless.rs`)
//! ```
//!
//! A new task that runs beside the daemon (a metrics endpoint, say) takes what it
//! needs from [`Parts`] and stops on `shutdown` (or `api_stop`, if it talks to
//! the core through the control channel).

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::info;

use super::error::ServerError;
use super::probe::health;
use super::signal_source::SignalSource;
use super::{reloads, DaemonIo};
use crate::api::{self, ControlEndpoint};
use crate::config::Config;
use crate::system::notify::Notifier;
use crate::system::signals::Signal;
use crate::system::supervise;

/// Everything the running daemon is made of, prepared before the runtime starts
/// (sockets bound while we may still have the privilege to).
pub struct Parts {
    /// The validated configuration the core starts with.
    pub config: Config,
    /// The file it came from: SIGHUP and the `reload` command re-read it.
    pub config_path: PathBuf,
    /// The control socket (bound by us, or systemd's); None with exabgp_api_cli=false.
    pub control: Option<ControlEndpoint>,
    /// The BGP listeners, already bound (from exabgp_tcp_bind/port, or systemd's).
    pub listeners: Vec<TcpListener>,
    /// The metrics endpoint's listeners (exabgp_metrics_listen, or systemd's
    /// FileDescriptorName=metrics); empty: no endpoint.
    pub metrics: Vec<TcpListener>,
    /// exabgp_api_ack: helpers get a `done` / `error: ...` answer to each command.
    pub api_ack: bool,
    /// READY=1, STATUS=, WATCHDOG=1 and STOPPING=1 ([`Notifier::disabled`] outside
    /// systemd).
    pub notifier: Notifier,
    /// exabgp_daemon_hitless: a stop that is a restart hands the sessions over
    /// (see [`hand_over_on_stop`]).
    pub hitless: bool,
    /// Sessions the previous process stored in the fd store, to adopt.
    pub stored: Vec<super::hitless::StoredSession>,
    /// `--env-file`: before handing the sessions over, the stop checks that the
    /// next process could read it (see [`next_start_fails`]).
    pub env_file: Option<PathBuf>,
}

/// Whether this stop hands the Established sessions over to the next process
/// instead of sending them a Cease (issue 13): only when the setting allows it
/// (`hitless`), the stop is a restart (`restart`: systemd has a restart job
/// queued for the unit, so it keeps the fd store and starts us again), and
/// there is a service manager to store the sessions with (`notifier_enabled`;
/// never in tests or in a terminal). Every other stop sends a Cease as always.
pub fn hand_over_on_stop(hitless: bool, restart: bool, notifier_enabled: bool) -> bool {
    hitless && restart && notifier_enabled
}

/// Why the next process, started by the restart with the same files, would
/// fail to start: its configuration file (or its env file, when there is one)
/// does not load. None when both load. A hand-over to a process that will
/// exit 78 would leave the sessions in the store with nobody to adopt them.
pub fn next_start_fails(config_path: &Path, env_file: Option<&Path>) -> Option<String> {
    if let Err(e) = crate::config::load(config_path) {
        return Some(e.to_string());
    }
    let file = env_file.filter(|p| p.exists())?;
    crate::config::Settings::load_with_warnings(Some(file), std::iter::empty(), &[], None)
        .err()
        .map(|e| e.to_string())
}

/// How long the D-Bus question "is this stop a restart?" may take at SIGTERM
/// (TimeoutStopSec is 15 s; the answer takes a few ms in the testbed).
const RESTART_QUERY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Whether systemd has a restart job queued for our unit, asked over D-Bus
/// (`system::restart_job`; blocking, so off the runtime's workers). Asked only
/// when a hand-over could follow: the setting allows it and a service manager
/// listens. Any error or timeout answers false: a Cease, as a stop.
async fn restart_queued(hitless: bool, notifier_enabled: bool) -> bool {
    if !(hitless && notifier_enabled) {
        return false;
    }
    tokio::task::spawn_blocking(|| {
        crate::system::restart_job::stop_is_restart(RESTART_QUERY_TIMEOUT)
    })
    .await
    .unwrap_or(false)
}

/// Runs the daemon until SIGTERM/SIGINT from `signals` or the `shutdown` command,
/// then stops the control socket and the helpers, then the core (Cease to every
/// peer). Must run inside a tokio runtime.
pub async fn serve(parts: Parts, mut signals: impl SignalSource + Send) -> Result<(), ServerError> {
    let Parts {
        config,
        config_path,
        control,
        listeners,
        metrics,
        api_ack,
        notifier,
        hitless,
        stored,
        env_file,
    } = parts;
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
    // Only where a hand-over can happen: elsewhere `restart --hitless` is
    // refused by the core with the reason that applies (no systemd, setting off).
    let ctx = if hitless && notifier.is_enabled() {
        let (path, env) = (config_path.clone(), env_file.clone());
        ctx.with_restart_check(std::sync::Arc::new(move || {
            next_start_fails(&path, env.as_deref())
        }))
    } else {
        ctx
    };
    let plane = api::start(
        control,
        &config.processes,
        ctx.clone(),
        &events,
        api_ack,
        api_stop.clone(),
    );
    let switch = super::hitless::HandOverSwitch::default();
    let io = DaemonIo {
        listeners,
        control: control_rx,
        events,
        shutdown: shutdown.clone(),
        hitless: super::hitless::Hitless {
            stored,
            notifier: (hitless && notifier.is_enabled()).then(|| notifier.clone()),
            switch: switch.clone(),
        },
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
    // When a hand-over began (SIGTERM of a restart): the time it took is logged.
    let mut stop_began: Option<std::time::Instant> = None;
    // `restart --hitless` stopped the core: exit 75 once the sessions are stored.
    let mut api_restart = false;
    let stopped = loop {
        tokio::select! {
            r = &mut core => {
                // The core ended on its own: the API's `shutdown` or `restart
                // --hitless` (or a failure).
                if switch.asked() {
                    notifier.stopping("stopping: restart --hitless, sessions handed to the next process");
                    api_restart = true;
                    stop_began = Some(std::time::Instant::now());
                } else {
                    notifier.stopping("stopping: shutdown requested through the API");
                }
                break Some(r);
            }
            sig = signals.next() => match sig {
                Signal::Terminate | Signal::Interrupt => {
                    let name = if sig == Signal::Terminate { "SIGTERM" } else { "SIGINT" };
                    let restart = restart_queued(hitless, notifier.is_enabled()).await;
                    let mut hand_over = hand_over_on_stop(hitless, restart, notifier.is_enabled());
                    if hand_over {
                        let (path, env) = (config_path.clone(), env_file.clone());
                        let fails = tokio::task::spawn_blocking(move || next_start_fails(&path, env.as_deref()))
                            .await
                            .unwrap_or_else(|e| Some(format!("the check failed: {e}")));
                        if let Some(why) = fails {
                            tracing::warn!("{name} received during a restart, but the next process would not start ({why}): sending Cease to every peer instead of handing the sessions over");
                            hand_over = false;
                        }
                    }
                    if hand_over {
                        info!("{name} received during a restart: handing the sessions over to the next process");
                        notifier.stopping("stopping: handing the sessions over to the next process");
                        switch.ask();
                        stop_began = Some(std::time::Instant::now());
                    } else {
                        // A `restart --hitless` arriving from now on is refused.
                        switch.close();
                        info!("{name} received: sending Cease to every peer and stopping");
                        notifier.stopping("stopping: sending Cease to every peer");
                    }
                    break None;
                }
                Signal::Reload => {
                    // A newer reload supersedes a pending one's late answer.
                    drop(late.take());
                    match reloads::reload_while_asked(&config_path, &ctx, &notifier, &mut signals).await {
                        reloads::Settled::Done(l) => late = l,
                        reloads::Settled::Stop => {
                            switch.close();
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
    let handed = switch.take();
    let mut stored = 0;
    match stop_began {
        Some(began) if !handed.is_empty() => {
            stored = super::hitless::store(&notifier, handed, began);
        }
        // Handed over without a decided hand-over (a `restart --hitless` the
        // core took just before a plain stop closed the switch): this process
        // exits as a stop, nothing would adopt them, so the peers are told.
        _ => super::hitless::cease_all(handed),
    }
    // `restart --hitless` (the core stopped on its own with the switch set):
    // exit 75, for systemd to start the next process.
    if api_restart {
        if let Ok(Ok(())) = result {
            return Err(ServerError::HandedOver(stored));
        }
    }
    match result {
        Ok(r) => r.map_err(ServerError::from),
        Err(e) => Err(ServerError::Core(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stop hands over only when the next process could start: its
    /// configuration file and env file load.
    #[test]
    fn a_next_start_that_would_fail_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.toml");
        std::fs::write(
            &good,
            "[[neighbor]]\naddress = \"192.0.2.2\"\npeer-as = 65000\nlocal-as = 65001\nrouter-id = \"192.0.2.1\"\n",
        )
        .unwrap();
        let broken = dir.path().join("broken.toml");
        std::fs::write(&broken, "[[neighbor]\n").unwrap();
        let env = dir.path().join("exabgp.env");
        std::fs::write(&env, "exabgp_tcp_port=not a port\n").unwrap();
        let missing = dir.path().join("none.env");
        assert_eq!(next_start_fails(&good, None), None);
        assert_eq!(next_start_fails(&good, Some(&missing)), None);
        assert!(next_start_fails(&broken, None).is_some());
        assert!(next_start_fails(&dir.path().join("gone.toml"), None).is_some());
        assert!(next_start_fails(&good, Some(&env)).is_some());
    }

    /// Only a restart, with the setting on, under a service manager hands over.
    #[test]
    fn only_a_restart_under_systemd_with_the_setting_hands_over() {
        assert!(hand_over_on_stop(true, true, true));
        for (h, r, n) in [
            (false, true, true),
            (true, false, true),
            (true, true, false),
            (false, false, false),
        ] {
            assert!(!hand_over_on_stop(h, r, n), "{h} {r} {n}");
        }
    }
}
