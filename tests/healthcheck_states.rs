//! `exabgp healthcheck` as a process: the real binary, a real /bin/sh check reading
//! a state file, its stdout (the lines the daemon would read) and its stderr (the
//! log) read back from files. Through UP, DOWN (--fall), UP again (--rise),
//! DISABLED (--disable file), INIT, and EXIT on SIGTERM; a hanging check killed at
//! --timeout with its whole process group.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::binary::exabgp_bin;
use support::{wait_for, TestDir};

const LIMIT: Duration = Duration::from_secs(20);

struct Hc {
    child: Child,
    out: PathBuf,
    err: PathBuf,
}

impl Hc {
    fn start(dir: &Path, args: &[&str]) -> Hc {
        let out = dir.join("stdout");
        let err = dir.join("stderr");
        let child = Command::new(exabgp_bin())
            .arg("healthcheck")
            .args(args)
            .stdin(Stdio::null())
            .stdout(fs::File::create(&out).unwrap())
            .stderr(fs::File::create(&err).unwrap())
            .spawn()
            .unwrap();
        Hc { child, out, err }
    }
    fn stdout(&self) -> Vec<String> {
        let s = fs::read_to_string(&self.out).unwrap_or_default();
        s.lines().map(String::from).collect()
    }
    fn stderr(&self) -> String {
        fs::read_to_string(&self.err).unwrap_or_default()
    }
    /// Waits until stdout has `n` lines, returns the last `want.len()` of them
    /// compared with `want`.
    fn expect_lines(&self, n: usize, want: &[&str]) {
        let got = wait_for(LIMIT, || {
            let l = self.stdout();
            (l.len() >= n).then_some(l)
        });
        let got = got.unwrap_or_else(|| {
            panic!(
                "no {n} lines; stdout {:?}\nstderr:\n{}",
                self.stdout(),
                self.stderr()
            )
        });
        assert_eq!(&got[n - want.len()..n], want, "stderr:\n{}", self.stderr());
    }
    fn terminate(&mut self) -> i32 {
        // SAFETY: kill(2) on our unreaped child.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let st = wait_for(LIMIT, || self.child.try_wait().ok().flatten());
        st.and_then(|s| s.code()).unwrap_or(-1)
    }
}

impl Drop for Hc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The state changes and failed checks in the log, in order.
fn events(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|l| {
            if let Some(i) = l.find("] state ") {
                Some(l[i + 8..].to_string())
            } else if l.contains("check failed") {
                Some("fail".into())
            } else {
                None
            }
        })
        .collect()
}

#[test]
fn rise_fall_disable_and_exit() {
    let dir = TestDir::new("hc-states");
    let state = dir.path.join("healthy");
    let disable = dir.path.join("disable");
    fs::write(&state, "").unwrap();
    let check = format!("test -e {}", state.display());
    let mut hc = Hc::start(
        &dir.path,
        &[
            "--name",
            "web",
            "--ip",
            "192.0.2.1/32",
            "--ip",
            "192.0.2.2/32",
            "--no-ip-setup",
            "--cmd",
            &check,
            "--interval",
            "0.1",
            "--fast-interval",
            "0.1",
            "--rise",
            "2",
            "--fall",
            "3",
            "--timeout",
            "5",
            "--disable",
            &disable.to_string_lossy(),
            "--community",
            "65000:1",
            "--debounce",
        ],
    );
    let up = [
        "announce route 192.0.2.1/32 next-hop self med 100 community [ 65000:1 ]",
        "announce route 192.0.2.2/32 next-hop self med 101 community [ 65000:1 ]",
    ];
    hc.expect_lines(2, &up);

    fs::remove_file(&state).unwrap();
    hc.expect_lines(
        4,
        &[
            "announce route 192.0.2.1/32 next-hop self med 1000 community [ 65000:1 ]",
            "announce route 192.0.2.2/32 next-hop self med 1001 community [ 65000:1 ]",
        ],
    );
    fs::write(&state, "").unwrap();
    hc.expect_lines(6, &up);

    fs::write(&disable, "").unwrap();
    hc.expect_lines(
        8,
        &[
            "announce route 192.0.2.1/32 next-hop self med 500 community [ 65000:1 ]",
            "announce route 192.0.2.2/32 next-hop self med 501 community [ 65000:1 ]",
        ],
    );
    fs::remove_file(&disable).unwrap();
    hc.expect_lines(10, &up);

    assert_eq!(hc.terminate(), 0, "{}", hc.stderr());
    assert_eq!(
        &hc.stdout()[10..],
        [
            "withdraw route 192.0.2.1/32 next-hop self",
            "withdraw route 192.0.2.2/32 next-hop self"
        ]
    );
    // --rise 2: one success in RISING; --fall 3: the first failure leaves UP, two
    // more in FALLING reach DOWN.
    let ev = events(&hc.stderr());
    let want = [
        "INIT",
        "INIT -> RISING",
        "RISING -> UP",
        "fail",
        "UP -> FALLING",
        "fail",
        "fail",
        "FALLING -> DOWN",
    ];
    assert_eq!(&ev[..want.len()], want, "{ev:?}");
    let rest: Vec<&str> = ev[want.len()..]
        .iter()
        .map(String::as_str)
        .filter(|e| *e != "fail")
        .collect();
    assert_eq!(
        rest,
        [
            "DOWN -> RISING",
            "RISING -> UP",
            "UP -> DISABLED",
            "DISABLED -> INIT",
            "INIT -> RISING",
            "RISING -> UP"
        ]
    );
    assert!(
        hc.stderr().contains("INFO[healthcheck-web]"),
        "{}",
        hc.stderr()
    );
}

