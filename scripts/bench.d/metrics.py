#!/usr/bin/env python3
"""Does scraping the metrics endpoint slow the announcement down? (issue 14)

    metrics.py [--scenario A|B] [--routes N] [--scrapes K] [--runs R] [--deadline S]
               [--rs-bin PATH] [--out DIR]

A scenario of bench.py, unchanged, run R times without scraping and R times while
a client scrapes exabgp_metrics_listen back to back, K times at most (in B from
the helper's go, in A from the moment the endpoint answers); only the scrapes
answered inside the timed window are counted as "during the run". B (default): a helper announces N routes over the
API as fast as it can, timed from its first line until BIRD holds them all. A: N
configured routes, timed from the daemon's start. Both sides run with the
endpoint open; only the scraping differs. Runs alternate, so a drift of the
machine hits both sides. Prints the median of each side and their ratio;
nothing is asserted (speed is reported, never tested). Writes
target/bench/metrics.json.
"""

import argparse
import json
import os
import socket
import statistics
import sys
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench  # noqa: E402
import procs  # noqa: E402


class Scraper:
    """scraper.py in its own process: scrapes `addr` back to back, `limit` answers
    at most, from the moment `go` exists (None: at once) until stop()."""

    def __init__(self, addr, limit, deadline_s, work, go=None):
        self.stop_file = os.path.join(work, "scraper-stop")
        self.out = os.path.join(work, "scraper.json")
        argv = [sys.executable, os.path.join(HERE, "scraper.py"), addr[0], str(addr[1]),
                str(limit), go or "-", self.stop_file, str(deadline_s), self.out]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
        self.times, self.cpu_s = [], None

    def stop(self):
        with open(self.stop_file, "w"):
            pass
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        try:
            with open(self.out) as f:
                r = json.load(f)
            self.times, self.cpu_s = r["times"], r["cpu_s"]
        except (OSError, ValueError, KeyError):
            pass


# Set by one_run for the daemon the scenario starts next.
PLAN = {"scrapes": 0, "scraper": None, "scenario": "B"}
_orig_start = bench.Daemon.start


def start_scraped(self):
    maddr = ("127.0.0.1", procs.free_port())
    self.env["exabgp_metrics_listen"] = f"{maddr[0]}:{maddr[1]}"
    t0 = _orig_start(self)
    if PLAN["scrapes"]:
        go = os.path.join(self.work, "go") if PLAN["scenario"] == "B" else None
        PLAN["scraper"] = Scraper(maddr, PLAN["scrapes"], 300, self.work, go)
    return t0


bench.Daemon.start = start_scraped


def one_run(scenario, n, scrapes, deadline_s, label):
    PLAN["scrapes"], PLAN["scraper"], PLAN["scenario"] = scrapes, None, scenario
    fn = {"A": bench.scen_A, "B": bench.scen_B}[scenario]
    load = os.getloadavg()[0]
    try:
        r = fn(bench.RS, n, deadline_s, label)
    finally:
        t_end = time.monotonic()
        sc = PLAN["scraper"]
        if sc:
            sc.stop()
    inside = [t for t in (sc.times if sc else []) if r.get("t_go", 0) <= t <= r.get("t_done", t_end)]
    return {
        "time_s": r["load_s"] if scenario == "A" else r["inject_s"],
        # Answered inside the timed window: B from the helper's first line
        # (t_go) until BIRD held every route (t_done); A until the end.
        "scrapes_during_run": len(inside),
        "scrapes_total": len(sc.times) if sc else 0,
        # The scraper's own CPU (all its scrapes, inside the window or not): it
        # competes with the daemon and BIRD for the machine's cores.
        "scraper_cpu_s": sc.cpu_s if sc else 0.0,
        "cpu_s": r["cpu_s"],
        "load1_before": load,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", choices=["A", "B"], default="B")
    ap.add_argument("--routes", type=int, default=100_000)
    ap.add_argument("--scrapes", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--deadline", type=float, default=300)
    ap.add_argument("--rs-bin", help="another exabgp build (default target/release/exabgp)")
    ap.add_argument("--out", help="where metrics.json goes (default target/bench)")
    a = ap.parse_args()
    if a.rs_bin:
        bench.RS_BIN = os.path.abspath(a.rs_bin)
    out_dir = a.out or bench.OUT
    os.makedirs(out_dir, exist_ok=True)
    quiet, scraped = [], []
    failed = []
    for i in range(a.runs):
        for scrapes, out in ((0, quiet), (a.scrapes, scraped)):
            try:
                r = one_run(a.scenario, a.routes, scrapes, a.deadline, f"metrics-{i}-{scrapes}")
            except (bench.Timeout, bench.Unavailable) as e:
                # Reported, left out of the medians (e.g. on a loaded machine the
                # helper's commands overflow the neighbor's queue: see daemon.log).
                failed.append({"run": i + 1, "scrapes": scrapes, "error": str(e)})
                bench.log(f"run {i + 1}/{a.runs}, scrapes {scrapes}: FAILED {e}")
                continue
            out.append(r)
            bench.log(f"run {i + 1}/{a.runs}, scrapes {scrapes}: {r}")
    if not quiet or not scraped:
        sys.exit(f"not enough runs completed: {failed}")
    mq = statistics.median(r["time_s"] for r in quiet)
    ms = statistics.median(r["time_s"] for r in scraped)
    during = statistics.median(r["scrapes_during_run"] for r in scraped)
    result = {
        "scenario": a.scenario,
        "routes": a.routes,
        "scrapes": a.scrapes,
        "runs": a.runs,
        "time_s_without_scraping": mq,
        "time_s_while_scraping": ms,
        "ratio": ms / mq,
        "median_scrapes_during_run": during,
        "median_scraper_cpu_ms_per_scrape": statistics.median(
            1000 * r["scraper_cpu_s"] / r["scrapes_total"] for r in scraped if r["scrapes_total"]
        )
        if any(r["scrapes_total"] for r in scraped)
        else None,
        "median_daemon_cpu_s": [
            statistics.median(r["cpu_s"] for r in quiet),
            statistics.median(r["cpu_s"] for r in scraped),
        ],
        "load1_before": [r["load1_before"] for r in quiet + scraped],
        "failed": failed,
        "quiet": quiet,
        "scraped": scraped,
        "rs_bin": bench.RS_BIN,
    }
    with open(os.path.join(out_dir, "metrics.json"), "w") as f:
        json.dump(result, f, indent=2)
    how = "over the API (B)" if a.scenario == "B" else "from the configuration (A)"
    print(
        f"{a.routes} routes announced {how} until BIRD held them: {mq:.3f} s without "
        f"scraping, {ms:.3f} s while scraping (median {during:.0f} scrapes answered during "
        f"the run, at most {a.scrapes}); ratio {ms / mq:.3f} (medians of {len(quiet)} and "
        f"{len(scraped)} runs; {len(failed)} failed)"
    )
    dq, ds = result["median_daemon_cpu_s"]
    loads = result["load1_before"]
    print(
        f"daemon CPU {dq:.2f} s / {ds:.2f} s (medians); scraper CPU "
        f"{result['median_scraper_cpu_ms_per_scrape'] or 0:.3f} ms per scrape; "
        f"1-min load before the runs {min(loads):.1f}-{max(loads):.1f}"
    )


if __name__ == "__main__":
    main()
