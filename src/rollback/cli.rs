//! The `exabgp-rollback` command line and its commands: save, apply, rollback,
//! list, diff. See the `--help` texts (and exabgp-rollback(8), generated from them).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use nix::fcntl::{Flock, FlockArg};
use serde_json::json;

use super::host::Host;
use super::store::{Generation, Snapshot, Store};
use super::verify::{self, Activation, NeighborState};
use super::{check_instance, exit, RollbackError};

#[derive(Debug, Parser)]
#[command(
    name = "exabgp-rollback",
    version = crate::VERSION,
    about = "Change an exabgp instance safely, verify it, and roll back config, env and package",
    long_about = "Change an exabgp instance safely, verify it, and roll back config, env and package.\n\n\
        Every change is recorded as a numbered generation (INSTANCE.toml, INSTANCE.env and the \
        installed exabgp-rs package version) under STATE_DIR/INSTANCE/generations/. `apply` \
        validates a new configuration, installs it, reloads (or restarts, when the env file \
        changed) exabgp@INSTANCE and verifies it: unit active, READY reached, STATUS not \
        reporting a rejected configuration, every neighbor Established, no error in the \
        journal since the change. When that fails it restores the previous generation by \
        itself and verifies again. `rollback` returns to any generation, with --package also \
        to its package version.",
    after_help = "Exit status: 0 done and verified; 1 the change failed verification and was \
        undone (the old state verified); 2 verification failed and the undo did not verify \
        either (look at the instance now); 64 usage; 65 no such generation; 69 systemctl or \
        the package manager failed; 74 file error; 75 another run holds the instance's lock; \
        78 the new configuration or env file is invalid (nothing was changed).\n\n\
        Examples:\n  exabgp-rollback save edge1 --note 'before the maintenance'\n  \
        exabgp-rollback apply edge1 /tmp/edge1.toml --timeout 120\n  \
        exabgp-rollback list edge1\n  exabgp-rollback diff edge1 3\n  \
        exabgp-rollback rollback edge1\n  exabgp-rollback rollback edge1 3 --package"
)]
pub struct Cli {
    /// Where INSTANCE.toml and INSTANCE.env live.
    #[arg(long, global = true, value_name = "DIR", default_value = "/etc/exabgp")]
    pub config_dir: PathBuf,
    /// Where generations are kept (one directory per instance).
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        default_value = "/var/lib/exabgp"
    )]
    pub state_dir: PathBuf,
    /// How many generations to keep per instance (the current one is always kept).
    #[arg(long, global = true, value_name = "K", default_value_t = 10)]
    pub keep: usize,
    /// Wait up to SECONDS for another run on the same instance to finish (default:
    /// refuse at once with exit 75).
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 0)]
    pub wait: u64,
    /// Print the result as one JSON object (for automation).
    #[arg(long, global = true)]
    pub json: bool,
    /// The exabgp binary used to validate configurations.
    #[arg(long, global = true, value_name = "PATH", default_value = "exabgp")]
    pub exabgp: PathBuf,
    /// The exabgpcli binary used to ask the daemon for its neighbors.
    #[arg(long, global = true, value_name = "PATH", default_value = "exabgpcli")]
    pub exabgpcli: PathBuf,
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Record the instance's current files and package version as a new generation
    /// (nothing new is recorded when they equal a stored generation).
    Save {
        instance: String,
        /// A note kept with the generation (shown by `list`).
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
    },
    /// Validate NEW.toml (and NEW.env), record the current state, install the new
    /// files, reload or restart, verify; undo by itself when verification fails.
    Apply {
        instance: String,
        /// The new configuration.
        config: PathBuf,
        /// The new env file (exabgp_* settings); the unit is restarted, not reloaded,
        /// since settings are read at start.
        env: Option<PathBuf>,
        /// Seconds to wait for the instance to be healthy (neighbors Established).
        #[arg(long, value_name = "S", default_value_t = 60)]
        timeout: u64,
        /// A note kept with the new generation.
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        /// Say what would be done, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Install and reload/restart without waiting for verification.
        #[arg(long)]
        emergency: bool,
    },
    /// Restore a generation (default: the newest one before the current that did not
    /// fail verification), restart and verify; with --package also its package version.
    Rollback {
        instance: String,
        /// The generation to return to (see `list`).
        generation: Option<u32>,
        /// Also install the package version recorded with that generation.
        #[arg(long)]
        package: bool,
        /// The package file to install for --package (else apt-get/dnf find the
        /// version in a configured repository or the local cache).
        #[arg(long, value_name = "FILE", requires = "package")]
        package_file: Option<PathBuf>,
        /// Seconds to wait for the instance to be healthy.
        #[arg(long, value_name = "S", default_value_t = 60)]
        timeout: u64,
        /// Say what would be done, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Restore and restart without waiting for verification.
        #[arg(long)]
        emergency: bool,
    },
    /// List the instance's generations (`*` marks the current one).
    List { instance: String },
    /// Show what changed between generation GEN and GEN2 (default: the files
    /// installed now), as a unified diff.
    Diff {
        instance: String,
        generation: u32,
        generation2: Option<u32>,
    },
}

