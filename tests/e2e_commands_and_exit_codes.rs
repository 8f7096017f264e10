//! The `exabgp` binary's contract with operators and systemd: exit codes
//! (78 bad config or settings, 71 port in use, 0 on SIGTERM/SIGINT), `validate`, `decode`,
//! `version`.

mod support;

use std::net::{IpAddr, TcpListener};
use std::process::Command;

use support::*;

fn exabgp() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_exabgp"));
    c.env_remove("exabgp_tcp_bind")
        .env_remove("exabgp_tcp_port")
        .env_remove("exabgp_log_level")
        .env("exabgp_api_cli", "false")
        .env("exabgp_daemon_drop", "false");
    c
}

const GOOD: &str = r#"
[global]
router-id = "192.0.2.1"
local-as = 65001

[[neighbor]]
address = "192.0.2.254"
peer-as = 65000
passive = true

[[route]]
prefix = "203.0.113.0/24"
next-hop = "192.0.2.10"
"#;

#[test]
fn validate_version_decode() {
    let dir = TestDir::new("cli");
    let good = dir.path.join("good.toml");
    std::fs::write(&good, GOOD).unwrap();
    let out = exabgp().arg("validate").arg(&good).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // The documented form (docs/configuration.md), from config::validate.
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text,
        format!(
            "{}: OK (1 neighbor, 1 route, 0 processes)\n",
            good.display()
        )
    );

    let bad = dir.path.join("bad.toml");
    std::fs::write(&bad, GOOD.replace("local-as = 65001", "local-as = \"x\"")).unwrap();
    let out = exabgp().arg("validate").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(78), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}:4:", bad.display())),
        "file:line:col expected: {err}"
    );

    let out = exabgp().arg("server").arg(&bad).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(78),
        "server with a bad config: {out:?}"
    );

    let out = exabgp().arg("version").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("exabgp "));

    let keepalive = format!("{}001304", "FF".repeat(16));
    let out = exabgp().arg("decode").arg(&keepalive).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("Keepalive"));
    let out = exabgp().arg("decode").arg("0013").output().unwrap();
    assert!(!out.status.success());
}

#[test]
fn port_in_use_exits_71_naming_address_and_port() {
    let dir = TestDir::new("inuse");
    let ip: IpAddr = loopback_addr(91).into();
    let held = TcpListener::bind((ip, 0)).unwrap();
    let port = held.local_addr().unwrap().port();
    let conf = dir.path.join("good.toml");
    std::fs::write(&conf, GOOD).unwrap();
    let out = exabgp()
        .arg("server")
        .arg(&conf)
        .env("exabgp_tcp_bind", ip.to_string())
        .env("exabgp_tcp_port", port.to_string())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(71), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{ip}:{port}")), "{err}");
    assert!(err.contains("already in use"), "{err}");
    drop(held);
}

/// A misspelled `exabgp_daemon_user` is a settings error like any other typo in
/// the env file: exit 78 (EX_CONFIG, which the unit's RestartPreventExitStatus=78
/// does not restart into), not 77, with the message naming the setting.
#[test]
fn a_misspelled_daemon_user_exits_78() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("skipped: the user is looked up only when started as root");
        return;
    }
    let user = "nosuchuser";
    assert!(
        nix::unistd::User::from_name(user).ok().flatten().is_none(),
        "a user {user:?} exists on this machine"
    );
    let dir = TestDir::new("nouser");
    let ip: IpAddr = loopback_addr(94).into();
    let port = free_port(ip);
    let conf = dir.path.join("good.toml");
    std::fs::write(&conf, GOOD).unwrap();
    let out = exabgp()
        .arg("server")
        .arg(&conf)
        .env("exabgp_tcp_bind", ip.to_string())
        .env("exabgp_tcp_port", port.to_string())
        .env("exabgp_daemon_drop", "true")
        .env("exabgp_daemon_user", user)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("exabgp_daemon_user=\"nosuchuser\"") && err.contains("no such user"),
        "{err}"
    );
}

#[test]
fn sigint_stops_the_daemon_with_exit_0() {
    let dir = TestDir::new("sigint");
    let ip: IpAddr = loopback_addr(92).into();
    let port = free_port(ip);
    let mut exa = Exabgp::start(&dir.path, GOOD, Some((ip, port)));
    assert!(wait_listening((ip, port).into()), "{}", exa.log());
    exa.proc.signal(libc::SIGINT);
    let status = exa.proc.wait_exit(WAIT).expect("exit after SIGINT");
    assert_eq!(status.code(), Some(0), "{}", exa.log());
    assert!(exa.log().contains("daemon stopped"), "{}", exa.log());
}

/// One command per `exabgpcli` call: an argument with a line break (a variable
/// interpolated by a script) is refused before anything is sent.
#[test]
fn a_command_argument_with_a_line_break_is_refused() {
    let dir = TestDir::new("cli-newline");
    let out = exabgp()
        .args(["cli", "--socket"])
        .arg(dir.path.join("none.sock"))
        .arg("show neighbor\nshutdown")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("line break"),
        "{out:?}"
    );
}

/// `exabgp server --env-file` (what exabgp@.service passes): the daemon reads the
/// file itself, so ExaBGP's INI form works and a mistyped setting stops the start
/// with exit 78 naming the file and line; a file that does not exist is skipped.
#[test]
fn server_reads_its_env_file() {
    let dir = TestDir::new("envfile");
    let conf = dir.path.join("good.toml");
    std::fs::write(&conf, GOOD).unwrap();

    let typo = dir.path.join("typo.env");
    std::fs::write(&typo, "exabgp_tcp_prot=1790\n").unwrap();
    let out = exabgp()
        .arg("server")
        .arg("--env-file")
        .arg(&typo)
        .arg(&conf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}:1", typo.display())) && err.contains("exabgp_tcp_port"),
        "{err}"
    );

    // INI form: the listener comes up where the file says.
    let ip: IpAddr = loopback_addr(93).into();
    let port = free_port(ip);
    let ini = dir.path.join("ini.env");
    std::fs::write(&ini, format!("[exabgp.tcp]\nbind = {ip}\nport = {port}\n")).unwrap();
    let mut cmd = exabgp();
    cmd.arg("server").arg("--env-file").arg(&ini).arg(&conf);
    let mut p = Proc::spawn("exabgp-envfile", cmd, dir.path.join("exabgp.log"));
    assert!(
        wait_listening((ip, port).into()),
        "not listening on {ip}:{port} from the INI env file:\n{}",
        p.log_text()
    );
    p.signal(libc::SIGTERM);
    assert_eq!(p.wait_exit(WAIT).and_then(|s| s.code()), Some(0));

    // A missing file is skipped (the unit passes one for every instance).
    let mut cmd = exabgp();
    cmd.arg("server")
        .arg("--env-file")
        .arg(dir.path.join("absent.env"))
        .arg(&conf);
    let mut p = Proc::spawn("exabgp-noenv", cmd, dir.path.join("noenv.log"));
    assert!(
        p.wait_log("ready", WAIT),
        "did not start without its env file:\n{}",
        p.log_text()
    );
    p.signal(libc::SIGTERM);
    assert_eq!(p.wait_exit(WAIT).and_then(|s| s.code()), Some(0));
}
