#!/usr/bin/env python3
"""Does scraping the metrics endpoint slow the announcement down? (issue 14)

    metrics.py [--scenario A|B] [--routes N] [--scrapes K] [--runs R] [--deadline S]

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
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench  # noqa: E402
import procs  # noqa: E402


def scrape_once(addr):
    """One GET /metrics; the body length, or None when nothing answered."""
    try:
        with socket.create_connection(addr, timeout=5) as s:
            s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
            got = 0
            while True:
                b = s.recv(65536)
                if not b:
                    break
                got += len(b)
            return got or None
    except OSError:
        return None


class Scraper(threading.Thread):
    """Scrapes `addr` back to back until `limit` answers or `stop` is set."""

    def __init__(self, addr, limit, deadline, go=None):
        super().__init__(daemon=True)
        self.addr, self.limit, self.deadline = addr, limit, deadline
        # A file whose existence starts the scraping (B's go), or None: at once.
        self.go = go
        self.stop = threading.Event()
        self.times = []  # monotonic time of each answered scrape

    def run(self):
        while self.go and not os.path.exists(self.go):
            if self.stop.is_set() or time.monotonic() > self.deadline:
                return
            time.sleep(0.001)
        while len(self.times) < self.limit and not self.stop.is_set():
            if time.monotonic() > self.deadline:
                return
            if scrape_once(self.addr) is None:
                time.sleep(0.001)  # not up yet
                continue
            self.times.append(time.monotonic())


# Set by one_run for the daemon the scenario starts next.
PLAN = {"scrapes": 0, "scraper": None, "scenario": "B"}
_orig_start = bench.Daemon.start


def start_scraped(self):
    maddr = ("127.0.0.1", procs.free_port())
    self.env["exabgp_metrics_listen"] = f"{maddr[0]}:{maddr[1]}"
    t0 = _orig_start(self)
    if PLAN["scrapes"]:
        go = os.path.join(self.work, "go") if PLAN["scenario"] == "B" else None
        PLAN["scraper"] = Scraper(maddr, PLAN["scrapes"], t0 + 300, go)
        PLAN["scraper"].start()
    return t0


bench.Daemon.start = start_scraped


def one_run(scenario, n, scrapes, deadline_s, label):
    PLAN["scrapes"], PLAN["scraper"], PLAN["scenario"] = scrapes, None, scenario
    fn = {"A": bench.scen_A, "B": bench.scen_B}[scenario]
    r = fn(bench.RS, n, deadline_s, label)
    t_end = time.monotonic()
    sc = PLAN["scraper"]
    if sc:
        sc.stop.set()
        sc.join(10)
    return {
        "time_s": r["load_s"] if scenario == "A" else r["inject_s"],
        # Answered inside the timed window: B from the helper's first line
        # (t_go) until BIRD held every route (t_done); A until the end.
        "scrapes_during_run": sum(
            1 for t in sc.times if r.get("t_go", 0) <= t <= r.get("t_done", t_end)
        )
        if sc
        else 0,
        "cpu_s": r["cpu_s"],
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", choices=["A", "B"], default="B")
    ap.add_argument("--routes", type=int, default=100_000)
    ap.add_argument("--scrapes", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--deadline", type=float, default=300)
    a = ap.parse_args()
    quiet, scraped = [], []
    for i in range(a.runs):
        for scrapes, out in ((0, quiet), (a.scrapes, scraped)):
            r = one_run(a.scenario, a.routes, scrapes, a.deadline, f"metrics-{i}-{scrapes}")
            out.append(r)
            bench.log(f"run {i + 1}/{a.runs}, scrapes {scrapes}: {r}")
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
        "quiet": quiet,
        "scraped": scraped,
    }
    with open(os.path.join(bench.OUT, "metrics.json"), "w") as f:
        json.dump(result, f, indent=2)
    how = "over the API (B)" if a.scenario == "B" else "from the configuration (A)"
    print(
        f"{a.routes} routes announced {how} until BIRD held them: {mq:.3f} s without "
        f"scraping, {ms:.3f} s while scraping (median {during:.0f} scrapes answered during "
        f"the run, at most {a.scrapes}); ratio {ms / mq:.3f} (medians of {a.runs} runs each)"
    )


if __name__ == "__main__":
    main()
