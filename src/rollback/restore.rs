//! `exabgp-rollback rollback`: return to a generation, with --package also to its
//! package version; restart, verify, print a before/after summary.
//!
//! Order: the package source is checked before anything changes; files go first
//! (so the package's own restart of running instances already starts on them);
//! a failed package change puts the files back and says so; the `intent` marker
//! lets the next run complete a rollback that died half-way.

use std::path::Path;
use std::time::Duration;

use serde_json::json;

use super::host::Host;
use super::ops::{self, Outcome};
use super::store::{Intent, Store};
use super::verify::{self, NeighborState};
use super::{exit, RollbackError};

pub struct RollbackArgs<'a> {
    pub generation: Option<u32>,
    pub package: bool,
    pub package_file: Option<&'a Path>,
    pub timeout: Duration,
    pub dry_run: bool,
    pub emergency: bool,
    pub keep: usize,
    pub wait: u64,
}

/// One side of the before/after summary.
fn summary(host: &Host, generation: u32, neighbors: &[NeighborState]) -> serde_json::Value {
    let routes: u64 = neighbors.iter().map(|n| n.prefixes_out).sum();
    json!({
        "generation": generation,
        "package": host.package_version(),
        "neighbors": neighbors,
        "routes-announced": routes,
    })
}

fn summary_text(label: &str, v: &serde_json::Value) -> String {
    let mut s = format!(
        "{label}: generation {}, package {}, {} route(s) announced\n",
        v["generation"],
        v["package"].as_str().unwrap_or("-"),
        v["routes-announced"]
    );
    for n in v["neighbors"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "  neighbor {} {}\n",
            n["peer"].as_str().unwrap_or("?"),
            n["state"].as_str().unwrap_or("?")
        ));
    }
    s
}

