//! The control socket over real Unix sockets: binding (active vs stale, not a
//! socket, mode and group, removal on exit), the line protocol, bad input, a
//! client that vanishes mid-command, 1000 clients at once, and the exabgpcli binary.
//!
//! Here the library's bind and serve with a stand-in core (support::api::responder).
//! The same promises kept by the built `exabgp server`, its socket found by the
//! instance name, are checked in e2e_stale_socket.rs (stale file, no daemon: exit
//! 69) and e2e_instance_names.rs (a second instance refused, the first untouched).

mod support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command as Proc;
use std::time::Duration;

use exabgp::api::{self, BindError, ServerLimits};
use exabgp::control::Command;
use support::api::{responder, Client};
use support::binary::exabgpcli_bin;
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

fn sock_in(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

/// A control socket served in the background by the stand-in core.
struct Served {
    token: CancellationToken,
    task: tokio::task::JoinHandle<()>,
    /// The commands the core received, in order.
    seen: support::api::Seen,
}

impl Served {
    /// Stops the server and waits until it has.
    async fn stop(self) {
        self.token.cancel();
        self.task.await.unwrap();
    }
}

/// Bind and serve in the background.
fn serve(path: &Path, limits: ServerLimits) -> Served {
    let sock = api::bind_control_socket(path, None).unwrap();
    let (ctx, seen) = responder();
    let token = CancellationToken::new();
    let t = token.clone();
    let task = tokio::spawn(async move {
        let api::ControlSocket { listener, file } = sock;
        let l = api::std_to_tokio(listener).unwrap();
        api::serve_control(l, ctx, limits, t).await;
        drop(file);
    });
    Served { token, task, seen }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bound_socket_is_0660_our_group_and_answers() {
    let d = tempfile::tempdir().unwrap();
    let path = sock_in(&d, "a.sock");
    let server = serve(&path, ServerLimits::default());
    let m = std::fs::metadata(&path).unwrap();
    assert_eq!(m.permissions().mode() & 0o777, 0o660);
    assert_eq!(m.gid(), nix::unistd::getegid().as_raw());

    let mut c = Client::connect(&path).await;
    let a = c.cmd("version").await;
    assert_eq!(a.len(), 2, "{a:?}");
    assert!(a[0].starts_with("exabgp-rs "), "{a:?}");
    assert_eq!(a[1], "done");
    let a = c.cmd("announce route 10.0.0.0/24 next-hop self").await;
    assert_eq!(a, vec!["done"]);
    let a = c.cmd("teardown 192.0.2.99").await;
    assert_eq!(a, vec!["error: no neighbor 192.0.2.99"]);
    let a = c.cmd("show neighbor summary").await;
    assert!(a[0].starts_with("Peer"), "{a:?}");
    assert!(
        a[1].contains("192.0.2.254") && a[1].contains("established"),
        "{a:?}"
    );
    let a = c.cmd("show neighbor extensive").await;
    let text = a.join("\n");
    assert!(
        text.contains("update") && text.contains("keepalive"),
        "{text}"
    );
    assert!(text.contains("41"), "received keepalives shown: {text}");
    let a = c.cmd("show neighbor json").await;
    let v: serde_json::Value = serde_json::from_str(&a[0]).unwrap();
    assert_eq!(v[0]["sent"]["update"], 12);
    assert_eq!(v[0]["state"], "established");
    let a = c.cmd("show adj-rib out").await;
    assert_eq!(
        a[0],
        "neighbor 192.0.2.254 ipv4 unicast 10.0.0.0/24 next-hop 192.0.2.1 med 5"
    );
    let a = c.cmd("# just a comment").await;
    assert_eq!(a, vec!["done"]);
    assert!(server
        .seen
        .lock()
        .unwrap()
        .iter()
        .any(|c| matches!(c, Command::Announce { .. })));

    server.token.cancel();
    tokio::time::timeout(Duration::from_secs(10), server.task)
        .await
        .unwrap()
        .unwrap();
    assert!(!path.exists(), "socket file removed on exit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_instance_is_refused_and_the_first_untouched() {
    let d = tempfile::tempdir().unwrap();
    let path = sock_in(&d, "b.sock");
    let server = serve(&path, ServerLimits::default());
    let ino = std::fs::metadata(&path).unwrap().ino();
    let err = api::bind_control_socket(&path, None).unwrap_err();
    assert!(matches!(err, BindError::AlreadyRunning { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        format!("another instance is already running on {}", path.display())
    );
    assert_eq!(err.exit_code(), 69);
    assert_eq!(
        std::fs::metadata(&path).unwrap().ino(),
        ino,
        "file untouched"
    );
    let mut c = Client::connect(&path).await;
    assert_eq!(c.cmd("version json").await.last().unwrap(), "done");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_socket_is_replaced() {
    let d = tempfile::tempdir().unwrap();
    let path = sock_in(&d, "c.sock");
    // A socket file nobody listens on: what a crashed daemon leaves behind.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    assert!(
        std::os::unix::net::UnixStream::connect(&path).is_err(),
        "stale: nobody answers"
    );
    let server = serve(&path, ServerLimits::default());
    let mut c = Client::connect(&path).await;
    assert_eq!(c.cmd("help").await.last().unwrap(), "done");
    server.stop().await;
    assert!(!path.exists());
}

#[test]
fn a_regular_file_is_never_replaced() {
    let d = tempfile::tempdir().unwrap();
    let path = sock_in(&d, "d.sock");
    std::fs::write(&path, b"precious").unwrap();
    let err = api::bind_control_socket(&path, None).unwrap_err();
    assert!(matches!(err, BindError::NotASocket { .. }), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), b"precious");
    let err = api::bind_control_socket(&d.path().join("missing/dir/x.sock"), None).unwrap_err();
    assert!(matches!(err, BindError::Bind { .. }), "{err}");
    assert!(err.to_string().contains("missing/dir/x.sock"), "{err}");
}

#[test]
fn removal_on_exit_spares_a_successors_socket() {
    let d = tempfile::tempdir().unwrap();
    let path = sock_in(&d, "e.sock");
    let sock = api::bind_control_socket(&path, None).unwrap();
    // Someone replaced the file (e.g. an operator removed it and a new instance
    // bound the same path): our guard must not remove theirs.
    std::fs::remove_file(&path).unwrap();
    let theirs = std::os::unix::net::UnixListener::bind(&path).unwrap();
    drop(sock);
    assert!(path.exists(), "the successor's socket stays");
    drop(theirs);
    // And the normal case: the guard removes our own file.
    let path2 = sock_in(&d, "f.sock");
    let sock = api::bind_control_socket(&path2, None).unwrap();
    assert!(path2.exists());
    drop(sock);
    assert!(!path2.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_an_error_and_the_connection_goes_on() {
    let d = tempfile::tempdir().unwrap();
    let path = sock_in(&d, "g.sock");
    let server = serve(&path, ServerLimits::default());
    let mut c = Client::connect(&path).await;

    let a = c.cmd("frobnicate the widgets").await;
    assert_eq!(a, vec!["error: unknown command 'frobnicate' (try 'help')"]);
    let a = c.cmd("announce route 10.0.0.1/24 next-hop self").await;
    assert!(
        a[0].starts_with("error: invalid prefix '10.0.0.1/24'"),
        "{a:?}"
    );

    // 1 MiB on one line: refused without being buffered whole; the next works.
    let mut big = vec![b'a'; 1024 * 1024];
    big.push(b'\n');
    c.send_raw(&big).await;
    let a = c.answer().await;
    assert_eq!(a, vec!["error: line too long (1048576 bytes, limit 65536)"]);
    assert_eq!(c.cmd("version").await.last().unwrap(), "done");

    // Binary garbage.
    c.send_raw(&[0xff, 0xfe, 0x00, 0x80, 0xc3, b'\n']).await;
    assert_eq!(c.answer().await, vec!["error: line is not UTF-8 text"]);
    c.send_raw(b"\x00\x01\x02\x03\n").await;
    assert!(c.answer().await[0].starts_with("error: unknown command"));
    assert_eq!(c.cmd("version").await.last().unwrap(), "done");

    // A client that disconnects in the middle of a command: nothing is run.
    let before = server.seen.lock().unwrap().len();
    {
        let mut s = tokio::net::UnixStream::connect(&path).await.unwrap();
        s.write_all(b"announce route 10.9.9.0/24 next-")
            .await
            .unwrap();
    }
    // And one that sends a command and leaves without reading the answer.
    {
        let mut s = tokio::net::UnixStream::connect(&path).await.unwrap();
        s.write_all(b"show neighbor extensive\n").await.unwrap();
    }
    let mut c2 = Client::connect(&path).await;
    assert_eq!(
        c2.cmd("announce route 10.1.0.0/24 next-hop self").await,
        vec!["done"]
    );
    let after: Vec<Command> = server.seen.lock().unwrap()[before..].to_vec();
    assert!(
        after.iter().all(|c| !matches!(c, Command::Announce { routes, .. } if routes[0].prefix.to_string() == "10.9.9.0/24")),
        "half a command must not run: {after:?}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_clients_are_closed() {
    let d = tempfile::tempdir().unwrap();
    let path = sock_in(&d, "h.sock");
    let limits = ServerLimits {
        idle_timeout: Duration::from_millis(300),
        ..Default::default()
    };
    let server = serve(&path, limits);
    let mut c = Client::connect(&path).await;
    let a = c.answer().await;
    assert_eq!(a, vec!["error: idle timeout, closing"]);
    server.stop().await;
}

/// 1000 clients connect at once, each asks for `version`: every one is either
/// answered or cleanly refused by the kernel (never a hang, never a crash), and
/// the server serves normally afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_clients_at_once() {
    let d = tempfile::tempdir().unwrap();
    let path = sock_in(&d, "i.sock");
    let limits = ServerLimits {
        max_clients: 16,
        ..Default::default()
    };
    let server = serve(&path, limits);
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let p = path.clone();
        tasks.push(tokio::spawn(async move {
            let s = match tokio::net::UnixStream::connect(&p).await {
                Ok(s) => s,
                Err(e) => return Err(e.kind()),
            };
            let (r, mut w) = s.into_split();
            if w.write_all(b"version\n").await.is_err() {
                return Err(std::io::ErrorKind::BrokenPipe);
            }
            use tokio::io::AsyncBufReadExt;
            let mut r = tokio::io::BufReader::new(r);
            let mut last = String::new();
            for _ in 0..3 {
                let mut l = String::new();
                if r.read_line(&mut l).await.unwrap_or(0) == 0 {
                    break;
                }
                last = l.trim_end().to_string();
                if last == "done" {
                    break;
                }
            }
            Ok(last)
        }));
    }
    let mut answered = 0;
    let mut refused = 0;
    for t in tasks {
        match tokio::time::timeout(Duration::from_secs(120), t)
            .await
            .expect("no client hangs")
            .unwrap()
        {
            Ok(l) if l == "done" => answered += 1,
            Ok(other) => panic!("unexpected answer {other:?}"),
            Err(kind) => {
                assert!(
                    matches!(
                        kind,
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::ConnectionRefused
                    ),
                    "unclean refusal: {kind:?}"
                );
                refused += 1;
            }
        }
    }
    eprintln!("1000 clients: {answered} answered, {refused} refused by the kernel backlog");
    assert_eq!(answered + refused, 1000);
    assert!(answered > 0);
    let mut c = Client::connect(&path).await;
    assert_eq!(c.cmd("version").await.last().unwrap(), "done");
    server.stop().await;
}

async fn run_cli(args: Vec<std::ffi::OsString>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        Proc::new(exabgpcli_bin())
            .args(args)
            .env_remove("exabgp_api_socketpath")
            .env_remove("exabgp_api_socketname")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn os(v: &[&str]) -> Vec<std::ffi::OsString> {
    v.iter().map(|s| s.into()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exabgpcli_talks_to_the_socket() {
    let d = tempfile::tempdir().unwrap();
    // A fake "/" with run/exabgp, so --instance finds the socket the daemon way.
    let slash = d.path().join("slash");
    std::fs::create_dir_all(slash.join("run/exabgp")).unwrap();
    let path = slash.join("run/exabgp/edge7.sock");
    let server = serve(&path, ServerLimits::default());
    let find = |extra: &[&str]| {
        let mut a = os(&["--instance", "edge7", "--system-prefix"]);
        a.push(slash.clone().into());
        a.extend(os(&["--root"]));
        a.push(d.path().join("noroot").into());
        a.extend(os(extra));
        a
    };
    let out = run_cli(find(&["show", "neighbor", "summary"])).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("192.0.2.254"), "{text}");
    assert!(!text.contains("done"), "terminator not printed: {text}");

    let out = run_cli(find(&["--json", "show", "neighbor"])).await;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["peer-as"], 65000);

    let out = run_cli(find(&[
        "announce",
        "route",
        "10.7.0.0/16",
        "next-hop",
        "self",
    ]))
    .await;
    assert_eq!(out.status.code(), Some(0));
    assert!(server.seen.lock().unwrap().iter().any(|c| matches!(c, Command::Announce { routes, .. } if routes[0].prefix.to_string() == "10.7.0.0/16")));

    let out = run_cli(find(&["teardown", "192.0.2.99"])).await;
    assert_eq!(out.status.code(), Some(1), "error: replies exit non-zero");
    assert!(String::from_utf8_lossy(&out.stdout).contains("error: no neighbor"));

    // --socket works too, and commands from stdin when not a terminal.
    let mut a = os(&["--socket"]);
    a.push(path.clone().into());
    let p2 = path.clone();
    let out = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = Proc::new(exabgpcli_bin())
            .arg("--socket")
            .arg(&p2)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"version\n# comment\nshow adj-rib out\n")
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("exabgp-rs") && text.contains("10.0.0.0/24"),
        "{text}"
    );

    server.stop().await;

    // Nobody home: exit 69 and a message that says which instance and where.
    let out = run_cli(find(&["show", "neighbor"])).await;
    assert_eq!(out.status.code(), Some(69));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("no exabgp instance 'edge7' at {}", path.display()))
            && err.contains("is exabgp@edge7 running?"),
        "{err}"
    );
}

#[test]
fn exabgpcli_help_explains() {
    let out = Proc::new(exabgpcli_bin()).arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for w in [
        "--instance",
        "--socket",
        "--json",
        "exabgp_api_socketpath",
        "/run/exabgp/",
    ] {
        assert!(text.contains(w), "{w} missing from --help: {text}");
    }
    let out = Proc::new(exabgpcli_bin()).arg("--bogus").output().unwrap();
    assert_eq!(out.status.code(), Some(64));
}

/// The client limit holds: with 2 slots taken, a third client waits (its command
/// is not read) until a slot frees, then it is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn excess_clients_wait_for_a_slot() {
    let d = tempfile::tempdir().unwrap();
    let path = sock_in(&d, "j.sock");
    let limits = ServerLimits {
        max_clients: 2,
        ..Default::default()
    };
    let server = serve(&path, limits);
    let mut c1 = Client::connect(&path).await;
    let mut c2 = Client::connect(&path).await;
    assert_eq!(c1.cmd("version").await.last().unwrap(), "done");
    assert_eq!(c2.cmd("version").await.last().unwrap(), "done");
    let mut c3 = Client::connect(&path).await;
    c3.send_raw(b"version\n").await;
    let waiting = tokio::time::timeout(Duration::from_millis(500), c3.answer()).await;
    assert!(waiting.is_err(), "third client must wait for a free slot");
    drop(c1);
    let a = tokio::time::timeout(Duration::from_secs(30), c3.answer())
        .await
        .unwrap();
    assert_eq!(a.last().unwrap(), "done");
    drop(c2);
    server.stop().await;
}

/// `reload` / `restart` go through the Reloader main provides: a good file becomes
/// one ApplyConfig (restart adds a Teardown per neighbor, Cease subcode 4); a bad
/// one is an error and nothing is sent to the daemon.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_and_restart_use_the_reloader() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let d = tempfile::tempdir().unwrap();
    let path = sock_in(&d, "k.sock");
    let good = Arc::new(AtomicBool::new(true));
    let g = good.clone();
    let reloader: api::Reloader = Arc::new(move || {
        if g.load(Ordering::SeqCst) {
            exabgp::config::parse_str(
                "[global]\nrouter-id = \"192.0.2.1\"\nlocal-as = 65001\n\n[[neighbor]]\naddress = \"192.0.2.254\"\npeer-as = 65000\n",
                "reload.toml",
            )
            .map_err(|e| e.to_string())
        } else {
            Err("reload.toml:3:1: something is wrong".to_string())
        }
    });
    let sock = api::bind_control_socket(&path, None).unwrap();
    let (mut ctx, seen) = responder();
    ctx.reloader = Some(reloader);
    let token = CancellationToken::new();
    let h = tokio::spawn(api::serve_control_socket(sock, ctx, token.clone()));
    let mut c = Client::connect(&path).await;
    assert_eq!(c.cmd("reload").await, vec!["done"]);
    assert!(matches!(
        seen.lock().unwrap().last(),
        Some(Command::ApplyConfig(_))
    ));
    assert_eq!(c.cmd("restart").await, vec!["done"]);
    {
        let s = seen.lock().unwrap();
        assert!(matches!(s[s.len() - 2], Command::ApplyConfig(_)));
        assert!(matches!(s[s.len() - 1], Command::Teardown { code: 4, .. }));
    }
    good.store(false, Ordering::SeqCst);
    let before = seen.lock().unwrap().len();
    let a = c.cmd("reload").await;
    assert_eq!(
        a,
        vec!["error: configuration not reloaded, the running one stays: reload.toml:3:1: something is wrong"]
    );
    assert_eq!(
        seen.lock().unwrap().len(),
        before,
        "nothing sent to the daemon"
    );
    token.cancel();
    h.await.unwrap();
    assert!(!path.exists());
}