#[test]
fn withdraw_on_down_and_hooks_see_the_state() {
    let dir = TestDir::new("hc-withdraw");
    let state = dir.path.join("healthy");
    let hooks = dir.path.join("hooks");
    let check = format!("test -e {}", state.display());
    let hook = format!("echo \"$STATE\" >> {}", hooks.display());
    let down_hook = format!("echo down-hook >> {}", hooks.display());
    let mut hc = Hc::start(
        &dir.path,
        &[
            "--ip",
            "2001:db8::1/128",
            "--no-ip-setup",
            "--cmd",
            &check,
            "--interval",
            "0.1",
            "--fast-interval",
            "0.1",
            "--rise",
            "1",
            "--fall",
            "1",
            "--withdraw-on-down",
            "--neighbor",
            "127.0.0.2",
            "--execute",
            &hook,
            "--down-execute",
            &down_hook,
            "--debounce",
        ],
    );
    hc.expect_lines(
        1,
        &["neighbor 127.0.0.2 withdraw route 2001:db8::1/128 next-hop self"],
    );
    fs::write(&state, "").unwrap();
    hc.expect_lines(
        2,
        &["neighbor 127.0.0.2 announce route 2001:db8::1/128 next-hop self med 100"],
    );
    assert_eq!(hc.terminate(), 0);
    let h = fs::read_to_string(&hooks).unwrap_or_default();
    // INIT with fall 1: straight to DOWN (the down hook first), then UP.
    assert_eq!(
        h.lines().collect::<Vec<_>>(),
        ["down-hook", "DOWN", "UP"],
        "{h}"
    );
}

#[test]
fn a_hanging_check_is_killed_at_timeout_with_its_group() {
    let dir = TestDir::new("hc-timeout");
    let marker = dir.path.join("marker");
    // A child in the background (the marker) and a long sleep in the foreground.
    let check = format!("sleep 300 & echo $! > {}; sleep 30", marker.display());
    let mut hc = Hc::start(
        &dir.path,
        &[
            "--ip",
            "192.0.2.1/32",
            "--no-ip-setup",
            "--cmd",
            &check,
            "--timeout",
            "2",
            "--interval",
            "60",
            "--fall",
            "1",
            "--withdraw-on-down",
        ],
    );
    hc.expect_lines(1, &["withdraw route 192.0.2.1/32 next-hop self"]);
    let log = hc.stderr();
    assert!(log.contains("check failed: timed out after 2s"), "{log}");
    assert!(log.contains("state INIT -> DOWN"), "{log}");
    let pid: i32 = fs::read_to_string(&marker).unwrap().trim().parse().unwrap();
    let gone = wait_for(LIMIT, || {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let st = stat.rsplit(')').next().unwrap_or("").trim().chars().next();
        matches!(st, None | Some('Z') | Some('X')).then_some(())
    });
    assert!(
        gone.is_some(),
        "the check's background child {pid} survived"
    );
    assert_eq!(hc.terminate(), 0);
}

