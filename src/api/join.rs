//! Consecutive flow commands from one reader, joined into one request to the
//! daemon core.
//!
//! A DDoS detector writes thousands of `announce flow route ...` lines in a burst.
//! Run one by one, each line is a request to the core, a command in the
//! neighbor's queue and a wake-up of both tasks: that, not the parsing, bounded
//! the rate (scenario BF of scripts/bench). A reader (helper stdout, control
//! socket client) that has parsed a flow announce or withdraw takes the lines
//! already in its buffer (never waiting for more) while they are the same kind of
//! command for the same neighbors, at most [`MAX_JOINED`], and sends them as one
//! [`Command::AnnounceFlow`] / [`Command::WithdrawFlow`]: one request, one
//! `NeighborCommand` per neighbor.
//!
//! What stays as it was:
//! - order: only consecutive commands of one kind are joined, so an announce and
//!   a later withdraw of the same rule stay in that order, and within a joined
//!   command the rules are applied in the order they were written;
//! - answers: each joined line gets its own answer (`done`, or the error of the
//!   joined request), in order;
//! - errors: a line that does not parse, or is another command, ends the join and
//!   is handled after it, alone, as before; the errors the core gives for a whole
//!   command ("no neighbor matches", "no neighbor ... has the family", a neighbor
//!   whose queue is full) are the same for every line of a join, because the lines
//!   share their scope and, for announces, their family;
//! - bounds: a neighbor's queue still counts commands and refuses when full; a
//!   command carries at most [`MAX_JOINED`] rules, so the rules queued for one
//!   neighbor stay bounded (`COMMAND_QUEUE` × [`MAX_JOINED`]).

use tokio::io::{AsyncRead, BufReader};

use crate::control::Command;

use super::command::{parse_request, ApiCommand, Request};
use super::lines::{read_line, Line};

/// The most lines joined into one request: enough to make the per-request cost
/// (two wake-ups, a queue slot) small per rule, few enough that a neighbor's
/// bounded queue of commands still bounds the rules it holds.
pub const MAX_JOINED: usize = 64;

/// Whether a request can start a join.
pub fn joinable(req: &Request) -> bool {
    matches!(
        req.command,
        ApiCommand::Control(Command::AnnounceFlow { .. } | Command::WithdrawFlow { .. })
    )
}

/// Appends `next`'s rules to `acc` when it is the same kind of command for the
/// same neighbors (and, for announces, the same family); else gives it back.
pub fn join(acc: &mut Request, next: Request) -> Result<(), Request> {
    match (&mut acc.command, next.command) {
        (
            ApiCommand::Control(Command::AnnounceFlow { scope, rules }),
            ApiCommand::Control(Command::AnnounceFlow {
                scope: s,
                rules: more,
            }),
        ) if *scope == s && same_family(rules, &more) => {
            rules.extend(more);
            Ok(())
        }
        (
            ApiCommand::Control(Command::WithdrawFlow { scope, rules }),
            ApiCommand::Control(Command::WithdrawFlow {
                scope: s,
                rules: more,
            }),
        ) if *scope == s => {
            rules.extend(more);
            Ok(())
        }
        (_, command) => Err(Request {
            command,
            json: next.json,
        }),
    }
}

/// Every rule of both of one family: the core refuses a whole announce when a
/// rule's family is on no target, and that verdict must be the same for every
/// joined line.
fn same_family(a: &[crate::rib::FlowRoute], b: &[crate::rib::FlowRoute]) -> bool {
    let Some(f) = a.first().map(|r| r.family()) else {
        return false;
    };
    b.iter().all(|r| r.family() == f)
}

