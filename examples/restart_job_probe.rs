//! A tiny service for scripts/systest's restart_job check: run as a unit with the
//! sandbox of exabgp@.service, it waits for SIGTERM, then asks systemd (as the daemon
//! does, through `system::restart_job`) whether this stop is a restart, and prints
//! the answer to stdout (the journal):
//!
//!     restart_job_probe: ready pid=42 uid=998
//!     restart_job_probe: pid=42 answer=restart (job 17 of type restart on restart-probe@p.service) in 3 ms
//!
//! Exits 0 after answering. `restart_job_probe TIMEOUT_MS` (default 5000).

use std::time::{Duration, Instant};

use exabgp::system::restart_job;
use nix::sys::signal::{SigSet, Signal};

fn main() {
    let ms = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5000);
    let timeout = Duration::from_millis(ms);
    let pid = std::process::id();
    // Single-threaded: block SIGTERM, then wait for it synchronously.
    let mut set = SigSet::empty();
    set.add(Signal::SIGTERM);
    if let Err(e) = set.thread_block() {
        println!("restart_job_probe: cannot block SIGTERM: {e}");
        std::process::exit(1);
    }
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    println!("restart_job_probe: ready pid={pid} uid={uid}");
    if let Err(e) = set.wait() {
        println!("restart_job_probe: sigwait failed: {e}");
        std::process::exit(1);
    }
    let t0 = Instant::now();
    let answer = restart_job::stop_is_restart(timeout);
    let took = t0.elapsed();
    // The same question again, for the reason (the job is still queued: it waits
    // for us to exit).
    let why = match restart_job::own_pending_job(timeout) {
        Ok(job) => job.to_string(),
        Err(e) => format!("error: {e}"),
    };
    println!(
        "restart_job_probe: pid={pid} answer={} ({why}) in {} ms",
        if answer { "restart" } else { "stop" },
        took.as_millis()
    );
}
