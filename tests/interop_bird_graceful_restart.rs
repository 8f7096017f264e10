//! Graceful restart (RFC 4724) against a real BIRD 2: exabgp is killed with
//! SIGKILL and started again; BIRD keeps our routes through the gap (stale) and
//! drops only the route removed from our configuration meanwhile, once we are
//! back (after our End-of-RIB).

mod support;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use support::*;

const EXA_AS: u32 = 65001;
const BIRD_AS: u32 = 65003;

fn bird_conf(dir: &std::path::Path, bird: IpAddr, port: u16, exa: IpAddr) -> String {
    format!(
        r#"
log "{log}" all;
router id 192.0.2.253;
protocol device {{ scan time 600; }}
protocol bgp exa {{
  local {bird} port {port} as {BIRD_AS};
  neighbor {exa} as {EXA_AS};
  passive on;
  strict bind on;
  multihop;
  hold time 30;
  graceful restart on;
  ipv4 {{ import all; export none; }};
}}
"#,
        log = dir.join("bird.log").display()
    )
}

/// The prefixes BIRD holds from exabgp.
fn bird_routes(bird: &Bird) -> String {
    bird.birdc(&["show", "route", "all", "protocol", "exa"])
        .unwrap_or_default()
}

#[test]
fn bird_keeps_our_routes_across_a_kill_9_until_our_end_of_rib() {
    let dir = TestDir::new("gr-bird");
    let exa_ip: IpAddr = loopback_addr(215).into();
    let bird_ip: IpAddr = loopback_addr(216).into();
    let port = free_port(bird_ip);
    let bird = Bird::start(&dir.path, &bird_conf(&dir.path, bird_ip, port, exa_ip));
    let (kept, dropped) = ("10.73.1.0/24", "10.73.2.0/24");
    let config = |routes: &[&str]| {
        let mut c = ExaConfig::new(EXA_AS)
            .connect_to(bird_ip, BIRD_AS, exa_ip, port)
            .line("hold-time = 30\ngraceful-restart = 60");
        for r in routes {
            c = c.route(r, "192.0.2.10");
        }
        c.build()
    };
    let mut exa = Exabgp::start(&dir.path, &config(&[kept, dropped]), None);
    let both = wait_for(WAIT, || {
        let r = bird_routes(&bird);
        (r.contains(kept) && r.contains(dropped)).then_some(())
    });
    assert!(both.is_some(), "BIRD never had our routes:\n{}", exa.log());
    // BIRD got our Graceful Restart capability: its neighbor capabilities show
    // our restart time (its own is 120).
    let proto = bird
        .birdc(&["show", "protocols", "all", "exa"])
        .unwrap_or_default();
    assert!(
        proto.contains("Restart time: 60"),
        "our graceful restart capability not in BIRD's view:\n{proto}"
    );

    exa.proc.signal(libc::SIGKILL);
    assert!(
        exa.proc.wait_exit(WAIT).is_some(),
        "exabgp survived SIGKILL"
    );
    let down = wait_for(WAIT, || (!bird.established("exa")).then_some(()));
    assert!(down.is_some(), "BIRD did not see the session go");
    // While we are away (3 s of polls), BIRD keeps both routes.
    let gap_end = Instant::now() + Duration::from_secs(3);
    while Instant::now() < gap_end {
        let r = bird_routes(&bird);
        assert!(
            r.contains(kept) && r.contains(dropped),
            "BIRD dropped our routes while we were away:\n{r}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // Back, without `dropped`.
    let exa = Exabgp::start(&dir.path, &config(&[kept]), None);
    exa.expect_log("R bit set", "the restart was not noticed");
    let mut gone = false;
    let until = Instant::now() + WAIT;
    while Instant::now() < until && !gone {
        let r = bird_routes(&bird);
        assert!(
            r.contains(kept),
            "{kept} disappeared at BIRD:\n{r}\n{}",
            exa.log()
        );
        gone = !r.contains(dropped);
        if gone {
            assert!(
                bird.established("exa"),
                "{dropped} withdrawn before the session was back"
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(gone, "{dropped} never withdrawn:\n{}", bird_routes(&bird));
}
