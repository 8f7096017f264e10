//! Steps shared by the commands: the per-instance lock, recording the installed
//! state, validating new files, reloading or restarting, and finishing what a run
//! that died left unfinished.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};

use super::host::Host;
use super::store::{Generation, Intent, Store};
use super::verify::{self, Activation, Report};
use super::RollbackError;

/// The exit code, the text for a terminal and the object for `--json`.
pub type Outcome = (i32, String, serde_json::Value);

/// Seconds the recovery of a dead run waits for the restored state to verify.
pub const RECOVERY_TIMEOUT: Duration = Duration::from_secs(60);

fn flock_path(path: &Path, wait_s: u64) -> Result<Flock<fs::File>, RollbackError> {
    let deadline = Instant::now() + Duration::from_secs(wait_s);
    loop {
        let f = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| RollbackError::Io(format!("opening {}: {e}", path.display())))?;
        match Flock::lock(f, FlockArg::LockExclusiveNonblock) {
            Ok(l) => return Ok(l),
            Err((_, nix::errno::Errno::EWOULDBLOCK)) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(200));
            }
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => {
                return Err(RollbackError::Busy(path.display().to_string()))
            }
            Err((_, e)) => {
                return Err(RollbackError::Io(format!(
                    "locking {}: {e}",
                    path.display()
                )))
            }
        }
    }
}

/// The instance's lock, held until dropped; waits up to `wait_s` for another run.
/// With it held, leftovers of dead runs are cleaned.
pub fn lock(store: &Store, wait_s: u64) -> Result<Flock<fs::File>, RollbackError> {
    store.prepare()?;
    let l = flock_path(&store.lock_path(), wait_s)?;
    store.clean_tmp();
    Ok(l)
}

/// The start of a command that may change things: a real run takes the lock and
/// finishes what a dead run left (its report is the returned text); a dry run only
/// reads, so it takes nothing and finishes nothing.
pub fn begin(
    store: &Store,
    host: &Host,
    dry_run: bool,
    wait_s: u64,
) -> Result<(Option<Flock<fs::File>>, String), RollbackError> {
    if dry_run {
        return Ok((None, String::new()));
    }
    let l = lock(store, wait_s)?;
    let text = finish_interrupted(store, host)?;
    Ok((Some(l), text))
}

/// A package change restarts every running instance (the maintainer scripts do), so
/// it also takes a lock shared by all instances' runs that change packages.
pub fn package_lock(store: &Store, wait_s: u64) -> Result<Flock<fs::File>, RollbackError> {
    let root = store
        .state_dir
        .parent()
        .unwrap_or(Path::new("/var/lib/exabgp"));
    flock_path(&root.join(".package.lock"), wait_s)
}

/// The generation holding the installed files and package version: the current one
/// when they are equal to it, else a new one saved now.
pub fn save_current(
    store: &Store,
    host: &Host,
    note: &str,
) -> Result<(Generation, bool), RollbackError> {
    let snap = store.read_installed()?;
    let package = host.package_version();
    if let Some(n) = store.current() {
        if store.read_generation(n).ok().as_ref() == Some(&snap) {
            let g = store.get(n)?;
            if g.package == package {
                return Ok((g, false));
            }
        }
    }
    let g = store.save(&snap, note, package)?;
    store.set_current(g.number)?;
    Ok((g, true))
}

