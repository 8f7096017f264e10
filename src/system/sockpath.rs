//! Where the control socket lives when systemd did not hand one over.
//!
//! The order is DESIGN.md's: `exabgp_api_socketpath` if set, else the first usable
//! directory of `/run/exabgp/`, `/run/<uid>/`, `/run/`, `/var/run/exabgp/`,
//! `/var/run/<uid>/`, `/var/run/`, then the same six under `<root>` (the install
//! prefix), joined with `<socketname>.sock`. "Usable" means: it exists, it is a
//! directory, and we may create files in it (`access(W_OK|X_OK)`).
//!
//! The search is a pure function of a list of base prefixes and a uid so that tests
//! can point it at a temporary tree; [`Resolution::report`] says why every earlier
//! candidate was skipped (for `exabgp env` and the CLI's error messages).

use std::fmt;
use std::path::{Path, PathBuf};

/// The six directories searched below each prefix, in order (`{uid}` replaced).
const RELATIVE_DIRS: [&str; 6] = [
    "run/exabgp",
    "run/{uid}",
    "run",
    "var/run/exabgp",
    "var/run/{uid}",
    "var/run",
];

/// Why a candidate directory was not chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// Nothing at that path.
    Missing,
    /// Something that is not a directory.
    NotADirectory,
    /// A directory we may not create files in (the errno of `access`).
    NotWritable(String),
    /// (client) a usable directory that holds no socket file of that name.
    NoSocketFile,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::Missing => write!(f, "does not exist"),
            SkipReason::NotADirectory => write!(f, "is not a directory"),
            SkipReason::NotWritable(e) => write!(f, "is not writable by us ({e})"),
            SkipReason::NoSocketFile => write!(f, "holds no socket file of that name"),
        }
    }
}

/// How the socket path was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chosen {
    /// `exabgp_api_socketpath` was set.
    Explicit(PathBuf),
    /// The first usable candidate directory, joined with the socket name.
    Searched(PathBuf),
    /// (CLI only) a candidate directory that holds the socket file already.
    Existing(PathBuf),
    /// No candidate was usable.
    Nothing,
}

/// The outcome of a search: the chosen path and every candidate looked at before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// The socket file name, `<socketname>.sock`.
    pub file_name: String,
    pub chosen: Chosen,
    /// Candidates looked at before the chosen one (all of them when none was usable).
    pub skipped: Vec<(PathBuf, SkipReason)>,
}

impl Resolution {
    /// The chosen socket path, if any.
    pub fn path(&self) -> Option<&Path> {
        match &self.chosen {
            Chosen::Explicit(p) | Chosen::Searched(p) | Chosen::Existing(p) => Some(p),
            Chosen::Nothing => None,
        }
    }

    /// Human text: the chosen path and why each earlier candidate was skipped.
    pub fn report(&self) -> String {
        let mut out = String::new();
        match &self.chosen {
            Chosen::Explicit(p) => out.push_str(&format!(
                "control socket: {} (from exabgp.api.socketpath)\n",
                p.display()
            )),
            Chosen::Searched(p) => out.push_str(&format!(
                "control socket: {} (first usable directory)\n",
                p.display()
            )),
            Chosen::Existing(p) => out.push_str(&format!(
                "control socket: {} (socket file found there)\n",
                p.display()
            )),
            Chosen::Nothing => out.push_str(&format!(
                "control socket: none: no usable directory for {} (set exabgp.api.socketpath)\n",
                self.file_name
            )),
        }
        for (dir, why) in &self.skipped {
            out.push_str(&format!("  skipped {}: {}\n", dir.display(), why));
        }
        out
    }
}

/// The name rule is a settings rule (`exabgp_api_socketname`), so it lives in
/// config/; it is re-exported here beside the paths it keeps safe.
pub use crate::config::socket_name::{check_name, MAX_NAME_LEN};

/// The socket file name for a socket name: `<name>.sock`.
pub fn file_name(socketname: &str) -> String {
    format!("{socketname}.sock")
}

