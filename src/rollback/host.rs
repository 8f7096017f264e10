//! The commands exabgp-rollback runs on the host: systemctl, journalctl, exabgp,
//! exabgpcli and the package manager. Every one is bounded in time (a child that
//! outlives its deadline is killed) and runs with a small fixed environment, so the
//! caller's exabgp_* variables cannot change what `exabgp validate` or `exabgpcli`
//! see.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
    /// Runs `program args` for at most `limit`; the child is killed past it.
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
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| RollbackError::Command(format!("cannot run {program}: {e}")))?;
        // Drain both pipes on threads so a chatty child never blocks on a full pipe.
        let mut out = child.stdout.take();
        let mut err = child.stderr.take();
        let t_out = std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(o) = out.as_mut() {
                let _ = o.read_to_string(&mut s);
            }
            s
        });
        let t_err = std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(e) = err.as_mut() {
                let _ = e.read_to_string(&mut s);
            }
            s
        });
        let deadline = Instant::now() + limit;
        let status = loop {
            match child.try_wait() {
                Ok(Some(st)) => break Some(st),
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
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
        let stdout = t_out.join().unwrap_or_default();
        let mut stderr = t_err.join().unwrap_or_default();
        if status.is_none() {
            stderr.push_str(&format!(
                "\n{program}: no result within {} s, killed",
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

    /// Installs package version `version` (or the package file `file`), allowing a
    /// downgrade: apt-get on dpkg systems, dnf (or rpm -U for a file) on RPM ones.
    pub fn install_package(
        &self,
        version: &str,
        file: Option<&str>,
        limit: Duration,
    ) -> Result<(), RollbackError> {
        let dpkg = self
            .run("dpkg-query", &["-W", "exabgp-rs"], Duration::from_secs(10))
            .map(|o| o.ok())
            .unwrap_or(false);
        let spec = format!("exabgp-rs={version}");
        let o = if dpkg {
            let target = file.unwrap_or(&spec);
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
        } else if let Some(f) = file {
            self.run("rpm", &["-U", "--oldpackage", "--replacepkgs", f], limit)?
        } else {
            let nv = format!("exabgp-rs-{version}");
            self.run("dnf", &["-y", "downgrade", &nv], limit)?
        };
        if o.ok() {
            Ok(())
        } else {
            Err(RollbackError::Package(o.message()))
        }
    }
}
