#!/usr/bin/env python3
"""Bench helper (scenarios B and BF): print M `announce route` (or `announce flow
route`) commands as fast as possible.

    helper_inject.py M GO_FILE STARTED_FILE DEADLINE_SECONDS [flow]

Waits until GO_FILE exists (the bench creates it once the session is Established),
writes the CLOCK_MONOTONIC start time to STARTED_FILE, then writes M lines
`announce route 10.a.b.c/32 next-hop 192.0.2.1` to stdout in large batches (with
`flow`: M distinct flow rules, `announce flow route { match { destination
10.a.b.c/32; protocol tcp; destination-port =80; } then { discard; } }`, the form
ExaBGP and exabgp-rs both take on one line). A thread
drains stdin (acks, events) so the daemon can never block on us. Stays alive until
stdin closes or the deadline passes: a helper that exits gets respawned.
"""

import os
import sys
import threading
import time


def prefix(i):
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}/32"


def drain(stop):
    while True:
        try:
            if not os.read(0, 1 << 16):
                break
        except OSError:
            break
    stop.set()


def main():
    m = int(sys.argv[1])
    go_file, started_file = sys.argv[2], sys.argv[3]
    deadline = time.monotonic() + float(sys.argv[4])
    stop = threading.Event()
    threading.Thread(target=drain, args=(stop,), daemon=True).start()
    # prepare the text first so the timed part is only writing it
    if sys.argv[5:6] == ["flow"]:
        lines = [
            f"announce flow route {{ match {{ destination {prefix(i)}; protocol tcp; "
            f"destination-port =80; }} then {{ discard; }} }}\n"
            for i in range(m)
        ]
    else:
        lines = [f"announce route {prefix(i)} next-hop 192.0.2.1\n" for i in range(m)]
    batches = ["".join(lines[i : i + 1024]).encode() for i in range(0, m, 1024)]
    while not os.path.exists(go_file):
        if stop.is_set() or time.monotonic() > deadline:
            return
        time.sleep(0.002)
    with open(started_file + ".tmp", "w") as f:
        f.write(f"{time.monotonic():.6f}\n")
    os.replace(started_file + ".tmp", started_file)
    out = sys.stdout.buffer
    for b in batches:
        out.write(b)
    out.flush()
    with open(started_file + ".written", "w") as f:
        f.write(f"{time.monotonic():.6f}\n")
    while not stop.is_set() and time.monotonic() < deadline:
        stop.wait(0.5)


if __name__ == "__main__":
    main()
