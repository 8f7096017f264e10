//! `exabgp server` processes found by their instance name (the control socket path
//! resolved as DESIGN.md says, never configured): eight side by side, each with its
//! own socket, port and session to a real gobgpd, each reached by its own
//! `exabgpcli` / `exabgp cli`; the same name started twice is refused (exit 69)
//! and touches nothing.
//!
//! Every process is killed and every socket file removed when a test ends, also
//! when it fails (Drop guards). Names carry our pid so concurrent runs never meet.

mod support;

use std::collections::{BTreeSet, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use support::binary::*;
use support::conf::*;
use support::interop::*;
use support::net::*;
use support::{free_addr, wait_for, Gobgp, TestDir, WAIT};

/// Eight daemons side by side, each with its own name, socket, port and a real
/// session to one gobgpd; each CLI reaches its own; a duplicate name is refused;
/// SIGTERM removes each socket.
#[test]
fn eight_daemons_by_instance_name() {
    let dir = TestDir::new("e2e-eight");
    let gobgp_addrs: Vec<IpAddr> = (0..8).map(|i| addr(0, 100 + i)).collect();
    let locals: Vec<IpAddr> = (0..8).map(|i| addr(0, 10 + i)).collect();
    let pairs: Vec<(IpAddr, IpAddr)> = locals
        .iter()
        .copied()
        .zip(gobgp_addrs.iter().copied())
        .collect();
    let gobgp = Gobgp::start_multi(&dir.path, &gobgp_addrs, &pairs);

    let names: Vec<String> = (0..8)
        .map(|i| instance_name(&format!("eight{i}")))
        .collect();
    let mut daemons = Vec::new();
    let mut binds = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let bind = free_addr(locals[i]);
        let cfg = daemon_config(
            &format!("192.0.2.{}", 10 + i),
            gobgp_addrs[i],
            locals[i],
            gobgp.port,
        ) + &format!(
            "\n[[route]]\nprefix = \"10.{}.0.0/16\"\nnext-hop = \"192.0.2.{}\"\n",
            100 + i,
            10 + i
        );
        let path = resolved_socket(name);
        assert!(
            std::fs::symlink_metadata(&path).is_err(),
            "socket of a fresh instance already there: {}",
            path.display()
        );
        let d = Daemon::start(&dir.path, name, &cfg, Some(bind));
        assert_eq!(d.path(), path);
        daemons.push(d);
        binds.push(bind);
    }
    // Eight distinct socket paths, each the one `exabgp env` reports.
    let paths: BTreeSet<PathBuf> = daemons.iter().map(|d| d.path().to_path_buf()).collect();
    assert_eq!(paths.len(), 8, "socket paths shared: {paths:?}");
    for d in &mut daemons {
        d.wait_serving();
        assert!(
            is_socket(d.path()),
            "{} is not a socket",
            d.path().display()
        );
        assert_eq!(
            d.path().file_name().and_then(|f| f.to_str()),
            Some(format!("{}.sock", d.name).as_str())
        );
    }

    // Real sessions, all eight, from each daemon's own address.
    for (i, l) in locals.iter().enumerate() {
        assert!(
            gobgp.wait_established(*l, WAIT),
            "daemon {i} ({l}) not established; its log:\n{}\ngobgpd log:\n{}",
            daemons[i].proc.log_text(),
            gobgp.proc.log_text()
        );
    }

    // Each CLI reaches its own daemon: its neighbor, its router-id, nobody else's.
    for (i, name) in names.iter().enumerate() {
        let mine = gobgp_addrs[i].to_string();
        let out = cli(name, &["--json", "show", "neighbor"]);
        assert_eq!(out.code, 0, "{out:?}");
        let n = neighbors_json(&out);
        assert_eq!(n.len(), 1, "{out:?}");
        assert_eq!(n[0]["peer-address"], mine.as_str(), "{name}: {out:?}");
        assert_eq!(n[0]["local-address"], locals[i].to_string().as_str());
        assert_eq!(n[0]["router-id"], format!("192.0.2.{}", 10 + i).as_str());
        let established = wait_for(WAIT, || {
            let out = cli(name, &["--json", "show", "neighbor"]);
            (out.code == 0 && neighbors_json(&out)[0]["state"] == "established").then_some(())
        });
        assert!(established.is_some(), "{name} never said established");
        let text = cli(name, &["show", "neighbor"]);
        let same = exabgp_cli(name, &["show", "neighbor"]);
        assert_eq!(text.code, 0, "{text:?}");
        assert_eq!(same.code, 0, "{same:?}");
        for (j, other) in gobgp_addrs.iter().enumerate() {
            let other = format!("Neighbor {other}\n");
            assert_eq!(text.stdout.contains(&other), i == j, "{name}: {text:?}");
            assert_eq!(same.stdout.contains(&other), i == j, "{name}: {same:?}");
        }
        // A route announced through this instance's CLI leaves from this daemon.
        let prefix = format!("10.{}.1.0/24", 100 + i);
        let nh = format!("192.0.2.{}", 10 + i);
        let args = [
            "announce",
            "route",
            prefix.as_str(),
            "next-hop",
            nh.as_str(),
        ];
        let out = if i % 2 == 0 {
            cli(name, &args)
        } else {
            exabgp_cli(name, &args)
        };
        assert_eq!(out.code, 0, "{out:?}");
    }
    for (i, l) in locals.iter().enumerate() {
        for prefix in [
            format!("10.{}.0.0/16", 100 + i),
            format!("10.{}.1.0/24", 100 + i),
        ] {
            let from = wait_for(WAIT, || {
                let f = learned_from(&gobgp, &prefix);
                (!f.is_empty()).then_some(f)
            });
            assert_eq!(
                from,
                Some(vec![l.to_string()]),
                "{prefix} should come from {l} only; gobgp rib: {}",
                gobgp.rib("ipv4")
            );
        }
    }

    // No shared port, no shared socket: what the kernel says each process holds.
    let listeners = tcp_listeners();
    let unix = unix_sockets();
    let held: Vec<HashSet<u64>> = daemons
        .iter()
        .map(|d| socket_inodes(d.proc.pid()))
        .collect();
    for (i, d) in daemons.iter().enumerate() {
        let on_port: Vec<&(SocketAddr, u64)> = listeners
            .iter()
            .filter(|(a, _)| a.port() == binds[i].port())
            .collect();
        assert!(
            on_port
                .iter()
                .any(|(a, ino)| *a == binds[i] && held[i].contains(ino)),
            "daemon {i} does not listen on {}: {on_port:?}",
            binds[i]
        );
        for (j, h) in held.iter().enumerate() {
            if j != i {
                assert!(
                    on_port.iter().all(|(_, ino)| !h.contains(ino)),
                    "daemons {i} and {j} share port {}",
                    binds[i].port()
                );
            }
        }
        let bound: Vec<u64> = unix
            .iter()
            .filter(|(_, p)| p == d.path())
            .map(|(ino, _)| *ino)
            .collect();
        assert!(
            bound.iter().any(|ino| held[i].contains(ino)),
            "daemon {i} holds no socket bound to {}",
            d.path().display()
        );
        for (j, h) in held.iter().enumerate() {
            if j != i {
                assert!(bound.iter().all(|ino| !h.contains(ino)), "{i} / {j}");
            }
        }
        // And the port is really taken (no SO_REUSEPORT).
        let e = std::net::TcpListener::bind(binds[i]).expect_err("the BGP port is held");
        assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse);
    }

    // A second daemon with the same name is refused and touches nothing.
    let first_inode = inode(daemons[0].path());
    let extra = addr(0, 30);
    let dup_dir = dir.subdir("duplicate");
    let mut dup = spawn_server(
        &dup_dir,
        &names[0],
        &daemon_config("192.0.2.99", gobgp_addrs[0], extra, gobgp.port),
        Some(free_addr(extra)),
    );
    let status = dup.wait_exit(WAIT).map(|s| s.code());
    let log = dup.log_text();
    assert_eq!(status, Some(Some(69)), "duplicate not refused: {log}");
    let expected = format!(
        "another instance is already running on {}",
        daemons[0].path().display()
    );
    assert!(log.contains(&expected), "{log}");
    assert!(daemons[0].proc.alive(), "the first instance died");
    assert_eq!(
        inode(daemons[0].path()),
        first_inode,
        "socket file replaced"
    );
    let out = cli(&names[0], &["--json", "show", "neighbor"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(neighbors_json(&out)[0]["state"], "established");

    // SIGTERM: exit 0, socket gone, the CLI finds nobody.
    for (i, d) in daemons.iter_mut().enumerate() {
        assert_eq!(d.terminate(), Some(0), "daemon {i}: {}", d.proc.log_text());
        assert!(
            std::fs::symlink_metadata(d.path()).is_err(),
            "{} still there",
            d.path().display()
        );
        let out = cli(&d.name, &["show", "neighbor"]);
        assert_eq!(out.code, 69, "{out:?}");
    }
    assert!(
        wait_for(WAIT, || (!gobgp.established(locals[0])).then_some(())).is_some(),
        "gobgpd still sees the session"
    );
}

/// The operator's usual mistake: the very same instance started twice, same
/// configuration, same environment (so the same BGP port). docs/api.md and
/// DESIGN.md promise "another instance is already running on PATH", exit 69,
/// touching nothing; the BGP port is bound before the control socket is probed,
/// so the second one fails on the port (exit 71) instead.
#[test]
fn same_instance_twice_same_port_is_refused_as_running() {
    let dir = TestDir::new("e2e-twice");
    let name = instance_name("twice");
    let local = addr(2, 10);
    let bind = free_addr(local);
    let mut first = Daemon::start(&dir.path, &name, PASSIVE_ONLY, Some(bind));
    first.wait_serving();
    let again_dir = dir.subdir("again");
    let mut again = spawn_server(&again_dir, &name, PASSIVE_ONLY, Some(bind));
    let status = again.wait_exit(WAIT).map(|s| s.code());
    let log = again.log_text();
    assert_eq!(status, Some(Some(69)), "{log}");
    assert!(
        log.contains(&format!(
            "another instance is already running on {}",
            first.path().display()
        )),
        "{log}"
    );
    assert!(first.proc.alive());
    assert!(holds_unix_path(first.proc.pid(), first.path()));
}
