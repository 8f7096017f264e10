//! The watchdog and STATUS= loop: every tick, ask the daemon core how it is (a real
//! round trip through its command channel, supplied by the caller as `probe`); when
//! it answers, send WATCHDOG=1 and, if it changed, STATUS="N/M peers established,
//! R routes announced". When the core does not answer in time the watchdog is not
//! petted, so a hung event loop gets killed and restarted by systemd
//! (WatchdogSec=, Restart=on-failure) instead of sitting there looking alive.
//! SIGSTOP stops this task too, with the same result.

use std::future::Future;
use std::time::Duration;

use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::notify::{status_line, Notifier};

/// How often STATUS= is refreshed when no watchdog asks for more.
pub const STATUS_PERIOD: Duration = Duration::from_secs(5);

/// What the daemon core reports about itself: the answer to `Command::Health`.
pub use crate::control::HealthSummary as Health;

impl Health {
    pub fn status_line(&self) -> String {
        status_line(self.established, self.total, self.routes)
    }
}

/// The tick period: half of WatchdogSec (capped at [`STATUS_PERIOD`]), else
/// [`STATUS_PERIOD`].
pub fn period(notifier: &Notifier) -> Duration {
    notifier
        .watchdog_interval()
        .map_or(STATUS_PERIOD, |w| w.min(STATUS_PERIOD))
        .max(Duration::from_millis(10))
}

/// Run until `stop` is cancelled or `probe` returns None (the core is gone).
/// `probe` must go through the core's own loop (e.g. a `ShowNeighbor` request on the
/// control channel), not read shared state, or a hung core would still be petted.
pub async fn supervise<F, Fut>(notifier: Notifier, stop: CancellationToken, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<Health>>,
{
    let period = period(&notifier);
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last: Option<Health> = None;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let answer = tokio::select! {
            _ = stop.cancelled() => return,
            a = tokio::time::timeout(period, probe()) => a,
        };
        match answer {
            Ok(Some(health)) => {
                notifier.watchdog();
                if last != Some(health) {
                    notifier.status(&health.status_line());
                    last = Some(health);
                }
            }
            Ok(None) => return,
            Err(_) => tracing::warn!(
                "the daemon core did not answer within {period:?}; not petting the watchdog"
            ),
        }
    }
}
