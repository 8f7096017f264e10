//! The process's own figures for `process_*` metrics, read from /proc at scrape
//! time (prometheus-client has no process collector): CPU time and start time
//! from /proc/self/stat (the start time after boot, plus the boot time from
//! CLOCK_BOOTTIME), resident and virtual memory from /proc/self/status, open fds
//! by counting /proc/self/fd, the fd limit from getrlimit. Only /proc/self is
//! read: the unit's ProcSubset=pid hides the rest of /proc. Names follow the
//! Prometheus client libraries' process collectors, so the usual dashboards fit.

/// What one scrape reports about the process; a figure that cannot be read is None
/// (and left out), never a guess.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcessFigures {
    pub cpu_seconds: Option<f64>,
    pub start_time_seconds: Option<f64>,
    pub resident_bytes: Option<u64>,
    pub virtual_bytes: Option<u64>,
    pub open_fds: Option<u64>,
    pub max_fds: Option<u64>,
}

/// Reads the figures now.
pub fn read() -> ProcessFigures {
    let ticks = clock_ticks();
    let stat = std::fs::read_to_string("/proc/self/stat").ok();
    let status = std::fs::read_to_string("/proc/self/status").ok();
    let (cpu_seconds, start_ticks) = stat
        .as_deref()
        .and_then(|s| parse_stat(s, ticks))
        .map_or((None, None), |(c, s)| (Some(c), Some(s)));
    let start_time_seconds = start_ticks.and_then(|t| Some(boot_time()? + t));
    let (resident_bytes, virtual_bytes) = status.as_deref().map_or((None, None), |s| {
        (status_kib(s, "VmRSS:"), status_kib(s, "VmSize:"))
    });
    let open_fds = std::fs::read_dir("/proc/self/fd")
        .ok()
        .map(|d| d.count() as u64);
    ProcessFigures {
        cpu_seconds,
        start_time_seconds,
        resident_bytes,
        virtual_bytes,
        open_fds,
        max_fds: max_fds(),
    }
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf only reads a configuration value.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

fn max_fds() -> Option<u64> {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own and reads nothing else.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } == 0;
    ok.then_some(r.rlim_cur)
}

/// Seconds since the epoch the system booted: the real-time clock minus
/// CLOCK_BOOTTIME, taken once. Not /proc/stat's `btime`: the unit's
/// ProcSubset=pid hides /proc/stat, and it is long on machines with many CPUs.
fn boot_time() -> Option<f64> {
    static BOOT: std::sync::OnceLock<Option<f64>> = std::sync::OnceLock::new();
    *BOOT.get_or_init(|| {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes into the struct we own.
        if unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) } != 0 {
            return None;
        }
        let since_boot = ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_secs_f64();
        Some(now - since_boot)
    })
}

/// (utime + stime in seconds, start time in seconds after boot) from the text of
/// /proc/self/stat. The command name (field 2) may hold spaces and parentheses,
/// so the fields are counted after its last ')'.
pub fn parse_stat(s: &str, ticks: f64) -> Option<(f64, f64)> {
    let rest = &s[s.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, so field N is f[N - 3].
    let utime: f64 = f.get(14 - 3)?.parse().ok()?;
    let stime: f64 = f.get(15 - 3)?.parse().ok()?;
    let start: f64 = f.get(22 - 3)?.parse().ok()?;
    Some(((utime + stime) / ticks, start / ticks))
}

/// A `kB` line of /proc/self/status, in bytes.
pub fn status_kib(s: &str, key: &str) -> Option<u64> {
    let v = s.lines().find_map(|l| l.strip_prefix(key))?;
    let kib: u64 = v.split_whitespace().next()?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A command name with spaces and ')' does not shift the fields.
    #[test]
    fn stat_fields_are_counted_after_the_name() {
        let s = "42 (a) b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 1000 1234 56";
        assert_eq!(parse_stat(s, 100.0), Some((3.0, 10.0)));
        assert_eq!(parse_stat("42 (x) S 1", 100.0), None);
    }

    #[test]
    fn status_lines_in_bytes() {
        let s = "Name:\texabgp\nVmSize:\t  20000 kB\nVmRSS:\t   1200 kB\n";
        assert_eq!(status_kib(s, "VmRSS:"), Some(1200 * 1024));
        assert_eq!(status_kib(s, "VmSwap:"), None);
    }

    /// On Linux every figure is there for this very process.
    #[test]
    fn this_process_has_figures() {
        let p = read();
        assert!(p.resident_bytes.is_some_and(|b| b > 0), "{p:?}");
        assert!(p.open_fds.is_some_and(|n| n >= 3), "{p:?}");
        assert!(p.cpu_seconds.is_some(), "{p:?}");
        // Started in the past, and not before the system booted (a wrong boot time
        // or tick rate would put it far off).
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let start = p.start_time_seconds.unwrap();
        assert!(
            start <= now + 1.0 && start > boot_time().unwrap() - 1.0,
            "{p:?}"
        );
    }
}
