//! Hostile local users, end to end with the built binaries: a control socket path
//! swapped for a symlink while the daemon binds, control clients that never read,
//! environment variables that are not UTF-8, a flood of unknown BGP connections,
//! and exabgpcli arguments meant to escape or overflow.
//!
//! Every process is killed and every file removed when a test ends (Drop guards).

mod support;

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use support::raw::{message, update_body, valid_attrs, RawPeer, RAW_AS};
use support::{free_port, Proc, TestDir};

const LOCALHOST: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
use support::binary::*;
use support::conf::*;
use support::net::*;

/// `cmd` run under strace, every chmod of the process delayed by `delay`: the
/// window between bind and the mode change, where an attacker swaps the path,
/// becomes seconds wide instead of microseconds, so the race is won every time.
fn under_strace_slow_chmod(cmd: &Command, delay: Duration) -> Command {
    let mut s = Command::new("strace");
    s.args(["-f", "-o", "/dev/null", "-e", "trace=chmod,fchmodat"])
        .arg("-e")
        .arg(format!(
            "inject=chmod,fchmodat:delay_enter={}",
            delay.as_micros()
        ))
        .arg("--")
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => s.env(k, v),
            None => s.env_remove(k),
        };
    }
    s
}

/// The traced program's pid (strace's child), so the test stops it, not strace.
fn traced_child(strace_pid: u32) -> Option<u32> {
    let path = format!("/proc/{strace_pid}/task/{strace_pid}/children");
    std::fs::read_to_string(path)
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Item 6: the daemon user owns the socket's directory and swaps the fresh socket
/// for a symlink to a file it wants opened up, between the daemon's bind and its
/// chmod. The file keeps its mode and owner, and the socket was never wider than
/// 0660 at any time it was visible.
#[test]
fn socket_swapped_for_a_symlink_changes_nothing() {
    assert!(
        Command::new("strace").arg("-V").output().is_ok(),
        "strace is needed (Debian package strace)"
    );
    let dir = TestDir::new("local-symlink");
    let rundir = dir.subdir("run");
    let sock = rundir.join("edge.sock");
    let victim = dir.path.join("victim");
    std::fs::write(&victim, "secret\n").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
    let before = std::fs::metadata(&victim).unwrap();

    let name = instance_name("symlink");
    let (mut cmd, log) = server_command(&dir.path, &name, PASSIVE_ONLY);
    cmd.env("exabgp_api_socketpath", &sock)
        .env("exabgp_tcp_bind", "127.0.0.1")
        .env("exabgp_tcp_port", free_port(LOCALHOST).to_string());
    let traced = under_strace_slow_chmod(&cmd, Duration::from_secs(3));
    let mut proc = Proc::spawn(&name, traced, log);
    let _guard = SocketGuard(sock.clone());

    // The attacker: as soon as the socket shows up, note its mode and put a
    // symlink to the victim in its place (rename: atomic).
    let planted = rundir.join("planted");
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let first_mode = loop {
        if let Ok(m) = std::fs::symlink_metadata(&sock) {
            if m.file_type().is_socket() {
                std::fs::rename(&planted, &sock).unwrap();
                break m.mode() & 0o7777;
            }
        }
        assert!(
            Instant::now() < deadline && proc.alive(),
            "the socket never appeared; log:\n{}",
            proc.log_text()
        );
        std::thread::sleep(Duration::from_millis(1));
    };
    // The daemon's delayed chmod has run (or it refused to go on): past the delay.
    std::thread::sleep(Duration::from_secs(5));
    if let Some(pid) = traced_child(proc.pid()) {
        // SAFETY: kill(2) on the pid of the daemon we started under strace.
        unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    }
    let _ = proc.wait_exit(Duration::from_secs(15));

    let after = std::fs::metadata(&victim).unwrap();
    assert_eq!(
        after.mode() & 0o7777,
        before.mode() & 0o7777,
        "the victim's mode was changed through the symlink; log:\n{}",
        proc.log_text()
    );
    assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
    assert_eq!(
        first_mode & !0o660,
        0,
        "the socket was visible with mode {first_mode:o}, wider than 0660"
    );
    // The symlink is still there: the daemon did not remove what is not its socket.
    assert!(is_symlink(&sock));
}

/// A pre-planted symlink at the socket path is refused and left alone.
#[test]
fn planted_symlink_is_refused() {
    let dir = TestDir::new("local-planted");
    let rundir = dir.subdir("run");
    let sock = rundir.join("edge.sock");
    let victim = dir.path.join("victim");
    std::fs::write(&victim, "secret\n").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::symlink(&victim, &sock).unwrap();
    let name = instance_name("planted");
    let (mut cmd, _log) = server_command(&dir.path, &name, PASSIVE_ONLY);
    cmd.env("exabgp_api_socketpath", &sock)
        .env("exabgp_tcp_bind", "127.0.0.1")
        .env("exabgp_tcp_port", free_port(LOCALHOST).to_string());
    let out = run(cmd, COMMAND_TIMEOUT);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("not a socket"), "{out:?}");
    let m = std::fs::metadata(&victim).unwrap();
    assert_eq!(m.mode() & 0o7777, 0o600);
    assert!(is_symlink(&sock));
}

