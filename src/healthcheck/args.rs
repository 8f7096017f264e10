//! The command line of `exabgp healthcheck`, with ExaBGP's option names, and its
//! `--config FILE` (ExaBGP's format: one long option a line, `name = value` or a
//! bare flag, `#` comments; the command line wins over the file).
//!
//! Every option ExaBGP's healthcheck has is known here: the ones we implement are
//! turned into [`Options`]; the others are parsed only so that using one is refused
//! with an error naming it, never silently ignored ([`REFUSED`]).

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{ArgAction, Args, CommandFactory, FromArgMatches, Parser};

use super::HealthError;

/// Options of `exabgp healthcheck` (ExaBGP's names and defaults).
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Healthcheck")]
pub struct HealthcheckArgs {
    /// Name of this healthchecker, shown in every log line.
    #[arg(long, short = 'n', value_name = "NAME")]
    pub name: Option<String>,
    /// Read options from FILE first: one long option a line, `interval = 10` or a
    /// bare `withdraw-on-down`, `#` starts a comment (ExaBGP's format). Options given
    /// on the command line win over the file.
    #[arg(long, short = 'F', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Write our PID to FILE (removed again on exit).
    #[arg(long, short = 'p', value_name = "FILE")]
    pub pid: Option<PathBuf>,
    /// Log every check and every line sent, not only state changes.
    #[arg(long, short = 'd')]
    pub debug: bool,
    /// Accepted for ExaBGP 3.4/4.x setups with exabgp.api.ack=false: we never wait
    /// for the daemon's `done` (answers on stdin are read and logged when they are
    /// errors), so this changes nothing.
    #[arg(long, short = 'a')]
    pub no_ack: bool,
    /// Accepted: we never log to syslog. Logs go to stderr, which the daemon
    /// passes to its own log (the journal under systemd).
    #[arg(long)]
    pub no_syslog: bool,