/// Entry point of the binary: parse, run, print, return the exit code.
pub fn main(argv: Vec<String>) -> i32 {
    let cli = match Cli::try_parse_from(argv) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
        }
    };
    let json = cli.json;
    match run(cli) {
        Ok((code, text, value)) => {
            if json {
                println!("{value}");
            } else {
                print!("{text}");
            }
            code
        }
        Err(e) => {
            if json {
                println!(
                    "{}",
                    json!({"ok": false, "error": e.to_string(), "exit": e.exit_code()})
                );
            }
            eprintln!("exabgp-rollback: {e}");
            e.exit_code()
        }
    }
}

type Outcome = (i32, String, serde_json::Value);

fn run(cli: Cli) -> Result<Outcome, RollbackError> {
    let host = Host {
        exabgp: cli.exabgp.clone(),
        exabgpcli: cli.exabgpcli.clone(),
    };
    let instance = match &cli.command {
        Cmd::Save { instance, .. }
        | Cmd::Apply { instance, .. }
        | Cmd::Rollback { instance, .. }
        | Cmd::List { instance }
        | Cmd::Diff { instance, .. } => instance.clone(),
    };
    check_instance(&instance)?;
    let store = Store::new(&instance, &cli.config_dir, &cli.state_dir);
    match &cli.command {
        Cmd::List { .. } => list(&store),
        Cmd::Diff {
            generation,
            generation2,
            ..
        } => diff(&store, &host, *generation, *generation2),
        Cmd::Save { note, .. } => {
            let _lock = lock(&store, cli.wait)?;
            store.recover()?;
            let (g, new) =
                save_current(&store, &host, note.as_deref().unwrap_or("saved"), cli.keep)?;
            let text = if new {
                format!("saved generation {}\n", g.number)
            } else {
                format!(
                    "unchanged since generation {} (nothing new saved)\n",
                    g.number
                )
            };
            Ok((
                exit::OK,
                text,
                json!({"ok": true, "generation": g, "new": new}),
            ))
        }
        Cmd::Apply {
            config,
            env,
            timeout,
            note,
            dry_run,
            emergency,
            ..
        } => apply(
            &store,
            &host,
            &cli,
            ApplyArgs {
                config,
                env: env.as_deref(),
                timeout: Duration::from_secs(*timeout),
                note: note.as_deref(),
                dry_run: *dry_run,
                emergency: *emergency,
            },
        ),
        Cmd::Rollback {
            generation,
            package,
            package_file,
            timeout,
            dry_run,
            emergency,
            ..
        } => rollback(
            &store,
            &host,
            &cli,
            RollbackArgs {
                generation: *generation,
                package: *package,
                package_file: package_file.as_deref(),
                timeout: Duration::from_secs(*timeout),
                dry_run: *dry_run,
                emergency: *emergency,
            },
        ),
    }
}

