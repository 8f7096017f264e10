//! ExaBGP env files: an env file written the way `exabgp --fi` writes it (every
//! setting at ExaBGP's default) is accepted by the loader, by `exabgp env` and by
//! the daemon (a real process), which apply the settings that mean something here
//! and name every other one in ONE warning; a misspelled setting is still exit 78.
//!
//! The fixtures tests/fixtures/exabgp-4.2.env and exabgp-5.0.env were written from
//! ExaBGP's source (Exa-Networks/exabgp): the definitions in
//! lib/exabgp/environment/setup.py (4.2) and src/exabgp/environment/setup.py (5.0),
//! printed as `Env.iter_ini` does for `exabgp --fi`: sections sorted, `[debug]`
//! left out, keys sorted, `key = value` with each option's writer (`'...'` for
//! strings and lists, lower-case booleans, `INFO`, `'0o137'`).

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use exabgp::config::{LoadedSettings, LogDestination, Settings, EXABGP_IGNORED, SETTINGS};
use support::binary::*;
use support::{free_port, Proc, TestDir};

const VERSIONS: [&str; 2] = ["4.2", "5.0"];

/// The ExaBGP settings exabgp-rs applies (ExaBGP defines them too).
const APPLIED: [&str; 8] = [
    "exabgp.api.ack",
    "exabgp.api.cli",
    "exabgp.daemon.drop",
    "exabgp.daemon.user",
    "exabgp.log.destination",
    "exabgp.log.level",
    "exabgp.tcp.bind",
    "exabgp.tcp.port",
];

fn fixture(version: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
        .join(format!("exabgp-{version}.env"))
}

/// The fixture's (dotted name, line) pairs, read with a plain INI split (not our
/// parser, which is what is under test).
fn fixture_names(version: &str) -> Vec<(String, usize)> {
    let text = std::fs::read_to_string(fixture(version)).unwrap();
    let mut section = String::new();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = s.to_string();
        } else if let Some((k, _)) = line.split_once(" = ") {
            out.push((format!("{section}.{k}"), i + 1));
        }
    }
    out
}

fn load_fixture(version: &str, environ: &[(&str, &str)]) -> LoadedSettings {
    let path = fixture(version);
    let text = std::fs::read_to_string(&path).unwrap();
    let environ = environ.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    match Settings::from_sources(
        Some((&path, &text)),
        environ,
        &[],
        None,
        PathBuf::from("/usr"),
    ) {
        Ok(l) => l,
        Err(e) => panic!("exabgp-{version}.env refused:\n{e}"),
    }
}

/// The table of ExaBGP settings (applied + ignored, with the versions defining
/// each) is exactly what the fixtures name, version by version. `[debug]` (which
/// `--fi` leaves out) and 5.0's environment-only alias exabgp.tcp.connections are
/// in the table but not in a file.
#[test]
fn the_table_matches_what_each_exabgp_version_writes() {
    for version in VERSIONS {
        let written: BTreeSet<String> =
            fixture_names(version).into_iter().map(|(n, _)| n).collect();
        assert!(written.len() >= 40, "{version}: {written:?}");
        let mut known: BTreeSet<String> = APPLIED.iter().map(|s| s.to_string()).collect();
        known.extend(
            EXABGP_IGNORED
                .iter()
                .filter(|s| s.versions.split(", ").any(|v| v == version))
                .filter(|s| {
                    !s.name.starts_with("exabgp.debug.") && s.name != "exabgp.tcp.connections"
                })
                .map(|s| s.name.to_string()),
        );
        assert_eq!(written, known, "exabgp-{version}.env vs the table");
    }
    for name in APPLIED {
        assert!(
            SETTINGS.iter().any(|s| s.name == name),
            "{name} not applied"
        );
        assert!(
            !EXABGP_IGNORED.iter().any(|s| s.name == name),
            "{name} both"
        );
    }
}

