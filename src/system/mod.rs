//! Everything systemd and OS: socket activation, sd_notify and the watchdog,
//! signals, privilege and capability drop, journald logging.
//!
//! Depends on nothing else in the crate except `config::Settings` types, so it can be
//! tested alone. The order main must follow (capabilities and the environment are
//! per process/thread, so the first steps run before the tokio runtime exists):
//!
//! 1. [`logging::init`] (sync; decides journald vs stderr from JOURNAL_STREAM).
//! 2. [`activation::take_listeners`] and [`notify::Notifier::from_env`]: read and
//!    REMOVE LISTEN_*/NOTIFY_SOCKET/WATCHDOG_* from the environment while we are
//!    still single-threaded ([`environ::take`]); helpers are started with the
//!    whole list scrubbed ([`environ::scrub_child`]), so they never inherit them.
//! 3. bind what systemd did not hand over ([`bind::bind_bgp`]).
//! 4. [`privileges::drop_privileges`] — before any thread exists.
//! 5. build the tokio runtime, run the daemon, [`signals::Signals`],
//!    [`supervise::supervise`] for WATCHDOG=1 and STATUS=, READY=1 when settled.

pub mod activation;
pub mod bind;
pub mod dbus;
pub mod environ;
pub mod fdstore;
pub mod logging;
pub mod md5;
pub mod notify;
pub mod privileges;
pub mod ratelimit;
pub mod restart_job;
pub mod restart_marker;
pub mod signals;
pub mod sockpath;
pub mod supervise;
