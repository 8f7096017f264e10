//! `exabgpcli`: talk to a running exabgp over its control socket (see `--help`).

fn main() {
    std::process::exit(exabgp::api::cli::main(std::env::args().collect()));
}
