//! ExaBGP's newer command spellings beside the 4.x/5.0 ones: `peer ADDR ...`,
//! `peer * ...`, `peer [ A B ] ...`, and `session ack enable|disable|silence` (with
//! the older `enable-ack` / `disable-ack` / `silence-ack`), from a real helper
//! process and over the real control socket (the daemon core is the stand-in of
//! support::api, which records the commands it gets).
//!
//! The ack semantics follow ExaBGP's reactor/api/command/reactor.py: `enable`
//! turns the `done`/`error:` lines on and is answered; `disable` is answered, then
//! turns them off; `silence` turns them off and is not answered. Per helper.

mod support;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use exabgp::api::command::AckMode;
use exabgp::api::helpers::{spawn_all, HelperOptions};
use exabgp::api::{self, parse_command, ApiCommand, ServerLimits};
use exabgp::config::{Encoder, ProcessConfig};
use exabgp::control::Command;
use support::api::{responder, Client, Seen};
use support::until;
use tokio_util::sync::CancellationToken;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn scope_of(c: &Command) -> Option<Vec<IpAddr>> {
    match c {
        Command::Announce { scope, .. } | Command::Withdraw { scope, .. } => scope.clone(),
        Command::FlushAdjRibOut { scope } | Command::ClearAdjRib { scope, .. } => scope.clone(),
        other => panic!("not a scoped command: {other:?}"),
    }
}

/// The spellings parse to what the 4.x/5.0 ones give.
#[test]
fn peer_and_session_spellings_parse() {
    let same = [
        (
            "peer 192.0.2.254 announce route 10.0.0.0/24 next-hop self",
            "neighbor 192.0.2.254 announce route 10.0.0.0/24 next-hop self",
        ),
        (
            "peer 192.0.2.254,192.0.2.253 withdraw route 10.0.0.0/24",
            "neighbor 192.0.2.254,192.0.2.253 withdraw route 10.0.0.0/24",
        ),
        (
            "peer [ 192.0.2.254 192.0.2.253 ] withdraw route 10.0.0.0/24",
            "neighbor 192.0.2.254,192.0.2.253 withdraw route 10.0.0.0/24",
        ),
        (
            "peer * announce route 10.0.0.0/24 next-hop self med 5",
            "announce route 10.0.0.0/24 next-hop self med 5",
        ),
        ("peer * withdraw route 10.0.0.0/24", "withdraw route 10.0.0.0/24"),
        ("peer 192.0.2.254 teardown 4", "neighbor 192.0.2.254 teardown 4"),
        (
            "peer 192.0.2.254 local-as 65001 announce attributes next-hop 192.0.2.1 nlri 10.1.0.0/24",
            "neighbor 192.0.2.254 announce attributes next-hop 192.0.2.1 nlri 10.1.0.0/24",
        ),
        ("enable-ack", "session ack enable"),
        ("disable-ack", "session ack disable"),
        ("silence-ack", "session ack silence"),
    ];
    for (new, old) in same {
        assert_eq!(parse_command(new), parse_command(old), "{new}");
        assert!(
            parse_command(new).is_ok(),
            "{new}: {:?}",
            parse_command(new)
        );
    }
    assert_eq!(
        parse_command("session ack silence"),
        Ok(ApiCommand::Ack(AckMode::Silence))
    );
    for bad in [
        "session ack",
        "session ack maybe",
        "session nack enable",
        "session ack enable now",
        "peer * teardown",
        "peer 192.0.2.254",
        "peer nonsense announce route 10.0.0.0/24 next-hop self",
    ] {
        assert!(parse_command(bad).is_err(), "{bad} was accepted");
    }
}

fn quick() -> HelperOptions {
    HelperOptions {
        grace: Duration::from_millis(500),
        respawn_delay: Duration::from_millis(20),
        ..Default::default()
    }
}

/// How long each [`support::until`] waits here.
const UNTIL: Duration = Duration::from_secs(30);

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// A python helper that writes `commands`, then copies every line it reads on
/// stdin to `out` (answers come in the order of the commands: one reader runs
/// them one after the other).
fn helper(dir: &Path, commands: &[&str], out: &Path) -> ProcessConfig {
    let script: PathBuf = dir.join("h.py");
    let cmds: Vec<String> = commands.iter().map(|c| format!("{c:?}")).collect();
    std::fs::write(
        &script,
        format!(
            r#"
import sys
out = open({out:?}, "w")
for cmd in [{cmds}]:
    sys.stdout.write(cmd + "\n")
sys.stdout.flush()
for line in sys.stdin:
    out.write(line); out.flush()
"#,
            cmds = cmds.join(", ")
        ),
    )
    .unwrap();
    ProcessConfig {
        name: "h".into(),
        run: vec!["python3".into(), "-u".into(), script.display().to_string()],
        encoder: Encoder::Json,
        receive: vec![],
        respawn_limit: 5,
        respawn_window: 60,
    }
}

