//! `exabgp-rollback`: change an exabgp instance safely and roll back config, env and
//! package (see `--help` and src/rollback/).

fn main() {
    std::process::exit(exabgp::rollback::cli::main(std::env::args().collect()));
}
