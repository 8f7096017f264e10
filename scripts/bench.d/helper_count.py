#!/usr/bin/env python3
"""Bench helper (scenario F): count the prefixes announced in the JSON update events
a BGP daemon writes to our stdin, and record when the expected number has arrived.

    helper_count.py EXPECTED PROGRESS_FILE DEADLINE_SECONDS

Counts occurrences of `"nlri"` in the byte stream (ExaBGP's JSON shape, which
exabgp-rs keeps), so the counter itself costs next to nothing. Writes
"<count> <CLOCK_MONOTONIC seconds> <done 0/1>" to PROGRESS_FILE (atomically, by rename)
at most every 100 ms and once when EXPECTED is reached. Keeps stdout open and
stays alive until stdin closes or the deadline passes, so the daemon never sees it die.
"""

import os
import sys
import time

TOKEN = b'"nlri"'


def write_progress(path, count, done):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{count} {time.monotonic():.6f} {1 if done else 0}\n")
    os.replace(tmp, path)


def main():
    expected = int(sys.argv[1])
    progress = sys.argv[2]
    deadline = time.monotonic() + float(sys.argv[3])
    count = 0
    tail = b""
    done = False
    last_write = 0.0
    write_progress(progress, 0, False)
    while time.monotonic() < deadline:
        chunk = os.read(0, 1 << 20)
        if not chunk:
            break
        data = tail + chunk
        count += data.count(TOKEN)
        # a token split across reads is completed by the next one; the kept tail is
        # shorter than the token, so nothing is counted twice
        tail = data[-(len(TOKEN) - 1) :]
        now = time.monotonic()
        if not done and count >= expected:
            done = True
            write_progress(progress, count, True)
        elif now - last_write > 0.1:
            last_write = now
            write_progress(progress, count, done)
    write_progress(progress, count, done)
    # stdin closed: the daemon is going away; linger briefly so it never sees a crash
    time.sleep(0.1)


if __name__ == "__main__":
    main()
