//! `exabgp`: the daemon and its subcommands. Thin: parsing arguments, setting up
//! logging and the runtime, mapping errors to exit codes; the work is in the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use exabgp::daemon::server::{self, ServerError, ServerOptions};

#[derive(Parser)]
#[command(name = "exabgp", version = exabgp::VERSION, about = "BGP route-injection daemon")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the daemon in the foreground with this configuration file.
    Server {
        config: PathBuf,
        /// trace, debug, info, warning, error (overrides exabgp_log_level).
        #[arg(long)]
        log_level: Option<String>,
        /// Instance name (control socket name, log field).
        #[arg(long)]
        instance: Option<String>,
    },
    /// Check a configuration file: exit 0 with a summary, or 78 with file:line:col errors.
    Validate { file: PathBuf },
    /// Decode one BGP message given in hex (with or without its 16-byte marker).
    Decode { hex: String },
    /// Print the version.
    Version,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Cmd::Version => {
            println!("exabgp {}", exabgp::VERSION);
            ExitCode::SUCCESS
        }
        Cmd::Validate { file } => match exabgp::config::load(&file) {
            Ok(c) => {
                println!("{}: ok, {}", file.display(), server::summary(&c));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(exabgp::EX_CONFIG as u8)
            }
        },
        Cmd::Decode { hex } => match server::decode_hex(&hex) {
            Ok(text) => {
                println!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("exabgp decode: {e}");
                ExitCode::from(65)
            }
        },
        Cmd::Server {
            config,
            log_level,
            instance,
        } => {
            let opts = ServerOptions {
                config,
                log_level,
                instance,
            };
            match server::run_blocking(opts) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("exabgp: {e}");
                    ExitCode::from(match e {
                        ServerError::Config(_) | ServerError::Settings(_) => exabgp::EX_CONFIG,
                        _ => exabgp::EX_OSERR,
                    } as u8)
                }
            }
        }
    }
}
