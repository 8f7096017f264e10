//! The client: `exabgpcli [--instance NAME | --socket PATH] [--json] COMMAND...`,
//! also `exabgp cli ...`. Finds the control socket the way the daemon does, sends
//! one command per line and prints the answer up to its terminator.

use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;

use crate::config::{Settings, SettingsError};
use crate::system::sockpath;

/// Exit code when the command was refused (`error: ...`).
pub const EXIT_COMMAND_FAILED: i32 = 1;

#[derive(Parser, Debug)]
#[command(
    name = "exabgpcli",
    version = crate::VERSION,
    about = "Talk to a running exabgp over its control socket",
    long_about = "Talk to a running exabgp over its control socket.\n\n\
        With a COMMAND, send it and print the answer; exit 0 on 'done', 1 on 'error: ...', \
        69 when no daemon answers. Without one on a terminal, read commands interactively \
        (with history); without one and without a terminal, read commands from stdin, one per line.\n\n\
        The socket is found like the daemon finds it: exabgp_api_socketpath if set, else \
        <socketname>.sock (socketname: exabgp_api_socketname, else the instance name, else \
        'exabgp') in the first of /run/exabgp/, /run/<uid>/, /run/, /var/run/exabgp/, \
        /var/run/<uid>/, /var/run/ and the same under the install prefix that holds it.\n\n\
        Examples:\n  exabgpcli --instance edge1 show neighbor summary\n  \
        exabgpcli announce route 203.0.113.7/32 next-hop self\n  exabgpcli help"
)]
struct Args {
    /// The instance (exabgp@NAME) to talk to; its socket is NAME.sock. A plain
    /// name, as the daemon's --instance (letters, digits, '.', '-', '_', '@').
    #[arg(long, short = 'i', value_name = "NAME", value_parser = instance_name)]
    instance: Option<String>,
    /// The control socket path (wins over every other way of finding it).
    #[arg(long, short = 's', value_name = "PATH", conflicts_with = "instance")]
    socket: Option<PathBuf>,
    /// Ask for JSON output (show, version).
    #[arg(long)]
    json: bool,
    /// The env file to read exabgp_api_* settings from (default:
    /// /etc/exabgp/NAME.env for --instance NAME, when it exists).
    #[arg(long, value_name = "PATH")]
    env_file: Option<PathBuf>,
    /// Install prefix searched after / (default: derived from this program's path).
    #[arg(long, value_name = "DIR", hide = true)]
    root: Option<PathBuf>,
    /// The first search prefix, "/" (tests point it at a fake tree).
    #[arg(long, value_name = "DIR", hide = true, default_value = "/")]
    system_prefix: PathBuf,
    /// Print which socket would be used and why, then exit.
    #[arg(long)]
    which: bool,
    /// Seconds to wait for an answer (at most 86400).
    #[arg(long, default_value_t = 120, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(0..=MAX_TIMEOUT))]
    timeout: u64,
    /// The command, e.g. `show neighbor summary`.
    #[arg(trailing_var_arg = true)]
    command: Vec<String>,
}

/// Longest --timeout: a day (a bigger one overflowed the deadline and panicked).
const MAX_TIMEOUT: u64 = 86_400;

/// `--instance`: the daemon's rule for instance names, checked before any path is
/// built from it (`../x` would otherwise reach a socket outside the directory).
fn instance_name(v: &str) -> Result<String, String> {
    sockpath::check_name(v)
        .map(|()| v.to_string())
        .map_err(|e| format!("expected {e}"))
}

/// The clap command of `exabgpcli`, for the man pages and completions
/// (tests/generated_docs.rs).
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

fn env_setting(name: &str) -> Option<String> {
    let dotted = name.replace('_', ".");
    std::env::var(name)
        .ok()
        .or_else(|| std::env::var(dotted).ok())
        .filter(|v| !v.is_empty())
}

