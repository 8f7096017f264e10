//! End to end with the built binaries: the life of a running `exabgp server`
//! process with a real gobgpd peer: SIGHUP and CLI reloads, `restart`, helpers with
//! the text encoder, exabgpcli fed from a pipe, sd_notify on NOTIFY_SOCKET, the
//! respawn limit, and a helper that ignores SIGTERM.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use support::binary::*;
use support::conf::*;
use support::interop::*;
use support::net::*;
use support::{wait_for, Gobgp, Proc, TestDir, WAIT};

/// A helper that announces one route as soon as it starts (before any session is
/// up, as ExaBGP health checks do), logs its pid, and then only reads its stdin.
const KEEPER: &str = r#"#!/usr/bin/env python3
import os, sys
log = open(sys.argv[1], "a")
log.write("pid %d\n" % os.getpid()); log.flush()
sys.stdout.write("announce route 203.0.113.30/32 next-hop 192.0.2.10\n")
sys.stdout.flush()
while sys.stdin.readline():
    pass
"#;

fn reload_config(base: &str, helper: &Path, log: &Path, routes: &[(&str, u32)]) -> String {
    let mut s = base.to_string();
    for (prefix, med) in routes {
        s.push_str(&format!(
            "\n[[route]]\nprefix = \"{prefix}\"\nnext-hop = \"192.0.2.10\"\nmed = {med}\n"
        ));
    }
    s.push_str(&helper_process("keeper", helper, log, "json", "\"state\""));
    s
}