/// Interactive mode on a real terminal (a pty driven by Python's pty module):
/// the prompt, a command and its answer, history saved, `quit`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exabgpcli_interactive_on_a_tty() {
    let d = tempfile::tempdir().unwrap();
    let path = sock_in(&d, "tty.sock");
    let server = serve(&path, ServerLimits::default());
    let driver = r#"
import os, pty, sys, time, select
cli, sock, home = sys.argv[1], sys.argv[2], sys.argv[3]
pid, fd = pty.fork()
if pid == 0:
    os.environ["HOME"] = home
    os.environ["TERM"] = "dumb"
    os.execv(cli, [cli, "--socket", sock])
out = b""
def read_until(needle, limit=20):
    global out
    end = time.time() + limit
    while needle not in out and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break
    return needle in out
ok = read_until(b"> ")
os.write(fd, b"version\r")
ok = ok and read_until(b"exabgp-rs ")
os.write(fd, b"quit\r")
_, status = os.waitpid(pid, 0)
sys.stdout.write("OK" if ok else "FAIL")
sys.stdout.write(" exit=%d\n" % os.waitstatus_to_exitcode(status))
sys.stdout.write(out.decode(errors="replace"))
"#;
    let cli_path = PathBuf::from(exabgpcli_bin());
    let home = d.path().to_path_buf();
    let p2 = path.clone();
    let out = tokio::task::spawn_blocking(move || {
        Proc::new("python3")
            .arg("-c")
            .arg(driver)
            .arg(&cli_path)
            .arg(&p2)
            .arg(&home)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("OK exit=0"),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hist = std::fs::read_to_string(d.path().join(".exabgpcli_history")).unwrap_or_default();
    assert!(hist.contains("version"), "history saved: {hist:?}");
    server.stop().await;
}

/// A listener handed over by systemd is served as is, and its file is left to
/// systemd (not removed on exit).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activated_listener_is_served_and_left_in_place() {
    let d = tempfile::tempdir().unwrap();
    let path = sock_in(&d, "activated.sock");
    let l = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let settings = exabgp::config::Settings::load(None, Vec::new(), &[], Some("x")).unwrap();
    let endpoint = api::prepare_control(&settings, Some(l), None).unwrap();
    assert!(matches!(endpoint, Some(api::ControlEndpoint::Activated(_))));
    let (ctx, _) = responder();
    let (events, _) = exabgp::control::event_channel(4, 1 << 20);
    let token = CancellationToken::new();
    let plane = api::start(endpoint, &[], ctx, &events, true, token.clone());
    let mut c = Client::connect(&path).await;
    assert_eq!(c.cmd("version").await.last().unwrap(), "done");
    token.cancel();
    plane.wait().await;
    assert!(path.exists(), "systemd's socket file stays");
}

