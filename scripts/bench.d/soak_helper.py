#!/usr/bin/env python3
"""scripts/soak's API helper ([[process]]): announces and withdraws routes through
the text API at a steady rate, and reads everything the daemon writes to its stdin.

    soak_helper.py NAME BASE RATE WINDOW STATS_FILE MAX_SECONDS

Every 100 ms it prints RATE/10 `announce route 172.16.a.b/32 next-hop self` lines
(172.16+BASE.0.0/16, cycling) and withdraws the routes
announced WINDOW routes earlier, so it keeps about WINDOW routes announced. A thread
reads stdin (events, `done`/`error:` answers) and counts the lines. STATS_FILE gets a
JSON object of counters once a second. It exits when stdin closes (the daemon is
gone), after MAX_SECONDS, or on SIGTERM.
"""

import json
import os
import signal
import sys
import threading
import time

counts = {"announced": 0, "withdrawn": 0, "done": 0, "error": 0, "events": 0, "last_error": ""}
stop = threading.Event()


def route(base, i):
    i %= 65536
    return f"172.{16 + base}.{(i >> 8) & 255}.{i & 255}/32"


def drain():
    buf = b""
    while True:
        try:
            chunk = os.read(0, 1 << 16)
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for line in lines:
            if line == b"done":
                counts["done"] += 1
            elif line.startswith(b"error"):
                counts["error"] += 1
                counts["last_error"] = line.decode(errors="replace")[:200]
            else:
                counts["events"] += 1
    stop.set()


def main():
    name, base, rate, window, stats, max_s = sys.argv[1:7]
    base, rate, window = int(base), int(rate), int(window)
    signal.signal(signal.SIGTERM, lambda s, f: stop.set())
    end = time.monotonic() + float(max_s)
    threading.Thread(target=drain, daemon=True).start()
    per_tick = max(1, rate // 10)
    n = 0
    tick = time.monotonic()
    last_stats = 0.0
    out = sys.stdout
    while not stop.is_set() and time.monotonic() < end:
        lines = []
        for _ in range(per_tick):
            lines.append(f"announce route {route(base, n)} next-hop self\n")
            if n >= window:
                lines.append(f"withdraw route {route(base, n - window)}\n")
                counts["withdrawn"] += 1
            counts["announced"] += 1
            n += 1
        try:
            out.write("".join(lines))
            out.flush()
        except OSError:
            break
        now = time.monotonic()
        if now - last_stats >= 1.0:
            last_stats = now
            tmp = stats + ".tmp"
            try:
                with open(tmp, "w") as f:
                    json.dump(dict(counts, name=name, pid=os.getpid()), f)
                os.replace(tmp, stats)
            except OSError:
                pass  # a full disk must not end the load (the counters catch up later)
        tick += 0.1
        stop.wait(max(0.0, tick - time.monotonic()))
        if tick < time.monotonic() - 1:  # fell behind (loaded machine): do not burst
            tick = time.monotonic()


if __name__ == "__main__":
    main()