/// Loaded: no error, the settings that apply here take the file's values (with
/// their line), every other one is in `ignored` and named in ONE warning, which
/// shows no value since every one is at ExaBGP's default.
#[test]
fn an_exabgp_env_file_loads_with_one_warning() {
    for version in VERSIONS {
        let path = fixture(version);
        let names = fixture_names(version);
        let l = load_fixture(version, &[]);
        let s = &l.settings;
        assert_eq!(s.tcp_port, 179);
        assert!(s.tcp_bind.is_empty());
        assert!(s.api_ack && s.api_cli && s.daemon_drop);
        // ExaBGP's default user is written as 'nobody', quotes and all.
        assert_eq!(s.daemon_user, "nobody");
        assert_eq!(s.log_level, "info");
        // ExaBGP's 'stdout' is our stderr.
        assert_eq!(s.log_destination, LogDestination::Stderr);
        for (name, line) in &names {
            if APPLIED.contains(&name.as_str()) {
                let (_, origin) = &s.origins[name.as_str()];
                assert_eq!(
                    origin,
                    &exabgp::config::SettingOrigin::EnvFile {
                        path: path.clone(),
                        line: *line
                    },
                    "{name}"
                );
            }
        }
        assert_eq!(l.warnings.len(), 1, "{version}: {:#?}", l.warnings);
        let w = &l.warnings[0];
        let ignored: Vec<&(String, usize)> = names
            .iter()
            .filter(|(n, _)| !APPLIED.contains(&n.as_str()))
            .collect();
        assert_eq!(l.ignored.len(), ignored.len(), "{version}");
        assert!(
            w.starts_with(&format!(
                "{} ExaBGP settings that exabgp-rs does not use, ignored (docs/settings.md says why): {}: ",
                ignored.len(),
                path.display()
            )),
            "{w}"
        );
        for (name, line) in ignored {
            assert!(
                w.contains(&format!("{name} (line {line})")),
                "{version}: {name} not in {w}"
            );
        }
        assert!(!w.contains('='), "a default value called non-default: {w}");
        assert!(l.ignored.iter().all(|i| !i.differs), "{:#?}", l.ignored);
    }
}

/// Ignoring a value other than ExaBGP's default changes what was asked for: the
/// warning shows it. Quoting, case and ExaBGP's octal spellings are no change.
#[test]
fn non_default_ignored_values_are_shown() {
    let text = std::fs::read_to_string(fixture("5.0"))
        .unwrap()
        .replace("daemonize = false", "daemonize = true")
        .replace("umask = '0o137'", "umask = 0137")
        .replace("speed = 1.0", "speed = 1")
        .replace("passive = false", "passive = TRUE");
    let path = Path::new("/etc/exabgp/edge1.env");
    let l = Settings::from_sources(
        Some((path, &text)),
        [("exabgp_log_all".to_string(), "'yes'".to_string())],
        &[],
        None,
        PathBuf::from("/usr"),
    )
    .unwrap();
    assert_eq!(l.warnings.len(), 1, "{:#?}", l.warnings);
    let w = &l.warnings[0];
    assert!(
        w.contains("exabgp.daemon.daemonize=true (line 21, not ExaBGP's default false)"),
        "{w}"
    );
    assert!(
        w.contains("exabgp.bgp.passive=TRUE (line 14, not ExaBGP's default false)"),
        "{w}"
    );
    assert!(w.contains("exabgp.daemon.umask (line 24)"), "{w}");
    assert!(w.contains("exabgp.reactor.speed (line 54)"), "{w}");
    // The environment's value replaces the file's, and says so.
    assert!(
        w.ends_with(
            "; environment: exabgp.log.all='yes' (as exabgp_log_all, not ExaBGP's default false)"
        ),
        "{w}"
    );
    assert!(!w.contains("exabgp.log.all (line"), "{w}");
    let differs: Vec<&str> = l
        .ignored
        .iter()
        .filter(|i| i.differs)
        .map(|i| i.setting.name)
        .collect();
    assert_eq!(
        differs,
        vec![
            "exabgp.bgp.passive",
            "exabgp.daemon.daemonize",
            "exabgp.log.all"
        ]
    );
}

