//! Generations on disk: numbered, complete snapshots of one instance's files.
//!
//! Layout under the state directory (default /var/lib/exabgp/INSTANCE/):
//!
//! ```text
//!   generations/000007/INSTANCE.toml   the configuration of generation 7
//!   generations/000007/INSTANCE.env    its env file (absent: the instance had none)
//!   generations/000007/meta.json       number, time, note, package version, why
//!   current                            the generation the instance was last left on
//!   pending                            a generation whose files are being installed
//!   lock                               flock(2) so two runs never interleave
//! ```
//!
//! Why it is built this way:
//! - A generation is written into `generations/.tmp-*` and renamed into place, so a
//!   crash leaves either no generation or a whole one (a rename is atomic, the
//!   leftover temporary directory is removed by the next run).
//! - Installing a generation writes two files (config, env). `pending` names the
//!   generation before the first file is touched and is removed after the last, so
//!   a run killed in between is finished by the next run (`recover`): the instance
//!   is always left on one complete generation, never half of two.
//! - Files in /etc/exabgp are replaced by rename of a sibling temporary file that
//!   already has the mode and group of the file it replaces (0640 root:exabgp as the
//!   packages ship them), so the daemon never reads a partial file.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::RollbackError;

/// The files of one instance, as read from the configuration directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// INSTANCE.toml, byte for byte.
    pub toml: Vec<u8>,
    /// INSTANCE.env; None when the instance has no env file (the unit skips it).
    pub env: Option<Vec<u8>>,
}

/// What meta.json records about a generation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generation {
    pub number: u32,
    /// Seconds since the epoch when it was saved.
    pub saved_at: u64,
    /// The operator's note (`--note`), or what the tool did ("before apply", ...).
    pub note: String,
    /// The installed package version at the time (None: no package installed).
    pub package: Option<String>,
    /// Whether the instance had an env file.
    pub has_env: bool,
    /// An apply of this generation failed verification and was undone: a rollback
    /// without a generation number never picks it.
    #[serde(default)]
    pub failed: bool,
}

/// One instance's generations and files.
pub struct Store {
    pub instance: String,
    /// /etc/exabgp: where INSTANCE.toml and INSTANCE.env live.
    pub config_dir: PathBuf,
    /// /var/lib/exabgp/INSTANCE.
    pub state_dir: PathBuf,
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> RollbackError {
    let what = what.into();
    move |e| RollbackError::Io(format!("{what}: {e}"))
}

impl Store {
    pub fn new(instance: &str, config_dir: &Path, state_root: &Path) -> Self {
        Store {
            instance: instance.to_string(),
            config_dir: config_dir.to_path_buf(),
            state_dir: state_root.join(instance),
        }
    }

    pub fn toml_path(&self) -> PathBuf {
        self.config_dir.join(format!("{}.toml", self.instance))
    }

    pub fn env_path(&self) -> PathBuf {
        self.config_dir.join(format!("{}.env", self.instance))
    }

    fn generations_dir(&self) -> PathBuf {
        self.state_dir.join("generations")
    }

    pub fn generation_dir(&self, n: u32) -> PathBuf {
        self.generations_dir().join(format!("{n:06}"))
    }

    pub fn lock_path(&self) -> PathBuf {
        self.state_dir.join("lock")
    }

    /// Creates the state directories (0750: configurations may hold MD5 passwords).
    pub fn prepare(&self) -> Result<(), RollbackError> {
        let dir = self.generations_dir();
        fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
        for d in [&self.state_dir, &dir] {
            fs::set_permissions(d, fs::Permissions::from_mode(0o750))
                .map_err(io(format!("chmod {}", d.display())))?;
        }
        Ok(())
    }

