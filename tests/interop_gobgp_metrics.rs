//! The Prometheus endpoint against a real GoBGP (gobgpd) on loopback: the daemon
//! runs with exabgp_metrics_listen on a free loopback port and is scraped with a
//! plain TCP GET. The session's state, uptime, route counts (both directions, per
//! family) and message counters appear with the right values, a reset from GoBGP
//! shows up as a flop with the Cease it sent, and `exabgpcli show metrics` prints
//! the same text. Then a real Prometheus (Debian package) scrapes the daemon every
//! second, loads the alert rules of monitoring/, and its HTTP API returns the
//! values.

mod support;

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::*;

const EXA_AS: u32 = 65001;
const GOBGP_AS: u32 = 65000;

/// Two IPv4 routes and one IPv6 route announced to GoBGP.
fn config(gobgp: &Gobgp, exa: IpAddr) -> String {
    let rest = r#"hold-time = 30
families = ["ipv4 unicast", "ipv6 unicast"]

[[route]]
prefix = "203.0.113.0/24"
next-hop = "192.0.2.10"

[[route]]
prefix = "198.51.100.0/24"
next-hop = "192.0.2.10"

[[route]]
prefix = "2001:db8:100::/48"
next-hop = "2001:db8::10"

[[process]]
name = "sleeper"
run = ["/bin/sleep", "600"]

[[process]]
name = "quitter"
run = ["/bin/true"]
respawn-limit = 2

[[process]]
name = "cycler"
run = ["/bin/true"]
respawn-limit = 1000
respawn-window = 1"#;
    gobgp.exabgp_config(EXA_AS, exa).line(rest).build()
}

/// Starts `exabgp server` as `Exabgp::start` does, with the metrics endpoint on
/// a free port of 127.0.0.1; returns it with the endpoint's address.
fn start_with_metrics(dir: &Path, config: &str) -> (Exabgp, SocketAddr) {
    let path = dir.join("exabgp.toml");
    std::fs::write(&path, config).expect("write exabgp config");
    let metrics = free_addr("127.0.0.1".parse().unwrap());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_exabgp"));
    cmd.arg("server").arg(&path).arg("--log-level").arg("debug");
    cmd.env_remove("exabgp_tcp_bind")
        .env_remove("exabgp_tcp_port")
        .env("exabgp_api_socketpath", dir.join("exabgp.sock"))
        .env("exabgp_daemon_drop", "false")
        .env("exabgp_metrics_listen", metrics.to_string());
    let proc = Proc::spawn("exabgp", cmd, dir.join("exabgp.log"));
    let exa = Exabgp { proc, config: path };
    assert!(
        wait_listening(metrics),
        "metrics endpoint not up:\n{}",
        exa.log()
    );
    (exa, metrics)
}

/// One HTTP/1.0 GET (no keep-alive, no chunking): the status line and the body.
fn http_get(addr: SocketAddr, target: &str) -> Option<(String, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "GET {target} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut raw = Vec::new();
    s.take(16 << 20).read_to_end(&mut raw).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    Some((head.to_string(), body.to_string()))
}

/// The exposition text of a scrape (fails the test on anything but 200).
fn scrape(addr: SocketAddr) -> String {
    let (head, body) = http_get(addr, "/metrics").expect("scrape");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4"),
        "{head}"
    );
    body
}

/// The value of the sample `series` (name with its labels, as written) in `text`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

/// Scrapes until `series` has `want` (bounded by WAIT); the last text otherwise.
fn wait_sample(addr: SocketAddr, series: &str, want: f64) -> Result<String, String> {
    let mut last = String::new();
    let found = wait_for(WAIT, || {
        last = scrape(addr);
        (sample(&last, series) == Some(want)).then_some(())
    });
    match found {
        Some(()) => Ok(last),
        None => Err(last),
    }
}

