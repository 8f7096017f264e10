//! A helper's last stderr lines (often why it exits: the healthcheck says
//! "exiting: withdrawing the routes") are logged even when it exits right after
//! writing them behind many others, and when the daemon stops it: the daemon reads
//! its stderr to the end (bounded in time) before moving on. The log is slow
//! (1 ms a line, on a multi-threaded runtime as in the daemon), and the very last
//! words come from a process the helper left behind (out of its process group, so
//! not ended with it) writing 0.1 s after the helper has exited: without the wait
//! they are never read (6 runs out of 6 failed without it).

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use exabgp::api::helpers::{spawn_all, HelperEnd, HelperOptions};
use exabgp::config::{Encoder, ProcessConfig};
use support::until;
use tokio_util::sync::CancellationToken;

#[derive(Clone, Default)]
struct SlowLog(Arc<Mutex<Vec<u8>>>);

impl Write for SlowLog {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        std::thread::sleep(Duration::from_millis(1));
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `sh -c`: 20 lines of noise on stderr, then "NAME: last words", then `then`.
fn noisy(name: &str, then: &str) -> ProcessConfig {
    ProcessConfig {
        name: name.into(),
        run: vec![
            "/bin/sh".into(),
            "-c".into(),
            format!(
                "i=0; while [ $i -lt 20 ]; do echo \"noise $i\" >&2; i=$((i+1)); done; \
                 echo \"{name}: last words\" >&2; {then}"
            ),
        ],
        encoder: Encoder::Json,
        receive: vec![],
        respawn_limit: 0,
        respawn_window: 60,
    }
}

/// How long each [`support::until`] waits here.
const UNTIL: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_stderr_lines_of_a_helper_are_logged() {
    let log = SlowLog::default();
    let w = log.clone();
    // The only test of this binary: the global subscriber sees every worker thread.
    tracing_subscriber::fmt()
        .with_writer(move || w.clone())
        .with_ansi(false)
        .init();
    let logged = || String::from_utf8_lossy(&log.0.lock().unwrap()).to_string();
    let d = tempfile::tempdir().unwrap();
    let marker = d.path().join("looping");
    // Says bye 0.1 s after it has exited on SIGTERM, through a process of its own
    // session that holds its stderr (left 0.1 s to leave the group first).
    let stopper = format!(
        "trap 'setsid sh -c \"sleep 0.2; echo stopper: bye >&2\" </dev/null >/dev/null & sleep 0.1; exit 0' TERM; \
         touch {m}; while :; do sleep 0.05; done",
        m = marker.display()
    );
    // Exits 3 at 0.2 s; the late words come at 0.3 s (the 0.2 s lets the
    // grandchild leave the group before the helper's group is ended).
    let quitter = "setsid sh -c 'sleep 0.3; echo quitter: late words >&2' </dev/null >/dev/null & \
                   sleep 0.2; exit 3";
    let (ctx, _seen) = support::api::responder();
    let (etx, _) = exabgp::control::event_channel(16, 1 << 20);
    let token = CancellationToken::new();
    let opts = HelperOptions {
        grace: Duration::from_secs(2),
        respawn_delay: Duration::from_millis(20),
        ..Default::default()
    };
    let set = spawn_all(
        &[noisy("quitter", quitter), noisy("stopper", &stopper)],
        ctx,
        &etx,
        opts,
        token.clone(),
    );
    until(UNTIL, "the quitter given up", || {
        logged().contains("HELPER GIVEN UP: 'quitter'")
    })
    .await;
    let text = logged();
    assert!(text.contains("quitter: last words"), "{text}");
    assert!(text.contains("noise 19"), "{text}");
    assert!(text.contains("quitter: late words"), "{text}");
    // The stopper's noise is all logged; now the shutdown stops it and it says bye.
    until(UNTIL, "the stopper's last words", || {
        marker.exists() && logged().contains("stopper: last words")
    })
    .await;
    token.cancel();
    let ends = tokio::time::timeout(Duration::from_secs(30), set.wait())
        .await
        .unwrap();
    assert_eq!(
        ends,
        vec![
            ("quitter".to_string(), HelperEnd::GaveUp { starts: 1 }),
            ("stopper".to_string(), HelperEnd::Shutdown)
        ]
    );
    let text = logged();
    assert!(text.contains("stopper: bye"), "{text}");
}
