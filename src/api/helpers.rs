//! Helper processes (`[[process]]`): programs that speak the text API on stdout
//! and read events on stdin, the ExaBGP way.
//!
//! ```text
//!   supervisor (one task per helper: spawn, respawn within limits, terminate)
//!     ├─ stdout reader:  line -> parse_request -> execute -> ack into the queue
//!     │                  (buffered flow lines joined into one request: api/join.rs)
//!     ├─ stderr reader:  line -> our log, tagged with the helper's name
//!     ├─ event pump:     broadcast<Event> -> filter -> room? -> encode (within room) -> queue
//!     └─ stdin writer:   queue -> helper stdin (bytes given back once written)
//! ```
//!
//! Each helper runs in its own process group: stopping it (shutdown, or after it
//! exited, before a respawn) sends SIGTERM to the whole group, then SIGKILL after
//! the grace time, so what a helper started does not outlive it. The helper's exit
//! is noticed through a pidfd without reaping it: it is reaped after its group is
//! ended, so the group's id (its pid) cannot have been reused meanwhile. A child
//! that calls setsid/setpgid leaves the group and is not stopped.
//!
//! Nothing here ever blocks the daemon: events go through a broadcast channel
//! bounded in bytes ([`crate::control::bus`]; a slow helper lags, it does not hold
//! the sender) and then a queue per helper
//! bounded in bytes ([`QUEUE_BYTES`] per helper, [`ALL_QUEUES_BYTES`] for all of
//! them together); the room is checked before an event is encoded and the
//! encoding never exceeds it. Whatever does not fit is dropped and counted in a
//! rate-limited log line.

use std::collections::VecDeque;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::ProcessConfig;
use crate::control::{ByteBudget, Direction, EventKind, EventReceiver, EventSender};

use super::command::parse_request;
use super::events::{receive_kind, Encoded, EventEncoder, Origin, MAX_EVENT_BYTES};
use super::exec::{execute, execute_joined, Answer, ApiContext};
use super::join;
use super::lines::{read_line, Line, MAX_LINE};

/// How helpers are run.
#[derive(Debug, Clone, Copy)]
pub struct HelperOptions {
    /// Answer each command with `done` / `error: ...` on the helper's stdin
    /// (`exabgp_api_ack`, default true).
    pub ack: bool,
    /// Bytes of encoded events queued toward one helper's stdin before events
    /// are dropped ([`QUEUE_BYTES`]).
    pub queue_bytes: usize,
    /// Bytes of encoded events queued toward all helpers together
    /// ([`ALL_QUEUES_BYTES`]).
    pub all_queues_bytes: usize,
    /// Time between SIGTERM and SIGKILL on shutdown.
    pub grace: Duration,
    /// Longest command line accepted from a helper.
    pub max_line: usize,
    /// Pause before a respawn.
    pub respawn_delay: Duration,
}

impl Default for HelperOptions {
    fn default() -> HelperOptions {
        HelperOptions {
            ack: true,
            queue_bytes: QUEUE_BYTES,
            all_queues_bytes: ALL_QUEUES_BYTES,
            grace: Duration::from_secs(5),
            max_line: MAX_LINE,
            respawn_delay: Duration::from_millis(250),
        }
    }
}

/// Default byte budget of one helper's event queue: room for a few of the largest
/// events ([`MAX_EVENT_BYTES`]) or tens of thousands of ordinary ones.
pub const QUEUE_BYTES: usize = 16 << 20;

/// Default byte budget of all helpers' event queues together.
pub const ALL_QUEUES_BYTES: usize = 32 << 20;

/// Encoded events (or answers) for one helper, charged to its budget and, when
/// given, to everybody's until written or dropped.
struct Charged {
    text: String,
    mine: Arc<ByteBudget>,
    all: Option<Arc<ByteBudget>>,
    /// Counted in this helper's [`HelperStats::queued_bytes`] until dropped
    /// (written, or thrown away with the queue of an instance that ended).
    queued: Option<Arc<HelperStats>>,
}

