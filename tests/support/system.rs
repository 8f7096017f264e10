//! Shared by the tests/system_*.rs tests: run this very test binary again as a child
//! process (the "daemon" side: a test marked #[ignore] that acts only when
//! EXABGP_PROBE says so), collect what it reports, and kill it on every exit path.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child's report line: `PROBE key=value` on stdout.
pub fn report(key: &str, value: &str) {
    println!("PROBE {key}={value}");
}

/// The arguments that make this test binary run only the ignored helper `test`.
pub fn self_args(test: &str) -> Vec<String> {
    vec![
        "--ignored".into(),
        "--exact".into(),
        test.into(),
        "--nocapture".into(),
        "--test-threads=1".into(),
    ]
}

/// A running child; killed when dropped.
pub struct Probe {
    child: Option<Child>,
}

impl Probe {
    /// Run `launcher launcher_args... -- <this test binary> <helper test>`, or this
    /// binary directly when `launcher` is empty.
    pub fn start(launcher: &str, launcher_args: &[&str], test: &str) -> Probe {
        Probe::start_with(launcher, launcher_args, test, &[])
    }

    pub fn start_with(
        launcher: &str,
        launcher_args: &[&str],
        test: &str,
        env: &[(&str, &str)],
    ) -> Probe {
        let me = std::env::current_exe().unwrap();
        let mut cmd = if launcher.is_empty() {
            Command::new(&me)
        } else {
            let mut c = Command::new(launcher);
            c.args(launcher_args).arg("--").arg(&me);
            c
        };
        cmd.args(self_args(test))
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {launcher:?}: {e}"));
        Probe { child: Some(child) }
    }

    /// Call `f` until it returns Some, for at most 10 s.
    pub fn retry<T>(&mut self, mut f: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(t) = f() {
                return t;
            }
            assert!(Instant::now() < deadline, "gave up after 10 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait (at most 30 s) for the child to exit; its `PROBE key=value` lines.
    pub fn finish(&mut self) -> HashMap<String, String> {
        let mut child = self.child.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut out = HashMap::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // libtest may print "test NAME ... " on the same line first.
                let report = line.find("PROBE ").map(|i| &line[i + "PROBE ".len()..]);
                if let Some((k, v)) = report.and_then(|l| l.split_once('=')) {
                    out.insert(k.to_string(), v.to_string());
                }
            }
            out
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("child did not exit within 30 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        reader.join().unwrap()
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