/// The instance's env file, as the unit reads it (`/etc/exabgp/NAME.env`).
fn env_file(args: &Args) -> Option<PathBuf> {
    if let Some(f) = &args.env_file {
        return Some(f.clone());
    }
    let i = args.instance.as_ref()?;
    Some(PathBuf::from(format!("/etc/exabgp/{i}.env"))).filter(|p| p.is_file())
}

/// Where the socket is, and the report of how it was found: the daemon's own
/// settings (environment, the instance's env file, defaults), then our flags.
/// Fails only when an exabgp_* variable is not UTF-8 (we cannot tell what the
/// daemon made of it; guessing could reach another instance).
fn locate(args: &Args) -> Result<(String, sockpath::Resolution), SettingsError> {
    let file = env_file(args);
    let environ = crate::config::text_environ(std::env::vars_os())?;
    let (mut explicit, socketname, mut root) = match Settings::load_with_warnings(
        file.as_deref(),
        environ,
        &[],
        args.instance.as_deref(),
    ) {
        Ok(l) => (
            l.settings.api_socketpath,
            l.settings.api_socketname,
            l.settings.root,
        ),
        Err(e) => {
            eprintln!("exabgpcli: warning: {e}");
            let socketname = match env_setting("exabgp_api_socketname") {
                    // The daemon's rule for the name, here too: `../x` would reach
                    // a socket outside the directory, maybe another instance's.
                    Some(n) => match sockpath::check_name(&n) {
                        Ok(()) => n,
                        Err(expected) => {
                            return Err(SettingsError::Invalid(vec![format!(
                                "environment variable exabgp_api_socketname: {n:?} is not a socket name, expected {expected}"
                            )]))
                        }
                    },
                    None => args
                        .instance
                        .clone()
                        .unwrap_or_else(|| "exabgp".to_string()),
                };
            (
                env_setting("exabgp_api_socketpath").map(PathBuf::from),
                socketname,
                crate::config::default_root(),
            )
        }
    };
    if let Some(s) = &args.socket {
        explicit = Some(s.clone());
    }
    if let Some(r) = &args.root {
        root = r.clone();
    }
    let prefixes = vec![args.system_prefix.clone(), root];
    let uid = nix::unistd::geteuid().as_raw();
    let label = args.instance.clone().unwrap_or_else(|| socketname.clone());
    Ok((
        label,
        sockpath::resolve_client(explicit.as_deref(), &socketname, &prefixes, uid),
    ))
}

/// A connection to the daemon.
struct Conn {
    w: UnixStream,
    r: BufReader<UnixStream>,
}

impl Conn {
    fn open(path: &Path, timeout: Duration) -> std::io::Result<Conn> {
        let s = super::control_socket::connect_within(path, timeout)?;
        s.set_read_timeout(Some(timeout))?;
        let r = BufReader::new(s.try_clone()?);
        Ok(Conn { w: s, r })
    }

    /// Send one command; print its output; Ok(true) for `done`, Ok(false) for `error:`.
    fn run(&mut self, line: &str, out: &mut dyn Write) -> std::io::Result<bool> {
        // One write: the daemon reads the whole line in one wake-up.
        let mut msg = String::with_capacity(line.len() + 1);
        msg.push_str(line);
        msg.push('\n');
        self.w.write_all(msg.as_bytes())?;
        self.w.flush()?;
        // Bounded: the daemon ends every answer; a closed connection ends the loop.
        let mut answered = false;
        loop {
            let mut l = String::new();
            if self.r.read_line(&mut l)? == 0 {
                // Closed before any answer (an idle connection the daemon dropped,
                // a restart): safe to send again. Closed mid-answer: not.
                let kind = if answered {
                    std::io::ErrorKind::ConnectionAborted
                } else {
                    std::io::ErrorKind::UnexpectedEof
                };
                return Err(std::io::Error::new(
                    kind,
                    "the daemon closed the connection",
                ));
            }
            answered = true;
            let l = l.trim_end_matches(['\n', '\r']);
            if l == "done" {
                return Ok(true);
            }
            if l.starts_with("error:") {
                writeln!(out, "{l}")?;
                return Ok(false);
            }
            writeln!(
                out,
                "{}",
                l.strip_prefix(' ')
                    .filter(|s| *s == "done" || s.starts_with("error:"))
                    .unwrap_or(l)
            )?;
        }
    }
}

