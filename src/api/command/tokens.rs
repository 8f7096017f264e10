//! The words of a command line and the small parsers every command family shares:
//! the token cursor, `[ list ]` values, addresses and numbers, syntax errors.

use std::net::{IpAddr, Ipv4Addr};

use crate::api::ApiError;

/// Words, with `[ ] ( )` always tokens of their own.
pub(super) fn tokenize(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for ch in line.chars() {
        if ch.is_whitespace() || matches!(ch, '[' | ']' | '(' | ')') {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            if !ch.is_whitespace() {
                out.push(ch.to_string());
            }
        } else {
            cur.push(ch);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

pub(super) struct Tokens {
    pub(super) toks: Vec<String>,
    pub(super) pos: usize,
}

impl Tokens {
    pub(super) fn next(&mut self) -> Option<String> {
        let t = self.toks.get(self.pos).cloned();
        if t.is_some() {
            self.pos += 1;
        }
        t
    }
    pub(super) fn need(&mut self, what: &str) -> Result<String, ApiError> {
        self.next()
            .ok_or_else(|| ApiError::Syntax(format!("missing {what} at the end of the line")))
    }
    pub(super) fn done(&self) -> bool {
        self.pos >= self.toks.len()
    }
    pub(super) fn rest(&self) -> String {
        self.toks[self.pos.min(self.toks.len())..].join(" ")
    }
    pub(super) fn end(&self) -> Result<(), ApiError> {
        if self.done() {
            Ok(())
        } else {
            Err(ApiError::Syntax(format!("unexpected '{}'", self.rest())))
        }
    }
}

pub(super) fn syntax(msg: impl Into<String>) -> ApiError {
    ApiError::Syntax(msg.into())
}

pub(super) fn expect_words(t: &mut Tokens, words: &[&str]) -> Result<(), ApiError> {
    for w in words {
        match t.next() {
            Some(x) if x.eq_ignore_ascii_case(w) => {}
            Some(x) => return Err(syntax(format!("expected '{w}', found '{x}'"))),
            None => return Err(syntax(format!("missing '{w}' at the end of the line"))),
        }
    }
    Ok(())
}

pub(super) fn parse_ip(s: &str) -> Result<IpAddr, ApiError> {
    s.parse()
        .map_err(|_| syntax(format!("invalid IP address '{s}'")))
}

pub(super) fn parse_ipv4(s: &str, what: &str) -> Result<Ipv4Addr, ApiError> {
    s.parse()
        .map_err(|_| syntax(format!("invalid {what} '{s}': expected an IPv4 address")))
}

pub(super) fn parse_u32(s: &str, what: &str) -> Result<u32, ApiError> {
    s.parse().map_err(|_| {
        syntax(format!(
            "invalid {what} '{s}': expected a number 0-4294967295"
        ))
    })
}

/// A value or a bracketed list of values: `X` or `[ X Y ... ]`.
pub(super) fn list(t: &mut Tokens, what: &str) -> Result<Vec<String>, ApiError> {
    let first = t.need(what)?;
    if first != "[" {
        return Ok(vec![first]);
    }
    let mut out = Vec::new();
    loop {
        match t.next() {
            Some(x) if x == "]" => return Ok(out),
            Some(x) if x == "[" => return Err(syntax(format!("nested '[' in {what}"))),
            Some(x) => out.push(x),
            None => return Err(syntax(format!("missing ']' after {what}"))),
        }
    }
}
