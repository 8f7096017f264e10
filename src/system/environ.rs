//! The environment variables that describe *our* hand-over from systemd, in one
//! place: socket activation (`LISTEN_*`), sd_notify and the watchdog
//! (`NOTIFY_SOCKET`, `WATCHDOG_*`) and the journal stream (`JOURNAL_STREAM`).
//!
//! They are meant for this process alone. [`take`] reads and removes them from our
//! environment (activation and notify call it while the process is still
//! single-threaded: changing the environment while another thread may read it is
//! undefined behaviour in libc, see `system` for the order), and [`scrub_child`]
//! removes every one of them from a child's environment, so a helper never sees
//! our hand-over even when a variable was left in place (JOURNAL_STREAM is kept
//! for our own logging).

/// Socket activation (sd_listen_fds(3)): read by [`super::activation`].
pub const ACTIVATION_VARS: [&str; 3] = ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"];

/// sd_notify(3) and the watchdog: read by [`super::notify`].
pub const NOTIFY_VARS: [&str; 3] = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"];

/// Set by systemd when stderr is the journal: read (and kept) by [`super::logging`].
pub const JOURNAL_VAR: &str = "JOURNAL_STREAM";

/// Every variable a child process must not inherit.
pub const SCRUBBED_ENV: [&str; 7] = [
    ACTIVATION_VARS[0],
    ACTIVATION_VARS[1],
    ACTIVATION_VARS[2],
    NOTIFY_VARS[0],
    NOTIFY_VARS[1],
    NOTIFY_VARS[2],
    JOURNAL_VAR,
];

/// Reads `vars` and removes them from the process environment; a variable unset or
/// not valid Unicode reads as None.
///
/// Call it while the process is still single-threaded (see the module docs).
pub fn take<const N: usize>(vars: [&str; N]) -> [Option<String>; N] {
    vars.map(|var| {
        let value = std::env::var(var).ok();
        std::env::remove_var(var);
        value
    })
}

/// Removes every variable of [`SCRUBBED_ENV`] from the environment `cmd` will give
/// its child.
pub fn scrub_child(cmd: &mut tokio::process::Command) {
    for var in SCRUBBED_ENV {
        cmd.env_remove(var);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real child (`env`) started with every hand-over variable set on its
    /// command: after [`scrub_child`] it sees none of them, while an ordinary
    /// variable passes; the control run (not scrubbed) sees them all, so the check
    /// can fail.
    #[tokio::test]
    async fn a_scrubbed_child_sees_none_of_the_hand_over() {
        for scrubbed in [false, true] {
            let mut cmd = tokio::process::Command::new("env");
            for var in SCRUBBED_ENV {
                cmd.env(var, "from-parent");
            }
            cmd.env("EXABGP_TEST_KEPT", "1");
            if scrubbed {
                scrub_child(&mut cmd);
            }
            let out = tokio::time::timeout(std::time::Duration::from_secs(10), cmd.output())
                .await
                .expect("env finished")
                .expect("env ran");
            let text = String::from_utf8_lossy(&out.stdout);
            let names: Vec<&str> = text.lines().filter_map(|l| l.split('=').next()).collect();
            assert!(names.contains(&"EXABGP_TEST_KEPT"), "{text}");
            for var in SCRUBBED_ENV {
                assert_eq!(names.contains(&var), !scrubbed, "{var}: {text}");
            }
        }
    }

    /// What activation and notify take is what children are scrubbed of.
    #[test]
    fn the_taken_lists_are_scrubbed_from_children() {
        for var in ACTIVATION_VARS.iter().chain(&NOTIFY_VARS) {
            assert!(SCRUBBED_ENV.contains(var), "{var}");
        }
        assert!(SCRUBBED_ENV.contains(&JOURNAL_VAR));
    }
}