impl Charged {
    /// Charges `text` to both budgets; `None` (nothing charged) if it does not fit.
    fn new(text: String, mine: &Arc<ByteBudget>, all: &Arc<ByteBudget>) -> Option<Charged> {
        let n = text.len();
        if !mine.take(n) {
            return None;
        }
        if !all.take(n) {
            mine.give(n);
            return None;
        }
        Some(Charged {
            text,
            mine: mine.clone(),
            all: Some(all.clone()),
            queued: None,
        })
    }

    /// Charges `text` to `reserve` alone; `None` if it does not fit.
    fn reserved(text: String, reserve: &Arc<ByteBudget>) -> Option<Charged> {
        if !reserve.take(text.len()) {
            return None;
        }
        Some(Charged {
            text,
            mine: reserve.clone(),
            all: None,
            queued: None,
        })
    }
}

impl Drop for Charged {
    fn drop(&mut self) {
        self.mine.give(self.text.len());
        if let Some(all) = &self.all {
            all.give(self.text.len());
        }
        if let Some(stats) = &self.queued {
            stats
                .queued_bytes
                .fetch_sub(self.text.len(), Ordering::Relaxed);
        }
    }
}

/// How a helper's supervision ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelperEnd {
    /// Stopped because the daemon shut down.
    Shutdown,
    /// Exited or failed to start too often; not respawned any more.
    GaveUp { starts: u32 },
}

/// Counters of one helper, readable while it runs (tests, `show` later).
#[derive(Debug, Default)]
pub struct HelperStats {
    /// Times the program was started.
    pub starts: AtomicU64,
    /// Events not delivered because the helper's queue was full (or lagged).
    pub dropped: AtomicU64,
    /// Text UPDATEs cut short at [`MAX_EVENT_BYTES`] (with a `truncated` line), or
    /// JSON events over it (not written; also counted in `dropped`).
    pub truncated: AtomicU64,
    /// Bytes of encoded events queued for the helper now.
    pub queued_bytes: AtomicUsize,
    /// Commands read from the helper.
    pub commands: AtomicU64,
    /// Answers that did not fit in the helper's byte budget: their output is
    /// replaced by an `error:` line (without ack: not written), or a bare
    /// `done`/`error:` is written from [`ANSWER_RESERVE`] (dropped if even that
    /// is full).
    pub dropped_answers: AtomicU64,
    /// Lines refused (too long, not UTF-8, syntax errors).
    pub bad_lines: AtomicU64,
    /// Exited too often: not respawned any more (for the metrics).
    pub given_up: std::sync::atomic::AtomicBool,
    /// Ended; waiting for the respawn delay (for the metrics).
    pub backing_off: std::sync::atomic::AtomicBool,
    /// The "answers are dropped" line was logged (once per helper).
    answer_drop_logged: std::sync::atomic::AtomicBool,
}

/// What the metrics endpoint reads of a helper (see `control/stats.rs`).
impl crate::control::stats::HelperView for HelperStats {
    fn starts(&self) -> u64 {
        self.starts.load(Ordering::Relaxed)
    }
    fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
    fn given_up(&self) -> bool {
        self.given_up.load(Ordering::Relaxed)
    }
    fn backing_off(&self) -> bool {
        self.backing_off.load(Ordering::Relaxed)
    }
}

/// Bytes set aside per helper for the last line of an answer (`done` /
/// `error: ...`) whose output did not fit in the helper's byte budget: a helper
/// waiting for its acknowledgement gets it even when its queue is full of
/// events or of earlier answers it has not read yet. Thousands of such lines.
pub const ANSWER_RESERVE: usize = 64 << 10;

/// The running helpers.
pub struct HelperSet {
    pub helpers: Vec<(String, Arc<HelperStats>, JoinHandle<HelperEnd>)>,
}

impl HelperSet {
    /// Wait until every supervisor has ended (after `shutdown`, or after giving up).
    pub async fn wait(self) -> Vec<(String, HelperEnd)> {
        let mut out = Vec::new();
        for (name, _, h) in self.helpers {
            let end = h.await.unwrap_or(HelperEnd::Shutdown);
            out.push((name, end));
        }
        out
    }
}

