//! Other BGP implementations as real processes: gobgpd (with its `gobgp` CLI) and
//! BIRD 2 (with `birdc`), killed when dropped.

use std::collections::BTreeSet;
use std::fs;
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::{free_port, loopback_addr, stdout_of, wait_for, ExaConfig, Proc, TestDir, WAIT};

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

pub fn rib_prefixes(g: &Gobgp) -> BTreeSet<String> {
    g.rib("ipv4")
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

pub fn med_of(g: &Gobgp, prefix: &str) -> Option<u64> {
    let attrs = g.route_attrs("ipv4", prefix)?;
    gobgp_attr(&attrs, 4).and_then(|a| a["metric"].as_u64())
}

pub fn notifications_received(g: &Gobgp, peer: IpAddr) -> u64 {
    g.neighbor(peer)
        .and_then(|n| n.pointer("/state/messages/received/notification")?.as_u64())
        .unwrap_or(0)
}
