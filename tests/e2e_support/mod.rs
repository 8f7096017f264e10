//! Shared by the e2e_* tests: the built binaries run as processes with no inherited
//! exabgp settings, one-shot commands bounded in time, `exabgp server` daemons found
//! by their instance name and stopped (socket file removed) on drop, what the
//! kernel says each process holds (/proc/net/tcp, /proc/net/unix), and gobgpd
//! helpers.
//!
//! Each test binary uses only part of this module.
#![allow(dead_code)]

use std::collections::{BTreeSet, HashSet};
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{wait_for, ExaConfig, Gobgp, Proc, WAIT};

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

/// A loopback address for test `test` (0..5), host `host`: 127.(200..249).x.host,
/// derived from our pid so concurrent test binaries rarely share one (ports are
/// picked free at run time anyway).
pub fn addr(test: u8, host: u8) -> IpAddr {
    let pid = std::process::id();
    let second = 200 + (pid % 50) as u8;
    let third = ((pid / 50) % 50) as u8 * 5 + test;
    IpAddr::V4(Ipv4Addr::new(127, second, third, host))
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

/// Writes `config` to `dir/NAME.toml`; returns the hermetic `exabgp server FILE
/// --instance NAME --log stderr` command (as root, no privilege drop) and the log
/// path `dir/NAME.log`.
pub fn server_command(dir: &Path, name: &str, config: &str) -> (Command, PathBuf) {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, config).expect("write the config");
    let mut cmd = hermetic(exabgp_bin());
    cmd.arg("server")
        .arg(&path)
        .args(["--instance", name, "--log", "stderr"])
        // Tests run as root and there is no `exabgp` user here.
        .env("exabgp_daemon_drop", "false");
    (cmd, dir.join(format!("{name}.log")))
}

/// Starts `exabgp server --instance NAME` on `config` (written to `dir/NAME.toml`,
/// log in `dir/NAME.log`) with debug logs, listening for BGP on `listen` when given.
pub fn spawn_server(dir: &Path, name: &str, config: &str, listen: Option<SocketAddr>) -> Proc {
    let (mut cmd, log) = server_command(dir, name, config);
    cmd.args(["--log-level", "debug"]);
    if let Some(l) = listen {
        cmd.env("exabgp_tcp_bind", l.ip().to_string())
            .env("exabgp_tcp_port", l.port().to_string());
    }
    Proc::spawn(name, cmd, log)
}

/// One `exabgp server --instance NAME` process. Dropping it stops the process
/// (SIGTERM, then SIGKILL: `Proc`'s drop) and then removes its socket file if still
/// there: fields drop in declaration order, so `proc` before `sock`.
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
        self.proc.signal(libc::SIGTERM);
        self.proc
            .wait_exit(Duration::from_secs(15))
            .map(|s| s.code().unwrap_or(-1))
    }
}

/// The socket inodes a process holds open.
pub fn socket_inodes(pid: u32) -> HashSet<u64> {
    let mut out = HashSet::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return out;
    };
    for e in dir.flatten() {
        if let Ok(target) = std::fs::read_link(e.path()) {
            let t = target.to_string_lossy();
            if let Some(n) = t
                .strip_prefix("socket:[")
                .and_then(|s| s.strip_suffix(']'))
                .and_then(|s| s.parse().ok())
            {
                out.insert(n);
            }
        }
    }
    out
}

/// Listening IPv4 TCP sockets: (address, inode), from /proc/net/tcp.
pub fn tcp_listeners() -> Vec<(SocketAddr, u64)> {
    let text = std::fs::read_to_string("/proc/net/tcp").expect("read /proc/net/tcp");
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 10 || f[3] != "0A" {
            continue;
        }
        let Some((a, p)) = f[1].split_once(':') else {
            continue;
        };
        let (Ok(a), Ok(p), Ok(ino)) = (
            u32::from_str_radix(a, 16),
            u16::from_str_radix(p, 16),
            f[9].parse::<u64>(),
        ) else {
            continue;
        };
        // The address is the in-memory (network order) word printed as a host integer.
        let ip = Ipv4Addr::from(a.to_le_bytes());
        out.push((SocketAddr::new(IpAddr::V4(ip), p), ino));
    }
    out
}