/// Start every `[[process]]` (the daemon does, in api/plane.rs); to stop them,
/// `shutdown.cancel()` then `helpers.wait().await`.
pub fn spawn_all(
    processes: &[ProcessConfig],
    ctx: ApiContext,
    events: &EventSender,
    opts: HelperOptions,
    shutdown: CancellationToken,
) -> HelperSet {
    let origin = Origin::current();
    let all = Arc::new(ByteBudget::new(opts.all_queues_bytes));
    let helpers = processes
        .iter()
        .map(|p| {
            let stats = Arc::new(HelperStats::default());
            let view: Arc<dyn crate::control::stats::HelperView> = stats.clone();
            crate::control::stats::board().add_helper(&p.name, Arc::downgrade(&view));
            let h = tokio::spawn(supervise(
                p.clone(),
                ctx.clone(),
                events.clone(),
                // Subscribed now, before the daemon starts its sessions, so the
                // first helper instance misses no event (they wait in the channel).
                events.subscribe(),
                opts,
                origin.clone(),
                stats.clone(),
                all.clone(),
                shutdown.clone(),
            ));
            (p.name.clone(), stats, h)
        })
        .collect();
    HelperSet { helpers }
}

#[allow(clippy::too_many_arguments)]
async fn supervise(
    p: ProcessConfig,
    ctx: ApiContext,
    events: EventSender,
    first_rx: EventReceiver,
    opts: HelperOptions,
    origin: Origin,
    stats: Arc<HelperStats>,
    all: Arc<ByteBudget>,
    shutdown: CancellationToken,
) -> HelperEnd {
    let window = Duration::from_secs(u64::from(p.respawn_window.max(1)));
    let mut respawns: VecDeque<Instant> = VecDeque::new();
    let mut starts = 0u32;
    let mut next_rx = Some(first_rx);
    loop {
        if shutdown.is_cancelled() {
            return HelperEnd::Shutdown;
        }
        starts += 1;
        // A respawned helper gets the events from its restart on.
        let rx = next_rx.take().unwrap_or_else(|| events.subscribe());
        stats.starts.fetch_add(1, Ordering::Relaxed);
        match start(&p) {
            Ok(child) => {
                tracing::info!(helper = %p.name, pid = child.id().unwrap_or(0), "helper started");
                let queues = Queues {
                    mine: Arc::new(ByteBudget::new(opts.queue_bytes)),
                    all: all.clone(),
                };
                if run(
                    &p, child, rx, &ctx, opts, &origin, &stats, queues, &shutdown,
                )
                .await
                {
                    return HelperEnd::Shutdown;
                }
            }
            Err(e) => {
                tracing::error!(helper = %p.name, program = %p.run.first().map(String::as_str).unwrap_or(""), "cannot start helper: {e}")
            }
        }
        let now = Instant::now();
        while respawns
            .front()
            .is_some_and(|t| now.duration_since(*t) > window)
        {
            respawns.pop_front();
        }
        if respawns.len() >= p.respawn_limit as usize {
            tracing::error!(
                MESSAGE_ID = crate::system::logging::MSG_HELPER_GIVEN_UP,
                helper = %p.name,
                "HELPER GIVEN UP: '{}' ended {} times within {} s (limit {}); it will not be restarted until exabgp restarts",
                p.name,
                respawns.len() + 1,
                window.as_secs(),
                p.respawn_limit
            );
            stats.given_up.store(true, Ordering::Relaxed);
            return HelperEnd::GaveUp { starts };
        }
        respawns.push_back(now);
        stats.backing_off.store(true, Ordering::Relaxed);
        tokio::select! {
            _ = tokio::time::sleep(opts.respawn_delay) => {}
            _ = shutdown.cancelled() => return HelperEnd::Shutdown,
        }
        stats.backing_off.store(false, Ordering::Relaxed);
        tracing::warn!(helper = %p.name, "respawning helper ({} of {} allowed within {} s)", respawns.len(), p.respawn_limit, window.as_secs());
    }
}

