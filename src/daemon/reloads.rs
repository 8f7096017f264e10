//! SIGHUP reloads: RELOADING=1, re-read and validate the file, apply the
//! difference, READY=1 (the same path as the `reload` command).
//!
//! - One reload at a time. A SIGHUP while one runs is remembered, not lost: the
//!   file may have changed again after the running reload read it, so one more
//!   reload runs when it ends (however many SIGHUPs came meanwhile: one).
//! - A reload whose outcome the core had not given after the patience
//!   ([`api::RELOAD_PATIENCE`] reply timeouts) leaves the STATUS= note "last reload
//!   still in progress, not confirmed" and hands back the core's [`api::LateReply`]:
//!   the server waits for it and, when it lands, clears the note (applied) or
//!   replaces it (refused), logs the outcome and sends a fresh STATUS=. A newer
//!   reload supersedes it (the core answers in order, the newer one last).

use std::path::Path;

use tracing::{error, info, warn};

use super::signal_source::SignalSource;
use crate::api;
use crate::system::logging;
use crate::system::notify::Notifier;
use crate::system::signals::Signal;

/// The STATUS= note while a reload's outcome is unknown.
pub(super) const NOTE_PENDING: &str = "last reload still in progress, not confirmed";
/// The STATUS= note after a refused reload.
pub(super) const NOTE_REJECTED: &str = "last reload rejected, old config running";

/// How a series of reloads ended.
#[derive(Debug)]
pub(super) enum Settled {
    /// A stop signal came meanwhile: the daemon must stop.
    Stop,
    /// The reloads are over; the last one's late answer, if it left one.
    Done(Option<api::LateReply>),
}

/// Runs a reload, then one more while SIGHUPs came during the last one; signals
/// are read meanwhile, so SIGTERM does not wait for a slow reload.
pub(super) async fn reload_while_asked(
    path: &Path,
    ctx: &api::ApiContext,
    notifier: &Notifier,
    signals: &mut impl SignalSource,
) -> Settled {
    loop {
        let r = reload(path, ctx, notifier);
        tokio::pin!(r);
        let mut again = false;
        let late = loop {
            tokio::select! {
                late = &mut r => break late,
                sig = signals.next() => match sig {
                    Signal::Terminate | Signal::Interrupt => return Settled::Stop,
                    Signal::Reload => {
                        if !again {
                            info!("SIGHUP during a reload: one more reload will run when this one ends");
                        }
                        again = true;
                    }
                },
            }
        };
        if !again {
            return Settled::Done(late);
        }
        info!("reloading again, for the SIGHUP received during the last reload");
    }
}

/// One reload; the core's late answer when its outcome is still pending.
pub(super) async fn reload(
    path: &Path,
    ctx: &api::ApiContext,
    notifier: &Notifier,
) -> Option<api::LateReply> {
    notifier.reloading("reloading configuration");
    let (outcome, late) = api::reload_and_apply_tracked(ctx, |waited| {
        warn!(
            config = %path.display(),
            "reload still in progress: the new configuration was handed to the core {waited} s ago and is not applied yet; the outcome will be logged when it lands"
        );
        notifier.status(&format!(
            "reloading: new configuration not applied yet after {waited} s"
        ));
    })
    .await;
    match outcome {
        Ok(_) => {
            notifier.set_note(None);
            info!(
                MESSAGE_ID = logging::MSG_CONFIG_RELOADED,
                config = %path.display(),
                "configuration reloaded"
            );
        }
        Err(e @ api::ReloadError::Pending(_)) => {
            // Never "rejected": it may well be applied yet (see `landed`).
            notifier.set_note(Some(NOTE_PENDING.to_string()));
            warn!(config = %path.display(), "{e}");
        }
        Err(api::ReloadError::Rejected(e) | api::ReloadError::Apply(e)) => {
            notifier.set_note(Some(NOTE_REJECTED.to_string()));
            error!(
                MESSAGE_ID = logging::MSG_CONFIG_REJECTED,
                config = %path.display(),
                "configuration rejected, the running one stays in place: {e}"
            );
        }
    }
    let status = super::probe::health(ctx.clone())
        .await
        .unwrap_or_default()
        .status_line();
    notifier.ready(&status);
    late
}

