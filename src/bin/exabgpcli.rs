//! `exabgpcli`: talk to a running exabgp over its control socket (see `--help`).
//!
//! Scripts call this in loops, and most of a call is process start-up
//! (docs/performance.md, "The CLI process"). So the binary has a C `main`
//! (`#![no_main]`) and skips the Rust runtime's own start-up, which reads
//! /proc/self/maps to place a stack guard and sets up an alternate signal stack
//! for a stack-overflow message: about a third of the CPU time of a call, for a
//! program that neither recurses deeply nor starts threads. The two things of
//! that start-up the client relies on are done here: descriptors 0, 1 and 2 are
//! open, and SIGPIPE is ignored. `std::env::args_os` and `std::process::exit`
//! (which flushes stdout) work without the runtime's start-up on Linux with
//! glibc, which hands argv to the standard library itself; elsewhere (musl,
//! another OS) and in the unit-test build the ordinary Rust `main` below runs.
//! A panic does not unwind out of the C `main`: it is caught and exits 101, as
//! under the runtime.
#![cfg_attr(all(not(test), target_os = "linux", target_env = "gnu"), no_main)]

/// Where the C `main` is not used: the ordinary entry point.
#[cfg(all(not(test), not(all(target_os = "linux", target_env = "gnu"))))]
fn main() {
    // args_os: std::env::args() panics (exit 101) on an argument that is not UTF-8.
    std::process::exit(exabgp::api::cli::main_os(std::env::args_os()))
}

/// The entry point the C runtime calls.
#[cfg(all(not(test), target_os = "linux", target_env = "gnu"))]
#[no_mangle]
pub extern "C" fn main(
    _argc: std::os::raw::c_int,
    _argv: *const *const std::os::raw::c_char,
) -> std::os::raw::c_int {
    if !std_fds_open() {
        return exabgp::EX_OSERR;
    }
    // SAFETY: called first, before any other thread exists; SIG_IGN is a valid
    // disposition. A closed stdout then fails a write (reported or ignored as
    // the client decides) instead of killing the process, as under the runtime.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    // args_os: std::env::args() panics (exit 101) on an argument that is not UTF-8.
    // A panic may not unwind into the C caller: caught, it exits 101 as under
    // the runtime (the panic hook has printed the message already).
    let code = std::panic::catch_unwind(|| exabgp::api::cli::main_os(std::env::args_os()));
    std::process::exit(code.unwrap_or(101))
}

/// Descriptors 0, 1 and 2 open, on /dev/null where they were closed (as the
/// runtime's start-up does): else the control socket could become descriptor 1
/// and the daemon's answer be printed back into the socket as commands.
#[cfg(all(not(test), target_os = "linux", target_env = "gnu"))]
fn std_fds_open() -> bool {
    (0..=2).all(|fd| {
        // SAFETY: F_GETFD only reads the flags of a descriptor number.
        let open = unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1
            || std::io::Error::last_os_error().raw_os_error() != Some(libc::EBADF);
        // SAFETY: a NUL-terminated constant path; open returns the lowest free
        // descriptor, which is `fd` since the ones below it are open.
        open || unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) } == fd
    })
}
