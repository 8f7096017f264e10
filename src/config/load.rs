//! The entry of the configuration pipeline: [`load`] a file, [`parse_str`] a text,
//! and [`known_keys`], every key a file may hold.
//!
//! The pipeline runs one way: this file -> `fast.rs` (large route tables) and
//! `parse.rs` (the full parser) -> one file per table (`global.rs`, `neighbor.rs`,
//! `route.rs`, `process.rs`) -> the shared pieces (`route_check.rs`, `values.rs`,
//! `walk.rs`, `model.rs`). No file imports one before it.

use std::path::Path;

use super::error::{ConfigError, Diagnostic};
use super::fast;
use super::global::GLOBAL_KEYS;
use super::model::Config;
use super::neighbor::NEIGHBOR_KEYS;
use super::parse::{parse_full, TOP_KEYS};
use super::position::LineIndex;
use super::process::PROCESS_KEYS;
use super::route::ROUTE_KEYS;

/// Every key the file may hold, by section (`""` is the top level), in the order the
/// documentation lists them; for docs and tooling.
pub fn known_keys() -> &'static [(&'static str, &'static [&'static str])] {
    &[
        ("", TOP_KEYS),
        ("global", GLOBAL_KEYS),
        ("neighbor", NEIGHBOR_KEYS),
        ("route", ROUTE_KEYS),
        ("flow", super::flow::FLOW_KEYS),
        ("process", PROCESS_KEYS),
    ]
}

/// Read and parse a configuration file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let name = path.display().to_string();
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t,
        Err(e) => {
            // Position of the first bad byte, counted over the valid prefix.
            let valid = &bytes[..e.valid_up_to()];
            let valid = std::str::from_utf8(valid).unwrap_or_default();
            let idx = LineIndex::new(valid);
            let (line, col) = idx.position(valid.len());
            let bad = bytes.get(e.valid_up_to()).copied().unwrap_or_default();
            return Err(ConfigError::Invalid(vec![Diagnostic {
                file: name,
                line,
                col,
                message: format!(
                    "invalid UTF-8 (byte 0x{bad:02x}), expected the file to be UTF-8 text"
                ),
            }]));
        }
    };
    // ExaBGP's own syntax (`.conf`, or by content): the same model (classic/).
    let mut config = if super::classic::is_classic(path, text) {
        super::classic::parse_file(text, path)?.config
    } else {
        parse_str(text, &name)?
    };
    config.source = Some(path.to_path_buf());
    Ok(config)
}

/// Parse configuration text; `name` prefixes every message (usually the file path).
///
/// Large route tables take a fast path (see `fast.rs`); whenever it declines, the
/// full parser (`parse.rs`) reads the whole text and reports every problem.
pub fn parse_str(text: &str, name: &str) -> Result<Config, ConfigError> {
    if let Some(config) = fast::parse(text, name) {
        return Ok(config);
    }
    parse_full(text, name)
}