    /// Removes what a run that died while saving left behind. Only with the lock
    /// held: without it, this would delete another run's generation in the making.
    pub fn clean_tmp(&self) {
        let dir = self.generations_dir();
        if let Ok(entries) = fs::read_dir(&dir) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with(".tmp-") {
                    let _ = fs::remove_dir_all(e.path());
                }
            }
        }
    }

    /// The instance's files as they are now.
    pub fn read_installed(&self) -> Result<Snapshot, RollbackError> {
        let toml_path = self.toml_path();
        let toml = fs::read(&toml_path).map_err(io(format!("reading {}", toml_path.display())))?;
        let env = match fs::read(self.env_path()) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(format!("reading {}", self.env_path().display()))(e)),
        };
        Ok(Snapshot { toml, env })
    }

    /// Every complete generation, oldest first.
    pub fn list(&self) -> Result<Vec<Generation>, RollbackError> {
        let dir = self.generations_dir();
        let mut out = Vec::new();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(io(format!("reading {}", dir.display()))(e)),
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.parse::<u32>().is_err() {
                continue;
            }
            // A damaged generation is skipped (and said), so one bad directory never
            // blocks every command, --emergency included.
            let meta = e.path().join("meta.json");
            match fs::read(&meta)
                .map_err(|err| err.to_string())
                .and_then(|t| {
                    serde_json::from_slice::<Generation>(&t).map_err(|err| err.to_string())
                }) {
                Ok(g) => out.push(g),
                Err(err) => eprintln!(
                    "exabgp-rollback: skipping damaged generation {}: {err}",
                    meta.display()
                ),
            }
        }
        out.sort_by_key(|g| g.number);
        Ok(out)
    }

    pub fn get(&self, n: u32) -> Result<Generation, RollbackError> {
        self.list()?
            .into_iter()
            .find(|g| g.number == n)
            .ok_or_else(|| RollbackError::NoGeneration(self.instance.clone(), n))
    }

    /// The files of generation `n`.
    pub fn read_generation(&self, n: u32) -> Result<Snapshot, RollbackError> {
        let g = self.get(n)?;
        let dir = self.generation_dir(n);
        let toml_path = dir.join(format!("{}.toml", self.instance));
        let toml = fs::read(&toml_path).map_err(io(format!("reading {}", toml_path.display())))?;
        let env = if g.has_env {
            let p = dir.join(format!("{}.env", self.instance));
            Some(fs::read(&p).map_err(io(format!("reading {}", p.display())))?)
        } else {
            None
        };
        Ok(Snapshot { toml, env })
    }

    /// The generation the instance was last left on, if any and still stored.
    pub fn current(&self) -> Option<u32> {
        let text = fs::read_to_string(self.state_dir.join("current")).ok()?;
        let n = text.trim().parse().ok()?;
        self.generation_dir(n).is_dir().then_some(n)
    }

    pub fn set_current(&self, n: u32) -> Result<(), RollbackError> {
        write_atomic(
            &self.state_dir.join("current"),
            format!("{n}\n").as_bytes(),
            None,
        )
    }

    /// Writes a new generation (temporary directory, then rename) and returns it.
    /// Keeps the newest `keep` generations and the current one; older ones go.
    pub fn save(
        &self,
        snap: &Snapshot,
        note: &str,
        package: Option<String>,
    ) -> Result<Generation, RollbackError> {
        self.prepare()?;
        let number = self.list()?.last().map(|g| g.number + 1).unwrap_or(1);
        let g = Generation {
            number,
            saved_at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            note: note.to_string(),
            package,
            has_env: snap.env.is_some(),
            failed: false,
        };
        let tmp = self
            .generations_dir()
            .join(format!(".tmp-{}-{number}", std::process::id()));
        fs::create_dir(&tmp).map_err(io(format!("creating {}", tmp.display())))?;
        let write = |name: &str, bytes: &[u8]| -> Result<(), RollbackError> {
            let p = tmp.join(name);
            let mut f = fs::File::create(&p).map_err(io(format!("writing {}", p.display())))?;
            f.write_all(bytes)
                .and_then(|_| f.sync_all())
                .map_err(io(format!("writing {}", p.display())))
        };
        write(&format!("{}.toml", self.instance), &snap.toml)?;
        if let Some(env) = &snap.env {
            write(&format!("{}.env", self.instance), env)?;
        }
        let meta = serde_json::to_vec_pretty(&g)
            .map_err(|e| RollbackError::Io(format!("encoding meta.json: {e}")))?;
        write("meta.json", &meta)?;
        let dest = self.generation_dir(number);
        fs::rename(&tmp, &dest).map_err(io(format!("renaming into {}", dest.display())))?;
        sync_dir(&self.generations_dir());
        Ok(g)
    }

    /// Removes the oldest generations beyond `keep`, never the current one nor one
    /// in `protect` (what the run that calls it may still restore). Called once, at
    /// the end of a run that changed something.
    pub fn prune(&self, keep: usize, protect: &[u32]) -> Result<(), RollbackError> {
        let all = self.list()?;
        let current = self.current();
        let mut excess = all.len().saturating_sub(keep.max(1));
        for g in &all {
            if excess == 0 {
                break;
            }
            if Some(g.number) == current || protect.contains(&g.number) {
                continue;
            }
            excess -= 1;
            fs::remove_dir_all(self.generation_dir(g.number))
                .map_err(io(format!("removing generation {}", g.number)))?;
        }
        Ok(())
    }

    /// Records that an apply of generation `n` failed verification (meta.json is
    /// rewritten through a temporary file and a rename).
    pub fn mark_failed(&self, n: u32) -> Result<(), RollbackError> {
        let mut g = self.get(n)?;
        g.failed = true;
        let meta = serde_json::to_vec_pretty(&g)
            .map_err(|e| RollbackError::Io(format!("encoding meta.json: {e}")))?;
        write_atomic(&self.generation_dir(n).join("meta.json"), &meta, None)
    }

    /// Installs the files of generation `n` into the configuration directory,
    /// under the `pending` marker (see the module header).
    pub fn install(&self, n: u32) -> Result<(), RollbackError> {
        let snap = self.read_generation(n)?;
        write_atomic(
            &self.state_dir.join("pending"),
            format!("{n}\n").as_bytes(),
            None,
        )?;
        self.install_files(&snap)?;
        self.set_current(n)?;
        let _ = fs::remove_file(self.state_dir.join("pending"));
        sync_dir(&self.state_dir);
        Ok(())
    }

    /// Writes `snap` as INSTANCE.toml / INSTANCE.env (env removed when None).
    fn install_files(&self, snap: &Snapshot) -> Result<(), RollbackError> {
        let like = fs::metadata(self.toml_path()).ok();
        write_atomic(&self.toml_path(), &snap.toml, like.as_ref())?;
        match &snap.env {
            Some(env) => {
                let env_like = fs::metadata(self.env_path()).ok().or(like);
                write_atomic(&self.env_path(), env, env_like.as_ref())?;
            }
            None => match fs::remove_file(self.env_path()) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(format!("removing {}", self.env_path().display()))(e)),
            },
        }
        sync_dir(&self.config_dir);
        Ok(())
    }

    /// A run that died while installing left `pending`: finish that install, so the
    /// instance is on one complete generation. Returns the generation finished.
    pub fn recover(&self) -> Result<Option<u32>, RollbackError> {
        let p = self.state_dir.join("pending");
        let Ok(text) = fs::read_to_string(&p) else {
            return Ok(None);
        };
        let n = match text.trim().parse::<u32>() {
            Ok(n) if self.generation_dir(n).is_dir() => n,
            _ => {
                eprintln!(
                    "exabgp-rollback: ignoring {}: it names no stored generation ({:?})",
                    p.display(),
                    text.trim()
                );
                let _ = fs::remove_file(&p);
                return Ok(None);
            }
        };
        self.install(n)?;
        Ok(Some(n))
    }

    /// Records what a run is about to do to the running instance, so a run that
    /// dies before it is done can be finished or undone by the next (`intent`).
    pub fn set_intent(&self, intent: &Intent) -> Result<(), RollbackError> {
        let bytes = serde_json::to_vec(intent)
            .map_err(|e| RollbackError::Io(format!("encoding intent: {e}")))?;
        write_atomic(&self.state_dir.join("intent"), &bytes, None)
    }

    pub fn intent(&self) -> Option<Intent> {
        let bytes = fs::read(self.state_dir.join("intent")).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    pub fn clear_intent(&self) {
        let _ = fs::remove_file(self.state_dir.join("intent"));
        sync_dir(&self.state_dir);
    }

    /// The last completed rollback (from, to), so running the same rollback twice
    /// does not go one generation further back.
    pub fn last_rollback(&self) -> Option<(u32, u32)> {
        let t = fs::read_to_string(self.state_dir.join("last-rollback")).ok()?;
        let (a, b) = t.trim().split_once(' ')?;
        Some((a.parse().ok()?, b.parse().ok()?))
    }

    pub fn set_last_rollback(&self, from: u32, to: u32) -> Result<(), RollbackError> {
        write_atomic(
            &self.state_dir.join("last-rollback"),
            format!("{from} {to}\n").as_bytes(),
            None,
        )
    }

    pub fn clear_last_rollback(&self) {
        let _ = fs::remove_file(self.state_dir.join("last-rollback"));
    }
}