    /// Seconds between two checks (fractions allowed). 0: announce once after the
    /// first check and exit, leaving the routes and addresses in place.
    #[arg(long, short = 'i', value_name = "N", default_value_t = 5.0)]
    pub interval: f64,
    /// Seconds between two checks while the state is about to change (RISING or
    /// FALLING).
    #[arg(
        long = "fast-interval",
        short = 'f',
        value_name = "N",
        default_value_t = 1.0
    )]
    pub fast_interval: f64,
    /// Seconds a check may run; on overrun its whole process group is killed and
    /// the check counts as failed. 0: no limit.
    #[arg(long, short = 't', value_name = "N", default_value_t = 5.0)]
    pub timeout: f64,
    /// Successful checks in a row before the service is UP (1: at once).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub rise: u32,
    /// Failed checks in a row before the service is DOWN (1: at once).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub fall: u32,
    /// While FILE exists the service is DISABLED (no check is run).
    #[arg(long, value_name = "FILE")]
    pub disable: Option<PathBuf>,
    /// The check, run with /bin/sh -c in its own process group; exit status 0
    /// means healthy. Without it every check succeeds.
    #[arg(long = "cmd", alias = "command", short = 'c', value_name = "CMD")]
    pub command: Option<String>,

    /// Next hop of the routes (default: self).
    #[arg(long = "next-hop", short = 'N', value_name = "IP")]
    pub next_hop: Option<IpAddr>,
    /// Address or network to announce (CIDR, e.g. 192.0.2.1/32); repeat for more.
    /// The first gets the metric of the state, each next one that plus --increase.
    #[arg(long = "ip", value_name = "IP/LEN", action = ArgAction::Append)]
    pub ips: Vec<String>,
    /// Add the --ip addresses to `lo` (through netlink) when they are missing: the
    /// default. Needs CAP_NET_ADMIN (see docs/healthcheck.md).
    #[arg(long = "ip-setup", overrides_with = "no_ip_setup")]
    pub ip_setup: bool,
    /// Do not touch the addresses of `lo`.
    #[arg(long = "no-ip-setup", overrides_with = "ip_setup")]
    pub no_ip_setup: bool,
    /// Remove the addresses we added from `lo` when the service goes DOWN or
    /// DISABLED, and add them again when it is UP.
    #[arg(long = "dynamic-ip-setup", alias = "dynamic")]
    pub dynamic: bool,
    /// Label of the addresses we add (`lo:LABEL`, IPv4 only; at most 12 characters).
    #[arg(long, value_name = "LABEL")]
    pub label: Option<String>,
    /// Index of the --ip that comes first (the list is rotated).
    #[arg(long = "start-ip", value_name = "N", default_value_t = 0)]
    pub start_ip: usize,
    /// MED of the first address while the service is UP.
    #[arg(long = "up-metric", value_name = "M", default_value_t = 100)]
    pub up_metric: u32,
    /// MED of the first address while the service is DOWN.
    #[arg(long = "down-metric", value_name = "M", default_value_t = 1000)]
    pub down_metric: u32,
    /// MED of the first address while the service is DISABLED.
    #[arg(long = "disabled-metric", value_name = "M", default_value_t = 500)]
    pub disabled_metric: u32,
    /// Added to the MED for each further address.
    #[arg(long, value_name = "M", default_value_t = 1)]
    pub increase: u32,
    /// LOCAL_PREF of the routes (default: none sent).
    #[arg(
        long = "local-preference",
        value_name = "P",
        allow_negative_numbers = true
    )]
    pub local_preference: Option<i64>,
    /// Communities of the routes, space separated (`65000:1 no-export`).
    #[arg(long, value_name = "COMMUNITY")]
    pub community: Option<String>,
    /// Communities of the routes while DOWN or DISABLED (instead of --community).
    #[arg(long = "disabled-community", value_name = "COMMUNITY")]
    pub disabled_community: Option<String>,
    /// Extended communities of the routes (`target:65000:1`).
    #[arg(long = "extended-community", value_name = "EXTENDEDCOMMUNITY")]
    pub extended_community: Option<String>,
    /// Large communities of the routes (`65000:1:2`).
    #[arg(long = "large-community", value_name = "LARGECOMMUNITY")]
    pub large_community: Option<String>,
    /// AS_PATH of the routes, space separated AS numbers.
    #[arg(long = "as-path", value_name = "ASPATH")]
    pub as_path: Option<String>,
    /// AS_PATH while UP (instead of --as-path).
    #[arg(long = "up-as-path", value_name = "ASPATH")]
    pub up_as_path: Option<String>,
    /// AS_PATH while DOWN (instead of --as-path).
    #[arg(long = "down-as-path", value_name = "ASPATH")]
    pub down_as_path: Option<String>,
    /// AS_PATH while DISABLED (instead of --as-path).
    #[arg(long = "disabled-as-path", value_name = "ASPATH")]
    pub disabled_as_path: Option<String>,
    /// Withdraw the routes while DOWN instead of announcing them with --down-metric.
    #[arg(long = "withdraw-on-down")]
    pub withdraw_on_down: bool,
    /// Send the routes to this neighbor only (`neighbor ADDR announce ...`); repeat
    /// for more. Default: every neighbor.
    #[arg(long = "neighbor", value_name = "NEIGHBOR", action = ArgAction::Append)]
    pub neighbors: Vec<IpAddr>,
    /// Print the routes only when the state changes (default: after every check,
    /// so a peer that came back gets them again).
    #[arg(long)]
    pub debounce: bool,

    /// Run CMD (with /bin/sh -c, STATE=<new state> in its environment) on every
    /// state change; repeatable.
    #[arg(long, value_name = "CMD", action = ArgAction::Append)]
    pub execute: Vec<String>,
    /// Run CMD when the service becomes UP (STATE=UP).
    #[arg(long = "up-execute", value_name = "CMD", action = ArgAction::Append)]
    pub up_execute: Vec<String>,
    /// Run CMD when the service becomes DOWN (STATE=DOWN).
    #[arg(long = "down-execute", value_name = "CMD", action = ArgAction::Append)]
    pub down_execute: Vec<String>,
    /// Run CMD when the service becomes DISABLED (STATE=DISABLED).
    #[arg(long = "disabled-execute", value_name = "CMD", action = ArgAction::Append)]
    pub disabled_execute: Vec<String>,

    // ExaBGP's options we do not implement: parsed so that they are refused by name.
    #[arg(long, short = 's', hide = true)]
    pub silent: bool,
    #[arg(long = "syslog-facility", hide = true, num_args = 0..=1, default_missing_value = "daemon")]
    pub syslog_facility: Option<String>,
    #[arg(long, hide = true)]
    pub sudo: bool,
    #[arg(long, hide = true)]
    pub user: Option<String>,
    #[arg(long, hide = true)]
    pub group: Option<String>,
    #[arg(long = "ip-ifname", hide = true, action = ArgAction::Append)]
    pub ip_ifname: Vec<String>,
    #[arg(long = "label-exact-match", hide = true)]
    pub label_exact_match: bool,
    #[arg(long = "deaggregate-networks", hide = true)]
    pub deaggregate_networks: bool,
    #[arg(long = "path-id", hide = true)]
    pub path_id: Option<String>,
}

