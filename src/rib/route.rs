//! A route as the config and the API describe it, before it meets a neighbor.

use std::net::IpAddr;
use std::sync::Arc;

use crate::bgp::{PathAttributes, Prefix};

/// Where the next hop of a route comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NextHop {
    /// Our local address on the session the route is sent over ("next-hop self").
    SelfAddress,
    Address(IpAddr),
}

/// A route to announce: a prefix, its next hop and its path attributes.
///
/// `attributes` never carries NEXT_HOP or MP_REACH/MP_UNREACH: those are built per
/// neighbor when the route is packed into an UPDATE. It is behind an `Arc` because
/// many routes share one attribute set (that is also how UPDATE packing groups them).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Route {
    pub prefix: Prefix,
    pub next_hop: NextHop,
    pub attributes: Arc<PathAttributes>,
}
