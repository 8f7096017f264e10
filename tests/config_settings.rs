//! exabgp_* settings: defaults, precedence (command line > environment > env file >
//! default), both spellings, env file syntax, unknown keys, bad values, warnings.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use exabgp::config::{
    example_env_file, LoadedSettings, LogDestination, SettingOrigin, Settings, SettingsError,
    SETTINGS,
};

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn load(
    file: Option<&str>,
    environ: &[(&str, &str)],
    cli: &[(&str, &str)],
    instance: Option<&str>,
) -> Result<LoadedSettings, SettingsError> {
    let cli: Vec<(&str, String)> = cli.iter().map(|(k, v)| (*k, v.to_string())).collect();
    Settings::from_sources(
        file.map(|t| (Path::new("/etc/exabgp/edge1.env"), t)),
        env(environ),
        &cli,
        instance,
        PathBuf::from("/usr"),
    )
}

fn ok(file: Option<&str>, environ: &[(&str, &str)], cli: &[(&str, &str)]) -> Settings {
    match load(file, environ, cli, None) {
        Ok(l) => l.settings,
        Err(e) => panic!("unexpected error:\n{e}"),
    }
}

fn invalid(file: Option<&str>, environ: &[(&str, &str)], cli: &[(&str, &str)]) -> Vec<String> {
    match load(file, environ, cli, None) {
        Ok(l) => panic!("expected an error, got {:?}", l.settings),
        Err(e) => {
            assert_eq!(e.exit_code(), 78);
            match e {
                SettingsError::Invalid(v) => v,
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}

fn origin(s: &Settings, name: &str) -> (String, SettingOrigin) {
    s.origins
        .get(name)
        .cloned()
        .unwrap_or_else(|| panic!("no origin for {name}"))
}

#[test]
fn defaults() {
    let s = ok(None, &[("PATH", "/usr/bin"), ("HOME", "/root")], &[]);
    let expected_origins: BTreeMap<&'static str, (String, SettingOrigin)> = [
        ("exabgp.api.ack", "true"),
        ("exabgp.api.cli", "true"),
        ("exabgp.api.socketname", "exabgp"),
        ("exabgp.api.socketpath", ""),
        ("exabgp.daemon.drop", "true"),
        ("exabgp.daemon.hitless", "true"),
        ("exabgp.daemon.user", "exabgp"),
        ("exabgp.log.destination", "auto"),
        ("exabgp.log.level", "info"),
        ("exabgp.metrics.listen", ""),
        ("exabgp.root", "/usr"),
        ("exabgp.tcp.bind", ""),
        ("exabgp.tcp.port", "179"),
    ]
    .into_iter()
    .map(|(k, v)| (k, (v.to_string(), SettingOrigin::Default)))
    .collect();
    assert_eq!(
        s,
        Settings {
            tcp_bind: vec![],
            tcp_port: 179,
            api_socketname: "exabgp".into(),
            api_socketpath: None,
            api_cli: true,
            api_ack: true,
            metrics_listen: None,
            log_level: "info".into(),
            log_destination: LogDestination::Auto,
            daemon_user: "exabgp".into(),
            daemon_drop: true,
            daemon_hitless: true,
            instance: None,
            root: PathBuf::from("/usr"),
            origins: expected_origins,
        }
    );
    // Every documented setting has an origin, and nothing else does.
    let names: Vec<&str> = SETTINGS.iter().map(|d| d.name).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(s.origins.keys().copied().collect::<Vec<_>>(), sorted);
}

#[test]
fn instance_names_the_socket() {
    let l = load(None, &[], &[], Some("edge1")).unwrap();
    assert_eq!(l.settings.api_socketname, "edge1");
    assert_eq!(l.settings.instance.as_deref(), Some("edge1"));
    // An explicit name still wins.
    let l = load(
        None,
        &[("exabgp_api_socketname", "ctl")],
        &[],
        Some("edge1"),
    )
    .unwrap();
    assert_eq!(l.settings.api_socketname, "ctl");
}

#[test]
fn precedence_command_line_environment_file_default() {
    let file = "exabgp_tcp_port=1000\nexabgp_api_ack=false\nexabgp_log_level=DEBUG\n";
    let environ = [("exabgp.tcp.port", "2000"), ("exabgp_api_ack", "on")];
    let cli = [("tcp.port", "3000")];

    let s = ok(Some(file), &environ, &cli);
    assert_eq!(s.tcp_port, 3000);
    assert_eq!(
        origin(&s, "exabgp.tcp.port"),
        ("3000".into(), SettingOrigin::CommandLine)
    );
    assert!(s.api_ack);
    assert_eq!(
        origin(&s, "exabgp.api.ack"),
        ("true".into(), SettingOrigin::Environment)
    );
    assert_eq!(s.log_level, "debug");
    assert_eq!(
        origin(&s, "exabgp.log.level"),
        (
            "debug".into(),
            SettingOrigin::EnvFile {
                path: "/etc/exabgp/edge1.env".into(),
                line: 3
            }
        )
    );

    let s = ok(Some(file), &environ, &[]);
    assert_eq!(s.tcp_port, 2000);
    assert_eq!(origin(&s, "exabgp.tcp.port").1, SettingOrigin::Environment);

    let s = ok(Some(file), &[], &[]);
    assert_eq!(s.tcp_port, 1000);
    assert!(!s.api_ack);
    assert_eq!(
        origin(&s, "exabgp.tcp.port").1,
        SettingOrigin::EnvFile {
            path: "/etc/exabgp/edge1.env".into(),
            line: 1
        }
    );
}

#[test]
fn both_spellings_and_any_case() {
    for key in [
        "exabgp_tcp_port",
        "exabgp.tcp.port",
        "EXABGP_TCP_PORT",
        "Exabgp.Tcp.Port",
    ] {
        assert_eq!(ok(None, &[(key, "1790")], &[]).tcp_port, 1790, "{key}");
        assert_eq!(
            ok(Some(&format!("{key}=1791\n")), &[], &[]).tcp_port,
            1791,
            "{key}"
        );
    }
    for key in ["exabgp_tcp_port", "exabgp.tcp.port", "tcp.port", "tcp_port"] {
        assert_eq!(ok(None, &[], &[(key, "1792")]).tcp_port, 1792, "{key}");
    }
    // The same setting in both spellings in the environment: equal is fine...
    assert_eq!(
        ok(
            None,
            &[("exabgp_tcp_port", "5"), ("exabgp.tcp.port", "5")],
            &[]
        )
        .tcp_port,
        5
    );
    // ...different is a conflict, not a coin toss.
    assert_eq!(
        invalid(None, &[("exabgp_tcp_port", "5"), ("exabgp.tcp.port", "6")], &[]),
        vec!["environment variable exabgp.tcp.port: conflicts with exabgp_tcp_port=5, expected one value for exabgp.tcp.port (set only one spelling)"]
    );
}

#[test]
fn env_file_syntax() {
    let file = "\
# systemd EnvironmentFile syntax
; also a comment

exabgp_tcp_bind=\"192.0.2.1 2001:db8::1, 192.0.2.1\"
export exabgp_daemon_user='bgp'
exabgp_api_socketpath = /run/exabgp/x.sock
OTHER_VARIABLE=ignored
exabgp_log_destination=journal\\
d

[exabgp.api]
cli = no
";
    let s = ok(Some(file), &[], &[]);
    assert_eq!(
        s.tcp_bind,
        vec![
            "192.0.2.1".parse::<IpAddr>().unwrap(),
            "2001:db8::1".parse().unwrap()
        ]
    );
    assert_eq!(origin(&s, "exabgp.tcp.bind").0, "192.0.2.1 2001:db8::1");
    assert_eq!(s.daemon_user, "bgp");
    assert_eq!(s.api_socketpath, Some(PathBuf::from("/run/exabgp/x.sock")));
    assert_eq!(s.log_destination, LogDestination::Journal);
    assert!(!s.api_cli);
    assert_eq!(
        origin(&s, "exabgp.api.cli").1,
        SettingOrigin::EnvFile {
            path: "/etc/exabgp/edge1.env".into(),
            line: 12
        }
    );
}

#[test]
fn env_file_errors_name_file_and_line() {
    let file =
        "exabgp_tcp_prot=179\nnot a line\nexabgp_api_ack=maybe\nexabgp_tcp_bind=\"192.0.2.1\n";
    let e = invalid(Some(file), &[], &[]);
    let allowed = SETTINGS
        .iter()
        .map(|s| s.env_name())
        .collect::<Vec<_>>()
        .join(", ");
    assert_eq!(
        e,
        vec![
            format!("/etc/exabgp/edge1.env:1: unknown setting exabgp_tcp_prot (did you mean exabgp_tcp_port?), expected one of: {allowed}"),
            "/etc/exabgp/edge1.env:2: invalid line \"not a line\", expected KEY=VALUE".to_string(),
            "/etc/exabgp/edge1.env:4: unterminated quote in \"192.0.2.1, expected a closing \"".to_string(),
            "/etc/exabgp/edge1.env:3: invalid value \"maybe\" for exabgp_api_ack, expected a boolean: true/false, yes/no, 1/0, on/off, enable/disable".to_string(),
        ]
    );
}

/// In the env file every key is meant for us: a misspelled prefix or a section not
/// named `exabgp.*` is an error naming the line, never dropped as somebody else's
/// variable (review: `exabpg_tcp_port=1790` ran on port 179 without a word).
#[test]
fn env_file_keys_outside_exabgp_are_typos() {
    let file = "exabpg_tcp_port=1790\nexabgp-log-level=debug\n[exabgp-api]\nack = false\n";
    let e = invalid(Some(file), &[], &[]);
    assert_eq!(e.len(), 3, "{e:?}");
    assert!(
        e[0].starts_with("/etc/exabgp/edge1.env:1: unknown setting exabpg_tcp_port (did you mean exabgp_tcp_port?)"),
        "{e:?}"
    );
    assert!(
        e[1].starts_with("/etc/exabgp/edge1.env:2: unknown setting exabgp-log-level"),
        "{e:?}"
    );
    assert!(
        e[2].starts_with("/etc/exabgp/edge1.env:4: unknown setting exabgp-api.ack"),
        "{e:?}"
    );
}

#[test]
fn unknown_and_exabgp_only_keys_in_the_environment_warn() {
    let l = load(
        None,
        &[
            ("exabgp_tcp_prot", "1"),
            ("exabgp.log.all", "true"),
            ("EXABGP_DAEMON_DAEMONIZE", "true"),
        ],
        &[],
        None,
    )
    .unwrap();
    assert_eq!(l.settings.tcp_port, 179);
    assert_eq!(l.warnings.len(), 2, "{:#?}", l.warnings);
    // ExaBGP's own settings: one warning naming them all, with the spelling used.
    assert_eq!(
        l.warnings[0],
        "2 ExaBGP settings that exabgp-rs does not use, ignored (docs/settings.md says why): environment: exabgp.daemon.daemonize=true (as EXABGP_DAEMON_DAEMONIZE, not ExaBGP's default false), exabgp.log.all=true (as exabgp.log.all, not ExaBGP's default false)"
    );
    assert!(l.warnings[1].starts_with(
        "environment variable exabgp_tcp_prot: unknown setting exabgp_tcp_prot (did you mean exabgp_tcp_port?), expected one of: exabgp_tcp_bind, "
    ));
    assert!(l.warnings[1].ends_with("; ignored"));
    // In an env file, ExaBGP's own settings warn too (an ExaBGP env file keeps working).
    let l = load(
        Some("[exabgp.tcp]\nonce = false\nport = 1790\n"),
        &[],
        &[],
        None,
    )
    .unwrap();
    assert_eq!(l.settings.tcp_port, 1790);
    assert_eq!(
        l.warnings,
        vec!["1 ExaBGP setting that exabgp-rs does not use, ignored (docs/settings.md says why): /etc/exabgp/edge1.env: exabgp.tcp.once (line 2)"]
    );
}

#[test]
fn unknown_command_line_key_is_an_error() {
    assert!(invalid(None, &[], &[("tcp.prot", "1")])[0]
        .starts_with("command line tcp.prot: unknown setting exabgp.tcp.prot (did you mean exabgp.tcp.port?), expected one of: exabgp.tcp.bind, "));
}

#[test]
fn bad_values_name_key_value_and_expectation() {
    let e = invalid(
        None,
        &[
            ("exabgp_tcp_port", "0"),
            ("exabgp_tcp_bind", "192.0.2.1 nothost"),
            ("exabgp_log_level", "loud"),
            ("exabgp_log_destination", "/var/log/x"),
            ("exabgp_api_socketname", "a/b"),
            ("exabgp_api_socketpath", "relative.sock"),
            ("exabgp_root", "usr"),
            ("exabgp_daemon_user", ""),
        ],
        &[],
    );
    assert_eq!(
        e,
        vec![
            "environment variable exabgp_tcp_bind: invalid value \"192.0.2.1 nothost\" for exabgp_tcp_bind, expected IP addresses separated by spaces or commas (empty: do not listen)",
            "environment variable exabgp_tcp_port: invalid value \"0\" for exabgp_tcp_port, expected a TCP port from 1 to 65535",
            "environment variable exabgp_api_socketname: invalid value \"a/b\" for exabgp_api_socketname, expected a file name made of letters, digits, '.', '-', '_', '@' (no '/'), at most 64 bytes",
            "environment variable exabgp_api_socketpath: invalid value \"relative.sock\" for exabgp_api_socketpath, expected an absolute path (starting with /)",
            "environment variable exabgp_log_level: invalid value \"loud\" for exabgp_log_level, expected trace, debug, info, warning or error (or ExaBGP's DEBUG, INFO, NOTICE, WARNING, ERR, CRIT, ALERT, EMERG)",
            "environment variable exabgp_log_destination: invalid value \"/var/log/x\" for exabgp_log_destination, expected auto, stderr or journal (ExaBGP's stdout and syslog are accepted; a log file or a remote syslog host:NAME is not: the journal keeps the logs)",
            "environment variable exabgp_daemon_user: invalid value \"\" for exabgp_daemon_user, expected a user name",
            "environment variable exabgp_root: invalid value \"usr\" for exabgp_root, expected an absolute path (starting with /)",
        ]
    );
}

#[test]
fn boolean_forms() {
    for (word, b) in [
        ("true", true),
        ("TRUE", true),
        ("yes", true),
        ("1", true),
        ("on", true),
        ("enable", true),
        ("false", false),
        ("No", false),
        ("0", false),
        ("off", false),
        ("disable", false),
    ] {
        let s = ok(None, &[("exabgp_daemon_drop", word)], &[]);
        assert_eq!(s.daemon_drop, b, "{word}");
        assert_eq!(origin(&s, "exabgp.daemon.drop").0, b.to_string());
    }
}

#[test]
fn exabgp_log_levels_map_to_ours() {
    for (given, ours) in [
        ("DEBUG", "debug"),
        ("INFO", "info"),
        ("NOTICE", "info"),
        ("WARNING", "warning"),
        ("warn", "warning"),
        ("ERR", "error"),
        ("CRIT", "error"),
        ("ALERT", "error"),
        ("EMERG", "error"),
        ("trace", "trace"),
    ] {
        assert_eq!(
            ok(None, &[("exabgp.log.level", given)], &[]).log_level,
            ours,
            "{given}"
        );
    }
    assert_eq!(
        ok(None, &[("exabgp.log.destination", "syslog")], &[]).log_destination,
        LogDestination::Journal
    );
    assert_eq!(
        ok(None, &[("exabgp.log.destination", "stdout")], &[]).log_destination,
        LogDestination::Stderr
    );
}

#[test]
fn root_from_setting() {
    let s = ok(None, &[("exabgp_root", "/opt/exabgp")], &[]);
    assert_eq!(s.root, PathBuf::from("/opt/exabgp"));
    assert_eq!(
        origin(&s, "exabgp.root"),
        ("/opt/exabgp".into(), SettingOrigin::Environment)
    );
}

#[test]
fn default_root_is_above_the_executable_directory() {
    // The test binary lives in target/debug/deps/: its root is target/debug.
    let exe = std::env::current_exe().unwrap();
    let expected = exe.parent().unwrap().parent().unwrap().to_path_buf();
    assert_eq!(exabgp::config::default_root(), expected);
}

#[test]
fn load_reads_a_real_file_and_reports_unreadable_ones() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("edge1.env");
    std::fs::write(&p, "exabgp_tcp_port=1790\n").unwrap();
    let s = Settings::load(Some(&p), env(&[]), &[], Some("edge1")).unwrap();
    assert_eq!(s.tcp_port, 1790);
    assert_eq!(
        origin(&s, "exabgp.tcp.port").1,
        SettingOrigin::EnvFile {
            path: p.clone(),
            line: 1
        }
    );

    let missing = dir.path().join("missing.env");
    let e = Settings::load(Some(&missing), env(&[]), &[], None).unwrap_err();
    assert_eq!(e.exit_code(), 78);
    assert_eq!(
        e.to_string(),
        format!(
            "{}: cannot read the env file: No such file or directory (os error 2)",
            missing.display()
        )
    );
}

#[test]
fn example_env_file_is_loadable() {
    let example = example_env_file();
    // Commented out, it changes nothing.
    let s = ok(Some(&example), &[], &[]);
    assert!(s
        .origins
        .values()
        .all(|(_, o)| *o == SettingOrigin::Default));
    // Every line with a default, uncommented, loads and gives the same values.
    let uncommented: String = example
        .lines()
        .filter_map(|l| l.strip_prefix("#exabgp_"))
        .filter(|l| {
            !l.ends_with('=')
                || l.starts_with("tcp_bind")
                || l.starts_with("api_socketpath")
                || l.starts_with("metrics_listen")
        })
        .map(|l| format!("exabgp_{l}\n"))
        .collect();
    assert_eq!(
        uncommented.lines().count(),
        SETTINGS.len() - 2,
        "{uncommented}"
    );
    let t = ok(Some(&uncommented), &[], &[]);
    let values = |s: &Settings| {
        s.origins
            .iter()
            .map(|(k, (v, _))| (*k, v.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(values(&t), values(&s));
}

#[test]
fn docs_list_every_setting() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/settings.md")).unwrap();
    for s in SETTINGS {
        assert!(
            doc.contains(&format!("| `{}` |", s.name)),
            "docs/settings.md lacks {}",
            s.name
        );
        if !s.default.starts_with('(') && !s.default.is_empty() {
            assert!(
                doc.contains(&format!("| `{}` | `{}` |", s.name, s.default)),
                "docs/settings.md has the wrong default for {}",
                s.name
            );
        }
    }
}

#[test]
fn an_instance_name_unfit_for_a_socket_name_is_reported() {
    let e = load(None, &[], &[], Some("a/b")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the default taken from the instance name: invalid value \"a/b\" for exabgp.api.socketname, expected a file name made of letters, digits, '.', '-', '_', '@' (no '/'), at most 64 bytes"
    );
    // An explicit socket name makes the instance name irrelevant here.
    assert!(load(None, &[("exabgp_api_socketname", "ok")], &[], Some("a/b")).is_ok());
}

#[test]
fn log_level_takes_a_tracing_filter_too() {
    let s = load(
        None,
        &[("exabgp_log_level", "exabgp::session=debug,info")],
        &[],
        None,
    )
    .unwrap()
    .settings;
    assert_eq!(s.log_level, "exabgp::session=debug,info");
    let bad = invalid(None, &[("exabgp_log_level", "exabgp=loud")], &[]);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(bad[0].contains("a filter such as"), "{bad:?}");
}

/// exabgp_metrics_listen: off by default (above), an ADDRESS:PORT when set, and a
/// bad value is an error naming what is expected.
#[test]
fn metrics_listen_is_an_address_and_port() {
    let s = ok(None, &[("exabgp_metrics_listen", "127.0.0.1:9179")], &[]);
    assert_eq!(s.metrics_listen, Some("127.0.0.1:9179".parse().unwrap()));
    let s = ok(None, &[("exabgp.metrics.listen", "[::1]:9180")], &[]);
    assert_eq!(s.metrics_listen, Some("[::1]:9180".parse().unwrap()));
    for bad in ["127.0.0.1", "localhost:9179", "127.0.0.1:0"] {
        let e = load(None, &[("exabgp_metrics_listen", bad)], &[], None).unwrap_err();
        assert!(e.to_string().contains("ADDRESS:PORT"), "{bad}: {e}");
    }
}
