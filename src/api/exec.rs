//! Running a parsed command: send it to the daemon core and shape the answer.
//! Shared by the control socket and the helper processes.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::bgp::iana::CEASE_ADMIN_RESET;
use crate::config::Config;
use crate::control::{Command, ControlReply, ControlRequest, RibDirection, ShowDetail};

use super::command::{ApiCommand, Request, HELP};
use super::events::API_VERSION;
use super::jsonw::Obj;
use super::render;

/// Re-reads and validates the configuration file for `reload` / `restart`
/// (provided by main, which knows the path). Runs on a blocking thread.
pub type Reloader = Arc<dyn Fn() -> Result<Config, String> + Send + Sync>;

/// Why the process a restart starts next would not start (its configuration
/// or env file does not load), or None. Asked before `restart --hitless` hands
/// the sessions over. Runs on a blocking thread.
pub type RestartCheck = Arc<dyn Fn() -> Option<String> + Send + Sync>;

/// What a command needs to run.
#[derive(Clone)]
pub struct ApiContext {
    /// The daemon core's command channel.
    pub control: mpsc::Sender<ControlRequest>,
    /// `reload` / `restart`; None: those commands answer an error.
    pub reloader: Option<Reloader>,
    /// Checked before `restart --hitless`; None: not checked.
    pub restart_check: Option<RestartCheck>,
    /// How long to wait for the daemon's answer before giving up.
    pub reply_timeout: Duration,
}

impl ApiContext {
    pub fn new(control: mpsc::Sender<ControlRequest>, reloader: Option<Reloader>) -> ApiContext {
        ApiContext {
            control,
            reloader,
            restart_check: None,
            reply_timeout: Duration::from_secs(60),
        }
    }

    /// `restart --hitless` first asks `check` whether the next process would start.
    pub fn with_restart_check(mut self, check: RestartCheck) -> ApiContext {
        self.restart_check = Some(check);
        self
    }
}

/// The answer to one command: output lines, then success or the reason of failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub lines: Vec<String>,
    pub result: Result<(), String>,
}

impl Answer {
    pub fn done() -> Answer {
        Answer {
            lines: Vec::new(),
            result: Ok(()),
        }
    }
    pub fn error(reason: impl Into<String>) -> Answer {
        Answer {
            lines: Vec::new(),
            result: Err(reason.into()),
        }
    }
    /// The final line: `done` or `error: REASON` (one line).
    pub fn terminator(&self) -> String {
        match &self.result {
            Ok(()) => "done".to_string(),
            Err(e) => format!("error: {}", e.replace(['\n', '\r'], " ")),
        }
    }

    /// The answer as written to a client or a helper: each output line (split
    /// again at any CR/LF it carries, which may come from a peer, e.g. a shutdown
    /// message) with a leading space when it would read as a terminator, then the
    /// terminator when `terminate`. Nothing in the output can end the answer early.
    pub fn to_text(&self, terminate: bool) -> String {
        let mut out = String::new();
        for line in &self.lines {
            for piece in line.split(['\n', '\r']) {
                if piece == "done" || piece.starts_with("error:") {
                    out.push(' ');
                }
                out.push_str(piece);
                out.push('\n');
            }
        }
        if terminate {
            out.push_str(&self.terminator());
            out.push('\n');
        }
        out
    }
}

/// Send one command to the daemon and wait for its reply.
pub async fn send(ctx: &ApiContext, command: Command) -> Result<ControlReply, String> {
    let (tx, rx) = oneshot::channel();
    ctx.control
        .send(ControlRequest { command, reply: tx })
        .await
        .map_err(|_| "the daemon is shutting down".to_string())?;
    match tokio::time::timeout(ctx.reply_timeout, rx).await {
        Ok(Ok(reply)) => Ok(reply),
        Ok(Err(_)) => Err("the daemon dropped the command without answering".to_string()),
        Err(_) => Err(format!(
            "no answer from the daemon within {} s (the command is still queued and may yet be applied)",
            ctx.reply_timeout.as_secs()
        )),
    }
}

fn answer_from(reply: ControlReply, json: bool, detail: ShowDetail, dir: RibDirection) -> Answer {
    let lines = render::reply_lines(&reply, json, detail, dir);
    let result = match reply {
        ControlReply::Error(e) => Err(e),
        _ => Ok(()),
    };
    Answer { lines, result }
}

async fn reload(ctx: &ApiContext) -> Result<Config, String> {
    let Some(r) = ctx.reloader.clone() else {
        return Err(
            "reload is not available: the daemon was started without a configuration file".into(),
        );
    };
    match tokio::task::spawn_blocking(move || r()).await {
        Ok(res) => res,
        Err(e) => Err(format!("reading the configuration failed: {e}")),
    }
}

