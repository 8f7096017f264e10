//! `exabgpcli`: talk to a running exabgp over its control socket.

fn main() {
    println!("exabgpcli {}", exabgp::VERSION);
}
