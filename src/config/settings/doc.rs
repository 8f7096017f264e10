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
        name: "exabgp.root",
        default: "(the directory above the executable's, e.g. /usr)",
        description: "Install prefix: <root>/run and <root>/var/run are searched for the control \
                      socket directory after /run and /var/run.",
    },
];

/// ExaBGP settings that exabgp-rs accepts and ignores (with a warning), so an
/// existing ExaBGP env file keeps working. Canonical dotted names.
pub(crate) const EXABGP_IGNORED: &[&str] = &[
    "exabgp.profile.enable",
    "exabgp.profile.file",
    "exabgp.pdb.enable",
    "exabgp.daemon.pid",
    "exabgp.daemon.daemonize",
    "exabgp.daemon.umask",
    "exabgp.log.enable",
    "exabgp.log.all",
    "exabgp.log.configuration",
    "exabgp.log.reactor",
    "exabgp.log.daemon",
    "exabgp.log.processes",
    "exabgp.log.network",
    "exabgp.log.statistics",
    "exabgp.log.packets",
    "exabgp.log.rib",
    "exabgp.log.message",
    "exabgp.log.timers",
    "exabgp.log.routes",
    "exabgp.log.parser",
    "exabgp.log.short",
    "exabgp.tcp.once",
    "exabgp.tcp.attempts",
    "exabgp.tcp.delay",
    "exabgp.tcp.acl",
    "exabgp.bgp.passive",
    "exabgp.bgp.openwait",
    "exabgp.cache.attributes",
    "exabgp.cache.nexthops",
    "exabgp.api.chunk",
    "exabgp.api.encoder",
    "exabgp.api.compact",
    "exabgp.api.respawn",
    "exabgp.api.terminate",
    "exabgp.api.pipename",
    "exabgp.reactor.speed",
    "exabgp.debug.pdb",
    "exabgp.debug.memory",
    "exabgp.debug.configuration",
    "exabgp.debug.selfcheck",
    "exabgp.debug.route",
    "exabgp.debug.defensive",
    "exabgp.debug.rotate",
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