/// Whether a failed `Conn::run` certainly did not reach the daemon's command loop,
/// so sending it again cannot run it twice: the write failed, or the connection was
/// closed before any answer. A timeout is not: the daemon may be running it.
fn safe_to_resend(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        BrokenPipe | ConnectionReset | NotConnected | UnexpectedEof
    )
}

/// What to tell the operator about a failed command.
fn explain(e: &std::io::Error, timeout: Duration) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        WouldBlock | TimedOut => format!(
            "no answer within {} s (the command may still be applied; --timeout sets the wait)",
            timeout.as_secs()
        ),
        _ => e.to_string(),
    }
}

fn with_json(line: &str, json: bool) -> String {
    if json && !line.trim_end().ends_with(" json") {
        format!("{} json", line.trim_end())
    } else {
        line.to_string()
    }
}

/// `exabgpcli` / `exabgp cli`: returns the exit code. `args[0]` is the program name.
/// [`main`] for arguments as the OS gives them: one that is not UTF-8 is
/// refused (exit 64) with a message, never a panic.
pub fn main_os(args: impl IntoIterator<Item = std::ffi::OsString>) -> i32 {
    let mut text = Vec::new();
    for (i, a) in args.into_iter().enumerate() {
        match a.into_string() {
            Ok(s) => text.push(s),
            Err(a) => {
                eprintln!(
                    "exabgpcli: argument {i} is not UTF-8 text ({}); commands, names and paths must be UTF-8",
                    a.to_string_lossy()
                );
                return crate::EX_USAGE;
            }
        }
    }
    main(text)
}

pub fn main(args: Vec<String>) -> i32 {
    let args = match Args::try_parse_from(args) {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { crate::EX_USAGE } else { 0 };
        }
    };
    // One command per call: a line break in an argument would smuggle in another.
    if args.command.iter().any(|a| a.contains(['\n', '\r'])) {
        eprintln!("exabgpcli: a command argument contains a line break; give one command per call (or several on stdin)");
        return crate::EX_USAGE;
    }
    let (label, res) = match locate(&args) {
        Ok(found) => found,
        Err(e) => {
            eprintln!("exabgpcli: {e}");
            return e.exit_code();
        }
    };
    if args.which {
        print!("{}", res.report());
        return if res.path().is_some() {
            0
        } else {
            crate::EX_UNAVAILABLE
        };
    }
    let Some(path) = res.path().map(Path::to_path_buf) else {
        eprint!("no exabgp instance '{label}': {}", res.report());
        return crate::EX_UNAVAILABLE;
    };
    let timeout = Duration::from_secs(args.timeout.max(1));
    let mut conn = match Conn::open(&path, timeout) {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "no exabgp instance '{label}' at {} — is exabgp@{label} running? ({e})",
                path.display()
            );
            return crate::EX_UNAVAILABLE;
        }
    };
    let stdout = std::io::stdout();
    if !args.command.is_empty() {
        let line = with_json(&args.command.join(" "), args.json);
        return match conn.run(&line, &mut stdout.lock()) {
            Ok(true) => 0,
            Ok(false) => EXIT_COMMAND_FAILED,
            Err(e) => {
                eprintln!(
                    "exabgp instance '{label}' at {}: {}",
                    path.display(),
                    explain(&e, timeout)
                );
                crate::EX_UNAVAILABLE
            }
        };
    }
    if std::io::stdin().is_terminal() {
        interactive(conn, &path, &label, args.json, timeout)
    } else {
        let mut status = 0;
        for (n, bytes) in std::io::stdin().lock().split(b'\n').enumerate() {
            let Ok(bytes) = bytes else { break };
            // A line that is not UTF-8 is refused on its own; the rest still runs.
            let Ok(line) = String::from_utf8(bytes) else {
                eprintln!("exabgpcli: stdin line {} is not UTF-8 text; skipped", n + 1);
                status = EXIT_COMMAND_FAILED;
                continue;
            };
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            match conn.run(&with_json(line, args.json), &mut stdout.lock()) {
                Ok(true) => {}
                Ok(false) => status = EXIT_COMMAND_FAILED,
                Err(e) => {
                    eprintln!(
                        "exabgp instance '{label}' at {}: {}",
                        path.display(),
                        explain(&e, timeout)
                    );
                    return crate::EX_UNAVAILABLE;
                }
            }
        }
        status
    }
}

