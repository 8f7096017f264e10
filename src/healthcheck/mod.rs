//! `exabgp healthcheck`: the helper anycast operators run as a `[[process]]`. It
//! runs a check every --interval, moves through ExaBGP's states (INIT, DISABLED,
//! RISING, FALLING, UP, DOWN; EXIT on SIGTERM/SIGINT) and prints the
//! `announce route ...` / `withdraw route ...` lines for the service addresses on
//! stdout, where the daemon reads them. Option names and semantics are ExaBGP's
//! (src/exabgp/application/healthcheck.py), with its known faults avoided.
//!
//! - [`args`]: the options (clap), the --config file, refused options.
//! - [`fsm`]: the state machine, a pure function.
//! - [`check`]: running the check and hooks in their own process group, with a limit.
//! - [`output`]: the lines printed for a state, checked with the API's parser.
//! - [`netlink`]: the addresses on `lo`, through rtnetlink.
//!
//! stdout carries only API lines, one per --ip, each flushed. Logs go to stderr
//! (`LEVEL[healthcheck-NAME] message`), which the daemon copies into its own log
//! with the helper's name (the journal under systemd). stdin (the daemon's answers
//! and events) is read by a thread so the daemon never waits on us; `error` answers
//! are logged, and its end (on a pipe or socket) means the daemon is gone: stop. Nothing is ever run while a check runs: one thread does the checks,
//! the hooks and the printing, in turn.

pub mod args;
pub mod check;
pub mod fsm;
pub mod netlink;
pub mod output;

use std::io::{BufRead, Write};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

pub use args::{HealthcheckArgs, Options};
use fsm::{Input, Machine, State};
use netlink::{Added, Netlink};

/// Errors that end the healthcheck before or instead of its loop.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    /// Bad or refused options (exit 64).
    #[error("{0}")]
    Usage(String),
    /// Missing CAP_NET_ADMIN for --ip-setup (exit 77).
    #[error("{0}")]
    Permission(String),
    /// Netlink, the pid file or stdout failed (exit 71).
    #[error("{0}")]
    Os(String),
}

impl HealthError {
    pub fn exit_code(&self) -> i32 {
        match self {
            HealthError::Usage(_) => crate::EX_USAGE,
            HealthError::Permission(_) => crate::EX_NOPERM,
            HealthError::Os(_) => crate::EX_OSERR,
        }
    }
}

/// Set by SIGTERM / SIGINT: withdraw, clean up, exit 0.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// Log lines on stderr, ExaBGP's console format.
struct Log {
    tag: String,
    debug: bool,
}

impl Log {
    /// Never panics: stderr may be a closed pipe (the daemon crashed and its
    /// SIGTERM reaches us after), and Rust ignores SIGPIPE, so `eprintln!` would
    /// panic (abort in release) before we withdraw and remove our addresses.
    fn line(&self, level: &str, msg: &str) {
        let _ = writeln!(std::io::stderr(), "{level}[{}] {msg}", self.tag);
    }
    fn info(&self, msg: &str) {
        self.line("INFO", msg)
    }
    fn warn(&self, msg: &str) {
        self.line("WARNING", msg)
    }
    fn error(&self, msg: &str) {
        self.line("ERROR", msg)
    }
    fn debug(&self, msg: &str) {
        if self.debug {
            self.line("DEBUG", msg)
        }
    }
}

/// The addresses we put on `lo` (only those, and those of ours a dead helper
/// left, known by our --label: one that was there before is never removed).
struct Addresses {
    nl: Netlink,
    index: u32,
    label: Option<String>,
    ours: Vec<IpAddr>,
}

const PERMISSION_HELP: &str = "adding addresses to lo needs CAP_NET_ADMIN, which a helper of `exabgp server` never has (the daemon drops every capability before starting its helpers): put the addresses on lo yourself (e.g. systemd-networkd, see docs/healthcheck.md; addresses already there need no capability), or pass --no-ip-setup, or run this command on its own with CAP_NET_ADMIN";

