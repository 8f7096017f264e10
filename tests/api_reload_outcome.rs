//! What a reload reports when the daemon core answers late: the real outcome,
//! never "rejected" for a configuration that is applied after the reply timeout.
//!
//! The core here is a stand-in task on the real control channel that answers
//! ApplyConfig after a delay chosen by the test: the real core applies a
//! configuration in bounded time (a few seconds), and making it slower than the
//! 60 s reply timeout on purpose cannot be done deterministically. The normal
//! path with the real process (SIGHUP and `reload`, RELOADING=1/READY=1) is
//! covered by e2e_lifecycle and system_notify.
//!
//! The clock is paused (`start_paused`): tokio advances it only when every task
//! waits, so "the core answers after 250 ms, the reply timeout is 100 ms" gives
//! exactly two timeouts whatever the machine's load.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use exabgp::api::{self, ApiContext, ReloadError};
use exabgp::control::{Command, ControlReply, ControlRequest};
use tokio::sync::mpsc;

const CONFIG: &str = "[global]\nrouter-id = \"192.0.2.1\"\nlocal-as = 65001\n\n[[neighbor]]\naddress = \"192.0.2.200\"\npeer-as = 65200\npassive = true\n";

/// A context whose reloader yields CONFIG, with a 100 ms reply timeout, served by
/// a core that answers ApplyConfig with `reply` after `delay` (never when None).
fn context(delay: Option<Duration>, reply: ControlReply) -> ApiContext {
    let (tx, mut rx) = mpsc::channel::<ControlRequest>(8);
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Some(req) = rx.recv().await {
            assert!(matches!(req.command, Command::ApplyConfig(_)));
            match delay {
                Some(d) => {
                    let reply = reply.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(d).await;
                        let _ = req.reply.send(reply);
                    });
                }
                // Keeps the request (and its reply sender) unanswered.
                None => held.push(req),
            }
        }
    });
    let reloader: api::Reloader =
        Arc::new(|| exabgp::config::parse_str(CONFIG, "t.toml").map_err(|e| e.to_string()));
    let mut ctx = ApiContext::new(tx, Some(reloader));
    ctx.reply_timeout = Duration::from_millis(100);
    ctx
}

/// Applied after 2.5 reply timeouts: the reload reports success (it used to
/// report "no answer" as a failure, and SIGHUP logged "configuration rejected").
#[tokio::test(start_paused = true)]
async fn a_late_answer_is_the_outcome() {
    let ctx = context(Some(Duration::from_millis(250)), ControlReply::Done);
    let r = api::reload_and_apply(&ctx).await;
    assert_eq!(r, Ok(vec!["192.0.2.200".parse().unwrap()]));
}

/// Each reply timeout that passes is reported as "still in progress", then the
/// real outcome.
#[tokio::test(start_paused = true)]
async fn progress_is_reported_while_waiting() {
    let ctx = context(Some(Duration::from_millis(250)), ControlReply::Done);
    let calls = AtomicU32::new(0);
    let r = api::reload_and_apply_with(&ctx, |_| {
        calls.fetch_add(1, Ordering::Relaxed);
    })
    .await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(calls.load(Ordering::Relaxed), 2);
}

/// A late refusal is a refusal.
#[tokio::test(start_paused = true)]
async fn a_late_refusal_is_a_refusal() {
    let ctx = context(
        Some(Duration::from_millis(150)),
        ControlReply::Error("no".into()),
    );
    let r = api::reload_and_apply(&ctx).await;
    assert_eq!(r, Err(ReloadError::Apply("no".into())));
}

/// No answer at all within the patience: "still in progress", not rejected.
#[tokio::test(start_paused = true)]
async fn no_answer_is_pending_never_rejected() {
    let ctx = context(None, ControlReply::Done);
    let r = api::reload_and_apply(&ctx).await;
    let e = r.unwrap_err();
    assert!(matches!(e, ReloadError::Pending(_)), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("still in progress") && !text.contains("rejected"),
        "{text}"
    );
}