/// Unix sockets with a path: (inode, path), from /proc/net/unix.
pub fn unix_sockets() -> Vec<(u64, PathBuf)> {
    let text = std::fs::read_to_string("/proc/net/unix").expect("read /proc/net/unix");
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let ino = f.get(6)?.parse().ok()?;
            let path = f.get(7)?;
            Some((ino, PathBuf::from(path)))
        })
        .collect()
}

/// Does process `pid` hold a Unix socket bound to `path` (its listener)?
pub fn holds_unix_path(pid: u32, path: &Path) -> bool {
    let held = socket_inodes(pid);
    unix_sockets()
        .iter()
        .any(|(ino, p)| p == path && held.contains(ino))
}

/// Parses a `--json show neighbor` answer.
pub fn neighbors_json(out: &Output) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {out:?}"));
    v.as_array()
        .unwrap_or_else(|| panic!("not a JSON array: {out:?}"))
        .clone()
}

/// The neighbor each path of `prefix` was learned from, in gobgpd's global RIB.
pub fn learned_from(g: &Gobgp, prefix: &str) -> Vec<String> {
    g.rib("ipv4")
        .get(prefix)
        .and_then(|p| p.as_array())
        .map(|paths| {
            paths
                .iter()
                .filter_map(|p| p.get("neighbor-ip").and_then(|n| n.as_str()))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// AS 65001 with router-id `router_id`, connecting to `neighbor` (AS 65000) on
/// `port` from `local`, hold time 30 s.
pub fn daemon_config(router_id: &str, neighbor: IpAddr, local: IpAddr, port: u16) -> String {
    ExaConfig::with_router_id(router_id, 65001)
        .connect_to(neighbor, 65000, local, port)
        .line("hold-time = 30")
        .build()
}

/// A `[[process]]` running `python3 -u SCRIPT LOG` with `encoder`, receiving
/// `receive` (a TOML list, e.g. `"update", "state"`).
pub fn helper_process(
    name: &str,
    script: &Path,
    log: &Path,
    encoder: &str,
    receive: &str,
) -> String {
    format!(
        "\n[[process]]\nname = \"{name}\"\nrun = [\"python3\", \"-u\", \"{}\", \"{}\"]\nencoder = \"{encoder}\"\nreceive = [{receive}]\n",
        script.display(),
        log.display()
    )
}

/// Writes the helper `text` to `dir/NAME.py`; returns it and `dir/NAME.log` (where
/// the helpers of these tests write what they see).
pub fn write_helper(dir: &Path, name: &str, text: &str) -> (PathBuf, PathBuf) {
    let script = dir.join(format!("{name}.py"));
    std::fs::write(&script, text).expect("write the helper");
    (script, dir.join(format!("{name}.log")))
}

pub fn rib_prefixes(g: &Gobgp) -> BTreeSet<String> {
    g.rib("ipv4")
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

pub const PASSIVE_ONLY: &str = "[global]\nrouter-id = \"192.0.2.1\"\nlocal-as = 65001\n\n[[neighbor]]\naddress = \"192.0.2.200\"\npeer-as = 65200\npassive = true\n";

pub fn med_of(g: &Gobgp, prefix: &str) -> Option<u64> {
    let attrs = g.route_attrs("ipv4", prefix)?;
    crate::common::gobgp_attr(&attrs, 4).and_then(|a| a["metric"].as_u64())
}

pub fn notifications_received(g: &Gobgp, peer: IpAddr) -> u64 {
    g.neighbor(peer)
        .and_then(|n| n.pointer("/state/messages/received/notification")?.as_u64())
        .unwrap_or(0)
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
