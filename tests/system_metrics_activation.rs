//! The metrics endpoint on a socket systemd hands over: `systemd-socket-activate`
//! binds a TCP port named `metrics` (as exabgp-metrics@.socket does with
//! FileDescriptorName=metrics) and starts the real `exabgp server` on the first
//! connection. That scrape waits in the backlog and is answered with the
//! exposition text; the socket is not taken for a BGP listener (no neighbor
//! connection is accepted on it).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::free_port;

const CONFIG: &str = r#"[global]
router-id = "192.0.2.1"
local-as = 65001

[[neighbor]]
address = "192.0.2.254"
peer-as = 65000
passive = true

[[route]]
prefix = "203.0.113.7/32"
next-hop = "192.0.2.1"
"#;

/// Kills the activator and the daemon it started when the test ends.
struct Group(std::process::Child);

impl Drop for Group {
    fn drop(&mut self) {
        // systemd-socket-activate execs the daemon in its own process: one pid.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_socket_named_metrics_is_served_as_the_metrics_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("exabgp.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let port = free_port([127, 0, 0, 1].into());
    let addr = format!("127.0.0.1:{port}");
    let log = std::fs::File::create(dir.path().join("exabgp.log")).unwrap();
    let child = Command::new("systemd-socket-activate")
        .args(["-l", &addr, "--fdname=metrics"])
        .arg("-E")
        .arg(format!(
            "exabgp_api_socketpath={}",
            dir.path().join("ctl.sock").display()
        ))
        .args(["-E", "exabgp_daemon_drop=false"])
        .arg(env!("CARGO_BIN_EXE_exabgp"))
        .arg("server")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("systemd-socket-activate (package systemd)");
    let _group = Group(child);
    // The activator binds, then starts the daemon on the first connection: retry
    // the connect until it listens (bounded), then the GET waits in the backlog.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut stream = loop {
        match TcpStream::connect(&addr) {
            Ok(s) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => panic!("cannot connect to {addr}: {e}"),
        }
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
    let mut out = String::new();
    let _ = stream.take(1 << 20).read_to_string(&mut out);
    let logged = || std::fs::read_to_string(dir.path().join("exabgp.log")).unwrap_or_default();
    assert!(
        out.starts_with("HTTP/1.1 200 OK\r\n"),
        "{out}\nlog:\n{}",
        logged()
    );
    assert!(
        // Every state has a row; the current one (idle or active: the peer does
        // not exist) has the value 1.
        out.contains(
            "bgp_peer_state{peer=\"192.0.2.254\",session_state=\"IDLE\",admin_state=\"UP\"} 1\n"
        ) || out.contains(
            "bgp_peer_state{peer=\"192.0.2.254\",session_state=\"ACTIVE\",admin_state=\"UP\"} 1\n"
        ) || out.contains(
            "bgp_peer_state{peer=\"192.0.2.254\",session_state=\"CONNECT\",admin_state=\"UP\"} 1\n"
        ),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l
                == "bgp_routes_advertised{peer=\"192.0.2.254\",route_family=\"ipv4-unicast\"} 1"),
        "{out}"
    );
    assert!(
        logged().contains("metrics endpoint serving GET /metrics"),
        "{}",
        logged()
    );
    assert!(
        !logged().contains("BGP listeners handed over"),
        "the metrics socket was taken for a BGP listener:\n{}",
        logged()
    );
}