/// ExaBGP options that are refused, with why.
pub const REFUSED: &[(&str, &str)] = &[
    ("--silent", "logs go to stderr, which the daemon passes to its log; silence them there"),
    ("--syslog-facility", "logs go to stderr (the journal under systemd), never to syslog"),
    ("--sudo", "addresses are set through netlink; give the helper CAP_NET_ADMIN instead (docs/healthcheck.md)"),
    ("--user", "run the helper as the user you want; the daemon's helpers already run unprivileged"),
    ("--group", "run the helper as the group you want"),
    ("--ip-ifname", "only `lo` is managed"),
    ("--label-exact-match", "existing addresses are matched by address, whatever their label"),
    ("--deaggregate-networks", "announce each address with its own --ip"),
    ("--path-id", "the API has no path-information for announced routes"),
];

impl HealthcheckArgs {
    /// The refused options present, by name.
    fn refused(&self) -> Vec<&'static str> {
        let present = [
            self.silent,
            self.syslog_facility.is_some(),
            self.sudo,
            self.user.is_some(),
            self.group.is_some(),
            !self.ip_ifname.is_empty(),
            self.label_exact_match,
            self.deaggregate_networks,
            self.path_id.is_some(),
        ];
        REFUSED
            .iter()
            .zip(present)
            .filter(|(_, p)| *p)
            .map(|((n, _), _)| *n)
            .collect()
    }
}

/// A standalone parser, to parse the file's options before the command line's.
#[derive(Parser)]
#[command(name = "exabgp healthcheck", args_override_self = true)]
struct Standalone {
    #[command(flatten)]
    args: HealthcheckArgs,
}

/// The lines of an ExaBGP healthcheck config file as command-line words:
/// `name = value` -> `--name value`, `flag` -> `--flag`.
pub fn config_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once('=') {
            Some((k, v)) => {
                out.push(format!("--{}", k.trim()));
                out.push(v.trim().to_string());
            }
            None => out.push(format!("--{line}")),
        }
    }
    out
}

/// With `--config FILE`: parse the file's options followed by the command line's
/// (`argv_after`: the words after `healthcheck`), so the command line wins.
pub fn with_config(
    args: HealthcheckArgs,
    argv_after: &[String],
) -> Result<HealthcheckArgs, HealthError> {
    let Some(path) = args.config.clone() else {
        return Ok(args);
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| HealthError::Usage(format!("--config {}: {e}", path.display())))?;
    let file = config_words(&text);
    if file.iter().any(|w| w == "--config" || w == "-F") {
        return Err(HealthError::Usage(format!(
            "--config {}: a config file cannot name another one",
            path.display()
        )));
    }
    let mut words = vec!["exabgp healthcheck".to_string()];
    words.extend(file);
    words.extend(argv_after.iter().cloned());
    let mut cmd = Standalone::command();
    let m = cmd
        .try_get_matches_from_mut(words)
        .map_err(|e| HealthError::Usage(format!("in --config {}: {e}", path.display())))?;
    let parsed = Standalone::from_arg_matches(&m)
        .map_err(|e| HealthError::Usage(format!("in --config {}: {e}", path.display())))?;
    Ok(parsed.args)
}

