//! Control socket path resolution over fake `/` and `<root>` trees in a temp dir:
//! DESIGN.md's order, uid directories, the explicit override, and candidates that
//! are skipped (missing, a file instead of a directory, not writable for a
//! non-root user), with the reason reported.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use exabgp::system::sockpath::{self, Chosen, SkipReason};

fn mkdir(p: &Path) {
    std::fs::create_dir_all(p).unwrap();
}

fn trees() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let slash = t.path().join("slash");
    let root = t.path().join("root");
    mkdir(&slash);
    mkdir(&root);
    (t, slash, root)
}

#[test]
fn candidate_order_is_designs() {
    let dirs = sockpath::candidate_dirs(&[PathBuf::from("/"), PathBuf::from("/usr")], 1000);
    let want: Vec<PathBuf> = [
        "/run/exabgp",
        "/run/1000",
        "/run",
        "/var/run/exabgp",
        "/var/run/1000",
        "/var/run",
        "/usr/run/exabgp",
        "/usr/run/1000",
        "/usr/run",
        "/usr/var/run/exabgp",
        "/usr/var/run/1000",
        "/usr/var/run",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    assert_eq!(dirs, want);
}

#[test]
fn each_candidate_wins_when_it_is_the_first_usable_one() {
    let rels = [
        "run/exabgp",
        "run/4242",
        "run",
        "var/run/exabgp",
        "var/run/4242",
        "var/run",
    ];
    for (prefix_i, _) in ["slash", "root"].iter().enumerate() {
        for (i, rel) in rels.iter().enumerate() {
            let (_t, slash, root) = trees();
            let base = if prefix_i == 0 { &slash } else { &root };
            // Make exactly this candidate exist (its parents exist too, but a
            // parent such as run/ existing makes *it* a candidate: so for
            // "run/exabgp" only run/exabgp exists, etc. Parents that are later
            // candidates do not matter: the earlier one wins).
            mkdir(&base.join(rel));
            let r = sockpath::resolve(None, "edge1", &[slash.clone(), root.clone()], 4242);
            let expected_dir = base.join(rel);
            // A parent directory created above may be an *earlier* candidate only
            // for "var/run/..." under root when slash has none: never, since
            // candidates below a prefix go from deep to shallow within run/ and var/run/.
            assert_eq!(
                r.chosen,
                Chosen::Searched(expected_dir.join("edge1.sock")),
                "prefix {prefix_i} rel {rel}: {}",
                r.report()
            );
            // Every earlier candidate is reported as skipped.
            assert_eq!(r.skipped.len(), prefix_i * 6 + i, "{}", r.report());
        }
    }
}

#[test]
fn explicit_path_wins_over_everything() {
    let (_t, slash, root) = trees();
    mkdir(&slash.join("run/exabgp"));
    let explicit = slash.join("elsewhere/x.sock");
    let r = sockpath::resolve(Some(&explicit), "edge1", &[slash, root], 0);
    assert_eq!(r.chosen, Chosen::Explicit(explicit));
    assert!(r.skipped.is_empty());
    assert!(r.report().contains("exabgp.api.socketpath"));
}

#[test]
fn a_file_where_a_directory_should_be_is_skipped() {
    let (_t, slash, root) = trees();
    mkdir(&slash.join("run"));
    std::fs::write(slash.join("run/exabgp"), b"not a dir").unwrap();
    let r = sockpath::resolve(None, "exabgp", &[slash.clone(), root], 0);
    assert_eq!(r.chosen, Chosen::Searched(slash.join("run/exabgp.sock")));
    assert_eq!(
        r.skipped[0],
        (slash.join("run/exabgp"), SkipReason::NotADirectory)
    );
    assert_eq!(r.skipped[1], (slash.join("run/0"), SkipReason::Missing));
    let report = r.report();
    assert!(report.contains("is not a directory"), "{report}");
    assert!(report.contains("does not exist"), "{report}");
}

#[test]
fn root_prefix_is_used_when_slash_has_nothing() {
    let (_t, slash, root) = trees();
    mkdir(&root.join("var/run/7"));
    let r = sockpath::resolve(None, "i", &[slash, root.clone()], 7);
    assert_eq!(r.chosen, Chosen::Searched(root.join("var/run/7/i.sock")));
    assert_eq!(r.skipped.len(), 10);
}

#[test]
fn nothing_usable_reports_every_candidate() {
    let (_t, slash, root) = trees();
    let r = sockpath::resolve(None, "i", &[slash, root], 7);
    assert_eq!(r.chosen, Chosen::Nothing);
    assert_eq!(r.skipped.len(), 12);
    assert!(r.path().is_none());
    assert!(r.report().contains("set exabgp.api.socketpath"));
}

#[test]
fn client_finds_an_existing_socket_file_even_behind_a_usable_directory() {
    let (_t, slash, root) = trees();
    mkdir(&slash.join("run/exabgp"));
    mkdir(&slash.join("var/run"));
    std::fs::write(slash.join("var/run/edge2.sock"), b"").unwrap();
    let r = sockpath::resolve_client(None, "edge2", &[slash.clone(), root.clone()], 5);
    assert_eq!(r.chosen, Chosen::Existing(slash.join("var/run/edge2.sock")));
    assert_eq!(
        r.skipped[0],
        (slash.join("run/exabgp"), SkipReason::NoSocketFile)
    );
    // Without any socket file the client falls back to the daemon's choice.
    let r = sockpath::resolve_client(None, "edge9", &[slash.clone(), root], 5);
    assert_eq!(
        r.chosen,
        Chosen::Searched(slash.join("run/exabgp/edge9.sock"))
    );
}

fn cli() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_exabgpcli"))
}