/// Why a reload did not (or may not yet have) changed the running configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReloadError {
    /// The file could not be read or does not validate (file:line:col text).
    #[error("configuration not reloaded, the running one stays: {0}")]
    Rejected(String),
    /// The daemon core refused the new configuration, or dropped it unanswered.
    #[error("{0}")]
    Apply(String),
    /// The new configuration was handed to the core, which had not answered after
    /// [`RELOAD_PATIENCE`] reply timeouts: it may still be applied (the core logs
    /// "configuration applied" when it is). Never reported as rejected.
    #[error("reload still in progress: the daemon core has not answered within {0} s; the new configuration may still be applied")]
    Pending(u64),
}

/// How many reply timeouts a reload waits for the core's answer. The core applies
/// a configuration in bounded time (neighbors stop together, each within its grace),
/// so a late answer means a busy core, not a refusal: wait for the real outcome.
pub const RELOAD_PATIENCE: u32 = 10;

/// Re-read the configuration file (off the runtime threads) and apply it; on
/// success, the addresses of the neighbors of the new configuration. Used by the
/// `reload`/`restart` commands and by SIGHUP.
pub async fn reload_and_apply(ctx: &ApiContext) -> Result<Vec<std::net::IpAddr>, ReloadError> {
    reload_and_apply_with(ctx, |_| {}).await
}

/// [`reload_and_apply`], calling `still_waiting(seconds waited)` each time a reply
/// timeout passes without the core's answer (SIGHUP logs "reload still in progress"
/// and says so in STATUS=). The outcome returned is the one the core gives, however
/// late, up to [`RELOAD_PATIENCE`] timeouts; after that [`ReloadError::Pending`].
pub async fn reload_and_apply_with(
    ctx: &ApiContext,
    still_waiting: impl FnMut(u64),
) -> Result<Vec<std::net::IpAddr>, ReloadError> {
    reload_and_apply_tracked(ctx, still_waiting).await.0
}

/// The core's answer to a reload that was still pending ([`ReloadError::Pending`])
/// when the reload stopped waiting: whoever keeps it learns the real outcome
/// when it lands (SIGHUP then clears or replaces its STATUS= note).
#[derive(Debug)]
pub struct LateReply {
    rx: oneshot::Receiver<ControlReply>,
}

impl LateReply {
    /// Waits, without bound, for the core's answer: Ok when the configuration was
    /// applied. Cancel-safe: use it in `tokio::select!` and call it again.
    pub async fn outcome(&mut self) -> Result<(), ReloadError> {
        match (&mut self.rx).await {
            Ok(ControlReply::Error(e)) => Err(ReloadError::Apply(e)),
            Ok(_) => Ok(()),
            Err(_) => Err(ReloadError::Apply(
                "the daemon dropped the new configuration without answering".to_string(),
            )),
        }
    }
}

/// [`reload_and_apply_with`], also giving back, when the outcome is
/// [`ReloadError::Pending`], the way to learn the real outcome later.
pub async fn reload_and_apply_tracked(
    ctx: &ApiContext,
    mut still_waiting: impl FnMut(u64),
) -> (
    Result<Vec<std::net::IpAddr>, ReloadError>,
    Option<LateReply>,
) {
    let config = match reload(ctx).await {
        Ok(c) => c,
        Err(e) => {
            crate::control::stats::board().reload(crate::control::stats::ReloadResult::Rejected);
            return (Err(ReloadError::Rejected(e)), None);
        }
    };
    let neighbors = config.neighbors.iter().map(|n| n.address).collect();
    let (tx, mut rx) = oneshot::channel();
    let request = ControlRequest {
        command: Command::ApplyConfig(Box::new(config)),
        reply: tx,
    };
    if ctx.control.send(request).await.is_err() {
        let e = ReloadError::Apply("the daemon is shutting down".to_string());
        return (Err(e), None);
    }
    let mut waited = Duration::ZERO;
    for _ in 0..RELOAD_PATIENCE {
        let r = match tokio::time::timeout(ctx.reply_timeout, &mut rx).await {
            Ok(Ok(ControlReply::Error(e))) => Err(ReloadError::Apply(e)),
            Ok(Ok(_)) => Ok(neighbors),
            Ok(Err(_)) => Err(ReloadError::Apply(
                "the daemon dropped the new configuration without answering".to_string(),
            )),
            Err(_) => {
                waited += ctx.reply_timeout;
                still_waiting(waited.as_secs());
                continue;
            }
        };
        if matches!(r, Err(ReloadError::Apply(_))) {
            crate::control::stats::board().reload(crate::control::stats::ReloadResult::Failed);
        }
        return (r, None);
    }
    (
        Err(ReloadError::Pending(waited.as_secs())),
        Some(LateReply { rx }),
    )
}

/// Run one request (counted by result for the metrics).
pub async fn execute(ctx: &ApiContext, req: &Request) -> Answer {
    let answer = execute_uncounted(ctx, req).await;
    crate::control::stats::board().api_command(answer.result.is_ok());
    answer
}