fn history_file() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".exabgpcli_history"))
}

fn interactive(mut conn: Conn, path: &Path, label: &str, json: bool, timeout: Duration) -> i32 {
    let mut rl = match rustyline::DefaultEditor::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the line editor: {e}");
            return 1;
        }
    };
    let hist = history_file();
    if let Some(h) = &hist {
        let _ = rl.load_history(h);
    }
    let prompt = format!("exabgp[{label}]> ");
    let mut status = 0;
    loop {
        let line = match rl.readline(&prompt) {
            Ok(l) => l,
            Err(rustyline::error::ReadlineError::Interrupted) => continue,
            Err(_) => break,
        };
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if t == "exit" || t == "quit" {
            break;
        }
        let _ = rl.add_history_entry(t);
        let mut out = std::io::stdout();
        let r = conn.run(&with_json(t, json), &mut out).or_else(|e| {
            if !safe_to_resend(&e) {
                return Err(e);
            }
            // The daemon may have restarted: reconnect once.
            conn = Conn::open(path, timeout)?;
            conn.run(&with_json(t, json), &mut out)
        });
        match r {
            Ok(true) => status = 0,
            Ok(false) => status = EXIT_COMMAND_FAILED,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                eprintln!("exabgp instance '{label}': {}", explain(&e, timeout));
                status = crate::EX_UNAVAILABLE;
                // The late answer would be read as the next command's: start afresh.
                match Conn::open(path, timeout) {
                    Ok(c) => conn = c,
                    Err(_) => break,
                }
            }
            Err(e) => {
                eprintln!(
                    "no exabgp instance '{label}' at {} — is exabgp@{label} running? ({e})",
                    path.display()
                );
                status = crate::EX_UNAVAILABLE;
            }
        }
    }
    if let Some(h) = &hist {
        let _ = rl.save_history(h);
    }
    status
}

#[cfg(test)]
mod resend_tests {
    use std::io::{Error, ErrorKind};

    use super::*;

    /// Sent again only when the daemon certainly did not take the command; a
    /// timeout (the daemon may be running it) or a cut answer is never re-sent.
    #[test]
    fn only_a_command_that_never_arrived_is_sent_again() {
        for kind in [
            ErrorKind::BrokenPipe,
            ErrorKind::ConnectionReset,
            ErrorKind::UnexpectedEof,
        ] {
            assert!(safe_to_resend(&Error::from(kind)), "{kind:?}");
        }
        for kind in [
            ErrorKind::WouldBlock,
            ErrorKind::TimedOut,
            ErrorKind::ConnectionAborted,
        ] {
            assert!(!safe_to_resend(&Error::from(kind)), "{kind:?}");
        }
        let t = explain(&Error::from(ErrorKind::WouldBlock), Duration::from_secs(7));
        assert!(
            t.contains("no answer within 7 s") && t.contains("may still be applied"),
            "{t}"
        );
    }
}
