//! Adj-RIB-Out (what we announce, per neighbor) and Adj-RIB-In (what we received).
//!
//! Each neighbor task owns one of each; nobody else mutates them.

mod adj_in;
pub mod hash;
mod intern;
mod out;
mod route;

pub use adj_in::{AdjRibIn, InChange, InEntry};
pub use intern::Interner;
pub use out::{AdjRibOut, AnnounceGroup, Delta, OutEntry};
pub use route::{NextHop, Route};
