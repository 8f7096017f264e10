//! The list of `exabgp_*` settings: names, defaults and descriptions, used by the
//! loader, by `exabgp env`, by docs/settings.md and by the example env file.

/// One runtime setting, documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettingDoc {
    /// Canonical (dotted) name, e.g. `exabgp.tcp.port`; `exabgp_tcp_port` is the
    /// same setting.
    pub name: &'static str,
    /// The default, as text (as `exabgp env` prints it).
    pub default: &'static str,
    /// What it does and what values it takes.
    pub description: &'static str,
}

impl SettingDoc {
    /// The underscore spelling, `exabgp_tcp_port`.
    pub fn env_name(&self) -> String {
        self.name.replace('.', "_")
    }
}

/// Every setting exabgp-rs reads.
pub const SETTINGS: &[SettingDoc] = &[
    SettingDoc {
        name: "exabgp.tcp.bind",
        default: "",
        description: "Addresses to listen on for incoming BGP connections, separated by spaces or commas. \
                      Empty: do not listen (passive neighbors then need systemd socket activation).",
    },
    SettingDoc {
        name: "exabgp.tcp.port",
        default: "179",
        description: "TCP port to listen on for incoming BGP connections (1-65535).",
    },
    SettingDoc {
        name: "exabgp.api.socketname",
        default: "(the instance name, else exabgp)",
        description: "Control socket file name without `.sock`; the directory is found as described \
                      in the operator guide. Letters, digits, '.', '-', '_', '@' only, at most 64 bytes.",
    },
    SettingDoc {
        name: "exabgp.api.socketpath",
        default: "",
        description: "Full path of the control socket (absolute); when set it wins over the directory \
                      search and exabgp.api.socketname.",
    },
    SettingDoc {
        name: "exabgp.api.cli",
        default: "true",
        description: "Open the control socket for exabgpcli (boolean).",
    },
    SettingDoc {
        name: "exabgp.api.ack",
        default: "true",
        description: "Answer each API command from a helper with `done` or `error: ...` (boolean).",
    },
    SettingDoc {
        name: "exabgp.metrics.listen",
        default: "",
        description: "ADDRESS:PORT of the Prometheus scrape endpoint (HTTP, GET /metrics; IPv6 as \
                      [ADDRESS]:PORT). Empty: off. A socket systemd hands over with \
                      FileDescriptorName=metrics (exabgp-metrics@.socket) is served either way. \
                      Bind it to a loopback or management address: whoever reaches it reads the \
                      peers and their counters.",
    },
    SettingDoc {
        name: "exabgp.log.level",
        default: "info",
        description: "Least severe messages logged: trace, debug, info, warning, error. ExaBGP's syslog \
                      names are accepted: DEBUG, INFO, NOTICE (info), WARNING, ERR, CRIT, ALERT, EMERG (error).",
    },
    SettingDoc {
        name: "exabgp.log.destination",
        default: "auto",
        description: "auto (journald when stderr is the journal, else stderr), stderr, journal. \
                      ExaBGP's syslog means journal, stdout means stderr.",
    },
    SettingDoc {
        name: "exabgp.daemon.user",
        default: "exabgp",
        description: "User to switch to after binding, when started as root.",
    },
    SettingDoc {
        name: "exabgp.daemon.drop",
        default: "true",
        description: "When started as root: switch to exabgp.daemon.user and drop every capability \
                      after binding (boolean).",
    },
    SettingDoc {
        name: "exabgp.daemon.hitless",
        default: "true",
        description: "Under systemd, a restart (systemctl restart, a package upgrade) hands every \
                      Established session to the next process over the same TCP socket, through \
                      the unit's fd store, instead of sending a Cease; a stop still sends a Cease \
                      (boolean).",
    },
    SettingDoc {
        name: "exabgp.root",
        default: "(the directory above the executable's, e.g. /usr)",
        description: "Install prefix: <root>/run and <root>/var/run are searched for the control \
                      socket directory after /run and /var/run.",
    },
];

