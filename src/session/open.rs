//! OPEN: what we propose, how we check the peer's, and what both agreed on.
//!
//! Pure functions (no I/O) so every rule is unit-tested: version 4, the peer AS we
//! were told to expect (Bad Peer AS), a usable BGP identifier, hold time 0 or >= 3,
//! and the capabilities both sides advertised (4-octet AS, extended message,
//! multiprotocol families, route refresh) turned into [`CodecOptions`].
//!
//! Graceful restart (RFC 4724), when the neighbor has `graceful-restart`:
//! - we list every configured family with the Forwarding State (F) bit set. We
//!   program no FIB: the forwarding our routes lead to is done by the host's kernel
//!   and services, which a restart of this process leaves running, so it *is*
//!   preserved across our restart (RFC 4724 §3: F "has been preserved during the
//!   previous BGP restart"). With F clear the peer would flush our routes the
//!   moment we reconnect (RFC 4724 §4.2), which is the flap GR exists to avoid;
//! - the Restart State (R) bit is set on the sessions of a process that restarted
//!   without a clean stop (see `daemon::restart_marker`), until each is
//!   established once (RFC 4724 §4.1);
//! - the peer's capability is kept in [`Negotiated`] only when both sides sent
//!   one: then the neighbor task keeps its routes as stale over a session loss
//!   (RFC 4724 §4.2).

use std::net::Ipv4Addr;
use std::time::Duration;

use crate::bgp::iana::{
    ERR_OPEN, OPEN_BAD_BGP_IDENTIFIER, OPEN_BAD_PEER_AS, OPEN_UNACCEPTABLE_HOLD_TIME,
    OPEN_UNSUPPORTED_VERSION,
};
use crate::bgp::{Capability, CodecOptions, Family, GracefulRestart, Notification, Open};
use crate::config::NeighborConfig;

/// What both sides agreed on in their OPENs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// min(ours, theirs); 0 means no hold timer and no keepalives.
    pub hold_time: u16,
    pub codec: CodecOptions,
    /// Families both sides advertised (ipv4 unicast implied without MP capabilities).
    pub families: Vec<Family>,
    /// Both sides advertised route refresh.
    pub route_refresh: bool,
    pub peer_router_id: Ipv4Addr,
    pub peer_as: u32,
    /// The peer's Graceful Restart capability, when both sides advertised one
    /// (RFC 4724 §4.2: what to do with its routes when the session is lost).
    pub graceful_restart: Option<GracefulRestart>,
}

impl Negotiated {
    /// Time between our KEEPALIVEs (hold time / 3), None when the hold time is 0.
    pub fn keepalive_interval(&self) -> Option<Duration> {
        (self.hold_time > 0).then(|| Duration::from_secs(u64::from(self.hold_time / 3).max(1)))
    }

    pub fn hold_duration(&self) -> Option<Duration> {
        (self.hold_time > 0).then(|| Duration::from_secs(u64::from(self.hold_time)))
    }
}

/// The OPEN we send to this neighbor; `restarted`: this process restarted
/// without a clean stop and the neighbor has not been established since (the R bit).
pub fn local_open(cfg: &NeighborConfig, restarted: bool) -> Open {
    let mut capabilities: Vec<Capability> = cfg
        .families
        .iter()
        .map(|f| Capability::Multiprotocol(*f))
        .collect();
    capabilities.push(Capability::RouteRefresh);
    capabilities.push(Capability::ExtendedMessage);
    capabilities.push(Capability::FourOctetAs(cfg.local_as));
    if let Some(restart_time) = cfg.graceful_restart {
        capabilities.push(Capability::GracefulRestart(GracefulRestart {
            flags: if restarted {
                GracefulRestart::RESTART_STATE
            } else {
                0
            },
            restart_time: restart_time.min(4095),
            families: cfg
                .families
                .iter()
                .map(|f| (*f, GracefulRestart::FORWARDING_STATE))
                .collect(),
        }));
    }
    Open {
        version: 4,
        my_as: cfg.local_as,
        hold_time: cfg.hold_time,
        router_id: cfg.router_id,
        capabilities,
    }
}

