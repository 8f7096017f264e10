//! Loading [`Settings`]: command line > environment > env file > default, with
//! ExaBGP's names in both spellings (`exabgp_tcp_port`, `exabgp.tcp.port`).
//!
//! Unknown `exabgp*` keys are an error in an env file (a typo there is ours to
//! catch) but only a warning in the process environment (which we do not own).
//! Every other setting ExaBGP 4.2 and 5.0 define ([`EXABGP_IGNORED`]) is accepted
//! in both and ignored, all of them named in ONE warning (an `exabgp --fi` file
//! names about forty), so an existing ExaBGP env file keeps working; the ones set
//! to something other than ExaBGP's default show their value in it, since ignoring
//! those changes what the operator asked for.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::doc::{IgnoredSetting, EXABGP_IGNORED, SETTINGS};
use super::env_file::parse_env_file;
use super::model::{LogDestination, SettingOrigin, Settings};

/// Why the settings could not be loaded. Exit code 78 (EX_CONFIG), like a bad config.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The env file could not be read.
    #[error("{}: cannot read the env file: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Every problem found, one per line, each saying where (`FILE:LINE:`,
    /// `environment variable NAME:`, `command line NAME:`), what was wrong and what
    /// was expected.
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
}

impl SettingsError {
    /// The process exit code: 78 (EX_CONFIG).
    pub fn exit_code(&self) -> i32 {
        crate::EX_CONFIG
    }
}

/// Settings plus the warnings met while loading them (ignored ExaBGP settings,
/// unknown `exabgp_*` variables in the environment).
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedSettings {
    pub settings: Settings,
    pub warnings: Vec<String>,
    /// The ExaBGP settings that were set but are not used, by name (the
    /// environment's value where both set one), for `exabgp env`.
    pub ignored: Vec<IgnoredUse>,
}

/// An ExaBGP setting that was set and is ignored: its value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredUse {
    pub setting: &'static IgnoredSetting,
    /// The value as given (quotes of an env file removed).
    pub value: String,
    pub origin: SettingOrigin,
    /// Where, for the warning: "FILE:LINE" or "environment variable NAME".
    pub place: String,
    /// The value is not ExaBGP's default (so ignoring it changes behaviour).
    pub differs: bool,
}