/// A command whose first bytes arrived before the daemon began stopping is run
/// whole when the rest arrives within the grace period, never as its tail alone
/// (which here would announce to every neighbor instead of to 192.0.2.9 only).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_split_across_the_stop_is_run_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = sock_in(&dir, "split.sock");
    let server = serve(&path, ServerLimits::default());
    let mut c = Client::connect(&path).await;
    assert_eq!(
        c.cmd("version").await.last().map(String::as_str),
        Some("done")
    );
    c.send_raw(b"neighbor 192.0.2.9 ").await;
    // Let the server take those bytes before it is told to stop.
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.token.cancel();
    c.send_raw(b"announce route 10.9.0.0/24 next-hop 192.0.2.1\n")
        .await;
    let answer = c.answer().await;
    assert_eq!(
        answer.last().map(String::as_str),
        Some("done"),
        "{answer:?}"
    );
    let seen = server.seen.lock().unwrap().clone();
    let announce = seen
        .iter()
        .find(|c| matches!(c, Command::Announce { .. }))
        .cloned();
    match announce {
        Some(Command::Announce { scope, .. }) => assert_eq!(
            scope,
            Some(vec!["192.0.2.9".parse().unwrap()]),
            "the command lost its beginning"
        ),
        other => panic!("no announce ran: {other:?} / {seen:?}"),
    }
    server.task.await.unwrap();
}

