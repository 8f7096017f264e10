//! The TOML configuration and the exabgp_* runtime settings.
//!
//! - [`load`] / [`parse_str`]: TOML text to a validated [`Config`], or a
//!   [`ConfigError`] listing every problem as `FILE:LINE:COL: message`.
//!   The pipeline runs one way, from `load.rs` (the entry) down; see its header.
//! - [`Settings::load`] (`settings/`): the `exabgp_*` settings from command line,
//!   environment, env file and defaults.

pub mod classic;
mod error;
mod fast;
mod flow;
mod global;
mod load;
mod migrate;
mod model;
mod neighbor;
mod parse;
mod position;
mod process;
mod render;
mod route;
mod route_check;
mod settings;
pub mod socket_name;
mod validate;
mod values;
mod walk;

pub use error::{ConfigError, Diagnostic};
pub use load::{known_keys, load, parse_str};
pub use migrate::{migrate_file, to_toml as classic_to_toml};
pub use model::*;
// Many callers (main, daemon, api, tests) name these `config::Settings` etc.
pub use settings::{
    default_root, example_env_file, parse_bool_word, text_environ, LoadedSettings, LogDestination,
    SettingDoc, SettingOrigin, Settings, SettingsError, SETTINGS,
};
pub use settings::{IgnoredSetting, IgnoredUse, Shown, EXABGP_IGNORED};
pub use validate::{summary, validate_main, validate_to};
