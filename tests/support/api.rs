//! For the API tests: a small task that answers ControlRequests with fixed replies
//! (a stand-in for the daemon core where a test checks the socket and the line
//! protocol, not the core), a client of the control socket, and the memory
//! measures of the event-channel tests.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use exabgp::api::ApiContext;
use exabgp::bgp::{Family, PathAttributes};
use exabgp::config::{Encoder, ProcessConfig, ReceiveKind};
use exabgp::control::{
    Command, ControlReply, ControlRequest, EventSender, MessageCounters, NeighborStatus, PeerState,
    RibEntry,
};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::mpsc;

/// Every command the stand-in received, in order.
pub type Seen = Arc<Mutex<Vec<Command>>>;

pub fn neighbor() -> NeighborStatus {
    NeighborStatus {
        peer_address: "192.0.2.254".parse().unwrap(),
        local_address: Some("192.0.2.1".parse().unwrap()),
        peer_as: 65000,
        local_as: 65001,
        router_id: Ipv4Addr::new(192, 0, 2, 1),
        peer_router_id: Some(Ipv4Addr::new(192, 0, 2, 254)),
        state: PeerState::Established,
        uptime: Some(Duration::from_secs(3723)),
        hold_time: 90,
        families: vec![Family::IPV4_UNICAST],
        sent: MessageCounters {
            open: 1,
            update: 12,
            notification: 0,
            keepalive: 40,
            route_refresh: 0,
        },
        received: MessageCounters {
            open: 1,
            update: 3,
            notification: 0,
            keepalive: 41,
            route_refresh: 1,
        },
        prefixes_in: 3,
        prefixes_out: 12,
        last_error: None,
        configuration: "[[neighbor]]\naddress = \"192.0.2.254\"".into(),
    }
}

/// Start the stand-in; `Teardown` of 192.0.2.99 and flow announces scoped to it
/// answer an error (unknown neighbor).
pub fn responder() -> (ApiContext, Seen) {
    let (tx, mut rx) = mpsc::channel::<ControlRequest>(64);
    let seen: Seen = Arc::default();
    let s = seen.clone();
    tokio::spawn(async move {
        while let Some(req) = rx.recv().await {
            let reply = match &req.command {
                Command::ShowNeighbor { .. } => ControlReply::Neighbors(vec![neighbor()]),
                Command::ShowAdjRib { .. } => ControlReply::Routes(vec![RibEntry {
                    neighbor: "192.0.2.254".parse().unwrap(),
                    prefix: "10.0.0.0/24".parse().unwrap(),
                    next_hop: Some(IpAddr::from([192, 0, 2, 1])),
                    attributes: Arc::new(PathAttributes {
                        med: Some(5),
                        ..Default::default()
                    }),
                    stale: false,
                }]),
                Command::Teardown { address, .. } if *address == IpAddr::from([192, 0, 2, 99]) => {
                    ControlReply::Error("no neighbor 192.0.2.99".into())
                }
                Command::AnnounceFlow { scope: Some(s), .. }
                    if s.contains(&IpAddr::from([192, 0, 2, 99])) =>
                {
                    ControlReply::Error("no neighbor matches".into())
                }
                _ => ControlReply::Done,
            };
            s.lock().unwrap().push(req.command.clone());
            let _ = req.reply.send(reply);
        }
    });
    (ApiContext::new(tx, None), seen)
}

/// A client of the control socket.
pub struct Client {
    r: BufReader<tokio::net::unix::OwnedReadHalf>,
    w: tokio::net::unix::OwnedWriteHalf,
}

impl Client {
    pub async fn connect(path: &Path) -> Client {
        let s = UnixStream::connect(path).await.unwrap();
        let (r, w) = s.into_split();
        Client {
            r: BufReader::new(r),
            w,
        }
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.w.write_all(bytes).await.unwrap();
    }

    /// Lines up to and including the terminator (bounded by a timeout).
    pub async fn answer(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        let fut = async {
            loop {
                let mut l = String::new();
                if self.r.read_line(&mut l).await.unwrap() == 0 {
                    out.push("<eof>".to_string());
                    return;
                }
                let l = l.trim_end().to_string();
                let end = l == "done" || l.starts_with("error:");
                out.push(l);
                if end {
                    return;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(30), fut)
            .await
            .expect("answer in time");
        out
    }

    pub async fn cmd(&mut self, line: &str) -> Vec<String> {
        self.send_raw(format!("{line}\n").as_bytes()).await;
        self.answer().await
    }
}

/// The test process's own VmRSS in KiB (0 when /proc cannot tell): the
/// memory tests compare it before and after a flood.
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The session of the stand-in's neighbor as events name it: 192.0.2.1 (AS 65001)
/// with 192.0.2.254 (AS 65000).
pub fn peer_info() -> exabgp::control::PeerInfo {
    exabgp::control::PeerInfo {
        local_address: Some("192.0.2.1".parse().unwrap()),
        peer_address: "192.0.2.254".parse().unwrap(),
        local_as: 65001,
        peer_as: 65000,
        peer_router_id: Some(Ipv4Addr::new(192, 0, 2, 254)),
        router_id: Ipv4Addr::new(192, 0, 2, 1),
    }
}

/// An UPDATE event announcing `n` /24s: about 30 bytes of JSON per prefix.
pub fn big_event(n: u32) -> exabgp::control::Event {
    use exabgp::bgp::{Prefix, Update};
    use exabgp::control::{Direction, Event, EventKind};
    Event {
        time: std::time::SystemTime::now(),
        peer: peer_info(),
        direction: Direction::Receive,
        kind: EventKind::Update(Box::new(Update {
            attributes: PathAttributes {
                origin: Some(exabgp::bgp::Origin::Igp),
                next_hop: Some(Ipv4Addr::new(192, 0, 2, 254)),
                ..Default::default()
            },
            nlri: (0..n)
                .map(|i| -> Prefix { format!("10.{}.{}.0/24", i / 256, i % 256).parse().unwrap() })
                .collect(),
            ..Default::default()
        })),
    }
}

/// A helper that never reads its stdin (`/bin/sleep 60`), JSON, receiving `receive`.
pub fn deaf_helper(receive: ReceiveKind) -> ProcessConfig {
    ProcessConfig {
        name: "deaf".into(),
        run: vec!["/bin/sleep".into(), "60".into()],
        encoder: Encoder::Json,
        receive: vec![receive],
        respawn_limit: 1,
        respawn_window: 60,
    }
}

/// Waits (at most 100 polls of 50 ms) until `etx` has one receiver: the helper
/// subscribed. Goes on after that even if it has not.
pub async fn wait_subscribed(etx: &EventSender) {
    for _ in 0..100 {
        if etx.receiver_count() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
