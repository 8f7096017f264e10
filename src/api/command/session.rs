//! `session ack enable|disable|silence` (ExaBGP's newer spelling) and the older
//! `enable-ack` / `disable-ack` / `silence-ack`: whether a helper gets the
//! `done` / `error:` line after each of its commands.
//!
//! As in ExaBGP (reactor/api/command/reactor.py `enable_ack`, `disable_ack`,
//! `silence_ack`), the setting belongs to the one helper that sent it, and:
//! - `enable` turns the lines on, and this command is answered `done`;
//! - `disable` answers this command `done`, then turns them off;
//! - `silence` turns them off at once: this command gets no answer.
//!
//! The helper's reader applies it (api/helpers.rs). The control socket always
//! terminates its answers (exabgpcli waits for them): there these commands are
//! accepted and answered `done`, and change nothing.

use crate::api::ApiError;

use super::tokens::{syntax, Tokens};
use super::ApiCommand;

/// What a `session ack` command asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckMode {
    Enable,
    Disable,
    Silence,
}

impl AckMode {
    /// `(this command's answer is terminated, later answers are)`.
    pub fn apply(self) -> (bool, bool) {
        match self {
            AckMode::Enable => (true, true),
            AckMode::Disable => (true, false),
            AckMode::Silence => (false, false),
        }
    }
}

/// After `session`: `ack enable|disable|silence`.
pub(super) fn parse_session(t: &mut Tokens) -> Result<ApiCommand, ApiError> {
    let what = t.need("'ack' after 'session'")?.to_ascii_lowercase();
    if what != "ack" {
        return Err(syntax(format!(
            "session: expected 'ack enable|disable|silence', found '{what}'"
        )));
    }
    let mode = match t
        .need("enable, disable or silence after 'session ack'")?
        .to_ascii_lowercase()
        .as_str()
    {
        "enable" => AckMode::Enable,
        "disable" => AckMode::Disable,
        "silence" => AckMode::Silence,
        other => {
            return Err(syntax(format!(
                "session ack: expected enable, disable or silence, found '{other}'"
            )))
        }
    };
    t.end()?;
    Ok(ApiCommand::Ack(mode))
}
