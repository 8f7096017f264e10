//! Shared helpers for integration tests: free ports, bounded waits, and real
//! processes (the built `exabgp`, `gobgpd`, `bird`) that are killed when dropped,
//! also when a test fails.
//!
//! Each test module uses only part of this file.
#![allow(dead_code)]

pub mod conf;
pub mod inproc;
pub mod raw;

// Not every test binary writes a daemon configuration.
#[allow(unused_imports)]
pub use conf::ExaConfig;

use std::fs;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The default bound of every wait.
pub const WAIT: Duration = Duration::from_secs(30);

/// A free TCP port on `ip` (bound, read, released).
pub fn free_port(ip: IpAddr) -> u16 {
    let l = TcpListener::bind((ip, 0)).expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

/// `ip` with a free TCP port (see `free_port`).
pub fn free_addr(ip: IpAddr) -> SocketAddr {
    SocketAddr::new(ip, free_port(ip))
}

/// A loopback address 127.x.y.1 unlikely to be used by a concurrent test: derived
/// from the process id and a per-call counter.
pub fn loopback_addr(salt: u8) -> Ipv4Addr {
    let pid = std::process::id();
    Ipv4Addr::new(
        127,
        (pid % 200) as u8 + 20,
        salt,
        ((pid / 200) % 250) as u8 + 2,
    )
}

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

/// Waits until something accepts TCP connections on `addr` (a probe connection
/// from 127.0.0.1, which exabgp closes as an unknown peer). Independent of log text.
pub fn wait_listening(addr: std::net::SocketAddr) -> bool {
    wait_for(WAIT, || {
        std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1))
            .ok()
            .map(|_| ())
    })
    .is_some()
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

/// The built `exabgp server` with a config file and listener settings.
pub struct Exabgp {
    pub proc: Proc,
    pub config: PathBuf,
}

