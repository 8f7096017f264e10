//! Helper processes, run for real: commands on their stdout reach the daemon,
//! acks and events reach their stdin, bad lines are refused without harm, a helper
//! that does not read is dropped-and-counted, respawns are limited, shutdown
//! terminates (SIGTERM, then SIGKILL), systemd's variables are not inherited,
//! stderr lines land in our log.

mod support;

use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use exabgp::api::helpers::{spawn_all, HelperEnd, HelperOptions, HelperSet};
use exabgp::bgp::{PathAttributes, Prefix, Update};
use exabgp::config::{Encoder, ProcessConfig, ReceiveKind};
use exabgp::control::{Command, Direction, Event, EventKind, PeerInfo, SessionState};
use support::api::{responder, Seen};
use support::until;
use tokio_util::sync::CancellationToken;

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

fn process(
    name: &str,
    run: Vec<String>,
    encoder: Encoder,
    receive: Vec<ReceiveKind>,
) -> ProcessConfig {
    ProcessConfig {
        name: name.into(),
        run,
        encoder,
        receive,
        respawn_limit: 5,
        respawn_window: 60,
    }
}

fn py(p: &Path) -> Vec<String> {
    vec!["python3".into(), "-u".into(), p.display().to_string()]
}

/// A JSON helper run as `python3 -u SCRIPT`, receiving no events.
fn json_helper(name: &str, script: &Path) -> ProcessConfig {
    process(name, py(script), Encoder::Json, vec![])
}

fn quick() -> HelperOptions {
    HelperOptions {
        grace: Duration::from_millis(500),
        respawn_delay: Duration::from_millis(20),
        ..Default::default()
    }
}

/// How long each [`support::until`] waits here (a loaded CI machine starts
/// python helpers slowly: 10 s was once not enough there).
const UNTIL: Duration = Duration::from_secs(30);

/// Helpers running under the stand-in core.
struct Running {
    /// The commands the helpers sent, in order.
    seen: Seen,
    etx: exabgp::control::EventSender,
    token: CancellationToken,
    set: HelperSet,
}

/// Starts `procs` with the stand-in core and an event channel of `capacity`.
fn start(procs: &[ProcessConfig], capacity: usize, opts: HelperOptions) -> Running {
    let (ctx, seen) = responder();
    let (etx, _) = exabgp::control::event_channel(capacity, 1 << 30);
    let token = CancellationToken::new();
    let set = spawn_all(procs, ctx, &etx, opts, token.clone());
    Running {
        seen,
        etx,
        token,
        set,
    }
}

impl Running {
    /// Shuts the helpers down; how each ended.
    async fn stop(self) -> Vec<(String, HelperEnd)> {
        self.token.cancel();
        self.set.wait().await
    }
}