/// SIGHUP and the CLI's `reload` apply a changed file to the running process (only
/// the route differences, the session stays up, API routes stay); a broken file is
/// refused and the running configuration stays; `restart` bounces the session and
/// every route comes back; the helper is never restarted.
#[test]
fn sighup_and_cli_reload_change_what_gobgpd_holds() {
    let dir = TestDir::new("e2e-reload");
    let local = addr(4, 10);
    let peer = addr(4, 100);
    let gobgp = Gobgp::with_peer(&dir.path, peer, 65000, local, 65001, &["ipv4-unicast"]);
    let (helper, helper_log) = write_helper(&dir.path, "keeper", KEEPER);
    let base = daemon_config("192.0.2.1", peer, local, gobgp.port);
    let name = instance_name("reload");
    let v1 = reload_config(
        &base,
        &helper,
        &helper_log,
        &[("203.0.113.20/32", 20), ("203.0.113.21/32", 21)],
    );
    let mut d = Daemon::start(&dir.path, &name, &v1, None);
    let config_path = dir.path.join(format!("{name}.toml"));
    let has = |p: &str| rib_prefixes(&gobgp).contains(p);
    let daemon_log = d.proc.log.clone();
    let wait_rib = |what: &str, f: &dyn Fn(&BTreeSet<String>) -> bool| {
        let ok = wait_for(WAIT, || f(&rib_prefixes(&gobgp)).then_some(()));
        assert!(
            ok.is_some(),
            "{what}; gobgp rib: {}\ndaemon log:\n{}",
            gobgp.rib("ipv4"),
            std::fs::read_to_string(&daemon_log).unwrap_or_default()
        );
    };
    wait_rib("v1 routes and the helper's early route", &|p| {
        ["203.0.113.20/32", "203.0.113.21/32", "203.0.113.30/32"]
            .iter()
            .all(|x| p.contains(*x))
    });
    assert_eq!(med_of(&gobgp, "203.0.113.20/32"), Some(20));
    let out = cli(
        &name,
        &[
            "announce",
            "route",
            "198.51.100.64/26",
            "next-hop",
            "192.0.2.10",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    wait_rib("API route", &|p| p.contains("198.51.100.64/26"));

    // SIGHUP with a changed file: one med changed, one route gone, one new.
    let v2 = [("203.0.113.20/32", 25), ("203.0.113.22/32", 22)];
    std::fs::write(
        &config_path,
        reload_config(&base, &helper, &helper_log, &v2),
    )
    .unwrap();
    d.proc.signal(libc::SIGHUP);
    wait_rib("v2 applied", &|p| {
        p.contains("203.0.113.22/32") && !p.contains("203.0.113.21/32")
    });
    assert!(
        wait_for(WAIT, || (med_of(&gobgp, "203.0.113.20/32") == Some(25))
            .then_some(()))
        .is_some(),
        "med not updated: {}",
        gobgp.rib("ipv4")
    );
    assert!(has("198.51.100.64/26"), "the API route survives a reload");
    assert!(
        has("203.0.113.30/32"),
        "the helper's route survives a reload"
    );

    // A broken file: refused, logged, nothing changes, the daemon goes on.
    let before = rib_prefixes(&gobgp);
    std::fs::write(
        &config_path,
        reload_config(&base, &helper, &helper_log, &v2)
            .replace("hold-time = 30", "hold-time = \"soon\""),
    )
    .unwrap();
    d.proc.signal(libc::SIGHUP);
    assert!(
        d.proc.wait_log("configuration rejected", WAIT),
        "{}",
        d.proc.log_text()
    );
    assert!(d.proc.alive());
    let out = cli(&name, &["reload"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.starts_with("error: configuration not reloaded")
            && out.stdout.contains(&config_path.display().to_string()),
        "{out:?}"
    );
    assert_eq!(rib_prefixes(&gobgp), before);
    assert!(gobgp.established(local));

    // The CLI's reload with a fixed file.
    let v4 = [
        ("203.0.113.20/32", 25),
        ("203.0.113.22/32", 22),
        ("203.0.113.23/32", 23),
    ];
    std::fs::write(
        &config_path,
        reload_config(&base, &helper, &helper_log, &v4),
    )
    .unwrap();
    let out = exabgp_cli(&name, &["reload"]);
    assert_eq!(out.code, 0, "{out:?}");
    wait_rib("v4 applied", &|p| p.contains("203.0.113.23/32"));
    assert_eq!(
        notifications_received(&gobgp, local),
        0,
        "reloads that change only routes must not reset the session"
    );

    // restart: Cease (administrative reset), the session comes back with everything.
    let out = cli(&name, &["restart"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        wait_for(WAIT, || (notifications_received(&gobgp, local) >= 1)
            .then_some(()))
        .is_some(),
        "gobgpd got no Cease"
    );
    assert!(gobgp.wait_established(local, WAIT), "{}", d.proc.log_text());
    let all = [
        "203.0.113.20/32",
        "203.0.113.22/32",
        "203.0.113.23/32",
        "203.0.113.30/32",
        "198.51.100.64/26",
    ];
    wait_rib("everything back after restart", &|p| {
        all.iter().all(|x| p.contains(*x))
    });

    let pids = std::fs::read_to_string(&helper_log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("pid "))
        .count();
    assert_eq!(pids, 1, "the helper was restarted");
    assert_eq!(d.terminate(), Some(0), "{}", d.proc.log_text());
}

/// A helper with the text encoder: it gets `neighbor ... up` and `receive update
/// announced PREFIX ATTRIBUTES` lines, and sends the attribute text back as an
/// `announce route` (docs/api.md: that text is valid input for `announce route`).
const TEXT_ECHO: &str = r#"#!/usr/bin/env python3
import sys
log = open(sys.argv[1], "a")
marker = " receive update announced 10.98.0.0/24 "
echoed = False
while True:
    line = sys.stdin.readline()
    if not line:
        break
    line = line.rstrip("\n")
    log.write("got " + line + "\n"); log.flush()
    if marker in line and not echoed:
        echoed = True
        attrs = line.split(marker, 1)[1]
        log.write("echo " + attrs + "\n"); log.flush()
        sys.stdout.write("announce route 203.0.113.98/32 " + attrs + "\n")
        sys.stdout.flush()
"#;

/// The text encoder end to end, and exabgpcli reading commands from a pipe.
#[test]
fn text_helper_echo_and_cli_from_stdin() {
    let dir = TestDir::new("e2e-text");
    let local = addr(2, 20);
    let peer = addr(2, 120);
    let gobgp = Gobgp::with_peer(&dir.path, peer, 65000, local, 65001, &["ipv4-unicast"]);
    let (helper, helper_log) = write_helper(&dir.path, "echo", TEXT_ECHO);
    let name = instance_name("text");
    let cfg = daemon_config("192.0.2.1", peer, local, gobgp.port)
        + &helper_process(
            "echo",
            &helper,
            &helper_log,
            "text",
            "\"update\", \"state\"",
        );
    let d = Daemon::start(&dir.path, &name, &cfg, None);
    let seen = || std::fs::read_to_string(&helper_log).unwrap_or_default();
    assert!(gobgp.wait_established(local, WAIT), "{}", d.proc.log_text());
    assert!(
        wait_for(WAIT, || seen()
            .contains(&format!("got neighbor {peer} up"))
            .then_some(()))
        .is_some(),
        "no text 'up' event; helper saw:\n{}",
        seen()
    );
    gobgp.add_route(
        "10.98.0.0/24",
        "ipv4",
        "192.0.2.98",
        &["med", "5", "community", "65000:98"],
    );
    // The echo is answered `done` (the text parsed) and the route is held.
    let acked = wait_for(WAIT, || {
        let s = seen();
        let after = s.split_once("\necho ")?.1.to_string();
        after
            .lines()
            .any(|l| l.starts_with("got done") || l.starts_with("got error"))
            .then_some(after)
    })
    .unwrap_or_else(|| panic!("no answer to the echoed command; helper saw:\n{}", seen()));
    assert!(
        acked.lines().any(|l| l == "got done"),
        "the announced text was not accepted back: {acked}"
    );
    let out = cli(&name, &["show", "adj-rib", "out"]);
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("203.0.113.98/32"))
        .unwrap_or_else(|| panic!("echoed route not held: {out:?}"));
    assert!(line.contains("192.0.2.98"), "{line}");
    assert!(line.contains("med 5"), "{line}");
    assert!(line.contains("65000:98"), "{line}");

    // exabgpcli without a command and without a terminal: one command per line.
    let mut cmd = hermetic(exabgpcli_bin());
    cmd.args(["--timeout", "20", "--instance", &name]);
    let out = run_with_input(
        cmd,
        Some(
            "show neighbor summary\n# a comment\n\nannounce route 198.51.100.200/32 next-hop 192.0.2.10\nfrobnicate now\nannounce route 198.51.100.201/32 next-hop 192.0.2.10\n",
        ),
        COMMAND_TIMEOUT,
    );
    assert_eq!(out.code, 1, "one command failed: {out:?}");
    assert!(out.stdout.contains(&peer.to_string()), "{out:?}");
    assert_eq!(
        out.stdout
            .lines()
            .filter(|l| l.starts_with("error: "))
            .count(),
        1,
        "{out:?}"
    );
    let both = wait_for(WAIT, || {
        let p = rib_prefixes(&gobgp);
        (p.contains("198.51.100.200/32") && p.contains("198.51.100.201/32")).then_some(())
    });
    assert!(
        both.is_some(),
        "the commands around the bad one did not all run: {}",
        gobgp.rib("ipv4")
    );
}

/// A helper that ignores SIGTERM, dumps its environment, and never exits.
const STUBBORN: &str = r#"#!/usr/bin/env python3
import os, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
log = open(sys.argv[1], "a")
log.write("pid %d\n" % os.getpid())
log.write("env " + " ".join(sorted(os.environ)) + "\n")
blocked = [l.split()[1] for l in open("/proc/self/status") if l.startswith("SigBlk:")]
log.write("sigblk " + blocked[0] + "\n")
log.flush()
while True:
    time.sleep(1)
"#;

/// A helper that exits at once.
const FLAKY: &str = r#"#!/usr/bin/env python3
import os, sys
open(sys.argv[1], "a").write("pid %d\n" % os.getpid())
"#;

/// A NOTIFY_SOCKET of our own: what the daemon tells its service manager.
struct Notify {
    socket: std::os::unix::net::UnixDatagram,
    path: std::path::PathBuf,
    /// Every message so far, one per line.
    received: String,
}

impl Notify {
    fn bind(dir: &Path) -> Notify {
        let path = dir.join("notify.sock");
        let socket = std::os::unix::net::UnixDatagram::bind(&path).expect("bind notify");
        socket
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        Notify {
            socket,
            path,
            received: String::new(),
        }
    }

    /// Reads messages until one contains `needle` (bounded by WAIT).
    fn read_until(&mut self, needle: &str) -> bool {
        let deadline = Instant::now() + WAIT;
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline && !self.received.contains(needle) {
            if let Ok(n) = self.socket.recv(&mut buf) {
                self.received.push_str(&String::from_utf8_lossy(&buf[..n]));
                self.received.push('\n');
            }
        }
        self.received.contains(needle)
    }
}

/// The real binary under a service manager's eyes: READY=1 / STATUS= / STOPPING=1
/// on NOTIFY_SOCKET, helpers never see NOTIFY_SOCKET, a helper that keeps dying is
/// given up after its respawn limit, and one that ignores SIGTERM is killed on
/// shutdown (no orphan left).
#[test]
fn notify_respawn_limit_and_stubborn_helper() {
    let dir = TestDir::new("e2e-lifecycle");
    let mut notify = Notify::bind(&dir.path);
    let stubborn = dir.path.join("stubborn.py");
    let flaky = dir.path.join("flaky.py");
    std::fs::write(&stubborn, STUBBORN).unwrap();
    std::fs::write(&flaky, FLAKY).unwrap();
    let stubborn_log = dir.path.join("stubborn.log");
    let flaky_log = dir.path.join("flaky.log");
    let cfg = format!(
        "{PASSIVE_ONLY}\n[[process]]\nname = \"stubborn\"\nrun = [\"python3\", \"{}\", \"{}\"]\n\n[[process]]\nname = \"flaky\"\nrun = [\"python3\", \"{}\", \"{}\"]\nrespawn-limit = 2\nrespawn-window = 60\n",
        stubborn.display(),
        stubborn_log.display(),
        flaky.display(),
        flaky_log.display()
    );
    let name = instance_name("lifecycle");
    let sock = SocketGuard(resolved_socket(&name));
    let (mut cmd, log) = server_command(&dir.path, &name, &cfg);
    cmd.env("NOTIFY_SOCKET", &notify.path);
    let mut proc = Proc::spawn(&name, cmd, log);
    assert!(
        notify.read_until("READY=1"),
        "no READY=1: {:?}\n{}",
        notify.received,
        proc.log_text()
    );
    assert!(notify.received.contains("STATUS="), "{:?}", notify.received);
    assert!(
        proc.wait_log("HELPER GIVEN UP", WAIT),
        "{}",
        proc.log_text()
    );
    // Started once, respawned twice, then left alone.
    assert_eq!(pids_in(&flaky_log).len(), 3, "{}", proc.log_text());
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(pids_in(&flaky_log).len(), 3, "respawned after given up");

    let env = wait_for(WAIT, || {
        std::fs::read_to_string(&stubborn_log)
            .ok()?
            .lines()
            .find_map(|l| l.strip_prefix("env ").map(str::to_string))
    })
    .expect("the stubborn helper started");
    let vars: Vec<&str> = env.split(' ').collect();
    for v in ["NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "WATCHDOG_USEC"] {
        assert!(!vars.contains(&v), "{v} leaked to the helper: {env}");
    }
    assert!(vars.contains(&"PATH"), "{env}");
    // The daemon holds SIGTERM/SIGINT/SIGHUP blocked during startup; its helpers
    // must start with nothing blocked, or they could never be stopped by SIGTERM.
    let log = std::fs::read_to_string(&stubborn_log).unwrap_or_default();
    let sigblk = log.lines().find_map(|l| l.strip_prefix("sigblk "));
    assert_eq!(sigblk, Some("0000000000000000"), "{log}");
    let stubborn_pid = pids_in(&stubborn_log)[0];
    assert!(!process_gone(stubborn_pid));

    proc.signal(libc::SIGTERM);
    let status = proc.wait_exit(WAIT).map(|s| s.code());
    assert_eq!(status, Some(Some(0)), "{}", proc.log_text());
    assert!(notify.read_until("STOPPING=1"), "{:?}", notify.received);
    assert!(
        wait_for(Duration::from_secs(10), || process_gone(stubborn_pid)
            .then_some(()))
        .is_some(),
        "the helper that ignores SIGTERM outlived the daemon"
    );
    assert!(std::fs::symlink_metadata(&sock.0).is_err(), "socket left");
}

/// `shutdown` through the API also tells the service manager: STOPPING=1, exit 0.
#[test]
fn api_shutdown_says_stopping() {
    let dir = TestDir::new("e2e-api-shutdown");
    let mut notify = Notify::bind(&dir.path);
    let name = instance_name("apistop");
    let _sock = SocketGuard(resolved_socket(&name));
    let (mut cmd, log) = server_command(&dir.path, &name, PASSIVE_ONLY);
    cmd.env("NOTIFY_SOCKET", &notify.path);
    let mut proc = Proc::spawn(&name, cmd, log);
    assert!(
        notify.read_until("READY=1"),
        "no READY=1\n{}",
        proc.log_text()
    );
    let out = cli(&name, &["shutdown"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        notify.read_until("STOPPING=1"),
        "no STOPPING=1 after the API's shutdown\n{}",
        proc.log_text()
    );
    let status = proc.wait_exit(WAIT).map(|s| s.code());
    assert_eq!(status, Some(Some(0)), "{}", proc.log_text());
}

/// exabgpcli fed from a pipe: a line that is not UTF-8 is refused on its own (exit
/// status 1), the lines after it still run.
#[test]
fn cli_stdin_goes_on_after_a_line_that_is_not_utf8() {
    use std::io::Write;
    let dir = TestDir::new("e2e-cli-utf8");
    let name = instance_name("cliutf8");
    let mut d = Daemon::start(&dir.path, &name, PASSIVE_ONLY, None);
    d.wait_serving();
    let mut cmd = hermetic(exabgpcli_bin());
    cmd.args(["--timeout", "20", "--instance", &name])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("exabgpcli");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(b"announce route 10.1.0.0/24 next-hop 192.0.2.1\n# caf\xe9\nannounce route 10.2.0.0/24 next-hop 192.0.2.1\n")
        .unwrap();
    drop(input);
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output().unwrap();
    assert_eq!(status.and_then(|s| s.code()), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("line 2 is not UTF-8"),
        "{out:?}"
    );
    let rib = cli(&name, &["show", "adj-rib", "out"]);
    for p in ["10.1.0.0/24", "10.2.0.0/24"] {
        assert!(rib.stdout.contains(p), "{p} missing: {rib:?}");
    }
}
