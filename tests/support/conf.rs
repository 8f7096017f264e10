//! The daemon's TOML configuration as most tests write it: `[global]`, then
//! neighbors we connect to or that connect to us, then routes; anything else is
//! added as raw lines.

use std::fmt::Display;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// An `exabgp server` configuration being written.
pub struct ExaConfig(String);

impl ExaConfig {
    /// `[global]` with router-id 192.0.2.1 and `local_as`.
    pub fn new(local_as: u32) -> ExaConfig {
        ExaConfig::with_router_id("192.0.2.1", local_as)
    }

    /// `[global]` with `router_id` and `local_as`.
    pub fn with_router_id(router_id: &str, local_as: u32) -> ExaConfig {
        ExaConfig(format!(
            "[global]\nrouter-id = \"{router_id}\"\nlocal-as = {local_as}\n"
        ))
    }

    /// A `[[neighbor]]` with only its address and AS; more keys with `line`.
    pub fn neighbor(mut self, peer: impl Display, peer_as: u32) -> ExaConfig {
        self.0.push_str(&format!(
            "\n[[neighbor]]\naddress = \"{peer}\"\npeer-as = {peer_as}\n"
        ));
        self
    }

    /// A `[[neighbor]]` we connect to: `peer` on `port`, from `local`.
    pub fn connect_to(self, peer: IpAddr, peer_as: u32, local: IpAddr, port: u16) -> ExaConfig {
        self.neighbor(peer, peer_as)
            .line(&format!("local-address = \"{local}\"\nport = {port}"))
    }

    /// A `[[neighbor]]` that only accepts connections from `peer`.
    pub fn passive(self, peer: impl Display, peer_as: u32) -> ExaConfig {
        self.neighbor(peer, peer_as).line("passive = true")
    }

    /// A `[[route]]` with only a prefix and a next hop.
    pub fn route(mut self, prefix: &str, next_hop: &str) -> ExaConfig {
        self.0.push_str(&format!(
            "\n[[route]]\nprefix = \"{prefix}\"\nnext-hop = \"{next_hop}\"\n"
        ));
        self
    }

    /// `text` as it is, then a newline: more keys for the table above, or whole
    /// tables.
    pub fn line(mut self, text: &str) -> ExaConfig {
        self.0.push_str(text);
        self.0.push('\n');
        self
    }

    pub fn build(self) -> String {
        self.0
    }
}

/// AS 65001 with router-id `router_id`, connecting to `neighbor` (AS 65000) on
/// `port` from `local`, hold time 30 s.
pub fn daemon_config(router_id: &str, neighbor: IpAddr, local: IpAddr, port: u16) -> String {
    ExaConfig::with_router_id(router_id, 65001)
        .connect_to(neighbor, 65000, local, port)
        .line("hold-time = 30")
        .build()
}

/// A `[[process]]` running `python3 -u SCRIPT LOG` with `encoder`, receiving
/// `receive` (a TOML list, e.g. `"update", "state"`).
pub fn helper_process(
    name: &str,
    script: &Path,
    log: &Path,
    encoder: &str,
    receive: &str,
) -> String {
    format!(
        "\n[[process]]\nname = \"{name}\"\nrun = [\"python3\", \"-u\", \"{}\", \"{}\"]\nencoder = \"{encoder}\"\nreceive = [{receive}]\n",
        script.display(),
        log.display()
    )
}

/// Writes the helper `text` to `dir/NAME.py`; returns it and `dir/NAME.log` (where
/// the helpers of these tests write what they see).
pub fn write_helper(dir: &Path, name: &str, text: &str) -> (PathBuf, PathBuf) {
    let script = dir.join(format!("{name}.py"));
    std::fs::write(&script, text).expect("write the helper");
    (script, dir.join(format!("{name}.log")))
}

pub const PASSIVE_ONLY: &str = "[global]\nrouter-id = \"192.0.2.1\"\nlocal-as = 65001\n\n[[neighbor]]\naddress = \"192.0.2.200\"\npeer-as = 65200\npassive = true\n";
