//! End to end with the built binaries only: `exabgp server` processes found by their
//! instance name (the control socket path resolved as DESIGN.md says, never
//! configured), `exabgpcli` / `exabgp cli` talking to them, real gobgpd peers, a
//! Python helper written the ExaBGP way, and `exabgp env`.
//!
//! Every process is killed and every socket file removed when a test ends, also
//! when it fails (Drop guards). Names carry our pid so concurrent runs never meet.

mod support;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;
use std::time::Duration;

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

/// A socket file at the resolved path with nobody listening is stale: the daemon
/// removes it, binds its own and serves.
#[test]
fn stale_socket_is_replaced() {
    let dir = TestDir::new("e2e-stale");
    let name = instance_name("stale");
    let path = resolved_socket(&name);
    let _guard = SocketGuard(path.clone());
    assert!(
        std::fs::symlink_metadata(&path).is_err(),
        "{} exists before the test",
        path.display()
    );
    drop(std::os::unix::net::UnixListener::bind(&path).expect("bind the stale socket"));
    assert!(is_socket(&path), "the stale socket file stays after close");
    let e = std::os::unix::net::UnixStream::connect(&path).expect_err("nobody listens");
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
    // Marked so that its replacement shows (inode numbers are reused at once).
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).unwrap();
    // The CLI says nobody is there, at that path.
    let out = cli(&name, &["show", "neighbor"]);
    assert_eq!(out.code, 69, "{out:?}");
    assert!(out.stderr.contains(&path.display().to_string()), "{out:?}");

    let mut d = Daemon::start(&dir.path, &name, PASSIVE_ONLY, None);
    assert_eq!(d.path(), path);
    d.wait_serving();
    let mode = std::fs::symlink_metadata(&path).unwrap().mode() & 0o777;
    assert_eq!(mode, 0o660, "the stale file (0700) was not replaced");
    assert!(
        holds_unix_path(d.proc.pid(), &path),
        "the daemon does not hold the socket at {}",
        path.display()
    );
    let out = cli(&name, &["--json", "show", "neighbor"]);
    assert_eq!(neighbors_json(&out)[0]["peer-address"], "192.0.2.200");
    assert!(
        d.proc.log_text().contains("stale"),
        "the removal is logged: {}",
        d.proc.log_text()
    );
    // An operator's idle client does not hold the daemon up on SIGTERM: after the
    // grace period for a last command it is told why, then sees EOF.
    let mut idle = std::os::unix::net::UnixStream::connect(&path).expect("connect");
    idle.set_read_timeout(Some(WAIT)).unwrap();
    assert_eq!(d.terminate(), Some(0), "{}", d.proc.log_text());
    let mut rest = Vec::new();
    // A connection still in the backlog (never accepted) is reset or sees EOF.
    match idle.read_to_end(&mut rest) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("no EOF: {e}"),
    }
    assert_eq!(
        String::from_utf8_lossy(&rest),
        "error: exabgp is stopping\n"
    );
    assert!(
        std::fs::symlink_metadata(&path).is_err(),
        "socket left behind"
    );
}

/// Splits an `exabgp env` report into settings (name -> (value, origin)) and the
/// socket section's lines.
fn parse_env(report: &str) -> (BTreeMap<String, (String, String)>, Vec<String>) {
    let (settings, socket) = report
        .split_once("\n\n")
        .unwrap_or_else(|| panic!("no blank line before the socket section:\n{report}"));
    let mut map = BTreeMap::new();
    for line in settings.lines() {
        if line.starts_with("# warning:") {
            continue;
        }
        let (kv, origin) = line
            .split_once("    # ")
            .unwrap_or_else(|| panic!("no origin on: {line}"));
        let (k, v) = kv
            .split_once('=')
            .unwrap_or_else(|| panic!("not name=value: {line}"));
        map.insert(k.to_string(), (v.to_string(), origin.to_string()));
    }
    (map, socket.lines().map(str::to_string).collect())
}

