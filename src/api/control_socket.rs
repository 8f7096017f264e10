//! The control socket: binding it (with the running-instance / stale-file checks)
//! and serving it.
//!
//! Protocol: the client writes one command per line; for each, the server writes
//! zero or more output lines, then exactly one terminator line: `done` or
//! `error: REASON`. Output lines never equal `done` nor start with `error:` (such a
//! line is sent with a leading space). See docs/api.md.
//!
//! Limits: at most `max_clients` connections are served at once; more wait in the
//! kernel's listen backlog (we accept only with a free slot), and beyond the backlog
//! the kernel refuses them. Lines are limited to 64 KiB; an idle connection is
//! closed after `idle_timeout`; a client that takes no byte of an answer for
//! `write_timeout` (it stopped reading) is disconnected and the answer dropped, so
//! clients that never read cannot hold every slot (and their answers) forever. The
//! timeout is on progress, not on the whole answer: a client that reads a big
//! answer slowly but steadily gets all of it.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::command::parse_request;
use super::exec::{execute, execute_joined, Answer, ApiContext};
use super::join;
use super::lines::{read_line, Line, MAX_LINE};

/// Why the control socket could not be bound.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error("another instance is already running on {}", path.display())]
    AlreadyRunning { path: PathBuf },
    #[error("{} exists and is not a socket; refusing to replace it", path.display())]
    NotASocket { path: PathBuf },
    #[error("cannot check the existing control socket {}: {source}", path.display())]
    Probe {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot remove the stale control socket {}: {source}", path.display())]
    RemoveStale {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot bind the control socket {}: {source}", path.display())]
    Bind {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no usable directory for the control socket:\n{report}")]
    NoDirectory { report: String },
    #[error("cannot set mode 0660 and group {gid} on {}: {source}", path.display())]
    Permissions {
        path: PathBuf,
        gid: u32,
        source: std::io::Error,
    },
}

impl BindError {
    /// The exit code for main: 69 (EX_UNAVAILABLE) when another instance runs,
    /// 71 (EX_OSERR) otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            BindError::AlreadyRunning { .. } => crate::EX_UNAVAILABLE,
            _ => crate::EX_OSERR,
        }
    }
}

/// The socket file we created; dropping it removes the file, if it is still ours
/// (same device and inode), so a successor's socket is never removed by mistake.
#[derive(Debug)]
pub struct SocketFile {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl SocketFile {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        if let Ok(m) = std::fs::symlink_metadata(&self.path) {
            if m.dev() == self.dev && m.ino() == self.ino {
                if let Err(e) = std::fs::remove_file(&self.path) {
                    tracing::warn!(path = %self.path.display(), "cannot remove the control socket: {e}");
                }
            }
        }
    }
}

/// A bound control socket and the guard that removes its file.
#[derive(Debug)]
pub struct ControlSocket {
    pub listener: std::os::unix::net::UnixListener,
    pub file: SocketFile,
}

/// One non-blocking connection attempt: a listener whose backlog is full answers
/// EAGAIN (WouldBlock) at once instead of leaving the caller blocked.
fn try_connect(path: &Path) -> std::io::Result<std::os::unix::net::UnixStream> {
    let sock = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None)?;
    sock.set_nonblocking(true)?;
    sock.connect(&socket2::SockAddr::unix(path)?)?;
    sock.set_nonblocking(false)?;
    Ok(sock.into())
}

/// Connects to a control socket, waiting at most `timeout` while its listen
/// backlog is full (a daemon too busy to accept): never blocks without bound.
pub fn connect_within(
    path: &Path,
    timeout: Duration,
) -> std::io::Result<std::os::unix::net::UnixStream> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match try_connect(path) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if std::time::Instant::now() >= deadline {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!(
                            "the daemon accepted no connection within {} s (its backlog is full)",
                            timeout.as_secs()
                        ),
                    ));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// Bind the control socket at `path`.
