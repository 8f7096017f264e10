//! End to end with the real daemon core: eight instances side by side, each
//! reached by its own `exabgpcli --instance`, sharing no socket and no port; and a
//! Python helper written the ExaBGP way that changes what a real gobgpd holds.
//!
//! Here the real core and control socket wired in this process by `daemon::serve`, the
//! function production runs (support::inproc::Instance). The same behaviour through the built binaries, with
//! instance names resolved as in production, is checked in e2e_instance_names.rs
//! and e2e_helper_and_cli_drive_gobgpd.rs.

mod support;

use std::net::{IpAddr, TcpListener};
use std::path::Path;
use std::process::Command as Proc;
use std::time::Duration;

use exabgp::api::{self, BindError};
use support::binary::exabgpcli_bin;
use support::inproc::Instance;
use support::{gobgp_setup, loopback_addr, wait_for, ExaConfig, TestDir, WAIT};

fn run_cli(slash: &Path, instance: &str, args: &[&str]) -> (i32, String, String) {
    let out = Proc::new(exabgpcli_bin())
        .args(["--instance", instance, "--system-prefix"])
        .arg(slash)
        .arg("--root")
        .arg(slash.join("no-root"))
        .args(args)
        .env_remove("exabgp_api_socketpath")
        .env_remove("exabgp_api_socketname")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `exabgpcli --socket SOCK ARGS...`.
fn run_cli_socket(sock: &Path, args: &[&str]) -> std::process::Output {
    Proc::new(exabgpcli_bin())
        .arg("--socket")
        .arg(sock)
        .args(args)
        .output()
        .unwrap()
}

fn config(i: usize) -> String {
    ExaConfig::new(65001)
        .passive(format!("192.0.2.{}", 10 + i), 65100 + i as u32)
        .build()
}

#[test]
fn eight_instances_each_cli_reaches_its_own() {
    let dir = TestDir::new("api-eight");
    let slash = dir.path.join("slash");
    std::fs::create_dir_all(slash.join("run/exabgp")).unwrap();
    let ip: IpAddr = loopback_addr(61).into();
    let mut instances = Vec::new();
    let mut ports = Vec::new();
    for i in 0..8 {
        let cfg = exabgp::config::parse_str(&config(i), "test.toml").unwrap();
        let listener = TcpListener::bind((ip, 0)).unwrap();
        ports.push(listener.local_addr().unwrap().port());
        let sock = api::bind_control_socket(&slash.join(format!("run/exabgp/edge{i}.sock")), None)
            .unwrap();
        instances.push(Instance::start(
            cfg,
            api::ControlEndpoint::Bound(sock),
            vec![listener],
        ));
    }
    let mut distinct = ports.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 8, "eight BGP ports: {ports:?}");
    for (i, port) in ports.iter().enumerate() {
        // The port is really held (no SO_REUSEPORT: a second listener is refused).
        let e = TcpListener::bind((ip, *port)).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse, "instance {i}");
        // And so is the control socket.
        let e = api::bind_control_socket(&slash.join(format!("run/exabgp/edge{i}.sock")), None)
            .unwrap_err();
        assert!(matches!(e, BindError::AlreadyRunning { .. }), "{e}");
    }
    for i in 0..8 {
        let (code, out, err) =
            run_cli(&slash, &format!("edge{i}"), &["--json", "show", "neighbor"]);
        assert_eq!(code, 0, "edge{i}: {out} {err}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 1, "{out}");
        assert_eq!(
            v[0]["peer-address"],
            format!("192.0.2.{}", 10 + i),
            "edge{i} answered for another: {out}"
        );
        assert_eq!(v[0]["peer-as"], 65100 + i as u64);
        let (code, out, _) = run_cli(
            &slash,
            &format!("edge{i}"),
            &[
                "announce",
                "route",
                &format!("10.{i}.0.0/16"),
                "next-hop",
                "192.0.2.1",
            ],
        );
        assert_eq!(code, 0, "{out}");
    }
    // Each instance holds only the route announced to it.
    for i in 0..8 {
        let (code, out, _) = run_cli(&slash, &format!("edge{i}"), &["show", "adj-rib", "out"]);
        assert_eq!(code, 0, "{out}");
        for j in 0..8 {
            assert_eq!(
                out.contains(&format!("10.{j}.0.0/16")),
                i == j,
                "edge{i}: {out}"
            );
        }
        let (code, out, _) = run_cli(&slash, &format!("edge{i}"), &["teardown", "192.0.2.250"]);
        assert_eq!(code, 1, "error for an unknown neighbor exits 1: {out}");
    }
    // Stop them with the CLI; their sockets go away with them.
    for (i, inst) in instances.into_iter().enumerate() {
        let (code, out, err) = run_cli(&slash, &format!("edge{i}"), &["shutdown"]);
        assert_eq!(code, 0, "{out} {err}");
        inst.join();
        assert!(!slash.join(format!("run/exabgp/edge{i}.sock")).exists());
        let (code, _, err) = run_cli(&slash, &format!("edge{i}"), &["show", "neighbor"]);
        assert_eq!(code, 69);
        assert!(
            err.contains(&format!("is exabgp@edge{i} running?")),
            "{err}"
        );
    }
}