/// The candidates skipped before the first usable one, computed from the real
/// filesystem (as root every existing directory is writable), and that one.
fn expected_skips(uid: u32) -> (Vec<String>, PathBuf) {
    let mut skipped = Vec::new();
    for d in [
        "/run/exabgp".to_string(),
        format!("/run/{uid}"),
        "/run".to_string(),
        "/var/run/exabgp".to_string(),
        format!("/var/run/{uid}"),
        "/var/run".to_string(),
    ] {
        match std::fs::metadata(&d) {
            Ok(m) if m.is_dir() => return (skipped, PathBuf::from(d)),
            Ok(_) => skipped.push(format!("  skipped {d}: is not a directory")),
            Err(_) => skipped.push(format!("  skipped {d}: does not exist")),
        }
    }
    panic!("no usable run directory on this machine: {skipped:?}");
}

/// `exabgp env`: every setting with its origin (default, environment, file:line),
/// precedence environment > file > default, and the socket report with the skipped
/// candidates.
#[test]
fn env_reports_origins_and_socket_candidates() {
    let dir = TestDir::new("e2e-env");
    let name = instance_name("env");
    let uid = nix::unistd::geteuid().as_raw();
    assert_eq!(uid, 0, "these tests expect to run as root");
    let (skips, usable) = expected_skips(uid);

    // Defaults only.
    let plain = exabgp_env(&name, None, &[]).stdout;
    let (settings, socket) = parse_env(&plain);
    assert!(settings.len() >= 10, "too few settings: {plain}");
    for (k, (_, origin)) in &settings {
        assert!(k.starts_with("exabgp."), "{k}");
        assert_eq!(origin, "default", "{k} in:\n{plain}");
    }
    assert_eq!(settings["exabgp.api.socketname"].0, name);
    assert_eq!(settings["exabgp.tcp.port"].0, "179");
    let chosen = usable.join(format!("{name}.sock"));
    assert_eq!(
        socket[0],
        format!(
            "control socket: {} (first usable directory)",
            chosen.display()
        ),
        "{plain}"
    );
    assert_eq!(socket[1..].to_vec(), skips, "skipped candidates:\n{plain}");

    // An env file plus the environment: each setting says where it came from.
    let file = dir.path.join(format!("{name}.env"));
    std::fs::write(
        &file,
        format!(
            "# written by the test\nexabgp_tcp_port=1790\nexabgp.api.ack=false\n\nexabgp_log_level=WARNING\nexabgp_api_socketname={name}-custom\n"
        ),
    )
    .unwrap();
    let out = exabgp_env(
        &name,
        Some(&file),
        &[
            ("exabgp_log_level", "DEBUG"),
            ("exabgp.daemon.user", "nobody"),
        ],
    )
    .stdout;
    let (settings, socket) = parse_env(&out);
    let f = file.display().to_string();
    let origin = |k: &str| settings[k].1.clone();
    let value = |k: &str| settings[k].0.clone();
    assert_eq!(
        (value("exabgp.tcp.port"), origin("exabgp.tcp.port")),
        ("1790".into(), format!("{f}:2"))
    );
    assert_eq!(origin("exabgp.api.ack"), format!("{f}:3"), "{out}");
    assert_eq!(value("exabgp.api.ack"), "false");
    // The environment wins over the file.
    assert_eq!(origin("exabgp.log.level"), "environment", "{out}");
    assert!(
        value("exabgp.log.level").eq_ignore_ascii_case("debug"),
        "{out}"
    );
    assert_eq!(
        (value("exabgp.daemon.user"), origin("exabgp.daemon.user")),
        ("nobody".into(), "environment".into())
    );
    assert_eq!(origin("exabgp.api.socketname"), format!("{f}:6"));
    assert_eq!(origin("exabgp.daemon.drop"), "default");
    assert_eq!(
        reported_socket(&out),
        usable.join(format!("{name}-custom.sock")),
        "{out}"
    );
    assert_eq!(socket[1..].to_vec(), skips, "{out}");
    for (k, (_, o)) in &settings {
        assert!(
            o == "default" || o == "environment" || o.starts_with(&format!("{f}:")),
            "{k}: origin {o}"
        );
    }

    // The same search below another prefix, where every kind of skip shows.
    let slash = dir.path.join("slash");
    std::fs::create_dir_all(slash.join("run")).unwrap();
    std::fs::write(slash.join("run/exabgp"), "not a directory").unwrap();
    let mut cmd = hermetic(exabgpcli_bin());
    cmd.args(["--instance", &name, "--which", "--system-prefix"])
        .arg(&slash)
        .arg("--root")
        .arg(dir.path.join("no-root"));
    let which = run(cmd, COMMAND_TIMEOUT);
    assert_eq!(which.code, 0, "{which:?}");
    let lines: Vec<&str> = which.stdout.lines().collect();
    assert_eq!(
        lines,
        vec![
            format!(
                "control socket: {} (first usable directory)",
                slash.join(format!("run/{name}.sock")).display()
            ),
            format!(
                "  skipped {}: is not a directory",
                slash.join("run/exabgp").display()
            ),
            format!(
                "  skipped {}: does not exist",
                slash.join("run/0").display()
            ),
        ],
        "{which:?}"
    );
}

