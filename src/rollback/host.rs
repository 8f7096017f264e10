//! The commands exabgp-rollback runs on the host: systemctl, journalctl, exabgp,
//! exabgpcli and the package manager. Every one is bounded in time (a child that
//! outlives its deadline is killed) and runs with a small fixed environment, so the
//! caller's exabgp_* variables cannot change what `exabgp validate` or `exabgpcli`
//! see.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};

use super::RollbackError;

/// What a finished command printed and how it ended.
#[derive(Debug)]
pub struct Output {
    /// Exit code; None when killed by a signal or by our deadline.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// stderr, or stdout when stderr is empty, trimmed: for reports.
    pub fn message(&self) -> String {
        let s = if self.stderr.trim().is_empty() {
            &self.stdout
        } else {
            &self.stderr
        };
        s.trim().to_string()
    }
}

/// Where the programs are (overridable for tests and unusual installs).
#[derive(Debug, Clone)]
pub struct Host {
    pub exabgp: PathBuf,
    pub exabgpcli: PathBuf,
}

const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

impl Host {
    /// Runs `program args` for at most `limit`. The child gets a process group of
    /// its own: a Ctrl-C at the terminal reaches this tool only (which finishes or
    /// undoes its change), never a half-done apt-get. Past `limit` the group gets
    /// SIGTERM, then SIGKILL 5 s later; output still held open by a straggler is
    /// given up 2 s after that, so the call always returns.
    pub fn run(
        &self,
        program: &str,
        args: &[&str],
        limit: Duration,
    ) -> Result<Output, RollbackError> {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .env_clear()
            .env("PATH", PATH)
            .env("LC_ALL", "C")
            .env("SYSTEMD_PAGER", "")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = cmd
            .spawn()
            .map_err(|e| RollbackError::Command(format!("cannot run {program}: {e}")))?;
        let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
        let (tx, rx) = mpsc::channel::<(bool, String)>();
        for (is_out, pipe) in [
            (
                true,
                child
                    .stdout
                    .take()
                    .map(|p| Box::new(p) as Box<dyn Read + Send>),
            ),
            (
                false,
                child
                    .stderr
                    .take()
                    .map(|p| Box::new(p) as Box<dyn Read + Send>),
            ),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut s = String::new();
                if let Some(mut p) = pipe {
                    let _ = p.read_to_string(&mut s);
                }
                let _ = tx.send((is_out, s));
            });
        }
        drop(tx);
        let deadline = Instant::now() + limit;
        let mut killed = false;
        let status = loop {
            match child.try_wait() {
                Ok(Some(st)) => break Some(st),
                Ok(None) if Instant::now() >= deadline => {
                    killed = true;
                    let _ = killpg(pgid, Signal::SIGTERM);
                    let grace = Instant::now() + Duration::from_secs(5);
                    let mut st = None;
                    while Instant::now() < grace {
                        if let Ok(Some(s)) = child.try_wait() {
                            st = Some(s);
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    let _ = killpg(pgid, Signal::SIGKILL);
                    if st.is_none() {
                        let _ = child.wait();
                    }
                    break None;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => {
                    return Err(RollbackError::Command(format!(
                        "waiting for {program}: {e}"
                    )))
                }
            }
        };
        let (mut stdout, mut stderr) = (String::new(), String::new());
        let until = Instant::now() + Duration::from_secs(2);
        for _ in 0..2 {
            match rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
                Ok((true, s)) => stdout = s,
                Ok((false, s)) => stderr = s,
                Err(_) => break,
            }
        }
        if killed {
            stderr.push_str(&format!(
                "\n{program}: no result within {} s, stopped",
                limit.as_secs()
            ));
        }
        Ok(Output {
            code: status.and_then(|s| s.code()),
            stdout,
            stderr,
        })
    }

    /// `systemctl show -p PROP --value UNIT`.
    pub fn unit_property(&self, unit: &str, prop: &str) -> Result<String, RollbackError> {
        let o = self.run(
            "systemctl",
            &["show", "-p", prop, "--value", unit],
            Duration::from_secs(10),
        )?;
        if !o.ok() {
            return Err(RollbackError::Command(format!(
                "systemctl show {unit}: {}",
                o.message()
            )));
        }
        Ok(o.stdout.trim().to_string())
    }

    /// The installed version of package `exabgp-rs` (dpkg first, then rpm).
    pub fn package_version(&self) -> Option<String> {
        let limit = Duration::from_secs(10);
        if let Ok(o) = self.run("dpkg-query", &["-W", "-f=${Version}", "exabgp-rs"], limit) {
            if o.ok() && !o.stdout.trim().is_empty() {
                return Some(o.stdout.trim().to_string());
            }
        }
        if let Ok(o) = self.run(
            "rpm",
            &["-q", "--qf", "%{VERSION}-%{RELEASE}", "exabgp-rs"],
            limit,
        ) {
            if o.ok() && !o.stdout.trim().is_empty() {
                return Some(o.stdout.trim().to_string());
            }
        }
        None
    }

    fn uses_dpkg(&self) -> bool {
        self.run("dpkg-query", &["-W", "exabgp-rs"], Duration::from_secs(10))
            .map(|o| o.ok())
            .unwrap_or(false)
    }

    /// Checks, before anything is changed, that `version` can be installed: the
    /// file exists (an absolute path), or the package manager knows that version.
    pub fn package_available(
        &self,
        version: &str,
        file: Option<&Path>,
    ) -> Result<(), RollbackError> {
        if let Some(f) = file {
            if !f.is_absolute() || !f.is_file() {
                return Err(RollbackError::Package(format!(
                    "{}: no such package file",
                    f.display()
                )));
            }
            return Ok(());
        }
        let limit = Duration::from_secs(60);
        let o = if self.uses_dpkg() {
            self.run(
                "apt-cache",
                &["show", &format!("exabgp-rs={version}")],
                limit,
            )?
        } else {
            self.run(
                "dnf",
                &[
                    "-q",
                    "list",
                    "--showduplicates",
                    &format!("exabgp-rs-{version}"),
                ],
                limit,
            )?
        };
        if o.ok() && !o.stdout.trim().is_empty() {
            Ok(())
        } else {
            Err(RollbackError::Package(format!(
                "exabgp-rs {version} is not in a configured repository or the cache; \
                 give the file with --package-file ({})",
                o.message()
            )))
        }
    }

    /// Installs package version `version` (or the package file `file`, an absolute
    /// path), in either direction: apt-get on dpkg systems, dnf (or rpm -U for a
    /// file) on RPM ones. Then checks that the version installed is the one asked.
    pub fn install_package(
        &self,
        version: &str,
        file: Option<&Path>,
        limit: Duration,
    ) -> Result<(), RollbackError> {
        let file = file.map(|f| f.to_string_lossy().to_string());
        let o = if self.uses_dpkg() {
            let spec = format!("exabgp-rs={version}");
            let target = file.as_deref().unwrap_or(&spec);
            self.run(
                "apt-get",
                &[
                    "install",
                    "-y",
                    "--allow-downgrades",
                    "-o",
                    "Dpkg::Options::=--force-confold",
                    target,
                ],
                limit,
            )?
        } else if let Some(f) = &file {
            self.run("rpm", &["-U", "--oldpackage", "--replacepkgs", f], limit)?
        } else {
            // `dnf install NAME-VERSION` goes down as well as up.
            self.run(
                "dnf",
                &["-y", "install", &format!("exabgp-rs-{version}")],
                limit,
            )?
        };
        if !o.ok() {
            return Err(RollbackError::Package(o.message()));
        }
        match self.package_version() {
            Some(v) if v == version => Ok(()),
            other => Err(RollbackError::Package(format!(
                "asked for {version}, installed is {}",
                other.unwrap_or_else(|| "nothing".into())
            ))),
        }
    }
}
