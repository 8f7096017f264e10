//! The event channel between the sessions and the helpers is bounded in bytes: a
//! burst of big UPDATE events sent faster than a helper's pump can take them (the
//! pump cannot run at all while the sender holds the only thread) is held up to
//! the channel's budget, the rest dropped and counted, and this process's memory
//! does not grow with the burst. The helper is a real child process that never
//! reads. (Its own test binary: the RSS it measures is this process's.)

mod api_support;

use std::net::Ipv4Addr;
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

#[tokio::test(flavor = "current_thread")]
async fn a_burst_beyond_the_channel_budget_is_dropped_and_counted() {
    let budget = 4 << 20;
    let deaf = ProcessConfig {
        name: "deaf".into(),
        run: vec!["/bin/sleep".into(), "60".into()],
        encoder: Encoder::Json,
        receive: vec![ReceiveKind::Update],
        respawn_limit: 1,
        respawn_window: 60,
    };
    let (ctx, _seen) = api_support::responder();
    let (etx, _) = exabgp::control::event_channel(4096, budget);
    let token = CancellationToken::new();
    let opts = HelperOptions {
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
    let ev = big_event(4000);
    let before = rss_kib();
    // 2000 events of ~100 KB decoded each (200 MB), with no await in between.
    let mut most = 0usize;
    for _ in 0..2000 {
        let _ = etx.send(ev.clone());
        most = most.max(etx.held_bytes());
    }
    let grown = rss_kib().saturating_sub(before);
    eprintln!(
        "channel held at most {most} bytes (budget {budget}), {} events; dropped {}; RSS grew {grown} KiB",
        etx.len(),
        etx.dropped()
    );
    assert!(most <= budget, "{most}");
    assert!(etx.dropped() > 1500, "dropped {}", etx.dropped());
    assert!(grown < 32 * 1024, "RSS grew by {grown} KiB");
    // The helper's pump then takes what the channel held: the bytes come back.
    for _ in 0..200 {
        if etx.held_bytes() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(etx.held_bytes(), 0);
    token.cancel();
    set.wait().await;
}
