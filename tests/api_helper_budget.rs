//! A helper that never reads its stdin (a real child process) while big UPDATE
//! events keep coming: its queue holds at most its byte budget, the rest is
//! dropped and counted, and this process's memory does not grow with the flood.
//! (Its own test binary: the RSS it measures is this process's.)

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;
use support::api::{big_event, rss_kib};

use exabgp::api::helpers::{spawn_all, HelperOptions};
use exabgp::config::ReceiveKind;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deaf_helper_holds_at_most_its_byte_budget() {
    let budget = 2 << 20;
    let deaf = support::api::deaf_helper(ReceiveKind::Update);
    let (ctx, _seen) = support::api::responder();
    let (etx, _) = exabgp::control::event_channel(64, 1 << 30);
    let token = CancellationToken::new();
    let opts = HelperOptions {
        queue_bytes: budget,
        grace: Duration::from_millis(200),
        ..Default::default()
    };
    let set = spawn_all(&[deaf], ctx, &etx, opts, token.clone());
    support::api::wait_subscribed(&etx).await;
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
