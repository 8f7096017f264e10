//! `exabgpcli`: talk to a running exabgp over its control socket (see `--help`).

fn main() {
    // args_os: std::env::args() panics (exit 101) on an argument that is not UTF-8.
    std::process::exit(exabgp::api::cli::main_os(std::env::args_os()));
}
