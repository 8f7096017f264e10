//! A burst of flow commands from a helper (a real child process, its stdout a
//! real pipe) or from one control-socket write (a real Unix socket) reaches the
//! daemon core as fewer requests than lines (api/join.rs), and nothing else
//! changes: every line gets its own answer in order (ack on), the rules arrive
//! in the order written, an announce then a withdraw of the same rule stay in
//! that order, a bad line is refused alone, and an error of the core reaches
//! every line of its join. Checked against the stand-in core
//! (support::api::responder), which records every request it receives.

mod support;

use std::path::Path;
use std::time::Duration;

use exabgp::api::helpers::{spawn_all, HelperOptions};
use exabgp::api::{self, ApiCommand, ServerLimits};
use exabgp::config::{Encoder, ProcessConfig};
use exabgp::control::Command;
use support::api::{responder, Client, Seen};
use tokio::io::AsyncBufReadExt;
use tokio_util::sync::CancellationToken;

/// Rules per kind in the burst.
const N: usize = 1000;

fn rule(i: usize) -> String {
    format!(
        "flow route {{ match {{ destination 10.{}.{}.{}/32; protocol tcp; destination-port =80; }} then {{ discard; }} }}",
        (i >> 16) & 255,
        (i >> 8) & 255,
        i & 255
    )
}

/// The burst: N announces, 3 announces the core refuses (scoped to an unknown
/// neighbor), a line that is no command, N withdraws of the same rules, and the
/// first rule announced again. With the answers each line must get.
fn burst() -> (Vec<String>, Vec<String>) {
    let mut lines = Vec::new();
    let mut answers = Vec::new();
    for i in 0..N {
        lines.push(format!("announce {}", rule(i)));
        answers.push("done".to_string());
    }
    for i in 0..3 {
        lines.push(format!("neighbor 192.0.2.99 announce {}", rule(N + i)));
        answers.push("error: no neighbor matches".to_string());
    }
    lines.push("bogus".to_string());
    answers.push("error: unknown command 'bogus' (try 'help')".to_string());
    for i in 0..N {
        lines.push(format!("withdraw {}", rule(i)));
        answers.push("done".to_string());
    }
    lines.push(format!("announce {}", rule(0)));
    answers.push("done".to_string());
    (lines, answers)
}

/// Each flow command split into one command per rule, in order: what the core
/// must have been asked, however the lines were joined.
fn one_rule_each(cmds: &[Command]) -> Vec<Command> {
    let mut out = Vec::new();
    for c in cmds {
        match c {
            Command::AnnounceFlow { scope, rules } => {
                for r in rules {
                    out.push(Command::AnnounceFlow {
                        scope: scope.clone(),
                        rules: vec![r.clone()],
                    });
                }
            }
            Command::WithdrawFlow { scope, rules } => {
                for r in rules {
                    out.push(Command::WithdrawFlow {
                        scope: scope.clone(),
                        rules: vec![r.clone()],
                    });
                }
            }
            other => out.push(other.clone()),
        }
    }
    out
}

/// The requests the core must see, one rule each (the bad line is none).
fn wanted(lines: &[String]) -> Vec<Command> {
    let cmds: Vec<Command> = lines
        .iter()
        .filter_map(|l| match api::parse_command(l) {
            Ok(ApiCommand::Control(c)) => Some(c),
            _ => None,
        })
        .collect();
    one_rule_each(&cmds)
}

fn check(seen: &Seen, lines: &[String], answers: &[String], got: &[String]) {
    assert_eq!(got.len(), answers.len(), "one answer per line");
    for (i, (g, w)) in got.iter().zip(answers).enumerate() {
        assert_eq!(g, w, "answer {i} (line {:?})", lines[i]);
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        one_rule_each(&seen),
        wanted(lines),
        "rules in the order written"
    );
    // The joins: 2N + 5 command lines (the bad one never reaches the core), as
    // fewer requests. Without them the core gets one request a line.
    assert!(
        seen.len() < lines.len() - 1,
        "{} requests for {} command lines: the burst was not joined",
        seen.len(),
        lines.len() - 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_helpers_burst_is_joined_and_each_line_answered_in_order() {
    let d = tempfile::tempdir().unwrap();
    let (lines, answers) = burst();
    let input = d.path().join("burst");
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let out = d.path().join("answers");
    let script = d.path().join("h.py");
    std::fs::write(
        &script,
        format!(
            r##"
import sys, time
data = open({input:?}).read()
sys.stdout.write(data); sys.stdout.flush()
out = open({out:?}, "w")
n = 0
while n < {want}:
    line = sys.stdin.readline()
    if not line: break
    out.write(line); out.flush()
    n += 1
time.sleep(60)
"##,
            want = answers.len()
        ),
    )
    .unwrap();
    let (ctx, seen) = responder();
    let (etx, _) = exabgp::control::event_channel(16, 1 << 30);
    let token = CancellationToken::new();
    let p = ProcessConfig {
        name: "burst".into(),
        run: vec!["python3".into(), "-u".into(), script.display().to_string()],
        encoder: Encoder::Json,
        receive: vec![],
        respawn_limit: 1,
        respawn_window: 60,
    };
    let opts = HelperOptions {
        ack: true,
        grace: Duration::from_millis(500),
        ..Default::default()
    };
    let set = spawn_all(&[p], ctx, &etx, opts, token.clone());
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    // Bounded: 600 x 50 ms.
    for _ in 0..600 {
        if read(&out).lines().count() >= answers.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let text = read(&out);
    let got: Vec<String> = text.lines().map(str::to_string).collect();
    check(&seen, &lines, &answers, &got);
    token.cancel();
    set.wait().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_control_socket_write_is_joined_and_each_line_answered_in_order() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("j.sock");
    let sock = api::bind_control_socket(&path, None).unwrap();
    let (ctx, seen) = responder();
    let token = CancellationToken::new();
    let t = token.clone();
    let task = tokio::spawn(async move {
        let api::ControlSocket { listener, file } = sock;
        let l = api::std_to_tokio(listener).unwrap();
        api::serve_control(l, ctx, ServerLimits::default(), t).await;
        drop(file);
    });
    let (lines, answers) = burst();
    let s = tokio::net::UnixStream::connect(&path).await.unwrap();
    let (r, mut w) = s.into_split();
    // Written from a task: the answers are read meanwhile, so neither side
    // waits for the other however the socket buffers fill.
    let all = lines.join("\n") + "\n";
    let writer = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        w.write_all(all.as_bytes()).await.unwrap();
        w
    });
    let mut r = tokio::io::BufReader::new(r);
    let mut got = Vec::new();
    let read_all = async {
        while got.len() < answers.len() {
            let mut l = String::new();
            if r.read_line(&mut l).await.unwrap() == 0 {
                break;
            }
            got.push(l.trim_end().to_string());
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read_all)
        .await
        .expect("every answer within 30 s");
    let _w = writer.await.unwrap();
    check(&seen, &lines, &answers, &got);
    // The connection goes on.
    drop(_w);
    let mut c = Client::connect(&path).await;
    assert_eq!(c.cmd("version").await.last().unwrap(), "done");
    token.cancel();
    task.await.unwrap();
}