/// One address or network to announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    pub addr: IpAddr,
    pub len: u8,
}

impl std::fmt::Display for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl std::str::FromStr for Net {
    type Err = String;
    /// `192.0.2.1/32`, `2001:db8::/64`, or a bare address (a host route). Host bits
    /// must be zero, as ExaBGP's ip_network() requires.
    fn from_str(s: &str) -> Result<Net, String> {
        let (a, l) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .parse()
            .map_err(|_| format!("--ip {s}: '{a}' is not an IP address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match l {
            None => max,
            Some(l) => l
                .parse::<u8>()
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| format!("--ip {s}: prefix length must be 0..={max}"))?,
        };
        let net = Net { addr, len };
        if net.host(0) != Some(addr) {
            return Err(format!("--ip {s}: host bits are set"));
        }
        Ok(net)
    }
}

impl Net {
    /// Number of addresses in the network (saturating).
    pub fn size(&self) -> u128 {
        let bits = u32::from(if self.addr.is_ipv4() { 32u8 } else { 128 } - self.len);
        1u128.checked_shl(bits).unwrap_or(u128::MAX)
    }

    /// The i-th address of the network (with the host bits of `addr` cleared first).
    pub fn host(&self, i: u128) -> Option<IpAddr> {
        match self.addr {
            IpAddr::V4(a) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.len)).unwrap_or(0);
                let base = u32::from(a) & mask;
                let i = u32::try_from(i).ok()?;
                (i <= !mask).then(|| IpAddr::V4((base | i).into()))
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.len))
                    .unwrap_or(0);
                let base = u128::from(a) & mask;
                (i <= !mask).then(|| IpAddr::V6((base | i).into()))
            }
        }
    }
}

/// Most addresses one --ip may put on `lo` (ExaBGP adds every address of a
/// network; a /16 by mistake would be 65536 of them).
pub const MAX_SETUP_ADDRESSES: u128 = 256;

/// The checked options.
#[derive(Debug, Clone)]
pub struct Options {
    pub name: Option<String>,
    pub pid: Option<PathBuf>,
    pub debug: bool,
    pub interval: f64,
    pub fast_interval: f64,
    pub timeout: f64,
    pub rise: u32,
    pub fall: u32,
    pub disable: Option<PathBuf>,
    pub command: Option<String>,
    pub next_hop: Option<IpAddr>,
    /// In announcement order (after --start-ip).
    pub ips: Vec<Net>,
    pub ip_setup: bool,
    pub dynamic: bool,
    pub label: Option<String>,
    pub up_metric: u32,
    pub down_metric: u32,
    pub disabled_metric: u32,
    pub increase: u32,
    pub local_preference: Option<u32>,
    pub community: Option<String>,
    pub disabled_community: Option<String>,
    pub extended_community: Option<String>,
    pub large_community: Option<String>,
    pub as_path: Option<String>,
    pub up_as_path: Option<String>,
    pub down_as_path: Option<String>,
    pub disabled_as_path: Option<String>,
    pub withdraw_on_down: bool,
    pub neighbors: Vec<IpAddr>,
    pub debounce: bool,
    pub execute: Vec<String>,
    pub up_execute: Vec<String>,
    pub down_execute: Vec<String>,
    pub disabled_execute: Vec<String>,
}

fn seconds(name: &str, v: f64) -> Result<f64, HealthError> {
    if v.is_finite() && (0.0..=86400.0).contains(&v) {
        Ok(v)
    } else {
        Err(HealthError::Usage(format!(
            "--{name} {v}: expected seconds between 0 and 86400"
        )))
    }
}

