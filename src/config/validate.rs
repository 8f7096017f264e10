//! `exabgp validate FILE`: check a configuration and say so, for main.rs and for
//! `ExecStartPre=` / packaging hooks.

use std::io::Write;
use std::path::Path;

use super::load::load;
use super::model::Config;

/// One line describing a valid configuration, e.g.
/// `/etc/exabgp/edge1.toml: OK (2 neighbors, 3 routes, 1 process)`.
pub fn summary(path: &Path, c: &Config) -> String {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "{}: OK ({}, {}, {})",
        path.display(),
        plural(c.neighbors.len(), "neighbor", "neighbors"),
        plural(c.routes.len(), "route", "routes"),
        plural(c.processes.len(), "process", "processes"),
    )
}

/// Validate `path`: on success print the summary to `out` and return 0; otherwise
/// print every problem (one per line) to `err` and return 78 (EX_CONFIG).
pub fn validate_to(path: &Path, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    match load(path) {
        Ok(c) => {
            let _ = writeln!(out, "{}", summary(path, &c));
            0
        }
        Err(e) => {
            let _ = writeln!(err, "{e}");
            e.exit_code()
        }
    }
}

/// [`validate_to`] on stdout and stderr: the whole of `exabgp validate FILE`.
pub fn validate_main(path: &Path) -> i32 {
    validate_to(
        path,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    )
}