#[test]
fn refused_and_bad_options_exit_64_naming_them() {
    let dir = TestDir::new("hc-usage");
    for (args, needle) in [
        (vec!["--ip", "192.0.2.1/32", "--sudo"], "--sudo"),
        (
            vec!["--ip", "192.0.2.1/32", "--ip-ifname", "192.0.2.1/32%eth0"],
            "--ip-ifname",
        ),
        (vec!["--ip", "192.0.2.1/24"], "host bits"),
        (
            vec!["--ip", "192.0.2.1/32", "--community", "nonsense"],
            "nonsense",
        ),
        (vec!["--cmd", "true"], "no --ip"),
    ] {
        let hc = Hc::start(&dir.path, &args);
        let mut hc = hc;
        let st = wait_for(LIMIT, || hc.child.try_wait().ok().flatten()).unwrap();
        assert_eq!(st.code(), Some(64), "{args:?}: {}", hc.stderr());
        assert!(hc.stderr().contains(needle), "{args:?}: {}", hc.stderr());
        assert!(hc.stdout().is_empty());
    }
    // The same options from a --config file (ExaBGP's format), the command line
    // winning.
    let conf = dir.path.join("hc.conf");
    fs::write(
        &conf,
        "# service\nip = 192.0.2.9/32\nno-ip-setup\ninterval = 0\nrise = 5\nup-metric = 7\n",
    )
    .unwrap();
    let mut hc = Hc::start(
        &dir.path,
        &["--config", &conf.to_string_lossy(), "--rise", "1"],
    );
    let st = wait_for(LIMIT, || hc.child.try_wait().ok().flatten()).unwrap();
    assert_eq!(st.code(), Some(0), "{}", hc.stderr());
    assert_eq!(
        hc.stdout(),
        ["announce route 192.0.2.9/32 next-hop self med 7"]
    );
    // As with ExaBGP's argparse, an option given twice: the last wins.
    let mut hc = Hc::start(
        &dir.path,
        &[
            "--ip",
            "192.0.2.9/32",
            "--no-ip-setup",
            "--interval",
            "0",
            "--rise",
            "1",
            "--up-metric",
            "5",
            "--up-metric",
            "8",
        ],
    );
    let st = wait_for(LIMIT, || hc.child.try_wait().ok().flatten()).unwrap();
    assert_eq!(st.code(), Some(0), "{}", hc.stderr());
    assert_eq!(
        hc.stdout(),
        ["announce route 192.0.2.9/32 next-hop self med 8"]
    );
}

/// Killed outright (SIGKILL, no chance to clean up), the helper takes its running
/// check with it: `sh -c` execs the command, which gets SIGKILL when we die.
#[test]
fn a_check_does_not_outlive_a_killed_helper() {
    let dir = TestDir::new("hc-killed");
    let marker = dir.path.join("marker");
    let check = format!("echo $$ > {}; exec sleep 300", marker.display());
    let mut hc = Hc::start(
        &dir.path,
        &[
            "--ip",
            "192.0.2.1/32",
            "--no-ip-setup",
            "--cmd",
            &check,
            "--timeout",
            "0",
        ],
    );
    let pid: i32 = wait_for(LIMIT, || {
        fs::read_to_string(&marker).ok()?.trim().parse().ok()
    })
    .expect("the check never started");
    // The check is running (sleep 300 in place of the shell).
    let running = wait_for(LIMIT, || {
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        cmdline.starts_with(b"sleep").then_some(())
    });
    assert!(running.is_some(), "the check {pid} is not running");
    let _ = hc.child.kill();
    let _ = hc.child.wait();
    let gone = wait_for(LIMIT, || {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let st = stat.rsplit(')').next().unwrap_or("").trim().chars().next();
        matches!(st, None | Some('Z') | Some('X')).then_some(())
    });
    if gone.is_none() {
        // SAFETY: kill(2) on the pid of the check this test started.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
        panic!("the check {pid} outlived the killed helper");
    }
}

