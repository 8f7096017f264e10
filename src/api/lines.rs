//! Reading newline-terminated lines with a length limit, from clients and helpers
//! alike: an over-long line is discarded up to its newline (never buffered whole),
//! bytes that are not UTF-8 are reported, and the reader carries on.

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// The longest command line accepted (64 KiB, newline excluded).
pub const MAX_LINE: usize = 64 * 1024;

/// One line read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Text(String),
    /// The line was longer than the limit; it was discarded (its length in bytes).
    TooLong(usize),
    /// The line was not UTF-8 (its length in bytes).
    NotUtf8(usize),
    /// End of input in the middle of a line: the partial line is discarded (a
    /// client that went away mid-command must not run half a command).
    Truncated(usize),
    /// End of input.
    Eof,
}

/// Read the next line (without its `\n` or `\r\n`).
pub async fn read_line<R: AsyncBufRead + Unpin>(r: &mut R, max: usize) -> std::io::Result<Line> {
    let mut buf: Vec<u8> = Vec::new();
    let mut len = 0usize;
    let mut too_long = false;
    loop {
        let avail = r.fill_buf().await?;
        if avail.is_empty() {
            if len == 0 {
                return Ok(Line::Eof);
            }
            return Ok(Line::Truncated(len));
        }
        let (chunk, used, end) = match avail.iter().position(|b| *b == b'\n') {
            Some(i) => (&avail[..i], i + 1, true),
            None => (avail, avail.len(), false),
        };
        len += chunk.len();
        if len > max {
            too_long = true;
            buf = Vec::new();
        } else {
            buf.extend_from_slice(chunk);
        }
        r.consume(used);
        if end {
            break;
        }
    }
    if too_long {
        return Ok(Line::TooLong(len));
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    match String::from_utf8(buf) {
        Ok(s) => Ok(Line::Text(s)),
        Err(_) => Ok(Line::NotUtf8(len)),
    }
}