/// What a key names.
enum Key {
    /// One of ours, by canonical name.
    Ours(&'static str),
    /// An ExaBGP setting we ignore.
    Ignored(&'static IgnoredSetting),
    /// Starts with exabgp but is neither.
    Unknown,
    /// Not ours at all (PATH, HOME, ...).
    Foreign,
}

fn classify(key: &str) -> Key {
    let lower = key.to_ascii_lowercase();
    if !(lower.starts_with("exabgp_") || lower.starts_with("exabgp.")) {
        return Key::Foreign;
    }
    let norm = lower.replace('.', "_");
    if let Some(s) = SETTINGS.iter().find(|s| s.env_name() == norm) {
        return Key::Ours(s.name);
    }
    if let Some(s) = EXABGP_IGNORED
        .iter()
        .find(|s| s.name.replace('.', "_") == norm)
    {
        return Key::Ignored(s);
    }
    Key::Unknown
}

/// A key outside `exabgp_*`/`exabgp.*` that is one of ours misspelled: it starts
/// like `exabgp` (`exabpg_`, `exabgp-`, `ExaBGP`), or has a dot (an INI section's
/// key or a dotted name: shell variables have no dots, so nobody else's).
fn misspelled_ours(key: &str) -> bool {
    key.to_ascii_lowercase().starts_with("exa") || key.contains('.')
}

/// The process environment as text, for [`Settings::load`]: read it with
/// `std::env::vars_os()` (`vars()` panics on the first variable that is not UTF-8,
/// which any parent can pass). A variable of ours (`exabgp_*` / `exabgp.*`) whose
/// name or value is not UTF-8 is a settings error naming it; anybody else's is
/// left out, it is none of our business.
pub fn text_environ(
    vars: impl IntoIterator<Item = (OsString, OsString)>,
) -> Result<Vec<(String, String)>, SettingsError> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (key, value) in vars {
        match (key.into_string(), value.into_string()) {
            (Ok(k), Ok(v)) => out.push((k, v)),
            (Ok(k), Err(_)) => {
                if !matches!(classify(&k), Key::Foreign) {
                    errors.push(format!(
                        "environment variable {k}: the value is not UTF-8 text, expected text (set it as text or unset it)"
                    ));
                }
            }
            (Err(k), _) => {
                let lossy = k.to_string_lossy();
                if !matches!(classify(&lossy), Key::Foreign) {
                    errors.push(format!(
                        "environment variable {}: the name is not UTF-8 text, expected an exabgp_* setting name",
                        lossy.escape_debug()
                    ));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(SettingsError::Invalid(errors))
    }
}

/// "unknown setting X (did you mean Y?), expected one of: ..."
fn unknown_message(key: &str) -> String {
    let dotted = key.contains('.');
    let names: Vec<String> = SETTINGS
        .iter()
        .map(|s| {
            if dotted {
                s.name.to_string()
            } else {
                s.env_name()
            }
        })
        .collect();
    // `suggest` compares in kebab-case: compare every spelling as such. ExaBGP's
    // names are candidates too (`exabgp.tcp.onse` is a typo of one of them).
    let kebab = |k: &str| k.to_ascii_lowercase().replace(['.', '_'], "-");
    let mut names = names;
    names.extend(EXABGP_IGNORED.iter().map(|s| {
        if dotted {
            s.name.to_string()
        } else {
            s.name.replace('.', "_")
        }
    }));
    let candidates: Vec<String> = names.iter().map(|n| kebab(n)).collect();
    let refs: Vec<&str> = candidates.iter().map(String::as_str).collect();
    let hint = match crate::config::walk::suggest(&kebab(key), &refs)
        .and_then(|c| candidates.iter().position(|k| k == c))
    {
        Some(i) => format!(" (did you mean {}?)", names[i]),
        None => String::new(),
    };
    format!(
        "unknown setting {key}{hint}, expected one of: {}",
        names[..SETTINGS.len()].join(", ")
    )
}

/// A raw value and where it came from.
#[derive(Clone)]
struct Raw {
    value: String,
    origin: SettingOrigin,
    /// Where, for messages: "FILE:LINE: ", "environment variable X: ", ...
    place: String,
    /// The key as the user spelled it.
    spelled: String,
}

/// The parent of the directory holding the running executable (`/usr` for
/// `/usr/sbin/exabgp`), or `/` when it cannot be told.
pub fn default_root() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().and_then(Path::parent).map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("/"))
}

impl Settings {
    /// Load the settings; warnings are logged with `tracing::warn!` (use
    /// [`Settings::load_with_warnings`] to get them instead).
    ///
    /// `cli` keys may be spelled `exabgp.tcp.port`, `exabgp_tcp_port` or `tcp.port`.
    pub fn load(
        env_file: Option<&Path>,
        environ: impl IntoIterator<Item = (String, String)>,
        cli: &[(&str, String)],
        instance: Option<&str>,
    ) -> Result<Settings, SettingsError> {
        let loaded = Settings::load_with_warnings(env_file, environ, cli, instance)?;
        for w in &loaded.warnings {
            tracing::warn!("{w}");
        }
        Ok(loaded.settings)
    }

    /// Like [`Settings::load`], returning the warnings instead of logging them.
    pub fn load_with_warnings(
        env_file: Option<&Path>,
        environ: impl IntoIterator<Item = (String, String)>,
        cli: &[(&str, String)],
        instance: Option<&str>,
    ) -> Result<LoadedSettings, SettingsError> {
        let file_text = match env_file {
            Some(p) => Some((
                p,
                std::fs::read_to_string(p).map_err(|source| SettingsError::Read {
                    path: p.to_path_buf(),
                    source,
                })?,
            )),
            None => None,
        };
        let file = file_text.as_ref().map(|(p, t)| (*p, t.as_str()));
        Settings::from_sources(file, environ, cli, instance, default_root())
    }

    /// The loader over already-read sources (the env file as `(path, text)`), with
    /// the default root given: what tests call.
    pub fn from_sources(
        env_file: Option<(&Path, &str)>,
        environ: impl IntoIterator<Item = (String, String)>,
        cli: &[(&str, String)],
        instance: Option<&str>,
        default_root: PathBuf,
    ) -> Result<LoadedSettings, SettingsError> {
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let mut raw: BTreeMap<&'static str, Raw> = BTreeMap::new();
        // Ignored ExaBGP settings by name; the environment's entry replaces the file's.
        let mut ignored: BTreeMap<&'static str, IgnoredUse> = BTreeMap::new();

        if let Some((path, text)) = env_file {
            let (lines, bad) = parse_env_file(text);
            // The file's own problems, reported in line order.
            let mut file_errors: Vec<(usize, String)> = bad;
            for l in lines {
                let place = format!("{}:{}: ", path.display(), l.line);
                match classify(&l.key) {
                    Key::Ours(name) => {
                        let origin = SettingOrigin::EnvFile {
                            path: path.to_path_buf(),
                            line: l.line,
                        };
                        raw.insert(
                            name,
                            Raw {
                                value: l.value,
                                origin,
                                place,
                                spelled: l.key,
                            },
                        );
                    }
                    Key::Ignored(setting) => {
                        let origin = SettingOrigin::EnvFile {
                            path: path.to_path_buf(),
                            line: l.line,
                        };
                        let place = format!("{}:{}", path.display(), l.line);
                        ignored.insert(setting.name, ignored_use(setting, l.value, origin, place));
                    }
                    Key::Unknown => file_errors.push((l.line, unknown_message(&l.key))),
                    // Another program's variable (the file may double as an
                    // EnvironmentFile=) is left alone; a key that only looks
                    // foreign because of a typo is not (`exabpg_tcp_port`,
                    // `exabgp-log-level`, any key under a section `[exabgp-api]`).
                    Key::Foreign if misspelled_ours(&l.key) => {
                        file_errors.push((l.line, unknown_message(&l.key)))
                    }
                    Key::Foreign => {}
                }
            }
            file_errors.sort_by_key(|(line, _)| *line);
            for (line, m) in file_errors {
                errors.push(format!("{}:{line}: {m}", path.display()));
            }
        }

        let mut from_env: BTreeMap<&'static str, Raw> = BTreeMap::new();
        for (key, value) in environ {
            let place = format!("environment variable {key}: ");
            match classify(&key) {
                Key::Ours(name) => {
                    if let Some(prev) = from_env.get(name) {
                        if prev.value != value {
                            errors.push(format!(
                                "{place}conflicts with {}={}, expected one value for {name} (set only one spelling)",
                                prev.spelled, prev.value
                            ));
                        }
                        continue;
                    }
                    from_env.insert(
                        name,
                        Raw {
                            value,
                            origin: SettingOrigin::Environment,
                            place,
                            spelled: key,
                        },
                    );
                }
                Key::Ignored(setting) => {
                    let place = format!("environment variable {key}");
                    ignored.insert(
                        setting.name,
                        ignored_use(setting, value, SettingOrigin::Environment, place),
                    );
                }
                Key::Unknown => warnings.push(format!("{place}{}; ignored", unknown_message(&key))),
                Key::Foreign => {}
            }
        }
        raw.extend(from_env);

        for (key, value) in cli {
            let full = if key.to_ascii_lowercase().starts_with("exabgp") {
                key.to_string()
            } else {
                format!("exabgp.{key}")
            };
            let place = format!("command line {key}: ");
            match classify(&full) {
                Key::Ours(name) => {
                    raw.insert(
                        name,
                        Raw {
                            value: value.clone(),
                            origin: SettingOrigin::CommandLine,
                            place,
                            spelled: key.to_string(),
                        },
                    );
                }
                _ => errors.push(format!("{place}{}", unknown_message(&full))),
            }
        }

        let mut b = Builder {
            raw,
            errors,
            origins: BTreeMap::new(),
        };
        let tcp_bind = b.get("exabgp.tcp.bind", "", parse_bind).unwrap_or_default();
        let tcp_port = b.get("exabgp.tcp.port", "179", parse_port).unwrap_or(179);
        let default_name = instance.unwrap_or("exabgp").to_string();
        let api_socketname = b
            .get("exabgp.api.socketname", &default_name, parse_socketname)
            .unwrap_or(default_name);
        let api_socketpath = b
            .get("exabgp.api.socketpath", "", parse_opt_abs_path)
            .unwrap_or_default();
        let api_cli = b.get("exabgp.api.cli", "true", parse_bool).unwrap_or(true);
        let api_ack = b.get("exabgp.api.ack", "true", parse_bool).unwrap_or(true);
        let metrics_listen = b
            .get("exabgp.metrics.listen", "", parse_opt_socket_addr)
            .unwrap_or_default();
        let log_level = b
            .get("exabgp.log.level", "info", parse_log_level)
            .unwrap_or_else(|| "info".into());
        let log_destination = b
            .get("exabgp.log.destination", "auto", parse_destination)
            .unwrap_or(LogDestination::Auto);
        let daemon_user = b
            .get("exabgp.daemon.user", "exabgp", parse_user)
            .unwrap_or_else(|| "exabgp".into());
        let daemon_drop = b
            .get("exabgp.daemon.drop", "true", parse_bool)
            .unwrap_or(true);
        let daemon_hitless = b
            .get("exabgp.daemon.hitless", "true", parse_bool)
            .unwrap_or(true);
        let root_default = default_root.display().to_string();
        let root = b
            .get("exabgp.root", &root_default, parse_abs_path)
            .unwrap_or(default_root);

        if !b.errors.is_empty() {
            return Err(SettingsError::Invalid(b.errors));
        }
        let settings = Settings {
            tcp_bind,
            tcp_port,
            api_socketname,
            api_socketpath,
            api_cli,
            api_ack,
            metrics_listen,
            log_level,
            log_destination,
            daemon_user,
            daemon_drop,
            daemon_hitless,
            instance: instance.map(str::to_string),
            root,
            origins: b.origins,
        };
        let ignored: Vec<IgnoredUse> = ignored.into_values().collect();
        if let Some(w) = ignored_warning(&ignored) {
            // First: it is about the file as a whole, the rest about single lines.
            warnings.insert(0, w);
        }
        Ok(LoadedSettings {
            settings,
            warnings,
            ignored,
        })
    }
}

/// Applies the chosen raw value (or the default) of each setting.
struct Builder {
    raw: BTreeMap<&'static str, Raw>,
    errors: Vec<String>,
    origins: BTreeMap<&'static str, (String, SettingOrigin)>,
}

/// A value parser: the value and its canonical text, or what was expected.
type ValueParser<T> = fn(&str) -> Result<(T, String), &'static str>;

impl Builder {
    fn get<T>(&mut self, name: &'static str, default: &str, parse: ValueParser<T>) -> Option<T> {
        let (text, origin, place, spelled) = match self.raw.remove(name) {
            Some(r) => (r.value, r.origin, r.place, r.spelled),
            None => (
                default.to_string(),
                SettingOrigin::Default,
                // Only a default derived from the instance name can be wrong.
                "the default taken from the instance name: ".to_string(),
                name.to_string(),
            ),
        };
        match parse(strip_quotes(text.trim())) {
            Ok((v, shown)) => {
                self.origins.insert(name, (shown, origin));
                Some(v)
            }
            Err(expected) => {
                self.errors.push(format!(
                    "{place}invalid value \"{text}\" for {spelled}, expected {expected}"
                ));
                None
            }
        }
    }
}

fn ignored_use(
    setting: &'static IgnoredSetting,
    value: String,
    origin: SettingOrigin,
    place: String,
) -> IgnoredUse {
    let differs =
        normalise(setting.name, &value) != normalise(setting.name, setting.exabgp_default);
    IgnoredUse {
        setting,
        value,
        origin,
        place,
        differs,
    }
}

/// The one warning naming every ignored ExaBGP setting, grouped by where it was
/// set, or None when none was set:
/// `2 ExaBGP settings ... ignored (...): FILE: exabgp.tcp.once (line 3),
/// exabgp.bgp.passive=true (line 9, not ExaBGP's default false); environment:
/// exabgp.log.all (as exabgp_log_all)`.
fn ignored_warning(ignored: &[IgnoredUse]) -> Option<String> {
    if ignored.is_empty() {
        return None;
    }
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for i in ignored {
        let (source, at) = match &i.origin {
            SettingOrigin::EnvFile { path, line } => {
                (path.display().to_string(), format!("line {line}"))
            }
            _ => (
                "environment".to_string(),
                format!("as {}", i.place.trim_start_matches("environment variable ")),
            ),
        };
        let item = if i.differs {
            format!(
                "{}={} ({at}, not ExaBGP's default {})",
                i.setting.name,
                // Escaped: a "\n" in the file's value must not start a line of
                // its own in the log (a forged `WARN ...` line; review).
                Shown(&i.value),
                i.setting.exabgp_default
            )
        } else {
            format!("{} ({at})", i.setting.name)
        };
        match groups.iter_mut().find(|(s, _)| *s == source) {
            Some((_, items)) => items.push(item),
            None => groups.push((source, vec![item])),
        }
    }
    let named: Vec<String> = groups
        .into_iter()
        .map(|(source, items)| format!("{source}: {}", items.join(", ")))
        .collect();
    Some(format!(
        "{} ExaBGP setting{} that exabgp-rs does not use, ignored (docs/settings.md says why): {}",
        ignored.len(),
        if ignored.len() == 1 { "" } else { "s" },
        named.join("; ")
    ))
}

/// A value as written, but with its control characters escaped (`\n`, `\u{1b}`):
/// a value is one item of a one-line warning or of `exabgp env`'s listing.
pub struct Shown<'a>(pub &'a str);

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for c in self.0.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                f.write_fmt(format_args!("{c}"))?;
            }
        }
        Ok(())
    }
}

