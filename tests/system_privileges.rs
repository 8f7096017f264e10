//! Privilege drop in a real child process started as root: bind first, then switch
//! to `nobody` and drop every capability; /proc shows uid 65534 and CapEff 0, the
//! listener bound before still accepts, and a privileged port can no longer be bound
//! (with an error that says how to fix it).

mod support;

use std::net::{TcpListener, TcpStream};

use exabgp::system::bind::bind_bgp;
use exabgp::system::privileges::{drop_privileges, PrivilegeError};
use support::system::{report, Probe};

/// A field of /proc/thread-self/status (capabilities are per thread; this is the
/// libtest thread running the probe).
fn status_field(name: &str) -> String {
    std::fs::read_to_string("/proc/thread-self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
        .unwrap_or_default()
}

#[test]
#[ignore = "helper process started by privileges_* tests"]
fn probe_privileges_child() {
    if std::env::var("EXABGP_PROBE").as_deref() != Ok("privileges") {
        return;
    }
    match drop_privileges("no-such-user-exabgp-test", true) {
        Err(PrivilegeError::NoSuchUser(u)) => report("unknown-user", &u),
        other => report("unknown-user", &format!("unexpected {other:?}")),
    }
    report("capeff-before", &status_field("CapEff:"));
    let listener = match TcpListener::bind("127.0.0.1:0") {
        Ok(l) => l,
        Err(e) => return report("error", &e.to_string()),
    };
    match drop_privileges("nobody", true) {
        Ok(d) => report("switched", &format!("{:?} uid={}", d.switched_to, d.uid)),
        Err(e) => return report("error", &e.to_string()),
    }
    for f in [
        "Uid:",
        "Gid:",
        "Groups:",
        "CapEff:",
        "CapPrm:",
        "CapInh:",
        "CapAmb:",
        "NoNewPrivs:",
    ] {
        report(f.trim_end_matches(':'), &status_field(f));
    }
    let accepted = listener
        .local_addr()
        .and_then(TcpStream::connect)
        .and_then(|_| listener.accept())
        .is_ok();
    report("old-listener-accepts", &accepted.to_string());
    match bind_bgp(&["127.0.0.1:179".parse().unwrap_or_else(|_| unreachable!())]) {
        Ok(_) => report("port179", "bound"),
        Err(e) => report("port179", &e.to_string()),
    }
}

#[test]
fn privileges_drop_to_nobody_with_no_capabilities() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("skipped: needs root to switch users (CI and the testbed run as root)");
        return;
    }
    let mut probe = Probe::start_with(
        "",
        &[],
        "probe_privileges_child",
        &[("EXABGP_PROBE", "privileges")],
    );
    let out = probe.finish();
    assert_eq!(out.get("error"), None, "{out:?}");
    assert_eq!(
        out.get("unknown-user").map(String::as_str),
        Some("no-such-user-exabgp-test")
    );
    assert_ne!(
        out.get("capeff-before").map(String::as_str),
        Some("0000000000000000"),
        "root should start with capabilities: {out:?}"
    );
    assert_eq!(
        out.get("switched").map(String::as_str),
        Some("Some(\"nobody\") uid=65534")
    );
    // real, effective, saved, filesystem uid
    assert_eq!(
        out.get("Uid").map(String::as_str),
        Some("65534\t65534\t65534\t65534")
    );
    assert_eq!(
        out.get("Groups").map(String::as_str).map(str::trim),
        Some("65534")
    );
    for set in ["CapEff", "CapPrm", "CapInh", "CapAmb"] {
        assert_eq!(
            out.get(set).map(String::as_str),
            Some("0000000000000000"),
            "{set}: {out:?}"
        );
    }
    assert_eq!(out.get("NoNewPrivs").map(String::as_str), Some("1"));
    assert_eq!(
        out.get("old-listener-accepts").map(String::as_str),
        Some("true")
    );
    let port179 = out.get("port179").cloned().unwrap_or_default();
    let unprivileged_start: u32 =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(1024);
    if unprivileged_start > 179 {
        assert!(
            port179.contains("CAP_NET_BIND_SERVICE") && port179.contains("exabgp-bgp@"),
            "{port179}"
        );
    }
}
