//! Prometheus metrics: the exposition text built with `prometheus-client` from the
//! values the daemon publishes ([`crate::control::stats`]), served over HTTP
//! ([`http`], on exabgp_metrics_listen or a socket systemd hands over with
//! FileDescriptorName=metrics) and by `show metrics` on the control socket.
//!
//! A scrape reads atomics and a short list of registrations: it never sends a
//! command to the core loop or to a neighbor task, so a busy or stuck core never
//! stalls a scrape and a scrape never slows the core. The registry is built anew
//! for each rendering from a snapshot (neighbors come and go with reloads;
//! nothing stale can stay registered).
//!
//! The HTTP endpoint serves [`cached`]: the text is rendered at most once per
//! [`MAX_STALENESS`] and the same body is served to every scrape in between, so
//! a client scraping back to back (or many Prometheus servers at once) costs an
//! accept and a write each, not a rendering and four reads of /proc. A served
//! body is at most [`MAX_STALENESS`] plus one rendering old; `show metrics` on
//! the control socket renders fresh text.
//!
//! Names and labels follow GoBGP's where GoBGP has the metric (bgp_*), so alert
//! rules written for it carry over; ours are under exabgp_*, the process's under
//! process_*. docs/monitoring.md lists every metric with its meaning.

pub mod http;
pub mod process;

use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::control::stats::{board, BoardSnapshot, HelperState};
use crate::control::{MessageCounters, PeerState};

/// The `Content-Type` of [`render`]'s text (Prometheus text format 0.0.4).
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

type Labels = Vec<(&'static str, String)>;
type GaugeFamily = Family<Labels, Gauge>;
type CounterFamily = Family<Labels, Counter>;

/// GoBGP's name of an FSM state (its API's PeerState.SessionState enum).
fn gobgp_session_state(s: PeerState) -> &'static str {
    match s {
        PeerState::Idle => "IDLE",
        PeerState::Connect => "CONNECT",
        PeerState::Active => "ACTIVE",
        PeerState::OpenSent => "OPENSENT",
        PeerState::OpenConfirm => "OPENCONFIRM",
        PeerState::Established => "ESTABLISHED",
    }
}

/// The exposition text for the process's board, now.
pub fn render() -> String {
    render_snapshot(&board().snapshot(), &process::read())
}

/// How old the text served to a scrape may be before it is rendered again.
/// Prometheus scrapes every 15 s or more; a dashboard refreshes every few
/// seconds: half a second is below what either can tell.
pub const MAX_STALENESS: Duration = Duration::from_millis(500);

/// The last rendered text and when its rendering ended (a rendering that takes
/// longer than the staleness bound must not leave text that is stale on arrival,
/// which would make every scrape render again).
#[derive(Default)]
pub struct Cache {
    body: Mutex<Option<(Instant, Arc<str>)>>,
    /// Set while one caller renders: the others serve the body they have.
    rendering: AtomicBool,
}

/// Clears the rendering flag even when the rendering panics.
struct Rendering<'a>(&'a AtomicBool);

impl Drop for Rendering<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Cache {
    /// The cached text if it is younger than `max_age` at `now`, else the text of
    /// `render` (called by one caller at a time: while one renders, the others
    /// get the previous text). The lock guards only the swap of an `Arc`: it is
    /// never held while rendering, and no task of the core takes it.
    pub fn get(
        &self,
        max_age: Duration,
        now: Instant,
        render: impl FnOnce() -> String,
    ) -> Arc<str> {
        let held = self.body.lock().ok().and_then(|b| b.clone());
        if let Some((at, body)) = &held {
            if now.saturating_duration_since(*at) < max_age {
                return body.clone();
            }
        }
        // Only the caller that set the flag clears it (a caller with nothing to
        // serve renders too, without touching the flag).
        let _flag = if self.rendering.swap(true, Ordering::Acquire) {
            if let Some((_, body)) = held {
                return body;
            }
            None
        } else {
            Some(Rendering(&self.rendering))
        };
        let started = Instant::now();
        let body: Arc<str> = render().into();
        if let Ok(mut b) = self.body.lock() {
            *b = Some((now + started.elapsed(), body.clone()));
        }
        body
    }
}

