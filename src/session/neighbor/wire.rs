//! Putting messages on the wire: encoding, counting, NOTIFICATIONs (logged and
//! published), and writes bounded by the hold time (or, with hold time 0, our
//! configured one) so a peer that stops reading is noticed.

use tokio::io::AsyncWriteExt;
use tracing::warn;

use super::{Conn, End, Flow, Neighbor};
use crate::bgp::{self, Message, Notification};
use crate::control::{Direction, EventKind, MessageCounters};

impl Neighbor {
    /// Encodes `msgs` and writes them in one write.
    pub(super) async fn send(&mut self, conn: &mut Conn, msgs: &[Message]) -> Result<(), String> {
        let mut out = Vec::new();
        for m in msgs {
            bgp::encode_message(m, &conn.opts, &mut out)
                .map_err(|e| format!("cannot encode {m:?}: {e}"))?;
            count(&mut self.sent, m);
            if let Message::Notification(n) = m {
                self.notified = Some(super::graceful::Notified {
                    code: n.code,
                    sent: true,
                });
                warn!(peer = %self.cfg.address, notification = %describe(n), "sending NOTIFICATION");
                self.emit(Direction::Send, EventKind::Notification(n.clone()));
            }
        }
        write_out(conn, &out).await
    }

    /// Sends a NOTIFICATION (best effort) and ends the session with `reason`.
    pub(super) async fn notify_and_close(
        &mut self,
        conn: &mut Conn,
        n: Notification,
        reason: String,
    ) -> Flow {
        let _ = self.send(conn, &[Message::Notification(n)]).await;
        let _ = conn.wr.shutdown().await;
        Flow::End(End::Down(reason))
    }
}

/// Writes `out` in 64 KiB chunks. The select loop (and so the Hold timer) waits
/// while we write, so the write bounds itself: each chunk must be taken by the
/// peer within `conn.write_limit` (the hold time; with hold time 0 our configured
/// hold time, else 4 minutes). A peer that stops reading is dropped after that
/// long instead of holding this neighbor's task forever; one that keeps reading
/// must take at least 64 KiB per limit.
pub(super) async fn write_out(conn: &mut Conn, out: &[u8]) -> Result<(), String> {
    let limit = conn.write_limit;
    for chunk in out.chunks(65536) {
        match tokio::time::timeout(limit, conn.wr.write_all(chunk)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(format!("write failed: {e}")),
            // Logged by the session's end ("session with X down: ...").
            Err(_) => return Err(format!("peer stopped reading for {}s", limit.as_secs())),
        }
    }
    Ok(())
}

/// Counts `m` in the sent or received counters.
pub(super) fn count(c: &mut MessageCounters, m: &Message) {
    match m {
        Message::Open(_) => c.open += 1,
        Message::Update(_) => c.update += 1,
        Message::Notification(_) => c.notification += 1,
        Message::Keepalive => c.keepalive += 1,
        Message::RouteRefresh(_) => c.route_refresh += 1,
    }
}

/// A NOTIFICATION for logs and reasons: code, subcode and any shutdown text.
pub(super) fn describe(n: &Notification) -> String {
    let mut s = format!("code {} subcode {}", n.code, n.subcode);
    if let Some(t) = n.shutdown_text() {
        // The peer's text, escaped: it reaches logs, `show neighbor` and text
        // events, where a newline in it could pose as a line of our own.
        s.push_str(&format!(" \"{}\"", t.escape_debug()));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A peer's shutdown communication is shown escaped: one line whatever it holds.
    #[test]
    fn shutdown_text_is_escaped() {
        let n = Notification::cease_shutdown(2, "bye\ndone\nerror: x");
        let d = describe(&n);
        assert!(!d.contains('\n'), "{d:?}");
        assert_eq!(d, "code 6 subcode 2 \"bye\\ndone\\nerror: x\"");
    }
}