#[test]
fn gobgp_session_counts_and_flops_on_the_metrics_endpoint() {
    let (dir, exa_ip, gobgp) = gobgp_setup(
        "metrics",
        171,
        EXA_AS,
        GOBGP_AS,
        &["ipv4-unicast", "ipv6-unicast"],
    );
    gobgp.add_route("10.99.0.0/24", "ipv4", "192.0.2.99", &[]);
    gobgp.add_route("10.99.1.0/24", "ipv4", "192.0.2.99", &[]);
    gobgp.add_route("2001:db8:99::/48", "ipv6", "2001:db8::99", &[]);
    let started = unix_now();
    let (mut exa, metrics) = start_with_metrics(&dir.path, &config(&gobgp, exa_ip));
    assert!(
        gobgp.wait_established(exa_ip, WAIT),
        "session not established; exabgp log:\n{}",
        exa.log()
    );
    let peer = gobgp.addr;
    let p = |name: &str, extra: &str| format!("{name}{{peer=\"{peer}\"{extra}}}");
    let fam = |f: &str| format!(",route_family=\"{f}\"");

    let est = p(
        "bgp_peer_state",
        ",session_state=\"ESTABLISHED\",admin_state=\"UP\"",
    );
    let text = wait_sample(metrics, &est, 1.0)
        .unwrap_or_else(|t| panic!("not established in metrics:\n{t}\n{}", exa.log()));
    // GoBGP's shape: one state series per peer, none for the other states.
    let series = text
        .lines()
        .filter(|l| l.starts_with(&format!("bgp_peer_state{{peer=\"{peer}\",")))
        .count();
    assert_eq!(series, 1, "{text}");
    // Routes: what GoBGP sent (received/accepted) and what we announce.
    let rx4 = p("bgp_routes_received", &fam("ipv4-unicast"));
    let text = wait_sample(metrics, &rx4, 2.0).unwrap_or_else(|t| panic!("{t}"));
    let text = wait_sample(
        metrics,
        &p("bgp_routes_received", &fam("ipv6-unicast")),
        1.0,
    )
    .unwrap_or_else(|t| panic!("{t}\nfirst:\n{text}"));
    assert_eq!(
        sample(&text, &p("bgp_routes_accepted", &fam("ipv4-unicast"))),
        Some(2.0)
    );
    assert_eq!(
        sample(&text, &p("bgp_routes_advertised", &fam("ipv4-unicast"))),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, &p("bgp_routes_advertised", &fam("ipv6-unicast"))),
        Some(1.0),
        "{text}"
    );
    assert_eq!(sample(&text, &p("bgp_peer_flop_count", "")), Some(0.0));
    // GoBGP's meaning: the Unix time the session came up (not seconds since).
    let up = sample(&text, &p("bgp_peer_uptime", "")).unwrap_or(0.0);
    assert!(
        up >= (started - 1) as f64 && up <= (unix_now() + 1) as f64,
        "uptime {up} not between {started} and now:\n{text}"
    );
    // The Adj-RIBs hold routes: their estimated memory is not 0.
    for dir in ["in", "out"] {
        let series = format!("exabgp_adj_rib_memory_bytes{{direction=\"{dir}\"}}");
        assert!(
            sample(&text, &series).is_some_and(|b| b > 0.0),
            "{series}:\n{text}"
        );
    }
    // Message counters against what GoBGP itself counted.
    assert_eq!(sample(&text, &p("bgp_received_open_total", "")), Some(1.0));
    assert_eq!(sample(&text, &p("bgp_sent_open_total", "")), Some(1.0));
    assert!(
        sample(&text, &p("bgp_sent_update_total", "")).is_some_and(|n| n >= 2.0),
        "{text}"
    );
    assert!(
        sample(&text, &p("bgp_received_update_total", "")).is_some_and(|n| n >= 2.0),
        "{text}"
    );
    assert_eq!(sample(&text, "exabgp_config_generation"), Some(1.0));
    assert_eq!(
        sample(&text, "exabgp_adj_rib_routes{direction=\"out\"}"),
        Some(3.0)
    );
    assert!(sample(&text, "process_resident_memory_bytes").is_some_and(|b| b > 0.0));
    assert!(text.contains("exabgp_build_info{version=\""), "{text}");

    // GoBGP resets the session (Cease, administrative reset): one flop and the Cease
    // as the last error.
    gobgp
        .cli(&["neighbor", &exa_ip.to_string(), "reset"])
        .expect("gobgp neighbor reset");
    let flops = p("bgp_peer_flop_count", "");
    let text = wait_sample(metrics, &flops, 1.0)
        .unwrap_or_else(|t| panic!("no flop counted:\n{t}\n{}", exa.log()));
    assert!(
        text.lines().any(|l| l.starts_with(&format!(
            "bgp_peer_last_error{{peer=\"{peer}\",code=\"6\",subcode=\"4\",direction=\"received\"}} 1"
        ))),
        "{text}"
    );
    // Down (GoBGP holds the session idle for a while after a reset): not
    // established; the uptime keeps the time the session came up (as GoBGP's).
    // (GoBGP's shape: the one state series now names another state.)
    assert_eq!(sample(&text, &est), None, "{text}");
    let state: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with(&format!("bgp_peer_state{{peer=\"{peer}\",")))
        .collect();
    assert_eq!(state.len(), 1, "{text}");
    assert!(state[0].ends_with(",admin_state=\"UP\"} 1"), "{text}");
    assert_eq!(sample(&text, &p("bgp_peer_uptime", "")), Some(up), "{text}");

    // exabgpcli show metrics: the same exposition over the control socket.
    let out = Command::new(env!("CARGO_BIN_EXE_exabgpcli"))
        .arg("--socket")
        .arg(dir.path.join("exabgp.sock"))
        .args(["show", "metrics"])
        .output()
        .expect("run exabgpcli");
    let cli = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{cli}");
    assert_eq!(sample(&cli, &flops), Some(1.0), "{cli}");
    assert_eq!(sample(&cli, &est), None, "{cli}");
    assert!(cli.contains("# TYPE bgp_peer_state gauge"), "{cli}");
    // The CLI's own command was counted (show metrics answered done); the
    // endpoint shows it once its cached text is renewed (within 0.5 s).
    wait_sample(metrics, "exabgp_api_commands_total{result=\"done\"}", 1.0)
        .unwrap_or_else(|t| panic!("show metrics not counted:\n{t}"));
    // A line that is not a command, on the control socket: one parse_error.
    let answer = control_line(&dir.path.join("exabgp.sock"), "frobnicate the widgets");
    assert!(answer.contains("error"), "{answer}");
    wait_sample(
        metrics,
        "exabgp_api_commands_total{result=\"parse_error\"}",
        1.0,
    )
    .unwrap_or_else(|t| panic!("parse error not counted:\n{t}"));
    // Helpers: the one that stays is running; the one that exits at once was
    // respawned, then given up after its respawn limit.
    let h = |name: &str, state: &str| {
        format!("exabgp_helper_state{{helper=\"{name}\",state=\"{state}\"}}")
    };
    let text = wait_sample(metrics, &h("quitter", "given_up"), 1.0)
        .unwrap_or_else(|t| panic!("quitter not given up:\n{t}\n{}", exa.log()));
    assert_eq!(sample(&text, &h("quitter", "running")), Some(0.0), "{text}");
    assert_eq!(
        sample(&text, &h("quitter", "backing_off")),
        Some(0.0),
        "{text}"
    );
    assert_eq!(sample(&text, &h("sleeper", "running")), Some(1.0), "{text}");
    assert_eq!(
        sample(&text, &h("sleeper", "given_up")),
        Some(0.0),
        "{text}"
    );
    let respawns = sample(&text, "exabgp_helper_respawns_total{helper=\"quitter\"}");
    let starts = sample(&text, "exabgp_helper_starts_total{helper=\"quitter\"}");
    assert!(
        respawns.is_some_and(|r| r >= 1.0)
            && respawns.zip(starts).is_some_and(|(r, s)| s == r + 1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "exabgp_helper_respawns_total{helper=\"sleeper\"}"),
        Some(0.0),
        "{text}"
    );
    // One that exits at once but may respawn: most of its time is the respawn
    // delay, which a scrape shows as backing_off.
    wait_sample(metrics, &h("cycler", "backing_off"), 1.0)
        .unwrap_or_else(|t| panic!("cycler never seen backing off:\n{t}"));
    // Anything but GET /metrics is refused.
    let (head, _) = http_get(metrics, "/").expect("GET /");
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    exa.stop();
}