fn start(p: &ProcessConfig) -> std::io::Result<Child> {
    let (prog, args) = p
        .run
        .split_first()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "empty 'run' argv"))?;
    let mut cmd = Command::new(prog);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group (pgid = its pid): stopping it signals the group,
        // so what it started (a shell's children) goes with it.
        .process_group(0)
        .kill_on_drop(true);
    crate::system::environ::scrub_child(&mut cmd);
    crate::system::signals::unblock_in_child(&mut cmd);
    cmd.spawn()
}

/// The byte budgets one helper instance's events are charged to.
#[derive(Clone)]
struct Queues {
    mine: Arc<ByteBudget>,
    all: Arc<ByteBudget>,
}

/// Run one instance of the helper until it exits (false) or shutdown (true).
#[allow(clippy::too_many_arguments)]
async fn run(
    p: &ProcessConfig,
    mut child: Child,
    events: EventReceiver,
    ctx: &ApiContext,
    opts: HelperOptions,
    origin: &Origin,
    stats: &Arc<HelperStats>,
    queues: Queues,
    shutdown: &CancellationToken,
) -> bool {
    // Unbounded by count, bounded by the bytes charged to `queues`.
    let (qtx, qrx) = mpsc::unbounded_channel::<Charged>();
    // Answers have their own queue, written before any pending event: a helper
    // waiting for its `done` gets it however many events are queued. They are
    // charged to the same byte budgets as events; the last line of an answer
    // whose output does not fit is charged to a reserve of its own.
    let (atx, arx) = mpsc::unbounded_channel::<Charged>();
    let answer_queues = (queues.clone(), Arc::new(ByteBudget::new(ANSWER_RESERVE)));
    let local = CancellationToken::new();
    let mut tasks = Vec::new();
    if let Some(stdin) = child.stdin.take() {
        tasks.push(tokio::spawn(write_stdin(p.name.clone(), stdin, arx, qrx)));
    }
    tasks.push(tokio::spawn(pump_events(
        p.clone(),
        events,
        qtx.clone(),
        queues,
        origin.clone(),
        stats.clone(),
        local.clone(),
    )));
    let mut stderr = child.stderr.take().map(|err| {
        let name = p.name.clone();
        tokio::spawn(async move {
            let mut r = BufReader::new(err);
            loop {
                match read_line(&mut r, MAX_LINE).await {
                    Ok(Line::Text(l)) => tracing::warn!(helper = %name, "stderr: {l}"),
                    Ok(Line::NotUtf8(n)) | Ok(Line::TooLong(n)) | Ok(Line::Truncated(n)) => {
                        tracing::warn!(helper = %name, "stderr: ({n} bytes not shown)")
                    }
                    Ok(Line::Eof) | Err(_) => return,
                }
            }
        })
    });
    let reader = child.stdout.take().map(|out| {
        let (name, ctx, stats) = (p.name.clone(), ctx.clone(), stats.clone());
        let max = opts.max_line;
        tokio::spawn(async move {
            read_commands(name, out, ctx, opts.ack, max, stats, atx, answer_queues).await
        })
    });
    drop(qtx);
    let pgid = child.id().map(|id| nix::unistd::Pid::from_raw(id as i32));
    // Notices the exit without reaping: while the helper is a zombie its pid, the
    // id of its process group, cannot be reused, so signalling the group reaches
    // only what it started.
    let pidfd = child.id().and_then(pidfd);
    let stopped = tokio::select! {
        status = exited(&mut child, pidfd.as_ref()) => {
            // What it left running in its group must not outlive it (nor hold its
            // pipes open) into the next instance.
            let status = match status {
                Some(status) => {
                    if let Some(pgid) = pgid {
                        end_group(&p.name, pgid, false, opts.grace).await;
                    }
                    status
                }
                None => {
                    if let Some(pgid) = pgid {
                        end_group(&p.name, pgid, true, opts.grace).await;
                    }
                    child.wait().await
                }
            };
            match status {
                Ok(s) => tracing::warn!(helper = %p.name, "helper exited: {s}"),
                Err(e) => tracing::error!(helper = %p.name, "cannot wait for helper: {e}"),
            }
            // Let the readers run the helper's last commands and log its last
            // words (its reason for exiting is often the last stderr line); both
            // bounded together: a grandchild may keep a pipe open.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
            if let Some(mut r) = reader {
                if tokio::time::timeout_at(deadline, &mut r).await.is_err() {
                    r.abort();
                }
            }
            if let Some(e) = stderr.as_mut() {
                let _ = tokio::time::timeout_at(deadline, e).await;
            }
            false
        }
        _ = shutdown.cancelled() => {
            terminate(&p.name, &mut child, pidfd.as_ref(), opts.grace).await;
            if let Some(r) = reader { r.abort(); }
            // What it said while stopping (briefly: the daemon is on its way out).
            if let Some(e) = stderr.as_mut() {
                let _ = tokio::time::timeout(Duration::from_millis(500), e).await;
            }
            true
        }
    };
    local.cancel();
    for t in tasks.into_iter().chain(stderr) {
        t.abort();
    }
    stopped
}

