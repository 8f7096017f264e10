//! The BGP-4 wire format: pure functions over bytes, no I/O.
//!
//! - [`types`]: the logical data model (shared contract).
//! - `text`: FromStr/Display of communities, origin, family.
//! - `iana`: the registry numbers.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod iana;
mod text;
mod types;

pub use text::ParseTextError;
pub use types::*;