/// `exabgpcli --which --instance INSTANCE --system-prefix SLASH --root ROOT`, with
/// no socket path nor name from our environment.
fn which(instance: &str, slash: &Path, root: &Path) -> Command {
    let mut cmd = Command::new(cli());
    cmd.args(["--which", "--instance", instance, "--system-prefix"])
        .arg(slash)
        .arg("--root")
        .arg(root)
        .env_remove("exabgp_api_socketpath")
        .env_remove("exabgp_api_socketname");
    cmd
}

/// `exabgpcli --which` run as an unprivileged uid: a directory it may not write is
/// skipped with the reason, the next usable one is chosen. (Tests run as root, so
/// the drop is what makes "not writable" observable.)
#[test]
fn unwritable_directory_is_skipped_for_a_dropped_uid() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: needs root to switch uid");
        return;
    }
    let (t, slash, root) = trees();
    // The temp dir itself must be traversable by uid 65534.
    for p in [t.path(), &slash, &root] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    // root/run/exabgp: root-owned 0755, not writable by 65534.
    mkdir(&root.join("run/exabgp"));
    std::fs::set_permissions(root.join("run"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(
        root.join("run/exabgp"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    // root/run/65534: owned by 65534, usable.
    mkdir(&root.join("run/65534"));
    nix::unistd::chown(
        &root.join("run/65534"),
        Some(nix::unistd::Uid::from_raw(65534)),
        None,
    )
    .unwrap();
    use std::os::unix::process::CommandExt;
    let out = which("edge3", &slash, &root)
        .env("HOME", t.path())
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!(
            "skipped {}: is not writable by us",
            root.join("run/exabgp").display()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "control socket: {}",
            root.join("run/65534/edge3.sock").display()
        )),
        "{text}"
    );
    // The same tree as root: run/exabgp is usable and chosen.
    let out = which("edge3", &slash, &root).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "control socket: {}",
            root.join("run/exabgp/edge3.sock").display()
        )),
        "{text}"
    );
}

#[test]
fn cli_env_overrides_pick_the_socket() {
    let (_t, slash, _root) = trees();
    let explicit = slash.join("my.sock");
    let out = Command::new(cli())
        .args(["--which"])
        .env("exabgp.api.socketpath", &explicit)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("control socket: {}", explicit.display())),
        "{text}"
    );
    assert!(text.contains("exabgp.api.socketpath"), "{text}");
    // The socket name from the environment wins over the instance name.
    let out = which("a", &slash, &slash)
        .env("exabgp_api_socketname", "other")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("other.sock"), "{text}");
}