/// The instance's lock, held until dropped. Waits up to `wait_s` for another run.
fn lock(store: &Store, wait_s: u64) -> Result<Flock<fs::File>, RollbackError> {
    store.prepare()?;
    let path = store.lock_path();
    let deadline = Instant::now() + Duration::from_secs(wait_s);
    loop {
        let f = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
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

/// The generation holding the installed files: an equal stored one, else a new one.
fn save_current(
    store: &Store,
    host: &Host,
    note: &str,
    keep: usize,
) -> Result<(Generation, bool), RollbackError> {
    let snap = store.read_installed()?;
    let package = host.package_version();
    if let Some(n) = store
        .current()
        .filter(|n| store.read_generation(*n).ok().as_ref() == Some(&snap))
    {
        let g = store.get(n)?;
        if g.package == package {
            return Ok((g, false));
        }
    }
    let g = store.save(&snap, note, package, keep)?;
    store.set_current(g.number)?;
    Ok((g, true))
}

fn list(store: &Store) -> Result<Outcome, RollbackError> {
    let all = store.list()?;
    let current = store.current();
    let mut text = format!(
        "{:>4}  {:<20}  {:<16}  {:<3}  NOTE\n",
        "GEN", "SAVED (UTC)", "PACKAGE", "ENV"
    );
    for g in &all {
        text.push_str(&format!(
            "{:>3}{}  {:<20}  {:<16}  {:<3}  {}\n",
            g.number,
            if Some(g.number) == current { "*" } else { " " },
            utc(g.saved_at),
            g.package.as_deref().unwrap_or("-"),
            if g.has_env { "yes" } else { "no" },
            if g.failed {
                format!("{} (FAILED, undone)", g.note)
            } else {
                g.note.clone()
            }
        ));
    }
    if all.is_empty() {
        text = format!("no generation saved for {} yet\n", store.instance);
    }
    Ok((
        exit::OK,
        text,
        json!({"ok": true, "instance": store.instance, "current": current, "generations": all}),
    ))
}

/// "2026-12-06 21:04:05" from seconds since the epoch (civil-from-days, UTC).
fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn diff(store: &Store, host: &Host, a: u32, b: Option<u32>) -> Result<Outcome, RollbackError> {
    let ga = store.get(a)?;
    let dir_a = store.generation_dir(a);
    let (label_b, toml_b, env_b) = match b {
        Some(n) => {
            let g = store.get(n)?;
            let dir = store.generation_dir(n);
            let env = g
                .has_env
                .then(|| dir.join(format!("{}.env", store.instance)));
            (
                format!("generation {n}"),
                dir.join(format!("{}.toml", store.instance)),
                env,
            )
        }
        None => {
            let env = store.env_path();
            (
                "installed".to_string(),
                store.toml_path(),
                env.exists().then_some(env),
            )
        }
    };
    let env_a = ga
        .has_env
        .then(|| dir_a.join(format!("{}.env", store.instance)));
    let null = PathBuf::from("/dev/null");
    let mut text = String::new();
    let mut changed = false;
    for (name, fa, fb) in [
        (
            "toml",
            Some(dir_a.join(format!("{}.toml", store.instance))),
            Some(toml_b),
        ),
        ("env", env_a, env_b),
    ] {
        if fa.is_none() && fb.is_none() {
            continue;
        }
        let fa = fa.unwrap_or_else(|| null.clone());
        let fb = fb.unwrap_or_else(|| null.clone());
        let la = format!("generation {a}/{}.{name}", store.instance);
        let lb = format!("{label_b}/{}.{name}", store.instance);
        let o = host.run(
            "diff",
            &[
                "-u",
                "--label",
                &la,
                "--label",
                &lb,
                &path_str(&fa),
                &path_str(&fb),
            ],
            Duration::from_secs(10),
        )?;
        match o.code {
            Some(0) => {}
            Some(1) => {
                changed = true;
                text.push_str(&o.stdout);
            }
            _ => return Err(RollbackError::Command(format!("diff: {}", o.message()))),
        }
    }
    if !changed {
        text = format!("generation {a} and {label_b} are identical\n");
    }
    Ok((
        exit::OK,
        text.clone(),
        json!({"ok": true, "changed": changed, "diff": text}),
    ))
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().to_string()
}

struct ApplyArgs<'a> {
    config: &'a Path,
    env: Option<&'a Path>,
    timeout: Duration,
    note: Option<&'a str>,
    dry_run: bool,
    emergency: bool,
}

/// `exabgp validate FILE` and, with an env file, `exabgp env --env-file FILE`.
fn validate(
    host: &Host,
    instance: &str,
    config: &Path,
    env: Option<&Path>,
) -> Result<(), RollbackError> {
    let exabgp = path_str(&host.exabgp);
    let mut problems = Vec::new();
    let o = host.run(
        &exabgp,
        &["validate", &path_str(config)],
        Duration::from_secs(30),
    )?;
    if !o.ok() {
        problems.push(o.message());
    }
    if let Some(env) = env {
        if !env.is_file() {
            problems.push(format!("{}: no such file", env.display()));
        } else {
            let o = host.run(
                &exabgp,
                &["env", "--instance", instance, "--env-file", &path_str(env)],
                Duration::from_secs(30),
            )?;
            if !o.ok() {
                problems.push(o.message());
            }
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
}

/// Reload, or restart when `restart` (env changed, unit not running). Returns how,
/// for verification, and when (µs since the epoch, just before the request).
fn activate(
    host: &Host,
    instance: &str,
    restart: bool,
) -> Result<(Activation, u64), RollbackError> {
    let unit = verify::unit(instance);
    let before = host
        .unit_property(&unit, "InvocationID")
        .unwrap_or_default();
    let since = verify::now_us();
    let (verb, how) = if restart {
        ("restart", Activation::Restart(before))
    } else {
        ("reload", Activation::Reload)
    };
    let o = host.run("systemctl", &[verb, &unit], Duration::from_secs(120))?;
    if !o.ok() {
        // A failed start is reported by verification (unit not active), with the
        // journal; a systemctl that cannot even run is an error of its own.
        if o.code.is_none() {
            return Err(RollbackError::Command(format!(
                "systemctl {verb} {unit}: {}",
                o.message()
            )));
        }
    }
    Ok((how, since))
}

fn is_active(host: &Host, instance: &str) -> bool {
    host.unit_property(&verify::unit(instance), "ActiveState")
        .map(|s| s == "active" || s == "reloading")
        .unwrap_or(false)
}

fn apply(store: &Store, host: &Host, cli: &Cli, a: ApplyArgs) -> Result<Outcome, RollbackError> {
    validate(host, &store.instance, a.config, a.env)?;
    let read = |p: &Path| {
        fs::read(p).map_err(|e| RollbackError::Io(format!("reading {}: {e}", p.display())))
    };
    let new_toml = read(a.config)?;
    let new_env = a.env.map(read).transpose()?;

    let _lock = lock(store, cli.wait)?;
    store.recover()?;
    let installed = store.read_installed()?;
    let new = Snapshot {
        toml: new_toml,
        env: if a.env.is_some() {
            new_env
        } else {
            installed.env.clone()
        },
    };
    if new == installed {
        return Ok((
            exit::OK,
            "the new files equal the installed ones: nothing to do\n".into(),
            json!({"ok": true, "changed": false}),
        ));
    }
    let env_changed = new.env != installed.env;
    let restart = env_changed || !is_active(host, &store.instance);
    let verb = if restart { "restart" } else { "reload" };
    if a.dry_run {
        let text =
            format!(
            "would validate (done: valid), save the current files as a generation, install {}{}, \
             {verb} {}, and verify within {} s{}\n",
            a.config.display(),
            a.env.map(|e| format!(" and {}", e.display())).unwrap_or_default(),
            verify::unit(&store.instance),
            a.timeout.as_secs(),
            if a.emergency { " (no: --emergency)" } else { "" }
        );
        return Ok((
            exit::OK,
            text,
            json!({"ok": true, "dry-run": true, "action": verb}),
        ));
    }

    let (old, _) = save_current(store, host, "before apply", cli.keep)?;
    let g = store.save(
        &new,
        a.note.unwrap_or("apply"),
        host.package_version(),
        cli.keep,
    )?;
    store.install(g.number)?;
    let (how, since) = activate(host, &store.instance, restart)?;
    let mut text = format!(
        "generation {} installed ({verb}); previous: generation {}\n",
        g.number, old.number
    );
    if a.emergency {
        text.push_str("--emergency: not verified\n");
        return Ok((
            exit::OK,
            text,
            json!({"ok": true, "generation": g.number, "verified": false}),
        ));
    }
    let report = verify::verify(host, &store.instance, since, &how, a.timeout);
    text.push_str(&report.text());
    if report.ok() {
        text.push_str(&format!("apply: generation {} verified\n", g.number));
        return Ok((
            exit::OK,
            text,
            json!({"ok": true, "generation": g.number, "previous": old.number, "verify": report}),
        ));
    }

    // Undo: the previous files, restarted when the env differs or the unit died.
    text.push_str(&format!(
        "apply failed verification; restoring generation {}\n",
        old.number
    ));
    store.mark_failed(g.number)?;
    store.install(old.number)?;
    let restart_back = env_changed || !is_active(host, &store.instance);
    let (how, since) = activate(host, &store.instance, restart_back)?;
    let back = verify::verify(host, &store.instance, since, &how, a.timeout);
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
        json!({"ok": false, "generation": g.number, "restored": old.number,
               "verify": report, "verify-after-undo": back}),
    ))
}

struct RollbackArgs<'a> {
    generation: Option<u32>,
    package: bool,
    package_file: Option<&'a Path>,
    timeout: Duration,
    dry_run: bool,
    emergency: bool,
}