/// The core's late answer to a pending reload landed: the note is cleared or
/// replaced, the outcome logged, STATUS= sent again.
pub(super) async fn landed(
    outcome: Result<(), api::ReloadError>,
    path: &Path,
    ctx: &api::ApiContext,
    notifier: &Notifier,
) {
    match outcome {
        Ok(()) => {
            notifier.set_note(None);
            info!(
                MESSAGE_ID = logging::MSG_CONFIG_RELOADED,
                config = %path.display(),
                "configuration reloaded (the core confirmed it late)"
            );
        }
        Err(e) => {
            notifier.set_note(Some(NOTE_REJECTED.to_string()));
            error!(
                MESSAGE_ID = logging::MSG_CONFIG_REJECTED,
                config = %path.display(),
                "configuration rejected (the core answered late), the running one stays in place: {e}"
            );
        }
    }
    let status = super::probe::health(ctx.clone())
        .await
        .unwrap_or_default()
        .status_line();
    notifier.status(&status);
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use tokio::sync::mpsc;

    use super::*;
    use crate::control::{Command, ControlReply, ControlRequest, HealthSummary};

    const CONFIG: &str = "[global]\nrouter-id = \"192.0.2.1\"\nlocal-as = 65001\n\n[[neighbor]]\naddress = \"192.0.2.200\"\npeer-as = 65200\npassive = true\n";

    /// A stand-in core on the real control channel: answers Health at once and
    /// ApplyConfig with what `answer` says after `delay` (None: keeps it
    /// unanswered, the sender handed out on `held`). Counts the ApplyConfigs.
    fn core(
        delay: Duration,
        answer: Option<ControlReply>,
    ) -> (
        api::ApiContext,
        Arc<AtomicU32>,
        mpsc::UnboundedReceiver<tokio::sync::oneshot::Sender<ControlReply>>,
    ) {
        let (tx, mut rx) = mpsc::channel::<ControlRequest>(8);
        let (held_tx, held) = mpsc::unbounded_channel();
        let applied = Arc::new(AtomicU32::new(0));
        let count = Arc::clone(&applied);
        tokio::spawn(async move {
            while let Some(req) = rx.recv().await {
                match req.command {
                    Command::Health => {
                        let _ = req
                            .reply
                            .send(ControlReply::Health(HealthSummary::default()));
                    }
                    Command::ApplyConfig(_) => {
                        count.fetch_add(1, Ordering::SeqCst);
                        match answer.clone() {
                            Some(a) => {
                                tokio::time::sleep(delay).await;
                                let _ = req.reply.send(a);
                            }
                            None => {
                                let _ = held_tx.send(req.reply);
                            }
                        }
                    }
                    _ => {
                        let _ = req.reply.send(ControlReply::Done);
                    }
                }
            }
        });
        let reloader: api::Reloader =
            Arc::new(|| crate::config::parse_str(CONFIG, "t.toml").map_err(|e| e.to_string()));
        let mut ctx = api::ApiContext::new(tx, Some(reloader));
        ctx.reply_timeout = Duration::from_millis(100);
        (ctx, applied, held)
    }

    /// A reload left pending keeps the core's answer: when it lands (applied) the
    /// "still in progress" note goes; a late refusal replaces it.
    #[tokio::test(start_paused = true)]
    async fn a_late_answer_clears_or_replaces_the_pending_note() {
        let path = Path::new("t.toml");
        for (late_answer, note_after) in [
            (ControlReply::Done, None),
            (
                ControlReply::Error("no".into()),
                Some(NOTE_REJECTED.to_string()),
            ),
        ] {
            let (ctx, _, mut held) = core(Duration::ZERO, None);
            let notifier = Notifier::disabled();
            let late = reload(path, &ctx, &notifier).await;
            assert_eq!(notifier.note().as_deref(), Some(NOTE_PENDING));
            let mut late = late.expect("the late answer is kept");
            let reply = held.recv().await.expect("the core holds the ApplyConfig");
            let _ = reply.send(late_answer);
            let outcome = late.outcome().await;
            landed(outcome, path, &ctx, &notifier).await;
            assert_eq!(notifier.note(), note_after);
        }
    }

    /// SIGHUPs during a reload give one more reload (not none, not one each).
    #[tokio::test(start_paused = true)]
    async fn a_sighup_during_a_reload_runs_one_more() {
        let path = Path::new("t.toml");
        let (ctx, applied, _held) = core(Duration::from_millis(250), Some(ControlReply::Done));
        let notifier = Notifier::disabled();
        let (sig_tx, mut signals) = mpsc::unbounded_channel();
        for _ in 0..3 {
            sig_tx.send(Signal::Reload).unwrap();
        }
        let r = reload_while_asked(path, &ctx, &notifier, &mut signals).await;
        assert!(matches!(r, Settled::Done(None)), "{r:?}");
        assert_eq!(applied.load(Ordering::SeqCst), 2);
        assert_eq!(notifier.note(), None);
        // No SIGHUP meanwhile: one reload.
        let r = reload_while_asked(path, &ctx, &notifier, &mut signals).await;
        assert!(matches!(r, Settled::Done(None)), "{r:?}");
        assert_eq!(applied.load(Ordering::SeqCst), 3);
        // SIGTERM during a reload stops at once.
        sig_tx.send(Signal::Terminate).unwrap();
        let r = reload_while_asked(path, &ctx, &notifier, &mut signals).await;
        assert!(matches!(r, Settled::Stop), "{r:?}");
    }
}
