//! The TOML configuration and the exabgp_* runtime settings.

mod model;
mod settings;

pub use model::*;
pub use settings::*;
