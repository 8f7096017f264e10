//! "The instance came back healthy", as a list of checks that each pass or fail
//! with a reason. Used after apply, after rollback, and after the automatic undo.
//!
//! A reload (SIGHUP) goes through `systemctl reload`, whose ExecReload only sends the
//! signal and returns: the daemon's RELOADING=1 ... READY=1 cycle happens after it.
//! The cycle's end is the journal entry with MESSAGE_ID MSG_CONFIG_RELOADED (or
//! MSG_CONFIG_REJECTED) that the daemon writes just before READY=1, so that entry,
//! newer than the change, is what "READY reached" waits for. A restart is ready when
//! systemd reports the unit active with a main process started after the change
//! (Type=notify: active means READY=1 arrived).

use std::time::{Duration, Instant};

use serde::Serialize;

use super::host::Host;
use super::RollbackError;
use crate::system::logging::{MSG_CONFIG_REJECTED, MSG_CONFIG_RELOADED};

/// How the new files were handed to the running daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Activation {
    Reload,
    /// Restarted; the unit's InvocationID before the restart.
    Restart(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub checks: Vec<Check>,
    /// Neighbors as `exabgpcli --json show neighbor` last listed them.
    pub neighbors: Vec<NeighborState>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NeighborState {
    pub peer: String,
    pub state: String,
    pub prefixes_out: u64,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    fn push(&mut self, name: &'static str, ok: bool, detail: impl Into<String>) {
        self.checks.push(Check {
            name,
            ok,
            detail: detail.into(),
        });
    }

    /// One line a check: "ok   unit active: active (running)".
    pub fn text(&self) -> String {
        self.checks
            .iter()
            .map(|c| {
                format!(
                    "  {} {}: {}\n",
                    if c.ok { "ok  " } else { "FAIL" },
                    c.name,
                    c.detail
                )
            })
            .collect()
    }
}

pub fn unit(instance: &str) -> String {
    format!("exabgp@{instance}.service")
}

/// Microseconds since the epoch: journal entries carry __REALTIME_TIMESTAMP in it.
pub fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// One journal entry of the unit, newer than the change.
struct Entry {
    priority: u8,
    message_id: String,
    message: String,
}

fn journal_since(host: &Host, instance: &str, since_us: u64) -> Result<Vec<Entry>, RollbackError> {
    let since = format!("@{}", since_us / 1_000_000);
    let o = host.run(
        "journalctl",
        &[
            "-u",
            &unit(instance),
            "--since",
            &since,
            "-o",
            "json",
            "-q",
            "--no-pager",
        ],
        Duration::from_secs(15),
    )?;
    if !o.ok() {
        return Err(RollbackError::Command(format!(
            "journalctl: {}",
            o.message()
        )));
    }
    let mut out = Vec::new();
    for line in o.stdout.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let field = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
        // --since has second resolution; drop what came before the change itself.
        let ts: u64 = field("__REALTIME_TIMESTAMP").parse().unwrap_or(0);
        if ts < since_us {
            continue;
        }
        out.push(Entry {
            priority: field("PRIORITY").parse().unwrap_or(6),
            message_id: field("MESSAGE_ID"),
            message: field("MESSAGE"),
        });
    }
    Ok(out)
}

/// The configured neighbors and their states, from the daemon itself.
pub fn neighbors(host: &Host, instance: &str) -> Result<Vec<NeighborState>, String> {
    let cli = host.exabgpcli.to_string_lossy().to_string();
    let o = host
        .run(
            &cli,
            &["--instance", instance, "--json", "show", "neighbor"],
            Duration::from_secs(10),
        )
        .map_err(|e| e.to_string())?;
    if !o.ok() {
        return Err(o.message());
    }
    // The answer is the JSON line(s) before the terminating "done".
    let json = o
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with('['))
        .ok_or_else(|| format!("no JSON in the answer: {}", o.stdout.trim()))?;
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let list = v.as_array().ok_or("the answer is not a JSON array")?;
    Ok(list
        .iter()
        .map(|n| NeighborState {
            peer: n["peer-address"].as_str().unwrap_or("?").to_string(),
            state: n["state"].as_str().unwrap_or("?").to_string(),
            prefixes_out: n["prefixes-out"].as_u64().unwrap_or(0),
        })
        .collect())
}

/// The neighbors a configuration file names: what "every configured neighbor" means.
pub fn configured_neighbors(toml: &std::path::Path) -> Result<Vec<String>, String> {
    crate::config::load(toml)
        .map(|c| c.neighbors.iter().map(|n| n.address.to_string()).collect())
        .map_err(|e| e.to_string())
}

