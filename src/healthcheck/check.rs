//! Running the check and the --execute hooks: `/bin/sh -c CMD` in a process group
//! of its own, stdin from /dev/null (ours is the daemon's event stream), stdout and
//! stderr into a pipe we read as it runs (ours is the daemon's command stream: a
//! check's output must never reach it), kept for the log up to [`KEEP_OUTPUT`].
//!
//! On overrun of the time limit, or when we are told to stop, the whole group is
//! killed (SIGKILL) and the check counts as failed. After every run the group is
//! killed too, so nothing a check left in the background outlives it. The group
//! id is the child's pid; it is killed before the child is reaped (its pid cannot
//! have been reused), and after reaping only if members remain (a group's id is
//! not given to a new process while the group exists). One run at a time: the
//! caller waits for each to end. If we are killed by SIGKILL mid-check, the
//! shell (or the command it execs) gets SIGKILL too (PR_SET_PDEATHSIG); what it
//! started in the background is out of our reach then.

use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

/// Bytes of a check's output kept for the log.
pub const KEEP_OUTPUT: usize = 4096;

/// How often a running check is looked at.
const POLL: Duration = Duration::from_millis(20);

/// How one run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Exit status 0.
    pub ok: bool,
    /// For the log: `exit status 1`, `killed by signal 9`, `timed out after 1s`...
    pub detail: String,
    /// The first [`KEEP_OUTPUT`] bytes of stdout and stderr, lossily decoded.
    pub output: String,
}

