//! Everything the integration tests share, one home for each thing: the built
//! binaries as processes (`binary`), the daemon core in this process (`inproc`),
//! raw BGP message builders and a raw scripted peer (`raw`), loopback addresses and
//! free ports (`net`), daemon configurations (`conf`), gobgpd and BIRD (`interop`),
//! the control-socket client and stand-in (`api`), codec strategies and fixture
//! checks (`codec`), re-running this test binary as a child (`system`); here: bounded
//! waits, child processes killed when dropped (also when a test fails), and test
//! directories kept when a test fails.
//!
//! Every test file says `mod support;` and uses only part of it.
//!
//! The test files are named for what they exercise, by prefix: `api_` the API layer
//! (control socket, line protocol, helpers, JSON) in this process; `codec_` the
//! wire codec (fixtures from the RFCs, properties, fuzzing; `codec_interop_`
//! against gobgpd or BIRD); `config_` the configuration files and settings; `e2e_`
//! the built binaries as processes; `interop_` the daemon against another BGP
//! implementation (gobgpd, BIRD); `peer_` and `malformed_` the daemon against a raw
//! scripted peer (this test writing the bytes); `system_` systemd and the OS.
#![allow(dead_code, unused_imports)]

pub mod api;
pub mod binary;
pub mod codec;
pub mod conf;
pub mod inproc;
pub mod interop;
pub mod net;
pub mod raw;
pub mod system;

pub use binary::Exabgp;
pub use conf::ExaConfig;
pub use interop::{gobgp_attr, gobgp_setup, Bird, Gobgp, GobgpNeighbor};
pub use net::{free_addr, free_port, loopback_addr, wait_listening};

use std::fs;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The default bound of every wait.
pub const WAIT: Duration = Duration::from_secs(30);

/// Polls `f` every 200 ms until it returns Some or `timeout` passes.
pub fn wait_for<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The async twin of [`wait_for`], for tests on a tokio runtime: polls `f` every
/// 50 ms until it is true; panics naming `what` after `within`.
pub async fn until(within: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs `cmd` to completion: Ok(stdout) if it succeeded, else Err(stderr) (or why
/// it could not run).
pub fn stdout_of(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// A child process killed (SIGTERM, then SIGKILL) when dropped.
pub struct Proc {
    pub name: String,
    child: Option<Child>,
    pub log: PathBuf,
}

impl Proc {
    /// Spawns `cmd` with stdout and stderr appended to `log`.
    pub fn spawn(name: &str, mut cmd: Command, log: PathBuf) -> Proc {
        let out = fs::File::create(&log).expect("create log file");
        let err = out.try_clone().expect("dup log file");
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Proc {
            name: name.to_string(),
            child: Some(child),
            log,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    pub fn log_text(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    /// Waits until the log contains `needle`.
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> bool {
        wait_for(timeout, || self.log_text().contains(needle).then_some(())).is_some()
    }

    /// Still running?
    pub fn alive(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Sends a signal (by pid: only this child).
    pub fn signal(&self, sig: i32) {
        if let Some(c) = &self.child {
            // SAFETY: kill(2) on the pid of a child we own and have not reaped.
            unsafe {
                libc::kill(c.id() as i32, sig);
            }
        }
    }

    /// SIGTERM, then the exit status (at most 15 s).
    pub fn terminate(&mut self) -> Option<ExitStatus> {
        self.signal(libc::SIGTERM);
        self.wait_exit(Duration::from_secs(15))
    }

    /// Waits for the process to exit, at most `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        let status = wait_for(timeout, || child.try_wait().ok().flatten());
        if status.is_some() {
            self.child = None;
        }
        status
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: as in `signal`.
            unsafe {
                libc::kill(c.id() as i32, libc::SIGTERM);
            }
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A temporary directory removed on drop unless the test failed (kept for the logs).
pub struct TestDir {
    pub path: PathBuf,
    dir: Option<tempfile::TempDir>,
}

impl TestDir {
    pub fn new(name: &str) -> TestDir {
        let dir = tempfile::Builder::new()
            .prefix(&format!("exabgp-{name}-"))
            .tempdir()
            .expect("tempdir");
        TestDir {
            path: dir.path().to_path_buf(),
            dir: Some(dir),
        }
    }
}

impl TestDir {
    /// The directory `name` inside this one, created.
    pub fn subdir(&self, name: &str) -> PathBuf {
        let d = self.path.join(name);
        fs::create_dir_all(&d).expect("create a test subdirectory");
        d
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            if let Some(d) = self.dir.take() {
                let kept = d.keep();
                eprintln!("test failed: logs kept in {}", kept.display());
            }
        }
    }
}