impl Options {
    /// Check the parsed arguments (refused options, addresses, ranges).
    pub fn from_args(a: HealthcheckArgs) -> Result<Options, HealthError> {
        let refused = a.refused();
        if let Some(first) = refused.first() {
            let why = REFUSED
                .iter()
                .find(|(n, _)| n == first)
                .map(|(_, w)| *w)
                .unwrap_or_default();
            return Err(HealthError::Usage(format!(
                "option {first} of ExaBGP's healthcheck is not supported by exabgp-rs: {why}"
            )));
        }
        // Each of these ends up inside a line on stdout (or the log tag): a
        // newline would inject another API command.
        for (opt, v) in [
            ("name", &a.name),
            ("community", &a.community),
            ("disabled-community", &a.disabled_community),
            ("extended-community", &a.extended_community),
            ("large-community", &a.large_community),
            ("as-path", &a.as_path),
            ("up-as-path", &a.up_as_path),
            ("down-as-path", &a.down_as_path),
            ("disabled-as-path", &a.disabled_as_path),
        ] {
            if let Some(v) = v.as_deref().filter(|v| v.chars().any(char::is_control)) {
                return Err(HealthError::Usage(format!(
                    "--{opt} {v:?}: control characters (newline, tab, ...) are not allowed"
                )));
            }
        }
        let mut ips = a
            .ips
            .iter()
            .map(|s| s.parse::<Net>().map_err(HealthError::Usage))
            .collect::<Result<Vec<_>, _>>()?;
        if ips.is_empty() {
            return Err(HealthError::Usage(
                "no --ip given (finding the addresses on lo by label is not supported: name each with --ip)".into(),
            ));
        }
        if a.start_ip > 0 {
            let k = a.start_ip % ips.len();
            ips.rotate_left(k);
        }
        let ip_setup = !a.no_ip_setup;
        if ip_setup || a.dynamic {
            for n in &ips {
                if n.size() > MAX_SETUP_ADDRESSES {
                    return Err(HealthError::Usage(format!(
                        "--ip {n}: {} addresses would be added to lo (at most {MAX_SETUP_ADDRESSES}); use --no-ip-setup or smaller networks",
                        n.size()
                    )));
                }
            }
        }
        if let Some(l) = &a.label {
            let ok = !l.is_empty()
                && l.len() <= 12
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':'));
            if !ok {
                return Err(HealthError::Usage(format!(
                    "--label {l:?}: 1 to 12 characters of letters, digits and . _ - : (lo:LABEL must fit in 15)"
                )));
            }
        }
        if let (Some(nh), Some(first)) = (a.next_hop, ips.first()) {
            if let Some(other) = ips.iter().find(|n| n.addr.is_ipv4() != nh.is_ipv4()) {
                let _ = first;
                return Err(HealthError::Usage(format!(
                    "--next-hop {nh} is not of the family of --ip {other}"
                )));
            }
        }
        let local_preference =
            match a.local_preference {
                None => None,
                Some(p) if p < 0 => None, // ExaBGP's default -1: none sent.
                Some(p) => Some(u32::try_from(p).map_err(|_| {
                    HealthError::Usage(format!("--local-preference {p}: too large"))
                })?),
            };
        Ok(Options {
            name: a.name,
            pid: a.pid,
            debug: a.debug,
            interval: seconds("interval", a.interval)?,
            fast_interval: seconds("fast-interval", a.fast_interval)?,
            timeout: seconds("timeout", a.timeout)?,
            rise: a.rise,
            fall: a.fall,
            disable: a.disable,
            command: a.command,
            next_hop: a.next_hop,
            ips,
            ip_setup,
            dynamic: a.dynamic,
            label: a.label,
            up_metric: a.up_metric,
            down_metric: a.down_metric,
            disabled_metric: a.disabled_metric,
            increase: a.increase,
            local_preference,
            community: a.community,
            disabled_community: a.disabled_community,
            extended_community: a.extended_community,
            large_community: a.large_community,
            as_path: a.as_path,
            up_as_path: a.up_as_path,
            down_as_path: a.down_as_path,
            disabled_as_path: a.disabled_as_path,
            withdraw_on_down: a.withdraw_on_down,
            neighbors: a.neighbors,
            debounce: a.debounce,
            execute: a.execute,
            up_execute: a.up_execute,
            down_execute: a.down_execute,
            disabled_execute: a.disabled_execute,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(words: &[&str]) -> Result<Options, HealthError> {
        let mut all = vec!["exabgp healthcheck"];
        all.extend_from_slice(words);
        let s = Standalone::try_parse_from(all).map_err(|e| HealthError::Usage(e.to_string()))?;
        Options::from_args(s.args)
    }

    #[test]
    fn defaults_are_exabgps() {
        let o = parse(&["--ip", "192.0.2.1/32"]).unwrap();
        assert_eq!((o.interval, o.fast_interval, o.timeout), (5.0, 1.0, 5.0));
        assert_eq!((o.rise, o.fall), (3, 3));
        assert_eq!(
            (o.up_metric, o.down_metric, o.disabled_metric),
            (100, 1000, 500)
        );
        assert!(o.ip_setup && !o.dynamic && !o.withdraw_on_down);
        assert_eq!(o.local_preference, None);
    }

    #[test]
    fn every_refused_option_is_named() {
        for (name, _) in REFUSED {
            let mut w = vec!["--ip", "192.0.2.1/32", name];
            if matches!(*name, "--user" | "--group" | "--ip-ifname" | "--path-id") {
                w.push("x");
            }
            let e = parse(&w).unwrap_err().to_string();
            assert!(
                e.contains(name) && e.contains("not supported"),
                "{name}: {e}"
            );
        }
    }

    #[test]
    fn config_file_words_and_command_line_wins() {
        let w = config_words(
            "# c\n debug\nname = haproxy\ninterval=10\ncommand = curl -sf http://x/ \n\n",
        );
        assert_eq!(
            w,
            [
                "--debug",
                "--name",
                "haproxy",
                "--interval",
                "10",
                "--command",
                "curl -sf http://x/"
            ]
        );
        let dir = std::env::temp_dir().join(format!("hc-args-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("hc.conf");
        std::fs::write(
            &f,
            "ip = 192.0.2.1/32\ninterval = 10\nrise = 7\nwithdraw-on-down\n",
        )
        .unwrap();
        let a = HealthcheckArgs {
            config: Some(f.clone()),
            ..Default::default()
        };
        let after = vec![
            "--config".to_string(),
            f.display().to_string(),
            "--rise".into(),
            "2".into(),
        ];
        let o = Options::from_args(with_config(a, &after).unwrap()).unwrap();
        assert_eq!((o.interval, o.rise, o.withdraw_on_down), (10.0, 2, true));
        std::fs::write(&f, "ip = 192.0.2.1/32\nsudo\n").unwrap();
        let a = HealthcheckArgs {
            config: Some(f.clone()),
            ..Default::default()
        };
        let e = Options::from_args(with_config(a, &after).unwrap()).unwrap_err();
        assert!(e.to_string().contains("--sudo"), "{e}");
        std::fs::write(&f, "no-such-option = 1\n").unwrap();
        let a = HealthcheckArgs {
            config: Some(f),
            ..Default::default()
        };
        let e = with_config(a, &after).unwrap_err().to_string();
        assert!(e.contains("no-such-option"), "{e}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn nets() {
        assert_eq!(
            "192.0.2.1".parse::<Net>().unwrap().to_string(),
            "192.0.2.1/32"
        );
        assert!("192.0.2.1/24".parse::<Net>().is_err());
        assert!("192.0.2.0/33".parse::<Net>().is_err());
        let n: Net = "192.0.2.0/30".parse().unwrap();
        assert_eq!(n.size(), 4);
        assert_eq!(n.host(3), Some("192.0.2.3".parse().unwrap()));
        assert_eq!(n.host(4), None);
        let n: Net = "2001:db8::/126".parse().unwrap();
        assert_eq!(n.host(2), Some("2001:db8::2".parse().unwrap()));
        assert!(parse(&["--ip", "10.0.0.0/16"])
            .unwrap_err()
            .to_string()
            .contains("at most"));
        assert!(parse(&["--ip", "10.0.0.0/16", "--no-ip-setup"]).is_ok());
        let o = parse(&["--ip", "192.0.2.1", "--ip", "192.0.2.2", "--start-ip", "1"]).unwrap();
        assert_eq!(o.ips[0].to_string(), "192.0.2.2/32");
    }
}