/// Runs every check, waiting up to `timeout` in all for the ones that take time.
/// `expected` is the list of neighbors the installed configuration names. A signal
/// (see `super::interrupted`) ends the waiting: what is not reached by then fails.
pub fn verify(
    host: &Host,
    instance: &str,
    since_us: u64,
    how: &Activation,
    expected: &[String],
    timeout: Duration,
) -> Report {
    let deadline = Instant::now() + timeout;
    let unit = unit(instance);
    let mut report = Report::default();
    let pause = || std::thread::sleep(Duration::from_millis(250));
    let give_up = || Instant::now() >= deadline || super::interrupted();

    // 1. The unit is active (not activating, reloading, failed).
    let state = loop {
        let active = host.unit_property(&unit, "ActiveState").unwrap_or_default();
        let sub = host.unit_property(&unit, "SubState").unwrap_or_default();
        if active == "active" || give_up() {
            break format!("{active} ({sub})");
        }
        pause();
    };
    let active = state.starts_with("active ");
    report.push("unit active", active, state);

    // 2. READY reached after the change.
    let ready = match how {
        Activation::Restart(ref before) => {
            // Every start of a unit gets a new InvocationID: a different one means the
            // process that is active now was started by this change.
            let now = host
                .unit_property(&unit, "InvocationID")
                .unwrap_or_default();
            let fresh = !now.is_empty() && &now != before;
            (
                active && fresh,
                if fresh {
                    "started after the change and READY=1 (active)".to_string()
                } else {
                    "the unit was not started again".to_string()
                },
            )
        }
        Activation::Reload => loop {
            match journal_since(host, instance, since_us) {
                Ok(entries) => {
                    if let Some(e) = entries.iter().find(|e| e.message_id == MSG_CONFIG_REJECTED) {
                        break (false, format!("reload rejected: {}", e.message));
                    }
                    if entries.iter().any(|e| e.message_id == MSG_CONFIG_RELOADED) {
                        break (
                            true,
                            "reload completed (RELOADING=1 ... READY=1)".to_string(),
                        );
                    }
                }
                Err(e) => break (false, e.to_string()),
            }
            if give_up() {
                break (false, "no reload completed within the timeout".to_string());
            }
            pause();
        },
    };
    report.push("ready", ready.0, ready.1);

    // 3. STATUS= does not report a rejected configuration.
    let status = host.unit_property(&unit, "StatusText").unwrap_or_default();
    report.push(
        "status",
        !status.contains("rejected"),
        if status.is_empty() {
            "(empty)".to_string()
        } else {
            status
        },
    );

    // 4. Every neighbor the configuration names is listed by the daemon and
    // Established (a neighbor missing from the answer counts as down).
    let (ok, detail) = loop {
        match neighbors(host, instance) {
            Ok(list) => {
                let down: Vec<String> = expected
                    .iter()
                    .filter_map(|want| match list.iter().find(|n| &n.peer == want) {
                        Some(n) if n.state == "established" => None,
                        Some(n) => Some(format!("{} {}", n.peer, n.state)),
                        None => Some(format!("{want} not listed by the daemon")),
                    })
                    .collect();
                report.neighbors = list.clone();
                if down.is_empty() {
                    break (
                        true,
                        if expected.is_empty() {
                            "no neighbor configured".to_string()
                        } else {
                            format!("{} of {} established", expected.len(), expected.len())
                        },
                    );
                }
                if give_up() {
                    break (false, format!("not established: {}", down.join(", ")));
                }
            }
            Err(e) if give_up() => break (false, format!("exabgpcli: {e}")),
            Err(_) => {}
        }
        pause();
    };
    report.push("neighbors established", ok, detail);
    if super::interrupted() {
        report.push("not interrupted", false, "a signal ended the wait");
    }

    // 5. No error-level journal entry since the change.
    match journal_since(host, instance, since_us) {
        Ok(entries) => {
            let errors: Vec<&Entry> = entries.iter().filter(|e| e.priority <= 3).collect();
            report.push(
                "journal",
                errors.is_empty(),
                match errors.first() {
                    None => "no error since the change".to_string(),
                    Some(e) => format!("{} error(s), first: {}", errors.len(), e.message),
                },
            );
        }
        Err(e) => report.push("journal", false, e.to_string()),
    }
    report
}
