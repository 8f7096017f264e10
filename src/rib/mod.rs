//! Adj-RIB-Out (what we announce, per neighbor) and Adj-RIB-In (what we received).
//!
//! Each neighbor task owns one of each; nobody else mutates them.

mod adj_in;
mod flow;
pub mod hash;
mod intern;
mod out;
mod route;

pub use adj_in::{AdjRibIn, InChange, InEntry};
pub use flow::{FlowDelta, FlowOut, FlowRoute};
pub use intern::Interner;
pub use out::{AdjRibOut, AnnounceGroup, Delta, OutEntry};
pub use route::{NextHop, Route};

/// Estimated bytes of a hash table of `T` with room for `capacity` entries
/// (hashbrown: about 8/7 slots per entry, each a `T` and one control byte).
pub fn approx_table_bytes<T>(capacity: usize) -> usize {
    capacity.saturating_mul(8) / 7 * (std::mem::size_of::<T>() + 1)
}
