#!/usr/bin/env python3
"""The scraping client of metrics.py, in its own process.

    scraper.py HOST PORT LIMIT GO_FILE|- STOP_FILE DEADLINE_SECONDS OUT_FILE

Scrapes http://HOST:PORT/metrics back to back (a new connection each, as
Prometheus does), LIMIT answers at most, from the moment GO_FILE exists ("-": at
once) until STOP_FILE exists or the deadline passes. Writes OUT_FILE as JSON:
the CLOCK_MONOTONIC time of each answered scrape (comparable with the bench's
time.monotonic(): one clock for the machine) and the CPU seconds this process
used. A process of its own, not a thread of the bench: a thread would share the
bench's GIL and delay the loop that polls BIRD for the end of the timed window.
"""

import json
import os
import socket
import sys
import time


def scrape_once(addr):
    """One GET /metrics; the bytes received, or None when nothing answered."""
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


def main():
    host, port, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    go, stop, out = sys.argv[4], sys.argv[5], sys.argv[7]
    deadline = time.monotonic() + float(sys.argv[6])
    times = []
    while go != "-" and not os.path.exists(go):
        if os.path.exists(stop) or time.monotonic() > deadline:
            break
        time.sleep(0.001)
    else:
        while len(times) < limit and not os.path.exists(stop):
            if time.monotonic() > deadline:
                break
            if scrape_once((host, port)) is None:
                time.sleep(0.001)  # not up yet
                continue
            times.append(time.monotonic())
    t = os.times()
    with open(out + ".tmp", "w") as f:
        json.dump({"times": times, "cpu_s": t.user + t.system}, f)
    os.rename(out + ".tmp", out)


if __name__ == "__main__":
    main()
