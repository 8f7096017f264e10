//! NOTIFICATION message body (RFC 4271 §4.5) and the shutdown communication of
//! RFC 8203 / RFC 9003.
//!
//! ```text
//! +---------------+---------------+---------------------+
//! | Error code 1  | Error subcode | Data (variable)     |
//! +---------------+---------------+---------------------+
//! Cease / Administrative Shutdown or Reset data (RFC 9003):
//! +--------+-----------------------------------+
//! | Length | Shutdown Communication (UTF-8)... |
//! +--------+-----------------------------------+
//! ```

use super::iana::{CEASE_ADMIN_RESET, CEASE_ADMIN_SHUTDOWN, ERR_CEASE};
use super::types::Notification;

/// RFC 9003 §2: the communication is at most 255 octets.
pub const SHUTDOWN_TEXT_MAX: usize = 255;

impl Notification {
    /// A Cease NOTIFICATION with a shutdown communication (RFC 8203 / RFC 9003).
    /// `subcode` is normally [`CEASE_ADMIN_SHUTDOWN`] or [`CEASE_ADMIN_RESET`]. The
    /// text is cut to 255 octets on a character boundary; an empty text sends no
    /// Data at all.
    pub fn cease_shutdown(subcode: u8, text: &str) -> Notification {
        let mut end = text.len().min(SHUTDOWN_TEXT_MAX);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let text = &text.as_bytes()[..end];
        let mut data = Vec::with_capacity(text.len() + 1);
        if !text.is_empty() {
            data.push(text.len() as u8);
            data.extend_from_slice(text);
        }
        Notification {
            code: ERR_CEASE,
            subcode,
            data,
        }
    }

    /// The shutdown communication of a Cease / Administrative Shutdown or Reset,
    /// if present and well-formed (a length octet that fits, valid UTF-8).
    pub fn shutdown_text(&self) -> Option<String> {
        if self.code != ERR_CEASE
            || (self.subcode != CEASE_ADMIN_SHUTDOWN && self.subcode != CEASE_ADMIN_RESET)
        {
            return None;
        }
        let (&len, rest) = self.data.split_first()?;
        let text = rest.get(..usize::from(len))?;
        std::str::from_utf8(text).ok().map(str::to_string)
    }
}

/// None when the body is shorter than code and subcode.
pub(crate) fn decode(body: &[u8]) -> Option<Notification> {
    match body {
        [code, subcode, data @ ..] => Some(Notification {
            code: *code,
            subcode: *subcode,
            data: data.to_vec(),
        }),
        _ => None,
    }
}

pub(crate) fn encode(n: &Notification, out: &mut Vec<u8>) {
    out.push(n.code);
    out.push(n.subcode);
    out.extend_from_slice(&n.data);
}