///
/// An existing socket file is probed: if something answers, this fails with
/// [`BindError::AlreadyRunning`] and touches nothing; if nobody answers, the file is
/// stale and is replaced. The new socket gets mode 0660 and group `group` (default:
/// our effective gid). Call it before dropping privileges; the listener is a std
/// one so it can be bound before the runtime starts.
///
/// The directory usually belongs to the daemon user, who must not be able to make
/// a root-started daemon chmod or chown another file by planting or swapping in a
/// symlink at `path`. So nothing is changed through `path` after bind:
///
/// - Before bind, the socket's fd gets mode 0660. Linux creates the socket file
///   with the socket inode's mode minus the umask, so the file is never wider than
///   0660, from its first instant (0640 under the usual 022 umask: no client can
///   connect until step 3). The umask itself is process-wide and tokio has
///   threads, so it is left alone.
/// - After bind, the file at `path` is opened with O_PATH|O_NOFOLLOW and must be a
///   socket owned by us (a symlink or another file swapped in is refused: error,
///   nothing touched).
/// - Mode 0660 (if the umask took bits away) and the group are set on that exact
///   inode: chmod through /proc/self/fd/N (Linux has no fchmod on O_PATH fds nor a
///   non-following fchmodat before 6.6) and fchownat(fd, "", AT_EMPTY_PATH).
/// - Only then does the socket listen.
pub fn bind_control_socket(path: &Path, group: Option<u32>) -> Result<ControlSocket, BindError> {
    let p = path.to_path_buf();
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_socket() => return Err(BindError::NotASocket { path: p }),
        // Non-blocking: a live instance too busy to accept (backlog full) is still
        // a live instance, and must not leave this start hanging.
        Ok(_) => match try_connect(path) {
            Ok(_) => return Err(BindError::AlreadyRunning { path: p }),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                return Err(BindError::AlreadyRunning { path: p })
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                tracing::info!(path = %path.display(), "removing stale control socket");
                match std::fs::remove_file(path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(BindError::RemoveStale { path: p, source: e }),
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(BindError::Probe { path: p, source: e }),
        },
        Err(_) => {}
    }
    let gid = group.unwrap_or_else(|| nix::unistd::getegid().as_raw());
    let perm = |source: std::io::Error| BindError::Permissions {
        path: p.clone(),
        gid,
        source,
    };
    let bind = |source: std::io::Error| BindError::Bind {
        path: p.clone(),
        source,
    };
    let sock =
        socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None).map_err(bind)?;
    nix::sys::stat::fchmod(&sock, nix::sys::stat::Mode::from_bits_truncate(SOCKET_MODE))
        .map_err(|e| bind(e.into()))?;
    match sock.bind(&socket2::SockAddr::unix(path).map_err(bind)?) {
        Ok(()) => {}
        // Lost a race with another instance binding the same path.
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            return Err(BindError::AlreadyRunning { path: p })
        }
        Err(e) => return Err(bind(e)),
    }
    let (dev, ino) = own_socket_file(path, gid).map_err(perm)?;
    let file = SocketFile {
        path: p.clone(),
        dev,
        ino,
    };
    sock.listen(LISTEN_BACKLOG).map_err(bind)?;
    Ok(ControlSocket {
        listener: sock.into(),
        file,
    })
}

/// Mode of the control socket file: the daemon user and its group.
const SOCKET_MODE: u32 = 0o660;

/// Pending connections the kernel holds for the control socket.
const LISTEN_BACKLOG: i32 = 128;

/// Opens the just-bound file at `path` without following links, checks that it is
/// a socket of ours, and gives that inode mode [`SOCKET_MODE`] and group `gid`.
/// Returns its device and inode.
fn own_socket_file(path: &Path, gid: u32) -> std::io::Result<(u64, u64)> {
    use nix::fcntl::OFlag;
    use std::os::fd::AsRawFd;
    let fd = nix::fcntl::open(
        path,
        OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )?;
    let st = nix::sys::stat::fstat(&fd)?;
    if st.st_mode & libc::S_IFMT != libc::S_IFSOCK || st.st_uid != nix::unistd::geteuid().as_raw() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "replaced by something else right after bind; nothing changed",
        ));
    }
    if st.st_mode & 0o7777 != SOCKET_MODE {
        let by_fd = PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()));
        std::fs::set_permissions(
            by_fd,
            std::os::unix::fs::PermissionsExt::from_mode(SOCKET_MODE),
        )?;
    }
    // A new file already has our group; only change it when asked for another one
    // (root binding for the daemon user). Under systemd's seccomp filter
    // (~@privileged) chown is refused even when it would change nothing.
    if st.st_gid != gid {
        nix::unistd::fchownat(
            &fd,
            "",
            None,
            Some(nix::unistd::Gid::from_raw(gid)),
            nix::fcntl::AtFlags::AT_EMPTY_PATH,
        )?;
    }
    Ok((st.st_dev, st.st_ino))
}

