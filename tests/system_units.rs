//! The files in systemd/ against the code they describe: the example env file lists
//! every setting the loader knows, with its real default, and loads cleanly when
//! uncommented; the units keep the directives the daemon's behaviour relies on.
//! (The units themselves are verified by `systemd-analyze verify` and exercised in
//! a booted systemd by scripts/systest.)

use std::path::Path;

use exabgp::config::{Settings, SETTINGS};

fn repo_file(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn env_example_lists_every_setting_with_its_default() {
    let text = repo_file("systemd/exabgp.env.example");
    for s in SETTINGS {
        let default = if s.default.starts_with('(') {
            ""
        } else {
            s.default
        };
        let line = format!("#{}={}", s.env_name(), default);
        assert!(
            text.lines().any(|l| l == line),
            "systemd/exabgp.env.example lacks the line {line:?}"
        );
    }
    // And nothing it lists is unknown to the loader.
    for l in text.lines() {
        if let Some((name, _)) = l.strip_prefix("#exabgp_").and_then(|r| r.split_once('=')) {
            let name = format!("exabgp_{name}");
            assert!(
                SETTINGS.iter().any(|s| s.env_name() == name),
                "{name} in the example is not a setting"
            );
        }
    }
}

#[test]
fn env_example_uncommented_loads_as_the_defaults() {
    let text = repo_file("systemd/exabgp.env.example");
    // Uncomment every setting line, dropping the empty ones (empty = default).
    let active: String = text
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .filter(|l| l.starts_with("exabgp_") && !l.ends_with('='))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(active.lines().count() >= 5, "{active}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.env");
    std::fs::write(&file, &active).unwrap();
    let from_file = Settings::load(Some(&file), Vec::new(), &[], Some("x"))
        .unwrap_or_else(|e| panic!("{e}\n{active}"));
    let defaults = Settings::load(None, Vec::new(), &[], Some("x")).unwrap();
    assert_eq!(from_file.tcp_port, defaults.tcp_port);
    assert_eq!(from_file.api_cli, defaults.api_cli);
    assert_eq!(from_file.api_ack, defaults.api_ack);
    assert_eq!(from_file.log_level, defaults.log_level);
    assert_eq!(from_file.log_destination, defaults.log_destination);
    assert_eq!(from_file.daemon_user, defaults.daemon_user);
    assert_eq!(from_file.daemon_drop, defaults.daemon_drop);
}

#[test]
fn units_keep_what_the_daemon_relies_on() {
    let service = repo_file("systemd/exabgp@.service");
    for directive in [
        "Type=notify",
        "NotifyAccess=main",
        "ExecStart=/usr/sbin/exabgp server --instance %i --env-file /etc/exabgp/%i.env /etc/exabgp/%i.toml",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "Restart=on-failure",
        "RestartPreventExitStatus=78 77",
        "User=exabgp",
        "RuntimeDirectory=exabgp",
        "RuntimeDirectoryPreserve=yes",
        "PartOf=exabgp.target",
        "WantedBy=exabgp.target",
        "Documentation=man:exabgp(8)",
    ] {
        assert!(
            service.lines().any(|l| l.starts_with(directive)),
            "exabgp@.service lacks {directive}"
        );
    }
    assert!(service.lines().any(|l| l.starts_with("WatchdogSec=")));
    let control = repo_file("systemd/exabgp@.socket");
    for directive in [
        "ListenStream=/run/exabgp/%i.sock",
        "FileDescriptorName=control",
        "SocketMode=0660",
        "SocketGroup=exabgp",
        "RemoveOnStop=yes",
        "Service=exabgp@%i.service",
    ] {
        assert!(
            control.lines().any(|l| l == directive),
            "exabgp@.socket lacks {directive}"
        );
    }
    let bgp = repo_file("systemd/exabgp-bgp@.socket");
    assert!(bgp.lines().any(|l| l == "FileDescriptorName=bgp"));
    assert!(bgp.lines().any(|l| l == "Service=exabgp@%i.service"));
    let metrics = repo_file("systemd/exabgp-metrics@.socket");
    for directive in [
        "FileDescriptorName=metrics",
        "Service=exabgp@%i.service",
        "ListenStream=127.0.0.1:9179",
    ] {
        assert!(
            metrics.lines().any(|l| l == directive),
            "exabgp-metrics@.socket lacks {directive}"
        );
    }
    // The names the daemon looks for.
    assert_eq!(exabgp::system::activation::FDNAME_CONTROL, "control");
    assert_eq!(exabgp::system::activation::FDNAME_BGP, "bgp");
    assert_eq!(exabgp::system::activation::FDNAME_METRICS, "metrics");
}