impl Addresses {
    fn open(label: Option<&str>) -> Result<Addresses, HealthError> {
        let nl = Netlink::open().map_err(|e| match e.raw_os_error() {
            // A sandbox without AF_NETLINK (RestrictAddressFamilies=) or a
            // seccomp filter: the same remedy as a missing capability.
            Some(libc::EAFNOSUPPORT) | Some(libc::EPERM) | Some(libc::EACCES) => {
                HealthError::Permission(format!(
                    "cannot open a netlink socket: {e}: {PERMISSION_HELP} (and allow AF_NETLINK)"
                ))
            }
            _ => HealthError::Os(format!("netlink socket: {e}")),
        })?;
        let index =
            netlink::ifindex("lo").map_err(|e| HealthError::Os(format!("interface lo: {e}")))?;
        Ok(Addresses {
            nl,
            index,
            label: label.map(|l| format!("lo:{l}")),
            ours: Vec::new(),
        })
    }

    /// With --label, an address of an --ip already on lo with our label `lo:LABEL`
    /// is ours: left by a helper that died without cleaning up (SIGKILL, a
    /// crash), so we remove it on exit (and while DOWN with --dynamic-ip-setup),
    /// as ExaBGP removes by label. IPv6 addresses have no label: never claimed.
    fn claim(&mut self, o: &Options, log: &Log) -> Result<(), HealthError> {
        let Some(label) = self.label.clone() else {
            return Ok(());
        };
        let present = self
            .nl
            .addresses(self.index)
            .map_err(|e| HealthError::Os(format!("cannot list the addresses of lo: {e}")))?;
        for net in &o.ips {
            for i in 0..net.size().min(args::MAX_SETUP_ADDRESSES) {
                let Some(a) = net.host(i) else { break };
                let labelled = present
                    .iter()
                    .any(|p| p.addr == a && p.label.as_deref() == Some(label.as_str()));
                if labelled && !self.ours.contains(&a) {
                    log.info(&format!("{a} is on lo with label {label}: ours"));
                    self.ours.push(a);
                }
            }
        }
        Ok(())
    }

    /// Every address of every --ip on lo. Those already there are listed first
    /// (RTM_GETADDR needs no privilege) and left alone, so only missing ones
    /// need CAP_NET_ADMIN, as in ExaBGP.
    fn setup(&mut self, o: &Options, log: &Log) -> Result<(), HealthError> {
        let present = self
            .nl
            .addresses(self.index)
            .map_err(|e| HealthError::Os(format!("cannot list the addresses of lo: {e}")))?;
        for net in &o.ips {
            for i in 0..net.size().min(args::MAX_SETUP_ADDRESSES) {
                let Some(a) = net.host(i) else { break };
                if present.iter().any(|p| p.addr == a) {
                    log.debug(&format!("{a} is already on lo"));
                    continue;
                }
                match self.nl.add(self.index, a, self.label.as_deref()) {
                    Ok(Added::New) => {
                        log.info(&format!("added {a} to lo"));
                        if !self.ours.contains(&a) {
                            self.ours.push(a);
                        }
                    }
                    Ok(Added::Existed) => log.debug(&format!("{a} is already on lo")),
                    Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
                        return Err(HealthError::Permission(format!(
                            "cannot add {a} to lo: {e}: {PERMISSION_HELP}"
                        )))
                    }
                    Err(e) => return Err(HealthError::Os(format!("cannot add {a} to lo: {e}"))),
                }
            }
        }
        Ok(())
    }

    /// Remove what we added (errors logged: we are cleaning up).
    fn remove(&mut self, log: &Log) {
        for a in std::mem::take(&mut self.ours) {
            match self.nl.remove(self.index, a) {
                Ok(()) => log.info(&format!("removed {a} from lo")),
                Err(e) => log.error(&format!("cannot remove {a} from lo: {e}")),
            }
        }
    }
}

/// Everything the loop works with.
struct Health {
    o: Options,
    log: Log,
    addrs: Option<Addresses>,
}

impl Health {
    /// Print the lines of `state`, doing ExaBGP's address steps around them.
    fn send(&mut self, state: State) -> Result<(), HealthError> {
        if state == State::Up && self.o.dynamic {
            if let Some(a) = self.addrs.as_mut() {
                a.setup(&self.o, &self.log)?;
            }
        }
        let lines = output::lines(&self.o, state);
        if !lines.is_empty() {
            self.log
                .debug(&format!("send the routes for the {state} state"));
        }
        let mut out = std::io::stdout().lock();
        for l in &lines {
            self.log.debug(&format!("stdout: {l}"));
            writeln!(out, "{l}")
                .and_then(|()| out.flush())
                .map_err(|e| HealthError::Os(format!("stdout: {e} (is the daemon gone?)")))?;
        }
        drop(out);
        if matches!(state, State::Down | State::Disabled) && self.o.dynamic {
            if let Some(a) = self.addrs.as_mut() {
                a.remove(&self.log);
            }
        }
        Ok(())
    }