/// A helper written the ExaBGP way (JSON events on stdin, commands on stdout)
/// reacts to the session coming up and to a route the peer sends; gobgpd's RIB
/// shows the result.
#[test]
fn python_helper_drives_a_real_gobgpd() {
    let (dir, exa_ip, gobgp) = gobgp_setup("api-helper", 62, 65001, 65000, &["ipv4-unicast"]);
    let helper = dir.path.join("healthcheck.py");
    let seen_log = dir.path.join("helper-seen.log");
    std::fs::write(
        &helper,
        format!(
            r##"#!/usr/bin/env python3
# An ExaBGP-style helper: JSON events in, text commands out.
import json, sys
log = open({seen_log:?}, "a")
announced = False
for line in sys.stdin:
    line = line.strip()
    if line in ("done",) or line.startswith("error"):
        log.write("ack " + line + "\n"); log.flush()
        continue
    msg = json.loads(line)
    log.write(msg["type"] + "\n"); log.flush()
    if msg["type"] == "state" and msg["neighbor"]["state"] == "up" and not announced:
        announced = True
        sys.stdout.write("announce route 203.0.113.7/32 next-hop 192.0.2.10 med 42 community [65000:7]\n")
        sys.stdout.flush()
    if msg["type"] == "update":
        ann = msg["neighbor"]["message"].get("update", {{}}).get("announce", {{}})
        for nh, routes in ann.get("ipv4 unicast", {{}}).items():
            if any(r["nlri"] == "10.99.0.0/24" for r in routes):
                sys.stdout.write("withdraw route 203.0.113.7/32\n")
                sys.stdout.write("announce route 203.0.113.8/32 next-hop 192.0.2.10\n")
                sys.stdout.flush()
"##
        ),
    )
    .unwrap();
    let cfg_text = gobgp
        .exabgp_config(65001, exa_ip)
        .line("hold-time = 30")
        .line(&format!(
            r#"
[[process]]
name = "healthcheck"
run = ["python3", "-u", "{}"]
encoder = "json"
receive = ["update", "state"]"#,
            helper.display()
        ))
        .build();
    let cfg = exabgp::config::parse_str(&cfg_text, "helper.toml").unwrap();
    // main's path: settings -> prepare_control (resolution + bind).
    let sock_path = dir.path.join("helper.sock");
    let settings = exabgp::config::Settings::load(
        None,
        vec![(
            "exabgp_api_socketpath".to_string(),
            sock_path.display().to_string(),
        )],
        &[],
        Some("helper"),
    )
    .unwrap();
    let endpoint = api::prepare_control(&settings, None, None)
        .unwrap()
        .unwrap();
    let inst = Instance::start(cfg, endpoint, vec![]);
    assert!(
        gobgp.wait_established(exa_ip, WAIT),
        "session not established; gobgpd log:\n{}",
        gobgp.proc.log_text()
    );
    let attrs =
        wait_for(WAIT, || gobgp.route_attrs("ipv4", "203.0.113.7/32")).unwrap_or_else(|| {
            panic!(
                "the helper's route did not reach gobgpd; helper saw:\n{}",
                std::fs::read_to_string(&seen_log).unwrap_or_default()
            )
        });
    assert_eq!(
        support::gobgp_attr(&attrs, 4)
            .and_then(|a| a.get("metric"))
            .and_then(|m| m.as_u64()),
        Some(42),
        "{attrs:?}"
    );
    let comm = support::gobgp_attr(&attrs, 8).expect("communities");
    assert_eq!(
        comm["communities"],
        serde_json::json!([65000u64 * 65536 + 7]),
        "{attrs:?}"
    );
    // gobgpd sends us a route: the helper sees it and swaps its announcement.
    gobgp.add_route("10.99.0.0/24", "ipv4", "192.0.2.99", &[]);
    let swapped = wait_for(WAIT, || {
        let rib = gobgp.rib("ipv4");
        (rib.get("203.0.113.8/32").is_some() && rib.get("203.0.113.7/32").is_none()).then_some(())
    });
    assert!(
        swapped.is_some(),
        "helper did not react; helper saw:\n{}\ngobgp rib: {}",
        std::fs::read_to_string(&seen_log).unwrap_or_default(),
        gobgp.rib("ipv4")
    );
    let seen = std::fs::read_to_string(&seen_log).unwrap();
    assert!(seen.contains("ack done"), "acks reach the helper: {seen}");
    // The control socket of this instance answers with the peer's state.
    let out = run_cli_socket(&sock_path, &["show", "neighbor", "extensive"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("established"), "{text}");
    // With exabgp_api_cli=false there is no socket at all.
    let off = exabgp::config::Settings::load(
        None,
        vec![("exabgp_api_cli".to_string(), "false".to_string())],
        &[],
        None,
    )
    .unwrap();
    assert!(api::prepare_control(&off, None, None).unwrap().is_none());
    drop(inst);
}

/// Abuse of the control socket with the real daemon and a real peer: 1000 clients
/// at once, a 1 MiB line, binary garbage, clients vanishing mid-command. The BGP
/// session stays up, nothing half-sent is run, and the socket still serves.
#[test]
fn abuse_of_the_socket_does_not_hurt_the_daemon() {
    let (dir, exa_ip, gobgp) = gobgp_setup("api-abuse", 64, 65001, 65000, &["ipv4-unicast"]);
    let cfg_text = gobgp
        .exabgp_config(65001, exa_ip)
        .line("hold-time = 30")
        .build();
    let cfg = exabgp::config::parse_str(&cfg_text, "abuse.toml").unwrap();
    let sock_path = dir.path.join("abuse.sock");
    let sock = api::bind_control_socket(&sock_path, None).unwrap();
    let _inst = Instance::start(cfg, api::ControlEndpoint::Bound(sock), vec![]);
    assert!(
        gobgp.wait_established(exa_ip, WAIT),
        "{}",
        gobgp.proc.log_text()
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let count = rt.block_on(async {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
        let mut tasks = Vec::new();
        for i in 0..1000u32 {
            let p = sock_path.clone();
            tasks.push(tokio::spawn(async move {
                let Ok(s) = tokio::net::UnixStream::connect(&p).await else {
                    return "refused";
                };
                let (r, mut w) = s.into_split();
                match i % 4 {
                    // Vanish in the middle of a command.
                    0 => {
                        let _ = w.write_all(b"announce route 10.66.0.0/16 next-").await;
                        return "vanished";
                    }
                    1 => {
                        let _ = w.write_all(&[0xff, 0x00, 0xfe, b'\n']).await;
                    }
                    _ => {
                        let _ = w.write_all(b"show neighbor summary\n").await;
                    }
                }
                let mut r = tokio::io::BufReader::new(r);
                for _ in 0..10 {
                    let mut l = String::new();
                    if r.read_line(&mut l).await.unwrap_or(0) == 0 {
                        return "no answer";
                    }
                    if l == "done\n" || l.starts_with("error:") {
                        return "answered";
                    }
                }
                "no answer"
            }));
        }
        // One client sends 1 MiB on one line in the middle of it all.
        // A non-blocking connect to a Unix socket whose backlog is full fails with
        // EAGAIN at once (the 1000 clients above fill it): retry, bounded.
        let mut big = None;
        for _ in 0..400 {
            match tokio::net::UnixStream::connect(&sock_path).await {
                Ok(s) => {
                    big = Some(s);
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    tokio::time::sleep(Duration::from_millis(50)).await
                }
                Err(e) => panic!("connect: {e}"),
            }
        }
        let mut big = big.expect("the listen backlog drained within 20 s");
        let mut line = vec![b'z'; 1024 * 1024];
        line.push(b'\n');
        big.write_all(&line).await.unwrap();
        let mut r = tokio::io::BufReader::new(big);
        let mut l = String::new();
        r.read_line(&mut l).await.unwrap();
        assert_eq!(l, "error: line too long (1048576 bytes, limit 65536)\n");
        let mut count = std::collections::BTreeMap::new();
        for t in tasks {
            let k = tokio::time::timeout(Duration::from_secs(120), t)
                .await
                .unwrap()
                .unwrap();
            *count.entry(k).or_insert(0u32) += 1;
        }
        count
    });
    eprintln!("abuse: {count:?}");
    assert_eq!(
        count.get("no answer"),
        None,
        "every client that got in and asked was answered: {count:?}"
    );
    assert!(count.get("answered").copied().unwrap_or(0) > 0, "{count:?}");
    assert!(gobgp.established(exa_ip), "the BGP session stayed up");
    let out = run_cli_socket(&sock_path, &["show", "adj-rib", "out"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("10.66.0.0/16"),
        "a half-sent command was run"
    );
    let out = run_cli_socket(
        &sock_path,
        &[
            "announce",
            "route",
            "10.67.0.0/16",
            "next-hop",
            "192.0.2.10",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(wait_for(WAIT, || gobgp.route_attrs("ipv4", "10.67.0.0/16")).is_some());
}