/// Takes the lines already buffered in `r` (never waits for input) and joins
/// them into `req` while they join; returns how many lines `req` now stands for.
/// The first line that does not join (or is not a command) is left in `carry`,
/// for the caller to handle next, as it would have without the join.
pub async fn gather<R: AsyncRead + Unpin>(
    r: &mut BufReader<R>,
    max_line: usize,
    req: &mut Request,
    carry: &mut Option<std::io::Result<Line>>,
) -> usize {
    let mut n = 1;
    while n < MAX_JOINED && r.buffer().contains(&b'\n') {
        let line = read_line(r, max_line).await;
        if let Ok(Line::Text(t)) = &line {
            if let Ok(next) = parse_request(t) {
                if joinable(&next) && join(req, next).is_ok() {
                    n += 1;
                    continue;
                }
            }
        }
        *carry = Some(line);
        break;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(line: &str) -> Request {
        match parse_request(line) {
            Ok(r) => r,
            Err(e) => panic!("{line}: {e}"),
        }
    }

    fn rules(r: &Request) -> usize {
        match &r.command {
            ApiCommand::Control(Command::AnnounceFlow { rules, .. }) => rules.len(),
            ApiCommand::Control(Command::WithdrawFlow { rules, .. }) => rules.len(),
            _ => 0,
        }
    }

    const A1: &str = "announce flow route { match { destination 10.0.0.1/32; } then { discard; } }";
    const A2: &str = "announce flow route { match { destination 10.0.0.2/32; } then { discard; } }";
    const W1: &str = "withdraw flow route { match { destination 10.0.0.1/32; } then { discard; } }";
    const A6: &str =
        "announce flow route { match { destination 2001:db8::1/128; } then { discard; } }";

    #[test]
    fn same_kind_and_scope_join_in_order() {
        let mut acc = req(A1);
        assert!(join(&mut acc, req(A2)).is_ok());
        assert_eq!(rules(&acc), 2);
        let want = [req(A1), req(A2)]
            .into_iter()
            .flat_map(|r| match r.command {
                ApiCommand::Control(Command::AnnounceFlow { rules, .. }) => rules,
                _ => Vec::new(),
            })
            .collect::<Vec<_>>();
        match &acc.command {
            ApiCommand::Control(Command::AnnounceFlow { rules, .. }) => assert_eq!(rules, &want),
            other => panic!("{other:?}"),
        }
        let mut w = req(W1);
        assert!(join(&mut w, req(W1)).is_ok());
        assert_eq!(rules(&w), 2);
    }

    #[test]
    fn other_kind_scope_or_family_does_not_join() {
        let mut acc = req(A1);
        assert_eq!(join(&mut acc, req(W1)), Err(req(W1)));
        let scoped = format!("neighbor 192.0.2.1 {A2}");
        assert_eq!(join(&mut acc, req(&scoped)), Err(req(&scoped)));
        assert_eq!(join(&mut acc, req(A6)), Err(req(A6)));
        assert_eq!(
            join(&mut acc, req("show neighbor")),
            Err(req("show neighbor"))
        );
        assert_eq!(rules(&acc), 1);
        assert!(!joinable(&req(
            "announce route 10.0.0.0/24 next-hop 192.0.2.1"
        )));
    }

    #[tokio::test]
    async fn gather_takes_only_buffered_joinable_lines() {
        let input = format!("{A2}\n{A2}\n{W1}\n{A1}\n");
        let mut r = BufReader::new(input.as_bytes());
        // Fill the buffer as a first read_line would have.
        let first = read_line(&mut r, 1024).await;
        let Ok(Line::Text(t)) = first else {
            panic!("{first:?}")
        };
        let mut acc = req(&t);
        let mut carry = None;
        assert_eq!(gather(&mut r, 1024, &mut acc, &mut carry).await, 2);
        assert_eq!(rules(&acc), 2);
        assert_eq!(carry.map(|l| l.ok()), Some(Some(Line::Text(W1.into()))));
        // Nothing buffered: no join, nothing carried.
        let mut empty = BufReader::new(&b""[..]);
        let mut acc = req(A1);
        let mut carry = None;
        assert_eq!(gather(&mut empty, 1024, &mut acc, &mut carry).await, 1);
        assert!(carry.is_none());
    }
}