/// A value as ExaBGP would read it, to compare with its default: quotes, case and
/// spaces aside, booleans as ExaBGP reads them (anything but 1/yes/on/enable/true
/// is false), numbers by value, the umask in octal (`0137` and `0o137` alike).
fn normalise(name: &str, value: &str) -> String {
    let v = strip_quotes(value.trim()).trim().to_ascii_lowercase();
    if name.ends_with(".umask") {
        let digits = v.strip_prefix("0o").unwrap_or(&v);
        if let Ok(n) = u32::from_str_radix(digits, 8) {
            return format!("umask:{n}");
        }
    }
    if let Some(b) = parse_bool_word(&v) {
        if !v.chars().all(|c| c.is_ascii_digit()) {
            return b.to_string();
        }
    }
    if let Ok(f) = v.parse::<f64>() {
        return format!("{f}");
    }
    v
}

/// One pair of matching quotes around a value removed (`'/var/run'` -> `/var/run`),
/// as ExaBGP's readers do: an environment variable keeps the quotes its writer
/// put in, which an env file's own unquoting already removed.
fn strip_quotes(v: &str) -> &str {
    for q in ['\'', '"'] {
        if let Some(inner) = v.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    v
}

/// true/false/yes/no/1/0/on/off/enable/disable (any case).
pub fn parse_bool_word(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" | "enable" | "enabled" => Some(true),
        "false" | "no" | "0" | "off" | "disable" | "disabled" => Some(false),
        _ => None,
    }
}

