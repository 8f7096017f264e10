//! Socket activation against the real thing: `systemd-socket-activate` (from the
//! systemd package) binds a TCP port and a Unix socket, waits for the first client,
//! then starts this test binary again as the "daemon" with LISTEN_FDS /
//! LISTEN_FDNAMES. The child adopts the fds with `system::activation`, answers the
//! client that was already waiting in the backlog on each socket, and reports what it
//! saw on stdout.

mod support;

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use support::free_port;
use support::system::{report, Probe};

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// The child side, run as a separate process by the tests below.
#[test]
#[ignore = "helper process started by activation_* tests"]
fn probe_activation_child() {
    if std::env::var("EXABGP_PROBE").as_deref() != Ok("activation") {
        return;
    }
    let activated = exabgp::system::activation::take_listeners();
    let activated = match activated {
        Ok(a) => a,
        Err(e) => {
            report("error", &e.to_string());
            return;
        }
    };
    let leftover: Vec<String> = std::env::vars()
        .filter(|(k, _)| k.starts_with("LISTEN_"))
        .map(|(k, _)| k)
        .collect();
    report("env-left", &leftover.join(","));
    report(
        "control",
        &activated
            .control
            .as_ref()
            .and_then(|c| c.local_addr().ok())
            .and_then(|a| a.as_pathname().map(|p| p.display().to_string()))
            .unwrap_or_else(|| "none".into()),
    );
    let bgp: Vec<String> = activated
        .bgp
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .map(|a| a.to_string())
        .collect();
    report("bgp", &bgp.join(","));
    // Serve whoever is waiting: the listeners are non-blocking, so poll, bounded;
    // stop once each listener served one client.
    let mut control_served = activated.control.is_none();
    let mut bgp_served = vec![false; activated.bgp.len()];
    for _ in 0..100 {
        if let Some(c) = &activated.control {
            if let Ok((mut s, _)) = c.accept() {
                let _ = s.write_all(b"control says hi\n");
                control_served = true;
            }
        }
        for (l, served) in activated.bgp.iter().zip(bgp_served.iter_mut()) {
            if let Ok((mut s, _)) = l.accept() {
                let _ = s.write_all(b"bgp says hi\n");
                *served = true;
            }
        }
        if control_served && bgp_served.iter().all(|s| *s) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn read_line_from(mut s: impl Read) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while buf.len() < 200 {
        match s.read(&mut byte) {
            Ok(1) if byte[0] != b'\n' => buf.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// `systemd-socket-activate -l ADDR... [--fdname=NAMES]` starting the probe child on
/// the first connection.
fn activate(listen: &[&str], fdname: Option<&str>) -> Probe {
    let mut args: Vec<String> = Vec::new();
    for l in listen {
        args.extend(["-l".to_string(), l.to_string()]);
    }
    if let Some(names) = fdname {
        args.push(format!("--fdname={names}"));
    }
    args.extend(["-E".to_string(), "EXABGP_PROBE=activation".to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Probe::start("systemd-socket-activate", &args, "probe_activation_child")
}

/// A client of the activated control socket (reads bounded to 10 s).
fn control_client(probe: &mut Probe, sock: &Path) -> UnixStream {
    let control = probe.retry(|| UnixStream::connect(sock).ok());
    control
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    control
}

/// A client of the activated BGP port (reads bounded to 10 s).
fn bgp_client(probe: &mut Probe, tcp: &str) -> TcpStream {
    let bgp = probe.retry(|| TcpStream::connect(tcp).ok());
    bgp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    bgp
}

#[test]
fn activation_adopts_named_sockets_and_serves_waiting_clients() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("ctl.sock");
    let port = free_port(LOCALHOST);
    let tcp = format!("127.0.0.1:{port}");
    let mut probe = activate(&[&tcp, sock.to_str().unwrap()], Some("bgp:control"));
    // systemd-socket-activate starts the program on the first connection; both
    // clients connect before the "daemon" exists and wait in the backlog.
    let control = control_client(&mut probe, &sock);
    let bgp = bgp_client(&mut probe, &tcp);
    assert_eq!(read_line_from(&control), "control says hi");
    assert_eq!(read_line_from(&bgp), "bgp says hi");
    let out = probe.finish();
    assert_eq!(out.get("error"), None, "{out:?}");
    assert_eq!(
        out.get("control").map(String::as_str),
        sock.to_str(),
        "{out:?}"
    );
    assert_eq!(out.get("bgp"), Some(&tcp), "{out:?}");
    assert_eq!(
        out.get("env-left").map(String::as_str),
        Some(""),
        "LISTEN_* must be gone"
    );
}

#[test]
fn activation_classifies_unnamed_sockets_by_family() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("ctl.sock");
    let port = free_port(LOCALHOST);
    let tcp = format!("127.0.0.1:{port}");
    // No --fdname: systemd-socket-activate names them all "unknown"... or leaves
    // LISTEN_FDNAMES unset; either way the family decides. Unix socket first this time.
    let mut probe = activate(&[sock.to_str().unwrap(), &tcp], None);
    let control = control_client(&mut probe, &sock);
    assert_eq!(read_line_from(&control), "control says hi");
    let bgp = bgp_client(&mut probe, &tcp);
    assert_eq!(read_line_from(&bgp), "bgp says hi");
    let out = probe.finish();
    assert_eq!(out.get("error"), None, "{out:?}");
    assert_eq!(out.get("control").map(String::as_str), sock.to_str());
    assert_eq!(out.get("bgp"), Some(&tcp));
}

#[test]
fn activation_rejects_a_tcp_socket_named_control() {
    let port = free_port(LOCALHOST);
    let tcp = format!("127.0.0.1:{port}");
    let mut probe = activate(&[&tcp], Some("control"));
    let _client = probe.retry(|| TcpStream::connect(&tcp).ok());
    let out = probe.finish();
    let err = out.get("error").cloned().unwrap_or_default();
    assert!(
        err.contains("control") && err.contains("expected a listening unix stream socket"),
        "{out:?}"
    );
}

#[test]
fn without_activation_nothing_is_adopted() {
    // In this (test) process nobody set LISTEN_PID for us.
    let a = exabgp::system::activation::take_listeners().unwrap();
    assert!(a.is_empty());
}
