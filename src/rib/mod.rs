//! Adj-RIB-Out (what we announce, per neighbor) and Adj-RIB-In (what we received).

mod route;

pub use route::{NextHop, Route};