/// An ExaBGP setting that exabgp-rs accepts without using it (one warning names
/// every such setting met), so an env file written by `exabgp --fi` keeps working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IgnoredSetting {
    /// Canonical (dotted) name, e.g. `exabgp.tcp.once`.
    pub name: &'static str,
    /// ExaBGP's default as `exabgp --fi` writes it (`'nobody'`, `false`, `INFO`);
    /// a value other than this one is named in the warning, since ignoring it
    /// changes what the operator asked for.
    pub exabgp_default: &'static str,
    /// The ExaBGP versions that define it: "4.2, 5.0" or "5.0".
    pub versions: &'static str,
    /// Why exabgp-rs has no use for it (docs/settings.md prints it).
    pub why: &'static str,
}

const fn ign(
    name: &'static str,
    exabgp_default: &'static str,
    versions: &'static str,
    why: &'static str,
) -> IgnoredSetting {
    IgnoredSetting {
        name,
        exabgp_default,
        versions,
        why,
    }
}

const BOTH: &str = "4.2, 5.0";
const V5: &str = "5.0";
const PY: &str = "Python debugging/profiling; there is no Python here";
const LOGCAT: &str =
    "ExaBGP's per-subsystem log switch; use exabgp.log.level (a tracing filter such as exabgp::session=debug,info selects subsystems)";
const DEBUG: &str = "ExaBGP internal debugging switch";