/// Seconds since the Unix epoch, now.
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Sends one line on the control socket; the answer (read for 10 s at most).
fn control_line(socket: &Path, line: &str) -> String {
    let mut c = std::os::unix::net::UnixStream::connect(socket).expect("control socket");
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(format!("{line}\n").as_bytes()).unwrap();
    let _ = c.shutdown(std::net::Shutdown::Write);
    let mut out = String::new();
    let _ = c.read_to_string(&mut out);
    out
}

/// Percent-encodes a PromQL query for a URL.
fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The value Prometheus gives for an instant `query` with exactly one series.
fn prom_value(prom: SocketAddr, query: &str) -> Option<f64> {
    let (head, body) = http_get(prom, &format!("/api/v1/query?query={}", encode(query)))?;
    if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    let result = v.pointer("/data/result")?.as_array()?;
    if result.len() != 1 {
        return None;
    }
    result[0].pointer("/value/1")?.as_str()?.parse().ok()
}

#[test]
fn a_real_prometheus_scrapes_the_daemon() {
    let Ok(prometheus) = which("prometheus") else {
        if std::env::var_os("EXABGP_REQUIRE_PROMETHEUS").is_some() {
            panic!("prometheus not installed and EXABGP_REQUIRE_PROMETHEUS is set (apt-get install prometheus)");
        }
        eprintln!("SKIPPED: the prometheus binary is not installed (Debian package prometheus)");
        return;
    };
    let (dir, exa_ip, gobgp) = gobgp_setup(
        "metrics-prom",
        173,
        EXA_AS,
        GOBGP_AS,
        &["ipv4-unicast", "ipv6-unicast"],
    );
    gobgp.add_route("10.98.0.0/24", "ipv4", "192.0.2.98", &[]);
    let (mut exa, metrics) = start_with_metrics(&dir.path, &config(&gobgp, exa_ip));
    assert!(gobgp.wait_established(exa_ip, WAIT), "{}", exa.log());

    let rules = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/monitoring/exabgp-rs.rules.yml"
    );
    let conf = dir.path.join("prometheus.yml");
    std::fs::write(
        &conf,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {rules}\n\
             scrape_configs:\n  - job_name: exabgp\n    static_configs:\n      - targets: ['{metrics}']\n"
        ),
    )
    .unwrap();
    let web = free_addr("127.0.0.1".parse().unwrap());
    let mut cmd = Command::new(prometheus);
    cmd.arg(format!("--config.file={}", conf.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.subdir("tsdb").display()
        ))
        .arg(format!("--web.listen-address={web}"));
    let prom = Proc::spawn("prometheus", cmd, dir.path.join("prometheus.log"));
    assert!(
        wait_listening(web),
        "prometheus not up:\n{}",
        prom.log_text()
    );

    let peer = gobgp.addr;
    let q = |m: &str, extra: &str| format!("{m}{{job=\"exabgp\",peer=\"{peer}\"{extra}}}");
    let wait = Duration::from_secs(60);
    let est = q("bgp_peer_state", ",session_state=\"ESTABLISHED\"");
    let got = wait_for(wait, || prom_value(web, &est).filter(|v| *v == 1.0));
    assert!(
        got.is_some(),
        "bgp_peer_state not 1 in prometheus; prometheus log:\n{}\nexabgp log:\n{}",
        prom.log_text(),
        exa.log()
    );
    let rx = q("bgp_routes_received", ",route_family=\"ipv4-unicast\"");
    let got = wait_for(wait, || prom_value(web, &rx).filter(|v| *v == 1.0));
    assert!(got.is_some(), "{}", prom.log_text());
    let adv = q("bgp_routes_advertised", ",route_family=\"ipv4-unicast\"");
    assert!(wait_for(wait, || prom_value(web, &adv).filter(|v| *v == 2.0)).is_some());
    // The uptime is the Unix time the session came up (GoBGP's meaning): a
    // time, not 0, and Prometheus' clock moves past it (a session up for 1 s).
    let up = q("bgp_peer_uptime", "");
    assert!(
        prom_value(web, &up).is_some_and(|v| v > 1.5e9),
        "{:?}",
        prom_value(web, &up)
    );
    assert!(wait_for(wait, || prom_value(web, &format!("time() - {up}"))
        .filter(|v| *v >= 1.0))
    .is_some());
    // A teardown shows up as a flop in Prometheus too.
    gobgp
        .cli(&["neighbor", &exa_ip.to_string(), "reset"])
        .expect("gobgp neighbor reset");
    let flops = q("bgp_peer_flop_count", "");
    assert!(
        wait_for(wait, || prom_value(web, &flops).filter(|v| *v == 1.0)).is_some(),
        "no flop in prometheus:\n{}",
        exa.log()
    );
    // The target is healthy and the alert rules loaded without error.
    assert_eq!(prom_value(web, "up{job=\"exabgp\"}"), Some(1.0));
    // Every rule is evaluated without error (health "ok" once evaluated).
    let mut last = String::new();
    let healthy = wait_for(wait, || {
        let (_, body) = http_get(web, "/api/v1/rules")?;
        last = body;
        let v: serde_json::Value = serde_json::from_str(&last).ok()?;
        let rules: Vec<serde_json::Value> = v
            .pointer("/data/groups")?
            .as_array()?
            .iter()
            .filter_map(|g| g.get("rules").and_then(|r| r.as_array()).cloned())
            .flatten()
            .collect();
        (rules.len() >= 6
            && rules
                .iter()
                .all(|r| r.get("health").and_then(|h| h.as_str()) == Some("ok")))
        .then_some(())
    });
    assert!(
        healthy.is_some(),
        "alert rules not loaded or not healthy: {last}"
    );
    exa.stop();
}

/// The path of `program` on PATH.
fn which(program: &str) -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(program))
                .find(|f| f.is_file())
        })
        .ok_or(())
}
