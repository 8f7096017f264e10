//! The restart marker: how a starting daemon knows that the previous one did not
//! stop cleanly (killed, crashed, aborted), so that its OPENs set the Restart
//! State bit of the Graceful Restart capability (RFC 4724 §4.1: "the BGP speaker
//! has restarted").
//!
//! A file next to the control socket (`/run/exabgp/NAME.sock.running` under the
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
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The marker for a control socket at `socket`: its whole name with `.running`
/// appended, so sockets named `edge.v4` and `edge.v6` get a marker each.
pub fn path_for(socket: &Path) -> PathBuf {
    let mut name = socket.as_os_str().to_owned();
    name.push(".running");
    PathBuf::from(name)
}

/// Creates the marker (holding our pid, for whoever looks); returns whether one
/// was already there, i.e. the previous daemon did not stop cleanly. Whatever is
/// at `path` (a file, a symbolic link someone planted) is removed, never written
/// through; the new file is created exclusively, without following links, and
/// readable by its owner only.
pub fn arm(path: &Path) -> io::Result<bool> {
    let was_there = fs::symlink_metadata(path).is_ok();
    if was_there {
        fs::remove_file(path)?;
    }
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    f.write_all(format!("{}\n", std::process::id()).as_bytes())?;
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
        assert_eq!(p, dir.join("edge1.sock.running"));
        let _ = fs::remove_file(&p);
        assert!(!arm(&p).unwrap(), "first start");
        assert!(arm(&p).unwrap(), "start after an unclean stop");
        disarm(&p).unwrap();
        assert!(!arm(&p).unwrap(), "start after a clean stop");
        disarm(&p).unwrap();
        disarm(&p).unwrap();
        fs::remove_dir_all(&dir).unwrap();
    }

    /// Socket names that differ only after a dot get a marker each.
    #[test]
    fn one_marker_per_socket_name() {
        let a = path_for(Path::new("/run/exabgp/edge.v4"));
        let b = path_for(Path::new("/run/exabgp/edge.v6"));
        assert_ne!(a, b);
        assert_eq!(a, Path::new("/run/exabgp/edge.v4.running"));
    }

    /// A symbolic link planted at the marker's path is replaced, not followed:
    /// its target is left untouched.
    #[test]
    fn a_planted_link_is_not_followed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("exabgp-marker-link-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let target = dir.join("precious");
        fs::write(&target, "keep me\n").unwrap();
        let p = path_for(&dir.join("edge.sock"));
        std::os::unix::fs::symlink(&target, &p).unwrap();
        assert!(arm(&p).unwrap(), "a link there counts as a marker");
        assert_eq!(fs::read_to_string(&target).unwrap(), "keep me\n");
        let m = fs::symlink_metadata(&p).unwrap();
        assert!(m.file_type().is_file());
        assert_eq!(m.permissions().mode() & 0o777, 0o600);
        fs::remove_dir_all(&dir).unwrap();
    }
}