/// An UPDATE (origin igp, next hop 192.0.2.254) announcing `nlri`.
fn update(nlri: Vec<Prefix>) -> Update {
    Update {
        attributes: PathAttributes {
            origin: Some(exabgp::bgp::Origin::Igp),
            next_hop: Some(Ipv4Addr::new(192, 0, 2, 254)),
            ..Default::default()
        },
        nlri,
        ..Default::default()
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

fn ev(kind: EventKind) -> Event {
    Event {
        time: SystemTime::now(),
        peer: support::api::peer_info(),
        direction: Direction::Receive,
        kind,
    }
}

#[tokio::test]
async fn commands_from_stdout_and_acks_to_stdin() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("acks");
    let s = script(
        d.path(),
        "h.py",
        &format!(
            r##"
import sys, time
out = open({out:?}, "w")
for cmd in ["announce route 10.0.0.0/24 next-hop self", "bogus command", "show neighbor summary", "# comment", ""]:
    sys.stdout.write(cmd + "\n"); sys.stdout.flush()
# Read answers until the third terminator (the comment and blank line get none).
n = 0
while n < 3:
    line = sys.stdin.readline()
    if not line: break
    out.write(line); out.flush()
    if line == "done\n" or line.startswith("error:"): n += 1
time.sleep(30)
"##
        ),
    );
    let r = start(&[json_helper("h", &s)], 16, quick());
    until(UNTIL, "three answers", || {
        read(&out).matches('\n').count() >= 3 && read(&out).contains("Peer")
    })
    .await;
    let text = read(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "done", "{text}");
    assert_eq!(
        lines[1], "error: unknown command 'bogus' (try 'help')",
        "{text}"
    );
    assert!(lines[2].starts_with("Peer"), "{text}");
    assert_eq!(*lines.last().unwrap(), "done", "{text}");
    assert!(matches!(
        r.seen.lock().unwrap()[0],
        Command::Announce { .. }
    ));
    let ends = r.stop().await;
    assert_eq!(ends, vec![("h".to_string(), HelperEnd::Shutdown)]);
}

#[tokio::test]
async fn ack_off_writes_no_terminators() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("got");
    let s = script(
        d.path(),
        "h.py",
        &format!(
            r##"
import sys, time, select
out = open({out:?}, "w")
print("announce route 10.0.0.0/24 next-hop self", flush=True)
print("version", flush=True)
# Whatever comes in 2 s is recorded.
end = time.time() + 2
while time.time() < end:
    r, _, _ = select.select([sys.stdin], [], [], 0.1)
    if r:
        line = sys.stdin.readline()
        if not line: break
        out.write(line); out.flush()
out.write("END\n"); out.flush()
time.sleep(30)
"##
        ),
    );
    let opts = HelperOptions {
        ack: false,
        ..quick()
    };
    let r = start(&[json_helper("h", &s)], 16, opts);
    until(UNTIL, "END", || read(&out).contains("END")).await;
    let text = read(&out);
    assert!(!text.contains("done"), "{text}");
    assert!(
        text.contains("exabgp-rs"),
        "the version output itself is still written: {text}"
    );
    assert_eq!(r.seen.lock().unwrap().len(), 1);
    r.stop().await;
}

#[tokio::test]
async fn events_reach_helpers_in_their_encoding_and_filter() {
    let d = tempfile::tempdir().unwrap();
    let mk = |name: &str| {
        let out = d.path().join(name);
        let s = script(
            d.path(),
            &format!("{name}.py"),
            &format!("import sys\nout = open({out:?}, 'w')\nfor line in sys.stdin:\n    out.write(line); out.flush()\n"),
        );
        (out, py(&s))
    };
    let (json_out, json_run) = mk("json");
    let (text_out, text_run) = mk("text");
    let (state_out, state_run) = mk("state");
    let procs = [
        process(
            "json",
            json_run,
            Encoder::Json,
            vec![ReceiveKind::Update, ReceiveKind::State],
        ),
        process(
            "text",
            text_run,
            Encoder::Text,
            vec![ReceiveKind::Update, ReceiveKind::State],
        ),
        process("state", state_run, Encoder::Json, vec![ReceiveKind::State]),
    ];
    let r = start(&procs, 64, quick());
    let etx = &r.etx;
    // Wait until all three helpers subscribed.
    until(UNTIL, "subscribers", || etx.receiver_count() == 3).await;
    let upd = update(vec!["10.0.2.0/24".parse().unwrap()]);
    etx.send(ev(EventKind::State {
        state: SessionState::Up,
        reason: None,
    }))
    .unwrap();
    etx.send(ev(EventKind::Update(Box::new(upd)))).unwrap();
    // A sent message is not for `receive` helpers.
    let mut sent = ev(EventKind::Keepalive);
    sent.direction = Direction::Send;
    etx.send(sent).unwrap();
    until(UNTIL, "json lines", || read(&json_out).lines().count() >= 2).await;
    until(UNTIL, "text lines", || read(&text_out).lines().count() >= 4).await;
    until(UNTIL, "state line", || {
        read(&state_out).lines().count() >= 1
    })
    .await;
    let j: Vec<serde_json::Value> = read(&json_out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(j[0]["type"], "state");
    assert_eq!(j[0]["counter"], 1);
    assert_eq!(j[1]["type"], "update");
    assert_eq!(j[1]["counter"], 2);
    assert_eq!(
        j[1]["neighbor"]["message"]["update"]["announce"]["ipv4 unicast"]["192.0.2.254"][0]["nlri"],
        "10.0.2.0/24"
    );
    let t = read(&text_out);
    assert!(t.starts_with("neighbor 192.0.2.254 up\n"), "{t}");
    assert!(t.contains("neighbor 192.0.2.254 receive update announced 10.0.2.0/24 next-hop 192.0.2.254 origin igp"), "{t}");
    r.stop().await;
    // The state-only helper saw exactly the state event.
    let s = read(&state_out);
    assert_eq!(s.lines().count(), 1, "{s}");
    assert!(s.contains("\"state\""));
}

#[tokio::test]
async fn long_lines_and_binary_garbage_are_refused_and_the_helper_goes_on() {
    let d = tempfile::tempdir().unwrap();
    let acks = d.path().join("acks");
    let s = script(
        d.path(),
        "h.py",
        &format!(
            r##"
import sys, time
out = open({acks:?}, "w")
w = sys.stdout.buffer
w.write(b"x" * (1024 * 1024) + b"\n")
w.write(b"\xff\xfe\x00garbage\x80\n")
w.write(b"announce route 10.5.0.0/16 next-hop self\n")
w.flush()
n = 0
while n < 3:
    line = sys.stdin.readline()
    if not line: break
    out.write(line); out.flush(); n += 1
time.sleep(30)
"##
        ),
    );
    let r = start(&[json_helper("g", &s)], 16, quick());
    until(UNTIL, "three acks", || read(&acks).lines().count() >= 3).await;
    let text = read(&acks);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "error: line too long (1048576 bytes, limit 65536)"
    );
    assert_eq!(lines[1], "error: line is not UTF-8 text");
    assert_eq!(lines[2], "done");
    let seen = r.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "only the valid command ran: {seen:?}");
    let stats = r.set.helpers[0].1.clone();
    assert_eq!(stats.bad_lines.load(Ordering::Relaxed), 2);
    assert_eq!(
        stats.starts.load(Ordering::Relaxed),
        1,
        "the helper was not restarted"
    );
    r.stop().await;
}