/// The Graceful Restart capability of an OPEN, if any.
pub fn graceful_restart(o: &Open) -> Option<&GracefulRestart> {
    o.capabilities.iter().find_map(|c| match c {
        Capability::GracefulRestart(g) => Some(g),
        _ => None,
    })
}

fn open_error(subcode: u8, data: Vec<u8>) -> Notification {
    Notification {
        code: ERR_OPEN,
        subcode,
        data,
    }
}

/// Checks the peer's OPEN against the neighbor's configuration and negotiates.
/// Err is the NOTIFICATION to send before closing.
pub fn negotiate(
    cfg: &NeighborConfig,
    ours: &Open,
    peer: &Open,
) -> Result<Negotiated, Notification> {
    if peer.version != 4 {
        // Data: the largest version we support (RFC 4271 §6.2).
        return Err(open_error(OPEN_UNSUPPORTED_VERSION, vec![0, 4]));
    }
    if peer.my_as != cfg.peer_as {
        return Err(open_error(OPEN_BAD_PEER_AS, Vec::new()));
    }
    if peer.router_id.is_unspecified()
        || (cfg.peer_as == cfg.local_as && peer.router_id == cfg.router_id)
    {
        return Err(open_error(OPEN_BAD_BGP_IDENTIFIER, Vec::new()));
    }
    if peer.hold_time == 1 || peer.hold_time == 2 {
        return Err(open_error(OPEN_UNACCEPTABLE_HOLD_TIME, Vec::new()));
    }
    let route_refresh = ours.route_refresh() && peer.route_refresh();
    // Without a multiprotocol capability the peer does IPv4 unicast only
    // (Open::families).
    let theirs = peer.families();
    let families: Vec<Family> = cfg
        .families
        .iter()
        .copied()
        .filter(|f| theirs.contains(f))
        .collect();
    Ok(Negotiated {
        hold_time: ours.hold_time.min(peer.hold_time),
        codec: CodecOptions::negotiate(ours, peer),
        families,
        route_refresh,
        peer_router_id: peer.router_id,
        peer_as: peer.my_as,
        graceful_restart: graceful_restart(ours).and(graceful_restart(peer)).cloned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(local_as: u32, peer_as: u32) -> NeighborConfig {
        NeighborConfig {
            address: "192.0.2.254".parse().unwrap(),
            peer_as,
            local_as,
            router_id: "192.0.2.1".parse().unwrap(),
            local_address: None,
            port: 179,
            hold_time: 90,
            passive: false,
            families: vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST],
            md5_password: None,
            description: None,
            max_prefix: None,
            graceful_restart: None,
        }
    }

    fn peer_open(asn: u32, hold: u16, caps: Vec<Capability>) -> Open {
        Open {
            version: 4,
            my_as: asn,
            hold_time: hold,
            router_id: "192.0.2.254".parse().unwrap(),
            capabilities: caps,
        }
    }

    #[test]
    fn negotiates_min_hold_families_and_capabilities() {
        let c = cfg(65001, 65000);
        let ours = local_open(&c, false);
        let peer = peer_open(
            65000,
            30,
            vec![
                Capability::Multiprotocol(Family::IPV4_UNICAST),
                Capability::FourOctetAs(65000),
                Capability::RouteRefresh,
            ],
        );
        let n = negotiate(&c, &ours, &peer).unwrap();
        assert_eq!(n.hold_time, 30);
        assert_eq!(n.keepalive_interval(), Some(Duration::from_secs(10)));
        assert_eq!(n.families, vec![Family::IPV4_UNICAST]);
        assert_eq!(
            n.codec,
            CodecOptions {
                four_octet_as: true,
                extended_message: false
            }
        );
        assert!(n.route_refresh);
    }

    #[test]
    fn no_mp_capability_means_ipv4_unicast_and_hold_zero_means_no_keepalive() {
        let c = cfg(65001, 65000);
        let n = negotiate(&c, &local_open(&c, false), &peer_open(65000, 0, vec![])).unwrap();
        assert_eq!(n.families, vec![Family::IPV4_UNICAST]);
        assert_eq!(n.hold_time, 0);
        assert_eq!(n.keepalive_interval(), None);
        assert_eq!(n.codec, CodecOptions::INITIAL);
    }

    /// RFC 4724 §3/§4: our capability (F for every family, R only after a
    /// restart), and the peer's kept only when both advertised one.
    #[test]
    fn graceful_restart_advertised_and_negotiated() {
        let mut c = cfg(65001, 65000);
        assert!(
            graceful_restart(&local_open(&c, true)).is_none(),
            "off by default"
        );
        c.graceful_restart = Some(120);
        let fresh = local_open(&c, false);
        let g = graceful_restart(&fresh).unwrap();
        assert_eq!(g.restart_time, 120);
        assert!(!g.restart_state());
        assert!(g.forwarding_preserved(Family::IPV4_UNICAST));
        assert!(g.forwarding_preserved(Family::IPV6_UNICAST));
        assert!(graceful_restart(&local_open(&c, true))
            .unwrap()
            .restart_state());
        let theirs = GracefulRestart {
            flags: 0,
            restart_time: 90,
            families: vec![],
        };
        let peer = peer_open(65000, 90, vec![Capability::GracefulRestart(theirs.clone())]);
        let n = negotiate(&c, &fresh, &peer).unwrap();
        assert_eq!(n.graceful_restart, Some(theirs));
        // Only one side: nothing negotiated.
        let plain = peer_open(65000, 90, vec![]);
        assert_eq!(
            negotiate(&c, &fresh, &plain).unwrap().graceful_restart,
            None
        );
        c.graceful_restart = None;
        assert_eq!(
            negotiate(&c, &local_open(&c, false), &peer)
                .unwrap()
                .graceful_restart,
            None
        );
    }

    #[test]
    fn rejects_what_rfc4271_rejects() {
        let c = cfg(65001, 65000);
        let ours = local_open(&c, false);
        let err = |o: Open| negotiate(&c, &ours, &o).unwrap_err();
        let mut v3 = peer_open(65000, 90, vec![]);
        v3.version = 3;
        assert_eq!(
            err(v3),
            Notification {
                code: 2,
                subcode: 1,
                data: vec![0, 4]
            }
        );
        assert_eq!(err(peer_open(65002, 90, vec![])).subcode, OPEN_BAD_PEER_AS);
        assert_eq!(
            err(peer_open(65000, 1, vec![])).subcode,
            OPEN_UNACCEPTABLE_HOLD_TIME
        );
        assert_eq!(
            err(peer_open(65000, 2, vec![])).subcode,
            OPEN_UNACCEPTABLE_HOLD_TIME
        );
        let mut zero = peer_open(65000, 90, vec![]);
        zero.router_id = Ipv4Addr::UNSPECIFIED;
        assert_eq!(err(zero).subcode, OPEN_BAD_BGP_IDENTIFIER);
        // iBGP: the peer may not use our identifier.
        let ibgp = cfg(65000, 65000);
        let mut same = peer_open(65000, 90, vec![]);
        same.router_id = ibgp.router_id;
        assert_eq!(
            negotiate(&ibgp, &local_open(&ibgp, false), &same)
                .unwrap_err()
                .subcode,
            OPEN_BAD_BGP_IDENTIFIER
        );
        // eBGP: an identical identifier is tolerated (RFC 6286 §2.1).
        let mut same_ebgp = peer_open(65000, 90, vec![]);
        same_ebgp.router_id = c.router_id;
        assert!(negotiate(&c, &ours, &same_ebgp).is_ok());
    }
}