/// Run a request that stands for `lines` command lines joined by
/// [`super::join::gather`]: one request to the daemon, its answer counted (and,
/// by the caller, given) once per line. Takes the request by value: its rules go
/// to the daemon without a copy.
pub async fn execute_joined(ctx: &ApiContext, req: Request, lines: usize) -> Answer {
    let answer = match req.command {
        ApiCommand::Control(c) => match send(ctx, c).await {
            Ok(reply) => answer_from(reply, req.json, ShowDetail::Basic, RibDirection::Out),
            Err(e) => Answer::error(e),
        },
        _ => execute_uncounted(ctx, &req).await,
    };
    for _ in 0..lines {
        crate::control::stats::board().api_command(answer.result.is_ok());
    }
    answer
}

async fn execute_uncounted(ctx: &ApiContext, req: &Request) -> Answer {
    match &req.command {
        ApiCommand::Nop => Answer::done(),
        // The helper's reader applies it (api/command/session.rs).
        ApiCommand::Ack(_) => Answer::done(),
        // On a blocking thread, as the HTTP endpoint renders (metrics/http.rs).
        ApiCommand::Metrics => match tokio::task::spawn_blocking(crate::metrics::render).await {
            Ok(text) => Answer {
                lines: text.lines().map(str::to_string).collect(),
                result: Ok(()),
            },
            Err(_) => Answer::error("rendering the metrics failed"),
        },
        ApiCommand::Help => Answer {
            lines: HELP.lines().map(str::to_string).collect(),
            result: Ok(()),
        },
        ApiCommand::Version => {
            let line = if req.json {
                Obj::new()
                    .str("version", crate::VERSION)
                    .str("api", API_VERSION)
                    .build()
            } else {
                format!("exabgp-rs {} (api {})", crate::VERSION, API_VERSION)
            };
            Answer {
                lines: vec![line],
                result: Ok(()),
            }
        }
        ApiCommand::Control(c) => {
            if let (Command::RestartHitless, Some(check)) = (c, &ctx.restart_check) {
                if let Some(refused) = next_start_refusal(check.clone()).await {
                    return refused;
                }
            }
            let (detail, dir) = match c {
                Command::ShowNeighbor { detail, .. } => (*detail, RibDirection::Out),
                Command::ShowAdjRib { direction, .. } => (ShowDetail::Basic, *direction),
                _ => (ShowDetail::Basic, RibDirection::Out),
            };
            match send(ctx, c.clone()).await {
                Ok(reply) => answer_from(reply, req.json, detail, dir),
                Err(e) => Answer::error(e),
            }
        }
        ApiCommand::Batch(cmds) => {
            for c in cmds {
                match send(ctx, c.clone()).await {
                    Ok(ControlReply::Error(e)) | Err(e) => return Answer::error(e),
                    Ok(_) => {}
                }
            }
            Answer::done()
        }
        ApiCommand::Reload | ApiCommand::Restart => {
            let neighbors = match reload_and_apply(ctx).await {
                Ok(n) => n,
                Err(e) => return Answer::error(e.to_string()),
            };
            if req.command == ApiCommand::Restart {
                // Cease / Administrative Reset. A neighbor that is not up answers
                // an error; that does not make the restart fail.
                for address in neighbors {
                    let code = CEASE_ADMIN_RESET;
                    let _ = send(ctx, Command::Teardown { address, code }).await;
                }
            }
            Answer::done()
        }
    }
}

/// The refusal of `restart --hitless` when the process the restart starts next
/// would not start: a hand-over to it would leave the sessions in the store
/// with nobody to adopt them. Nothing is sent to the core then, and the daemon
/// runs on as if nothing was asked. None: the check passed.
async fn next_start_refusal(check: RestartCheck) -> Option<Answer> {
    match tokio::task::spawn_blocking(move || check()).await {
        Ok(None) => None,
        Ok(Some(why)) => Some(Answer::error(format!(
            "restart --hitless refused, nothing was handed over: the next process would not start ({why})"
        ))),
        Err(e) => Some(Answer::error(format!(
            "restart --hitless refused: the check failed: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Output carrying a newline (a peer's shutdown text in `last error`, say) can
    /// never end the answer early or pose as another answer.
    #[test]
    fn output_lines_cannot_pose_as_terminators() {
        let a = Answer {
            lines: vec![
                "last error: \"bye\ndone\nerror: injected\r\nx\"".into(),
                "done".into(),
                "error: not really".into(),
            ],
            result: Ok(()),
        };
        let text = a.to_text(true);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines.iter().filter(|l| **l == "done").count(),
            1,
            "{text:?}"
        );
        assert_eq!(lines.last(), Some(&"done"));
        assert!(!lines.iter().any(|l| l.starts_with("error:")), "{text:?}");
        assert_eq!(Answer::error("a\nb").to_text(true), "error: a b\n");
        assert_eq!(Answer::done().to_text(false), "");
    }
}