/// The CLI with no daemon: exit 69 and a message naming the instance and the path,
/// whether the socket file is missing or stale.
#[test]
fn cli_without_daemon_exits_69() {
    let name = instance_name("none");
    let path = resolved_socket(&name);
    let _guard = SocketGuard(path.clone());
    let expected = format!(
        "no exabgp instance '{name}' at {} — is exabgp@{name} running?",
        path.display()
    );
    for out in [
        cli(&name, &["show", "neighbor"]),
        exabgp_cli(&name, &["show", "neighbor"]),
    ] {
        assert_eq!(out.code, 69, "{out:?}");
        assert!(out.stderr.contains(&expected), "{out:?}");
        assert!(out.stdout.is_empty(), "{out:?}");
    }
    drop(std::os::unix::net::UnixListener::bind(&path).expect("bind a stale socket"));
    let out = cli(&name, &["show", "neighbor"]);
    assert_eq!(out.code, 69, "{out:?}");
    assert!(out.stderr.contains(&expected), "{out:?}");
    assert!(is_socket(&path), "the client must not remove anything");
}

/// The helper the ExaBGP way: JSON events on stdin, `announce`/`withdraw` on stdout.
const HELPER: &str = r#"#!/usr/bin/env python3
import json, os, sys
log = open(sys.argv[1], "a")
log.write("pid %d\n" % os.getpid()); log.flush()
announced = withdrawn = False
while True:
    line = sys.stdin.readline()
    if not line:
        break
    line = line.strip()
    if not line:
        continue
    try:
        msg = json.loads(line)
    except ValueError:
        log.write("answer " + line + "\n"); log.flush()
        continue
    kind = msg.get("type")
    neighbor = msg.get("neighbor", {})
    log.write("event %s %s\n" % (kind, neighbor.get("state", "")))
    log.write("from %s %s\n" % (msg.get("exabgp"), msg.get("pid"))); log.flush()
    if kind == "state" and neighbor.get("state") == "up" and not announced:
        announced = True
        sys.stdout.write("announce route 203.0.113.10/32 next-hop 192.0.2.10 med 10\n")
        sys.stdout.write("announce route 203.0.113.11/32 next-hop 192.0.2.10 community [65000:11]\n")
        sys.stdout.flush()
    if kind == "update" and not withdrawn:
        update = neighbor.get("message", {}).get("update", {})
        for routes in update.get("announce", {}).get("ipv4 unicast", {}).values():
            if any(r.get("nlri") == "10.99.0.0/24" for r in routes):
                withdrawn = True
                log.write("withdrawing\n"); log.flush()
                sys.stdout.write("withdraw route 203.0.113.11/32\n")
                sys.stdout.flush()
"#;