/// What a run was doing to the running instance (see `Store::set_intent`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Intent {
    /// Apply of `new`; the instance's last good generation is `old`. Unfinished:
    /// `new` was never verified, so the next run restores `old`.
    Apply { old: u32, new: u32 },
    /// Rollback from `from` to `to`. Unfinished: the next run completes it.
    Rollback { from: u32, to: u32 },
}

/// Writes `path` through a temporary sibling and a rename. With `like`, the new
/// file takes its mode and owner (so 0640 root:exabgp stays 0640 root:exabgp);
/// without, 0640 owned by the caller.
pub fn write_atomic(
    path: &Path,
    bytes: &[u8],
    like: Option<&fs::Metadata>,
) -> Result<(), RollbackError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.rollback-{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        // A file left by a run killed between create and rename.
        let _ = fs::remove_file(&tmp);
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        let mode = like.map(|m| m.mode() & 0o7777).unwrap_or(0o640);
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        // The daemon (User=exabgp) reads these files through group exabgp: as root,
        // the new file takes the old one's owner, or root:exabgp when there was
        // none, and a failure is an error. Unprivileged (tests), the caller's owner.
        let root = nix::unistd::geteuid().is_root();
        let owner = match like {
            Some(m) => Some((m.uid(), m.gid())),
            None if root => nix::unistd::Group::from_name("exabgp")
                .ok()
                .flatten()
                .map(|g| (0, g.gid.as_raw())),
            None => None,
        };
        if let Some((uid, gid)) = owner {
            match std::os::unix::fs::fchown(&f, Some(uid), Some(gid)) {
                Err(e) if root => return Err(e),
                _ => {}
            }
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(RollbackError::Io(format!(
            "writing {}: {e}",
            path.display()
        )));
    }
    Ok(())
}

