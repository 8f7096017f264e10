//! A helper (a real child process) that asks for large answers in a loop and
//! does not read its stdin: the answers are charged to its byte budget, so this
//! process's memory does not grow with them, and when the helper starts reading
//! it still finds one `done` / `error:` line per command.
//! (Its own test binary: the RSS it measures is this process's.)

mod support;

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::api::rss_kib;

use exabgp::api::helpers::{spawn_all, HelperOptions};
use exabgp::api::ApiContext;
use exabgp::bgp::PathAttributes;
use exabgp::config::{Encoder, ProcessConfig, ReceiveKind};
use exabgp::control::{Command, ControlReply, ControlRequest, RibEntry};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Answers `show adj-rib` with `routes` routes (about 1 MB of JSON for 8000),
/// anything else with done; counts the shows.
fn big_rib_core(routes: u32) -> (ApiContext, Arc<AtomicUsize>) {
    let (tx, mut rx) = mpsc::channel::<ControlRequest>(64);
    let shows = Arc::new(AtomicUsize::new(0));
    let n = shows.clone();
    let attributes = Arc::new(PathAttributes {
        med: Some(5),
        ..Default::default()
    });
    let rib: Vec<RibEntry> = (0..routes)
        .map(|i| RibEntry {
            neighbor: "192.0.2.254".parse().unwrap(),
            prefix: format!("10.{}.{}.0/24", i / 256, i % 256).parse().unwrap(),
            next_hop: Some(IpAddr::from([192, 0, 2, 1])),
            attributes: attributes.clone(),
            stale: false,
        })
        .collect();
    tokio::spawn(async move {
        while let Some(req) = rx.recv().await {
            let reply = match &req.command {
                Command::ShowAdjRib { .. } => {
                    n.fetch_add(1, Ordering::SeqCst);
                    ControlReply::Routes(rib.clone())
                }
                _ => ControlReply::Done,
            };
            let _ = req.reply.send(reply);
        }
    });
    (ApiContext::new(tx, None), shows)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_to_a_helper_that_does_not_read_are_bounded_in_bytes() {
    const COMMANDS: usize = 100;
    let budget = 2 << 20;
    let dir = tempfile::tempdir().unwrap();
    let go = dir.path().join("go");
    let out = dir.path().join("out");
    // Sends its commands, reads nothing until `go` exists, then copies its stdin.
    let script = format!(
        "i=0; while [ $i -lt {COMMANDS} ]; do echo 'show adj-rib in json'; i=$((i+1)); done; \
         n=0; while [ ! -e \"$1/go\" ] && [ $n -lt 4000 ]; do sleep 0.05; n=$((n+1)); done; \
         exec cat > \"$1/out\""
    );
    let helper = ProcessConfig {
        name: "greedy".into(),
        run: vec![
            "/bin/sh".into(),
            "-c".into(),
            script,
            "sh".into(),
            dir.path().display().to_string(),
        ],
        encoder: Encoder::Json,
        receive: vec![ReceiveKind::Update],
        respawn_limit: 1,
        respawn_window: 60,
    };
    let (ctx, shows) = big_rib_core(8000);
    let (etx, _) = exabgp::control::event_channel(64, 1 << 30);
    let token = CancellationToken::new();
    let opts = HelperOptions {
        queue_bytes: budget,
        grace: Duration::from_millis(200),
        ..Default::default()
    };
    let before = rss_kib();
    let set = spawn_all(&[helper], ctx, &etx, opts, token.clone());
    let stats = set.helpers[0].1.clone();
    // Each answer is about 1 MB of JSON built in a debug build: on a loaded
    // 2-core machine 100 of them take over 30 s, so the bound is 150 s (the
    // helper's own wait for `go`, above, is longer still: 200 s).
    for _ in 0..3000 {
        if shows.load(Ordering::SeqCst) == COMMANDS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(shows.load(Ordering::SeqCst), COMMANDS, "every command ran");
    // The last answer is queued shortly after its command ran.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let grown = rss_kib().saturating_sub(before);
    let dropped = stats.dropped_answers.load(Ordering::Relaxed);
    eprintln!("{COMMANDS} answers of about 1 MB, budget {budget}: dropped {dropped}, RSS grew {grown} KiB");
    assert!(grown < 32 * 1024, "RSS grew by {grown} KiB");
    assert!(dropped >= (COMMANDS - 4) as u64, "dropped {dropped}");

    // Now it reads: one last line per command, the dropped ones as errors.
    std::fs::write(&go, b"").unwrap();
    let mut last = (0, 0);
    for _ in 0..600 {
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        let done = text.lines().filter(|l| *l == "done").count();
        let errors = text.lines().filter(|l| l.starts_with("error:")).count();
        last = (done, errors);
        if done + errors >= COMMANDS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("acks read: {} done, {} error", last.0, last.1);
    assert_eq!(last.0 + last.1, COMMANDS, "one ack per command");
    assert!(last.0 >= 1, "the answers that fit were written whole");
    assert_eq!(last.1 as u64, dropped);
    token.cancel();
    set.wait().await;
}
