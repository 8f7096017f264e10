//! A hitless restart whose new process cannot start (issue 13): the sessions the
//! previous process stored in systemd's fd store are handed to `exabgp server`
//! as systemd does (LISTEN_FDS / LISTEN_FDNAMES / LISTEN_PID, the fds from 3),
//! and its configuration is broken. The stored session's peer must be told with
//! a NOTIFICATION (Cease), not left with a bare TCP close (with graceful restart
//! it would keep our routes for a daemon that is not there), and the names must
//! be removed from the store (FDSTOREREMOVE=1).

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

#[test]
fn a_start_that_fails_sends_a_cease_on_the_stored_sessions() {
    let dir = TestDir::new("hitless_startup_fails");
    let config = dir.path.join("broken.toml");
    std::fs::write(&config, "[[neighbor]\naddress = \"not closed\n").unwrap();

    // The session: our side is what the previous process stored.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let ours = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (theirs, _) = l.accept().unwrap();
    let peer: IpAddr = "127.0.0.1".parse().unwrap();
    let (sname, tname) = fdstore::session_names(peer);
    // The state is not read before the configuration is: any content will do.
    let state = fdstore::sealed_memfd(&tname, b"a state").unwrap();

    let manager_name = format!("exabgp-hitless-startup-{}", std::process::id());
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
    .arg(&config)
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
    let out = run(cmd, Duration::from_secs(30));
    assert_eq!(out.code, 78, "{out:?}");
    // Our copies closed: only the peer's reading decides.
    drop(ours);
    drop(state);

    let got = read_to_end(theirs);
    // A NOTIFICATION (type 3), Cease (code 6), after the 16-octet marker and length.
    assert!(
        got.len() >= 21 && got[..16] == [0xff; 16] && got[18] == 3 && got[19] == 6,
        "the peer read {got:?} (stderr: {})",
        out.stderr
    );
    let said = datagrams(&manager).join("\n---\n");
    for name in [&sname, &tname] {
        assert!(
            said.contains(&format!("FDNAME={name}")) && said.contains("FDSTOREREMOVE=1"),
            "{name} not removed from the store: {said}"
        );
    }
}
