//! Logging: journald's native protocol when stderr is the journal (or when asked),
//! plain lines on stderr otherwise.
//!
//! Journal fields (tracing-journald upper-cases field names and, with
//! `with_field_prefix(None)`, adds no `F_` prefix — span fields included):
//!
//! | field          | on                                   |
//! |----------------|--------------------------------------|
//! | `INSTANCE`     | every entry (the `--instance` name)  |
//! | `PEER_ADDRESS` | entries about one neighbor           |
//! | `PEER_AS`      | entries about one neighbor           |
//! | `BGP_STATE`    | session state changes                |
//! | `MESSAGE_ID`   | the five events below (catalogued)   |
//!
//! Log them as fields, e.g.
//! `tracing::info!(MESSAGE_ID = MSG_SESSION_UP, PEER_ADDRESS = %addr, PEER_AS = asn,
//! BGP_STATE = "established", "session with {addr} established")`, or put
//! PEER_ADDRESS/PEER_AS on a per-neighbor span so every event inside carries them.
//! systemd/exabgp.catalog explains each MESSAGE_ID for `journalctl -x`.

use std::io::IsTerminal;
use std::os::unix::fs::MetadataExt;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::config::LogDestination;

/// A BGP session reached Established.
pub const MSG_SESSION_UP: &str = "d8af5d3a648940a1a7970efb194936d6";
/// A BGP session left Established (NOTIFICATION, hold timer, TCP closed, Cease).
pub const MSG_SESSION_DOWN: &str = "b0ed56a9f33d4bc9abff5a2c8884b22d";
/// A new configuration was applied (SIGHUP / `systemctl reload`).
pub const MSG_CONFIG_RELOADED: &str = "079e20ccf68543da82ecbdca191e4ef4";
/// A new configuration was rejected; the running one stays.
pub const MSG_CONFIG_REJECTED: &str = "d7c6114f204147d19e0477617cc432dc";
/// A helper process kept dying and will not be restarted again.
pub const MSG_HELPER_GIVEN_UP: &str = "314a4658e06d431085a89a5054d542ea";

/// Journal field names, for code that builds fields by name.
pub const FIELD_INSTANCE: &str = "INSTANCE";
pub const FIELD_PEER_ADDRESS: &str = "PEER_ADDRESS";
pub const FIELD_PEER_AS: &str = "PEER_AS";
pub const FIELD_BGP_STATE: &str = "BGP_STATE";

/// Where logging ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogSink {
    Journal,
    Stderr,
    /// A subscriber was already installed (tests, a second call): left alone.
    AlreadySet,
}

/// Install the global subscriber. Never panics and never fails: when journald cannot
/// be reached, lines go to stderr (and the reason is logged there).
/// `level` is exabgp_log_level: trace, debug, info, warning, error (ExaBGP's upper-case
/// names and `critical` too), or a full tracing filter such as `exabgp=debug,info`.
pub fn init(level: &str, destination: LogDestination, instance: Option<&str>) -> LogSink {
    let want_journal = match destination {
        LogDestination::Journal => true,
        LogDestination::Stderr => false,
        LogDestination::Auto => stderr_is_journal(),
    };
    let mut journal_error = None;
    if want_journal {
        match journal_layer(instance) {
            Ok(layer) => {
                let done = tracing_subscriber::registry()
                    .with(filter(level))
                    .with(layer)
                    .try_init();
                return if done.is_ok() {
                    LogSink::Journal
                } else {
                    LogSink::AlreadySet
                };
            }
            Err(e) => journal_error = Some(e),
        }
    }
    let stderr = std::io::stderr();
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(stderr.is_terminal())
        .with_target(false);
    if tracing_subscriber::registry()
        .with(filter(level))
        .with(fmt)
        .try_init()
        .is_err()
    {
        return LogSink::AlreadySet;
    }
    if let Some(e) = journal_error {
        tracing::warn!("journald is not reachable ({e}); logging to stderr");
    }
    LogSink::Stderr
}