/// An ignored value is shown escaped: a `\n` in a double-quoted value cannot start
/// a line of its own in the warning (a forged `WARN` line in the log; review).
#[test]
fn an_ignored_value_cannot_forge_a_line() {
    let text = "[exabgp.bgp]\npassive = \"yes\\nWARN exabgp: forged line\"\n";
    let path = Path::new("/etc/exabgp/edge1.env");
    let l = Settings::from_sources(
        Some((path, text)),
        std::iter::empty(),
        &[],
        None,
        PathBuf::from("/usr"),
    )
    .unwrap();
    assert_eq!(l.warnings.len(), 1, "{:#?}", l.warnings);
    let w = &l.warnings[0];
    assert!(!w.contains('\n'), "{w}");
    assert!(
        w.contains("exabgp.bgp.passive=yes\\nWARN exabgp: forged line (line 2"),
        "{w}"
    );
}

/// The value spellings ExaBGP writes and reads, where a setting applies: quoted
/// strings (also in the environment, where no env-file unquoting happens),
/// ExaBGP's syslog level names, `syslog` as the destination, `key: value` in INI.
#[test]
fn exabgp_value_spellings_apply() {
    let l = load_fixture(
        "4.2",
        &[
            ("exabgp_daemon_user", "'bgp'"),
            ("exabgp.log.destination", "'syslog'"),
            ("exabgp_tcp_bind", "'127.0.0.1 ::1'"),
            ("exabgp_log_level", "CRIT"),
            ("exabgp_api_socketpath", "\"/run/exabgp/x.sock\""),
        ],
    );
    let s = &l.settings;
    assert_eq!(s.daemon_user, "bgp");
    assert_eq!(s.log_destination, LogDestination::Journal);
    assert_eq!(
        s.tcp_bind,
        vec![
            "127.0.0.1".parse::<std::net::IpAddr>().unwrap(),
            "::1".parse().unwrap()
        ]
    );
    assert_eq!(s.log_level, "error");
    assert_eq!(
        s.api_socketpath.as_deref(),
        Some(Path::new("/run/exabgp/x.sock"))
    );

    let text = "[exabgp.tcp]\nport: 1790\nbind: '127.0.0.2'\n[exabgp.log]\nlevel = WARNING\ndestination = 'stderr'\n";
    let l = Settings::from_sources(
        Some((Path::new("/e.env"), text)),
        std::iter::empty(),
        &[],
        None,
        PathBuf::from("/usr"),
    )
    .unwrap();
    assert_eq!(l.settings.tcp_port, 1790);
    assert_eq!(
        l.settings.tcp_bind,
        vec!["127.0.0.2".parse::<std::net::IpAddr>().unwrap()]
    );
    assert_eq!(l.settings.log_level, "warning");
    assert_eq!(l.settings.log_destination, LogDestination::Stderr);
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);

    // ExaBGP's log file and remote syslog have no equivalent: an error that says so.
    let e = Settings::from_sources(
        Some((
            Path::new("/e.env"),
            "[exabgp.log]\ndestination = '/var/log/exabgp.log'\n",
        )),
        std::iter::empty(),
        &[],
        None,
        PathBuf::from("/usr"),
    )
    .unwrap_err();
    assert_eq!(e.exit_code(), 78);
    assert!(
        e.to_string().starts_with(
            "/e.env:2: invalid value \"/var/log/exabgp.log\" for exabgp.log.destination"
        ),
        "{e}"
    );
}

