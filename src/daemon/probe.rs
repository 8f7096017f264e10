//! The health probe: the core's own answer to "how are you", used for the
//! watchdog and for STATUS= after start-up and reloads (serve.rs, reloads.rs).

use crate::api;
use crate::control::{Command, ControlReply};
use crate::system::supervise::Health;

/// Ask the core how it is, through its own command loop (so a hung loop answers
/// nothing and the watchdog is not petted). The core answers from what the neighbor
/// tasks published, so one neighbor blocked on a peer that stopped reading does not
/// starve the watchdog.
pub(super) async fn health(ctx: api::ApiContext) -> Option<Health> {
    match api::send(&ctx, Command::Health).await.ok()? {
        ControlReply::Health(h) => Some(h),
        _ => None,
    }
}
