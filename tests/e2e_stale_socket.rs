//! A control socket file with no daemon behind it: the CLI exits 69 naming the
//! instance and the path (file missing or stale); a daemon started on a stale file
//! (left by a crash, or by SIGKILL) replaces it and serves; SIGTERM tells an idle
//! client why it is cut and removes the file.
//!
//! Every process is killed and every socket file removed when a test ends, also
//! when it fails (Drop guards). Names carry our pid so concurrent runs never meet.

mod support;

use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use support::binary::*;
use support::conf::*;
use support::net::*;
use support::{free_addr, TestDir, WAIT};

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
    // The daemon accepts connections in the order they came: once a later
    // client is answered, the idle one has been accepted (else, under load, it
    // could still sit in the backlog at SIGTERM and never be told why).
    let later = cli(&name, &["show", "neighbor"]);
    assert_eq!(later.code, 0, "{later:?}");
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
