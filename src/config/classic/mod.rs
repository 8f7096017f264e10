//! ExaBGP's own configuration syntax (4.2 and 5.0), read into the same model as
//! the TOML: `neighbor ADDR { ... }`, `template { neighbor NAME { ... } }` with
//! `inherit`, `group NAME { ... }`, `process NAME { ... }`, the `static` and
//! `announce` routes and the `api` blocks. docs/configuration.md lists what is
//! supported and what is refused; nothing is ignored silently: a construct with no
//! equivalent here is an error naming it, at FILE:LINE:COL.
//!
//! Files: `lexer.rs` (text to statements) -> `tree.rs` (blocks) -> this file (the
//! top level) -> `neighbor.rs` (a neighbor's body) -> `route.rs` (one route).
//! ExaBGP's parser (src/exabgp/configuration/) is the reference for the syntax.

mod lexer;
mod neighbor;
mod route;
mod tree;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use super::error::ConfigError;
use super::model::{
    Config, Encoder, Global, NeighborConfig, ProcessConfig, ReceiveKind, RouteConfig,
};
use super::walk::Ctx;
use crate::bgp::Family;
use neighbor::{read_body, Body};
use tree::Node;

/// The comments of a classic file, placed by what they were written beside, for
/// `exabgp migrate`. Each list is aligned with the [`Config`]'s list of that name.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Comments {
    /// Comments outside any neighbor, route or process (templates, file head, end).
    pub head: Vec<String>,
    pub neighbors: Vec<Vec<String>>,
    pub routes: Vec<Vec<String>>,
    pub processes: Vec<Vec<String>>,
}

/// A classic file read: the model and its comments.
#[derive(Debug, Clone)]
pub struct Classic {
    pub config: Config,
    pub comments: Comments,
}

/// ExaBGP's hold time when none is written (ours in TOML is 90).
pub const EXABGP_HOLD_TIME: u16 = 180;

/// Whether `path` holds ExaBGP's syntax rather than TOML. A file whose first
/// statement is a TOML table header (`[global]`, `[[neighbor]]`) is TOML whatever
/// its name (no ExaBGP statement starts with `[`); otherwise the extension `.conf`
/// says classic and `.toml` says TOML; otherwise the first statement decides
/// (TOML: `key = value`; ExaBGP: `word ... {`).
pub fn is_classic(path: &Path, text: &str) -> bool {
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'));
    if first.is_some_and(|l| l.starts_with('[')) {
        return false;
    }
    match path.extension().and_then(|e| e.to_str()) {
        Some("conf") => return true,
        Some("toml") => return false,
        _ => {}
    }
    let Some(line) = first else { return false };
    let key_end = line.find(|c: char| {
        !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '"' || c == '.')
    });
    let rest = key_end.map_or("", |i| line[i..].trim_start());
    !rest.starts_with('=')
}

/// Read classic configuration text; `name` prefixes every message. A relative
/// `run` program is left as written (see [`parse_file`]).
pub fn parse(text: &str, name: &str) -> Result<Classic, ConfigError> {
    parse_in(text, name, None)
}

/// Read the classic configuration text of the file `path`: as in ExaBGP, a `run`
/// program given by a relative path (`./check.sh`, `bin/check`) is taken relative to
/// the file's folder, and a bare name (`check.py`) too when a file of that name is
/// there (else it is looked up in PATH when run).
pub fn parse_file(text: &str, path: &Path) -> Result<Classic, ConfigError> {
    let dir = path.parent().map(|d| {
        if d.as_os_str().is_empty() {
            Path::new(".")
        } else {
            d
        }
    });
    let dir = dir.and_then(|d| std::fs::canonicalize(d).ok());
    parse_in(text, &path.display().to_string(), dir.as_deref())
}

fn parse_in(text: &str, name: &str, base: Option<&Path>) -> Result<Classic, ConfigError> {
    let mut ctx = Ctx::new(name, text);
    let result = lexer::statements(text).and_then(|(s, tail)| tree::build(s, tail));
    let (nodes, tail) = match result {
        Ok(x) => x,
        Err((at, m)) => {
            ctx.error(&(at..at), m);
            return Err(ConfigError::Invalid(ctx.into_diagnostics()));
        }
    };
    let mut out = top(&mut ctx, &nodes, tail);
    if let (Some(c), Some(base)) = (&mut out, base) {
        for p in &mut c.config.processes {
            if let Some(program) = p.run.first_mut() {
                let relative = !program.starts_with('/');
                let here = base.join(program.trim_start_matches("./"));
                if relative && (program.contains('/') || here.is_file()) {
                    *program = here.display().to_string();
                }
            }
        }
    }
    match out {
        Some(c) if !ctx.has_errors() => Ok(c),
        _ => Err(ConfigError::Invalid(ctx.into_diagnostics())),
    }
}