fn is_symlink(p: &Path) -> bool {
    std::fs::symlink_metadata(p)
        .map(|m| m.file_type().is_symlink())
        .unwrap_or(false)
}

/// Item 7: 64 local clients (as many as the daemon serves at once) each send a
/// burst of `show neighbor` and never read an answer. Each one's answers fill its
/// socket and the daemon's write stalls. A fresh `exabgpcli show neighbor` still
/// gets its answer: the write timeout frees the slots (without it the CLI waits in
/// the listen backlog until its own timeout).
#[test]
fn clients_that_never_read_do_not_lock_the_cli_out() {
    let dir = TestDir::new("local-noread");
    let name = instance_name("noread");
    let mut d = Daemon::start(&dir.path, &name, PASSIVE_ONLY, None);
    d.wait_serving();

    let burst = "show neighbor\n".repeat(64 * 1024 / 14);
    let mut hogs = Vec::new();
    for _ in 0..64 {
        let mut s = std::os::unix::net::UnixStream::connect(d.path()).unwrap();
        s.set_nonblocking(true).unwrap();
        // As much of the burst as the socket takes; the rest is not needed.
        let _ = std::io::Write::write(&mut s, burst.as_bytes());
        hogs.push(s);
    }
    // Every hog holds a slot: its answers (far more than a socket buffer) stall.
    let mut cmd = hermetic(exabgpcli_bin());
    cmd.args(["--timeout", "90", "--instance", &name, "show", "neighbor"]);
    let out = run(cmd, Duration::from_secs(120));
    assert_eq!(
        out.code, 0,
        "the CLI was locked out by clients that never read: {out:?}"
    );
    assert!(out.stdout.contains("192.0.2.200"), "{out:?}");
    drop(hogs);
    assert_eq!(d.terminate(), Some(0), "log:\n{}", d.proc.log_text());
}

/// A variable whose value is not UTF-8 (any parent can pass one).
fn not_utf8() -> std::ffi::OsString {
    use std::os::unix::ffi::OsStringExt;
    std::ffi::OsString::from_vec(vec![b'x', 0xff, 0xfe, b'y'])
}

/// Item 8: somebody else's variable that is not UTF-8 is ignored by every binary
/// (it used to abort the process: std::env::vars() panics, exit 134).
#[test]
fn a_foreign_variable_that_is_not_utf8_is_ignored() {
    let dir = TestDir::new("local-envjunk");
    let name = instance_name("envjunk");
    let sock = dir.path.join("junk.sock");
    let (mut cmd, log) = server_command(&dir.path, &name, PASSIVE_ONLY);
    cmd.env("JUNK_FROM_PARENT", not_utf8())
        .env("exabgp_api_socketpath", &sock);
    let mut d = Proc::spawn(&name, cmd, log);
    let _guard = SocketGuard(sock.clone());

    let mut validate = hermetic(exabgp_bin());
    validate
        .arg("validate")
        .arg(dir.path.join(format!("{name}.toml")))
        .env("JUNK_FROM_PARENT", not_utf8());
    let out = run(validate, COMMAND_TIMEOUT);
    assert_eq!(out.code, 0, "{out:?}");

    let answered = support::wait_for(support::WAIT, || {
        let mut c = hermetic(exabgpcli_bin());
        c.args(["--timeout", "20", "--socket"])
            .arg(&sock)
            .args(["show", "neighbor"])
            .env("JUNK_FROM_PARENT", not_utf8());
        let out = run(c, COMMAND_TIMEOUT);
        (out.code == 0).then_some(out)
    });
    let out = answered.unwrap_or_else(|| {
        panic!(
            "the daemon or the CLI did not work; alive: {}; log:\n{}",
            d.alive(),
            d.log_text()
        )
    });
    assert!(out.stdout.contains("192.0.2.200"), "{out:?}");
    d.signal(libc::SIGTERM);
    let status = d.wait_exit(Duration::from_secs(15));
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{}", d.log_text());
}

