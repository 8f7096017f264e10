//! Reading an env file: systemd `EnvironmentFile=` lines (`KEY=VALUE`, `#`/`;`
//! comments, optional single or double quotes, backslash line continuation), an
//! optional `export ` prefix as in shell, and ExaBGP's INI form (`[exabgp.tcp]`
//! then `port = 179`, or `port: 179` as Python's ConfigParser allows) so an
//! existing `exabgp.env` keeps working.

/// One assignment found in an env file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EnvLine {
    /// The key as written, with the INI section prepended (`exabgp.tcp.port`).
    pub(crate) key: String,
    pub(crate) value: String,
    /// 1-based line of the assignment.
    pub(crate) line: usize,
}

/// Parse an env file's text. Errors are `(line, message)`.
pub(crate) fn parse_env_file(text: &str) -> (Vec<EnvLine>, Vec<(usize, String)>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut section: Option<String> = None;
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line_no = i + 1;
        // Join backslash-continued lines (outside of comments).
        let mut logical = lines[i].to_string();
        while logical.ends_with('\\')
            && !logical.trim_start().starts_with(['#', ';'])
            && i + 1 < lines.len()
        {
            logical.pop();
            i += 1;
            logical.push_str(lines[i]);
        }
        i += 1;
        let trimmed = logical.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix('[') {
            match rest.strip_suffix(']') {
                Some(name) if !name.trim().is_empty() => section = Some(name.trim().to_string()),
                _ => errors.push((
                    line_no,
                    format!("invalid section header \"{trimmed}\", expected [exabgp.SECTION]"),
                )),
            }
            continue;
        }
        let body = trimmed
            .strip_prefix("export ")
            .map_or(trimmed, str::trim_start);
        // In an INI section, ExaBGP's ConfigParser also takes `key: value`: the
        // first `=` or `:` ends the key.
        let split = match section {
            Some(_) => body.find(['=', ':']).map(|i| (&body[..i], &body[i + 1..])),
            None => body.split_once('='),
        };
        let Some((key, value)) = split else {
            errors.push((
                line_no,
                format!("invalid line \"{trimmed}\", expected KEY=VALUE"),
            ));
            continue;
        };
        let key = key.trim();
        if key.is_empty() || key.chars().any(char::is_whitespace) {
            errors.push((
                line_no,
                format!("invalid key \"{key}\", expected KEY=VALUE with a key without spaces"),
            ));
            continue;
        }
        let value = match unquote(value.trim()) {
            Ok(v) => v,
            Err(m) => {
                errors.push((line_no, m));
                continue;
            }
        };
        let key = match &section {
            Some(s) => format!("{s}.{key}"),
            None => key.to_string(),
        };
        out.push(EnvLine {
            key,
            value,
            line: line_no,
        });
    }
    (out, errors)
}

/// Remove one level of quoting: '...' literally, "..." with \" \\ \$ \` \n escapes.
fn unquote(v: &str) -> Result<String, String> {
    if let Some(inner) = v.strip_prefix('\'') {
        return match inner.strip_suffix('\'') {
            Some(s) => Ok(s.to_string()),
            None => Err(format!("unterminated quote in {v}, expected a closing '")),
        };
    }
    if let Some(inner) = v.strip_prefix('"') {
        let Some(inner) = inner
            .strip_suffix('"')
            .filter(|s| !s.ends_with('\\') || s.ends_with("\\\\"))
        else {
            return Err(format!("unterminated quote in {v}, expected a closing \""));
        };
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('n') => out.push('\n'),
                Some(c @ ('"' | '\\' | '$' | '`')) => out.push(c),
                Some(c) => {
                    out.push('\\');
                    out.push(c);
                }
                None => out.push('\\'),
            }
        }
        return Ok(out);
    }
    Ok(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::parse_env_file;

    #[test]
    fn forms() {
        let text = "# comment\n; also\n\nexabgp_tcp_port=1790\nexport exabgp.api.ack = 'false'\nA=\"x \\\"y\\\"\"\nB=one\\\ntwo\n[exabgp.log]\nlevel = DEBUG\nbad line\n";
        let (lines, errors) = parse_env_file(text);
        let got: Vec<(&str, &str, usize)> = lines
            .iter()
            .map(|l| (l.key.as_str(), l.value.as_str(), l.line))
            .collect();
        assert_eq!(
            got,
            vec![
                ("exabgp_tcp_port", "1790", 4),
                ("exabgp.api.ack", "false", 5),
                ("A", "x \"y\"", 6),
                ("B", "onetwo", 7),
                ("exabgp.log.level", "DEBUG", 10),
            ]
        );
        assert_eq!(
            errors,
            vec![(
                11,
                "invalid line \"bad line\", expected KEY=VALUE".to_string()
            )]
        );
    }

    #[test]
    fn ini_colon_form() {
        let (lines, errors) = parse_env_file(
            "exabgp_log_destination=host:x\n[exabgp.log]\ndestination: 'syslog'\nlevel = a:b\n",
        );
        let got: Vec<(&str, &str)> = lines
            .iter()
            .map(|l| (l.key.as_str(), l.value.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("exabgp_log_destination", "host:x"),
                ("exabgp.log.destination", "syslog"),
                ("exabgp.log.level", "a:b"),
            ]
        );
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn unterminated() {
        let (_, errors) = parse_env_file("A=\"abc\n");
        assert_eq!(errors.len(), 1);
    }
}