/// A misspelled setting, in ExaBGP's INI form or as a variable, is still an
/// error naming file and line (the names ExaBGP defines are not a free pass).
#[test]
fn a_misspelled_setting_is_still_an_error() {
    for (text, line, key) in [
        (
            "[exabgp.cache]\nattributes = true\nattribute = true\n",
            3,
            "exabgp.cache.attribute",
        ),
        (
            "[exabgp.tcp]\nonce = false\nprot = 179\n",
            3,
            "exabgp.tcp.prot",
        ),
        ("exabgp_reactor_sped=1.0\n", 1, "exabgp_reactor_sped"),
    ] {
        let e = Settings::from_sources(
            Some((Path::new("/e.env"), text)),
            std::iter::empty(),
            &[],
            None,
            PathBuf::from("/usr"),
        )
        .unwrap_err();
        assert_eq!(e.exit_code(), 78);
        assert!(
            e.to_string()
                .starts_with(&format!("/e.env:{line}: unknown setting {key}")),
            "{e}"
        );
    }
}

/// `exabgp env --env-file FIXTURE` (the binary): exit 0, one warning, the applied
/// settings with FILE:LINE, and an `ignored` section listing each ignored setting
/// with its value and FILE:LINE.
#[test]
fn exabgp_env_shows_applied_and_ignored_with_origins() {
    for version in VERSIONS {
        let path = fixture(version);
        let f = path.display().to_string();
        let name = instance_name(&format!("exaenv{}", version.replace('.', "")));
        let out = exabgp_env(&name, Some(&path), &[("exabgp_tcp_port", "1790")]);
        let warnings: Vec<&str> = out
            .stdout
            .lines()
            .filter(|l| l.starts_with("# warning:"))
            .collect();
        assert_eq!(warnings.len(), 1, "{}", out.stdout);
        assert!(
            warnings[0].contains("exabgp.tcp.once (line "),
            "{}",
            warnings[0]
        );
        let (_, ignored_part) = out
            .stdout
            .split_once("\n# ignored: ExaBGP settings that exabgp-rs does not use\n")
            .unwrap_or_else(|| panic!("no ignored section:\n{}", out.stdout));
        let lines: Vec<&str> = ignored_part.lines().collect();
        for (n, line) in fixture_names(version) {
            if APPLIED.contains(&n.as_str()) {
                if n == "exabgp.tcp.port" {
                    assert!(
                        out.stdout
                            .contains("\nexabgp.tcp.port=1790    # environment\n"),
                        "{}",
                        out.stdout
                    );
                } else {
                    let prefix = format!("\n{n}=");
                    let at = out
                        .stdout
                        .find(&prefix)
                        .unwrap_or_else(|| panic!("{n} missing:\n{}", out.stdout));
                    let l = out.stdout[at + 1..].lines().next().unwrap();
                    assert!(l.ends_with(&format!("    # {f}:{line}")), "{l}");
                }
            } else {
                assert!(
                    lines.iter().any(|l| l.starts_with(&format!("{n}="))
                        && l.ends_with(&format!("    # {f}:{line}"))),
                    "{n} not listed as ignored:\n{ignored_part}"
                );
            }
        }
        assert!(
            out.stdout.contains("\nexabgp.daemon.user=nobody    # "),
            "{}",
            out.stdout
        );
        // The value as the file gives it, its quotes removed.
        let (_, umask_line) = fixture_names(version)
            .into_iter()
            .find(|(n, _)| n == "exabgp.daemon.umask")
            .unwrap();
        let umask = format!("exabgp.daemon.umask=0o137    # {f}:{umask_line}");
        assert!(lines.contains(&umask.as_str()), "{ignored_part}");
    }
}

/// `exabgp env` with a misspelled setting: exit 78, FILE:LINE and a suggestion.
#[test]
fn exabgp_env_refuses_a_misspelled_setting() {
    let dir = TestDir::new("exaenv-typo");
    let text = std::fs::read_to_string(fixture("5.0"))
        .unwrap()
        .replace("once = false", "onse = false");
    let file = dir.path.join("typo.env");
    std::fs::write(&file, text).unwrap();
    let mut cmd = hermetic(exabgp_bin());
    cmd.args(["env", "--env-file"]).arg(&file);
    let out = run(cmd, COMMAND_TIMEOUT);
    assert_eq!(out.code, 78, "{out:?}");
    // The suggestion comes from ExaBGP's names too.
    assert!(
        out.stderr.contains(&format!(
            "{}:61: unknown setting exabgp.tcp.onse (did you mean exabgp.tcp.once?)",
            file.display()
        )),
        "{out:?}"
    );
}