    /// The hooks for entering `state`: --<state>-execute, then --execute.
    fn hooks(&self, state: State) {
        let specific: &[String] = match state {
            State::Up => &self.o.up_execute,
            State::Down => &self.o.down_execute,
            State::Disabled => &self.o.disabled_execute,
            _ => &[],
        };
        let limit = limit(self.o.timeout);
        for cmd in specific.iter().chain(&self.o.execute) {
            self.log.debug(&format!("{state}: execute {cmd:?}"));
            let r = check::run(cmd, &[("STATE", state.name())], limit, &STOP);
            if !r.ok {
                self.log
                    .warn(&format!("{state}: hook {cmd:?} failed: {}", r.detail));
            }
            if !r.output.is_empty() {
                self.log.debug(&format!("hook output: {}", r.output));
            }
        }
    }

    /// One check (or the disable file). None when interrupted by a signal.
    fn check(&self) -> Option<Input> {
        let disabled = self.o.disable.as_ref().is_some_and(|f| f.exists());
        if disabled {
            return Some(Input { disabled, ok: true });
        }
        let Some(cmd) = &self.o.command else {
            return Some(Input { disabled, ok: true });
        };
        self.log.debug(&format!("checking {cmd:?}"));
        let r = check::run(cmd, &[], limit(self.o.timeout), &STOP);
        if STOP.load(Ordering::SeqCst) {
            return None;
        }
        if !r.ok {
            self.log.warn(&format!("check failed: {}", r.detail));
            if !r.output.is_empty() {
                self.log.info(&format!("output of the check: {}", r.output));
            }
        } else {
            self.log.debug("check succeeded");
        }
        Some(Input { disabled, ok: r.ok })
    }

    /// Withdraw, then remove our addresses; logging comes after the withdraw
    /// (stderr may be gone, see [`Log::line`]).
    fn exit(&mut self) {
        let sent = self.send(State::Exit);
        self.log.info("exiting: withdrawing the routes");
        if let Err(e) = sent {
            self.log.error(&e.to_string());
        }
        if let Some(a) = self.addrs.as_mut() {
            a.remove(&self.log);
        }
    }

    fn run(&mut self) -> Result<(), HealthError> {
        let mut mach = Machine::START;
        self.log.info(&format!("state {}", mach.state));
        loop {
            let Some(input) = self.check() else {
                self.exit();
                return Ok(());
            };
            let step = mach.step(input, self.o.rise, self.o.fall);
            if step.changed {
                self.log
                    .info(&format!("state {} -> {}", mach.state, step.machine.state));
                self.hooks(step.machine.state);
            }
            mach = step.machine;
            if !self.o.debounce || step.changed {
                if let Err(e) = self.send(mach.state) {
                    self.log.error(&e.to_string());
                    self.exit();
                    return Err(e);
                }
            }
            let pause = match mach.state {
                State::Rising | State::Falling => self.o.fast_interval,
                _ if self.o.interval == 0.0 => {
                    self.log
                        .info("interval is 0: exiting after the announcement (END)");
                    return Ok(());
                }
                _ => self.o.interval,
            };
            if !sleep(Duration::from_secs_f64(pause)) {
                self.exit();
                return Ok(());
            }
        }
    }
}

fn limit(timeout: f64) -> Option<Duration> {
    (timeout > 0.0).then(|| Duration::from_secs_f64(timeout))
}

/// Sleep, waking for a signal: false when we must stop.
fn sleep(d: Duration) -> bool {
    let end = Instant::now() + d;
    loop {
        if STOP.load(Ordering::SeqCst) {
            return false;
        }
        let now = Instant::now();
        if now >= end {
            return true;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(50)));
    }
}

fn install_signals() -> Result<(), HealthError> {
    let act = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for s in [Signal::SIGTERM, Signal::SIGINT] {
        // SAFETY: the handler only stores into an atomic (async-signal-safe).
        unsafe { sigaction(s, &act) }
            .map_err(|e| HealthError::Os(format!("sigaction {s}: {e}")))?;
    }
    Ok(())
}

