//! The restart marker: how a starting daemon knows that the previous one did not
//! stop cleanly (killed, crashed, aborted), so that its OPENs set the Restart
//! State bit of the Graceful Restart capability (RFC 4724 §4.1: "the BGP speaker
//! has restarted").
//!
//! A file next to the control socket (`/run/exabgp/NAME.running` under the
//! shipped unit: the runtime directory, kept across restarts by
//! RuntimeDirectoryPreserve=yes), created at start and removed only by a clean
//! stop (every peer got its Cease). So:
//! - `kill -9`, a crash, a watchdog kill, an OOM kill: the file stays, the next
//!   start says "restarted" (and systemd's Restart=on-failure starts it);
//! - `systemctl stop` then `start`, `exabgpcli shutdown`: removed, no R bit (the
//!   peers were told with a Cease and dropped our routes anyway);
//! - a reboot: /run is a tmpfs, the file is gone, no R bit.
//!
//! It is written after the privilege drop, so the user the daemon runs as can
//! remove it. Not a lock: the control socket already refuses a second instance.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The marker for a control socket at `socket` (its extension replaced).
pub fn path_for(socket: &Path) -> PathBuf {
    socket.with_extension("running")
}

/// Creates the marker (holding our pid, for whoever looks); returns whether one
/// was already there, i.e. the previous daemon did not stop cleanly.
pub fn arm(path: &Path) -> io::Result<bool> {
    let was_there = path.exists();
    fs::write(path, format!("{}\n", std::process::id()))?;
    Ok(was_there)
}

/// Removes the marker at a clean stop (missing already is fine).
pub fn disarm(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn armed_until_disarmed() {
        let dir = std::env::temp_dir().join(format!("exabgp-marker-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let p = path_for(&dir.join("edge1.sock"));
        assert_eq!(p, dir.join("edge1.running"));
        let _ = fs::remove_file(&p);
        assert!(!arm(&p).unwrap(), "first start");
        assert!(arm(&p).unwrap(), "start after an unclean stop");
        disarm(&p).unwrap();
        assert!(!arm(&p).unwrap(), "start after a clean stop");
        disarm(&p).unwrap();
        disarm(&p).unwrap();
        fs::remove_dir_all(&dir).unwrap();
    }
}