/// A Python helper and the CLI change what a real gobgpd holds; a malformed command
/// is refused with exit 1 and changes nothing.
#[test]
fn python_helper_and_cli_drive_gobgpd() {
    let dir = TestDir::new("e2e-helper");
    let local = addr(1, 10);
    let peer = addr(1, 100);
    let gobgp = Gobgp::with_peer(&dir.path, peer, 65000, local, 65001, &["ipv4-unicast"]);
    let (helper, helper_log) = write_helper(&dir.path, "helper", HELPER);
    let name = instance_name("helper");
    let cfg = daemon_config("192.0.2.1", peer, local, gobgp.port)
        + &helper_process(
            "announcer",
            &helper,
            &helper_log,
            "json",
            "\"update\", \"state\"",
        );
    let bind = free_addr(local);
    let mut d = Daemon::start(&dir.path, &name, &cfg, Some(bind));
    let seen = || std::fs::read_to_string(&helper_log).unwrap_or_default();
    assert!(
        gobgp.wait_established(local, WAIT),
        "no session; daemon log:\n{}",
        d.proc.log_text()
    );
    let both = wait_for(WAIT, || {
        let p = rib_prefixes(&gobgp);
        (p.contains("203.0.113.10/32") && p.contains("203.0.113.11/32")).then_some(())
    });
    assert!(
        both.is_some(),
        "the helper's routes did not arrive; helper saw:\n{}\ndaemon log:\n{}",
        seen(),
        d.proc.log_text()
    );
    let attrs = gobgp.route_attrs("ipv4", "203.0.113.10/32").unwrap();
    assert_eq!(
        support::gobgp_attr(&attrs, 4).and_then(|a| a["metric"].as_u64()),
        Some(10),
        "{attrs:?}"
    );
    let attrs = gobgp.route_attrs("ipv4", "203.0.113.11/32").unwrap();
    assert_eq!(
        support::gobgp_attr(&attrs, 8).map(|a| a["communities"].clone()),
        Some(serde_json::json!([65000u64 * 65536 + 11])),
        "{attrs:?}"
    );

    // gobgpd sends a route: the helper sees the JSON update and withdraws one.
    gobgp.add_route("10.99.0.0/24", "ipv4", "192.0.2.99", &[]);
    let gone = wait_for(WAIT, || {
        let p = rib_prefixes(&gobgp);
        (!p.contains("203.0.113.11/32")).then_some(p)
    });
    let p = gone.unwrap_or_else(|| {
        panic!(
            "203.0.113.11/32 not withdrawn; helper saw:\n{}\ngobgp rib: {}",
            seen(),
            gobgp.rib("ipv4")
        )
    });
    assert!(
        p.contains("203.0.113.10/32"),
        "the other route stays: {p:?}"
    );
    let s = seen();
    assert!(s.contains("withdrawing"), "{s}");
    assert!(s.contains("answer done"), "acks reach the helper: {s}");
    assert!(s.contains("event state up"), "{s}");
    let origin = format!("from 5.0.0 {}", d.proc.pid());
    assert!(
        s.lines()
            .filter(|l| l.starts_with("from "))
            .all(|l| l == origin),
        "events name the API version and the daemon's pid ({origin}): {s}"
    );

    // The CLI announces and withdraws.
    let out = cli(
        &name,
        &[
            "announce",
            "route",
            "198.51.100.0/24",
            "next-hop",
            "192.0.2.10",
            "med",
            "77",
        ],
    );
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{out:?}");
    let attrs = wait_for(WAIT, || gobgp.route_attrs("ipv4", "198.51.100.0/24"))
        .unwrap_or_else(|| panic!("CLI route did not arrive: {}", gobgp.rib("ipv4")));
    assert_eq!(
        support::gobgp_attr(&attrs, 4).and_then(|a| a["metric"].as_u64()),
        Some(77)
    );
    let out = exabgp_cli(&name, &["withdraw", "route", "198.51.100.0/24"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        wait_for(WAIT, || (!rib_prefixes(&gobgp).contains("198.51.100.0/24"))
            .then_some(()))
        .is_some(),
        "CLI withdraw did not reach gobgpd: {}",
        gobgp.rib("ipv4")
    );

    // Malformed commands: `error: ...`, exit 1, nothing announced changes.
    let before = rib_prefixes(&gobgp);
    let out_before = cli(&name, &["show", "adj-rib", "out"]);
    assert_eq!(out_before.code, 0, "{out_before:?}");
    for bad in [
        vec!["announce", "route", "10.0.0.1/24", "next-hop", "192.0.2.10"],
        vec!["announce", "route", "10.1.0.0/16"],
        vec![
            "announce",
            "route",
            "10.2.0.0/16",
            "next-hop",
            "192.0.2.10",
            "med",
            "lots",
        ],
        vec!["withdraw", "route", "203.0.113.10/33"],
        vec!["frobnicate", "203.0.113.10/32"],
    ] {
        let out = cli(&name, &bad);
        assert_eq!(out.code, 1, "{bad:?}: {out:?}");
        assert!(out.stdout.starts_with("error: "), "{bad:?}: {out:?}");
        assert_eq!(out.stdout.lines().count(), 1, "{out:?}");
    }
    // A marker sent after them on the same session: once it is in, anything the
    // malformed commands had changed would be in too.
    let out = cli(
        &name,
        &[
            "announce",
            "route",
            "198.51.100.128/25",
            "next-hop",
            "192.0.2.10",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let after = wait_for(WAIT, || {
        let p = rib_prefixes(&gobgp);
        p.contains("198.51.100.128/25").then_some(p)
    })
    .expect("marker route");
    let mut expected = before.clone();
    expected.insert("198.51.100.128/25".to_string());
    assert_eq!(after, expected);
    let out_after = cli(&name, &["show", "adj-rib", "out"]);
    let added: Vec<&str> = out_after
        .stdout
        .lines()
        .filter(|l| !out_before.stdout.lines().any(|b| b == *l))
        .collect();
    assert!(
        added.len() == 1 && added[0].contains("198.51.100.128/25"),
        "adj-rib out changed beyond the marker: {added:?}"
    );

    // SIGTERM: exit 0, the helper stopped, the socket gone, the session down.
    let pid = *pids_in(&helper_log)
        .first()
        .expect("the helper logged its pid");
    assert_eq!(d.terminate(), Some(0), "{}", d.proc.log_text());
    assert!(std::fs::symlink_metadata(d.path()).is_err(), "socket left");
    let helper_gone = wait_for(Duration::from_secs(10), || process_gone(pid).then_some(()));
    assert!(helper_gone.is_some(), "helper {pid} still running");
    assert!(
        wait_for(WAIT, || (!gobgp.established(local)).then_some(())).is_some(),
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

/// A daemon killed with SIGKILL leaves its socket file behind; the same instance
/// started again on the same port removes it and serves.
#[test]
fn restart_after_sigkill_serves_again() {
    let dir = TestDir::new("e2e-sigkill");
    let name = instance_name("sigkill");
    let local = addr(3, 10);
    let bind = free_addr(local);
    let mut d = Daemon::start(&dir.path, &name, PASSIVE_ONLY, Some(bind));
    d.wait_serving();
    let path = d.path().to_path_buf();
    d.proc.signal(libc::SIGKILL);
    assert!(d.proc.wait_exit(WAIT).is_some(), "SIGKILL did not end it");
    assert!(is_socket(&path), "a killed daemon cannot remove its socket");
    let out = cli(&name, &["show", "neighbor"]);
    assert_eq!(out.code, 69, "{out:?}");
    drop(d);
    // The guard of the first one removed the file: put a stale one back, as the
    // crash left it.
    drop(std::os::unix::net::UnixListener::bind(&path).expect("stale socket"));
    let again_dir = dir.subdir("again");
    let mut d = Daemon::start(&again_dir, &name, PASSIVE_ONLY, Some(bind));
    d.wait_serving();
    assert!(holds_unix_path(d.proc.pid(), &path));
    assert!(tcp_listeners()
        .iter()
        .any(|(a, ino)| *a == bind && socket_inodes(d.proc.pid()).contains(ino)));
    assert_eq!(d.terminate(), Some(0), "{}", d.proc.log_text());
    assert!(std::fs::symlink_metadata(&path).is_err());
}