/// The candidate directories below `prefixes`, in search order.
pub fn candidate_dirs(prefixes: &[PathBuf], uid: u32) -> Vec<PathBuf> {
    let uid = uid.to_string();
    let mut out = Vec::with_capacity(prefixes.len() * RELATIVE_DIRS.len());
    for prefix in prefixes {
        for rel in RELATIVE_DIRS {
            out.push(prefix.join(rel.replace("{uid}", &uid)));
        }
    }
    out
}

/// The default prefixes: `/` then the install root.
pub fn default_prefixes(root: &Path) -> Vec<PathBuf> {
    vec![PathBuf::from("/"), root.to_path_buf()]
}

/// Is `dir` usable for creating the socket? `Ok(())` or why not.
pub fn check_dir(dir: &Path) -> Result<(), SkipReason> {
    let meta = match std::fs::metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(SkipReason::Missing),
        Err(e) => return Err(SkipReason::NotWritable(e.to_string())),
    };
    if !meta.is_dir() {
        return Err(SkipReason::NotADirectory);
    }
    nix::unistd::access(
        dir,
        nix::unistd::AccessFlags::W_OK | nix::unistd::AccessFlags::X_OK,
    )
    .map_err(|e| SkipReason::NotWritable(e.desc().to_string()))
}

/// The daemon's resolution: explicit path, else the first usable candidate.
pub fn resolve(
    explicit: Option<&Path>,
    socketname: &str,
    prefixes: &[PathBuf],
    uid: u32,
) -> Resolution {
    let file_name = file_name(socketname);
    if let Some(p) = explicit {
        return Resolution {
            file_name,
            chosen: Chosen::Explicit(p.to_path_buf()),
            skipped: Vec::new(),
        };
    }
    let mut skipped = Vec::new();
    for dir in candidate_dirs(prefixes, uid) {
        match check_dir(&dir) {
            Ok(()) => {
                let path = dir.join(&file_name);
                return Resolution {
                    file_name,
                    chosen: Chosen::Searched(path),
                    skipped,
                };
            }
            Err(why) => skipped.push((dir, why)),
        }
    }
    Resolution {
        file_name,
        chosen: Chosen::Nothing,
        skipped,
    }
}

/// The client's resolution: explicit path; else the first candidate directory that
/// already holds `<socketname>.sock` (the CLI may run as another user than the
/// daemon, so "writable by us" would send it elsewhere); else what the daemon would
/// choose.
pub fn resolve_client(
    explicit: Option<&Path>,
    socketname: &str,
    prefixes: &[PathBuf],
    uid: u32,
) -> Resolution {
    if explicit.is_some() {
        return resolve(explicit, socketname, prefixes, uid);
    }
    let file_name = file_name(socketname);
    for dir in candidate_dirs(prefixes, uid) {
        let path = dir.join(&file_name);
        if std::fs::symlink_metadata(&path).is_ok() {
            let skipped = candidate_dirs(prefixes, uid)
                .into_iter()
                .take_while(|earlier| *earlier != dir)
                .map(|earlier| {
                    let why = check_dir(&earlier)
                        .err()
                        .unwrap_or(SkipReason::NoSocketFile);
                    (earlier, why)
                })
                .collect();
            return Resolution {
                file_name,
                chosen: Chosen::Existing(path),
                skipped,
            };
        }
    }
    resolve(None, socketname, prefixes, uid)
}

/// The daemon's resolution with the real prefixes (`/`, then `root`) and our
/// effective uid: what the daemon uses before binding.
pub fn resolve_default(explicit: Option<&Path>, socketname: &str, root: &Path) -> Resolution {
    resolve(
        explicit,
        socketname,
        &default_prefixes(root),
        nix::unistd::geteuid().as_raw(),
    )
}

/// `exabgp env`'s socket section: the chosen path and why each earlier candidate
/// was skipped.
pub fn report(explicit: Option<&Path>, socketname: &str, root: &Path) -> String {
    resolve_default(explicit, socketname, root).report()
}