/// The exposition text for the HTTP endpoint: rendered at most once per
/// [`MAX_STALENESS`] (see the module's documentation).
pub fn cached() -> Arc<str> {
    static CACHE: std::sync::OnceLock<Cache> = std::sync::OnceLock::new();
    CACHE
        .get_or_init(Cache::default)
        .get(MAX_STALENESS, Instant::now(), render)
}

/// A family label as GoBGP writes it: `ipv4-unicast`.
fn family_label(f: crate::bgp::Family) -> String {
    f.to_string().replace(' ', "-")
}

fn gauge_family(r: &mut Registry, name: &str, help: &str) -> GaugeFamily {
    let f = GaugeFamily::default();
    r.register(name, help, f.clone());
    f
}

fn counter_family(r: &mut Registry, name: &str, help: &str) -> CounterFamily {
    let f = CounterFamily::default();
    r.register(name, help, f.clone());
    f
}

fn gauge(r: &mut Registry, name: &str, help: &str, v: i64) {
    let g: Gauge = Gauge::default();
    g.set(v);
    r.register(name, help, g);
}

fn counter(r: &mut Registry, name: &str, help: &str, v: u64) {
    let c: Counter = Counter::default();
    c.inc_by(v);
    r.register(name, help, c);
}

/// The value of one message type in `c`.
fn messages(c: &MessageCounters, kind: &str) -> u64 {
    match kind {
        "open" => c.open,
        "update" => c.update,
        "notification" => c.notification,
        "keepalive" => c.keepalive,
        _ => c.route_refresh,
    }
}

