//! What a helper starts does not outlive it: each helper runs in its own process
//! group, and both a respawn (the helper exited, its `sleep` still running) and the
//! daemon's stop end the whole group. The helper is a real shell script; the
//! grandchild is a real `sleep`, watched in /proc.

mod support;

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use exabgp::api::helpers::{spawn_all, HelperOptions};
use exabgp::config::{Encoder, ProcessConfig};
use support::until;
use tokio_util::sync::CancellationToken;

/// Running (not a zombie, not gone).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // "PID (comm) STATE ...": the state follows the last ')'.
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// The pids the helper instances wrote, one a line.
fn pids(p: &Path) -> Vec<u32> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// How long each [`support::until`] waits here.
const UNTIL: Duration = Duration::from_secs(10);

#[tokio::test]
async fn grandchildren_end_with_their_helper_on_respawn_and_on_stop() {
    let d = tempfile::tempdir().unwrap();
    let pidfile = d.path().join("pids");
    let flag = d.path().join("first-done");
    // Each instance starts a `sleep` in the background; the first then exits
    // (leaving its sleep behind), the second waits for its sleep.
    let script = d.path().join("helper.sh");
    std::fs::write(
        &script,
        format!(
            "sleep 300 &\necho $! >> {pids}\nif [ ! -e {flag} ]; then touch {flag}; exit 0; fi\nwait\n",
            pids = pidfile.display(),
            flag = flag.display()
        ),
    )
    .unwrap();
    let helper = ProcessConfig {
        name: "spawner".into(),
        run: vec!["/bin/sh".into(), script.display().to_string()],
        encoder: Encoder::Text,
        receive: vec![],
        respawn_limit: 5,
        respawn_window: 60,
    };
    let (ctx, _seen) = support::api::responder();
    let (etx, _) = exabgp::control::event_channel(16, 1 << 20);
    let token = CancellationToken::new();
    let opts = HelperOptions {
        grace: Duration::from_secs(2),
        respawn_delay: Duration::from_millis(20),
        ..Default::default()
    };
    let set = spawn_all(&[helper], ctx, &etx, opts, token.clone());
    let stats = set.helpers[0].1.clone();
    until(UNTIL, "the second instance's sleep", || {
        pids(&pidfile).len() == 2
    })
    .await;
    assert_eq!(stats.starts.load(Ordering::Relaxed), 2);
    let (first, second) = (pids(&pidfile)[0], pids(&pidfile)[1]);
    until(
        UNTIL,
        "the first instance's sleep to end after the respawn",
        || !alive(first),
    )
    .await;
    assert!(alive(second), "the running instance's sleep is alive");
    token.cancel();
    set.wait().await;
    until(
        UNTIL,
        "the second instance's sleep to end after the stop",
        || !alive(second),
    )
    .await;
}

/// The group is signalled while the exited helper is still unreaped (a zombie):
/// its pid, the group's id, cannot have been given to another process. The
/// helper's background child records, when SIGTERM reaches it, whether the
/// helper's pid is still there (/proc/PID exists for a zombie, not once reaped).
/// A second child ignores SIGTERM: it is seen in the group and killed after the
/// grace time all the same.
#[tokio::test]
async fn the_group_is_ended_before_the_helper_is_reaped() {
    let d = tempfile::tempdir().unwrap();
    let seen = d.path().join("seen");
    let stubborn = d.path().join("stubborn");
    let script = d.path().join("helper.sh");
    std::fs::write(
        &script,
        format!(
            "leader=$$\n\
             sh -c 'trap \"if [ -e /proc/'$leader' ]; then echo pinned; else echo reaped; fi > {seen}; exit 0\" TERM; \
             n=0; while [ $n -lt 600 ]; do sleep 0.1; n=$((n+1)); done' &\n\
             sh -c 'trap \"\" TERM; n=0; while [ $n -lt 600 ]; do sleep 0.1; n=$((n+1)); done' &\n\
             echo $! > {stubborn}\n\
             sleep 0.5\nexit 0\n",
            seen = seen.display(),
            stubborn = stubborn.display()
        ),
    )
    .unwrap();
    let helper = ProcessConfig {
        name: "leaver".into(),
        run: vec!["/bin/sh".into(), script.display().to_string()],
        encoder: Encoder::Text,
        receive: vec![],
        respawn_limit: 1,
        respawn_window: 60,
    };
    let (ctx, _seen) = support::api::responder();
    let (etx, _) = exabgp::control::event_channel(16, 1 << 20);
    let token = CancellationToken::new();
    let opts = HelperOptions {
        grace: Duration::from_secs(2),
        respawn_delay: Duration::from_secs(30),
        ..Default::default()
    };
    let set = spawn_all(&[helper], ctx, &etx, opts, token.clone());
    until(UNTIL, "the background child's answer", || {
        std::fs::read_to_string(&seen).is_ok_and(|s| !s.is_empty())
    })
    .await;
    let s = std::fs::read_to_string(&seen).unwrap_or_default();
    assert_eq!(
        s.trim(),
        "pinned",
        "the helper was reaped before its group was signalled"
    );
    let stubborn = pids(&stubborn);
    assert_eq!(stubborn.len(), 1);
    until(UNTIL, "the child that ignores SIGTERM to be killed", || {
        !alive(stubborn[0])
    })
    .await;
    token.cancel();
    set.wait().await;
}
