//! Configuration errors: every problem found in a file, each with its position.
//!
//! A [`ConfigError`] prints one problem a line, as `FILE:LINE:COL: what was wrong,
//! what was expected`, and always maps to exit code 78 (EX_CONFIG) so a unit can say
//! `RestartPreventExitStatus=78` and not loop on a typo.

use std::fmt;
use std::path::PathBuf;

/// One problem at one place in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file name as given to `load` / `parse_str` (for the message prefix).
    pub file: String,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in characters (not bytes).
    pub col: usize,
    /// What was wrong and what was expected.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.col, self.message
        )
    }
}

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read at all (missing, permissions, a directory, ...).
    #[error("{}: cannot read the configuration file: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file was read; these are all the problems found in it, in file order.
    #[error("{}", join_lines(.0))]
    Invalid(Vec<Diagnostic>),
}

fn join_lines(d: &[Diagnostic]) -> String {
    d.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

impl ConfigError {
    /// The process exit code for this error: always 78 (EX_CONFIG).
    pub fn exit_code(&self) -> i32 {
        crate::EX_CONFIG
    }

    /// The positioned problems (empty for a read error).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            ConfigError::Read { .. } => &[],
            ConfigError::Invalid(d) => d,
        }
    }
}