impl Exabgp {
    /// Writes `config` to `dir/exabgp.toml` and starts `exabgp server` on it, listening
    /// on `listen` when given (exabgp_tcp_bind / exabgp_tcp_port).
    pub fn start(dir: &Path, config: &str, listen: Option<(IpAddr, u16)>) -> Exabgp {
        let path = dir.join("exabgp.toml");
        fs::write(&path, config).expect("write exabgp config");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_exabgp"));
        cmd.arg("server").arg(&path).arg("--log-level").arg("debug");
        cmd.env_remove("exabgp_tcp_bind")
            .env_remove("exabgp_tcp_port")
            // Each daemon its own control socket; tests run as root with no `exabgp`
            // user, so stay root (capabilities are still dropped).
            .env("exabgp_api_socketpath", dir.join("exabgp.sock"))
            .env("exabgp_daemon_drop", "false");
        if let Some((ip, port)) = listen {
            cmd.env("exabgp_tcp_bind", ip.to_string())
                .env("exabgp_tcp_port", port.to_string());
        }
        let proc = Proc::spawn("exabgp", cmd, dir.join("exabgp.log"));
        Exabgp { proc, config: path }
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
        self.proc.signal(libc::SIGTERM);
        self.proc.wait_exit(Duration::from_secs(15))
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

/// A gobgpd on `addr:port` with its gRPC API on `addr:api_port`.
pub struct Gobgp {
    pub proc: Proc,
    pub addr: IpAddr,
    pub asn: u32,
    pub port: u16,
    pub api_port: u16,
}

/// One neighbor of a gobgpd.
pub struct GobgpNeighbor {
    pub address: IpAddr,
    pub peer_as: u32,
    /// Families as gobgp names them: "ipv4-unicast", "ipv6-unicast".
    pub families: Vec<&'static str>,
    /// TCP MD5 password (gobgp's auth-password).
    pub md5: Option<&'static str>,
}

impl Gobgp {
    /// Starts gobgpd (passive toward every neighbor: they connect to us) and waits
    /// until its API answers.
    pub fn start(
        dir: &Path,
        addr: IpAddr,
        asn: u32,
        router_id: Ipv4Addr,
        neighbors: &[GobgpNeighbor],
    ) -> Gobgp {
        let port = free_port(addr);
        let peers: Vec<(&GobgpNeighbor, IpAddr)> = neighbors.iter().map(|n| (n, addr)).collect();
        Gobgp::launch(dir, &[addr], port, asn, router_id, &peers)
    }

    /// The usual peer of a test: gobgpd on `addr` in AS `asn` (router-id
    /// 192.0.2.254) with one neighbor, `peer` in AS `peer_as`, without MD5.
    pub fn with_peer(
        dir: &Path,
        addr: IpAddr,
        asn: u32,
        peer: IpAddr,
        peer_as: u32,
        families: &[&'static str],
    ) -> Gobgp {
        Gobgp::start(
            dir,
            addr,
            asn,
            Ipv4Addr::new(192, 0, 2, 254),
            &[GobgpNeighbor {
                address: peer,
                peer_as,
                families: families.to_vec(),
                md5: None,
            }],
        )
    }

    /// A gobgpd (AS 65000, router-id 192.0.2.254) listening on every address of
    /// `addrs` (one port), passive toward each `(peer, local)` pair: the peer (AS
    /// 65001, ipv4 unicast) connects from `peer` to `local`.
    pub fn start_multi(dir: &Path, addrs: &[IpAddr], peers: &[(IpAddr, IpAddr)]) -> Gobgp {
        // One port free on every address (bounded attempts).
        let port = (0..50)
            .map(|_| free_port(addrs[0]))
            .find(|p| addrs.iter().all(|a| TcpListener::bind((*a, *p)).is_ok()))
            .expect("a port free on every address");
        let neighbors: Vec<GobgpNeighbor> = peers
            .iter()
            .map(|(peer, _)| GobgpNeighbor {
                address: *peer,
                peer_as: 65001,
                families: vec!["ipv4-unicast"],
                md5: None,
            })
            .collect();
        let pairs: Vec<(&GobgpNeighbor, IpAddr)> = neighbors
            .iter()
            .zip(peers.iter().map(|(_, local)| *local))
            .collect();
        Gobgp::launch(
            dir,
            addrs,
            port,
            65000,
            Ipv4Addr::new(192, 0, 2, 254),
            &pairs,
        )
    }

    /// Writes `dir/gobgpd.toml` (listening on `port` of every address of `addrs`,
    /// each neighbor reached from its local address), starts gobgpd with its API on
    /// `addrs[0]` and waits until the API answers.
    fn launch(
        dir: &Path,
        addrs: &[IpAddr],
        port: u16,
        asn: u32,
        router_id: Ipv4Addr,
        neighbors: &[(&GobgpNeighbor, IpAddr)],
    ) -> Gobgp {
        let addr = addrs[0];
        let api_port = free_port(addr);
        let list: Vec<String> = addrs.iter().map(|a| format!("\"{a}\"")).collect();
        let mut toml = format!(
            "[global.config]\n  as = {asn}\n  router-id = \"{router_id}\"\n  port = {port}\n  local-address-list = [{}]\n",
            list.join(", ")
        );
        for (n, local) in neighbors {
            let auth = n
                .md5
                .map(|pw| format!("    auth-password = \"{pw}\"\n"))
                .unwrap_or_default();
            toml.push_str(&format!(
                "\n[[neighbors]]\n  [neighbors.config]\n    neighbor-address = \"{}\"\n    peer-as = {}\n{auth}  [neighbors.transport.config]\n    passive-mode = true\n    local-address = \"{local}\"\n  [neighbors.timers.config]\n    idle-hold-time-after-reset = 1\n",
                n.address, n.peer_as
            ));
            for f in &n.families {
                toml.push_str(&format!(
                    "  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = \"{f}\"\n"
                ));
            }
        }
        let conf = dir.join("gobgpd.toml");
        fs::write(&conf, toml).expect("write gobgpd config");
        let mut cmd = Command::new("gobgpd");
        cmd.arg("-f")
            .arg(&conf)
            .arg("--api-hosts")
            .arg(format!("{addr}:{api_port}"))
            .arg("-p")
            .arg("--pprof-disable");
        let proc = Proc::spawn("gobgpd", cmd, dir.join("gobgpd.log"));
        let g = Gobgp {
            proc,
            addr,
            asn,
            port,
            api_port,
        };
        let up = wait_for(WAIT, || g.cli(&["-j", "global"]).ok());
        assert!(
            up.is_some(),
            "gobgpd API did not come up; log:\n{}",
            g.proc.log_text()
        );
        g
    }

    /// exabgp's configuration as AS `exa_as` on `exa_ip` with this gobgpd as its
    /// neighbor (more keys for that neighbor, routes etc. to be added).
    pub fn exabgp_config(&self, exa_as: u32, exa_ip: IpAddr) -> ExaConfig {
        ExaConfig::new(exa_as).connect_to(self.addr, self.asn, exa_ip, self.port)
    }

    /// `gobgp global rib add PREFIX -a FAMILY nexthop NEXT_HOP EXTRA...`: a route
    /// gobgpd sends to its neighbors. Panics when gobgp refuses it.
    pub fn add_route(&self, prefix: &str, family: &str, next_hop: &str, extra: &[&str]) {
        let mut args = vec![
            "global", "rib", "add", prefix, "-a", family, "nexthop", next_hop,
        ];
        args.extend_from_slice(extra);
        if let Err(e) = self.cli(&args) {
            panic!("gobgp global rib add {prefix} -a {family}: {e}");
        }
    }

    /// Runs `gobgp` against this daemon; Ok(stdout) on success.
    pub fn cli(&self, args: &[&str]) -> Result<String, String> {
        stdout_of(
            Command::new("gobgp")
                .arg("-u")
                .arg(self.addr.to_string())
                .arg("-p")
                .arg(self.api_port.to_string())
                .args(args),
        )
    }

    pub fn json(&self, args: &[&str]) -> Option<serde_json::Value> {
        let mut a = vec!["-j"];
        a.extend_from_slice(args);
        self.cli(&a)
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
    }

    /// The neighbor's JSON (`gobgp -j neighbor ADDR`).
    pub fn neighbor(&self, peer: IpAddr) -> Option<serde_json::Value> {
        let v = self.json(&["neighbor", &peer.to_string()])?;
        // Some versions answer with an object, others with a one-element list.
        match v {
            serde_json::Value::Array(mut a) if !a.is_empty() => Some(a.remove(0)),
            v => Some(v),
        }
    }

    /// gobgp's numeric session state: 6 = established.
    pub fn session_state(&self, peer: IpAddr) -> Option<i64> {
        self.neighbor(peer)?
            .pointer("/state/session_state")?
            .as_i64()
    }

    pub fn established(&self, peer: IpAddr) -> bool {
        self.session_state(peer) == Some(6)
    }

    pub fn wait_established(&self, peer: IpAddr, timeout: Duration) -> bool {
        wait_for(timeout, || self.established(peer).then_some(())).is_some()
    }

    /// The global RIB of a family ("ipv4" / "ipv6") as JSON: prefix -> [paths].
    pub fn rib(&self, family: &str) -> serde_json::Value {
        self.json(&["global", "rib", "-a", family])
            .unwrap_or(serde_json::Value::Null)
    }

    /// The attributes of the best path for `prefix`, if present.
    pub fn route_attrs(&self, family: &str, prefix: &str) -> Option<Vec<serde_json::Value>> {
        let rib = self.rib(family);
        let paths = rib.get(prefix)?.as_array()?;
        let first = paths.first()?;
        first.get("attrs")?.as_array().cloned()
    }
}

/// The usual setup of a test against gobgpd: a test directory `name`, exabgp's
/// address `loopback_addr(salt)` (AS `exa_as`) and a gobgpd on
/// `loopback_addr(salt + 1)` (AS `gobgp_as`) with exabgp as its one neighbor.
pub fn gobgp_setup(
    name: &str,
    salt: u8,
    exa_as: u32,
    gobgp_as: u32,
    families: &[&'static str],
) -> (TestDir, IpAddr, Gobgp) {
    let dir = TestDir::new(name);
    let exa_ip: IpAddr = loopback_addr(salt).into();
    let gobgp_ip: IpAddr = loopback_addr(salt + 1).into();
    let gobgp = Gobgp::with_peer(&dir.path, gobgp_ip, gobgp_as, exa_ip, exa_as, families);
    (dir, exa_ip, gobgp)
}

/// Finds the attribute of `type` in gobgp's attribute list.
pub fn gobgp_attr(attrs: &[serde_json::Value], type_code: i64) -> Option<&serde_json::Value> {
    attrs
        .iter()
        .find(|a| a.get("type").and_then(|t| t.as_i64()) == Some(type_code))
}

/// A BIRD 2 daemon run unprivileged in the foreground with its own control socket.
pub struct Bird {
    pub proc: Proc,
    pub sock: PathBuf,
}

impl Bird {
    pub fn start(dir: &Path, conf: &str) -> Bird {
        let path = dir.join("bird.conf");
        fs::write(&path, conf).expect("write bird config");
        let sock = dir.join("bird.ctl");
        let mut cmd = Command::new("bird");
        cmd.arg("-f")
            .arg("-c")
            .arg(&path)
            .arg("-s")
            .arg(&sock)
            .arg("-P")
            .arg(dir.join("bird.pid"));
        let proc = Proc::spawn("bird", cmd, dir.join("bird.out"));
        let b = Bird { proc, sock };
        let up = wait_for(WAIT, || {
            b.birdc(&["show", "status"])
                .ok()
                .filter(|s| s.contains("Daemon is up"))
        });
        assert!(
            up.is_some(),
            "bird did not come up; output:\n{}",
            b.proc.log_text()
        );
        b
    }

    pub fn birdc(&self, args: &[&str]) -> Result<String, String> {
        stdout_of(Command::new("birdc").arg("-s").arg(&self.sock).args(args))
    }

    /// `show protocols all NAME` contains "Established"?
    pub fn established(&self, proto: &str) -> bool {
        self.birdc(&["show", "protocols", proto])
            .map(|s| s.contains("Established"))
            .unwrap_or(false)
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
