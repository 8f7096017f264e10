#!/usr/bin/env python3
"""Profile exabgp-rs in scenarios A (table load), F (receive path) and BF (flow
rules through the API) with perf.

    profile.py [--quick] [--a N] [--f N] [--bf N] [--deadline S] [--only A,F,Fdecode,BF]

Runs each scenario once with the daemon started under `perf record -g`, then writes
`perf report` summaries (self time by symbol, and inclusive time) to
target/bench/profile-A.txt and profile-F.txt. The figures of these runs are not
benchmark figures (perf slows the daemon down); scripts/bench makes those.
"""

import argparse
import atexit
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench  # noqa: E402
import procs  # noqa: E402

PERF_DATA = {}
_orig_start = bench.Daemon.start


def start_under_perf(self):
    if self.impl == bench.RS and self.current:
        data = os.path.join(bench.OUT, f"perf-{self.current}.data")
        PERF_DATA[self.current] = data
        self.argv = ["perf", "record", "-F", "999", "-g", "-o", data, "--"] + self.argv
    return _orig_start(self)


def exported(bird, name):
    for line in bird.query(f"show protocols all {name}"):
        t = (line[5:] if line[:4].isdigit() else line).strip()
        if t.startswith("Routes:") and "exported" in t:
            parts = t.replace(",", "").split()
            return int(parts[parts.index("exported") - 1])
    return 0


def child_pid(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = f.read().split()
        return int(kids[0]) if kids else pid
    except (OSError, ValueError):
        return pid


def scen_F_decode(impl, n, deadline_s, label):
    """F without the helper (for when helpers are not wired): BIRD sends n routes;
    done when BIRD has exported them all and the daemon's CPU time stops moving."""
    with bench.Run(label, impl) as run:
        port = procs.free_port()
        nb = bench.gen.pairs(1)
        static = bench.gen.bird_static_file(os.path.join(bench.OUT, f"bird-static-{n}.conf"), n)
        run.bird = procs.Bird(run.work, bench.gen.bird_config(port, nb, static_routes_file=static))
        run.bird.start(time.monotonic() + 120)
        procs.wait_until(lambda: run.bird.static_routes("ST") >= n, time.monotonic() + 120, 0.1)
        run.daemon = bench.Daemon(impl, run.work, port, nb)
        t0 = run.daemon.start()
        deadline = t0 + deadline_s
        t_est = bench.wait_established(run, 1, deadline, "d1")
        if not procs.wait_until(lambda: exported(run.bird, "d1") >= n, deadline, 0.01):
            raise bench.Timeout("BIRD did not export everything")
        pid = child_pid(run.daemon.proc.pid)
        last, still, t_idle = procs.cpu_seconds(pid), 0, time.monotonic()
        while still < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
            c = procs.cpu_seconds(pid)
            if c == last:
                still += 1
            else:
                last, still, t_idle = c, 0, time.monotonic()
        return {"established_to_idle_s": t_idle - t_est, "cpu_s": last, "rss_mib": procs.peak_rss_mib(pid)}


def report(data, out_path, title):
    with open(out_path, "w") as out:
        out.write(f"# {title}\n# perf record -F 999 -g; perf report on {data}\n\n")
        for label, extra in (
            ("Self time by symbol (top)", ["--no-children", "--sort", "dso,symbol"]),
            ("Inclusive time by symbol (top)", ["--children", "--sort", "symbol"]),
            ("Self time by thread", ["--no-children", "--sort", "comm"]),
        ):
            out.write(f"## {label}\n")
            r = subprocess.run(
                ["perf", "report", "-i", data, "--stdio", "-g", "none", "--percent-limit", "1.5"] + extra,
                capture_output=True,
                timeout=600,
            )
            lines = [ln for ln in r.stdout.decode(errors="replace").splitlines() if ln and not ln.startswith("#")]
            out.write("\n".join(lines[:45]) + "\n\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--a", type=int)
    ap.add_argument("--f", type=int)
    ap.add_argument("--bf", type=int, default=100_000, help="flow rules for BF (default 100k)")
    ap.add_argument("--deadline", type=float, default=300.0)
    ap.add_argument("--rs-bin", help="another exabgp-rs binary (default: the release build)")
    ap.add_argument("--only", default="A,F,Fdecode", help="comma-separated: A, F, Fdecode (F without a helper)")
    ap.add_argument("--tag", default="", help="suffix for the output files")
    args = ap.parse_args()
    if args.rs_bin:
        bench.RS_BIN = os.path.abspath(args.rs_bin)
    a_n = args.a or (100_000 if args.quick else 1_000_000)
    f_n = args.f or (100_000 if args.quick else 1_000_000)
    atexit.register(procs.stop_all)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda s, f: sys.exit(128 + s))
    bench.Daemon.start = start_under_perf
    for key, fn, n in (("A", bench.scen_A, a_n), ("F", bench.scen_F, f_n), ("Fdecode", scen_F_decode, f_n),
                       ("BF", bench.scen_BF, args.bf)):
        if key.upper() not in args.only.upper().split(","):
            continue
        bench.Daemon.current = key + args.tag
        bench.log(f"profiling scenario {key} with {n:,} routes")
        t = time.monotonic()
        r = bench.run_one(bench.RS, key, fn, (n,), args.deadline, f"profile-{key}")
        bench.log(f"   -> {r} ({time.monotonic() - t:.1f} s, under perf)")
        data = PERF_DATA.get(key + args.tag)
        if data and os.path.exists(data) and "unavailable" not in r:
            out = os.path.join(bench.OUT, f"profile-{key}{args.tag}.txt")
            # under perf, the pid we started is perf's: its RSS/CPU say nothing of the daemon
            shown = {k: v for k, v in r.items() if key == "Fdecode" or k not in ("rss_mib", "cpu_s")}
            report(data, out, f"exabgp-rs, scenario {key}, {n:,} routes: {shown}")
            bench.log(f"wrote {out}")


if __name__ == "__main__":
    bench.Daemon.current = None
    main()