/// One JSON helper receiving updates through a 64 KiB queue, to be flooded;
/// returns once it is subscribed.
async fn start_flooded(name: &str, run: Vec<String>) -> Running {
    let opts = HelperOptions {
        queue_bytes: 64 * 1024,
        ..quick()
    };
    let r = start(
        &[process(name, run, Encoder::Json, vec![ReceiveKind::Update])],
        256,
        opts,
    );
    until(UNTIL, "subscribed", || r.etx.receiver_count() == 1).await;
    r
}

/// An UPDATE announcing `n` distinct /24s (a big event).
fn update_of(n: u32) -> Update {
    update(
        (0..n)
            .map(|i| format!("10.{}.{}.0/24", i / 256, i % 256).parse().unwrap())
            .collect(),
    )
}

#[tokio::test]
async fn a_helper_that_does_not_read_loses_events_not_the_daemon() {
    let d = tempfile::tempdir().unwrap();
    let s = script(
        d.path(),
        "deaf.py",
        "import time, sys\nprint('announce route 10.6.0.0/16 next-hop self', flush=True)\ntime.sleep(3)\nprint('announce route 10.6.1.0/24 next-hop self', flush=True)\ntime.sleep(30)\n",
    );
    let r = start_flooded("deaf", py(&s)).await;
    // Far more than the pipe (64 KiB) plus the queue can hold; sending never blocks.
    let big = update_of(200);
    for _ in 0..2000 {
        let _ = r.etx.send(ev(EventKind::Update(Box::new(big.clone()))));
        tokio::task::yield_now().await;
    }
    let stats = r.set.helpers[0].1.clone();
    until(UNTIL, "drops counted", || {
        stats.dropped.load(Ordering::Relaxed) > 0
    })
    .await;
    // Its commands are still served.
    until(UNTIL, "second command", || {
        r.seen.lock().unwrap().len() == 2
    })
    .await;
    r.stop().await;
}