/// How long a client may take no byte of an answer (see docs/api.md).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// Limits of the control socket server.
#[derive(Debug, Clone, Copy)]
pub struct ServerLimits {
    /// Connections served at once.
    pub max_clients: usize,
    /// Longest command line in bytes.
    pub max_line: usize,
    /// A connection that sends nothing for this long is closed.
    pub idle_timeout: Duration,
    /// A client that has taken no byte of an answer for this long is disconnected
    /// (it stopped reading: its slot and its answer are freed).
    pub write_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> ServerLimits {
        ServerLimits {
            max_clients: 64,
            max_line: MAX_LINE,
            idle_timeout: Duration::from_secs(300),
            write_timeout: WRITE_TIMEOUT,
        }
    }
}

/// Serve a bound control socket until `shutdown`, then remove its file (spawned by
/// api/plane.rs).
pub async fn serve_control_socket(
    sock: ControlSocket,
    ctx: ApiContext,
    shutdown: CancellationToken,
) {
    let ControlSocket { listener, file } = sock;
    match std_to_tokio(listener) {
        Ok(l) => serve_control(l, ctx, ServerLimits::default(), shutdown).await,
        Err(e) => tracing::error!(path = %file.path().display(), "control socket unusable: {e}"),
    }
    drop(file);
}

/// A std listener (bound by us or handed over by systemd) as a tokio one.
/// Must be called inside the runtime.
pub fn std_to_tokio(l: std::os::unix::net::UnixListener) -> std::io::Result<UnixListener> {
    l.set_nonblocking(true)?;
    UnixListener::from_std(l)
}

/// Serve an already-bound listener until `shutdown` (socket-activation seam: the
/// listener may come from systemd). Returns once every client task has ended.
pub async fn serve_control(
    listener: UnixListener,
    ctx: ApiContext,
    limits: ServerLimits,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(limits.max_clients.max(1)));
    let tracker = TaskTracker::new();
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = shutdown.cancelled() => break,
        };
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    // EMFILE/ENFILE/ENOBUFS: out of resources; back off instead of spinning.
                    tracing::warn!("control socket accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = shutdown.cancelled() => break,
        };
        let ctx = ctx.clone();
        let token = shutdown.clone();
        tracker.spawn(async move {
            let client = crate::control::stats::board().control_client();
            serve_client(stream, &ctx, limits, token).await;
            drop(client);
            drop(permit);
        });
    }
    tracker.close();
    // Clients see the shutdown token; give them a bounded time to finish.
    let _ = tokio::time::timeout(Duration::from_secs(5), tracker.wait()).await;
}

/// How long a client that is connected when the daemon stops gets to send its command.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Write an answer: output lines, then the terminator (see [`Answer::to_text`]).
pub async fn write_answer<W: AsyncWriteExt + Unpin>(
    w: &mut W,
    answer: &Answer,
) -> std::io::Result<()> {
    w.write_all(answer.to_text(true).as_bytes()).await?;
    w.flush().await
}