pub fn rollback(store: &Store, host: &Host, a: RollbackArgs) -> Result<Outcome, RollbackError> {
    let package_file = match a.package_file {
        Some(f) => Some(
            std::fs::canonicalize(f)
                .map_err(|e| RollbackError::Package(format!("{}: {e}", f.display())))?,
        ),
        None => None,
    };
    let (lock, mut text) = ops::begin(store, host, a.dry_run, a.wait)?;

    // Where the instance is now: the current generation when the files are it.
    let installed = store.read_installed()?;
    let all = store.list()?;
    let now = store
        .current()
        .filter(|n| store.read_generation(*n).ok().as_ref() == Some(&installed));
    let now_number = now.unwrap_or_else(|| all.last().map(|g| g.number + 1).unwrap_or(1));
    let target = match a.generation {
        Some(n) => store.get(n)?,
        None => {
            // Running the same rollback twice must not go one more step back.
            if let (Some((from, to)), Some(n)) = (store.last_rollback(), now) {
                if to == n {
                    return Ok((
                        exit::OK,
                        format!(
                            "{text}already rolled back from generation {from} to {to}; \
                             name a generation to go further\n"
                        ),
                        json!({"ok": true, "exit": exit::OK, "generation": to, "previous": from,
                               "changed": false}),
                    ));
                }
            }
            all.iter()
                .rev()
                .find(|g| g.number < now_number && !g.failed)
                .cloned()
                .ok_or_else(|| {
                    RollbackError::Nothing(format!(
                        "instance {} has no good generation before {now_number} to return to",
                        store.instance
                    ))
                })?
        }
    };
    let package_change = match (a.package, &target.package) {
        (false, _) => None,
        (true, None) => {
            return Err(RollbackError::Nothing(format!(
                "generation {} recorded no package version",
                target.number
            )))
        }
        (true, Some(v)) if package_file.is_none() && Some(v) == host.package_version().as_ref() => {
            None
        }
        (true, Some(v)) => Some(v.clone()),
    };
    if let Some(v) = &package_change {
        host.package_available(v, package_file.as_deref())?;
    }
    if a.dry_run {
        let text = format!(
            "would restore generation {} (now on {}{}){}, restart {} and {}\n",
            target.number,
            now_number,
            if now.is_some() {
                ""
            } else {
                ", unsaved files that would be recorded first"
            },
            package_change
                .as_ref()
                .map(|v| format!(", install package exabgp-rs {v}"))
                .unwrap_or_default(),
            verify::unit(&store.instance),
            if a.emergency {
                "not verify (--emergency)".to_string()
            } else {
                format!("verify within {} s", a.timeout.as_secs())
            }
        );
        return Ok((
            exit::OK,
            text,
            json!({"ok": true, "exit": exit::OK, "dry-run": true, "generation": target.number}),
        ));
    }
    let _lock = lock;
    let (now, _) = ops::save_current(store, host, "before rollback")?;

    let before_neighbors = if ops::is_active(host, &store.instance) {
        verify::neighbors(host, &store.instance).unwrap_or_default()
    } else {
        Vec::new()
    };
    let before = summary(host, now.number, &before_neighbors);

    store.set_intent(&Intent::Rollback {
        from: now.number,
        to: target.number,
    })?;
    store.install(target.number)?;
    let unit = verify::unit(&store.instance);
    let invocation = host
        .unit_property(&unit, "InvocationID")
        .unwrap_or_default();
    let since = verify::now_us();
    let mut restarted_by_package = false;
    if let Some(v) = &package_change {
        let _pkg = ops::package_lock(store, a.wait.max(600))?;
        if let Err(e) = host.install_package(v, package_file.as_deref(), Duration::from_secs(600)) {
            // Back to the files that match the package still installed.
            store.install(now.number)?;
            store.clear_intent();
            return Err(RollbackError::Package(format!(
                "{e}; generation {}'s files are back in place, nothing was restarted by this run",
                now.number
            )));
        }
        let now_inv = host
            .unit_property(&unit, "InvocationID")
            .unwrap_or_default();
        restarted_by_package =
            !now_inv.is_empty() && now_inv != invocation && ops::is_active(host, &store.instance);
    }
    text.push_str(&format!(
        "restored generation {} (was {}){}\n",
        target.number,
        now.number,
        package_change
            .as_ref()
            .map(|v| format!(", package exabgp-rs {v}"))
            .unwrap_or_default()
    ));
    let report = if a.emergency {
        if !restarted_by_package {
            ops::activate(host, &store.instance, true)?;
        }
        None
    } else if restarted_by_package {
        // The package's maintainer scripts restarted it on the restored files.
        let expected = verify::configured_neighbors(&store.toml_path()).unwrap_or_default();
        Some(verify::verify(
            host,
            &store.instance,
            since,
            &verify::Activation::Restart(invocation),
            &expected,
            a.timeout,
        ))
    } else {
        Some(ops::install_and_verify(
            store,
            host,
            target.number,
            true,
            a.timeout,
        )?)
    };
    store.clear_intent();
    store.set_last_rollback(now.number, target.number)?;
    store.prune(a.keep, &[now.number, target.number])?;
    let Some(report) = report else {
        text.push_str("--emergency: not verified\n");
        return Ok((
            exit::OK,
            text,
            json!({"ok": true, "exit": exit::OK, "generation": target.number,
                   "previous": now.number, "verified": false}),
        ));
    };
    let after = summary(host, target.number, &report.neighbors);
    text.push_str(&report.text());
    text.push_str(&summary_text("before", &before));
    text.push_str(&summary_text("after", &after));
    let code = if report.ok() {
        exit::OK
    } else {
        exit::UNHEALTHY
    };
    if !report.ok() {
        text.push_str("ROLLBACK DID NOT VERIFY: look at the instance now\n");
    }
    Ok((
        code,
        text,
        json!({"ok": report.ok(), "exit": code, "generation": target.number,
               "previous": now.number, "before": before, "after": after, "verify": report}),
    ))
}