/// A helper that waits for its `done` gets it even while events keep its queue
/// and its pipe full (answers have their own queue, written before events).
#[tokio::test]
async fn an_ack_is_never_lost_behind_queued_events() {
    let d = tempfile::tempdir().unwrap();
    let result = d.path().join("result");
    let s = script(
        d.path(),
        "waits_for_done.py",
        "import sys, time\n\
         time.sleep(2)\n\
         print('announce route 10.8.0.0/16 next-hop self', flush=True)\n\
         ok = False\n\
         for n, line in enumerate(sys.stdin):\n\
         \x20   if line.strip() == 'done':\n\
         \x20       ok = True\n\
         \x20       break\n\
         \x20   if n > 20000:\n\
         \x20       break\n\
         open(sys.argv[1], 'w').write('done' if ok else 'no done')\n\
         time.sleep(30)\n",
    );
    let mut run = py(&s);
    run.push(result.display().to_string());
    let r = start_flooded("waits", run).await;
    // Events all along, far more than its pipe and its queue hold, until the
    // helper has decided (bounded: 20 s).
    let big = update_of(50);
    let (etx, flag) = (r.etx.clone(), result.clone());
    let flood = tokio::spawn(async move {
        let end = tokio::time::Instant::now() + Duration::from_secs(20);
        while read(&flag).is_empty() && tokio::time::Instant::now() < end {
            for _ in 0..20 {
                let _ = etx.send(ev(EventKind::Update(Box::new(big.clone()))));
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    });
    let stats = r.set.helpers[0].1.clone();
    until(UNTIL, "events dropped", || {
        stats.dropped.load(Ordering::Relaxed) > 0
    })
    .await;
    until(UNTIL, "the command ran", || {
        r.seen.lock().unwrap().len() == 1
    })
    .await;
    until(UNTIL, "the helper finished reading", || {
        !read(&result).is_empty()
    })
    .await;
    flood.await.unwrap();
    assert_eq!(read(&result), "done", "the helper's ack was lost");
    assert_eq!(stats.dropped_answers.load(Ordering::Relaxed), 0);
    r.stop().await;
}

#[tokio::test]
async fn respawn_is_limited() {
    let mut p = process(
        "crashy",
        vec!["/bin/sh".into(), "-c".into(), "exit 3".into()],
        Encoder::Json,
        vec![],
    );
    p.respawn_limit = 3;
    let mut missing = process(
        "missing",
        vec!["/nonexistent/helper".into()],
        Encoder::Json,
        vec![],
    );
    missing.respawn_limit = 2;
    let r = start(&[p, missing], 16, quick());
    let ends = tokio::time::timeout(Duration::from_secs(30), r.set.wait())
        .await
        .unwrap();
    assert_eq!(
        ends,
        vec![
            ("crashy".to_string(), HelperEnd::GaveUp { starts: 4 }),
            ("missing".to_string(), HelperEnd::GaveUp { starts: 3 })
        ]
    );
}

fn alive(pid: i32) -> bool {
    // A zombie is gone for our purpose; /proc tells the state.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s.split_whitespace().nth(2).is_some_and(|st| st == "Z"),
        Err(_) => false,
    }
}

#[tokio::test]
async fn shutdown_terminates_helpers_sigkill_for_the_stubborn() {
    let d = tempfile::tempdir().unwrap();
    let polite_pid = d.path().join("polite");
    let stubborn_pid = d.path().join("stubborn");
    let polite = script(
        d.path(),
        "polite.py",
        &format!(
            "import os, time\nopen({polite_pid:?}, 'w').write(str(os.getpid()))\ntime.sleep(60)\n"
        ),
    );
    let stubborn = script(
        d.path(),
        "stubborn.py",
        &format!("import os, signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nopen({stubborn_pid:?}, 'w').write(str(os.getpid()))\nwhile True: time.sleep(1)\n"),
    );
    let r = start(
        &[
            json_helper("polite", &polite),
            json_helper("stubborn", &stubborn),
        ],
        16,
        quick(),
    );
    until(UNTIL, "pids", || {
        !read(&polite_pid).is_empty() && !read(&stubborn_pid).is_empty()
    })
    .await;
    let p1: i32 = read(&polite_pid).parse().unwrap();
    let p2: i32 = read(&stubborn_pid).parse().unwrap();
    assert!(alive(p1) && alive(p2));
    r.token.cancel();
    let ends = tokio::time::timeout(Duration::from_secs(30), r.set.wait())
        .await
        .unwrap();
    assert!(ends.iter().all(|(_, e)| *e == HelperEnd::Shutdown));
    assert!(!alive(p1), "polite helper ended on SIGTERM");
    assert!(!alive(p2), "stubborn helper was SIGKILLed");
}

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_systemd_variables_and_stderr_is_logged() {
    let buf = Buf::default();
    let b2 = buf.clone();
    let sub = tracing_subscriber::fmt()
        .with_writer(move || b2.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(sub);
    let d = tempfile::tempdir().unwrap();
    let envout = d.path().join("env");
    // Only this test sets these; the helper must not see them.
    std::env::set_var("LISTEN_FDS", "2");
    std::env::set_var("LISTEN_PID", "1");
    std::env::set_var("LISTEN_FDNAMES", "control:bgp");
    let s = script(
        d.path(),
        "env.py",
        &format!("import os, sys, time\nopen({envout:?}, 'w').write('\\n'.join(sorted(os.environ)) + '\\nEND\\n')\nsys.stderr.write('something odd happened\\n'); sys.stderr.flush()\ntime.sleep(30)\n"),
    );
    let r = start(&[json_helper("envy", &s)], 16, quick());
    until(UNTIL, "env written", || read(&envout).contains("END")).await;
    let logged = || String::from_utf8_lossy(&buf.0.lock().unwrap()).to_string();
    until(UNTIL, "stderr logged", || {
        logged().contains("something odd happened")
    })
    .await;
    let env = read(&envout);
    assert!(!env.lines().any(|l| l.starts_with("LISTEN_")), "{env}");
    assert!(
        env.lines().any(|l| l == "PATH"),
        "the rest of the environment is kept: {env}"
    );
    let log = logged();
    let line = log
        .lines()
        .find(|l| l.contains("something odd happened"))
        .unwrap();
    assert!(
        line.contains("envy"),
        "tagged with the helper's name: {line}"
    );
    r.stop().await;
}

/// The events queued for a helper instance that exits are thrown away with its
/// queue, and so is their count: `queued_bytes` goes back to zero instead of
/// growing with each respawn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_bytes_go_back_to_zero_when_an_instance_ends() {
    let deaf = process(
        "deaf",
        vec!["/bin/sleep".into(), "2".into()],
        Encoder::Json,
        vec![ReceiveKind::Update],
    );
    let r = start(&[deaf], 4096, quick());
    let stats = r.set.helpers[0].1.clone();
    until(UNTIL, "the helper runs", || {
        stats.starts.load(Ordering::Relaxed) == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ev = Event {
        time: SystemTime::now(),
        peer: PeerInfo {
            local_address: None,
            peer_address: "192.0.2.254".parse().unwrap(),
            local_as: 65001,
            peer_as: 65000,
            peer_router_id: None,
            router_id: std::net::Ipv4Addr::new(192, 0, 2, 1),
        },
        direction: Direction::Receive,
        kind: EventKind::Update(Box::new(update(
            (0..2000u32)
                .filter_map(|i| Prefix::new(Ipv4Addr::from(0x0a00_0000 + (i << 8)).into(), 24))
                .collect(),
        ))),
    };
    // About 60 KB of JSON each: far more than the pipe takes.
    for _ in 0..40 {
        let _ = r.etx.send(ev.clone());
    }
    until(UNTIL, "events queued beyond the pipe", || {
        stats.queued_bytes.load(Ordering::Relaxed) > 512 << 10
    })
    .await;
    until(UNTIL, "the helper exits and is respawned", || {
        stats.starts.load(Ordering::Relaxed) >= 2
    })
    .await;
    until(UNTIL, "queued_bytes back to zero", || {
        stats.queued_bytes.load(Ordering::Relaxed) == 0
    })
    .await;
    r.stop().await;
}
