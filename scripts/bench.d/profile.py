#!/usr/bin/env python3
"""Profile exabgp-rs in scenarios A (table load) and F (receive path) with perf.

    profile.py [--quick] [--a N] [--f N] [--deadline S]

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
    ap.add_argument("--deadline", type=float, default=300.0)
    ap.add_argument("--rs-bin", help="another exabgp-rs binary (default: the release build)")
    ap.add_argument("--only", default="A,F", help="A, F or A,F")
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
    for key, fn, n in (("A", bench.scen_A, a_n), ("F", bench.scen_F, f_n)):
        if key not in args.only.upper().split(","):
            continue
        bench.Daemon.current = key + args.tag
        bench.log(f"profiling scenario {key} with {n:,} routes")
        t = time.monotonic()
        r = bench.run_one(bench.RS, key, fn, (n,), args.deadline, f"profile-{key}")
        bench.log(f"   -> {r} ({time.monotonic() - t:.1f} s, under perf)")
        data = PERF_DATA.get(key + args.tag)
        if data and os.path.exists(data):
            out = os.path.join(bench.OUT, f"profile-{key}{args.tag}.txt")
            report(data, out, f"exabgp-rs, scenario {key}, {n:,} routes: {r}")
            bench.log(f"wrote {out}")


if __name__ == "__main__":
    bench.Daemon.current = None
    main()
