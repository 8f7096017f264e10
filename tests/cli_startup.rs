//! The exabgpcli process's start-up (src/bin/exabgpcli.rs runs without the Rust
//! runtime's own): what it must still guarantee. A closed stdout makes a write
//! fail instead of killing the process with SIGPIPE, and a closed descriptor 0, 1
//! or 2 is reopened on /dev/null so the control socket never becomes stdout. The
//! daemon side is a scripted Unix socket server in the test (it answers one line
//! and reports every byte the client sent). And the binary does not load
//! libgcc_s.so.1 (build.rs links its unwinder statically), the daemon still does.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixListener;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);

fn cli() -> Command {
    let mut cmd = Command::new(PathBuf::from(env!("CARGO_BIN_EXE_exabgpcli")));
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy()
            .to_ascii_lowercase()
            .starts_with("exabgp")
        {
            cmd.env_remove(&k);
        }
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// Waits for `child`, killed after [`WAIT`].
fn wait(mut child: Child) -> ExitStatus {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            return s;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("exabgpcli did not finish within {WAIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// stdout is a pipe nobody reads any more: `--help` cannot be printed, and the
/// process still exits by itself (clap's print error is ignored: 0), not by
/// SIGPIPE (the signal a runtime-less program would die of).
#[test]
fn a_closed_stdout_is_an_error_not_a_sigpipe_death() {
    let (read_end, write_end) = nix::unistd::pipe().expect("pipe");
    drop(read_end);
    let child = cli()
        .arg("--help")
        .stdout(Stdio::from(write_end))
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn exabgpcli");
    let status = wait(child);
    assert_eq!(
        status.signal(),
        None,
        "exabgpcli was killed by signal {:?} (SIGPIPE is {})",
        status.signal(),
        libc::SIGPIPE
    );
    assert_eq!(status.code(), Some(0), "{status:?}");
}

/// A panic inside the client (here `--which` printing to a full device: print!
/// panics on a write error) does not unwind into the C `main` (undefined, or an
/// abort with SIGABRT): it exits 101 as a Rust program does.
#[test]
fn a_panic_exits_101_not_an_abort() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("open /dev/full");
    let child = cli()
        .arg("--which")
        .stdout(Stdio::from(full))
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn exabgpcli");
    let status = wait(child);
    assert_eq!(status.signal(), None, "killed by a signal: {status:?}");
    assert_eq!(status.code(), Some(101), "{status:?}");
}

/// A scripted control socket: accepts one client, reads one line, answers it
/// with `answer` and `done`, then returns every byte the client sent until it
/// closed the connection.
fn serve_one(listener: UnixListener, answer: &'static str) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        // Bounded: a client that never connects ends the wait after WAIT.
        listener.set_nonblocking(true).expect("nonblocking");
        let deadline = Instant::now() + WAIT;
        let conn = loop {
            match listener.accept() {
                Ok((c, _)) => break c,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    assert!(Instant::now() < deadline, "no client within {WAIT:?}");
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => panic!("accept: {e}"),
            }
        };
        conn.set_nonblocking(false).expect("blocking");
        conn.set_read_timeout(Some(WAIT)).expect("timeout");
        let mut r = BufReader::new(conn.try_clone().expect("clone"));
        let mut sent = Vec::new();
        r.read_until(b'\n', &mut sent).expect("read the command");
        (&conn)
            .write_all(format!("{answer}\ndone\n").as_bytes())
            .expect("answer");
        // Until the client closes (bounded by the read timeout).
        let _ = r.read_to_end(&mut sent);
        sent
    })
}

fn command_with_closed(fd: i32, socket: &Path) -> Command {
    let mut cmd = cli();
    cmd.arg("--socket")
        .arg(socket)
        .args(["show", "neighbor", "summary"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: close(2) only, between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::close(fd);
            Ok(())
        });
    }
    cmd
}

/// Started with descriptor 1 (then 0, then 2) closed, the client still sends one
/// command and nothing else: had the control socket taken the free descriptor,
/// the answer would have been "printed" back into the socket.
#[test]
fn closed_standard_descriptors_never_become_the_control_socket() {
    for fd in [1, 0, 2] {
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("cli.sock");
        let listener = UnixListener::bind(&socket).expect("bind");
        let server = serve_one(listener, "peer-line-7");
        let child = command_with_closed(fd, &socket)
            .spawn()
            .expect("spawn exabgpcli");
        let status = wait(child);
        let sent = server.join().expect("server thread");
        assert_eq!(
            String::from_utf8_lossy(&sent),
            "show neighbor summary\n",
            "fd {fd} closed: the client sent more than its command"
        );
        assert_eq!(status.code(), Some(0), "fd {fd} closed: {status:?}");
    }
}

/// The shared libraries `bin` asks the dynamic loader for (`readelf -d`).
fn needed(bin: &str) -> Vec<String> {
    let out = Command::new("readelf")
        .args(["-d", "--wide", bin])
        .output()
        .expect("readelf (binutils) runs");
    assert!(out.status.success(), "readelf -d {bin}: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| l.split('[').nth(1)?.split(']').next().map(str::to_string))
        .collect()
}

/// exabgpcli links the unwinder statically (build.rs), so starting it does not
/// load libgcc_s.so.1; the daemon still does (the option is for exabgpcli only).
/// Skipped where the C compiler has no libgcc_eh.a (build.rs then links as usual).
#[test]
fn exabgpcli_does_not_load_libgcc_s() {
    let eh = Command::new("cc")
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .ok()
        .filter(|p| p.is_absolute());
    if eh.is_none() {
        eprintln!("skipped: cc has no libgcc_eh.a");
        return;
    }
    let cli = needed(env!("CARGO_BIN_EXE_exabgpcli"));
    assert!(cli.iter().any(|l| l.starts_with("libc.so")), "{cli:?}");
    assert!(!cli.iter().any(|l| l.starts_with("libgcc_s")), "{cli:?}");
    let daemon = needed(env!("CARGO_BIN_EXE_exabgp"));
    assert!(
        daemon.iter().any(|l| l.starts_with("libgcc_s")),
        "{daemon:?}"
    );
}
