//! The lines printed on stdout for a state: one `announce route ...` or
//! `withdraw route ...` per --ip, in the daemon's text API (the same words ExaBGP's
//! healthcheck prints, so an ExaBGP daemon accepts them too). The MED is the
//! state's metric (plus --increase for each further address).
//!
//! Every line a set of options can produce is parsed with the daemon's own parser
//! at start-up ([`check_lines`]), so a bad --community is an error before the first
//! check, not a line the daemon refuses later.

use super::args::Options;
use super::fsm::State;
use super::HealthError;

/// The lines for `state` (empty for the states that announce nothing).
pub fn lines(o: &Options, state: State) -> Vec<String> {
    if !state.announces() {
        return Vec::new();
    }
    let (mut metric, state_as_path) = match state {
        State::Up => (o.up_metric, &o.up_as_path),
        State::Down => (o.down_metric, &o.down_as_path),
        State::Disabled => (o.disabled_metric, &o.disabled_as_path),
        _ => (0, &None),
    };
    let as_path = state_as_path.as_ref().or(o.as_path.as_ref());
    let withdraw = state == State::Exit || (o.withdraw_on_down && state != State::Up);
    let scope = o
        .neighbors
        .iter()
        .map(|n| format!("neighbor {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let next_hop = o
        .next_hop
        .map(|a| a.to_string())
        .unwrap_or_else(|| "self".into());
    let mut out = Vec::with_capacity(o.ips.len());
    for ip in &o.ips {
        let mut l = String::new();
        if !scope.is_empty() {
            l.push_str(&scope);
            l.push(' ');
        }
        if withdraw {
            l.push_str(&format!("withdraw route {ip} next-hop {next_hop}"));
        } else {
            l.push_str(&format!(
                "announce route {ip} next-hop {next_hop} med {metric}"
            ));
            if let Some(p) = o.local_preference {
                l.push_str(&format!(" local-preference {p}"));
            }
            let community = match state {
                State::Down | State::Disabled => {
                    o.disabled_community.as_ref().or(o.community.as_ref())
                }
                _ => o.community.as_ref(),
            };
            for (key, v) in [
                ("community", community),
                ("extended-community", o.extended_community.as_ref()),
                ("large-community", o.large_community.as_ref()),
                ("as-path", as_path),
            ] {
                if let Some(v) = v {
                    l.push_str(&format!(" {key} [ {} ]", v.trim()));
                }
            }
        }
        out.push(l);
        metric = metric.saturating_add(o.increase);
    }
    out
}

/// Parse every line the options can produce with the daemon's parser.
pub fn check_lines(o: &Options) -> Result<(), HealthError> {
    for state in [State::Up, State::Down, State::Disabled, State::Exit] {
        for l in lines(o, state) {
            crate::api::parse_command(&l).map_err(|e| {
                HealthError::Usage(format!(
                    "the options give a line the API refuses: {l:?}: {e}"
                ))
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::healthcheck::args::{HealthcheckArgs, Options};

    fn opts(f: impl FnOnce(&mut HealthcheckArgs)) -> Options {
        let mut a = HealthcheckArgs {
            ips: vec!["192.0.2.1/32".into(), "192.0.2.2/32".into()],
            interval: 5.0,
            fast_interval: 1.0,
            timeout: 5.0,
            rise: 3,
            fall: 3,
            up_metric: 100,
            down_metric: 1000,
            disabled_metric: 500,
            increase: 1,
            ..Default::default()
        };
        f(&mut a);
        Options::from_args(a).unwrap()
    }

    #[test]
    fn metric_per_state_and_per_address() {
        let o = opts(|_| {});
        assert_eq!(
            lines(&o, State::Up),
            [
                "announce route 192.0.2.1/32 next-hop self med 100",
                "announce route 192.0.2.2/32 next-hop self med 101"
            ]
        );
        assert_eq!(
            lines(&o, State::Down)[0],
            "announce route 192.0.2.1/32 next-hop self med 1000"
        );
        assert_eq!(
            lines(&o, State::Disabled)[1],
            "announce route 192.0.2.2/32 next-hop self med 501"
        );
        assert_eq!(
            lines(&o, State::Exit)[0],
            "withdraw route 192.0.2.1/32 next-hop self"
        );
        for s in [State::Init, State::Rising, State::Falling, State::End] {
            assert!(lines(&o, s).is_empty());
        }
    }

    #[test]
    fn attributes_scope_and_withdraw_on_down() {
        let o = opts(|a| {
            a.withdraw_on_down = true;
            a.community = Some("65000:1 no-export".into());
            a.disabled_community = Some("65000:666".into());
            a.large_community = Some("65000:1:2".into());
            a.extended_community = Some("target:65000:1".into());
            a.as_path = Some("65001 65002".into());
            a.up_as_path = Some("65001".into());
            a.local_preference = Some(200);
            a.next_hop = Some("192.0.2.254".parse().unwrap());
            a.neighbors = vec!["10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap()];
        });
        assert_eq!(
            lines(&o, State::Up)[0],
            "neighbor 10.0.0.1, neighbor 10.0.0.2 announce route 192.0.2.1/32 next-hop 192.0.2.254 med 100 local-preference 200 community [ 65000:1 no-export ] extended-community [ target:65000:1 ] large-community [ 65000:1:2 ] as-path [ 65001 ]"
        );
        assert_eq!(
            lines(&o, State::Down)[0],
            "neighbor 10.0.0.1, neighbor 10.0.0.2 withdraw route 192.0.2.1/32 next-hop 192.0.2.254"
        );
        check_lines(&o).unwrap();
        let o = opts(|a| a.disabled_community = Some("65000:666".into()));
        assert!(lines(&o, State::Disabled)[0].ends_with("med 500 community [ 65000:666 ]"));
    }

    #[test]
    fn lines_the_api_refuses_are_refused_at_start() {
        let o = opts(|a| a.community = Some("not-a-community".into()));
        let e = check_lines(&o).unwrap_err().to_string();
        assert!(e.contains("not-a-community"), "{e}");
        check_lines(&opts(|_| {})).unwrap();
    }
}
