//! The BGP-4 wire format: pure functions over bytes, no I/O.

mod types;

pub use types::*;
