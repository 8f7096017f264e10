//! `exabgp env`: every setting with its origin (default, environment, file:line),
//! precedence environment > file > default, and the control socket the instance
//! would use, with the candidates skipped on the way.
//!
//! Every process is killed and every socket file removed when a test ends, also
//! when it fails (Drop guards). Names carry our pid so concurrent runs never meet.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;

use support::binary::*;
use support::TestDir;

/// Splits an `exabgp env` report into settings (name -> (value, origin)) and the
/// socket section's lines.
fn parse_env(report: &str) -> (BTreeMap<String, (String, String)>, Vec<String>) {
    let (settings, socket) = report
        .split_once("\n\n")
        .unwrap_or_else(|| panic!("no blank line before the socket section:\n{report}"));
    let mut map = BTreeMap::new();
    for line in settings.lines() {
        if line.starts_with("# warning:") {
            continue;
        }
        let (kv, origin) = line
            .split_once("    # ")
            .unwrap_or_else(|| panic!("no origin on: {line}"));
        let (k, v) = kv
            .split_once('=')
            .unwrap_or_else(|| panic!("not name=value: {line}"));
        map.insert(k.to_string(), (v.to_string(), origin.to_string()));
    }
    (map, socket.lines().map(str::to_string).collect())
}

/// The candidates skipped before the first usable one, computed from the real
/// filesystem (as root every existing directory is writable), and that one.
fn expected_skips(uid: u32) -> (Vec<String>, PathBuf) {
    let mut skipped = Vec::new();
    for d in [
        "/run/exabgp".to_string(),
        format!("/run/{uid}"),
        "/run".to_string(),
        "/var/run/exabgp".to_string(),
        format!("/var/run/{uid}"),
        "/var/run".to_string(),
    ] {
        match std::fs::metadata(&d) {
            Ok(m) if m.is_dir() => return (skipped, PathBuf::from(d)),
            Ok(_) => skipped.push(format!("  skipped {d}: is not a directory")),
            Err(_) => skipped.push(format!("  skipped {d}: does not exist")),
        }
    }
    panic!("no usable run directory on this machine: {skipped:?}");
}

/// `exabgp env`: every setting with its origin (default, environment, file:line),
/// precedence environment > file > default, and the socket report with the skipped
/// candidates.
#[test]
fn env_reports_origins_and_socket_candidates() {
    let dir = TestDir::new("e2e-env");
    let name = instance_name("env");
    let uid = nix::unistd::geteuid().as_raw();
    assert_eq!(uid, 0, "these tests expect to run as root");
    let (skips, usable) = expected_skips(uid);

    // Defaults only.
    let plain = exabgp_env(&name, None, &[]).stdout;
    let (settings, socket) = parse_env(&plain);
    assert!(settings.len() >= 10, "too few settings: {plain}");
    for (k, (_, origin)) in &settings {
        assert!(k.starts_with("exabgp."), "{k}");
        assert_eq!(origin, "default", "{k} in:\n{plain}");
    }
    assert_eq!(settings["exabgp.api.socketname"].0, name);
    assert_eq!(settings["exabgp.tcp.port"].0, "179");
    let chosen = usable.join(format!("{name}.sock"));
    assert_eq!(
        socket[0],
        format!(
            "control socket: {} (first usable directory)",
            chosen.display()
        ),
        "{plain}"
    );
    assert_eq!(socket[1..].to_vec(), skips, "skipped candidates:\n{plain}");

    // An env file plus the environment: each setting says where it came from.
    let file = dir.path.join(format!("{name}.env"));
    std::fs::write(
        &file,
        format!(
            "# written by the test\nexabgp_tcp_port=1790\nexabgp.api.ack=false\n\nexabgp_log_level=WARNING\nexabgp_api_socketname={name}-custom\n"
        ),
    )
    .unwrap();
    let out = exabgp_env(
        &name,
        Some(&file),
        &[
            ("exabgp_log_level", "DEBUG"),
            ("exabgp.daemon.user", "nobody"),
        ],
    )
    .stdout;
    let (settings, socket) = parse_env(&out);
    let f = file.display().to_string();
    let origin = |k: &str| settings[k].1.clone();
    let value = |k: &str| settings[k].0.clone();
    assert_eq!(
        (value("exabgp.tcp.port"), origin("exabgp.tcp.port")),
        ("1790".into(), format!("{f}:2"))
    );
    assert_eq!(origin("exabgp.api.ack"), format!("{f}:3"), "{out}");
    assert_eq!(value("exabgp.api.ack"), "false");
    // The environment wins over the file.
    assert_eq!(origin("exabgp.log.level"), "environment", "{out}");
    assert!(
        value("exabgp.log.level").eq_ignore_ascii_case("debug"),
        "{out}"
    );
    assert_eq!(
        (value("exabgp.daemon.user"), origin("exabgp.daemon.user")),
        ("nobody".into(), "environment".into())
    );
    assert_eq!(origin("exabgp.api.socketname"), format!("{f}:6"));
    assert_eq!(origin("exabgp.daemon.drop"), "default");
    assert_eq!(
        reported_socket(&out),
        usable.join(format!("{name}-custom.sock")),
        "{out}"
    );
    assert_eq!(socket[1..].to_vec(), skips, "{out}");
    for (k, (_, o)) in &settings {
        assert!(
            o == "default" || o == "environment" || o.starts_with(&format!("{f}:")),
            "{k}: origin {o}"
        );
    }

    // The same search below another prefix, where every kind of skip shows.
    let slash = dir.path.join("slash");
    std::fs::create_dir_all(slash.join("run")).unwrap();
    std::fs::write(slash.join("run/exabgp"), "not a directory").unwrap();
    let mut cmd = hermetic(exabgpcli_bin());
    cmd.args(["--instance", &name, "--which", "--system-prefix"])
        .arg(&slash)
        .arg("--root")
        .arg(dir.path.join("no-root"));
    let which = run(cmd, COMMAND_TIMEOUT);
    assert_eq!(which.code, 0, "{which:?}");
    let lines: Vec<&str> = which.stdout.lines().collect();
    assert_eq!(
        lines,
        vec![
            format!(
                "control socket: {} (first usable directory)",
                slash.join(format!("run/{name}.sock")).display()
            ),
            format!(
                "  skipped {}: is not a directory",
                slash.join("run/exabgp").display()
            ),
            format!(
                "  skipped {}: does not exist",
                slash.join("run/0").display()
            ),
        ],
        "{which:?}"
    );
}
