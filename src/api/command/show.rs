//! `show neighbor [summary|extensive|configuration] [ADDR]` and
//! `show adj-rib in|out [ADDR]` and `show metrics`.

use crate::api::ApiError;
use crate::control::{Command, RibDirection, ShowDetail};

use super::tokens::{parse_ip, syntax, Tokens};
use super::ApiCommand;

pub(super) fn parse_show(t: &mut Tokens) -> Result<ApiCommand, ApiError> {
    let what = t.need("'neighbor' or 'adj-rib'")?.to_ascii_lowercase();
    match what.as_str() {
        "neighbor" | "neighbors" => {
            let mut detail = ShowDetail::Basic;
            let mut address = None;
            while let Some(w) = t.next() {
                match w.to_ascii_lowercase().as_str() {
                    "summary" => detail = ShowDetail::Summary,
                    "extensive" => detail = ShowDetail::Extensive,
                    "configuration" => detail = ShowDetail::Configuration,
                    _ => address = Some(parse_ip(&w).map_err(|_| syntax(format!("show neighbor: unexpected '{w}': expected summary, extensive, configuration or an address")))?),
                }
            }
            Ok(ApiCommand::Control(Command::ShowNeighbor {
                detail,
                address,
            }))
        }
        "adj-rib" => {
            let direction = match t.need("'in' or 'out'")?.to_ascii_lowercase().as_str() {
                "in" => RibDirection::In,
                "out" => RibDirection::Out,
                other => {
                    return Err(syntax(format!(
                        "show adj-rib: expected 'in' or 'out', found '{other}'"
                    )))
                }
            };
            let mut address = None;
            while let Some(w) = t.next() {
                if w.eq_ignore_ascii_case("extensive") {
                    continue;
                }
                address = Some(parse_ip(&w)?);
            }
            Ok(ApiCommand::Control(Command::ShowAdjRib {
                direction,
                address,
            }))
        }
        "metrics" => match t.next() {
            None => Ok(ApiCommand::Metrics),
            Some(w) => Err(syntax(format!("show metrics: unexpected '{w}'"))),
        },
        other => Err(syntax(format!(
            "show what? expected 'neighbor', 'adj-rib' or 'metrics', found '{other}'"
        ))),
    }
}