type PidFd = tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>;

/// A pidfd for `pid` (our child, not reaped yet): readable once it has exited,
/// without reaping it. None where the kernel has none (before Linux 5.3).
fn pidfd(pid: u32) -> Option<PidFd> {
    use std::os::fd::FromRawFd;
    let pid = libc::pid_t::try_from(pid).ok()?;
    // SAFETY: pidfd_open(pid, flags) only returns a new descriptor, or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let fd = i32::try_from(fd).ok().filter(|fd| *fd >= 0)?;
    // SAFETY: the descriptor was just created and is owned by nobody else.
    let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
    // SAFETY: the OwnedFd stays open, and the same, as long as the AsyncFd owns it.
    unsafe { PidFd::register_with_interest(fd, tokio::io::Interest::READABLE) }.ok()
}

/// Until the helper has exited: `None` when it is left unreaped (a zombie,
/// pinning its pid and process group id) for `child.wait()` to reap later;
/// `Some` (reaped) without a pidfd.
async fn exited(
    child: &mut Child,
    pidfd: Option<&PidFd>,
) -> Option<std::io::Result<std::process::ExitStatus>> {
    if let Some(fd) = pidfd {
        if fd.readable().await.is_ok() {
            return None;
        }
    }
    Some(child.wait().await)
}

/// SIGTERM to the helper's process group, then SIGKILL to the group after `grace`;
/// the helper is reaped last, so the group's id stays its own throughout.
async fn terminate(name: &str, child: &mut Child, pidfd: Option<&PidFd>, grace: Duration) {
    use nix::sys::signal::{killpg, Signal};
    let Some(pid) = child.id() else {
        return;
    };
    let pgid = nix::unistd::Pid::from_raw(pid as i32);
    let start = Instant::now();
    let _ = killpg(pgid, Signal::SIGTERM);
    match tokio::time::timeout(grace, exited(child, pidfd)).await {
        Ok(Some(Ok(s))) => tracing::info!(helper = %name, "helper stopped: {s}"),
        Ok(None) => {
            end_group(name, pgid, true, grace.saturating_sub(start.elapsed())).await;
            if let Ok(s) = child.wait().await {
                tracing::info!(helper = %name, "helper stopped: {s}");
            }
            return;
        }
        _ => {
            tracing::warn!(helper = %name, "helper ignored SIGTERM for {} s; killing it", grace.as_secs());
            let _ = killpg(pgid, Signal::SIGKILL);
            let _ = child.kill().await;
        }
    }
    end_group(name, pgid, false, grace.saturating_sub(start.elapsed())).await;
}

/// Whether a process other than the leader `pgid` (a zombie: `pinned`) is left
/// in the group: read in /proc, since a signal to the group succeeds as long as
/// the zombie is there.
fn others_in_group(pgid: nix::unistd::Pid) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return false;
    };
    let want = pgid.as_raw();
    dir.flatten().any(|e| {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            return false;
        };
        if pid == want {
            return false;
        }
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            return false;
        };
        // "PID (comm) STATE PPID PGRP ...": comm may hold anything but ends at
        // the last ')'.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            return false;
        };
        let mut f = rest.split_whitespace();
        let state = f.next().unwrap_or("Z");
        let pgrp = f.nth(1).and_then(|g| g.parse::<i32>().ok());
        pgrp == Some(want) && !state.starts_with(['Z', 'X'])
    })
}

