//! `[[process]]`: a helper program that speaks the text API on its stdout and gets
//! events on its stdin.

use std::ops::Range;

use super::model::{Encoder, ProcessConfig, ReceiveKind};
use super::walk::{Ctx, Table};

pub(crate) const PROCESS_KEYS: &[&str] = &[
    "name",
    "run",
    "encoder",
    "receive",
    "respawn-limit",
    "respawn-window",
];

/// The `receive` names, in the order documented.
pub(crate) const RECEIVE_NAMES: &[(&str, ReceiveKind)] = &[
    ("update", ReceiveKind::Update),
    ("state", ReceiveKind::State),
    ("notification", ReceiveKind::Notification),
    ("open", ReceiveKind::Open),
    ("keepalive", ReceiveKind::Keepalive),
    ("refresh", ReceiveKind::Refresh),
    ("negotiated", ReceiveKind::Negotiated),
];

pub(crate) fn receive_name(k: ReceiveKind) -> &'static str {
    RECEIVE_NAMES
        .iter()
        .find(|(_, r)| *r == k)
        .map_or("update", |(n, _)| n)
}

pub(crate) fn encoder_name(e: Encoder) -> &'static str {
    match e {
        Encoder::Json => "json",
        Encoder::Text => "text",
    }
}

/// One `[[process]]` as parsed, with what the duplicate check needs.
pub(crate) struct ProcessDraft {
    pub(crate) config: Option<ProcessConfig>,
    name: Option<(String, Range<usize>)>,
}

pub(crate) fn parse_process(ctx: &mut Ctx<'_>, t: &Table<'_, '_>) -> ProcessDraft {
    t.check_keys(ctx, PROCESS_KEYS);
    let mut ok = true;

    let name = match t.str(ctx, "name", "a string, e.g. \"healthcheck\"") {
        Some((s, span)) if s.trim().is_empty() => {
            ctx.error(
                &span,
                "name is empty, expected a name for logs, e.g. \"healthcheck\"",
            );
            None
        }
        Some((s, span)) => Some((s.to_string(), span)),
        None => {
            if t.get("name").is_none() {
                t.missing(ctx, "name", "a name for logs, e.g. name = \"healthcheck\"");
            }
            None
        }
    };

    let run_example = "run = [\"/usr/bin/python3\", \"/etc/exabgp/healthcheck.py\"]";
    let run = match t.str_array(ctx, "run", "strings: the program and its arguments") {
        Some((items, span)) => {
            let complete = t
                .array(ctx, "run", "")
                .is_some_and(|(all, _)| all.len() == items.len());
            if items.is_empty() {
                ctx.error(
                    &span,
                    format!(
                        "run is empty, expected the program and its arguments, e.g. {run_example}"
                    ),
                );
                None
            } else if items[0].0.is_empty() {
                ctx.error(
                    &items[0].1,
                    "the program name (first item of run) is empty, expected a program path",
                );
                None
            } else {
                complete.then(|| items.iter().map(|(s, _)| s.to_string()).collect::<Vec<_>>())
            }
        }
        None => {
            if t.get("run").is_none() {
                t.missing(
                    ctx,
                    "run",
                    &format!("the program and its arguments, e.g. {run_example}"),
                );
            }
            None
        }
    };

    let encoder = match t.str(ctx, "encoder", "\"json\" or \"text\"") {
        Some((s, span)) => match s {
            "json" => Encoder::Json,
            "text" => Encoder::Text,
            _ => {
                ctx.error(
                    &span,
                    format!("unknown encoder \"{s}\", expected \"json\" or \"text\""),
                );
                ok = false;
                Encoder::Json
            }
        },
        None => {
            ok &= t.get("encoder").is_none();
            Encoder::Json
        }
    };

    let names = RECEIVE_NAMES
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ");
    let receive = match t.str_array(ctx, "receive", &format!("event names ({names})")) {
        Some((items, _)) => {
            ok &= t
                .array(ctx, "receive", "")
                .is_some_and(|(all, _)| all.len() == items.len());
            let mut out = Vec::new();
            for (s, span) in items {
                match RECEIVE_NAMES.iter().find(|(n, _)| *n == s) {
                    Some((_, k)) => {
                        if !out.contains(k) {
                            out.push(*k);
                        }
                    }
                    None => {
                        ctx.error(
                            &span,
                            format!("unknown receive value \"{s}\", expected one of: {names}"),
                        );
                        ok = false;
                    }
                }
            }
            out
        }
        None => {
            ok &= t.get("receive").is_none();
            vec![ReceiveKind::Update, ReceiveKind::State]
        }
    };

    let respawn_limit = match t.int(
        ctx,
        "respawn-limit",
        0,
        i128::from(u32::MAX),
        "an integer from 0 to 4294967295",
    ) {
        Some((n, _)) => u32::try_from(n).unwrap_or(5),
        None => {
            ok &= t.get("respawn-limit").is_none();
            5
        }
    };
    let respawn_window = match t.int(
        ctx,
        "respawn-window",
        1,
        i128::from(u32::MAX),
        "a number of seconds from 1 to 4294967295",
    ) {
        Some((n, _)) => u32::try_from(n).unwrap_or(60),
        None => {
            ok &= t.get("respawn-window").is_none();
            60
        }
    };

    let config = match (ok, &name, run) {
        (true, Some((name, _)), Some(run)) => Some(ProcessConfig {
            name: name.clone(),
            run,
            encoder,
            receive,
            respawn_limit,
            respawn_window,
        }),
        _ => None,
    };
    ProcessDraft { config, name }
}

pub(crate) fn check_duplicate_names(ctx: &mut Ctx<'_>, processes: &[ProcessDraft]) {
    for (i, p) in processes.iter().enumerate() {
        let Some((name, span)) = &p.name else {
            continue;
        };
        let first = processes[..i]
            .iter()
            .find_map(|q| q.name.as_ref().filter(|(n, _)| n == name));
        if let Some((_, first)) = first {
            let line = ctx.line_of(first);
            ctx.error(
                span,
                format!("duplicate process name \"{name}\" (first defined at line {line}), expected unique names"),
            );
        }
    }
}