/// A neighbor as read, before the model: address, body, where, comments.
struct Pending {
    address: IpAddr,
    at: usize,
    body: Body,
}

fn top(ctx: &mut Ctx<'_>, nodes: &[Node], tail: Vec<String>) -> Option<Classic> {
    let mut comments = Comments::default();
    let mut templates: BTreeMap<String, Body> = BTreeMap::new();
    let mut pending: Vec<Pending> = Vec::new();
    let mut processes: Vec<(ProcessConfig, usize, Vec<String>)> = Vec::new();

    // Templates first: ExaBGP resolves `inherit` after reading the whole file.
    for n in nodes {
        if n.keyword() == "template" {
            comments.head.extend(n.comments.iter().cloned());
            let Some(c) = &n.children else {
                ctx.error(
                    &(n.at..n.at),
                    "template needs a block: template { neighbor NAME { ... } }",
                );
                continue;
            };
            for t in c {
                match (t.keyword().as_str(), t.args(), &t.children) {
                    ("neighbor", [name], Some(body)) => {
                        // Written before `neighbor NAME {` and before its `}`.
                        comments.head.extend(t.comments.iter().cloned());
                        let b = read_body(ctx, body, true);
                        comments.head.extend(b.comments.iter().cloned());
                        if templates.insert(name.text.clone(), b).is_some() {
                            ctx.error(
                                &(name.at..name.at),
                                format!("template '{}' is defined twice", name.text),
                            );
                        }
                    }
                    _ => ctx.error(
                        &(t.at..t.at),
                        format!(
                            "unexpected '{}' in template, expected neighbor NAME {{ ... }}",
                            t.keyword()
                        ),
                    ),
                }
            }
        }
    }

    for n in nodes {
        let at = n.at..n.at;
        match (n.keyword().as_str(), &n.children) {
            ("template", _) => {}
            ("neighbor", Some(c)) => {
                if let Some(p) = read_neighbor(ctx, n, c, None, &templates) {
                    pending.push(p);
                }
            }
            ("group", Some(c)) => {
                // ExaBGP 3/4: `group NAME { settings; neighbor ADDR { ... } }`, the
                // group's settings and routes apply to each neighbor in it.
                let settings: Vec<Node> = c.iter().filter(|x| x.keyword() != "neighbor").cloned().collect();
                let group = read_body(ctx, &settings, false);
                comments.head.extend(n.comments.iter().cloned());
                comments.head.extend(group.comments.iter().cloned());
                if !group.inherit.is_empty() {
                    ctx.error(&at, "inherit in a group is not supported: write it in each neighbor");
                }
                for m in c.iter().filter(|x| x.keyword() == "neighbor") {
                    match &m.children {
                        Some(mc) => {
                            if let Some(p) = read_neighbor(ctx, m, mc, Some(&group), &templates) {
                                pending.push(p);
                            }
                        }
                        None => ctx.error(&(m.at..m.at), "neighbor needs a block: neighbor ADDRESS { ... }"),
                    }
                }
            }
            ("process", Some(c)) => {
                if let Some(p) = read_process(ctx, n, c) {
                    processes.push(p);
                }
            }
            ("neighbor" | "group" | "process", None) => {
                ctx.error(&at, format!("{} needs a block: {} NAME {{ ... }}", n.keyword(), n.keyword()))
            }
            (k, _) => ctx.error(&at, format!("unknown top-level section '{k}', expected neighbor, template, group or process (ExaBGP has no include statement)")),
        }
    }

    // Processes: names unique, every api reference known.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (p, at, _) in &processes {
        if let Some(first) = seen.insert(p.name.clone(), *at) {
            let line = ctx.line_of(&(first..first));
            ctx.error(
                &(*at..*at),
                format!(
                    "process '{}' is defined twice (first at line {line})",
                    p.name
                ),
            );
        }
    }

    let mut config = Config {
        source: None,
        global: Global {
            router_id: std::net::Ipv4Addr::UNSPECIFIED,
            local_as: 0,
        },
        neighbors: Vec::new(),
        routes: Vec::new(),
        processes: Vec::new(),
        // A classic `flow { }` block is refused for now (see neighbor.rs).
        flows: Vec::new(),
    };
    // Which neighbors name each process in their api, and what they want.
    let mut users: BTreeMap<String, (Vec<IpAddr>, Vec<ReceiveKind>)> = BTreeMap::new();
    let mut first_use: BTreeMap<String, usize> = BTreeMap::new();
    // The events the first neighbor naming each process asks for, for comparison
    // with the others'.
    let mut wants: BTreeMap<String, (Vec<ReceiveKind>, IpAddr)> = BTreeMap::new();

    // Routes expanded so far, and whether FILE_ROUTES_MAX was passed (said once).
    let mut expanded: usize = 0;
    let mut over = false;
    for p in pending {
        let Some(nc) = finish_neighbor(ctx, &p) else {
            continue;
        };
        if config.neighbors.iter().any(|x| x.address == nc.address) {
            ctx.error(
                &(p.at..p.at),
                format!("neighbor {} is defined twice", nc.address),
            );
            continue;
        }
        // Routes: each goes to this neighbor only, as in ExaBGP. Counted before
        // they are expanded: a template's routes are copied to each neighbor.
        let count: usize = p.body.routes.iter().map(|i| i.spec.count()).sum();
        expanded = expanded.saturating_add(count);
        if expanded > route::FILE_ROUTES_MAX && !over {
            ctx.error(&(p.at..p.at), format!(
                "with neighbor {} this file expands to {expanded} routes or more (split, and the routes of templates and groups copied to each neighbor), more than the {} a classic file may give: split less, or write fewer neighbors per file",
                nc.address,
                route::FILE_ROUTES_MAX
            ));
            over = true;
        }
        let mut mine: std::collections::HashSet<crate::bgp::Prefix> = Default::default();
        // Past the limit, no route is expanded (the file is refused anyway).
        let items = if over { &[][..] } else { &p.body.routes[..] };
        for item in items {
            for r in &item.spec.routes() {
                let at = item.spec.at..item.spec.at;
                if !nc.families.contains(&r.prefix.family()) {
                    ctx.error(&at, format!(
                        "route {} is {} but neighbor {} does not negotiate it, expected the family in its family {{ }} block",
                        r.prefix, r.prefix.family(), nc.address
                    ));
                    continue;
                }
                if !mine.insert(r.prefix) {
                    ctx.error(
                        &at,
                        format!(
                            "route {} is given twice to neighbor {}",
                            r.prefix, nc.address
                        ),
                    );
                    continue;
                }
                config.routes.push(RouteConfig {
                    route: r.clone(),
                    neighbors: vec![nc.address],
                });
                comments.routes.push(item.comments.clone());
            }
        }
        // What this neighbor asks of each process (over all its api blocks).
        let mut asks: BTreeMap<String, (Vec<ReceiveKind>, usize)> = BTreeMap::new();
        for api in &p.body.apis {
            for (name, at) in &api.processes {
                if !processes.iter().any(|(x, _, _)| &x.name == name) {
                    ctx.error(&(*at..*at), format!("api names process '{name}', which is not defined (process {name} {{ run ...; }})"));
                    continue;
                }
                first_use.entry(name.clone()).or_insert(*at);
                let e = users.entry(name.clone()).or_default();
                if !e.0.contains(&nc.address) {
                    e.0.push(nc.address);
                }
                let mine = asks.entry(name.clone()).or_insert((Vec::new(), *at));
                for k in &api.receive {
                    if !e.1.contains(k) {
                        e.1.push(*k);
                    }
                    if !mine.0.contains(k) {
                        mine.0.push(*k);
                    }
                }
            }
        }
        for (name, (kinds, at)) in asks {
            // Both lists hold each kind once: the same length and one inside the
            // other is the same set.
            let same =
                |a: &[ReceiveKind]| a.len() == kinds.len() && a.iter().all(|k| kinds.contains(k));
            match wants.get(&name) {
                Some((first, addr)) if !same(first) => {
                    ctx.error(&(at..at), format!(
                        "process '{name}' is given other events (receive / neighbor-changes / negotiated) by the api of neighbor {} than by that of neighbor {addr}: exabgp-rs sends a helper one set of events for every neighbor, ExaBGP sends each neighbor's own; give every neighbor's api the same set for this process, or split the file",
                        nc.address
                    ));
                }
                Some(_) => {}
                None => {
                    wants.insert(name, (kinds, nc.address));
                }
            }
        }
        comments.neighbors.push(p.body.comments.clone());
        config.neighbors.push(nc);
    }

    // A helper's commands and events concern every neighbor here; in ExaBGP, only
    // the neighbors whose api names it. Refuse the difference instead of widening
    // the helper's reach (a route meant for one peer would go to all).
    for (name, (addrs, _)) in &users {
        if let Some(other) = config
            .neighbors
            .iter()
            .find(|n| !addrs.contains(&n.address))
        {
            let at = first_use.get(name).copied().unwrap_or(0);
            ctx.error(&(at..at), format!(
                "process '{name}' is named by the api of some neighbors but not of neighbor {}: exabgp-rs gives a helper every neighbor (its events, and its commands without 'neighbor ADDR'); name it in every neighbor's api, or split the file",
                other.address
            ));
        }
    }

    // A process no api names could reach no peer in ExaBGP; here it would reach all.
    if !config.neighbors.is_empty() {
        for (p, at, _) in &processes {
            if !users.contains_key(&p.name) {
                ctx.error(&(*at..*at), format!(
                    "process '{}' is named by no neighbor's api: in ExaBGP it reaches no peer, in exabgp-rs a helper reaches every neighbor; name it in processes [ ... ] of every neighbor's api",
                    p.name
                ));
            }
        }
    }

    const ORDER: [ReceiveKind; 7] = [
        ReceiveKind::Update,
        ReceiveKind::State,
        ReceiveKind::Notification,
        ReceiveKind::Open,
        ReceiveKind::Keepalive,
        ReceiveKind::Refresh,
        ReceiveKind::Negotiated,
    ];
    for (mut p, _, c) in processes {
        let wanted = users.get(&p.name).map(|u| u.1.clone()).unwrap_or_default();
        p.receive = ORDER
            .iter()
            .copied()
            .filter(|k| wanted.contains(k))
            .collect();
        config.processes.push(p);
        comments.processes.push(c);
    }

    match config.neighbors.first() {
        Some(n) => {
            config.global = Global {
                router_id: n.router_id,
                local_as: n.local_as,
            }
        }
        None => {
            if !ctx.has_errors() {
                ctx.error(&(0..0), "no neighbor is configured: exabgp-rs needs at least one neighbor in a classic configuration (its router-id and local-as become the [global] ones)");
            }
            return None;
        }
    }
    comments.head.extend(tail);
    Some(Classic { config, comments })
}

