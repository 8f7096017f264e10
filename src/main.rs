//! `exabgp`: the daemon and its subcommands.

fn main() {
    println!("exabgp {}", exabgp::VERSION);
}
