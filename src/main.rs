//! `exabgp`: the daemon and its subcommands. Thin: parsing arguments, setting up
//! logging and the runtime, mapping errors to exit codes; the work is in the library.

use std::process::ExitCode;

use clap::Parser;

use exabgp::args::{Cli, Cmd};
use exabgp::daemon::startup::{self, ServerOptions};
use exabgp::EX_DATAERR;

/// A sysexits code (`exabgp::EX_*`, or the one an error carries) as the process's
/// exit status.
fn exit(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(u8::MAX))
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let argv: Vec<String> = std::env::args_os()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            let _ = e.print();
            return exit(exabgp::healthcheck::clap_exit_code(&e, &argv));
        }
    };
    match cli.command {
        Cmd::Cli { args } => {
            let mut argv = vec!["exabgp cli".to_string()];
            argv.extend(args);
            ExitCode::from(exabgp::api::cli::main(argv) as u8)
        }
        Cmd::Env { instance, env_file } => {
            match startup::env_report(instance.as_deref(), env_file.as_deref()) {
                Ok(text) => {
                    print!("{text}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("exabgp env: {e}");
                    exit(e.exit_code())
                }
            }
        }
        Cmd::Healthcheck(args) => {
            let argv: Vec<String> = std::env::args().collect();
            exit(exabgp::healthcheck::main(*args, &argv))
        }
        Cmd::Version => {
            println!("exabgp {}", exabgp::VERSION);
            ExitCode::SUCCESS
        }
        Cmd::Validate { file, env_file } => {
            if let Some(env_file) = env_file {
                match startup::check_env_file(&env_file) {
                    Ok(warnings) => {
                        for w in warnings {
                            eprintln!("exabgp validate: warning: {w}");
                        }
                    }
                    Err(e) => {
                        eprintln!("exabgp validate: {e}");
                        return exit(e.exit_code());
                    }
                }
            }
            exit(exabgp::config::validate_main(&file))
        }
        Cmd::Migrate { file } => match exabgp::config::migrate_file(&file) {
            Ok(toml) => {
                print!("{toml}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                exit(e.exit_code())
            }
        },
        Cmd::Decode { hex } => match startup::decode_hex(&hex) {
            Ok(text) => {
                println!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("exabgp decode: {e}");
                exit(EX_DATAERR)
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
            match startup::run_blocking(opts) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("exabgp: {e}");
                    exit(e.exit_code())
                }
            }
        }
    }
}
