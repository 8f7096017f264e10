//! Message framing (RFC 4271 §4.1): the streaming decoder and the encoder.
//!
//! ```text
//! +---------------------------------------------------------------+
//! |                     Marker (16 octets of 0xFF)                |
//! +-------------------------------+---------------+---------------+
//! |          Length (2)           |    Type (1)   |  body ...
//! +-------------------------------+---------------+
//! ```

use super::error::{DecodeError, EncodeError};
use super::iana::*;
use super::types::{CodecOptions, Family, Message};
use super::{notification, open, refresh, update};

/// The smallest length each message type may have (RFC 4271 §4, RFC 2918 §3).
fn min_len(msg_type: u8) -> usize {
    match msg_type {
        MSG_OPEN => HEADER_LEN + 10,
        MSG_UPDATE => HEADER_LEN + 4,
        MSG_NOTIFICATION => HEADER_LEN + 2,
        _ => HEADER_LEN,
    }
}

/// Decodes the first message in `buf`.
///
/// `Ok(None)`: not a whole message yet, read more. `Ok(Some((msg, n)))`: a message
/// and the number of bytes it took. `Err(e)`: send `e.reply()` (if any) and close.
/// Header errors are reported as soon as the header bytes are in, without
/// waiting for the body.
pub fn decode_message(
    buf: &[u8],
    opts: &CodecOptions,
) -> Result<Option<(Message, usize)>, DecodeError> {
    decode(buf, opts, None)
}

/// [`decode_message`] on an Established session that negotiated `families`
/// (RFC 4760 §8): the routes of an MP_REACH_NLRI / MP_UNREACH_NLRI of any other
/// family are not parsed (a malformed rule of a family the peer may not send
/// must not turn the rest of the UPDATE into a withdraw, RFC 7606 §2); the
/// attribute's family is listed in `PathAttributes::unnegotiated` instead. An
/// empty MP_UNREACH_NLRI (End-of-RIB) is kept whatever its family.
pub fn decode_message_negotiated(
    buf: &[u8],
    opts: &CodecOptions,
    families: &[Family],
) -> Result<Option<(Message, usize)>, DecodeError> {
    decode(buf, opts, Some(families))
}

/// `families`: None parses every family the codec knows (`exabgp decode`, tests).
fn decode(
    buf: &[u8],
    opts: &CodecOptions,
    families: Option<&[Family]>,
) -> Result<Option<(Message, usize)>, DecodeError> {
    let marker = &buf[..buf.len().min(16)];
    if marker.iter().any(|&b| b != 0xFF) {
        return Err(DecodeError::ConnectionNotSynchronized);
    }
    let Some(&[l1, l2, msg_type]) = buf.get(16..HEADER_LEN) else {
        return Ok(None);
    };
    let length = u16::from_be_bytes([l1, l2]);
    let len = usize::from(length);
    // A NOTIFICATION with a bad length is an error in a NOTIFICATION (RFC 4271
    // §6.4): told apart so that it is not answered.
    if msg_type == MSG_NOTIFICATION
        && (len < min_len(MSG_NOTIFICATION) || len > opts.max_message_len())
    {
        return Err(DecodeError::MalformedNotification { length });
    }
    if len < HEADER_LEN || len > opts.max_message_len() {
        return Err(DecodeError::BadMessageLength { length });
    }
    if !(MSG_OPEN..=MSG_ROUTE_REFRESH).contains(&msg_type) {
        return Err(DecodeError::BadMessageType { msg_type });
    }
    if len < min_len(msg_type) || (msg_type == MSG_KEEPALIVE && len != HEADER_LEN) {
        return Err(DecodeError::BadMessageLength { length });
    }
    let Some(message) = buf.get(..len) else {
        return Ok(None);
    };
    let body = &message[HEADER_LEN..];
    let msg = match msg_type {
        MSG_OPEN => Message::Open(open::decode(body)?),
        MSG_UPDATE => Message::Update(update::decode(body, opts, families)?),
        MSG_NOTIFICATION => Message::Notification(
            notification::decode(body).ok_or(DecodeError::MalformedNotification { length })?,
        ),
        MSG_KEEPALIVE => Message::Keepalive,
        _ => Message::RouteRefresh(refresh::decode(message, body)?),
    };
    Ok(Some((msg, len)))
}

/// Appends `msg`, header included, to `out`. On error `out` is left as it was.
pub fn encode_message(
    msg: &Message,
    opts: &CodecOptions,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let start = out.len();
    let r = encode_inner(msg, opts, out, start);
    if r.is_err() {
        out.truncate(start);
    }
    r
}

fn encode_inner(
    msg: &Message,
    opts: &CodecOptions,
    out: &mut Vec<u8>,
    start: usize,
) -> Result<(), EncodeError> {
    out.reserve(match msg {
        Message::Update(_) => 256,
        _ => 64,
    });
    out.extend_from_slice(&[0xFF; 16]);
    out.extend_from_slice(&[0, 0, 0]);
    let msg_type = match msg {
        Message::Open(o) => {
            open::encode(o, out)?;
            MSG_OPEN
        }
        Message::Update(u) => {
            update::encode(u, opts, out)?;
            MSG_UPDATE
        }
        Message::Notification(n) => {
            notification::encode(n, out);
            MSG_NOTIFICATION
        }
        Message::Keepalive => MSG_KEEPALIVE,
        Message::RouteRefresh(r) => {
            refresh::encode(r, out);
            MSG_ROUTE_REFRESH
        }
    };
    finish_header(out, start, msg_type, opts)
}

/// Fills in length and type of the message that starts at `start`.
pub(crate) fn finish_header(
    out: &mut [u8],
    start: usize,
    msg_type: u8,
    opts: &CodecOptions,
) -> Result<(), EncodeError> {
    let len = out.len() - start;
    let max = opts.max_message_len();
    if len > max {
        return Err(EncodeError::TooLong { len, max });
    }
    if let Some(h) = out.get_mut(start + 16..start + HEADER_LEN) {
        h[..2].copy_from_slice(&(len as u16).to_be_bytes());
        h[2] = msg_type;
    }
    Ok(())
}