fn read_neighbor(
    ctx: &mut Ctx<'_>,
    n: &Node,
    children: &[Node],
    group: Option<&Body>,
    templates: &BTreeMap<String, Body>,
) -> Option<Pending> {
    let at = n.at..n.at;
    let address = match n.args() {
        [w] => match w.text.parse::<IpAddr>() {
            Ok(a) => {
                let a = a.to_canonical();
                if a.is_unspecified() || a.is_multicast() {
                    ctx.error(&(w.at..w.at), format!("{a} cannot be a BGP peer's address"));
                    None
                } else {
                    Some(a)
                }
            }
            Err(_) if w.text.contains('/') => {
                ctx.error(&(w.at..w.at), format!("neighbor ranges ({}) are not supported: exabgp-rs needs each peer's address", w.text));
                None
            }
            Err(_) => {
                ctx.error(
                    &(w.at..w.at),
                    format!(
                        "invalid neighbor address \"{}\", expected an IP address",
                        w.text
                    ),
                );
                None
            }
        },
        _ => {
            ctx.error(
                &at,
                "neighbor needs one address: neighbor 192.0.2.1 { ... }",
            );
            None
        }
    };
    let mut body = read_body(ctx, children, false);
    body.comments.splice(0..0, n.comments.iter().cloned());
    let who = n.args().first().map_or("?", |w| w.text.as_str());
    for (name, wat) in std::mem::take(&mut body.inherit) {
        match templates.get(&name) {
            Some(t) => body.inherit_from(ctx, t, who),
            None => ctx.error(&(wat..wat), format!("inherit names template '{name}', which is not defined (template {{ neighbor {name} {{ ... }} }})")),
        }
    }
    if let Some(g) = group {
        body.inherit_from(ctx, g, who);
    }
    Some(Pending {
        address: address?,
        at: n.at,
        body,
    })
}

