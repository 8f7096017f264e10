//! The TOML configuration and the exabgp_* runtime settings.

mod model;

pub use model::*;
