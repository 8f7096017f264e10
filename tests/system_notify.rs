//! sd_notify and the watchdog supervisor, over a real datagram socket: this test binds
//! NOTIFY_SOCKET, runs itself again as the "daemon" with WATCHDOG_USEC set, and reads
//! what the daemon sends — READY, STATUS updates, WATCHDOG=1 only while the core
//! answers, STOPPING.

mod support;

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

use exabgp::system::notify::Notifier;
use exabgp::system::supervise::{supervise, Health};
use support::system::{report, Probe};
use tokio_util::sync::CancellationToken;

#[test]
#[ignore = "helper process started by notify_* tests"]
fn probe_notify_child() {
    if std::env::var("EXABGP_PROBE").as_deref() != Ok("notify") {
        return;
    }
    let notifier = match Notifier::from_env() {
        Ok(n) => n,
        Err(e) => {
            report("error", &e.to_string());
            return;
        }
    };
    let left: Vec<String> = std::env::vars()
        .map(|(k, _)| k)
        .filter(|k| k == "NOTIFY_SOCKET" || k.starts_with("WATCHDOG_"))
        .collect();
    report("env-left", &left.join(","));
    report(
        "interval-ms",
        &notifier
            .watchdog_interval()
            .map_or(0, |d| d.as_millis())
            .to_string(),
    );
    notifier.ready("starting");
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            report("error", &e.to_string());
            return;
        }
    };
    rt.block_on(async {
        let stop = CancellationToken::new();
        let mut calls = 0u32;
        let probe = move || {
            calls += 1;
            let n = calls;
            async move {
                match n {
                    1 | 2 => Some(Health {
                        established: 1,
                        total: 2,
                        routes: 10,
                    }),
                    3 => Some(Health {
                        established: 2,
                        total: 2,
                        routes: 10,
                    }),
                    // From the fourth tick on the "core" hangs.
                    _ => std::future::pending().await,
                }
            }
        };
        let task = tokio::spawn(supervise(notifier.clone(), stop.clone(), probe));
        tokio::time::sleep(Duration::from_millis(4500)).await;
        stop.cancel();
        let _ = task.await;
    });
    notifier.stopping("bye");
}

#[test]
fn notify_ready_status_watchdog_and_stopping_arrive() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify");
    let server = UnixDatagram::bind(&path).unwrap();
    server
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut probe = Probe::start_with(
        "",
        &[],
        "probe_notify_child",
        &[
            ("EXABGP_PROBE", "notify"),
            ("NOTIFY_SOCKET", path.to_str().unwrap()),
            // WatchdogSec=2: ticks every second.
            ("WATCHDOG_USEC", "2000000"),
        ],
    );
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    // Bounded: at most 50 datagrams, each within 10 s, until STOPPING.
    for _ in 0..50 {
        let Ok(len) = server.recv(&mut buf) else {
            break;
        };
        let msg = String::from_utf8_lossy(&buf[..len]).into_owned();
        let last = msg.starts_with("STOPPING=1");
        got.push(msg);
        if last {
            break;
        }
    }
    let out = probe.finish();
    assert_eq!(out.get("error"), None, "{out:?}");
    assert_eq!(out.get("env-left").map(String::as_str), Some(""), "{out:?}");
    assert_eq!(out.get("interval-ms").map(String::as_str), Some("1000"));
    assert_eq!(
        got.first().map(String::as_str),
        Some("READY=1\nSTATUS=starting\n")
    );
    assert_eq!(
        got.last().map(String::as_str),
        Some("STOPPING=1\nSTATUS=bye\n")
    );
    let pets = got.iter().filter(|m| *m == "WATCHDOG=1\n").count();
    // Three answered probes, three pets; none while the core hangs.
    assert_eq!(pets, 3, "{got:?}");
    let statuses: Vec<&String> = got
        .iter()
        .filter(|m| m.starts_with("STATUS=") && m.contains("peers"))
        .collect();
    // The status changes once (1/2 -> 2/2); an unchanged one is not re-sent.
    assert_eq!(
        statuses,
        [
            "STATUS=1/2 peers established, 10 routes announced\n",
            "STATUS=2/2 peers established, 10 routes announced\n"
        ],
        "{got:?}"
    );
}

#[test]
fn notify_without_socket_is_silent() {
    let mut probe = Probe::start_with("", &[], "probe_notify_child", &[("EXABGP_PROBE", "notify")]);
    let out = probe.finish();
    assert_eq!(out.get("error"), None, "{out:?}");
    assert_eq!(out.get("interval-ms").map(String::as_str), Some("0"));
}