fn parse_bool(v: &str) -> Result<(bool, String), &'static str> {
    parse_bool_word(v)
        .map(|b| (b, b.to_string()))
        .ok_or("a boolean: true/false, yes/no, 1/0, on/off, enable/disable")
}

fn parse_port(v: &str) -> Result<(u16, String), &'static str> {
    match v.parse::<u16>() {
        Ok(p) if p > 0 => Ok((p, p.to_string())),
        _ => Err("a TCP port from 1 to 65535"),
    }
}

fn parse_opt_socket_addr(v: &str) -> Result<(Option<std::net::SocketAddr>, String), &'static str> {
    let v = v.trim().trim_matches(|c| c == '\'' || c == '"');
    if v.is_empty() {
        return Ok((None, String::new()));
    }
    match v.parse::<std::net::SocketAddr>() {
        Ok(a) if a.port() > 0 => Ok((Some(a), a.to_string())),
        _ => Err("ADDRESS:PORT (IPv6 as [ADDRESS]:PORT, port 1-65535), or empty for off"),
    }
}

fn parse_bind(v: &str) -> Result<(Vec<IpAddr>, String), &'static str> {
    let expected = "IP addresses separated by spaces or commas (empty: do not listen)";
    let mut out = Vec::new();
    for item in v
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
    {
        let item = item.trim_matches(|c| c == '\'' || c == '"');
        let a: IpAddr = item.parse().map_err(|_| expected)?;
        if !out.contains(&a) {
            out.push(a);
        }
    }
    let shown = out
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    Ok((out, shown))
}