/// One side of the before/after summary.
fn summary(host: &Host, generation: Option<u32>, neighbors: &[NeighborState]) -> serde_json::Value {
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
        v["generation"]
            .as_u64()
            .map(|n| n.to_string())
            .unwrap_or("-".into()),
        v["package"].as_str().unwrap_or("-"),
        v["routes-announced"]
    );
    if let Some(list) = v["neighbors"].as_array() {
        for n in list {
            s.push_str(&format!(
                "  neighbor {} {}\n",
                n["peer"].as_str().unwrap_or("?"),
                n["state"].as_str().unwrap_or("?")
            ));
        }
    }
    s
}

fn rollback(
    store: &Store,
    host: &Host,
    cli: &Cli,
    a: RollbackArgs,
) -> Result<Outcome, RollbackError> {
    let _lock = lock(store, cli.wait)?;
    store.recover()?;
    let (now, _) = save_current(store, host, "before rollback", cli.keep)?;
    let target = match a.generation {
        Some(n) => store.get(n)?,
        None => store
            .list()?
            .into_iter()
            .rev()
            .find(|g| g.number < now.number && !g.failed)
            .ok_or_else(|| {
                RollbackError::Nothing(format!(
                    "instance {} has no generation before {} to return to",
                    store.instance, now.number
                ))
            })?,
    };
    let package_change = if a.package {
        match &target.package {
            Some(v) if Some(v) != host.package_version().as_ref() => Some(v.clone()),
            Some(_) => None,
            None => {
                return Err(RollbackError::Nothing(format!(
                    "generation {} recorded no package version",
                    target.number
                )))
            }
        }
    } else {
        None
    };
    if a.dry_run {
        let text = format!(
            "would restore generation {} (now on {}){}, restart {} and verify within {} s\n",
            target.number,
            now.number,
            package_change
                .as_ref()
                .map(|v| format!(", install package exabgp-rs {v}"))
                .unwrap_or_default(),
            verify::unit(&store.instance),
            a.timeout.as_secs()
        );
        return Ok((
            exit::OK,
            text,
            json!({"ok": true, "dry-run": true, "generation": target.number}),
        ));
    }

    // Only ask the daemon for its neighbors when it runs (a bounded query).
    let before_neighbors = if is_active(host, &store.instance) {
        verify::neighbors(host, &store.instance).unwrap_or_default()
    } else {
        Vec::new()
    };
    let before = summary(host, Some(now.number), &before_neighbors);

    // Files first, so the package's own restart of running instances (postinst)
    // already starts them on the restored configuration.
    store.install(target.number)?;
    let unit = verify::unit(&store.instance);
    let invocation = host
        .unit_property(&unit, "InvocationID")
        .unwrap_or_default();
    let since = verify::now_us();
    if let Some(v) = &package_change {
        let file = a.package_file.map(|f| {
            let abs = fs::canonicalize(f).unwrap_or_else(|_| f.to_path_buf());
            path_str(&abs)
        });
        host.install_package(v, file.as_deref(), Duration::from_secs(600))?;
    }
    let restarted_by_package = {
        let now_inv = host
            .unit_property(&unit, "InvocationID")
            .unwrap_or_default();
        !now_inv.is_empty() && now_inv != invocation && is_active(host, &store.instance)
    };
    let how = if restarted_by_package {
        Activation::Restart(invocation)
    } else {
        activate(host, &store.instance, true)?.0
    };
    let mut text = format!(
        "restored generation {} (was {}){}\n",
        target.number,
        now.number,
        package_change
            .as_ref()
            .map(|v| format!(", package exabgp-rs {v}"))
            .unwrap_or_default()
    );
    if a.emergency {
        text.push_str("--emergency: not verified\n");
        return Ok((
            exit::OK,
            text,
            json!({"ok": true, "generation": target.number, "verified": false}),
        ));
    }
    let report = verify::verify(host, &store.instance, since, &how, a.timeout);
    let after = summary(host, Some(target.number), &report.neighbors);
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
        json!({"ok": report.ok(), "generation": target.number, "previous": now.number,
               "before": before, "after": after, "verify": report}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00");
        assert_eq!(utc(1_796_590_800), "2026-12-06 21:00:00");
    }

    #[test]
    fn help_parses_and_examples_are_real_commands() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
        for ex in [
            "exabgp-rollback save edge1 --note x",
            "exabgp-rollback apply edge1 /tmp/edge1.toml --timeout 120",
            "exabgp-rollback rollback edge1 3 --package",
            "exabgp-rollback diff edge1 3",
        ] {
            Cli::try_parse_from(ex.split(' ')).unwrap();
        }
        assert!(
            Cli::try_parse_from(["exabgp-rollback", "rollback", "e", "--package-file", "x"])
                .is_err()
        );
    }
}