/// A stand-in core whose `show adj-rib in` answer is about 1.3 MB.
fn big_answer_core() -> api::ApiContext {
    use exabgp::bgp::{Community, PathAttributes};
    use exabgp::control::{ControlReply, ControlRequest, RibEntry};
    use std::sync::Arc;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<ControlRequest>(8);
    let attributes = Arc::new(PathAttributes {
        med: Some(5),
        communities: (0..40u16)
            .map(|i| Community(65000 << 16 | u32::from(i)))
            .collect(),
        ..Default::default()
    });
    tokio::spawn(async move {
        while let Some(req) = rx.recv().await {
            let routes = (0..3000u32)
                .map(|i| RibEntry {
                    neighbor: "192.0.2.254".parse().unwrap(),
                    prefix: exabgp::bgp::Prefix::new(
                        std::net::IpAddr::V4((0x0a00_0000 + (i << 8)).into()),
                        24,
                    )
                    .unwrap(),
                    next_hop: Some("192.0.2.1".parse().unwrap()),
                    attributes: Arc::clone(&attributes),
                    stale: false,
                })
                .collect();
            let _ = req.reply.send(ControlReply::Routes(routes));
        }
    });
    api::ApiContext::new(tx, None)
}

/// Reads `s` at about 320 KiB/s (8 KiB every 25 ms) until EOF or `cap` bytes
/// (bounded in count and time); all it read.
async fn read_slowly(s: &mut tokio::net::UnixStream, cap: usize) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut all = Vec::new();
    let mut buf = vec![0u8; 8192];
    for _ in 0..100_000 {
        let n = tokio::time::timeout(Duration::from_secs(30), s.read(&mut buf))
            .await
            .expect("read in time")
            .unwrap_or(0);
        if n == 0 || all.len() >= cap {
            break;
        }
        all.extend_from_slice(&buf[..n]);
        if all.ends_with(b"\ndone\n") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    all
}

