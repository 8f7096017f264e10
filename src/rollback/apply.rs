//! `exabgp-rollback apply`: validate, record, install, reload/restart, verify, and
//! undo by itself when verification fails.
//!
//! The order matters: nothing is written before validation passes; the `intent`
//! marker (old, new) is written before the new files are installed and removed only
//! once the outcome is settled (verified, or undone), so a run killed anywhere in
//! between is undone by the next run (`ops::finish_interrupted`). A signal during
//! the wait ends it early and takes the undo path.

use std::fs;
use std::path::Path;
use std::time::Duration;

use serde_json::json;

use super::host::Host;
use super::ops::{self, Outcome};
use super::store::{Intent, Snapshot, Store};
use super::{exit, verify, RollbackError};

pub struct ApplyArgs<'a> {
    pub config: &'a Path,
    pub env: Option<&'a Path>,
    pub timeout: Duration,
    pub note: Option<&'a str>,
    pub dry_run: bool,
    pub emergency: bool,
    pub keep: usize,
    pub wait: u64,
}

pub fn apply(store: &Store, host: &Host, a: ApplyArgs) -> Result<Outcome, RollbackError> {
    let read = |p: &Path| {
        fs::read(p).map_err(|e| RollbackError::Io(format!("reading {}: {e}", p.display())))
    };
    let new_toml = read(a.config)?;
    let new_env = a.env.map(read).transpose()?;
    ops::validate(
        host,
        &store.instance,
        (a.config, &new_toml),
        a.env.zip(new_env.as_deref()),
    )?;

    // A dry run reads and says; a real run first takes the lock and finishes what
    // a dead run left, then plans on what is there after that.
    let (lock, mut text) = ops::begin(store, host, a.dry_run, a.wait)?;
    let installed = store.read_installed()?;
    let new = Snapshot {
        toml: new_toml,
        env: if a.env.is_some() {
            new_env
        } else {
            installed.env.clone()
        },
    };
    // What the instance last ran as known-good is the current generation. The files
    // may have been edited by hand since (and not applied): the current generation
    // is still what "before" means, and its env decides reload or restart.
    let current = store
        .current()
        .and_then(|n| store.read_generation(n).ok().map(|s| (n, s)));
    let reference = current.as_ref().map(|(_, s)| s).unwrap_or(&installed);
    if &new == reference && new == installed {
        return Ok((
            exit::OK,
            format!("{text}the new files equal the current generation: nothing to do\n"),
            json!({"ok": true, "exit": exit::OK, "changed": false}),
        ));
    }
    let env_changed = new.env != reference.env;
    let restart = env_changed || !ops::is_active(host, &store.instance);
    let verb = if restart { "restart" } else { "reload" };
    if a.dry_run {
        let text = format!(
            "would record the current state, install {}{}, {verb} {}, and {}\n",
            a.config.display(),
            a.env
                .map(|e| format!(" and {}", e.display()))
                .unwrap_or_default(),
            verify::unit(&store.instance),
            if a.emergency {
                "not verify (--emergency)".to_string()
            } else {
                format!(
                    "verify within {} s (undone when it fails)",
                    a.timeout.as_secs()
                )
            }
        );
        return Ok((
            exit::OK,
            text,
            json!({"ok": true, "exit": exit::OK, "dry-run": true, "action": verb}),
        ));
    }
    let _lock = lock;
    let old = match current {
        Some((n, snap)) => {
            if snap != installed {
                let edits = store.save(
                    &installed,
                    "unapplied edits found by apply",
                    host.package_version(),
                )?;
                text.push_str(&format!(
                    "the installed files differed from generation {n} (edited by hand?): kept as generation {}\n",
                    edits.number
                ));
            }
            store.get(n)?
        }
        None => ops::save_current(store, host, "before apply")?.0,
    };
    let g = store.save(&new, a.note.unwrap_or("apply"), host.package_version())?;
    store.set_intent(&Intent::Apply {
        old: old.number,
        new: g.number,
    })?;
    text.push_str(&format!(
        "generation {} installed ({verb}); previous: generation {}\n",
        g.number, old.number
    ));
    if a.emergency {
        store.install(g.number)?;
        let r = ops::activate(host, &store.instance, restart);
        store.clear_intent();
        store.prune(a.keep, &[g.number, old.number])?;
        r?;
        text.push_str("--emergency: not verified\n");
        return Ok((
            exit::OK,
            text,
            json!({"ok": true, "exit": exit::OK, "generation": g.number,
                   "previous": old.number, "verified": false}),
        ));
    }
    let report = ops::install_and_verify(store, host, g.number, restart, a.timeout)?;
    text.push_str(&report.text());
    if report.ok() {
        store.clear_intent();
        store.prune(a.keep, &[g.number, old.number])?;
        text.push_str(&format!("apply: generation {} verified\n", g.number));
        return Ok((
            exit::OK,
            text,
            json!({"ok": true, "exit": exit::OK, "generation": g.number,
                   "previous": old.number, "verify": report}),
        ));
    }

    // Undo: the previous files first, then the record of the failure.
    super::clear_interrupt();
    text.push_str(&format!(
        "apply failed verification; restoring generation {}\n",
        old.number
    ));
    let back = ops::install_and_verify(store, host, old.number, env_changed, a.timeout)?;
    store.mark_failed(g.number)?;
    store.clear_intent();
    store.prune(a.keep, &[g.number, old.number])?;
    text.push_str(&back.text());
    let code = if back.ok() {
        exit::ROLLED_BACK
    } else {
        exit::UNHEALTHY
    };
    text.push_str(if back.ok() {
        "rolled back: the previous generation is running and verified\n"
    } else {
        "ROLLBACK DID NOT VERIFY: look at the instance now\n"
    });
    Ok((
        code,
        text,
        json!({"ok": false, "exit": code, "generation": g.number, "previous": old.number,
               "verify": report, "verify-after-undo": back}),
    ))
}
