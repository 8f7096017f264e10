//! system: see the crate map in lib.rs.
pub mod sockpath;
