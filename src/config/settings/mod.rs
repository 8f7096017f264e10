//! Daemon runtime settings: ExaBGP's `exabgp_*` names, read from the command line,
//! the environment and an env file, in that order of precedence, else a default.
//!
//! - `model.rs`: [`Settings`] and where each value came from.
//! - `doc.rs`: the list of settings (names, defaults, descriptions).
//! - `env_file.rs`: reading an env file (systemd and ExaBGP INI forms).
//! - `env.rs`: [`Settings::load`], putting the sources together.

mod doc;
mod env;
mod env_file;
mod model;

pub use doc::{example_env_file, IgnoredSetting, SettingDoc, EXABGP_IGNORED, SETTINGS};
pub use env::{
    default_root, parse_bool_word, text_environ, IgnoredUse, LoadedSettings, SettingsError, Shown,
};
pub use model::*;
