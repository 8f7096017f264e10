//! At SIGTERM: is systemd restarting our unit, or stopping it? The signal is the
//! same; the difference is the job systemd has queued for the unit. A `systemctl
//! restart` (and `try-restart`, which systemd turns into a restart job when the unit
//! runs, and `systemctl restart exabgp.target` through PartOf=) stops us under a job
//! of type "restart", and keeps the unit's file descriptor store for the start that
//! follows within the same job. A `systemctl stop` is a "stop" job; a `kill -TERM`
//! by hand has no job at all. Only a restart job may hand the BGP sessions over; everything
//! else (including every failure to find out) answers "stop", the safe side: a
//! Cease to every peer, as before issue 13.
//!
//! How, over the system bus ([`super::dbus`]), three calls to
//! `org.freedesktop.systemd1`:
//! 1. `Manager.GetUnitByPID(our pid)` -> the unit's object path;
//! 2. `Properties.Get(org.freedesktop.systemd1.Unit, "Job")` -> `(uo)`: the job's id
//!    and object path; id 0 and path "/" mean no job;
//! 3. `Properties.Get(org.freedesktop.systemd1.Job, "JobType")` on that path.
//!
//! systemd's bus policy (org.freedesktop.systemd1.conf) lets any local user call
//! GetUnitByPID and read properties, so this works under the shipped unit's static
//! `User=exabgp` without any privilege; its sandbox allows AF_UNIX and leaves
//! /run/dbus/system_bus_socket reachable. NOT under `DynamicUser=yes` with Debian
//! 12's dbus-daemon: systemd starts the bus with SYSTEMD_NSS_DYNAMIC_BYPASS=1, so it
//! cannot look up a dynamic uid and drops the connection (even with nss-systemd);
//! the answer is then "stop". All of this is checked in a booted systemd 252 by
//! scripts/systest's restart_job check. Without a system bus (a minimal container
//! without dbus) the answer is "stop" as well.
//!
//! Blocking, bounded by the timeout given: call it from a blocking context (before
//! the runtime, or `spawn_blocking`).

use std::time::Duration;

use super::dbus::{Connection, DbusError, Value};

const SYSTEMD: &str = "org.freedesktop.systemd1";
const SYSTEMD_PATH: &str = "/org/freedesktop/systemd1";
const MANAGER: &str = "org.freedesktop.systemd1.Manager";
const UNIT: &str = "org.freedesktop.systemd1.Unit";
const JOB: &str = "org.freedesktop.systemd1.Job";

#[derive(Debug, thiserror::Error)]
pub enum RestartJobError {
    #[error("asking systemd over the system bus: {0}")]
    Bus(#[from] DbusError),
    #[error("unexpected answer from systemd: {0}")]
    Unexpected(String),
}

/// The job systemd has queued for our unit, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PendingJob {
    /// No job: the signal did not come from a systemctl verb (`kill` by hand, ...).
    None,
    Job {
        /// The unit we run in ("exabgp@edge1.service").
        unit: String,
        id: u32,
        /// "restart", "stop", "start", ... (systemd's job_type_to_string).
        job_type: String,
    },
}

impl PendingJob {
    /// True for a job that will start the unit again right after the stop.
    pub fn is_restart(&self) -> bool {
        matches!(self, PendingJob::Job { job_type, .. } if is_restart_type(job_type))
    }
}

impl std::fmt::Display for PendingJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PendingJob::None => write!(f, "no job queued for our unit"),
            PendingJob::Job { unit, id, job_type } => {
                write!(f, "job {id} of type {job_type} on {unit}")
            }
        }
    }
}

/// The job types after which systemd starts the unit again. systemd collapses
/// "try-restart" into "restart" (or into nothing when the unit is not running)
/// before the job is installed, so "try-restart" is never seen on the bus (systemd
/// 252 included); it is listed in case a version reports it unchanged.
pub fn is_restart_type(job_type: &str) -> bool {
    matches!(job_type, "restart" | "try-restart")
}

/// The job pending for the unit of process `pid`, asked on `conn`.
pub fn pending_job_on(conn: &mut Connection, pid: u32) -> Result<PendingJob, RestartJobError> {
    let reply = conn.call(
        SYSTEMD,
        SYSTEMD_PATH,
        MANAGER,
        "GetUnitByPID",
        &[Value::Uint32(pid)],
    )?;
    let unit_path = match reply.as_slice() {
        [Value::ObjectPath(p)] => p.clone(),
        other => {
            return Err(RestartJobError::Unexpected(format!(
                "GetUnitByPID returned {other:?}"
            )))
        }
    };
    let unit = match conn.get_property(SYSTEMD, &unit_path, UNIT, "Id")? {
        Value::String(s) => s,
        other => return Err(RestartJobError::Unexpected(format!("Unit.Id is {other:?}"))),
    };
    let (id, job_path) = match conn.get_property(SYSTEMD, &unit_path, UNIT, "Job")? {
        Value::Struct(f) => match f.as_slice() {
            [Value::Uint32(id), Value::ObjectPath(p)] => (*id, p.clone()),
            _ => {
                return Err(RestartJobError::Unexpected(format!(
                    "Unit.Job is {f:?}, not (uo)"
                )))
            }
        },
        other => {
            return Err(RestartJobError::Unexpected(format!(
                "Unit.Job is {other:?}, not (uo)"
            )))
        }
    };
    if id == 0 || job_path == "/" {
        return Ok(PendingJob::None);
    }
    let job_type = match conn.get_property(SYSTEMD, &job_path, JOB, "JobType")? {
        Value::String(s) => s,
        other => {
            return Err(RestartJobError::Unexpected(format!(
                "Job.JobType is {other:?}"
            )))
        }
    };
    Ok(PendingJob::Job { unit, id, job_type })
}

/// The job pending for our own unit, asked on the system bus within `timeout`.
pub fn own_pending_job(timeout: Duration) -> Result<PendingJob, RestartJobError> {
    let mut conn = Connection::system(timeout)?;
    pending_job_on(&mut conn, std::process::id())
}

/// At SIGTERM: true only when systemd is restarting our unit (a restart job is
/// queued), so the sessions may be handed over. False for a stop, for no job, and
/// for any error or timeout (the safe side: Cease, as before). Logs why either way.
pub fn stop_is_restart(timeout: Duration) -> bool {
    match own_pending_job(timeout) {
        Ok(job) => {
            let restart = job.is_restart();
            tracing::info!(
                "SIGTERM with {job}: {}",
                if restart {
                    "systemd restarts us, the sessions may be handed over"
                } else {
                    "a stop, the sessions are closed"
                }
            );
            restart
        }
        Err(e) => {
            tracing::warn!(
                "SIGTERM: cannot tell a restart from a stop ({e}); treating it as a stop"
            );
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_restart_jobs_restart() {
        let job = |t: &str| PendingJob::Job {
            unit: "exabgp@a.service".into(),
            id: 7,
            job_type: t.into(),
        };
        assert!(job("restart").is_restart());
        assert!(job("try-restart").is_restart());
        for t in [
            "stop",
            "start",
            "reload",
            "verify-active",
            "nop",
            "",
            "Restart",
        ] {
            assert!(!job(t).is_restart(), "{t}");
        }
        assert!(!PendingJob::None.is_restart());
    }
}
