//! Getting a connection (Idle -> Active -> Connect): the ConnectRetry timer with
//! exponential backoff and jitter, process-wide pacing of first attempts, and
//! taking an incoming connection the daemon hands over meanwhile.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tracing::debug;

use super::{Neighbor, NeighborCommand};
use crate::control::PeerState;
use crate::session::tcp;

/// How long one TCP connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// First connection attempts start at most one per this interval (see `retry_delay`).
const FIRST_CONNECT_PACE: Duration = Duration::from_millis(2);
/// Cap of the ConnectRetry backoff.
const MAX_RETRY: Duration = Duration::from_secs(60);

/// How long to wait for the next free first-connect slot (and take it).
fn first_connect_slot() -> Duration {
    static NEXT: std::sync::Mutex<Option<Instant>> = std::sync::Mutex::new(None);
    match NEXT.lock() {
        Ok(mut next) => take_slot(&mut next, Instant::now()),
        Err(_) => Duration::ZERO,
    }
}

/// The pacing rule: the slot is the later of now and the previous slot plus
/// [`FIRST_CONNECT_PACE`].
fn take_slot(next: &mut Option<Instant>, now: Instant) -> Duration {
    let slot = next.map_or(now, |n| n.max(now));
    *next = Some(slot + FIRST_CONNECT_PACE);
    slot - now
}

/// A random number in 0.0..1.0 from the process's randomly seeded hasher: enough
/// for timer jitter, no RNG dependency.
fn jitter_unit() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

impl Neighbor {
    /// The backoff without jitter: 0 for the first attempt, then 1, 2, 4 ... s,
    /// capped at [`MAX_RETRY`].
    fn retry_base(&self) -> Duration {
        if self.failures == 0 {
            return Duration::ZERO;
        }
        let secs = 1u64 << (self.failures - 1).min(16);
        Duration::from_secs(secs).min(MAX_RETRY)
    }

    /// The delay before the next connection attempt. Retries are jittered (RFC 4271
    /// §10: timers are multiplied by a random factor in 0.75..=1.0) so that neighbors
    /// do not retry in lock-step. First attempts are paced process-wide at one per
    /// [`FIRST_CONNECT_PACE`]: a lone neighbor connects at once, while hundreds
    /// starting together do not overflow a peer's listen backlog (BIRD's is 8) and
    /// sit in TCP SYN retries.
    fn retry_delay(&self) -> Duration {
        if self.failures == 0 {
            return first_connect_slot();
        }
        self.retry_base().mul_f64(0.75 + 0.25 * jitter_unit())
    }

    /// A command while there is no connection (Active or Connect). Some(end): what
    /// `acquire` returns now — an incoming connection (event 17,
    /// TcpConnectionConfirmed), or None to stop the task.
    fn unconnected(&mut self, cmd: Option<NeighborCommand>) -> Option<Option<(TcpStream, bool)>> {
        match cmd {
            None => Some(None),
            Some(NeighborCommand::Incoming(s)) => Some(Some((s, false))),
            Some(c) => self.command_offline(c).map(|done| {
                let _ = done.send(());
                None
            }),
        }
    }

    /// Idle -> Active/Connect until there is a TCP connection. None: stop the task.
    pub(super) async fn acquire(&mut self) -> Option<(TcpStream, bool)> {
        loop {
            // Active: the ConnectRetry timer runs; an incoming connection is taken.
            self.set_state(PeerState::Active);
            // A passive peer never connects: it takes no first-connect slot (one it
            // took would only delay the active neighbors starting with it).
            let delay = if self.cfg.passive {
                Duration::MAX
            } else {
                self.retry_delay()
            };
            let timer = tokio::time::sleep(delay);
            tokio::pin!(timer);
            loop {
                let stale_at = self.stale_deadline();
                tokio::select! {
                    // Graceful restart: the peer did not come back in its restart time.
                    _ = super::sleep_until_std(stale_at), if stale_at.is_some() => self.stale_expired(),
                    // Event 9: ConnectRetryTimer_Expires (never for a passive peer).
                    _ = &mut timer, if !self.cfg.passive => break,
                    cmd = self.rx.recv() => {
                        if let Some(end) = self.unconnected(cmd) {
                            return end;
                        }
                    }
                }
            }
            // Connect: one attempt, still taking an incoming connection meanwhile.
            self.set_state(PeerState::Connect);
            let peer = SocketAddr::new(self.cfg.address, self.cfg.port);
            let md5 = self.cfg.md5_password.clone();
            let local = self.cfg.local_address;
            let attempt = tokio::time::timeout(CONNECT_TIMEOUT, async move {
                tcp::connect(peer, local, md5.as_deref()).await
            });
            tokio::pin!(attempt);
            loop {
                let stale_at = self.stale_deadline();
                tokio::select! {
                    _ = super::sleep_until_std(stale_at), if stale_at.is_some() => self.stale_expired(),
                    res = &mut attempt => {
                        match res {
                            // Event 16: Tcp_CR_Acked.
                            Ok(Ok(s)) => return Some((s, true)),
                            // Event 18: TcpConnectionFails.
                            Ok(Err(e)) => {
                                self.last_error = Some(format!("connect to {peer} failed: {e}"));
                                debug!(peer = %self.cfg.address, error = %e, "connect failed");
                            }
                            Err(_) => self.last_error = Some(format!("connect to {peer} timed out")),
                        }
                        self.failures = self.failures.saturating_add(1);
                        break;
                    }
                    cmd = self.rx.recv() => {
                        if let Some(end) = self.unconnected(cmd) {
                            return end;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_retry_backs_off_exponentially_with_a_cap() {
        let cfg = super::super::test_config();
        let (events, _) = crate::control::event_channel(1, 1 << 20);
        let (_tx, rx) = super::super::inbox(1);
        let mut n = Neighbor::new(cfg, &[], 0, events, rx, super::super::test_brief());
        let mut delays = Vec::new();
        for f in [1, 2, 3, 6, 7, 8, 1000] {
            n.failures = f;
            delays.push(n.retry_base().as_secs());
            // Jittered into [0.75, 1.0] of the base.
            for _ in 0..50 {
                let d = n.retry_delay();
                assert!(
                    d <= n.retry_base() && d >= n.retry_base().mul_f64(0.75),
                    "{d:?}"
                );
            }
        }
        n.failures = 0;
        delays.insert(0, n.retry_base().as_secs());
        // First attempts are paced: 10 at the same instant take slots
        // FIRST_CONNECT_PACE apart; once the slots are in the past, no wait.
        let t0 = Instant::now();
        let mut next = None;
        let firsts: Vec<Duration> = (0..10).map(|_| take_slot(&mut next, t0)).collect();
        let expect: Vec<Duration> = (0..10).map(|i| FIRST_CONNECT_PACE * i).collect();
        assert_eq!(firsts, expect);
        assert_eq!(
            take_slot(&mut next, t0 + Duration::from_secs(1)),
            Duration::ZERO
        );
        assert!(n.retry_delay() <= Duration::from_secs(1));
        assert_eq!(delays, vec![0, 1, 2, 4, 32, 60, 60, 60]);
        // Not a constant: 50 draws are not all equal.
        n.failures = 6;
        let draws: std::collections::HashSet<Duration> = (0..50).map(|_| n.retry_delay()).collect();
        assert!(draws.len() > 1);
    }
}
