//! Log lines a configured peer can repeat at will are rate-limited per neighbor:
//! a scripted raw peer over real TCP floods the daemon core (in-process, its log
//! lines captured by a real `tracing` subscriber) with treat-as-withdraw UPDATEs,
//! with connections while the neighbor is idle after max-prefix, and with
//! connections while its task is stuck writing; each gives a handful of lines, not
//! one per message or connection.

mod support;

use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use exabgp::control::{Command, ControlReply, PeerState};
use exabgp::session::INCOMING_PENDING;
use support::inproc::{distinct_routes, InProcess};
use support::raw::*;
use support::*;

/// Every line logged by this test process (all tests share it; each counts the
/// lines of its own peer address).
fn log() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let w = Arc::clone(&buf);
        let _ = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || Capture(Arc::clone(&w)))
            .try_init();
        buf
    })
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(b);
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Lines logged about `peer` (the address, with or without a port) containing
/// `needle`, leaving out the "suppressed N similar messages" summaries.
fn lines(peer: IpAddr, needle: &str) -> usize {
    let text = String::from_utf8_lossy(&log().lock().unwrap()).into_owned();
    let tag = format!("peer={peer}");
    text.lines()
        .filter(|l| {
            l.contains(needle)
                && !l.contains("suppressed")
                && l.match_indices(&tag).any(|(i, _)| {
                    !l[i + tag.len()..].starts_with(|c: char| c.is_ascii_digit() || c == '.')
                })
        })
        .count()
}

/// Lines logged are at most this many per flood: 5 per 10 s per kind, with room
/// for a slow machine that crosses into further intervals; without a rate limit
/// each flood below logs [`FLOOD`] lines.
const AT_MOST: usize = 20;
/// Messages or connections in each flood.
const FLOOD: usize = 100;

fn wait_prefixes_in(daemon: &InProcess, peer: IpAddr, n: u64) {
    let got = wait_for(WAIT, || {
        let s = daemon.ctl.neighbor(peer);
        (s.state == PeerState::Established && s.prefixes_in == n).then_some(())
    });
    assert!(got.is_some(), "never {n} prefixes in");
}

#[test]
fn treat_as_withdraw_flood_logs_a_few_lines() {
    log();
    let exa_ip: IpAddr = loopback_addr(141).into();
    let raw_ip: IpAddr = loopback_addr(143).into();
    let listener = TcpListener::bind((exa_ip, 0)).unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let text = ExaConfig::new(65001).passive(raw_ip, RAW_AS.into()).build();
    let config = exabgp::config::parse_str(&text, "floods.toml").unwrap();
    let (events, _) = exabgp::control::event_channel(16, 1 << 30);
    let daemon = InProcess::start(config, vec![listener], events);

    let mut p = RawPeer::connect(raw_ip, addr);
    p.handshake();
    p.until_end_of_rib();
    // ORIGIN flagged optional: treat-as-withdraw (RFC 7606 §3 c).
    let bad = [&[0xC0, 1, 1, 0][..], &AS_PATH, &NEXT_HOP].concat();
    for i in 0..FLOOD {
        p.send(&message(2, &update_body(&bad, &[24, 10, 5, i as u8])));
    }
    // Handled once this one is in.
    p.send(&message(2, &update_body(&valid_attrs(), &[24, 10, 6, 0])));
    wait_prefixes_in(&daemon, raw_ip, 1);
    let n = lines(raw_ip, "treated as withdraw");
    assert!(
        (1..=AT_MOST).contains(&n),
        "{n} treat-as-withdraw lines for {FLOOD} UPDATEs"
    );
}

#[test]
fn connections_while_idle_after_max_prefix_log_a_few_lines() {
    log();
    let exa_ip: IpAddr = loopback_addr(145).into();
    let raw_ip: IpAddr = loopback_addr(147).into();
    let listener = TcpListener::bind((exa_ip, 0)).unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let text = ExaConfig::new(65001)
        .passive(raw_ip, RAW_AS.into())
        .line("max-prefix = 1")
        .build();
    let config = exabgp::config::parse_str(&text, "floods.toml").unwrap();
    let (events, _) = exabgp::control::event_channel(16, 1 << 30);
    let daemon = InProcess::start(config, vec![listener], events);

    let mut p = RawPeer::connect(raw_ip, addr);
    p.handshake();
    p.until_end_of_rib();
    p.send(&message(
        2,
        &update_body(&valid_attrs(), &[24, 10, 7, 1, 24, 10, 7, 2]),
    ));
    assert_eq!(p.notification(), (6, 1));
    for _ in 0..FLOOD {
        let mut again = RawPeer::connect(raw_ip, addr);
        assert!(again.read().is_err(), "idle neighbor answered");
    }
    // Each connection was closed by the task, after its line (if any).
    assert_eq!(daemon.ctl.neighbor(raw_ip).state, PeerState::Idle);
    let n = lines(raw_ip, "idle after max-prefix");
    assert!(
        (1..=AT_MOST).contains(&n),
        "{n} lines for {FLOOD} refused connections"
    );
}

#[test]
fn connections_to_a_stuck_neighbor_log_a_few_lines() {
    log();
    let exa_ip: IpAddr = loopback_addr(149).into();
    let stuck_ip: IpAddr = loopback_addr(151).into();
    let listener = TcpListener::bind((exa_ip, 0)).unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let text = ExaConfig::new(65001)
        .passive(stuck_ip, RAW_AS.into())
        .line("hold-time = 240")
        .build();
    let config = exabgp::config::parse_str(&text, "floods.toml").unwrap();
    let (events, _) = exabgp::control::event_channel(16, 1 << 30);
    let daemon = InProcess::start(config, vec![listener], events);

    let mut stuck = RawPeer::connect(stuck_ip, addr);
    stuck.handshake_with(&open_body_with(4, RAW_AS, 240, [192, 0, 2, 77]));
    stuck.until_end_of_rib();
    // A table far larger than the socket buffers, never read: the task blocks
    // writing it and takes no connection.
    let table = distinct_routes(200_000);
    assert_eq!(
        daemon.ctl.ask(Command::Announce {
            scope: Some(vec![stuck_ip]),
            routes: table,
        }),
        ControlReply::Done
    );
    // Connections beyond the few the task may still take are closed by the daemon.
    let mut kept = Vec::new();
    for _ in 0..FLOOD {
        kept.push(RawPeer::connect(stuck_ip, addr));
    }
    // Wait (bounded) until all but the pending ones are closed: the daemon has
    // then handled (and logged, or not) each of them.
    let mut open: Vec<std::net::TcpStream> = kept.into_iter().map(|p| p.s).collect();
    for s in &open {
        s.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
    }
    for _ in 0..300 {
        open.retain_mut(|s| std::io::Read::read_to_end(s, &mut Vec::new()).is_err());
        if open.len() <= INCOMING_PENDING {
            break;
        }
    }
    assert!(
        open.len() <= INCOMING_PENDING,
        "{} connections still open",
        open.len()
    );
    let refused = "has not taken the previous ones yet";
    let n = lines(stuck_ip, refused);
    assert!(
        (1..=AT_MOST).contains(&n),
        "{n} lines for {FLOOD} connections to a stuck neighbor"
    );
    drop(stuck);
}