/// Item 8: one of our variables that is not UTF-8 is a settings error (78) that
/// names it, for the daemon, `exabgp env` and exabgpcli alike.
#[test]
fn an_exabgp_variable_that_is_not_utf8_is_a_settings_error() {
    let dir = TestDir::new("local-envbad");
    let name = instance_name("envbad");
    let (mut server, _log) = server_command(&dir.path, &name, PASSIVE_ONLY);
    server.env("exabgp_log_level", not_utf8());
    let mut env = hermetic(exabgp_bin());
    env.args(["env", "--instance", &name])
        .env("exabgp.api.socketname", not_utf8());
    let mut cli = hermetic(exabgpcli_bin());
    cli.args(["--instance", &name, "show", "neighbor"])
        .env("exabgp_api_socketpath", not_utf8());
    for (cmd, var) in [
        (server, "exabgp_log_level"),
        (env, "exabgp.api.socketname"),
        (cli, "exabgp_api_socketpath"),
    ] {
        let shown = format!("{cmd:?}");
        let out = run(cmd, COMMAND_TIMEOUT);
        assert_eq!(out.code, 78, "{shown}: {out:?}");
        assert!(
            out.stderr.contains(var) && out.stderr.contains("not UTF-8"),
            "{shown}: {out:?}"
        );
    }
}

/// The count in a "suppressed K similar messages" line.
fn suppressed_count(line: &str) -> Option<u64> {
    let (_, rest) = line.split_once("suppressed ")?;
    let (n, rest) = rest.split_once(' ')?;
    rest.starts_with("similar messages")
        .then(|| n.parse().ok())
        .flatten()
}

/// Item 9: 500 connections in a burst from an address that is not a neighbor
/// give a bounded number of log lines, one of which counts the suppressed ones;
/// every connection is either logged or counted.
#[test]
fn a_burst_of_unknown_connections_does_not_flood_the_log() {
    let dir = TestDir::new("local-flood");
    let name = instance_name("flood");
    let listen = support::free_addr(addr(3, 1));
    let mut d = Daemon::start(&dir.path, &name, PASSIVE_ONLY, Some(listen));
    assert!(
        d.proc.wait_log("accepting BGP connections", support::WAIT),
        "{}",
        d.proc.log_text()
    );
    let mut connected = 0u64;
    for _ in 0..500 {
        if std::net::TcpStream::connect_timeout(&listen, Duration::from_secs(5)).is_ok() {
            connected += 1;
        }
    }
    assert!(connected > 400, "only {connected} of 500 connections made");
    // The count comes once the interval (10 s) is over, flood or not.
    let counted = support::wait_for(Duration::from_secs(60), || {
        let text = d.proc.log_text();
        let logged = text
            .lines()
            .filter(|l| l.contains("unknown peer closed") && suppressed_count(l).is_none())
            .count() as u64;
        let suppressed: u64 = text.lines().filter_map(suppressed_count).sum();
        (logged + suppressed == connected).then_some((logged, suppressed))
    });
    let text = d.proc.log_text();
    let (logged, suppressed) = counted.unwrap_or_else(|| {
        panic!("{connected} connections are not all logged or counted; log:\n{text}")
    });
    assert!(suppressed > 0, "nothing suppressed; log:\n{text}");
    let lines = text.lines().filter(|l| l.contains("unknown peer")).count();
    // 10 per 10 s interval plus one count line each; the burst spans a few at most.
    assert!(
        lines <= 60,
        "{lines} log lines for {connected} connections ({logged} logged)"
    );
    assert_eq!(d.terminate(), Some(0));
}