async fn serve_client(
    stream: UnixStream,
    ctx: &ApiContext,
    limits: ServerLimits,
    shutdown: CancellationToken,
) {
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    // A line read by a join (api/join.rs) that did not join: handled next.
    let mut carry = None;
    loop {
        // How many lines this answer is for (a join: one answer each).
        let mut lines = 1;
        let line = match carry.take() {
            Some(l) => Ok(l),
            None => {
                // One read per line, kept across the shutdown: bytes of a line already
                // taken before it are part of that line, never dropped (the rest alone
                // would be run as a different command).
                let read =
                    tokio::time::timeout(limits.idle_timeout, read_line(&mut r, limits.max_line));
                tokio::pin!(read);
                tokio::select! {
                    l = &mut read => l,
                    _ = shutdown.cancelled() => {
                        // Stopping: a client that connected just before still gets its
                        // command answered (the core stops only after this server), as long
                        // as the command arrives within the grace period.
                        match tokio::time::timeout(SHUTDOWN_GRACE, &mut read).await {
                            Ok(Ok(Ok(Line::Text(t)))) => {
                                let answer = match parse_request(&t) {
                                    Ok(req) => execute(ctx, &req).await,
                                    Err(e) => {
                                        crate::control::stats::board().api_unparsed();
                                        Answer::error(e.to_string())
                                    }
                                };
                                let _ = timed_write(&mut w, &answer.to_text(true), limits.write_timeout).await;
                            }
                            _ => {
                                let bye = Answer::error("exabgp is stopping");
                                let _ = timed_write(&mut w, &bye.to_text(true), limits.write_timeout).await;
                            }
                        }
                        return;
                    }
                }
            }
        };
        let answer = match line {
            Err(_) => {
                let bye = Answer::error("idle timeout, closing");
                let _ = timed_write(&mut w, &bye.to_text(true), limits.write_timeout).await;
                return;
            }
            Ok(Err(_)) | Ok(Ok(Line::Eof)) => return,
            Ok(Ok(Line::Truncated(n))) => {
                tracing::debug!(
                    "control client went away in the middle of a command ({n} bytes discarded)"
                );
                return;
            }
            Ok(Ok(Line::TooLong(n))) => {
                crate::control::stats::board().api_unparsed();
                tracing::warn!(
                    "control client sent a {n}-byte line; limit {}",
                    limits.max_line
                );
                Answer::error(format!(
                    "line too long ({n} bytes, limit {})",
                    limits.max_line
                ))
            }
            Ok(Ok(Line::NotUtf8(n))) => {
                crate::control::stats::board().api_unparsed();
                tracing::warn!("control client sent a {n}-byte line that is not UTF-8");
                Answer::error("line is not UTF-8 text")
            }
            Ok(Ok(Line::Text(t))) => match parse_request(&t) {
                Ok(mut req) if join::joinable(&req) => {
                    lines = join::gather(&mut r, limits.max_line, &mut req, &mut carry).await;
                    execute_joined(ctx, req, lines).await
                }
                Ok(req) => execute(ctx, &req).await,
                Err(e) => {
                    crate::control::stats::board().api_unparsed();
                    Answer::error(e.to_string())
                }
            },
        };
        if timed_write(
            &mut w,
            &answer.to_text(true).repeat(lines),
            limits.write_timeout,
        )
        .await
        .is_err()
        {
            return;
        }
    }
}

/// An answer's text ([`write_answer`]), in as many writes as the client's socket takes, each bounded
/// by `limit`: a client that takes no byte for that long (it stopped reading)
/// gets TimedOut (the caller then drops the connection and the answer); one that
/// reads slowly but steadily gets the whole answer, however long it takes.
async fn timed_write<W: AsyncWriteExt + Unpin>(
    w: &mut W,
    text: &str,
    limit: Duration,
) -> std::io::Result<()> {
    let mut rest = text.as_bytes();
    let stalled = || {
        tracing::debug!(
            "control client took no byte of an answer for {} s; disconnected",
            limit.as_secs_f64()
        );
        std::io::Error::from(std::io::ErrorKind::TimedOut)
    };
    while !rest.is_empty() {
        match tokio::time::timeout(limit, w.write(rest)).await {
            Ok(Ok(0)) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(Ok(n)) => rest = rest.get(n..).unwrap_or_default(),
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(stalled()),
        }
    }
    match tokio::time::timeout(limit, w.flush()).await {
        Ok(r) => r,
        Err(_) => Err(stalled()),
    }
}

#[cfg(test)]
mod connect_tests {
    use super::*;

    /// A listener that never accepts and whose backlog is full: connecting gives
    /// up after the timeout (TimedOut), and probing it counts as a live instance.
    #[test]
    fn a_full_backlog_is_bounded_not_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("busy.sock");
        let l = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None).unwrap();
        l.bind(&socket2::SockAddr::unix(&path).unwrap()).unwrap();
        l.listen(0).unwrap();
        // Fill the backlog (bounded: it holds at most a couple).
        let mut held = Vec::new();
        let full = (0..64).any(|_| match try_connect(&path) {
            Ok(s) => {
                held.push(s);
                false
            }
            Err(e) => e.kind() == std::io::ErrorKind::WouldBlock,
        });
        assert!(full, "the backlog never filled");
        let e = connect_within(&path, Duration::from_millis(300)).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut, "{e}");
        assert!(matches!(
            bind_control_socket(&path, None),
            Err(BindError::AlreadyRunning { .. })
        ));
        drop(l);
        // Nobody listening any more: refused at once, no waiting.
        let e = connect_within(&path, Duration::from_secs(5)).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused, "{e}");
    }
}
