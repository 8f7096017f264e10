//! The TOML configuration and the exabgp_* runtime settings.
//!
//! - [`load`] / [`parse_str`]: TOML text to a validated [`Config`], or a
//!   [`ConfigError`] listing every problem as `FILE:LINE:COL: message`.
//! - [`Settings::load`]: the `exabgp_*` settings from command line, environment,
//!   env file and defaults.

mod env;
mod env_file;
mod error;
mod fast;
mod model;
mod neighbor;
mod parse;
mod position;
mod process;
mod render;
mod route;
mod settings;
mod settings_doc;
pub mod socket_name;
mod validate;
mod values;
mod walk;

pub use env::{default_root, parse_bool_word, text_environ, LoadedSettings, SettingsError};
pub use error::{ConfigError, Diagnostic};
pub use model::*;
pub use parse::{known_keys, load, parse_str};
pub use settings::*;
pub use settings_doc::{example_env_file, SettingDoc, SETTINGS};
pub use validate::{summary, validate_main, validate_to};
