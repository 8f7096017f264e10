//! The built binaries as processes: `exabgp server` daemons (in a test directory
//! with their own socket path, or found by their instance name and stopped, socket
//! file removed, on drop), one-shot commands (`exabgp env`, `exabgpcli ...`) bounded
//! in time, and helper processes' traces. Every command starts hermetic: no
//! inherited exabgp settings nor systemd variables.

use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::{free_addr, wait_for, wait_listening, Proc, WAIT};

/// Bound of every one-shot command (`exabgp env`, `exabgpcli ...`).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

pub fn exabgp_bin() -> &'static str {
    env!("CARGO_BIN_EXE_exabgp")
}

pub fn exabgpcli_bin() -> &'static str {
    env!("CARGO_BIN_EXE_exabgpcli")
}

/// An instance name unique to this test run.
pub fn instance_name(tag: &str) -> String {
    format!("e2e{}-{tag}", std::process::id())
}

/// A command with no inherited exabgp settings nor systemd variables: only what the
/// test sets reaches the program.
pub fn hermetic(program: &str) -> Command {
    let mut cmd = Command::new(program);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.to_ascii_lowercase().starts_with("exabgp") {
            cmd.env_remove(&k);
        }
    }
    // Our own systemd hand-over must not reach the daemon under test either.
    for k in exabgp::system::environ::SCRUBBED_ENV {
        cmd.env_remove(k);
    }
    cmd
}

/// What a one-shot command did.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` to completion, killed after `timeout`.
pub fn run(cmd: Command, timeout: Duration) -> Output {
    run_with_input(cmd, None, timeout)
}