fn journal_layer(instance: Option<&str>) -> std::io::Result<tracing_journald::Layer> {
    let mut priorities = tracing_journald::PriorityMappings::new();
    // syslog's meaning: info is informational (6), not notice (5).
    priorities.info = tracing_journald::Priority::Informational;
    priorities.debug = tracing_journald::Priority::Debug;
    let layer = tracing_journald::layer()?
        .with_field_prefix(None)
        .with_syslog_identifier("exabgp".to_string())
        .with_priority_mappings(priorities);
    Ok(match instance {
        Some(name) => layer.with_custom_fields([(FIELD_INSTANCE, name)]),
        None => layer,
    })
}

/// The tracing filter for exabgp_log_level.
fn filter(level: &str) -> EnvFilter {
    let mapped = match level.trim().to_ascii_lowercase().as_str() {
        "" => "info".to_string(),
        "warning" | "warn" => "warn".to_string(),
        "critical" | "crit" | "alert" | "emerg" | "fatal" | "err" | "error" => "error".to_string(),
        "notice" | "info" => "info".to_string(),
        "debug" => "debug".to_string(),
        "trace" => "trace".to_string(),
        // A full filter ("exabgp=debug,info"); a lone unknown word would be taken as
        // a target name and silence everything else, so it falls back to info.
        other if other.contains('=') => other.to_string(),
        _ => "info".to_string(),
    };
    EnvFilter::try_new(&mapped).unwrap_or_else(|_| EnvFilter::new("info"))
}

/// True when JOURNAL_STREAM (set by systemd for StandardError=journal) names the
/// device and inode of our stderr, i.e. stderr really is the journal stream and was
/// not redirected by a wrapper (systemd.exec(5), "JOURNAL_STREAM").
pub fn stderr_is_journal() -> bool {
    let Ok(value) = std::env::var(super::environ::JOURNAL_VAR) else {
        return false;
    };
    let Ok(meta) = std::fs::metadata("/proc/self/fd/2") else {
        return false;
    };
    journal_stream_matches(&value, meta.dev(), meta.ino())
}

/// Pure part of [`stderr_is_journal`]: "DEV:INODE" against fstat's values.
pub fn journal_stream_matches(value: &str, dev: u64, ino: u64) -> bool {
    let Some((d, i)) = value.trim().split_once(':') else {
        return false;
    };
    d.parse::<u64>().ok() == Some(dev) && i.parse::<u64>().ok() == Some(ino)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_stream_comparison() {
        assert!(journal_stream_matches("8:1234", 8, 1234));
        assert!(!journal_stream_matches("8:1234", 8, 1235));
        assert!(!journal_stream_matches("9:1234", 8, 1234));
        assert!(!journal_stream_matches("garbage", 8, 1234));
        assert!(!journal_stream_matches("", 8, 1234));
    }

    #[test]
    fn message_ids_are_distinct_128_bit_hex() {
        let ids = [
            MSG_SESSION_UP,
            MSG_SESSION_DOWN,
            MSG_CONFIG_RELOADED,
            MSG_CONFIG_REJECTED,
            MSG_HELPER_GIVEN_UP,
        ];
        for id in ids {
            assert_eq!(id.len(), 32, "{id}");
            assert!(id
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        }
        let mut sorted = ids.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len());
    }

    #[test]
    fn catalog_documents_every_message_id() {
        let catalog = include_str!("../../systemd/exabgp.catalog");
        for id in [
            MSG_SESSION_UP,
            MSG_SESSION_DOWN,
            MSG_CONFIG_RELOADED,
            MSG_CONFIG_REJECTED,
            MSG_HELPER_GIVEN_UP,
        ] {
            assert!(
                catalog.contains(&format!("-- {id}\n")),
                "{id} not in catalog"
            );
        }
    }

    #[test]
    fn levels_map_to_filters() {
        for l in [
            "INFO",
            "warning",
            "CRITICAL",
            "debug",
            "exabgp=trace,info",
            "",
        ] {
            // Must not panic and must produce a usable filter.
            let _ = filter(l);
        }
        assert_eq!(filter("WARNING").to_string(), "warn");
        assert_eq!(filter("critical").to_string(), "error");
        assert_eq!(filter("EMERG").to_string(), "error");
        assert_eq!(filter("DEBUG").to_string(), "debug");
        assert_eq!(filter("not a ! filter").to_string(), "info");
        assert_eq!(filter("infoo").to_string(), "info");
        assert_eq!(filter("exabgp=debug").to_string(), "exabgp=debug");
    }
}