/// Every setting ExaBGP 4.2 and 5.0 define that exabgp-rs does not use. The
/// settings both define and exabgp-rs applies (tcp.bind, tcp.port, api.ack,
/// api.cli, log.level, log.destination, daemon.user, daemon.drop) are in
/// [`SETTINGS`]. Canonical dotted names.
///
/// Sources (Exa-Networks/exabgp): 4.2 is `lib/exabgp/environment/setup.py`
/// (earlier 4.x: `lib/exabgp/configuration/setup.py`, the same names); 5.0 is
/// `src/exabgp/environment/setup.py`, plus the `exabgp.tcp.connections` alias
/// that 5.0's `src/exabgp/environment/environment.py` reads from the environment.
/// Defaults are written as `Env.iter_ini` (`exabgp --fi`) writes them.
pub const EXABGP_IGNORED: &[IgnoredSetting] = &[
    // [profile], [pdb]: 4.2 and 5.0.
    ign("exabgp.profile.enable", "false", BOTH, PY),
    ign("exabgp.profile.file", "''", BOTH, PY),
    ign("exabgp.pdb.enable", "false", BOTH, PY),
    // [daemon]: 4.2 and 5.0 (user and drop are applied).
    ign("exabgp.daemon.pid", "''", BOTH, "systemd tracks the main process; no pid file is written"),
    ign("exabgp.daemon.daemonize", "false", BOTH, "the daemon stays in the foreground for systemd (Type=notify)"),
    ign("exabgp.daemon.umask", "'0o137'", BOTH, "no log files are written; the control socket's mode is set explicitly (UMask= in the unit otherwise)"),
    // [log]: 4.2 and 5.0 (level and destination are applied).
    ign("exabgp.log.enable", "true", BOTH, "logging is always on; exabgp.log.level error keeps only errors"),
    ign("exabgp.log.all", "false", BOTH, LOGCAT),
    ign("exabgp.log.configuration", "true", BOTH, LOGCAT),
    ign("exabgp.log.reactor", "true", BOTH, LOGCAT),
    ign("exabgp.log.daemon", "true", BOTH, LOGCAT),
    ign("exabgp.log.processes", "true", BOTH, LOGCAT),
    ign("exabgp.log.network", "true", BOTH, LOGCAT),
    ign("exabgp.log.packets", "false", BOTH, LOGCAT),
    ign("exabgp.log.rib", "false", BOTH, LOGCAT),
    ign("exabgp.log.message", "false", BOTH, LOGCAT),
    ign("exabgp.log.timers", "false", BOTH, LOGCAT),
    ign("exabgp.log.routes", "false", BOTH, LOGCAT),
    ign("exabgp.log.parser", "false", BOTH, LOGCAT),
    ign("exabgp.log.short", "true", BOTH, "the journal (or the plain stderr line) carries time, level and pid itself"),
    // [log]: 5.0 only.
    ign("exabgp.log.statistics", "true", V5, LOGCAT),
    // [tcp]: 4.2 and 5.0 (bind and port are applied).
    ign("exabgp.tcp.once", "false", BOTH, "a debugging aid for scripts; sessions always retry with back-off"),
    ign("exabgp.tcp.delay", "0", BOTH, "routes are announced as soon as a session is up"),
    ign("exabgp.tcp.acl", "false", BOTH, "unimplemented in ExaBGP too"),
    // [tcp]: 5.0 only; exabgp.tcp.connections is 5.0's environment alias of it.
    ign("exabgp.tcp.attempts", "0", V5, "sessions always retry with back-off (0, unlimited, is what happens)"),
    ign("exabgp.tcp.connections", "0", V5, "sessions always retry with back-off (0, unlimited, is what happens)"),
    // [bgp]: 4.2 and 5.0, then 5.0 only.
    ign("exabgp.bgp.openwait", "60", BOTH, "the wait for OPEN is RFC 4271's 4-minute OpenSent hold timer"),
    ign("exabgp.bgp.passive", "false", V5, "set passive = true on each [[neighbor]] instead"),
    // [cache]: 4.2 and 5.0.
    ign("exabgp.cache.attributes", "true", BOTH, "a Python speed-up; nothing to cache here"),
    ign("exabgp.cache.nexthops", "true", BOTH, "a Python speed-up; nothing to cache here"),
    // [api]: 4.2 and 5.0 (ack and cli are applied).
    ign("exabgp.api.chunk", "1", BOTH, "answers are written whole"),
    ign("exabgp.api.encoder", "json", BOTH, "each [[process]] names its encoder (json by default)"),
    ign("exabgp.api.compact", "false", BOTH, "JSON events always have ExaBGP 5.0's full shape"),
    ign("exabgp.api.respawn", "true", BOTH, "helpers are respawned within each [[process]]'s respawn-limit and respawn-window"),
    ign("exabgp.api.terminate", "false", BOTH, "a helper that dies is respawned (given up after its respawn-limit); the daemon keeps running"),
    ign("exabgp.api.pipename", "'exabgp'", BOTH, "there are no named pipes; the control socket is named by exabgp.api.socketname"),
    // [reactor]: 4.2 and 5.0.
    ign("exabgp.reactor.speed", "1.0", BOTH, "there is no polling loop to tune"),
    // [debug]: 4.2 and 5.0; `exabgp --fi` leaves this section out.
    ign("exabgp.debug.pdb", "false", BOTH, PY),
    ign("exabgp.debug.memory", "false", BOTH, PY),
    ign("exabgp.debug.configuration", "false", BOTH, DEBUG),
    ign("exabgp.debug.selfcheck", "false", BOTH, DEBUG),
    ign("exabgp.debug.route", "''", BOTH, DEBUG),
    ign("exabgp.debug.defensive", "false", BOTH, DEBUG),
    ign("exabgp.debug.rotate", "false", BOTH, DEBUG),
];

/// An example env file: every setting commented out at its default.
pub fn example_env_file() -> String {
    let mut out = String::from(
        "# exabgp-rs runtime settings (systemd EnvironmentFile= syntax: KEY=VALUE).\n\
         # Precedence: command line > environment > this file > default.\n\
         # Both spellings work: exabgp_tcp_port and exabgp.tcp.port.\n",
    );
    for s in SETTINGS {
        out.push('\n');
        for line in wrap(s.description, 78) {
            out.push_str("# ");
            out.push_str(&line);
            out.push('\n');
        }
        let default = if s.default.starts_with('(') {
            ""
        } else {
            s.default
        };
        out.push_str(&format!("#{}={}\n", s.env_name(), default));
    }
    out
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        if !cur.is_empty() && cur.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}