/// Runs `cmd` with `input` on its stdin (then closed), killed after `timeout`.
pub fn run_with_input(mut cmd: Command, input: Option<&str>, timeout: Duration) -> Output {
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        use std::io::Write;
        let _ = stdin.write_all(text.as_bytes());
    }
    let mut out_pipe = child.stdout.take().expect("piped stdout");
    let mut err_pipe = child.stderr.take().expect("piped stderr");
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out_pipe.read_to_string(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err_pipe.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Ok(Some(s)) = child.try_wait() {
            break Some(s);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = out_t.join().unwrap_or_default();
    let stderr = err_t.join().unwrap_or_default();
    let Some(status) = status else {
        panic!("{cmd:?} did not finish within {timeout:?}; stdout: {stdout} stderr: {stderr}");
    };
    Output {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    }
}

/// `exabgpcli --instance NAME ARGS...`.
pub fn cli(name: &str, args: &[&str]) -> Output {
    let mut cmd = hermetic(exabgpcli_bin());
    cmd.args(["--timeout", "20", "--instance", name]).args(args);
    run(cmd, COMMAND_TIMEOUT)
}

/// `exabgp cli --instance NAME ARGS...`.
pub fn exabgp_cli(name: &str, args: &[&str]) -> Output {
    let mut cmd = hermetic(exabgp_bin());
    cmd.args(["cli", "--timeout", "20", "--instance", name])
        .args(args);
    run(cmd, COMMAND_TIMEOUT)
}

/// `exabgp env --instance NAME [--env-file FILE]` with extra environment.
pub fn exabgp_env(name: &str, env_file: Option<&Path>, environ: &[(&str, &str)]) -> Output {
    let mut cmd = hermetic(exabgp_bin());
    cmd.args(["env", "--instance", name]);
    if let Some(f) = env_file {
        cmd.arg("--env-file").arg(f);
    }
    for (k, v) in environ {
        cmd.env(k, v);
    }
    let out = run(cmd, COMMAND_TIMEOUT);
    assert_eq!(out.code, 0, "exabgp env failed: {out:?}");
    out
}

/// The control socket path in an `exabgp env` report.
pub fn reported_socket(report: &str) -> PathBuf {
    let line = report
        .lines()
        .find_map(|l| l.strip_prefix("control socket: "))
        .unwrap_or_else(|| panic!("no control socket line in:\n{report}"));
    let path = line
        .rsplit_once(" (")
        .map(|(p, _)| p)
        .unwrap_or_else(|| panic!("no origin after the path: {line}"));
    PathBuf::from(path)
}

/// Where the daemon for instance `name` will put its socket, by `exabgp env`.
pub fn resolved_socket(name: &str) -> PathBuf {
    reported_socket(&exabgp_env(name, None, &[]).stdout)
}

pub fn is_socket(path: &Path) -> bool {
    std::fs::symlink_metadata(path)
        .map(|m| m.file_type().is_socket())
        .unwrap_or(false)
}

pub fn inode(path: &Path) -> Option<u64> {
    std::fs::symlink_metadata(path).ok().map(|m| m.ino())
}

/// Removes a control socket file when dropped (only a socket: never anything else).
pub struct SocketGuard(pub PathBuf);

impl Drop for SocketGuard {
    fn drop(&mut self) {
        if is_socket(&self.0) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

/// Writes `config` to `dir/NAME.toml`; returns the hermetic `exabgp server FILE`
/// command (as root, no privilege drop), the config path and the log path
/// `dir/NAME.log`. Every way of starting the daemon begins here.
fn server(dir: &Path, name: &str, config: &str) -> (Command, PathBuf, PathBuf) {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, config).expect("write the config");
    let mut cmd = hermetic(exabgp_bin());
    cmd.arg("server")
        .arg(&path)
        // Tests run as root and there is no `exabgp` user here.
        .env("exabgp_daemon_drop", "false");
    (cmd, path, dir.join(format!("{name}.log")))
}

/// Makes `cmd` listen for BGP on `listen` (exabgp_tcp_bind / exabgp_tcp_port).
fn listen_on(cmd: &mut Command, listen: SocketAddr) {
    cmd.env("exabgp_tcp_bind", listen.ip().to_string())
        .env("exabgp_tcp_port", listen.port().to_string());
}

/// Writes `config` to `dir/NAME.toml`; returns the hermetic `exabgp server FILE
/// --instance NAME --log stderr` command (as root, no privilege drop) and the log
/// path `dir/NAME.log`.
pub fn server_command(dir: &Path, name: &str, config: &str) -> (Command, PathBuf) {
    let (mut cmd, _, log) = server(dir, name, config);
    cmd.args(["--instance", name, "--log", "stderr"]);
    (cmd, log)
}

/// Starts `exabgp server --instance NAME` on `config` (written to `dir/NAME.toml`,
/// log in `dir/NAME.log`) with debug logs, listening for BGP on `listen` when given.
pub fn spawn_server(dir: &Path, name: &str, config: &str, listen: Option<SocketAddr>) -> Proc {
    let (mut cmd, log) = server_command(dir, name, config);
    cmd.args(["--log-level", "debug"]);
    if let Some(l) = listen {
        listen_on(&mut cmd, l);
    }
    Proc::spawn(name, cmd, log)
}

/// One `exabgp server --instance NAME` process, its socket path resolved from the
/// name as in production (`Exabgp` has its socket in the test directory instead).
/// Dropping it stops the process (SIGTERM, then SIGKILL: `Proc`'s drop) and then
/// removes its socket file if still there: fields drop in declaration order, so
/// `proc` before `sock`.
pub struct Daemon {
    pub name: String,
    pub proc: Proc,
    pub sock: SocketGuard,
}

impl Daemon {
    /// Writes `config` to `dir/NAME.toml` and starts the daemon with the socket path
    /// left to the instance name, listening for BGP on `listen` when given.
    pub fn start(dir: &Path, name: &str, config: &str, listen: Option<SocketAddr>) -> Daemon {
        let sock = SocketGuard(resolved_socket(name));
        Daemon {
            name: name.to_string(),
            proc: spawn_server(dir, name, config, listen),
            sock,
        }
    }

    pub fn path(&self) -> &Path {
        &self.sock.0
    }

    /// Waits until `exabgpcli --instance NAME show neighbor` answers.
    pub fn wait_serving(&mut self) {
        let name = self.name.clone();
        let up = wait_for(WAIT, || {
            (cli(&name, &["show", "neighbor"]).code == 0).then_some(())
        });
        let alive = self.proc.alive();
        assert!(
            up.is_some(),
            "{} never answered on {}; alive: {alive}; log:\n{}",
            self.name,
            self.path().display(),
            self.proc.log_text()
        );
    }

    /// SIGTERM, then the exit code (bounded).
    pub fn terminate(&mut self) -> Option<i32> {
        self.proc.terminate().map(|s| s.code().unwrap_or(-1))
    }
}

/// Parses a `--json show neighbor` answer.
pub fn neighbors_json(out: &Output) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {out:?}"));
    v.as_array()
        .unwrap_or_else(|| panic!("not a JSON array: {out:?}"))
        .clone()
}

pub fn pids_in(log: &Path) -> Vec<u32> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.strip_prefix("pid ").and_then(|p| p.trim().parse().ok()))
        .collect()
}

