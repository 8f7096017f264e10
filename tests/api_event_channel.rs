//! The event channel between the sessions and the helpers is bounded in bytes: a
//! burst of big UPDATE events sent faster than a helper's pump can take them (the
//! pump cannot run at all while the sender holds the only thread) is held up to
//! the channel's budget, the rest dropped and counted, and this process's memory
//! does not grow with the burst. The helper is a real child process that never
//! reads. (Its own test binary: the RSS it measures is this process's.)

mod support;

use std::time::Duration;
use support::api::{big_event, rss_kib};

use exabgp::api::helpers::{spawn_all, HelperOptions};
use exabgp::config::ReceiveKind;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "current_thread")]
async fn a_burst_beyond_the_channel_budget_is_dropped_and_counted() {
    let budget = 4 << 20;
    let deaf = support::api::deaf_helper(ReceiveKind::Update);
    let (ctx, _seen) = support::api::responder();
    let (etx, _) = exabgp::control::event_channel(4096, budget);
    let token = CancellationToken::new();
    let opts = HelperOptions {
        grace: Duration::from_millis(200),
        ..Default::default()
    };
    let set = spawn_all(&[deaf], ctx, &etx, opts, token.clone());
    support::api::wait_subscribed(&etx).await;
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