/// The write timeout is on progress, not on the whole answer: with a 2 s timeout,
/// a client reading a 1.3 MB answer slowly but steadily (several seconds) gets all
/// of it up to `done`; one that never reads is disconnected and its answer
/// dropped (the rest of what it then reads ends without `done`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_timeout_is_on_progress_not_on_the_whole_answer() {
    use tokio::io::AsyncReadExt;
    let d = tempfile::tempdir().unwrap();
    let path = sock_in(&d, "slow.sock");
    let sock = api::bind_control_socket(&path, None).unwrap();
    let token = CancellationToken::new();
    let limits = ServerLimits {
        write_timeout: Duration::from_secs(2),
        ..Default::default()
    };
    let t = token.clone();
    let ctx = big_answer_core();
    let task = tokio::spawn(async move {
        let api::ControlSocket { listener, file } = sock;
        let l = api::std_to_tokio(listener).unwrap();
        api::serve_control(l, ctx, limits, t).await;
        drop(file);
    });

    let mut slow = tokio::net::UnixStream::connect(&path).await.unwrap();
    slow.write_all(b"show adj-rib in\n").await.unwrap();
    let started = std::time::Instant::now();
    let got = read_slowly(&mut slow, 64 << 20).await;
    let took = started.elapsed();
    assert!(
        got.len() > 1_000_000,
        "answer of {} bytes: too small for the test",
        got.len()
    );
    assert!(
        got.ends_with(b"\ndone\n"),
        "slow reader cut after {} bytes in {took:?}",
        got.len()
    );
    assert!(
        took > limits.write_timeout,
        "the answer took {took:?}, not longer than the timeout: nothing tested"
    );

    let mut never = tokio::net::UnixStream::connect(&path).await.unwrap();
    never.write_all(b"show adj-rib in\n").await.unwrap();
    tokio::time::sleep(2 * limits.write_timeout).await;
    let mut rest = Vec::new();
    let r = tokio::time::timeout(Duration::from_secs(30), never.read_to_end(&mut rest)).await;
    assert!(
        r.is_ok(),
        "connection of a client that never read not closed"
    );
    assert!(
        rest.len() < got.len() && !rest.ends_with(b"\ndone\n"),
        "the client that never read got the whole answer ({} bytes)",
        rest.len()
    );
    token.cancel();
    task.await.unwrap();
}