fn parse_socketname(v: &str) -> Result<(String, String), &'static str> {
    crate::config::socket_name::check_name(v)?;
    Ok((v.to_string(), v.to_string()))
}

fn parse_opt_abs_path(v: &str) -> Result<(Option<PathBuf>, String), &'static str> {
    if v.is_empty() {
        return Ok((None, String::new()));
    }
    parse_abs_path(v).map(|(p, s)| (Some(p), s))
}

fn parse_abs_path(v: &str) -> Result<(PathBuf, String), &'static str> {
    if v.starts_with('/') {
        Ok((PathBuf::from(v), v.to_string()))
    } else {
        Err("an absolute path (starting with /)")
    }
}

fn parse_user(v: &str) -> Result<(String, String), &'static str> {
    if !v.is_empty() && !v.contains([':', '/']) && !v.chars().any(char::is_whitespace) {
        Ok((v.to_string(), v.to_string()))
    } else {
        Err("a user name")
    }
}

/// Our levels, and ExaBGP's syslog names mapped onto them.
fn parse_log_level(v: &str) -> Result<(String, String), &'static str> {
    // A full tracing filter, e.g. `exabgp::session=debug,info`, as is.
    if v.contains('=') {
        return match tracing_subscriber::EnvFilter::try_new(v) {
            Ok(_) => Ok((v.to_string(), v.to_string())),
            Err(_) => Err("trace, debug, info, warning or error, or a filter such as exabgp::session=debug,info"),
        };
    }
    let level = match v.to_ascii_lowercase().as_str() {
        "trace" => "trace",
        "debug" => "debug",
        "info" | "notice" => "info",
        "warning" | "warn" => "warning",
        "error" | "err" | "crit" | "critical" | "alert" | "emerg" | "fatal" => "error",
        _ => return Err("trace, debug, info, warning or error (or ExaBGP's DEBUG, INFO, NOTICE, WARNING, ERR, CRIT, ALERT, EMERG)"),
    };
    Ok((level.to_string(), level.to_string()))
}

fn parse_destination(v: &str) -> Result<(LogDestination, String), &'static str> {
    let d = match v.to_ascii_lowercase().as_str() {
        "auto" | "" => LogDestination::Auto,
        "stderr" | "stdout" => LogDestination::Stderr,
        "journal" | "journald" | "syslog" => LogDestination::Journal,
        _ => return Err("auto, stderr or journal (ExaBGP's stdout and syslog are accepted; a log file or a remote syslog host:NAME is not: the journal keeps the logs)"),
    };
    let shown = match d {
        LogDestination::Auto => "auto",
        LogDestination::Stderr => "stderr",
        LogDestination::Journal => "journal",
    };
    Ok((d, shown.to_string()))
}
