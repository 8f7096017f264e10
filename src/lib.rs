//! exabgp-rs: a BGP route-injection daemon in the spirit of ExaBGP, native to systemd.
//!
//! Map of the crate (data flows config/API -> rib -> session -> wire, and back):
//!
//! - [`bgp`]: the wire format only — messages, attributes, NLRI, capabilities.
//!   Pure functions over bytes, no I/O. Fuzzed.
//! - [`session`]: one task per neighbor: the RFC 4271 FSM, timers, collision,
//!   OPEN negotiation, UPDATE packing from the Adj-RIB-Out.
//! - [`rib`]: what we announce (Adj-RIB-Out per neighbor) and what we received.
//! - [`config`]: the TOML model with file:line:col errors, and the exabgp_* settings.
//! - [`control`]: the typed contract between the API layer and the daemon core.
//! - [`metrics`]: the Prometheus exposition text (from what the tasks publish in
//!   [`control::stats`]) and the tiny HTTP endpoint that serves it.
//! - [`daemon`]: owns the neighbors; executes commands; publishes events.
//! - [`args`]: the command line of `exabgp` (clap), shared with the man pages.
//! - [`api`]: the text command language, JSON events, helpers, the control socket.
//! - [`healthcheck`]: `exabgp healthcheck`, the helper that announces service
//!   addresses while a check passes (ExaBGP's healthcheck options).
//! - [`rollback`]: the `exabgp-rollback` tool: generations of an instance's files,
//!   apply with verification and automatic undo, rollback incl. the package.
//! - [`system`]: systemd and OS: socket paths, socket activation, sd_notify,
//!   privileges, logging.

pub mod api;
pub mod args;
pub mod bgp;
pub mod config;
pub mod control;
pub mod daemon;
pub mod healthcheck;
pub mod metrics;
pub mod rib;
pub mod rollback;
pub mod session;
pub mod system;

/// Exit code for a command-line usage error (sysexits EX_USAGE).
pub const EX_USAGE: i32 = 64;
/// Exit code for input data that is not what was expected, e.g. `exabgp decode`
/// given bytes that are no BGP message (sysexits EX_DATAERR).
pub const EX_DATAERR: i32 = 65;
/// Exit code for a configuration error (sysexits EX_CONFIG).
pub const EX_CONFIG: i32 = 78;
/// Exit code for an OS error such as a port in use (sysexits EX_OSERR).
pub const EX_OSERR: i32 = 71;
/// Exit code for a missing permission (sysexits EX_NOPERM).
pub const EX_NOPERM: i32 = 77;
/// Exit code for "another instance is running" / service unavailable (EX_UNAVAILABLE).
pub const EX_UNAVAILABLE: i32 = 69;
/// Exit code after `restart --hitless` handed the sessions over (sysexits
/// EX_TEMPFAIL): the unit lists it in RestartForceExitStatus= so systemd starts
/// the next process, which adopts them.
pub const EX_TEMPFAIL: i32 = 75;

/// The version string reported by `version` and in JSON events (`exabgp` key is the
/// API version "5.0.0", this is ours).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