/// Item 14: exabgpcli takes an --instance only if the daemon would (a plain name:
/// no '/', no '..', at most 64 bytes), on every path (--which, a command, stdin,
/// `exabgp cli`), and a --timeout too big for a deadline is a usage error (64),
/// not a panic.
#[test]
fn exabgpcli_refuses_escaping_instances_and_huge_timeouts() {
    let long = "a".repeat(65);
    for bad in ["../../etc/x", "a/b", "..", ".", "", long.as_str()] {
        let runs: [(&str, Vec<&str>, Option<&str>); 4] = [
            (exabgpcli_bin(), vec!["--instance", bad, "--which"], None),
            (
                exabgpcli_bin(),
                vec!["--instance", bad, "show", "neighbor"],
                None,
            ),
            (
                exabgpcli_bin(),
                vec!["--instance", bad],
                Some("show neighbor\n"),
            ),
            (
                exabgp_bin(),
                vec!["cli", "--instance", bad, "version"],
                None,
            ),
        ];
        for (bin, args, input) in runs {
            let mut cmd = hermetic(bin);
            cmd.args(&args);
            let out = run_with_input(cmd, input, COMMAND_TIMEOUT);
            assert_eq!(out.code, 64, "{args:?}: {out:?}");
            assert!(
                out.stderr.contains("--instance") && out.stderr.contains("file name"),
                "{args:?}: {out:?}"
            );
        }
    }
    for huge in ["18446744073709551615", "86401"] {
        let mut cmd = hermetic(exabgpcli_bin());
        cmd.args([
            "--instance",
            "nosuch",
            "--timeout",
            huge,
            "show",
            "neighbor",
        ]);
        let out = run(cmd, COMMAND_TIMEOUT);
        assert_eq!(out.code, 64, "--timeout {huge}: {out:?}");
        assert!(
            out.stderr.contains("--timeout") && !out.stderr.contains("panicked"),
            "{out:?}"
        );
    }
}

/// exabgpcli given an argument that is not UTF-8 refuses it (64, with a message),
/// no panic (101); an exabgp_api_socketname that would leave the socket directory
/// is refused (78) even when the settings fail to load for it, never used to build
/// a path.
#[test]
fn exabgpcli_refuses_non_utf8_arguments_and_escaping_socket_names() {
    use std::os::unix::ffi::OsStrExt;
    let bad = std::ffi::OsStr::from_bytes(b"show \xff neighbor");
    for args in [vec![bad], vec![std::ffi::OsStr::new("--instance"), bad]] {
        let mut cmd = hermetic(exabgpcli_bin());
        cmd.args(&args);
        let out = run(cmd, COMMAND_TIMEOUT);
        assert_eq!(out.code, 64, "{args:?}: {out:?}");
        assert!(
            out.stderr.contains("not UTF-8") && !out.stderr.contains("panicked"),
            "{out:?}"
        );
    }
    let mut cmd = hermetic(exabgpcli_bin());
    cmd.env("exabgp_api_socketname", "../../tmp/escaped")
        .arg("--which");
    let out = run(cmd, COMMAND_TIMEOUT);
    assert_eq!(out.code, 78, "{out:?}");
    assert!(
        !out.stdout.contains("escaped") && out.stderr.contains("not a socket name"),
        "{out:?}"
    );
}

/// Item 9: at the default log level (info), a peer's UPDATEs are not logged one
/// line each (they are at debug): 50 UPDATEs received, counted by the daemon,
/// and no "UPDATE received" line.
#[test]
fn updates_are_not_logged_one_line_each_at_info() {
    let dir = TestDir::new("local-updates");
    let name = instance_name("updates");
    let exa = support::free_addr(addr(4, 1));
    let raw_ip = addr(4, 2);
    let config = support::ExaConfig::new(65001)
        .passive(raw_ip, RAW_AS.into())
        .build();
    let (mut cmd, log) = server_command(&dir.path, &name, &config);
    cmd.env("exabgp_tcp_bind", exa.ip().to_string())
        .env("exabgp_tcp_port", exa.port().to_string());
    let sock = SocketGuard(resolved_socket(&name));
    let mut d = Proc::spawn(&name, cmd, log);
    assert!(
        d.wait_log("accepting BGP connections", support::WAIT),
        "{}",
        d.log_text()
    );
    let mut p = RawPeer::connect(raw_ip, exa);
    p.handshake();
    p.until_end_of_rib();
    for i in 0..50u8 {
        p.send(&message(2, &update_body(&valid_attrs(), &[24, 10, 201, i])));
    }
    let got = support::wait_for(support::WAIT, || {
        let out = cli(&name, &["--json", "show", "neighbor"]);
        let n = (out.code == 0).then(|| neighbors_json(&out))?;
        (n.first()?["received"]["update"].as_u64()? >= 50).then_some(())
    });
    assert!(
        got.is_some(),
        "50 UPDATEs not received; log:\n{}",
        d.log_text()
    );
    let text = d.log_text();
    assert!(text.contains("INFO"), "no info lines at all? log:\n{text}");
    assert!(
        !text.contains("UPDATE received"),
        "UPDATEs logged at info, one line each:\n{text}"
    );
    d.signal(libc::SIGTERM);
    let _ = d.wait_exit(Duration::from_secs(15));
    drop(sock);
}
