//! A hitless restart whose new process cannot start (issue 13): the sessions the
//! previous process stored in systemd's fd store are handed to `exabgp server`
//! as systemd does (LISTEN_FDS / LISTEN_FDNAMES / LISTEN_PID, the fds from 3),
//! and its configuration is broken. The stored session's peer must be told with
//! a NOTIFICATION (Cease), not left with a bare TCP close (with graceful restart
//! it would keep our routes for a daemon that is not there), and the names must
//! be removed from the store (FDSTOREREMOVE=1). The same when the new process
//! runs with exabgp_daemon_hitless=false: it adopts nothing, and says so to
//! the peer.

mod support;

use std::io::Read;
use std::net::{IpAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr as UnixSocketAddr, UnixDatagram};
use std::os::unix::process::CommandExt;
use std::time::Duration;

use exabgp::system::fdstore;
use support::binary::{exabgp_bin, hermetic, run};
use support::*;

/// Every datagram the service manager's socket received so far.
fn datagrams(manager: &UnixDatagram) -> Vec<String> {
    let mut got = Vec::new();
    for _ in 0..1000 {
        let mut buf = [0u8; 4096];
        match manager.recv(&mut buf) {
            Ok(n) => got.push(String::from_utf8_lossy(&buf[..n]).into_owned()),
            Err(_) => break,
        }
    }
    got
}

/// Everything the peer reads until the connection ends (bounded).
fn read_to_end(mut peer: TcpStream) -> Vec<u8> {
    peer.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    for _ in 0..100 {
        match peer.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    got
}

/// One stored session as systemd hands it to `exabgp server CONFIG`: the
/// command (not started), the peer's end, the service manager's socket, the
/// names stored, and our copies of the descriptors (dropped once the daemon
/// has its own).
struct Stored {
    cmd: std::process::Command,
    theirs: TcpStream,
    manager: UnixDatagram,
    names: [String; 2],
    ours: Option<(TcpStream, std::os::fd::OwnedFd)>,
}

fn with_a_stored_session(config: &std::path::Path, tag: &str) -> Stored {
    // The session: our side is what the previous process stored.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let ours = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (theirs, _) = l.accept().unwrap();
    let peer: IpAddr = "127.0.0.1".parse().unwrap();
    let (sname, tname) = fdstore::session_names(peer);
    // Not read before the configuration is (nor with hitless off).
    let state = fdstore::sealed_memfd(&tname, b"a state").unwrap();

    let manager_name = format!("exabgp-hitless-startup-{}-{tag}", std::process::id());
    let manager = UnixDatagram::bind_addr(
        &UnixSocketAddr::from_abstract_name(manager_name.as_bytes()).unwrap(),
    )
    .unwrap();
    manager.set_nonblocking(true).unwrap();

    // LISTEN_PID must be the daemon's own pid: the shell sets it and execs.
    let mut cmd = hermetic("/bin/sh");
    cmd.args([
        "-c",
        "LISTEN_PID=$$ exec \"$@\"",
        "sh",
        exabgp_bin(),
        "server",
    ])
    .arg(config)
    .args(["--log", "stderr"])
    .env("exabgp_daemon_drop", "false")
    .env("LISTEN_FDS", "2")
    .env("LISTEN_FDNAMES", format!("{sname}:{tname}"))
    .env("NOTIFY_SOCKET", format!("@{manager_name}"));
    let (sock_fd, state_fd) = (ours.as_raw_fd(), state.as_raw_fd());
    // SAFETY: between fork and exec only async-signal-safe calls (dup2, close)
    // on descriptors this process owns.
    unsafe {
        cmd.pre_exec(move || {
            // Out of the way first, so neither lands on the other's target.
            if libc::dup2(sock_fd, 50) < 0
                || libc::dup2(state_fd, 51) < 0
                || libc::dup2(50, 3) < 0
                || libc::dup2(51, 4) < 0
            {
                return Err(std::io::Error::last_os_error());
            }
            libc::close(50);
            libc::close(51);
            Ok(())
        });
    }
    Stored {
        cmd,
        theirs,
        manager,
        names: [sname, tname],
        ours: Some((ours, state)),
    }
}

/// The peer read a NOTIFICATION Cease, and both names were removed.
fn assert_ceased_and_removed(got: &[u8], manager: &UnixDatagram, names: &[String; 2], log: &str) {
    // A NOTIFICATION (type 3), Cease (code 6), after the 16-octet marker and length.
    assert!(
        got.len() >= 21 && got[..16] == [0xff; 16] && got[18] == 3 && got[19] == 6,
        "the peer read {got:?} (log: {log})"
    );
    let said = datagrams(manager).join("\n---\n");
    for name in names {
        assert!(
            said.contains(&format!("FDNAME={name}")) && said.contains("FDSTOREREMOVE=1"),
            "{name} not removed from the store: {said}"
        );
    }
}

#[test]
fn a_start_that_fails_sends_a_cease_on_the_stored_sessions() {
    let dir = TestDir::new("hitless_startup_fails");
    let config = dir.path.join("broken.toml");
    std::fs::write(&config, "[[neighbor]\naddress = \"not closed\n").unwrap();
    let mut s = with_a_stored_session(&config, "fails");
    let out = run(s.cmd, Duration::from_secs(30));
    assert_eq!(out.code, 78, "{out:?}");
    // Our copies closed: only the daemon's could have told the peer.
    drop(s.ours.take());
    let got = read_to_end(s.theirs);
    assert_ceased_and_removed(&got, &s.manager, &s.names, &out.stderr);
}

#[test]
fn with_hitless_off_the_stored_sessions_get_a_cease() {
    let dir = TestDir::new("hitless_startup_off");
    let config = dir.path.join("off.toml");
    std::fs::write(
        &config,
        "[global]\nrouter-id = \"192.0.2.1\"\nlocal-as = 65001\n",
    )
    .unwrap();
    let mut s = with_a_stored_session(&config, "off");
    let listen = free_addr(loopback_addr(185).into());
    s.cmd
        .env("exabgp_daemon_hitless", "false")
        .env("exabgp_api_socketpath", dir.path.join("off.sock"))
        .env("exabgp_tcp_bind", listen.ip().to_string())
        .env("exabgp_tcp_port", listen.port().to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = s.cmd.spawn().unwrap();
    drop(s.ours.take());
    // Runs on: the session is ended at start (the read is bounded).
    let got = read_to_end(s.theirs);
    // SAFETY: kill(2) on the pid of our own child, not yet waited for.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let ended = wait_for(WAIT, || child.try_wait().ok().flatten());
    if ended.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    assert_ceased_and_removed(&got, &s.manager, &s.names, "");
}
