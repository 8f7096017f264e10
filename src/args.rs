//! The command line of `exabgp` (its clap definition). It lives in the library, not
//! in main.rs, so the man pages and shell completions are generated from this same
//! definition (tests/generated_docs.rs); main.rs only dispatches on it.

use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "exabgp",
    version = crate::VERSION,
    about = "BGP route-injection daemon in the spirit of ExaBGP, native to systemd",
    long_about = "BGP route-injection daemon in the spirit of ExaBGP, native to systemd.\n\n\
        Announces the routes of a TOML configuration (see docs/configuration.md) to its BGP \
        neighbors, takes ExaBGP text-API commands from helper processes and from its control \
        socket (`exabgp cli`, `exabgpcli`), and reports what peers send as ExaBGP-shaped JSON.\n\n\
        Runtime settings use ExaBGP's names (exabgp_tcp_port, exabgp_tcp_bind, \
        exabgp_api_socketpath, exabgp_log_level, ...; see `exabgp env` and docs/settings.md), \
        with precedence command line > environment > env file > default.\n\n\
        Exit codes: 0 ok, 1 command refused, 69 another instance is running / no daemon \
        answers, 71 OS error (e.g. port in use), 75 sessions handed over by `restart --hitless` \
        (systemd starts the next process), 77 missing permission, 78 bad configuration.\n\n\
        Examples:\n  exabgp validate /etc/exabgp/edge1.toml\n  \
        exabgp server --instance edge1 /etc/exabgp/edge1.toml\n  \
        exabgp cli --instance edge1 show neighbor summary\n  \
        systemctl start exabgp@edge1   (see docs/systemd.md)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Subcommand)]
pub enum Cmd {
    /// Run the daemon in the foreground with this configuration file.
    Server {
        /// The configuration file (validated first; errors exit 78): TOML, or
        /// ExaBGP's own syntax when it ends in .conf (or reads like it).
        config: PathBuf,
        /// trace, debug, info, warning, error (overrides exabgp_log_level).
        #[arg(long)]
        log_level: Option<String>,
        /// Instance name (control socket name, log field).
        #[arg(long)]
        instance: Option<String>,
        /// Where logs go: auto (journald when stderr is the journal), stderr, journal.
        #[arg(long = "log", value_name = "DEST")]
        log_destination: Option<String>,
        /// Read exabgp_* settings from this env file (exabgp@.service passes
        /// /etc/exabgp/NAME.env). A file that does not exist is skipped; one with
        /// an unknown or malformed setting exits 78. The environment and the
        /// command line win over it.
        #[arg(long, value_name = "FILE")]
        env_file: Option<PathBuf>,
    },
    /// Talk to a running daemon over its control socket (same as `exabgpcli`).
    #[command(disable_help_flag = true)]
    Cli {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Print every effective exabgp_* setting with where it came from, and the
    /// control socket path with why each earlier candidate was skipped.
    Env {
        /// Instance name, as given to `server --instance`.
        #[arg(long)]
        instance: Option<String>,
        /// Also read this env file (as systemd's EnvironmentFile= would).
        #[arg(long, value_name = "FILE")]
        env_file: Option<PathBuf>,
    },
    /// Check a configuration file (TOML, or ExaBGP's syntax): exit 0 with a summary,
    /// or 78 with file:line:col errors.
    Validate {
        file: PathBuf,
        /// Also check this env file (exabgp_* settings, ExaBGP's INI form too):
        /// ignored ExaBGP settings are a warning on stderr, an unknown or
        /// malformed setting exits 78.
        #[arg(long, value_name = "FILE")]
        env_file: Option<PathBuf>,
    },
    /// Print the TOML equivalent of an ExaBGP (classic) configuration file.
    ///
    /// Reads FILE in ExaBGP 4.2 / 5.0 syntax (neighbor, template/inherit, group,
    /// process, static and announce routes, api) and prints on stdout the TOML that
    /// loads to exactly the same configuration, with every default written out and
    /// the file's comments carried next to the neighbor, route or process they were
    /// written beside. `exabgp server` and `exabgp validate` also read the classic
    /// file directly; migrate when you want to edit TOML from now on:
    ///
    ///   exabgp migrate /etc/exabgp/exabgp.conf > /etc/exabgp/edge1.toml
    ///
    /// A construct exabgp-rs does not support is an error naming it at
    /// FILE:LINE:COL (see docs/configuration.md); exit 78 then, nothing printed.
    Migrate { file: PathBuf },
    /// Decode one BGP message given in hex (with or without its 16-byte marker).
    Decode { hex: String },
    /// Print the version.
    Version,
    /// Announce service addresses while a check passes: the helper to run as a
    /// `[[process]]` (ExaBGP's healthcheck options; see docs/healthcheck.md).
    ///
    /// Runs --cmd every --interval seconds and prints `announce route IP next-hop
    /// self med METRIC ...` (or `withdraw route ...`) for each --ip on stdout, the
    /// MED being --up-metric, --down-metric or --disabled-metric by state. States:
    /// INIT, RISING, FALLING, UP (after --rise successes), DOWN (after --fall
    /// failures), DISABLED (while the --disable file exists); SIGTERM withdraws
    /// the routes and exits (EXIT). Exit codes: 0 stopped, 64 bad option (an
    /// ExaBGP option we do not implement is refused by name), 71 OS error, 77 no
    /// CAP_NET_ADMIN for --ip-setup.
    // As with ExaBGP's argparse, a single-valued option given twice: the last wins
    // (what lets the command line override a --config file).
    #[command(args_override_self = true)]
    Healthcheck(Box<crate::healthcheck::HealthcheckArgs>),
}

/// The clap command of `exabgp`, for the man pages and completions.
pub fn command() -> clap::Command {
    Cli::command()
}