fn i(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The exposition text for `b` and `p` (separate from [`render`] for the tests).
pub fn render_snapshot(b: &BoardSnapshot, p: &process::ProcessFigures) -> String {
    let mut r = Registry::default();
    let state = gauge_family(
        &mut r,
        "bgp_peer_state",
        "State of the BGP session with the peer, as GoBGP exports it: one series, value 1, labelled with the FSM state (session_state) and the administrative state (admin_state)",
    );
    let uptime = gauge_family(
        &mut r,
        "bgp_peer_uptime",
        "Unix time at which the BGP session with the peer last came up (0: never since the daemon started)",
    );
    let flops = gauge_family(
        &mut r,
        "bgp_peer_flop_count",
        "Sessions with the peer that went down less than 30 s after they came up (GoBGP's flops), since the daemon started",
    );
    let received = gauge_family(
        &mut r,
        "bgp_routes_received",
        "Prefixes of the family the peer announced and we hold (Adj-RIB-In)",
    );
    let accepted = gauge_family(
        &mut r,
        "bgp_routes_accepted",
        "Prefixes received and accepted (no import policy: equal to received)",
    );
    let advertised = gauge_family(
        &mut r,
        "bgp_routes_advertised",
        "Prefixes of the family we announce to the peer (Adj-RIB-Out)",
    );
    let kinds = ["update", "notification", "open", "keepalive", "refresh"];
    let mut rx = Vec::new();
    let mut tx = Vec::new();
    for k in kinds {
        rx.push(counter_family(
            &mut r,
            &format!("bgp_received_{k}"),
            &format!("{} messages received from the peer", k.to_uppercase()),
        ));
        tx.push(counter_family(
            &mut r,
            &format!("bgp_sent_{k}"),
            &format!("{} messages sent to the peer", k.to_uppercase()),
        ));
    }
    let last_error = gauge_family(
        &mut r,
        "bgp_peer_last_error",
        "The last NOTIFICATION of the session (code, subcode, direction): 1",
    );
    let peer_as = gauge_family(&mut r, "exabgp_peer_as", "The peer's configured AS number");
    for s in &b.peers {
        let peer = s.address.to_string();
        let base: Labels = vec![("peer", peer.clone())];
        // GoBGP (pkg/metrics): one series per peer whose labels carry the
        // state, with the protobuf enum names (ESTABLISHED, IDLE, ...), so its
        // alert rules (`session_state="ESTABLISHED"`) carry over unchanged.
        let mut l = base.clone();
        l.push(("session_state", gobgp_session_state(s.state).to_string()));
        l.push(("admin_state", "UP".to_string()));
        state.get_or_create(&l).set(1);
        uptime.get_or_create(&base).set(s.up_since.max(0));
        flops.get_or_create(&base).set(i(s.flops));
        peer_as.get_or_create(&base).set(i64::from(s.peer_as));
        for (f, inn, out) in &s.families {
            let mut l = base.clone();
            l.push(("route_family", family_label(*f)));
            received.get_or_create(&l).set(i(*inn));
            accepted.get_or_create(&l).set(i(*inn));
            advertised.get_or_create(&l).set(i(*out));
        }
        for (n, k) in kinds.iter().enumerate() {
            rx[n].get_or_create(&base).inc_by(messages(&s.received, k));
            tx[n].get_or_create(&base).inc_by(messages(&s.sent, k));
        }
        if let Some(e) = s.last_notification {
            let mut l = base.clone();
            l.push(("code", e.code.to_string()));
            l.push(("subcode", e.subcode.to_string()));
            l.push((
                "direction",
                if e.received { "received" } else { "sent" }.to_string(),
            ));
            last_error.get_or_create(&l).set(1);
        }
    }
    let helper_up = gauge_family(
        &mut r,
        "exabgp_helper_given_up",
        "1 when the helper exited too often and is not respawned any more",
    );
    let helper_starts = counter_family(
        &mut r,
        "exabgp_helper_starts",
        "Times the helper program was started or tried (the first included; a program that cannot be executed counts each try)",
    );
    let helper_state = gauge_family(
        &mut r,
        "exabgp_helper_state",
        "The helper's supervisor: 1 for the current state (running, backing_off: waiting to respawn, given_up), 0 for the others",
    );
    let helper_respawns = counter_family(
        &mut r,
        "exabgp_helper_respawns",
        "Times the helper was started or tried again after it ended or failed to start",
    );
    let helper_drops = counter_family(
        &mut r,
        "exabgp_helper_queue_drops",
        "Events not delivered to the helper because its queue was full",
    );
    for h in &b.helpers {
        let l: Labels = vec![("helper", h.name.clone())];
        helper_up
            .get_or_create(&l)
            .set(i64::from(h.state == HelperState::GivenUp));
        helper_starts.get_or_create(&l).inc_by(h.starts);
        helper_respawns
            .get_or_create(&l)
            .inc_by(h.starts.saturating_sub(1));
        for st in HelperState::ALL {
            let mut ls = l.clone();
            ls.push(("state", st.as_str().to_string()));
            helper_state
                .get_or_create(&ls)
                .set(i64::from(h.state == st));
        }
        helper_drops.get_or_create(&l).inc_by(h.dropped);
    }
    let api = counter_family(
        &mut r,
        "exabgp_api_commands",
        "API commands (control socket and helpers) by result: done, error (ran and failed), parse_error (not a command: syntax, too long, not UTF-8)",
    );
    api.get_or_create(&vec![("result", "done".to_string())])
        .inc_by(b.api_done);
    api.get_or_create(&vec![("result", "error".to_string())])
        .inc_by(b.api_error);
    api.get_or_create(&vec![("result", "parse_error".to_string())])
        .inc_by(b.api_parse_error);
    gauge(
        &mut r,
        "exabgp_control_clients",
        "Clients connected to the control socket now",
        b.control_clients,
    );
    let reloads = counter_family(
        &mut r,
        "exabgp_reloads",
        "Configuration reloads (SIGHUP, reload, restart) by result: applied, rejected (the file did not validate), failed (the core did not apply it)",
    );
    for (res, v) in [
        ("applied", b.reloads_applied),
        ("rejected", b.reloads_rejected),
        ("failed", b.reloads_failed),
    ] {
        reloads
            .get_or_create(&vec![("result", res.to_string())])
            .inc_by(v);
    }
    gauge(
        &mut r,
        "exabgp_config_generation",
        "Configurations applied since the daemon started (1: the one it started with)",
        i(b.config_generation),
    );
    counter(
        &mut r,
        "exabgp_events_dropped",
        "Events dropped for every helper because the event channel's byte budget was full",
        b.events_dropped,
    );
    let rib = gauge_family(
        &mut r,
        "exabgp_adj_rib_routes",
        "Routes held in the Adj-RIB-In (direction=in) and Adj-RIB-Out (direction=out) of every neighbor together",
    );
    let sum = |f: &dyn Fn(&(crate::bgp::Family, u64, u64)) -> u64| -> u64 {
        b.peers.iter().flat_map(|s| s.families.iter()).map(f).sum()
    };
    rib.get_or_create(&vec![("direction", "in".to_string())])
        .set(i(sum(&|x| x.1)));
    rib.get_or_create(&vec![("direction", "out".to_string())])
        .set(i(sum(&|x| x.2)));
    let rib_bytes = gauge_family(
        &mut r,
        "exabgp_adj_rib_memory_bytes",
        "Estimated bytes held by the Adj-RIB-In (direction=in) and Adj-RIB-Out (direction=out) of every neighbor together: table slots and attribute sets, not the heap parts of attribute values (a lower bound)",
    );
    let total = |f: &dyn Fn(&crate::control::stats::PeerSnapshot) -> u64| -> u64 {
        b.peers.iter().map(f).sum()
    };
    rib_bytes
        .get_or_create(&vec![("direction", "in".to_string())])
        .set(i(total(&|p| p.rib_in_bytes)));
    rib_bytes
        .get_or_create(&vec![("direction", "out".to_string())])
        .set(i(total(&|p| p.rib_out_bytes)));
    r.register(
        "exabgp_build",
        "The daemon's version",
        Info::new(vec![("version", crate::VERSION.to_string())]),
    );
    process_metrics(&mut r, p);
    let mut out = String::new();
    // Writing into a String cannot fail; an error would mean a bug in the crate.
    if prometheus_text::encode(&mut out, &r).is_err() {
        out.clear();
    }
    out
}

fn process_metrics(r: &mut Registry, p: &process::ProcessFigures) {
    if let Some(v) = p.cpu_seconds {
        let c: Counter<f64, AtomicU64> = Counter::default();
        c.inc_by(v);
        r.register(
            "process_cpu_seconds",
            "User and system CPU time spent in seconds",
            c,
        );
    }
    if let Some(v) = p.start_time_seconds {
        let g: Gauge<f64, AtomicU64> = Gauge::default();
        g.set(v);
        r.register(
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds",
            g,
        );
    }
    for (name, help, v) in [
        (
            "process_resident_memory_bytes",
            "Resident memory size in bytes",
            p.resident_bytes,
        ),
        (
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes",
            p.virtual_bytes,
        ),
        (
            "process_open_fds",
            "Number of open file descriptors",
            p.open_fds,
        ),
        (
            "process_max_fds",
            "Maximum number of open file descriptors",
            p.max_fds,
        ),
    ] {
        if let Some(v) = v {
            gauge(r, name, help, i(v));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::stats::{HelperSnapshot, LastNotification, PeerSnapshot};

    fn snapshot() -> BoardSnapshot {
        BoardSnapshot {
            peers: vec![PeerSnapshot {
                address: "192.0.2.1".parse().unwrap(),
                peer_as: 65000,
                state: PeerState::Established,
                up_since: 1_700_000_000,
                flops: 3,
                sent: MessageCounters {
                    open: 1,
                    update: 7,
                    notification: 0,
                    keepalive: 5,
                    route_refresh: 0,
                },
                received: MessageCounters {
                    open: 1,
                    update: 2,
                    notification: 1,
                    keepalive: 4,
                    route_refresh: 1,
                },
                families: vec![(crate::bgp::Family::IPV4_UNICAST, 10, 20)],
                rib_in_bytes: 1000,
                rib_out_bytes: 3000,
                last_notification: Some(LastNotification {
                    code: 6,
                    subcode: 4,
                    received: true,
                }),
            }],
            helpers: vec![HelperSnapshot {
                name: "hc".into(),
                starts: 2,
                dropped: 9,
                state: HelperState::GivenUp,
            }],
            api_done: 11,
            api_error: 1,
            api_parse_error: 4,
            control_clients: 2,
            reloads_applied: 1,
            reloads_rejected: 2,
            reloads_failed: 0,
            config_generation: 2,
            events_dropped: 5,
        }
    }

    /// The names and labels alert rules use, with the values of the snapshot.
    #[test]
    fn gobgp_names_and_values() {
        let t = render_snapshot(&snapshot(), &process::ProcessFigures::default());
        for line in [
            r#"bgp_peer_state{peer="192.0.2.1",session_state="ESTABLISHED",admin_state="UP"} 1"#,
            r#"bgp_peer_uptime{peer="192.0.2.1"} 1700000000"#,
            r#"bgp_peer_flop_count{peer="192.0.2.1"} 3"#,
            r#"bgp_routes_received{peer="192.0.2.1",route_family="ipv4-unicast"} 10"#,
            r#"bgp_routes_accepted{peer="192.0.2.1",route_family="ipv4-unicast"} 10"#,
            r#"bgp_routes_advertised{peer="192.0.2.1",route_family="ipv4-unicast"} 20"#,
            r#"bgp_sent_update_total{peer="192.0.2.1"} 7"#,
            r#"bgp_received_refresh_total{peer="192.0.2.1"} 1"#,
            r#"bgp_received_notification_total{peer="192.0.2.1"} 1"#,
            r#"bgp_peer_last_error{peer="192.0.2.1",code="6",subcode="4",direction="received"} 1"#,
            r#"exabgp_helper_given_up{helper="hc"} 1"#,
            r#"exabgp_helper_queue_drops_total{helper="hc"} 9"#,
            r#"exabgp_api_commands_total{result="error"} 1"#,
            r#"exabgp_api_commands_total{result="parse_error"} 4"#,
            r#"exabgp_helper_state{helper="hc",state="given_up"} 1"#,
            r#"exabgp_helper_state{helper="hc",state="running"} 0"#,
            r#"exabgp_helper_state{helper="hc",state="backing_off"} 0"#,
            r#"exabgp_helper_respawns_total{helper="hc"} 1"#,
            r#"exabgp_adj_rib_memory_bytes{direction="in"} 1000"#,
            r#"exabgp_adj_rib_memory_bytes{direction="out"} 3000"#,
            r#"exabgp_reloads_total{result="rejected"} 2"#,
            "exabgp_config_generation 2",
            "exabgp_events_dropped_total 5",
            r#"exabgp_adj_rib_routes{direction="out"} 20"#,
            "# TYPE bgp_peer_state gauge",
            "# TYPE bgp_sent_update_total counter",
        ] {
            assert!(t.lines().any(|l| l == line), "missing {line:?} in\n{t}");
        }
        // GoBGP's shape: ONE state series per peer (a rule such as
        // `bgp_peer_state{session_state!="ESTABLISHED"}` must not match 0-valued
        // series of the other states).
        let states = t
            .lines()
            .filter(|l| l.starts_with(r#"bgp_peer_state{peer="192.0.2.1","#))
            .count();
        assert_eq!(states, 1, "{t}");
        assert!(
            t.contains(&format!(
                "exabgp_build_info{{version=\"{}\"}} 1",
                crate::VERSION
            )),
            "{t}"
        );
    }

    /// A missing process figure is left out, not reported as 0.
    #[test]
    fn missing_process_figures_are_left_out() {
        let t = render_snapshot(
            &BoardSnapshot::default(),
            &process::ProcessFigures::default(),
        );
        assert!(!t.contains("process_"), "{t}");
        let p = process::ProcessFigures {
            resident_bytes: Some(4096),
            cpu_seconds: Some(1.5),
            ..Default::default()
        };
        let t = render_snapshot(&BoardSnapshot::default(), &p);
        assert!(
            t.lines().any(|l| l == "process_resident_memory_bytes 4096"),
            "{t}"
        );
        assert!(
            t.lines().any(|l| l == "process_cpu_seconds_total 1.5"),
            "{t}"
        );
    }

    /// Scrapes inside MAX_STALENESS share one rendering; an older text is
    /// rendered again; while one caller renders, another gets the previous text.
    #[test]
    fn the_cache_renders_once_per_staleness_window() {
        let c = Cache::default();
        let renders = std::cell::Cell::new(0);
        let r = || {
            renders.set(renders.get() + 1);
            format!("text {}", renders.get())
        };
        let t0 = Instant::now();
        let age = Duration::from_millis(500);
        assert_eq!(&*c.get(age, t0, r), "text 1");
        for ms in [0, 100, 499] {
            assert_eq!(&*c.get(age, t0 + Duration::from_millis(ms), r), "text 1");
        }
        assert_eq!(renders.get(), 1);
        // (The age counts from the end of a rendering: a few microseconds here.)
        assert_eq!(&*c.get(age, t0 + 2 * age, r), "text 2");
        assert_eq!(renders.get(), 2);
        // Somebody is rendering: the stale text is served, nothing rendered.
        c.rendering.store(true, Ordering::Relaxed);
        assert_eq!(&*c.get(age, t0 + 4 * age, r), "text 2");
        assert_eq!(renders.get(), 2);
        c.rendering.store(false, Ordering::Relaxed);
        assert_eq!(&*c.get(age, t0 + 4 * age, r), "text 3");
        assert!(!c.rendering.load(Ordering::Relaxed));
        // With nothing cached, a caller renders even while another does, and
        // leaves the other's flag alone.
        let empty = Cache::default();
        empty.rendering.store(true, Ordering::Relaxed);
        assert_eq!(&*empty.get(age, t0, || "first".to_string()), "first");
        assert!(empty.rendering.load(Ordering::Relaxed));
    }

    /// A rendering slower than the staleness bound: its text's age counts from
    /// when it was ready, so the next scrape is served it instead of rendering
    /// again at once (review: with thousands of neighbors every scrape rendered).
    #[test]
    fn a_slow_rendering_is_fresh_when_it_ends() {
        let c = Cache::default();
        let t0 = Instant::now();
        let age = Duration::from_millis(20);
        let slow = || {
            std::thread::sleep(Duration::from_millis(30));
            "slow".to_string()
        };
        assert_eq!(&*c.get(age, t0, slow), "slow");
        let mut again = false;
        let text = c.get(age, t0 + Duration::from_millis(25), || {
            again = true;
            "again".to_string()
        });
        assert!(!again, "rendered again right after a slow rendering");
        assert_eq!(&*text, "slow");
    }

    /// A rendering that panics leaves the cache usable (the flag is cleared).
    #[test]
    fn a_panicking_rendering_does_not_wedge_the_cache() {
        let c = Cache::default();
        let t0 = Instant::now();
        let age = Duration::from_millis(500);
        let hit = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            c.get(age, t0, || panic!("boom"));
        }));
        assert!(hit.is_err());
        assert_eq!(&*c.get(age, t0, || "ok".to_string()), "ok");
    }
}