/// The daemon (a real process) starts with an `exabgp --fi` file as its env file
/// and logs ONE warning naming the ignored settings; the environment still wins
/// over the file (no privilege drop, our own socket and port). Then SIGTERM: exit 0.
#[test]
fn the_daemon_starts_with_an_exabgp_env_file() {
    for version in VERSIONS {
        let dir = TestDir::new(&format!("exaenv-daemon-{version}"));
        let name = instance_name(&format!("exad{}", version.replace('.', "")));
        let (mut cmd, log) = server_command(&dir.path, &name, support::conf::PASSIVE_ONLY);
        let sock = dir.path.join("exabgp.sock");
        cmd.arg("--env-file")
            .arg(fixture(version))
            .env("exabgp_api_socketpath", &sock)
            .env("exabgp_tcp_bind", "127.0.0.1")
            .env(
                "exabgp_tcp_port",
                free_port("127.0.0.1".parse().unwrap()).to_string(),
            );
        let mut proc = Proc::spawn(&name, cmd, log);
        let _guard = SocketGuard(sock.clone());
        assert!(
            proc.wait_log("ready:", Duration::from_secs(30)),
            "{version}: not ready; log:\n{}",
            proc.log_text()
        );
        let text = proc.log_text();
        let warnings: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("ExaBGP setting"))
            .collect();
        assert_eq!(warnings.len(), 1, "{version}:\n{text}");
        for n in [
            "exabgp.tcp.once",
            "exabgp.daemon.daemonize",
            "exabgp.cache.attributes",
            "exabgp.log.packets",
            "exabgp.reactor.speed",
        ] {
            assert!(warnings[0].contains(n), "{n} not named: {}", warnings[0]);
        }
        assert!(
            is_socket(&sock),
            "{version}: no control socket; log:\n{text}"
        );
        let status = proc
            .terminate()
            .unwrap_or_else(|| panic!("no exit after SIGTERM:\n{}", proc.log_text()));
        assert_eq!(status.code(), Some(0), "{version}:\n{}", proc.log_text());
    }
}

/// An env file that is not there is fine (the unit names one for every instance)
/// but the log says so: a misnamed file would otherwise lose every setting
/// without a word (review).
#[test]
fn the_daemon_says_when_its_env_file_is_missing() {
    let dir = TestDir::new("exaenv-missing");
    let name = instance_name("examiss");
    let (mut cmd, log) = server_command(&dir.path, &name, support::conf::PASSIVE_ONLY);
    let sock = dir.path.join("exabgp.sock");
    let missing = dir.path.join("edge1.env");
    cmd.arg("--env-file")
        .arg(&missing)
        .env("exabgp_api_socketpath", &sock)
        .env("exabgp_tcp_bind", "127.0.0.1")
        .env(
            "exabgp_tcp_port",
            free_port("127.0.0.1".parse().unwrap()).to_string(),
        );
    let mut proc = Proc::spawn(&name, cmd, log);
    let _guard = SocketGuard(sock.clone());
    assert!(
        proc.wait_log("ready:", Duration::from_secs(30)),
        "not ready; log:\n{}",
        proc.log_text()
    );
    let text = proc.log_text();
    assert!(
        text.contains(&format!(
            "no env file at {}: settings come from the environment and the defaults",
            missing.display()
        )),
        "{text}"
    );
    let status = proc
        .terminate()
        .unwrap_or_else(|| panic!("no exit after SIGTERM:\n{}", proc.log_text()));
    assert_eq!(status.code(), Some(0), "{}", proc.log_text());
}

