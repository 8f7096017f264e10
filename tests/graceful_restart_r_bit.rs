//! The Restart State (R) bit of graceful restart (RFC 4724 §4.1) after an
//! unclean stop is for the neighbors the restarted daemon starts with: a neighbor
//! a reload adds later gets a plain OPEN (R clear), as it had no session with us
//! before the restart.

mod support;

use std::fs;
use std::net::{IpAddr, SocketAddr};

use support::raw::*;
use support::*;

const EXA_AS: u32 = 65001;

/// The Restart Flags of the Graceful Restart capability in an OPEN body, if any.
fn gr_flags(open: &[u8]) -> Option<u8> {
    let params = open.get(10..10 + usize::from(*open.get(9)?))?;
    let mut i = 0;
    while i + 2 <= params.len() {
        let (kind, len) = (params[i], usize::from(params[i + 1]));
        let value = params.get(i + 2..i + 2 + len)?;
        if kind == 2 {
            let mut j = 0;
            while j + 2 <= value.len() {
                let (code, clen) = (value[j], usize::from(value[j + 1]));
                if code == 64 {
                    return value.get(j + 2).copied();
                }
                j += 2 + clen;
            }
        }
        i += 2 + len;
    }
    None
}

#[test]
fn a_neighbor_added_by_reload_after_a_restart_sends_no_r_bit() {
    let dir = TestDir::new("gr-late-neighbor");
    let exa_ip: IpAddr = loopback_addr(233).into();
    let raw_ip: IpAddr = loopback_addr(234).into();
    let port = free_port(exa_ip);
    let first = ExaConfig::new(EXA_AS)
        .passive("192.0.2.200", 65200)
        .line("graceful-restart = 60")
        .build();
    // An unclean stop: the next start sets the R bit.
    let mut exa = Exabgp::start(&dir.path, &first, Some((exa_ip, port)));
    exa.expect_log("daemon started", "the first daemon did not start");
    exa.proc.signal(libc::SIGKILL);
    assert!(
        exa.proc.wait_exit(WAIT).is_some(),
        "exabgp survived SIGKILL"
    );
    let exa = Exabgp::start(&dir.path, &first, Some((exa_ip, port)));
    exa.expect_log("R bit set", "the restart was not noticed");

    // A reload adds the raw peer's neighbor, with graceful restart.
    let second = ExaConfig::new(EXA_AS)
        .passive("192.0.2.200", 65200)
        .line("graceful-restart = 60")
        .passive(raw_ip, RAW_AS.into())
        .line("graceful-restart = 60")
        .build();
    fs::write(&exa.config, second).unwrap();
    exa.proc.signal(libc::SIGHUP);
    exa.expect_log(
        &format!("neighbor added peer={raw_ip}"),
        "the reload did not add it",
    );
    let exa_addr = SocketAddr::new(exa_ip, port);
    let mut p = RawPeer::from_stream(connect_when_listening(raw_ip, exa_addr, "exabgp"));
    let (t, open) = p.read().expect("exabgp's OPEN");
    assert_eq!(t, 1, "first message is OPEN");
    let flags = gr_flags(&open);
    assert!(flags.is_some(), "no graceful restart capability: {open:?}");
    assert_eq!(
        flags.unwrap_or(0) & 0x80,
        0,
        "R bit set for a neighbor added after the restart:\n{}",
        exa.log()
    );
}