/// `exabgp validate` and, with an env file, `exabgp env --env-file` on private
/// copies of the bytes that will be installed (an edit of the operator's file in
/// between can never install unvalidated bytes). Messages name the operator's file.
pub fn validate(
    host: &Host,
    instance: &str,
    config: (&Path, &[u8]),
    env: Option<(&Path, &[u8])>,
) -> Result<(), RollbackError> {
    let dir = std::env::temp_dir().join(format!("exabgp-rollback-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    std::os::unix::fs::DirBuilderExt::mode(&mut fs::DirBuilder::new(), 0o700)
        .create(&dir)
        .map_err(|e| RollbackError::Io(format!("creating {}: {e}", dir.display())))?;
    let result = (|| {
        let exabgp = host.exabgp.to_string_lossy().to_string();
        let mut problems = Vec::new();
        let copy = dir.join(format!("{instance}.toml"));
        fs::write(&copy, config.1).map_err(|e| RollbackError::Io(e.to_string()))?;
        let copy_s = copy.to_string_lossy().to_string();
        let o = host.run(&exabgp, &["validate", &copy_s], Duration::from_secs(30))?;
        if !o.ok() {
            problems.push(o.message().replace(&copy_s, &config.0.to_string_lossy()));
        }
        if let Some((path, bytes)) = env {
            let copy = dir.join(format!("{instance}.env"));
            fs::write(&copy, bytes).map_err(|e| RollbackError::Io(e.to_string()))?;
            let copy_s = copy.to_string_lossy().to_string();
            let o = host.run(
                &exabgp,
                &["env", "--instance", instance, "--env-file", &copy_s],
                Duration::from_secs(30),
            )?;
            if !o.ok() {
                problems.push(o.message().replace(&copy_s, &path.to_string_lossy()));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(RollbackError::Invalid(format!(
                "the new files are invalid, nothing was changed:\n{}",
                problems.join("\n")
            )))
        }
    })();
    let _ = fs::remove_dir_all(&dir);
    result
}

pub fn is_active(host: &Host, instance: &str) -> bool {
    host.unit_property(&verify::unit(instance), "ActiveState")
        .map(|s| s == "active" || s == "reloading")
        .unwrap_or(false)
}

/// Reload, or restart when `restart`. Returns how (for verification) and when (µs
/// since the epoch, just before the request). A restart first clears a failed state
/// and the start-rate counter (reset-failed): after a change that crash-looped into
/// start-limit-hit, the way back must still be allowed to start.
pub fn activate(
    host: &Host,
    instance: &str,
    restart: bool,
) -> Result<(Activation, u64), RollbackError> {
    let unit = verify::unit(instance);
    let before = host
        .unit_property(&unit, "InvocationID")
        .unwrap_or_default();
    if restart {
        let _ = host.run(
            "systemctl",
            &["reset-failed", &unit],
            Duration::from_secs(10),
        );
    }
    let since = verify::now_us();
    let (verb, how) = if restart {
        ("restart", Activation::Restart(before))
    } else {
        ("reload", Activation::Reload)
    };
    let o = host.run("systemctl", &[verb, &unit], Duration::from_secs(120))?;
    // A unit that fails to start is reported by verification (with the journal);
    // a systemctl that did not finish is an error of its own.
    if o.code.is_none() {
        return Err(RollbackError::Command(format!(
            "systemctl {verb} {unit}: {}",
            o.message()
        )));
    }
    Ok((how, since))
}

/// Installs generation `n`, activates it (restart when `restart` or the unit is not
/// running) and verifies it. Errors while activating become a failed report.
pub fn install_and_verify(
    store: &Store,
    host: &Host,
    n: u32,
    restart: bool,
    timeout: Duration,
) -> Result<Report, RollbackError> {
    store.install(n)?;
    let restart = restart || !is_active(host, &store.instance);
    let expected = verify::configured_neighbors(&store.toml_path());
    match activate(host, &store.instance, restart) {
        Ok((how, since)) => {
            let mut report = match &expected {
                Ok(list) => verify::verify(host, &store.instance, since, &how, list, timeout),
                Err(_) => verify::verify(host, &store.instance, since, &how, &[], timeout),
            };
            if let Err(e) = expected {
                report.checks.push(verify::Check {
                    name: "configuration",
                    ok: false,
                    detail: e,
                });
            }
            Ok(report)
        }
        Err(e) => {
            let mut r = Report::default();
            r.checks.push(verify::Check {
                name: "activate",
                ok: false,
                detail: e.to_string(),
            });
            Ok(r)
        }
    }
}

/// Whether two generations' env files differ (settings are read at start only).
pub fn env_differs(store: &Store, a: u32, b: u32) -> bool {
    match (store.read_generation(a), store.read_generation(b)) {
        (Ok(x), Ok(y)) => x.env != y.env,
        _ => true,
    }
}

/// Finishes what a run that died left: an apply that was never verified is undone
/// (its last good generation restored), a rollback is completed; then the running
/// instance is brought onto those files and verified. Returns a text for the report.
pub fn finish_interrupted(store: &Store, host: &Host) -> Result<String, RollbackError> {
    let Some(intent) = store.intent() else {
        return Ok(match store.recover()? {
            Some(n) => format!("finished installing generation {n}, interrupted earlier\n"),
            None => String::new(),
        });
    };
    let (n, restart, what) = match intent {
        Intent::Apply { old, new } => {
            let _ = store.mark_failed(new);
            (
                old,
                env_differs(store, old, new),
                format!(
                    "an earlier apply of generation {new} was interrupted before it was \
                     verified: restoring generation {old}"
                ),
            )
        }
        Intent::Rollback { from, to } => (
            to,
            true,
            format!(
                "an earlier rollback from generation {from} to {to} was interrupted: completing it"
            ),
        ),
    };
    let mut text = format!("{what}\n");
    let was_active = is_active(host, &store.instance);
    if was_active {
        let report = install_and_verify(store, host, n, restart, RECOVERY_TIMEOUT)?;
        text.push_str(&report.text());
    } else {
        store.install(n)?;
        text.push_str("  (the unit is not running: files restored, nothing started)\n");
    }
    store.clear_intent();
    Ok(text)
}
