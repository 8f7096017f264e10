//! `exabgp migrate FILE`: an ExaBGP (classic) configuration written out as the
//! equivalent TOML, its comments carried beside what they were written next to.
//! Loading the result gives the same model as loading the classic file (tested by
//! tests/config_classic.rs for every fixture).

use std::fmt::Write as _;
use std::path::Path;

use super::classic::{self, Classic};
use super::error::{ConfigError, Diagnostic};
use super::render::render_neighbor;

/// Read `path` as ExaBGP's syntax (whatever its extension) and return the TOML; a
/// file whose content is already TOML is an error saying so.
pub fn migrate_file(path: &Path) -> Result<String, ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let name = path.display().to_string();
    let text = String::from_utf8(bytes).map_err(|_| {
        ConfigError::Invalid(vec![Diagnostic {
            file: name.clone(),
            line: 1,
            col: 1,
            message: "the file is not UTF-8 text".to_string(),
        }])
    })?;
    // Decided by the content alone (a classic file may be named .toml).
    if !classic::is_classic(Path::new(""), &text) {
        return Err(ConfigError::Invalid(vec![Diagnostic {
            file: name,
            line: 1,
            col: 1,
            message: "the file is already TOML (it starts with a table or key = value): nothing to migrate; check it with exabgp validate".to_string(),
        }]));
    }
    let c = classic::parse_file(&text, path)?;
    Ok(to_toml(&c, &name))
}

/// Each line as a TOML comment. TOML allows no control character but tab in a
/// comment (a bare CR or a NUL made the TOML unloadable): those are written as
/// their `\u{..}` escape.
fn comments(out: &mut String, lines: &[String]) {
    for l in lines {
        if l.is_empty() {
            out.push_str("#\n");
        } else {
            out.push_str("# ");
            for c in l.chars() {
                if c.is_control() && c != '\t' {
                    let _ = write!(out, "{}", c.escape_unicode());
                } else {
                    out.push(c);
                }
            }
            out.push('\n');
        }
    }
}

/// The TOML for a classic file read by [`classic::parse`].
pub fn to_toml(c: &Classic, source: &str) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# Converted from {source} by `exabgp migrate` (exabgp-rs {}).",
        crate::VERSION
    );
    let _ = writeln!(
        o,
        "# Every default is written out; see docs/configuration.md for each key."
    );
    if !c.comments.head.is_empty() {
        o.push_str("#\n# Comments of the original file outside neighbors, routes and processes:\n");
        comments(&mut o, &c.comments.head);
    }
    o.push('\n');
    let _ = writeln!(o, "[global]");
    let g = &c.config.global;
    let _ = writeln!(
        o,
        "router-id = {}",
        toml::Value::String(g.router_id.to_string())
    );
    let _ = writeln!(o, "local-as = {}", g.local_as);
    for (i, n) in c.config.neighbors.iter().enumerate() {
        o.push('\n');
        comments(&mut o, c.comments.neighbors.get(i).map_or(&[], |v| v));
        o.push_str(&render_neighbor(n, true));
    }
    for (i, r) in c.config.routes.iter().enumerate() {
        o.push('\n');
        comments(&mut o, c.comments.routes.get(i).map_or(&[], |v| v));
        o.push_str(&r.to_toml_string());
    }
    for (i, p) in c.config.processes.iter().enumerate() {
        o.push('\n');
        comments(&mut o, c.comments.processes.get(i).map_or(&[], |v| v));
        o.push_str(&p.to_toml_string());
    }
    o
}
