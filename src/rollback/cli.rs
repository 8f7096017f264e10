//! The `exabgp-rollback` command line and its commands: save, apply, rollback,
//! list, diff. See the `--help` texts (and exabgp-rollback(8), generated from them).

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Parser, Subcommand};
use serde_json::json;

use super::apply::{apply, ApplyArgs};
use super::host::Host;
use super::ops::{self, Outcome};
use super::restore::{rollback, RollbackArgs};
use super::store::Store;
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
    /// How many generations to keep per instance, at least 2 (the current one and
    /// the one a running change may restore are always kept).
    #[arg(long, global = true, value_name = "K", default_value_t = 10,
          value_parser = clap::value_parser!(u16).range(2..))]
    pub keep: u16,
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
    /// (nothing new is recorded when they equal the current generation).
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

/// The clap command of `exabgp-rollback`, for the man pages and completions
/// (tests/generated_docs.rs).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// Entry point of the binary: parse, run, print, return the exit code.
pub fn main(argv: Vec<String>) -> i32 {
    super::catch_interrupts();
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
            let _lock = ops::lock(&store, cli.wait)?;
            let mut text = ops::finish_interrupted(&store, &host)?;
            let (g, new) = ops::save_current(&store, &host, note.as_deref().unwrap_or("saved"))?;
            store.prune(usize::from(cli.keep), &[g.number])?;
            text.push_str(&if new {
                format!("saved generation {}\n", g.number)
            } else {
                format!(
                    "unchanged since generation {} (the current one; nothing new saved)\n",
                    g.number
                )
            });
            Ok((
                exit::OK,
                text,
                json!({"ok": true, "exit": exit::OK, "generation": g.number, "new": new,
                       "details": g}),
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
            ApplyArgs {
                keep: usize::from(cli.keep),
                wait: cli.wait,
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
            RollbackArgs {
                keep: usize::from(cli.keep),
                wait: cli.wait,
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
        json!({"ok": true, "exit": exit::OK, "instance": store.instance, "current": current,
               "generations": all}),
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
