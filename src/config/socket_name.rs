//! The rule for an instance name and a control socket name, shared by the
//! `exabgp_api_socketname` setting (config/), the daemon's and exabgpcli's
//! `--instance`, and the socket path search (`system::sockpath`, which re-exports
//! it). A pure function of the text, so the lowest layer that needs it holds it.

/// Longest instance / socket name: `/run/exabgp/<name>.sock` must fit in a Unix
/// socket address (108 bytes) with room for the longer search directories.
pub const MAX_NAME_LEN: usize = 64;

/// The one rule for an instance name and a control socket name (the daemon's
/// `--instance` and `exabgp_api_socketname`, exabgpcli's `--instance`): a plain
/// file name of letters, digits, '.', '-', '_', '@', at most [`MAX_NAME_LEN`]
/// bytes, not `.` nor `..` — no '/', no NUL, nothing that leaves the socket
/// directory. The error says what is expected.
pub fn check_name(name: &str) -> Result<(), &'static str> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
    if ok {
        Ok(())
    } else {
        Err("a file name made of letters, digits, '.', '-', '_', '@' (no '/'), at most 64 bytes")
    }
}
