//! The BGP-4 wire format: pure functions over bytes, no I/O.
//!
//! - `types`: the logical data model (shared contract); AS numbers are always
//!   4-octet there, the RFC 6793 translation happens here.
//! - `message`: framing, [`decode_message`] / [`encode_message`].
//! - `open`, `update`, `notification`, `refresh`: message bodies.
//! - `attr_decode` / `attr_encode` / `as_path` / `nlri`: path attributes and prefixes.
//! - `pack`: [`pack_announce`], [`pack_withdraw`], [`encode_end_of_rib`].
//! - `error`: [`DecodeError`] (which *is* the NOTIFICATION to send) and [`EncodeError`].
//! - `text`: FromStr/Display of communities, origin, family.
//! - `negotiate`: [`CodecOptions::negotiate`], `Open::common_families`.
//! - `fuzz`: [`fuzz_decode`], the property every input must keep.
//! - [`flow`]: FlowSpec (RFC 8955/8956): the flow NLRI, its text, the traffic actions.
//! - [`iana`]: the registry numbers.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod as_path;
mod attr_decode;
mod attr_encode;
mod error;
mod family;
pub mod flow;
mod fuzz;
pub mod iana;
mod message;
mod negotiate;
mod nlri;
mod notification;
mod open;
mod pack;
mod refresh;
mod text;
mod types;
mod update;
mod wire;

pub use error::*;
pub use flow::{FlowAction, FlowNlri, FlowRule};
pub use fuzz::{fuzz_decode, normalize_for_roundtrip, FUZZ_OPTIONS};
pub use message::{decode_message, decode_message_negotiated, encode_message};
pub use notification::SHUTDOWN_TEXT_MAX;
pub use pack::{encode_end_of_rib, pack_announce, pack_flow_announce, pack_withdraw};
pub use text::ParseTextError;
pub use types::*;