fn finish_neighbor(ctx: &mut Ctx<'_>, p: &Pending) -> Option<NeighborConfig> {
    let b = &p.body;
    let at = p.at..p.at;
    let local_address = b.local_address.flatten();
    let router_id = b.router_id.or(match local_address {
        Some(IpAddr::V4(a)) => Some(a),
        _ => None,
    });
    let mut ok = true;
    if router_id.is_none() {
        ctx.error(&at, format!("neighbor {} has no router-id (and no IPv4 local-address to take it from), expected router-id 192.0.2.1;", p.address));
        ok = false;
    }
    for (what, v) in [("local-as", b.local_as), ("peer-as", b.peer_as)] {
        if v.is_none() {
            ctx.error(
                &at,
                format!(
                    "neighbor {} has no {what}, expected {what} 65001;",
                    p.address
                ),
            );
            ok = false;
        }
    }
    if let Some(a) = local_address {
        if a.is_ipv4() != p.address.is_ipv4() {
            ctx.error(
                &at,
                format!(
                    "local-address {a} and neighbor {} are not of the same IP version",
                    p.address
                ),
            );
            ok = false;
        }
    }
    // ExaBGP's md5-ip is the local address the key is set for; ours is always the
    // local-address (or the one the kernel picks).
    if let Some(ip) = b.md5_ip {
        if local_address != Some(ip) {
            let at = b.set_at.get("md5-ip").copied().unwrap_or(p.at);
            ctx.error(&(at..at), format!(
                "md5-ip {ip} is not the local-address of neighbor {}: exabgp-rs keys MD5 on the local-address, so md5-ip is accepted only when it is that address",
                p.address
            ));
            ok = false;
        }
    }
    if !ok {
        return None;
    }
    Some(NeighborConfig {
        address: p.address,
        peer_as: b.peer_as?,
        local_as: b.local_as?,
        router_id: router_id?,
        local_address,
        port: b.port.unwrap_or(179),
        hold_time: b.hold_time.unwrap_or(EXABGP_HOLD_TIME),
        graceful_restart: b
            .graceful_restart
            .and_then(|g| g.restart_time(b.hold_time.unwrap_or(EXABGP_HOLD_TIME))),
        passive: b.passive.unwrap_or(false),
        families: b
            .families
            .clone()
            .unwrap_or_else(|| vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST]),
        md5_password: b.md5_password.clone(),
        description: b.description.clone(),
        max_prefix: None,
    })
}