/// The daemon refuses a misspelled setting in the same file: exit 78, never ready.
#[test]
fn the_daemon_refuses_a_misspelled_setting() {
    let dir = TestDir::new("exaenv-daemon-typo");
    let name = instance_name("exadtypo");
    let file = dir.path.join("typo.env");
    let text = std::fs::read_to_string(fixture("4.2"))
        .unwrap()
        .replace("[exabgp.reactor]\nspeed", "[exabgp.reactor]\nsped");
    std::fs::write(&file, text).unwrap();
    let (mut cmd, _log) = server_command(&dir.path, &name, support::conf::PASSIVE_ONLY);
    cmd.arg("--env-file")
        .arg(&file)
        .env("exabgp_api_socketpath", dir.path.join("exabgp.sock"));
    let out = run(cmd, COMMAND_TIMEOUT);
    assert_eq!(out.code, 78, "{out:?}");
    assert!(
        out.stderr
            .contains("unknown setting exabgp.reactor.sped (did you mean exabgp.reactor.speed?)"),
        "{out:?}"
    );
    assert!(!out.stderr.contains("ready:"), "{out:?}");
}

/// docs/settings.md lists every ignored ExaBGP setting with its versions and the
/// value `--fi` writes.
#[test]
fn docs_list_every_ignored_setting() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/settings.md")).unwrap();
    for s in EXABGP_IGNORED {
        assert!(
            doc.contains(&format!(
                "| `{}` | {} | `{}` |",
                s.name, s.versions, s.exabgp_default
            )),
            "docs/settings.md lacks {} ({}, `{}`)",
            s.name,
            s.versions,
            s.exabgp_default
        );
    }
}

/// `exabgp validate --env-file FIXTURE CONFIG`: exit 0 with the config's summary
/// and ONE warning on stderr; with a misspelled setting, exit 78 naming FILE:LINE.
#[test]
fn validate_checks_an_exabgp_env_file() {
    let dir = TestDir::new("exaenv-validate");
    let config = dir.path.join("edge.toml");
    std::fs::write(&config, support::conf::PASSIVE_ONLY).unwrap();
    for version in VERSIONS {
        let mut cmd = hermetic(exabgp_bin());
        cmd.args(["validate", "--env-file"])
            .arg(fixture(version))
            .arg(&config);
        let out = run(cmd, COMMAND_TIMEOUT);
        assert_eq!(out.code, 0, "{version}: {out:?}");
        assert!(out.stdout.contains(": OK ("), "{out:?}");
        let warnings: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(warnings.len(), 1, "{version}: {out:?}");
        assert!(
            warnings[0].starts_with("exabgp validate: warning: ")
                && warnings[0].contains("exabgp.daemon.daemonize (line "),
            "{}",
            warnings[0]
        );
    }
    let file = dir.path.join("typo.env");
    let text = std::fs::read_to_string(fixture("5.0"))
        .unwrap()
        .replace("[exabgp.api]\nack", "[exabgp.api]\nacks");
    std::fs::write(&file, text).unwrap();
    let mut cmd = hermetic(exabgp_bin());
    cmd.args(["validate", "--env-file"]).arg(&file).arg(&config);
    let out = run(cmd, COMMAND_TIMEOUT);
    assert_eq!(out.code, 78, "{out:?}");
    assert!(
        out.stderr.contains(&format!(
            "{}:3: unknown setting exabgp.api.acks (did you mean exabgp.api.ack?)",
            file.display()
        )),
        "{out:?}"
    );
    assert!(!out.stdout.contains("OK"), "{out:?}");
}

/// docs/migrating.md names every ExaBGP setting that applies here, points at the
/// list of ignored ones, and keeps the sections other docs fill in.
#[test]
fn migrating_doc_names_the_applied_settings() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/migrating.md")).unwrap();
    for name in APPLIED {
        assert!(
            doc.contains(&format!("`{name}`")),
            "docs/migrating.md lacks {name}"
        );
    }
    for heading in [
        "## Env files",
        "## Classic configuration",
        "## JSON events and API commands",
        "## The healthcheck",
        "## Running under systemd",
        "## The control socket",
    ] {
        assert!(
            doc.contains(&format!("\n{heading}\n")),
            "docs/migrating.md lacks {heading}"
        );
    }
    assert!(doc.contains("settings.md#exabgp-env-files"));
}