/// After the helper itself has ended: SIGTERM whatever is left in its process
/// group, wait up to `grace` for the group to empty, then SIGKILL it. `pinned`:
/// the helper is not reaped yet, so the group's id cannot have been reused.
async fn end_group(name: &str, pgid: nix::unistd::Pid, pinned: bool, grace: Duration) {
    use nix::sys::signal::{killpg, Signal};
    let alive = || {
        if pinned {
            others_in_group(pgid)
        } else {
            killpg(pgid, None).is_ok()
        }
    };
    if !alive() {
        return;
    }
    let _ = killpg(pgid, Signal::SIGTERM);
    let deadline = Instant::now() + grace;
    while alive() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if alive() {
        tracing::warn!(helper = %name, "processes the helper started ignored SIGTERM; killing them");
        let _ = killpg(pgid, Signal::SIGKILL);
    }
}

/// Writes answers (first) and events to the helper's stdin until both queues close.
async fn write_stdin(
    name: String,
    mut stdin: ChildStdin,
    mut answers: mpsc::UnboundedReceiver<Charged>,
    mut events: mpsc::UnboundedReceiver<Charged>,
) {
    let (mut answers_open, mut events_open) = (true, true);
    while answers_open || events_open {
        let c = tokio::select! {
            biased;
            a = answers.recv(), if answers_open => match a {
                Some(a) => a,
                None => { answers_open = false; continue; }
            },
            e = events.recv(), if events_open => match e {
                Some(e) => e,
                None => { events_open = false; continue; }
            },
        };
        let written = stdin.write_all(c.text.as_bytes()).await;
        // Dropping it gives its bytes back to the budgets and the counter.
        drop(c);
        if let Err(e) = written {
            tracing::warn!(helper = %name, "cannot write to helper's stdin: {e}");
            return;
        }
        if answers.is_empty() && events.is_empty() && stdin.flush().await.is_err() {
            return;
        }
    }
}

/// How often at most a "dropped N events" line is logged per helper.
const DROP_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Rate-limited "dropped N events" log line (at most one per interval); what is
/// not reported yet is reported when the interval ends or the pump stops, so the
/// lines add up to every drop.
struct DropLog {
    last: Option<Instant>,
    pending: u64,
    why: &'static str,
}

impl DropLog {
    /// Counts `n` drops; logs now (returning the count logged) unless a line was
    /// logged less than an interval ago.
    fn note(&mut self, name: &str, n: u64, why: &'static str) -> u64 {
        self.pending += n;
        self.why = why;
        if self.last.map_or(true, |t| t.elapsed() >= DROP_LOG_INTERVAL) {
            self.flush(name)
        } else {
            0
        }
    }

    /// Logs what is pending, if anything; returns the count logged.
    fn flush(&mut self, name: &str) -> u64 {
        let n = std::mem::take(&mut self.pending);
        if n > 0 {
            tracing::warn!(helper = %name, "dropped {n} event(s) for helper: {}", self.why);
            self.last = Some(Instant::now());
        }
        n
    }

    /// When the pending count is due to be logged.
    fn due(&self) -> tokio::time::Instant {
        let at = self
            .last
            .map_or_else(Instant::now, |t| t + DROP_LOG_INTERVAL);
        tokio::time::Instant::from_std(at)
    }
}

