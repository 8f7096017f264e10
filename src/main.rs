//! `exabgp`: the daemon and its subcommands. Thin: parsing arguments, setting up
//! logging and the runtime, mapping errors to exit codes; the work is in the library.

use std::process::ExitCode;

use clap::Parser;

use exabgp::args::{Cli, Cmd};
use exabgp::daemon::server::{self, ServerOptions};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Cmd::Cli { args } => {
            let mut argv = vec!["exabgp cli".to_string()];
            argv.extend(args);
            ExitCode::from(exabgp::api::cli::main(argv) as u8)
        }
        Cmd::Env { instance, env_file } => {
            match server::env_report(instance.as_deref(), env_file.as_deref()) {
                Ok(text) => {
                    print!("{text}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("exabgp env: {e}");
                    ExitCode::from(exabgp::EX_CONFIG as u8)
                }
            }
        }
        Cmd::Version => {
            println!("exabgp {}", exabgp::VERSION);
            ExitCode::SUCCESS
        }
        Cmd::Validate { file } => ExitCode::from(exabgp::config::validate_main(&file) as u8),
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
            log_destination,
            env_file,
        } => {
            let opts = ServerOptions {
                config,
                log_level,
                instance,
                log_destination,
                env_file,
            };
            match server::run_blocking(opts) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("exabgp: {e}");
                    ExitCode::from(e.exit_code() as u8)
                }
            }
        }
    }
}