fn sync_dir(dir: &Path) {
    if let Ok(f) = fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(tmp: &Path) -> Store {
        let etc = tmp.join("etc");
        fs::create_dir_all(&etc).unwrap();
        Store::new("edge1", &etc, &tmp.join("state"))
    }

    fn snap(toml: &str, env: Option<&str>) -> Snapshot {
        Snapshot {
            toml: toml.as_bytes().to_vec(),
            env: env.map(|e| e.as_bytes().to_vec()),
        }
    }

    #[test]
    fn save_list_read_back() {
        let t = tempfile::tempdir().unwrap();
        let s = store(t.path());
        let a = s
            .save(&snap("a", Some("x=1")), "first", Some("0.1.0".into()))
            .unwrap();
        let b = s.save(&snap("b", None), "second", None).unwrap();
        assert_eq!((a.number, b.number), (1, 2));
        let all = s.list().unwrap();
        assert_eq!(all, vec![a, b]);
        assert_eq!(s.read_generation(1).unwrap(), snap("a", Some("x=1")));
        assert_eq!(s.read_generation(2).unwrap(), snap("b", None));
    }

    #[test]
    fn keeps_the_newest_k_and_the_current_one() {
        let t = tempfile::tempdir().unwrap();
        let s = store(t.path());
        s.save(&snap("1", None), "", None).unwrap();
        s.set_current(1).unwrap();
        for i in 2..=7 {
            s.save(&snap(&i.to_string(), None), "", None).unwrap();
        }
        s.prune(3, &[]).unwrap();
        let numbers: Vec<u32> = s.list().unwrap().iter().map(|g| g.number).collect();
        assert_eq!(numbers, vec![1, 6, 7]);
        // What a run may still restore is kept too.
        s.save(&snap("8", None), "", None).unwrap();
        s.prune(3, &[6]).unwrap();
        let numbers: Vec<u32> = s.list().unwrap().iter().map(|g| g.number).collect();
        assert_eq!(numbers, vec![1, 6, 8]);
    }

    #[test]
    fn a_half_written_generation_is_invisible_and_cleaned() {
        let t = tempfile::tempdir().unwrap();
        let s = store(t.path());
        s.save(&snap("a", None), "", None).unwrap();
        // What a run killed between create_dir and rename leaves behind.
        let tmp = s.generations_dir().join(".tmp-999-2");
        fs::create_dir(&tmp).unwrap();
        fs::write(tmp.join("edge1.toml"), "half").unwrap();
        assert_eq!(s.list().unwrap().len(), 1);
        let g = s.save(&snap("b", None), "", None).unwrap();
        assert_eq!(g.number, 2);
        // Saving does not clean (another run may own it); the locked run does.
        assert!(tmp.exists());
        s.clean_tmp();
        assert!(!tmp.exists());
    }

    #[test]
    fn install_writes_both_files_keeps_mode_and_removes_a_dropped_env() {
        let t = tempfile::tempdir().unwrap();
        let s = store(t.path());
        fs::write(s.toml_path(), "old").unwrap();
        fs::set_permissions(s.toml_path(), fs::Permissions::from_mode(0o640)).unwrap();
        fs::write(s.env_path(), "old env").unwrap();
        s.save(&snap("new", None), "", None).unwrap();
        s.install(1).unwrap();
        assert_eq!(s.read_installed().unwrap(), snap("new", None));
        let mode = fs::metadata(s.toml_path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        assert_eq!(s.current(), Some(1));
        assert!(!s.state_dir.join("pending").exists());
    }

    #[test]
    fn a_damaged_generation_is_skipped_and_a_dangling_pending_ignored() {
        let t = tempfile::tempdir().unwrap();
        let s = store(t.path());
        s.save(&snap("a", None), "", None).unwrap();
        s.save(&snap("b", None), "", None).unwrap();
        fs::write(s.generation_dir(1).join("meta.json"), "{not json").unwrap();
        let numbers: Vec<u32> = s.list().unwrap().iter().map(|g| g.number).collect();
        assert_eq!(numbers, vec![2]);
        fs::write(s.state_dir.join("pending"), "99\n").unwrap();
        assert_eq!(s.recover().unwrap(), None);
        assert!(!s.state_dir.join("pending").exists());
    }

    #[test]
    fn intent_round_trips() {
        let t = tempfile::tempdir().unwrap();
        let s = store(t.path());
        s.prepare().unwrap();
        assert_eq!(s.intent(), None);
        s.set_intent(&Intent::Apply { old: 3, new: 4 }).unwrap();
        assert_eq!(s.intent(), Some(Intent::Apply { old: 3, new: 4 }));
        s.clear_intent();
        assert_eq!(s.intent(), None);
    }

    #[test]
    fn an_interrupted_install_is_finished_by_recover() {
        let t = tempfile::tempdir().unwrap();
        let s = store(t.path());
        fs::write(s.toml_path(), "old").unwrap();
        s.save(&snap("new", Some("e=1")), "", None).unwrap();
        // Killed after the marker and the first file: config new, env still missing.
        fs::write(s.state_dir.join("pending"), "1\n").unwrap();
        fs::write(s.toml_path(), "new").unwrap();
        assert_eq!(s.recover().unwrap(), Some(1));
        assert_eq!(s.read_installed().unwrap(), snap("new", Some("e=1")));
        assert_eq!(s.recover().unwrap(), None);
    }
}
