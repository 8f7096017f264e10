//! The TOML configuration and the exabgp_* runtime settings.
//!
//! - [`load`] / [`parse_str`]: TOML text to a validated [`Config`], or a
//!   [`ConfigError`] listing every problem as `FILE:LINE:COL: message`.
//! - [`Settings::load`]: the `exabgp_*` settings from command line, environment,
//!   env file and defaults.

mod error;
mod model;
mod parse;
mod position;
mod process;
mod render;
mod route;
mod settings;
mod values;
mod walk;

pub use error::{ConfigError, Diagnostic};
pub use model::*;
pub use parse::{load, parse_str};
pub use settings::*;