/// Run `cmd` with `/bin/sh -c`, `env` added to our environment, for at most
/// `limit` (None: no limit); stop early (and fail) when `stop` becomes true.
pub fn run(cmd: &str, env: &[(&str, &str)], limit: Option<Duration>, stop: &AtomicBool) -> Outcome {
    let fail = |detail: String| Outcome {
        ok: false,
        detail,
        output: String::new(),
    };
    // O_CLOEXEC: the descriptors must not leak into this or a later child
    // (std's Command dups them onto 1 and 2 for this one).
    let (rd, wr) = match nix::unistd::pipe2(OFlag::O_CLOEXEC) {
        Ok(p) => p,
        Err(e) => return fail(format!("cannot create a pipe: {e}")),
    };
    let wr2: OwnedFd = match wr.try_clone() {
        Ok(f) => f,
        Err(e) => return fail(format!("cannot duplicate a pipe: {e}")),
    };
    if let Err(e) = fcntl(&rd, FcntlArg::F_SETFL(OFlag::O_NONBLOCK)) {
        return fail(format!("cannot set the pipe non-blocking: {e}"));
    }
    let mut c = Command::new("/bin/sh");
    c.arg("-c")
        .arg(cmd)
        .stdin(Stdio::null())
        .stdout(Stdio::from(wr))
        .stderr(Stdio::from(wr2))
        .process_group(0);
    for (k, v) in env {
        c.env(k, v);
    }
    // Should we be killed outright (SIGKILL: no chance to kill the group), the
    // shell, or the command it execs (`sh -c 'curl ...'` runs curl in its place),
    // dies with us instead of running on unwatched. One thread runs every check and
    // lives as long as the process, so "the parent" is us for the whole run.
    // SAFETY: only prctl(2), async-signal-safe, between fork and exec.
    unsafe {
        c.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = match c.spawn() {
        Ok(ch) => ch,
        Err(e) => return fail(format!("cannot start /bin/sh: {e}")),
    };
    // Dropping the Command closes our copies of the write end.
    drop(c);
    let pgid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    let mut pipe = std::fs::File::from(rd);
    let mut kept: Vec<u8> = Vec::new();
    let mut drain = |kept: &mut Vec<u8>| {
        let mut buf = [0u8; 4096];
        // Bounded: at most 64 reads a poll, the rest is read next time.
        for _ in 0..64 {
            match pipe.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let room = KEEP_OUTPUT.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
                Err(_) => break, // EAGAIN: nothing more for now.
            }
        }
    };
    let start = Instant::now();
    let mut killed: Option<String> = None;
    let status = loop {
        drain(&mut kept);
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) => {}
            Err(e) => {
                killed = Some(format!("cannot wait for it: {e}"));
                let _ = killpg(pgid, Signal::SIGKILL);
                break child.wait().ok();
            }
        }
        let why = if stop.load(Ordering::SeqCst) {
            Some("interrupted: we are stopping".to_string())
        } else {
            limit
                .filter(|l| start.elapsed() >= *l)
                .map(|l| format!("timed out after {}s", l.as_secs_f64()))
        };
        if let Some(why) = why {
            let _ = killpg(pgid, Signal::SIGKILL);
            killed = Some(why);
            break child.wait().ok();
        }
        std::thread::sleep(POLL);
    };
    // Whatever the check left running in its group goes with it.
    let _ = killpg(pgid, Signal::SIGKILL);
    drain(&mut kept);
    let output = String::from_utf8_lossy(&kept).trim_end().to_string();
    match (killed, status) {
        (Some(why), _) => Outcome {
            ok: false,
            detail: why,
            output,
        },
        (None, Some(st)) if st.success() => Outcome {
            ok: true,
            detail: "exit status 0".into(),
            output,
        },
        (None, Some(st)) => Outcome {
            ok: false,
            detail: match (st.code(), st.signal()) {
                (Some(c), _) => format!("exit status {c}"),
                (None, Some(s)) => format!("killed by signal {s}"),
                _ => "ended abnormally".into(),
            },
            output,
        },
        (None, None) => Outcome {
            ok: false,
            detail: "its status was lost".into(),
            output,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static NO: AtomicBool = AtomicBool::new(false);

    #[test]
    fn exit_status_decides() {
        assert!(run("true", &[], None, &NO).ok);
        let o = run("echo out; echo err >&2; exit 3", &[], None, &NO);
        assert!(!o.ok);
        assert_eq!(o.detail, "exit status 3");
        assert_eq!(o.output, "out\nerr");
    }

    #[test]
    fn environment_is_passed() {
        let o = run("test \"$STATE\" = UP", &[("STATE", "UP")], None, &NO);
        assert!(o.ok, "{o:?}");
    }

    #[test]
    fn overrun_kills_the_group() {
        let dir = std::env::temp_dir().join(format!("hc-check-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let marker = dir.join("pid");
        let cmd = format!("sleep 300 & echo $! > {}; sleep 300", marker.display());
        let o = run(&cmd, &[], Some(Duration::from_secs(3)), &NO);
        assert!(!o.ok);
        assert!(o.detail.starts_with("timed out"), "{o:?}");
        let pid: i32 = std::fs::read_to_string(&marker)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // The background child was in the group: it got SIGKILL (it may linger
        // as a zombie until its new parent reaps it). The signal is delivered
        // asynchronously: wait for it, at most 10 s.
        let dead = || {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let state = stat.rsplit(')').next().unwrap_or("").trim().chars().next();
            (matches!(state, None | Some('Z') | Some('X')), stat)
        };
        let mut last = String::new();
        for _ in 0..200 {
            let (gone, stat) = dead();
            if gone {
                last.clear();
                break;
            }
            last = stat;
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(last.is_empty(), "{pid} still running: {last}");
        let _ = std::fs::remove_dir_all(dir);
    }

    /// The check gets our pipe on 1 and 2 only: no other pipe descriptor leaks
    /// into it (before pipe2(O_CLOEXEC), the read end did).
    #[test]
    fn no_pipe_leaks_into_the_check() {
        // printf + readlink, not $(readlink): a command substitution is a pipe
        // of the shell's own.
        let cmd = r#"for f in /proc/$$/fd/*; do n=${f##*/}; if [ "$n" -gt 2 ]; then printf '%s ' "$n"; readlink "$f"; fi; done; true"#;
        // Pipes this test process inherited itself without O_CLOEXEC (cargo's
        // jobserver) are passed on by any child: not ours.
        let inherited: Vec<String> = std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
            .map(|l| l.to_string_lossy().into_owned())
            .filter(|l| l.starts_with("pipe:"))
            .collect();
        let o = run(cmd, &[], None, &NO);
        assert!(o.ok, "{o:?}");
        let leaked: Vec<&str> = o
            .output
            .lines()
            .filter_map(|l| l.split_once(' ').map(|(_, t)| t))
            .filter(|t| t.starts_with("pipe:") && !inherited.iter().any(|i| i == t))
            .collect();
        assert!(leaked.is_empty(), "{leaked:?} in:\n{}", o.output);
    }

    #[test]
    fn output_is_bounded() {
        let o = run("head -c 100000 /dev/zero | tr '\\0' x", &[], None, &NO);
        assert!(o.ok);
        assert_eq!(o.output.len(), KEEP_OUTPUT);
    }
}