/// The daemon crashed: our stderr is a closed pipe when its SIGTERM arrives.
/// Logging must not kill us (Rust ignores SIGPIPE, `eprintln!` would panic)
/// before the withdraw lines are written.
#[test]
fn sigterm_with_stderr_closed_still_withdraws() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(exabgp_bin())
        .args([
            "healthcheck",
            "--ip",
            "192.0.2.9/32",
            "--no-ip-setup",
            "--cmd",
            "true",
            "--interval",
            "0.1",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines() {
            let Ok(l) = l else { return };
            if tx.send(l).is_err() {
                return;
            }
        }
    });
    let first = rx.recv_timeout(LIMIT).expect("a first announce");
    assert!(first.starts_with("announce route 192.0.2.9/32"), "{first}");
    drop(child.stderr.take());
    // SAFETY: kill(2) on our unreaped child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let st = wait_for(LIMIT, || child.try_wait().ok().flatten());
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(st.and_then(|s| s.code()), Some(0), "exit status {st:?}");
    // Until the reader sees EOF (the child is gone), each line within LIMIT.
    let mut rest = Vec::new();
    while let Ok(l) = rx.recv_timeout(LIMIT) {
        rest.push(l);
    }
    assert!(
        rest.iter()
            .any(|l| l.starts_with("withdraw route 192.0.2.9/32")),
        "{rest:?}"
    );
}

/// The daemon SIGKILLed: the helper (in its own process group) gets no signal,
/// only the end of its stdin pipe. It stops as on SIGTERM: withdraw (best
/// effort), exit 0, without waiting for its next --interval (an hour here).
#[test]
fn stdin_closed_means_the_daemon_is_gone() {
    let dir = TestDir::new("hc-stdin-eof");
    let out = dir.path.join("stdout");
    let err = dir.path.join("stderr");
    let mut child = Command::new(exabgp_bin())
        .args([
            "healthcheck",
            "--ip",
            "192.0.2.11/32",
            "--no-ip-setup",
            "--cmd",
            "true",
            "--interval",
            "3600",
            "--debounce",
        ])
        .stdin(Stdio::piped())
        .stdout(fs::File::create(&out).unwrap())
        .stderr(fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let announced = wait_for(LIMIT, || {
        fs::read_to_string(&out)
            .ok()
            .filter(|s| s.contains("announce route 192.0.2.11/32"))
    });
    assert!(
        announced.is_some(),
        "{}",
        fs::read_to_string(&err).unwrap_or_default()
    );
    drop(child.stdin.take());
    let st = wait_for(LIMIT, || child.try_wait().ok().flatten());
    let _ = child.kill();
    let _ = child.wait();
    let log = fs::read_to_string(&err).unwrap_or_default();
    assert_eq!(st.and_then(|s| s.code()), Some(0), "{st:?}\n{log}");
    assert!(log.contains("stdin closed"), "{log}");
    let stdout = fs::read_to_string(&out).unwrap_or_default();
    assert!(stdout.contains("withdraw route 192.0.2.11/32"), "{stdout}");
}

/// A newline in a value printed inside an API line would inject a command: each
/// such option is refused (exit 64, naming it), as are the errors clap finds
/// (unknown option, bad number, bad address), which exited 2 before.
#[test]
fn control_characters_and_command_line_errors_exit_64() {
    let dir = TestDir::new("hc-usage-ctl");
    let inject = "65000:1 ]\nannounce route 10.0.0.0/8 next-hop self community [ 65000:2";
    let mut cases: Vec<(Vec<&str>, &str)> = Vec::new();
    for opt in [
        "--community",
        "--disabled-community",
        "--extended-community",
        "--large-community",
        "--as-path",
        "--up-as-path",
        "--down-as-path",
        "--disabled-as-path",
        "--name",
    ] {
        cases.push((vec!["--ip", "192.0.2.1/32", opt, inject], opt));
    }
    cases.push((vec!["--ip", "192.0.2.1/32", "--name", "a\tb"], "--name"));
    cases.push((
        vec!["--ip", "192.0.2.1/32", "--next-hop", "192.0.2.7\nx"],
        "--next-hop",
    ));
    cases.push((
        vec!["--ip", "192.0.2.1/32", "--no-such-option"],
        "--no-such-option",
    ));
    cases.push((
        vec!["--ip", "192.0.2.1/32", "--interval", "soon"],
        "--interval",
    ));
    for (args, needle) in cases {
        let mut hc = Hc::start(&dir.path, &args);
        let st = wait_for(LIMIT, || hc.child.try_wait().ok().flatten());
        assert_eq!(
            st.and_then(|s| s.code()),
            Some(64),
            "{args:?}: {}",
            hc.stderr()
        );
        assert!(hc.stderr().contains(needle), "{args:?}: {}", hc.stderr());
        assert!(hc.stdout().is_empty(), "{args:?}: {:?}", hc.stdout());
    }
}
