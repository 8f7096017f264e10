#!/usr/bin/env python3
"""Does scraping the metrics endpoint slow the announcement down? (issue 14)

    metrics.py [--routes N] [--scrapes K] [--runs R] [--deadline S]

Scenario A of bench.py (N configured routes announced to a BIRD peer; time from
the daemon's start until BIRD holds them all) run R times without scraping and R
times while a client scrapes exabgp_metrics_listen back to back, K times at most
(the scrapes start as soon as the endpoint answers). Runs alternate, so a drift
of the machine hits both sides. Prints the median of each side and their ratio;
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
import gen  # noqa: E402
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

    def __init__(self, addr, limit, deadline):
        super().__init__(daemon=True)
        self.addr, self.limit, self.deadline = addr, limit, deadline
        self.stop = threading.Event()
        self.times = []  # monotonic time of each answered scrape

    def run(self):
        while len(self.times) < self.limit and not self.stop.is_set():
            if time.monotonic() > self.deadline:
                return
            if scrape_once(self.addr) is None:
                time.sleep(0.001)  # not up yet
                continue
            self.times.append(time.monotonic())


def one_run(n, scrapes, deadline_s, label):
    with bench.Run(label, bench.RS) as run:
        port = procs.free_port()
        nb = gen.pairs(1)
        run.bird = procs.Bird(run.work, gen.bird_config(port, nb))
        run.bird.start(time.monotonic() + 60)
        run.daemon = bench.Daemon(bench.RS, run.work, port, nb, routes=n)
        maddr = ("127.0.0.1", procs.free_port())
        # Both sides run with the endpoint open; only the scraping differs.
        run.daemon.env["exabgp_metrics_listen"] = f"{maddr[0]}:{maddr[1]}"
        t0 = run.daemon.start()
        deadline = t0 + deadline_s
        scraper = None
        if scrapes:
            scraper = Scraper(maddr, scrapes, deadline)
            scraper.start()
        t_done = bench.wait_imported(run, n, deadline, "d1", t0)
        during = 0
        if scraper:
            during = sum(1 for t in scraper.times if t <= t_done)
            scraper.join(max(0.0, deadline - time.monotonic()))
            scraper.stop.set()
        return {
            "load_s": t_done - t0,
            "scrapes_during_load": during,
            "scrapes_total": len(scraper.times) if scraper else 0,
            "cpu_s": run.daemon.cpu(),
        }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--routes", type=int, default=100_000)
    ap.add_argument("--scrapes", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--deadline", type=float, default=300)
    a = ap.parse_args()
    quiet, scraped = [], []
    for i in range(a.runs):
        for scrapes, out in ((0, quiet), (a.scrapes, scraped)):
            r = one_run(a.routes, scrapes, a.deadline, f"metrics-{i}-{scrapes}")
            out.append(r)
            bench.log(f"run {i + 1}/{a.runs}, scrapes {scrapes}: {r}")
    mq = statistics.median(r["load_s"] for r in quiet)
    ms = statistics.median(r["load_s"] for r in scraped)
    during = statistics.median(r["scrapes_during_load"] for r in scraped)
    result = {
        "routes": a.routes,
        "scrapes": a.scrapes,
        "runs": a.runs,
        "load_s_without_scraping": mq,
        "load_s_while_scraping": ms,
        "ratio": ms / mq,
        "median_scrapes_during_load": during,
        "quiet": quiet,
        "scraped": scraped,
    }
    with open(os.path.join(bench.OUT, "metrics.json"), "w") as f:
        json.dump(result, f, indent=2)
    print(
        f"{a.routes} routes announced to BIRD: {mq:.3f} s without scraping, "
        f"{ms:.3f} s while scraping (median {during:.0f} scrapes answered during the load, "
        f"at most {a.scrapes}); ratio {ms / mq:.3f} (medians of {a.runs} runs each)"
    )


if __name__ == "__main__":
    main()
