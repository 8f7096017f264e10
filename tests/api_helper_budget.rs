//! A helper that never reads its stdin (a real child process) while big UPDATE
//! events keep coming: its queue holds at most its byte budget, the rest is
//! dropped and counted, and this process's memory does not grow with the flood.
//! (Its own test binary: the RSS it measures is this process's.)

mod api_support;

use std::net::Ipv4Addr;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use exabgp::api::helpers::{spawn_all, HelperOptions};
use exabgp::bgp::{PathAttributes, Prefix, Update};
use exabgp::config::{Encoder, ProcessConfig, ReceiveKind};
use exabgp::control::{Direction, Event, EventKind, PeerInfo};
use tokio_util::sync::CancellationToken;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// An UPDATE event announcing `n` /24s: about 30 bytes of JSON per prefix.
fn big_event(n: u32) -> Event {
    Event {
        time: SystemTime::now(),
        peer: PeerInfo {
            local_address: Some("192.0.2.1".parse().unwrap()),
            peer_address: "192.0.2.254".parse().unwrap(),
            local_as: 65001,
            peer_as: 65000,
            peer_router_id: Some(Ipv4Addr::new(192, 0, 2, 254)),
        },
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deaf_helper_holds_at_most_its_byte_budget() {
    let budget = 2 << 20;
    let deaf = ProcessConfig {
        name: "deaf".into(),
        run: vec!["/bin/sleep".into(), "60".into()],
        encoder: Encoder::Json,
        receive: vec![ReceiveKind::Update],
        respawn_limit: 1,
        respawn_window: 60,
    };
    let (ctx, _seen) = api_support::responder();
    let (etx, _) = exabgp::control::event_channel(64, 1 << 30);
    let token = CancellationToken::new();
    let opts = HelperOptions {
        queue_bytes: budget,
        grace: Duration::from_millis(200),
        ..Default::default()
    };
    let set = spawn_all(&[deaf], ctx, &etx, opts, token.clone());
    for _ in 0..100 {
        if etx.receiver_count() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stats = set.helpers[0].1.clone();
    // Wait until the helper runs (its stdin pipe exists).
    for _ in 0..100 {
        if stats.starts.load(Ordering::Relaxed) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ev = big_event(2000);
    let before = rss_kib();
    // 2000 events of ~60 KB of JSON: about 120 MB offered to a helper that reads none.
    let mut most = 0usize;
    // Paced so the pump keeps up with the channel: what is lost is lost at the
    // helper's queue, not by lagging behind the channel.
    for _ in 0..2000 {
        let _ = etx.send(ev.clone());
        tokio::time::sleep(Duration::from_millis(2)).await;
        most = most.max(stats.queued_bytes.load(Ordering::Relaxed));
    }
    // Let the pump finish what the channel holds.
    for _ in 0..100 {
        if etx.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    most = most.max(stats.queued_bytes.load(Ordering::Relaxed));
    let grown = rss_kib().saturating_sub(before);
    let dropped = stats.dropped.load(Ordering::Relaxed);
    eprintln!(
        "queued at most {most} bytes (budget {budget}), dropped {dropped}, RSS grew {grown} KiB"
    );
    assert!(most <= budget, "{most} bytes queued, budget {budget}");
    assert!(most > budget / 2, "the queue was used: {most}");
    assert!(dropped > 1000, "dropped {dropped}");
    assert!(grown < 32 * 1024, "RSS grew by {grown} KiB");
    token.cancel();
    set.wait().await;
}