pub fn process_gone(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.is_empty() || !stat.contains("python")
}

/// `exabgp server` in a test directory, with its own control socket there (see
/// `Daemon` for one found by its instance name).
pub struct Exabgp {
    pub proc: Proc,
    pub config: PathBuf,
}

impl Exabgp {
    /// Writes `config` to `dir/exabgp.toml` and starts `exabgp server` on it with
    /// debug logs and its own control socket `dir/exabgp.sock`, listening on
    /// `listen` when given.
    pub fn start(dir: &Path, config: &str, listen: Option<(IpAddr, u16)>) -> Exabgp {
        let (mut cmd, config, log) = server(dir, "exabgp", config);
        cmd.arg("--log-level")
            .arg("debug")
            // Each daemon its own control socket (capabilities are still dropped).
            .env("exabgp_api_socketpath", dir.join("exabgp.sock"));
        if let Some((ip, port)) = listen {
            listen_on(&mut cmd, SocketAddr::new(ip, port));
        }
        let proc = Proc::spawn("exabgp", cmd, log);
        Exabgp { proc, config }
    }

    pub fn log(&self) -> String {
        self.proc.log_text()
    }

    /// Like `start`, listening for BGP on a free port of `ip`; returns once that
    /// port accepts connections (or fails the test with the log).
    pub fn start_listening(dir: &Path, config: &str, ip: IpAddr) -> (Exabgp, SocketAddr) {
        let addr = free_addr(ip);
        let exa = Exabgp::start(dir, config, Some((ip, addr.port())));
        assert!(wait_listening(addr), "{}", exa.log());
        (exa, addr)
    }

    /// Waits until the log contains `needle`; fails the test with `what` and the
    /// log otherwise.
    pub fn expect_log(&self, needle: &str, what: &str) {
        assert!(
            self.proc.wait_log(needle, WAIT),
            "{what}; exabgp log:\n{}",
            self.log()
        );
    }

    /// SIGTERM, then the exit status (bounded).
    pub fn terminate(&mut self) -> Option<ExitStatus> {
        self.proc.terminate()
    }

    /// SIGTERM; fails the test unless exabgp exits 0 in time.
    pub fn stop(&mut self) {
        let Some(status) = self.terminate() else {
            panic!("exabgp did not exit after SIGTERM; log:\n{}", self.log());
        };
        assert!(
            status.success(),
            "exit status {status:?}; log:\n{}",
            self.log()
        );
    }

    /// Waits until exabgp logs an UPDATE received with `prefix` (sent by `from`).
    pub fn wait_received(&self, prefix: &str, from: &str) {
        let seen = wait_for(WAIT, || {
            self.log()
                .lines()
                .any(|l| l.contains("UPDATE received") && l.contains(prefix))
                .then_some(())
        });
        assert!(
            seen.is_some(),
            "{prefix} from {from} not logged as received; exabgp log:\n{}",
            self.log()
        );
    }
}