async fn pump_events(
    p: ProcessConfig,
    mut rx: EventReceiver,
    qtx: mpsc::UnboundedSender<Charged>,
    queues: Queues,
    origin: Origin,
    stats: Arc<HelperStats>,
    stop: CancellationToken,
) {
    let mut enc = EventEncoder::new(p.encoder, origin);
    let mut drops = DropLog {
        last: None,
        pending: 0,
        why: "",
    };
    // Cut UPDATEs: logged like drops, at most one line per interval.
    let mut cut: (u64, Option<Instant>) = (0, None);
    loop {
        let ev = tokio::select! {
            // Shared, not copied: most events are filtered out or encoded
            // straight from the channel's.
            r = rx.recv_shared() => r,
            _ = stop.cancelled() => {
                drops.flush(&p.name);
                return;
            }
            _ = tokio::time::sleep_until(drops.due()), if drops.pending > 0 => {
                drops.flush(&p.name);
                continue;
            }
        };
        let ev = match ev {
            Ok(ev) => ev,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                stats.dropped.fetch_add(n, Ordering::Relaxed);
                drops.note(
                    &p.name,
                    n,
                    "the daemon produced them faster than we could queue them",
                );
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => {
                drops.flush(&p.name);
                return;
            }
        };
        let wanted = p.receive.contains(&receive_kind(&ev.kind))
            && (ev.direction == Direction::Receive || matches!(ev.kind, EventKind::State { .. }));
        if !wanted {
            continue;
        }
        // The room is known before encoding: text is never encoded beyond it; JSON
        // (linear in the message, about 2 MB at most) is not encoded when even its
        // lower bound (bytes per prefix) does not fit, else encoded, then kept only
        // if it fits.
        let room = queues.mine.room().min(queues.all.room());
        let limit = room.min(MAX_EVENT_BYTES);
        let full = "its queue is full (is it reading its stdin?)";
        let text = match enc.encode_within(&ev, limit) {
            Encoded::Whole(s) => s,
            Encoded::Truncated(s) if limit == MAX_EVENT_BYTES => {
                stats.truncated.fetch_add(1, Ordering::Relaxed);
                cut.0 += 1;
                if cut.1.map_or(true, |t| t.elapsed() >= DROP_LOG_INTERVAL) {
                    tracing::warn!(helper = %p.name, "cut {} UPDATE(s) to the {MAX_EVENT_BYTES}-byte event limit (an 'update truncated' line says how many routes are missing)", cut.0);
                    cut = (0, Some(Instant::now()));
                }
                s
            }
            Encoded::TooBig if limit == MAX_EVENT_BYTES => {
                stats.truncated.fetch_add(1, Ordering::Relaxed);
                stats.dropped.fetch_add(1, Ordering::Relaxed);
                drops.note(&p.name, 1, "larger than the event limit");
                continue;
            }
            Encoded::Truncated(_) | Encoded::TooBig => {
                stats.dropped.fetch_add(1, Ordering::Relaxed);
                drops.note(&p.name, 1, full);
                continue;
            }
        };
        let len = text.len();
        let Some(mut item) = Charged::new(text, &queues.mine, &queues.all) else {
            stats.dropped.fetch_add(1, Ordering::Relaxed);
            drops.note(&p.name, 1, full);
            continue;
        };
        stats.queued_bytes.fetch_add(len, Ordering::Relaxed);
        item.queued = Some(stats.clone());
        if qtx.send(item).is_err() {
            drops.flush(&p.name);
            return;
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn read_commands(
    name: String,
    out: tokio::process::ChildStdout,
    ctx: ApiContext,
    ack: bool,
    max: usize,
    stats: Arc<HelperStats>,
    answers: mpsc::UnboundedSender<Charged>,
    (queues, reserve): (Queues, Arc<ByteBudget>),
) {
    let mut r = BufReader::with_capacity(16 * 1024, out);
    // `session ack ...` changes it for this helper (api/command/session.rs).
    let mut ack = ack;
    // A line read by a join (api/join.rs) that did not join: handled next.
    let mut carry = None;
    loop {
        let mut this_ack = ack;
        // How many lines this answer is for (a join: one answer each).
        let mut lines = 1;
        let line = match carry.take() {
            Some(l) => l,
            None => read_line(&mut r, max).await,
        };
        let answer = match line {
            Ok(Line::Eof) | Err(_) => return,
            Ok(Line::Truncated(n)) => {
                tracing::warn!(helper = %name, "helper's last line ({n} bytes) had no newline; ignored");
                return;
            }
            Ok(Line::TooLong(n)) => {
                stats.bad_lines.fetch_add(1, Ordering::Relaxed);
                crate::control::stats::board().api_unparsed();
                tracing::error!(helper = %name, "helper sent a {n}-byte line (limit {max}); discarded");
                Answer::error(format!("line too long ({n} bytes, limit {max})"))
            }
            Ok(Line::NotUtf8(n)) => {
                stats.bad_lines.fetch_add(1, Ordering::Relaxed);
                crate::control::stats::board().api_unparsed();
                tracing::error!(helper = %name, "helper sent a {n}-byte line that is not UTF-8 text; discarded");
                Answer::error("line is not UTF-8 text")
            }
            Ok(Line::Text(t)) => match parse_request(&t) {
                // A blank line is nothing; a `#` comment is a command in ExaBGP
                // (reactor/api/command: `#` logs it and answers done): a helper
                // that writes one and waits for its ack must get it.
                Ok(req) if req.command == super::ApiCommand::Nop => {
                    if !t.trim_start().starts_with('#') {
                        continue;
                    }
                    tracing::debug!(helper = %name, "comment: {}", t.trim_start().trim_start_matches('#').trim());
                    Answer::done()
                }
                Ok(mut req) => {
                    if let super::ApiCommand::Ack(mode) = req.command {
                        (this_ack, ack) = mode.apply();
                    }
                    let a = if join::joinable(&req) {
                        lines = join::gather(&mut r, max, &mut req, &mut carry).await;
                        stats.commands.fetch_add(lines as u64, Ordering::Relaxed);
                        execute_joined(&ctx, req, lines).await
                    } else {
                        stats.commands.fetch_add(1, Ordering::Relaxed);
                        execute(&ctx, &req).await
                    };
                    if let Err(e) = &a.result {
                        tracing::warn!(helper = %name, command = %t, lines, "command failed: {e}");
                    }
                    a
                }
                Err(e) => {
                    stats.bad_lines.fetch_add(1, Ordering::Relaxed);
                    crate::control::stats::board().api_unparsed();
                    tracing::error!(helper = %name, command = %t, "{e}");
                    Answer::error(e.to_string())
                }
            },
        };
        let s = answer.to_text(this_ack).repeat(lines);
        if s.is_empty() {
            continue;
        }
        // Answers are charged to the helper's byte budget like events. One whose
        // output does not fit (a helper that asks for big answers and does not
        // read them) is replaced by its last line alone, charged to the reserve:
        // its output is dropped and counted, and a helper waiting for its ack
        // still gets one.
        let n = s.len();
        let item = match Charged::new(s, &queues.mine, &queues.all) {
            Some(c) => Some(c),
            None => {
                let last = if answer.lines.is_empty() {
                    answer.to_text(this_ack).repeat(lines)
                } else if this_ack {
                    format!("error: answer not shown ({n} bytes): the helper's stdin queue is full (is it reading its stdin?)\n")
                } else {
                    String::new()
                };
                stats.dropped_answers.fetch_add(1, Ordering::Relaxed);
                let c = Some(last)
                    .filter(|l| !l.is_empty())
                    .and_then(|l| Charged::reserved(l, &reserve));
                if answer_drop_log_due(&stats) {
                    tracing::warn!(helper = %name, "helper does not read its stdin: answers that do not fit in its queue are replaced by an error line (their commands still run); read stdin, or set exabgp_api_ack=false");
                }
                c
            }
        };
        if let Some(item) = item {
            if answers.send(item).is_err() {
                return;
            }
        }
    }
}

/// True for the first dropped answer of this helper (one log line).
fn answer_drop_log_due(stats: &HelperStats) -> bool {
    !stats.answer_drop_logged.swap(true, Ordering::Relaxed)
}

#[cfg(test)]
mod drop_log_tests {
    use super::*;

    /// Every drop is reported: the first at once, later ones when the interval
    /// ends or the pump stops, never lost in between.
    #[test]
    fn drop_lines_add_up_to_every_drop() {
        let mut log = DropLog {
            last: None,
            pending: 0,
            why: "",
        };
        let mut reported = log.note("h", 1, "full");
        for _ in 0..99 {
            reported += log.note("h", 1, "full");
        }
        assert_eq!(reported, 1, "one line per interval");
        assert!(log.due() > tokio::time::Instant::now());
        reported += log.flush("h");
        assert_eq!(reported, 100);
        assert_eq!(log.flush("h"), 0);
    }
}
