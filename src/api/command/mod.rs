//! The text command language (ExaBGP's syntax), parsed into [`ApiCommand`]s.
//!
//! One line is one command. Blank lines and `#` comments are no-ops. A trailing
//! `json` word asks for JSON output (`show ...`, `version`). Examples:
//!
//! ```text
//! announce route 203.0.113.7/32 next-hop self community [65000:1 no-export] med 10
//! neighbor 192.0.2.254 withdraw route 203.0.113.7/32
//! neighbor 192.0.2.254 local-as 65001 announce attributes next-hop 192.0.2.1 nlri 10.0.0.0/24 10.0.1.0/24
//! peer 192.0.2.254 announce route 203.0.113.7/32 next-hop self
//! peer * withdraw route 203.0.113.7/32
//! session ack disable
//! show neighbor summary
//! teardown 192.0.2.254 4
//! ```
//!
//! One file per command family, this one dispatching on the first word:
//! - `route`: `announce` / `withdraw` and the path attributes;
//! - `neighbor`: the `neighbor A[,B] ...` scope (also ExaBGP's newer
//!   `peer A ...` / `peer * ...`), `teardown`, `flush`, `clear`;
//! - `session`: `session ack enable|disable|silence` and the older
//!   `enable-ack` / `disable-ack` / `silence-ack`;
//! - `show`: `show neighbor`, `show adj-rib`;
//! - `help`: the [`HELP`] text;
//! - `tokens`: the word cursor and the value parsers the families share.
//!
//! Daemon operations without arguments (`shutdown`, `reload`, `restart`,
//! `version`, `help`) are parsed here.

mod flow;
mod help;
mod neighbor;
mod route;
mod session;
mod show;
mod tokens;

use crate::control::Command;

use super::ApiError;
use tokens::{tokenize, Tokens};

pub use help::HELP;
pub use session::AckMode;

/// A parsed command line.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiCommand {
    /// A blank line or a comment.
    Nop,
    /// One command for the daemon core.
    Control(Command),
    /// Several commands, run in order, stopping at the first error
    /// (`clear adj-rib` without a direction = in, then out).
    Batch(Vec<Command>),
    /// Re-read the configuration file and apply it.
    Reload,
    /// Re-read the configuration, apply it, then restart every session.
    Restart,
    Version,
    Help,
    /// `show metrics`: the Prometheus exposition text, as the HTTP endpoint gives it.
    Metrics,
    /// `session ack ...` / `*-ack`: whether this helper gets `done` / `error:`
    /// lines from now on (applied by the helper's reader, see [`AckMode`]).
    Ack(AckMode),
}

/// A command with how its answer should look.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub command: ApiCommand,
    /// Answer `show`/`version` in JSON (the `json` keyword).
    pub json: bool,
}

/// Parse one line; see the module docs for the language.
pub fn parse_command(line: &str) -> Result<ApiCommand, ApiError> {
    parse_request(line).map(|r| r.command)
}

/// Parse one line, keeping the `json` keyword.
pub fn parse_request(line: &str) -> Result<Request, ApiError> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(Request {
            command: ApiCommand::Nop,
            json: false,
        });
    }
    let mut tokens = tokenize(line);
    let mut json = false;
    if tokens.len() > 1 && tokens.last().map(String::as_str) == Some("json") {
        tokens.pop();
        json = true;
    }
    let mut t = Tokens {
        toks: tokens,
        pos: 0,
    };
    let command = parse_tokens(&mut t)?;
    Ok(Request { command, json })
}

fn parse_tokens(t: &mut Tokens) -> Result<ApiCommand, ApiError> {
    let first = t.next().unwrap_or_default().to_ascii_lowercase();
    match first.as_str() {
        "neighbor" | "neighbors" | "peer" | "peers" => neighbor::parse_scoped(t),
        "session" => session::parse_session(t),
        "enable-ack" => bare(t, ApiCommand::Ack(AckMode::Enable)),
        "disable-ack" => bare(t, ApiCommand::Ack(AckMode::Disable)),
        "silence-ack" => bare(t, ApiCommand::Ack(AckMode::Silence)),
        "announce" => route::parse_announce(t, None),
        "withdraw" => route::parse_withdraw(t, None),
        "show" => show::parse_show(t),
        "flush" => neighbor::parse_flush(t, None),
        "clear" => neighbor::parse_clear(t, None),
        "teardown" => neighbor::parse_teardown(t),
        "shutdown" => bare(t, ApiCommand::Control(Command::Shutdown)),
        "reload" => bare(t, ApiCommand::Reload),
        "restart" => match t.next().map(|w| w.to_ascii_lowercase()).as_deref() {
            None => Ok(ApiCommand::Restart),
            Some("--hitless" | "hitless") => bare(t, ApiCommand::Control(Command::RestartHitless)),
            Some(other) => Err(ApiError::Unknown(format!("restart {other}"))),
        },
        "version" => bare(t, ApiCommand::Version),
        "help" => bare(t, ApiCommand::Help),
        other => Err(ApiError::Unknown(other.to_string())),
    }
}

fn bare(t: &Tokens, c: ApiCommand) -> Result<ApiCommand, ApiError> {
    t.end()?;
    Ok(c)
}