/// Whether fd 0 is a pipe or a socket (what the daemon gives its helpers).
fn stdin_is_a_channel() -> bool {
    // SAFETY: a zeroed stat is valid storage; fstat(2) only writes into it.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fd 0 and a valid pointer; the result is checked.
    if unsafe { libc::fstat(0, &mut st) } != 0 {
        return false;
    }
    matches!(st.st_mode & libc::S_IFMT, libc::S_IFIFO | libc::S_IFSOCK)
}

/// Read the daemon's answers so it never blocks on us; log the errors. End of
/// file on a pipe or socket means the daemon is gone (we are in our own process
/// group, so a SIGKILLed daemon sends us nothing): stop as on SIGTERM (withdraw
/// best effort, remove our addresses, exit 0). EOF on anything else (/dev/null,
/// a file: run by hand or from a test) is ignored.
fn read_stdin(tag: String) {
    let channel = stdin_is_a_channel();
    let _ = std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            let stdin = std::io::stdin();
            let mut raw = Vec::new();
            let mut lock = stdin.lock();
            loop {
                raw.clear();
                // Bytes, not read_line: a non-UTF-8 line must not end the reader.
                let r = lock.read_until(b'\n', &mut raw);
                let line = String::from_utf8_lossy(&raw);
                match r {
                    Ok(0) | Err(_) => {
                        if channel {
                            let _ = writeln!(
                                std::io::stderr(),
                                "WARNING[{tag}] stdin closed: the daemon is gone, stopping"
                            );
                            STOP.store(true, Ordering::SeqCst);
                        }
                        return;
                    }
                    Ok(_) if line.starts_with("error") => {
                        let _ = writeln!(
                            std::io::stderr(),
                            "ERROR[{tag}] the daemon refused a line: {}",
                            line.trim_end()
                        );
                    }
                    Ok(_) => {}
                }
            }
        });
}

/// The exit code for an error clap found on the command line: 64 (EX_USAGE, as
/// for every bad option, see docs/healthcheck.md) for `exabgp healthcheck`,
/// clap's own otherwise (2; 0 for --help / --version).
pub fn clap_exit_code(e: &clap::Error, argv: &[String]) -> i32 {
    if e.use_stderr() && argv.get(1).map(String::as_str) == Some("healthcheck") {
        crate::EX_USAGE
    } else {
        e.exit_code()
    }
}

/// `exabgp healthcheck`: `args` as clap parsed them, `argv` the whole command line
/// (for --config, whose options come before the command line's). Returns the
/// exit code.
pub fn main(args: HealthcheckArgs, argv: &[String]) -> i32 {
    let after: Vec<String> = argv
        .iter()
        .position(|w| w == "healthcheck")
        .map(|i| argv[i + 1..].to_vec())
        .unwrap_or_default();
    let name = args.name.clone();
    let tag = match &name {
        Some(n) => format!("healthcheck-{n}"),
        None => "healthcheck".to_string(),
    };
    match start(args, &after) {
        Ok(()) => 0,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "ERROR[{tag}] {e}");
            e.exit_code()
        }
    }
}

fn start(args: HealthcheckArgs, after: &[String]) -> Result<(), HealthError> {
    let args = args::with_config(args, after)?;
    let o = Options::from_args(args)?;
    output::check_lines(&o)?;
    let log = Log {
        tag: match &o.name {
            Some(n) => format!("healthcheck-{n}"),
            None => "healthcheck".to_string(),
        },
        debug: o.debug,
    };
    install_signals()?;
    if let Some(p) = &o.pid {
        std::fs::write(p, format!("{}\n", std::process::id()))
            .map_err(|e| HealthError::Os(format!("--pid {}: {e}", p.display())))?;
    }
    read_stdin(log.tag.clone());
    let mut addrs = None;
    if o.ip_setup || o.dynamic {
        let mut a = Addresses::open(o.label.as_deref())?;
        a.claim(&o, &log)?;
        if o.ip_setup {
            if let Err(e) = a.setup(&o, &log) {
                a.remove(&log);
                return Err(e);
            }
        }
        addrs = Some(a);
    }
    let pid = o.pid.clone();
    let mut h = Health { o, log, addrs };
    let r = h.run();
    if let Some(p) = pid {
        let _ = std::fs::remove_file(p);
    }
    r
}
