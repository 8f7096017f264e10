#!/usr/bin/env python3
"""scripts/soak's raw peer: connects to the daemon, churns, misbehaves, reconnects.

    soak_raw.py SRC DST PORT STATUS_FILE MAX_SECONDS [--rate N] [--batch N]
                [--window N] [--malformed-every SECONDS]

Per session: OPEN/KEEPALIVE, then `rate` UPDATEs per second, each announcing `batch`
/24s of 100.64.0.0/10 and withdrawing those announced `window` UPDATEs earlier, so the
daemon's Adj-RIB-In holds about batch x window prefixes from us; a KEEPALIVE every
10 s (hold time 30); everything the daemon sends is read. Every `malformed-every`
seconds one malformed message (rotating over rawbgp.malformed_cases) is sent instead:
the daemon must answer with the NOTIFICATION the RFC prescribes and close; we note
whether it did, and connect again. Every wait is bounded; the process ends after
MAX_SECONDS or on SIGTERM. STATUS_FILE gets a JSON object of counters (replaced
atomically, once a second).
"""

import argparse
import json
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rawbgp  # noqa: E402

NH = "192.0.2.77"


class Status:
    def __init__(self, path):
        self.path = path
        self.c = {
            "pid": os.getpid(), "connects": 0, "established": 0, "updates_sent": 0,
            "prefixes_announced": 0, "prefixes_withdrawn": 0, "messages_in": 0,
            "malformed_sent": 0, "malformed_answered_right": 0, "malformed_wrong": [],
            "unexpected_notifications": [], "session_errors": 0, "last_error": "",
            "up": False,
        }
        self.last = 0.0

    def write(self, force=False):
        now = time.monotonic()
        if not force and now - self.last < 1.0:
            return
        self.last = now
        tmp = self.path + ".tmp"
        try:
            with open(tmp, "w") as f:
                json.dump(self.c, f)
            os.replace(tmp, self.path)
        except OSError:
            pass  # a full disk must not end the peer (the counters catch up later)


def prefix_block(k, batch):
    """The `batch` /24s of block k, in 100.64.0.0/10 (16384 /24s, reused cyclically)."""
    out = []
    for j in range(batch):
        i = (k * batch + j) % 16384
        out.append((f"100.{64 + (i >> 8)}.{i & 255}.0", 24))
    return out


def session(a, st, stop_at, malformed_index):
    """One connection, until the daemon closes it, a malformed message was answered,
    or the end. Returns the next malformed index."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((a.src, 0))
        s.settimeout(3)
        st.c["connects"] += 1
        s.connect((a.dst, a.port))
        s.settimeout(10)
        s.sendall(rawbgp.open_msg())
        r = rawbgp.Reader(s)
        got = r.until(rawbgp.OPEN, 10)
        if not got or got[0] != rawbgp.OPEN:
            raise RuntimeError(f"no OPEN from the daemon: {got}")
        s.sendall(rawbgp.message(rawbgp.KEEPALIVE))
        got = r.until(rawbgp.KEEPALIVE, 10)
        if not got or got[0] != rawbgp.KEEPALIVE:
            raise RuntimeError(f"no KEEPALIVE from the daemon: {got}")
        st.c["established"] += 1
        st.c["up"] = True
        st.write(force=True)
        period = 1.0 / a.rate
        next_update = time.monotonic()
        next_keepalive = time.monotonic() + 10
        malformed_at = time.monotonic() + a.malformed_every
        k = 0
        attrs = rawbgp.valid_attrs(NH)
        while time.monotonic() < stop_at:
            now = time.monotonic()
            if now >= malformed_at:
                name, data, want = rawbgp.malformed_cases(NH)[malformed_index % 5]
                malformed_index += 1
                st.c["malformed_sent"] += 1
                s.sendall(data)
                got = None
                try:
                    got = r.until(rawbgp.NOTIFICATION, 10)
                except (EOFError, OSError, ValueError):
                    pass
                code = tuple(got[1][:2]) if got and len(got[1]) >= 2 else None
                if code == want:
                    st.c["malformed_answered_right"] += 1
                else:
                    st.c["malformed_wrong"].append(f"{name}: wanted {want}, got {code}")
                return malformed_index
            if now >= next_update:
                new = rawbgp.nlri(prefix_block(k, a.batch))
                old = rawbgp.nlri(prefix_block(k - a.window, a.batch)) if k >= a.window else b""
                s.sendall(rawbgp.update(withdrawn=old, attrs=attrs, announced=new))
                st.c["updates_sent"] += 1
                st.c["prefixes_announced"] += a.batch
                st.c["prefixes_withdrawn"] += a.batch if old else 0
                k += 1
                next_update += period
                if next_update < now - 1:  # fell behind (loaded machine): do not burst
                    next_update = now
            if now >= next_keepalive:
                s.sendall(rawbgp.message(rawbgp.KEEPALIVE))
                next_keepalive = now + 10
            for t, body in r.poll(max(0.0, min(next_update, next_keepalive) - time.monotonic())):
                st.c["messages_in"] += 1
                if t == rawbgp.NOTIFICATION:
                    st.c["unexpected_notifications"].append(body[:2].hex())
                    return malformed_index
            st.write()
    except (OSError, EOFError, ValueError, RuntimeError) as e:
        st.c["session_errors"] += 1
        st.c["last_error"] = f"{type(e).__name__}: {e}"
    finally:
        st.c["up"] = False
        st.write(force=True)
        s.close()
    return malformed_index


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("port", type=int)
    ap.add_argument("status")
    ap.add_argument("max_seconds", type=float)
    ap.add_argument("--rate", type=float, default=10.0)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--window", type=int, default=100)
    ap.add_argument("--malformed-every", type=float, default=45.0)
    ap.add_argument("--first-malformed", type=int, default=0)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(0))
    stop_at = time.monotonic() + a.max_seconds
    st = Status(a.status)
    st.write(force=True)
    idx = a.first_malformed
    while time.monotonic() < stop_at:
        idx = session(a, st, stop_at, idx)
        time.sleep(1.0)  # the daemon may hold the neighbor idle a moment after a reset


if __name__ == "__main__":
    main()