/// `peer` commands from a helper reach the core with the scope they name.
#[tokio::test]
async fn peer_commands_from_a_helper() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("answers");
    let p = helper(
        d.path(),
        &[
            "peer 192.0.2.254 announce route 10.0.0.0/24 next-hop self",
            "peer * withdraw route 10.0.0.0/24",
            "peer [ 192.0.2.254 192.0.2.253 ] clear adj-rib out",
            "version",
        ],
        &out,
    );
    let (ctx, seen): (_, Seen) = responder();
    let (etx, _) = exabgp::control::event_channel(16, 1 << 30);
    let token = CancellationToken::new();
    let set = spawn_all(&[p], ctx, &etx, quick(), token.clone());
    until(UNTIL, "the last answer", || read(&out).lines().count() >= 5).await;
    let text = read(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[..3], ["done", "done", "done"], "{text}");
    assert!(lines[3].starts_with("exabgp-rs "), "{text}");
    assert_eq!(lines[4..], ["done"], "{text}");
    let cmds = seen.lock().unwrap().clone();
    assert_eq!(cmds.len(), 3, "{cmds:?}");
    assert!(matches!(cmds[0], Command::Announce { .. }));
    assert_eq!(scope_of(&cmds[0]), Some(vec![ip("192.0.2.254")]));
    assert!(matches!(cmds[1], Command::Withdraw { .. }));
    assert_eq!(scope_of(&cmds[1]), None, "peer * is every neighbor");
    assert_eq!(
        scope_of(&cmds[2]),
        Some(vec![ip("192.0.2.254"), ip("192.0.2.253")])
    );
    token.cancel();
    set.wait().await;
}

/// `session ack` as ExaBGP has it, for the helper that sent it: disable is
/// answered then silences, errors are silenced too, enable is answered and
/// turns answers back on, silence is not answered; the older spellings do the same.
#[tokio::test]
async fn session_ack_changes_this_helpers_answers() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("answers");
    let p = helper(
        d.path(),
        &[
            "announce route 10.0.0.0/24 next-hop self", // done
            "session ack disable",                      // done (then off)
            "announce route 10.0.1.0/24 next-hop self", // -
            "bogus",                                    // -
            "version",                                  // its output line only
            "session ack enable",                       // done
            "withdraw route 10.0.1.0/24",               // done
            "session ack silence",                      // -
            "withdraw route 10.0.0.0/24",               // -
            "enable-ack",                               // done
            "disable-ack",                              // done
            "peer * withdraw route 10.0.2.0/24",        // -
            "silence-ack",                              // -
            "version",                                  // its output line only
        ],
        &out,
    );
    let (ctx, seen): (_, Seen) = responder();
    let (etx, _) = exabgp::control::event_channel(16, 1 << 30);
    let token = CancellationToken::new();
    let set = spawn_all(&[p], ctx, &etx, quick(), token.clone());
    until(UNTIL, "the last version line", || {
        read(&out).matches("exabgp-rs ").count() >= 2
    })
    .await;
    let text = read(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 8, "{text}");
    assert_eq!(lines[..2], ["done", "done"], "{text}");
    assert!(lines[2].starts_with("exabgp-rs "), "{text}");
    assert_eq!(lines[3..7], ["done", "done", "done", "done"], "{text}");
    assert!(lines[7].starts_with("exabgp-rs "), "{text}");
    // Every route command still ran.
    assert_eq!(seen.lock().unwrap().len(), 5);
    token.cancel();
    set.wait().await;
}

/// A `#` comment is a command in ExaBGP, answered `done`: a helper that writes one
/// and waits for the answer must not hang (review). A blank line gets nothing.
#[tokio::test]
async fn a_comment_is_answered_done_a_blank_line_is_not() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("answers");
    let p = helper(
        d.path(),
        &["# a comment", "", "   # indented", "version"],
        &out,
    );
    let (ctx, seen): (_, Seen) = responder();
    let (etx, _) = exabgp::control::event_channel(16, 1 << 30);
    let token = CancellationToken::new();
    let set = spawn_all(&[p], ctx, &etx, quick(), token.clone());
    until(UNTIL, "the version line", || {
        read(&out).contains("exabgp-rs ")
    })
    .await;
    until(UNTIL, "the version's done", || {
        read(&out).lines().count() >= 4
    })
    .await;
    let text = read(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[..2], ["done", "done"], "{text}");
    assert!(lines[2].starts_with("exabgp-rs "), "{text}");
    assert_eq!(lines[3..], ["done"], "{text}");
    assert!(
        seen.lock().unwrap().is_empty(),
        "a comment reaches no neighbor"
    );
    token.cancel();
    set.wait().await;
}

/// Over the control socket the new spellings are accepted; answers stay
/// terminated there (exabgpcli waits for them), as docs/api.md says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spellings_on_the_control_socket() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("exabgp.sock");
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
    let mut c = Client::connect(&path).await;
    assert_eq!(
        c.cmd("peer 192.0.2.254 announce route 10.0.0.0/24 next-hop self")
            .await,
        ["done"]
    );
    assert_eq!(c.cmd("session ack silence").await, ["done"]);
    assert_eq!(c.cmd("peer * withdraw route 10.0.0.0/24").await, ["done"]);
    assert_eq!(
        c.cmd("session ack sometimes").await,
        ["error: session ack: expected enable, disable or silence, found 'sometimes'"]
    );
    let cmds = seen.lock().unwrap().clone();
    assert_eq!(cmds.len(), 2, "{cmds:?}");
    assert_eq!(scope_of(&cmds[0]), Some(vec![ip("192.0.2.254")]));
    assert_eq!(scope_of(&cmds[1]), None);
    token.cancel();
    task.await.unwrap();
}