/// `process NAME { run PROGRAM ARGS; encoder json|text; respawn; }`.
fn read_process(
    ctx: &mut Ctx<'_>,
    n: &Node,
    children: &[Node],
) -> Option<(ProcessConfig, usize, Vec<String>)> {
    let name = match n.args() {
        [w] => w.text.clone(),
        _ => {
            ctx.error(
                &(n.at..n.at),
                "process needs one name: process NAME { run ...; }",
            );
            return None;
        }
    };
    let mut comments = n.comments.clone();
    let mut run: Option<Vec<String>> = None;
    // ExaBGP's default encoder is text.
    let mut encoder = Encoder::Text;
    let mut ok = true;
    for c in children {
        comments.extend(c.comments.iter().cloned());
        let at = c.at..c.at;
        match (c.keyword().as_str(), c.children.is_some()) {
            ("run", false) => {
                if c.args().is_empty() {
                    ctx.error(&at, "run needs a program: run /path/to/program ARGS;");
                    ok = false;
                } else {
                    run = Some(c.args().iter().map(|w| w.text.clone()).collect());
                }
            }
            ("encoder", false) => match c.args() {
                [w] if w.text.eq_ignore_ascii_case("json") => encoder = Encoder::Json,
                [w] if w.text.eq_ignore_ascii_case("text") => encoder = Encoder::Text,
                _ => {
                    ctx.error(
                        &at,
                        "invalid encoder, expected encoder json; or encoder text;",
                    );
                    ok = false;
                }
            },
            ("respawn", false) => {
                let value = c.args().first().map(|w| w.text.to_ascii_lowercase());
                let off = matches!(value.as_deref(), Some("false" | "disable" | "disabled"));
                let on = matches!(value.as_deref(), None | Some("true" | "enable" | "enabled"));
                if !on && !off || c.args().len() > 1 {
                    let w = c.args().get(usize::from(on || off)).map_or(c.at, |w| w.at);
                    ctx.error(
                        &(w..w),
                        "invalid respawn, expected respawn; respawn true; or respawn false;",
                    );
                    ok = false;
                } else if off {
                    ctx.error(&at, "respawn false is not supported: exabgp-rs restarts a helper that exits (5 times in 60 s at most)");
                    ok = false;
                }
            }
            (k, _) => {
                ctx.error(
                    &at,
                    format!("unknown process setting '{k}', expected run, encoder or respawn"),
                );
                ok = false;
            }
        }
    }
    let Some(run) = run else {
        ctx.error(
            &(n.at..n.at),
            format!("process {name} has no run, expected run /path/to/program ARGS;"),
        );
        return None;
    };
    ok.then_some((
        ProcessConfig {
            name,
            run,
            encoder,
            receive: Vec::new(),
            respawn_limit: 5,
            respawn_window: 60,
        },
        n.at,
        comments,
    ))
}
