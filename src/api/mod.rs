//! The control plane: the text command language (ExaBGP's syntax), the JSON/text
//! event encoders, helper processes and the control socket, and the CLI client.
//!
//! ```text
//!  helper stdout ─┐                          ┌─> ControlRequest ─> daemon core
//!  socket client ─┴─> parse_request ─> execute┤
//!                                             └─< ControlReply ─> render ─> text/JSON
//!  daemon core ─> broadcast<Event> ─> EventEncoder (per helper) ─> bounded queue ─> helper stdin
//! ```
//!
//! Consecutive flow lines already buffered from one reader go to the core as one
//! request, each line still answered (`join`).

mod attrtext;
mod capjson;
pub mod cli;
pub mod command;
pub mod control_socket;
pub mod events;
pub mod exec;
mod flowjson;
pub mod helpers;
mod join;
mod jsonw;
pub mod lines;
pub mod plane;
pub mod render;
pub mod values;

pub use command::{parse_command, parse_request, ApiCommand, Request};
pub use control_socket::{
    bind_control_socket, serve_control, serve_control_socket, std_to_tokio, BindError,
    ControlSocket, ServerLimits,
};
pub use events::{encode_json, encode_text, EventEncoder, API_VERSION};
pub use exec::{
    execute, reload_and_apply, reload_and_apply_tracked, reload_and_apply_with, send, Answer,
    ApiContext, LateReply, ReloadError, Reloader, RELOAD_PATIENCE,
};
pub use plane::{prepare_control, reloader_for, start, ApiPlane, ControlEndpoint};

/// Why a command line was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("unknown command '{0}' (try 'help')")]
    Unknown(String),
    #[error("{0}")]
    Syntax(String),
}
