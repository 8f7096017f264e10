#!/usr/bin/env python3
"""Soak benchmark (issue 11, "Long runs"): one exabgp-rs daemon under steady churn
for a given duration, its resources sampled, and a verdict on whether they stay flat.
Run through scripts/soak (builds the release binaries, cleans up on any exit); see
docs/performance.md, "Soak".

Topology on loopback (127.78.R.x, R picked at run time; ports picked free):

    gobgpd   .2 <-- daemon .1 --> BIRD .3        (the daemon connects to both)
    raw peer .4 --> daemon .1                    (passive neighbor; the daemon listens)

Load: the raw peer (soak_raw.py) sends churn (announce/withdraw batches) and, every
45 s, a malformed message that must get the RFC's NOTIFICATION; two helpers
([[process]], soak_helper.py, one JSON and one text encoder) announce and withdraw
--helper-rate routes/s each through the text API; BIRD exports 1,000 routes and
gobgpd 20; `exabgpcli show neighbor summary` and `show adj-rib out` run every 5 s; a
reload (SIGHUP, the config alternating between two valid variants) every 30 s; a
peer flap every 60 s (gobgpd disables then enables the neighbor, the raw peer is
killed and restarted, BIRD disables then enables its protocol, in turn).

Every --sample seconds: RSS, peak RSS, open fds, threads, CPU seconds, and the queue
drops counted from the log's "dropped N event(s)" lines go to a CSV (RSS also split
into heap, RssAnon, and mapped files, RssFile). At the end: the slope of RSS over the
samples after the warm-up (Theil-Sen, robust to one transient sample; least squares
shown beside it), the fds' range and fitted rise, the verdict, and the checks
(sessions back after each flap, reloads accepted, malformed messages answered right,
CLI answers, daemon alive). Exit 0 only when flat and all checks passed.
"""

import argparse
import atexit
import csv
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import gen  # noqa: E402
import procs  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
PY = sys.executable
GOBGP_AS = 65003
RAW_AS = 65002

DROP_RE = re.compile(r"dropped (\d+) event")


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def parse_duration(text):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smh]?)", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"bad duration {text!r}: say e.g. 90s, 10m, 2h")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def pick_addresses(deadline):
    """127.78.R.1-4 with R random, each address bindable (nothing of ours there)."""
    while time.monotonic() < deadline:
        r = random.randint(1, 250)
        addrs = [f"127.78.{r}.{i}" for i in range(1, 5)]
        ok = True
        for a in addrs:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind((a, 0))
            except OSError:
                ok = False
            finally:
                s.close()
        if ok:
            return addrs
    raise RuntimeError("no free 127.78.R.x addresses")


def free_port_on(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((addr, 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---------------------------------------------------------------- /proc figures


STATUS_KEYS = ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads")


def proc_status(pid):
    """{VmRSS, VmHWM, RssAnon, RssFile (KiB), Threads}, or None when the process is
    gone. RssAnon is the heap and stacks (where a leak shows); RssFile the pages of
    the binary and libraries, which grow as code runs for the first time."""
    try:
        with open(f"/proc/{pid}/status") as f:
            v = {}
            for line in f:
                k, _, rest = line.partition(":")
                if k in STATUS_KEYS:
                    v[k] = int(rest.split()[0])
        return v if all(k in v for k in STATUS_KEYS) else None
    except (OSError, ValueError):
        return None


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def robust_slope_per_hour(points):
    """Theil-Sen slope of [(t seconds, y)] (median of the slopes between every two
    points), in y per hour: one transient sample (a large buffer allocated and freed
    between two samples) does not move it, a steady climb does."""
    slopes = sorted((y2 - y1) / (t2 - t1) * 3600.0
                    for i, (t1, y1) in enumerate(points) for t2, y2 in points[i + 1:] if t2 > t1)
    if len(points) < 3 or not slopes:
        return None
    mid = len(slopes) // 2
    return slopes[mid] if len(slopes) % 2 else (slopes[mid - 1] + slopes[mid]) / 2


def slope_per_hour(points):
    """Least-squares slope of [(t seconds, y)], in y per hour (None under 3 points)."""
    n = len(points)
    if n < 3:
        return None
    mt = sum(t for t, _ in points) / n
    my = sum(y for _, y in points) / n
    den = sum((t - mt) ** 2 for t, _ in points)
    if den == 0:
        return None
    return sum((t - mt) * (y - my) for t, y in points) / den * 3600.0


# ---------------------------------------------------------------- the run


class Soak:
    def __init__(self, a):
        self.a = a
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.out = os.path.abspath(a.out or os.path.join(REPO, "target", "soak", stamp))
        os.makedirs(self.out, exist_ok=True)
        self.rs_bin = os.path.abspath(a.rs_bin or os.path.join(REPO, "target", "release", "exabgp"))
        self.cli_bin = os.path.join(os.path.dirname(self.rs_bin), "exabgpcli")
        self.checks = []  # (time, name, ok, detail)
        self.pending = []  # [name, deadline, predicate, detail]
        self.failures = []
        self.drops = 0
        self.reloaded = 0
        self.rejected = 0
        self.readies = 0
        self.unconfirmed = 0
        self.reject_status = ""
        self.panics = []
        self.log_pos = 0
        self.cli_ok = 0
        self.cli_fail = 0
        self.cli_last_error = ""
        self.summary_established = None
        self.adj_out_lines = None
        self.flaps = 0
        self.reloads = 0
        self.variant = 0
        self.raw = None
        self.raw_generation = 0
        self.malformed_index = 0
        self.raw_totals = {"established": 0, "malformed_sent": 0, "malformed_answered_right": 0,
                           "malformed_wrong": [], "unexpected_notifications": [], "prefixes_announced": 0}

    # -- configuration

    def write_config(self, variant):
        D, G, B, R = self.addrs
        out = ["[global]", f'router-id = "{D}"', f"local-as = {gen.DAEMON_AS}", ""]
        for addr, asn, port, passive in ((G, GOBGP_AS, self.gobgp.port, False),
                                         (B, gen.BIRD_AS, self.bird_port, False),
                                         (R, RAW_AS, None, True)):
            out += ["[[neighbor]]", f'address = "{addr}"', f"peer-as = {asn}", f'local-address = "{D}"']
            if port:
                out.append(f"port = {port}")
            if passive:
                out.append("passive = true")
            out += ['families = ["ipv4 unicast"]', ""]
        for i, enc in enumerate(("json", "text")):
            name = f"churn-{enc}"
            argv = [PY, os.path.join(HERE, "soak_helper.py"), name, str(i), str(self.a.helper_rate),
                    str(self.a.helper_window), os.path.join(self.out, f"helper-{enc}.json"),
                    str(self.a.duration + 120)]
            out += ["[[process]]", f"name = {gen.toml_str(name)}",
                    "run = [" + ", ".join(gen.toml_str(x) for x in argv) + "]",
                    f'encoder = "{enc}"', 'receive = ["update", "state"]', ""]
        # variant 0: 198.18.0-49.0/24 med 10; variant 1: 198.18.25-74.0/24 med 20 —
        # a reload withdraws 25, announces 25 and changes 25.
        first = 0 if variant == 0 else 25
        for i in range(first, first + 50):
            out += ["[[route]]", f'prefix = "198.18.{i}.0/24"', 'next-hop = "self"',
                    f"med = {10 if variant == 0 else 20}", ""]
        tmp = self.config + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(out))
        os.replace(tmp, self.config)

    # -- checks

    def check(self, name, ok, detail=""):
        t = time.monotonic() - self.t0
        self.checks.append((round(t, 1), name, ok, detail))
        if not ok:
            self.failures.append(f"{name}: {detail}")
            log(f"CHECK FAILED at {t:.0f} s: {name}: {detail}")

    def expect(self, name, within, predicate, detail):
        self.pending.append([name, time.monotonic() + within, predicate, detail])

    def run_pending(self):
        keep = []
        for item in self.pending:
            name, deadline, predicate, detail = item
            try:
                ok = predicate()
            except (OSError, RuntimeError, ValueError) as e:
                ok = False
                detail = f"{detail} ({e})"
            if ok:
                self.check(name, True)
            elif time.monotonic() >= deadline:
                self.check(name, False, detail)
            else:
                keep.append(item)
        self.pending = keep

    # -- sd_notify: READY=1 after each reload, STATUS= saying whether it was rejected

    def read_notify(self):
        while True:
            try:
                data = self.notify.recv(65536).decode(errors="replace")
            except BlockingIOError:
                return
            lines = data.split("\n")
            if "READY=1" not in lines:
                continue
            self.readies += 1
            if self.readies == 1:
                continue  # start-up
            status = next((x for x in lines if x.startswith("STATUS=")), "")
            if "rejected" in status:
                self.rejected += 1
                self.reject_status = status
            elif "not confirmed" in status or "in progress" in status:
                # the daemon gave up waiting for the core's answer: not accepted (yet)
                self.unconfirmed += 1
                self.reject_status = status
            else:
                self.reloaded += 1

    # -- the daemon's log

    def read_log(self):
        try:
            with open(self.daemon_log, "rb") as f:
                f.seek(self.log_pos)
                data = f.read()
        except OSError:
            return
        end = data.rfind(b"\n")
        if end < 0:
            return
        self.log_pos += end + 1
        for line in data[:end].decode(errors="replace").splitlines():
            m = DROP_RE.search(line)
            if m:
                self.drops += int(m.group(1))
            if "panicked" in line:
                self.panics.append(line[:300])

    # -- peers

    def start_raw(self):
        self.raw_generation += 1
        status = os.path.join(self.out, f"raw-{self.raw_generation}.json")
        D, _, _, R = self.addrs
        argv = [PY, os.path.join(HERE, "soak_raw.py"), R, D, str(self.daemon_port), status,
                str(self.a.duration + 120), "--rate", str(self.a.raw_rate), "--batch", str(self.a.raw_batch),
                "--malformed-every", str(self.a.malformed_every), "--first-malformed", str(self.malformed_index)]
        self.raw = procs.start(argv, os.path.join(self.out, "raw.log"))
        self.raw_status_path = status

    def raw_status(self):
        try:
            with open(self.raw_status_path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def retire_raw(self):
        """Kill the raw peer (SIGKILL: no NOTIFICATION, the daemon sees the TCP reset)
        and fold its counters into the totals."""
        if self.raw and self.raw.poll() is None:
            try:
                os.killpg(self.raw.pid, signal.SIGKILL)
                self.raw.wait(timeout=5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        procs.stop(self.raw)
        st = self.raw_status()
        for k in ("established", "malformed_sent", "malformed_answered_right", "prefixes_announced"):
            self.raw_totals[k] += st.get(k, 0)
        for k in ("malformed_wrong", "unexpected_notifications"):
            self.raw_totals[k] += st.get(k, [])
        self.malformed_index += st.get("malformed_sent", 0)
        self.raw = None

    def flap(self):
        kind = ("gobgp", "raw", "bird")[self.flaps % 3]
        self.flaps += 1
        D, _, _, _ = self.addrs
        log(f"flap {self.flaps}: {kind}")
        if kind == "gobgp":
            self.gobgp.cli(["neighbor", D, "disable"])
            self.expect(f"flap {self.flaps} gobgp down", 15, lambda: not self.gobgp.established(D),
                        "gobgpd's session did not go down after `neighbor disable`")
            time.sleep(2)
            self.gobgp.cli(["neighbor", D, "enable"])
            self.expect(f"flap {self.flaps} gobgp back", self.a.reestablish_within,
                        lambda: self.gobgp.established(D), "gobgpd's session not re-established")
        elif kind == "raw":
            self.retire_raw()
            self.start_raw()
            self.expect(f"flap {self.flaps} raw peer back", self.a.reestablish_within,
                        lambda: self.raw_status().get("established", 0) >= 1,
                        "the raw peer's new session not established")
        else:
            self.bird.query("disable d1")
            time.sleep(2)
            self.bird.query("enable d1")
            self.expect(f"flap {self.flaps} bird back", self.a.reestablish_within,
                        lambda: self.bird.bgp_stats("d1")[0] >= 1, "BIRD's session not re-established")

    def reload(self):
        self.reloads += 1
        self.variant ^= 1
        self.write_config(self.variant)
        before = self.reloaded
        os.kill(self.daemon.pid, signal.SIGHUP)
        n = self.reloads
        self.expect(f"reload {n} accepted", 20, lambda: self.reloaded > before,
                    f"no READY=1 saying so within 20 s (rejected so far: {self.rejected}, "
                    f"not confirmed: {self.unconfirmed} {self.reject_status})")

    def poll_cli(self):
        for cmd in (["show", "neighbor", "summary"], ["show", "adj-rib", "out"]):
            try:
                r = subprocess.run([self.cli_bin, "--socket", self.socket_path] + cmd, capture_output=True,
                                   timeout=15, stdin=subprocess.DEVNULL)
            except (OSError, subprocess.TimeoutExpired) as e:
                self.cli_fail += 1
                self.cli_last_error = f"{' '.join(cmd)}: {e}"
                continue
            if r.returncode != 0:
                self.cli_fail += 1
                self.cli_last_error = f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.decode(errors='replace')[:200]}"
                continue
            self.cli_ok += 1
            text = r.stdout.decode(errors="replace")
            if cmd[1] == "neighbor":
                self.summary_established = sum(1 for line in text.splitlines() if "established" in line.lower())
            else:
                self.adj_out_lines = len(text.splitlines())

    # -- samples

    def sample(self, writer):
        pid = self.daemon.pid
        st = proc_status(pid)
        fds = fd_count(pid)
        cpu = procs.cpu_seconds(pid)
        if st is None or fds is None:
            return None
        rss, threads = st["VmRSS"], st["Threads"]
        raw = self.raw_status()
        row = {
            "t_s": round(time.monotonic() - self.t0, 1),
            "rss_kib": rss, "hwm_kib": st["VmHWM"], "anon_kib": st["RssAnon"], "file_kib": st["RssFile"],
            "fds": fds, "threads": threads,
            "cpu_s": round(cpu or 0.0, 2), "drops": self.drops,
            "reloads_ok": self.reloaded, "flaps": self.flaps,
            "established_cli": self.summary_established, "adj_rib_out_lines": self.adj_out_lines,
            "raw_updates": raw.get("updates_sent"), "cli_ok": self.cli_ok, "cli_fail": self.cli_fail,
            "load1": round(os.getloadavg()[0], 2),
        }
        writer.writerow(row)
        self.csv_file.flush()
        self.samples.append(row)
        log(f"t={row['t_s']:.0f}s rss={rss / 1024:.1f}MiB fds={fds} thr={threads} cpu={row['cpu_s']}s "
            f"drops={self.drops} reloads={self.reloaded} flaps={self.flaps} est={self.summary_established} "
            f"load={row['load1']}")
        return row

    def setup(self):
        a = self.a
        deadline = time.monotonic() + 60
        self.addrs = pick_addresses(deadline)
        D, G, B, R = self.addrs
        log(f"daemon {D}, gobgpd {G}, BIRD {B}, raw peer {R}; output in {self.out}")
        self.daemon_port = free_port_on(D)
        self.bird_port = free_port_on(B)
        # BIRD: passive, exports 1,000 static routes (gen's bench topology, our addresses)
        static = gen.bird_static_file(os.path.join(REPO, "target", "soak", "bird-static-1000.conf"), 1000)
        bird_dir = os.path.join(self.out, "bird")
        os.makedirs(bird_dir, exist_ok=True)
        self.bird = procs.Bird(bird_dir, gen.bird_config(self.bird_port, [(B, D)], static_routes_file=static))
        self.bird.start(deadline)
        gob_dir = os.path.join(self.out, "gobgp")
        os.makedirs(gob_dir, exist_ok=True)
        self.gobgp = procs.Gobgp(gob_dir, G, GOBGP_AS, "192.0.2.253", [(D, gen.DAEMON_AS)],
                                 port=free_port_on(G))
        self.gobgp.start(deadline)
        for i in range(20):
            self.gobgp.cli(["global", "rib", "add", f"203.0.113.{i * 4}/30", "-a", "ipv4", "nexthop", G])
        self.config = os.path.join(self.out, "soak.toml")
        self.write_config(0)
        self.socket_path = os.path.join(self.out, "ctl.sock")
        self.daemon_log = os.path.join(self.out, "daemon.log")
        # sd_notify as systemd would see it: READY=1 at start and after each reload
        notify_path = os.path.join(self.out, "notify.sock")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(notify_path)
        self.notify.setblocking(False)
        env = dict(os.environ)
        env.update({
            "NOTIFY_SOCKET": notify_path,
            "exabgp_tcp_bind": D, "exabgp_tcp_port": str(self.daemon_port),
            "exabgp_api_socketpath": self.socket_path, "exabgp_api_cli": "true",
            "exabgp_daemon_drop": "false", "exabgp_log_level": "warning",
            "exabgp_log_destination": "stderr",
        })
        self.t0 = time.monotonic()
        self.daemon = procs.start([self.rs_bin, "server", self.config], self.daemon_log, env=env, cwd=self.out)
        self.start_raw()
        for name, pred in (("gobgp", lambda: self.gobgp.established(D)),
                           ("bird", lambda: self.bird.bgp_stats("d1")[0] >= 1),
                           ("raw", lambda: self.raw_status().get("established", 0) >= 1)):
            self.expect(f"initial session {name}", a.reestablish_within, pred, f"{name} never Established")

    def run(self):
        a = self.a
        self.setup()
        self.samples = []
        fields = ["t_s", "rss_kib", "hwm_kib", "anon_kib", "file_kib", "fds", "threads", "cpu_s", "drops", "reloads_ok", "flaps",
                  "established_cli", "adj_rib_out_lines", "raw_updates", "cli_ok", "cli_fail", "load1"]
        self.csv_path = os.path.join(self.out, "samples.csv")
        self.csv_file = open(self.csv_path, "w", newline="")
        writer = csv.DictWriter(self.csv_file, fieldnames=fields)
        writer.writeheader()
        end = self.t0 + a.duration
        next_sample = self.t0 + a.sample
        next_cli = self.t0 + a.cli_every
        next_reload = self.t0 + a.reload_every
        next_flap = self.t0 + a.flap_every
        died = None
        while time.monotonic() < end:
            if self.daemon.poll() is not None:
                died = f"the daemon exited with code {self.daemon.returncode} at {time.monotonic() - self.t0:.0f} s"
                break
            if self.raw is not None and self.raw.poll() is not None:
                self.check("raw peer process alive", False, f"exited with {self.raw.returncode}; restarted")
                self.retire_raw()
                self.start_raw()
            self.read_log()
            self.read_notify()
            self.run_pending()
            now = time.monotonic()
            # an action that fails (a peer's control channel gone...) is a failed
            # check, not the end of the run
            try:
                if now >= next_cli:
                    next_cli = now + a.cli_every
                    self.poll_cli()
                if now >= next_reload:
                    next_reload += a.reload_every
                    self.reload()
                if now >= next_flap:
                    next_flap += a.flap_every
                    self.flap()
            except (OSError, RuntimeError) as e:
                self.check("soak action", False, f"{type(e).__name__}: {e}")
            if now >= next_sample:
                self.sample(writer)
                next_sample += a.sample
            time.sleep(0.2)
        if died is None:
            self.sample(writer)
            # let the checks started in the last seconds finish (bounded by their own deadlines)
            limit = time.monotonic() + a.reestablish_within + 5
            while self.pending and time.monotonic() < limit and self.daemon.poll() is None:
                self.read_log()
                self.read_notify()
                self.run_pending()
                time.sleep(0.2)
        self.csv_file.close()
        self.read_log()
        return self.report(died)

    # -- the end

    def report(self, died):
        a = self.a
        if self.raw is not None:
            self.retire_raw()
        exit_code = None
        if died is None:
            procs.stop(self.daemon, grace=10)
            exit_code = self.daemon.returncode
        for name, _, _, detail in self.pending:
            self.check(name, False, detail + " (still pending at the end)")
        helpers = {}
        for enc in ("json", "text"):
            try:
                with open(os.path.join(self.out, f"helper-{enc}.json")) as f:
                    helpers[enc] = json.load(f)
            except (OSError, ValueError):
                helpers[enc] = {}
        rt = self.raw_totals
        # checks over the whole run
        self.check("daemon alive to the end", died is None, died or "")
        if died is None:
            self.check("daemon exit on SIGTERM", exit_code == 0, f"exit code {exit_code}")
        self.check("no panic in the log", not self.panics, "; ".join(self.panics[:3]))
        self.check("CLI answered every poll", self.cli_fail == 0 and self.cli_ok > 0,
                   f"{self.cli_fail} failed, {self.cli_ok} ok; last: {self.cli_last_error}")
        self.check("no reload rejected or unconfirmed", self.rejected == 0 and self.unconfirmed == 0,
                   f"{self.rejected} rejected, {self.unconfirmed} not confirmed: {self.reject_status}")
        self.check("malformed messages answered per RFC", not rt["malformed_wrong"],
                   "; ".join(rt["malformed_wrong"][:5]))
        self.check("no unexpected NOTIFICATION to the raw peer", not rt["unexpected_notifications"],
                   ", ".join(rt["unexpected_notifications"][:5]))
        for enc, h in helpers.items():
            self.check(f"helper {enc} commands accepted", h.get("done", 0) > 0 and h.get("error", 0) == 0,
                       f"done {h.get('done')}, errors {h.get('error')}: {h.get('last_error')}")

        warm_t = a.warmup * a.duration
        after = [s for s in self.samples if s["t_s"] >= warm_t]
        rss_pts = [(s["t_s"], s["rss_kib"] / 1024.0) for s in after]
        anon_pts = [(s["t_s"], s["anon_kib"] / 1024.0) for s in after]
        rss_slope = robust_slope_per_hour(rss_pts)
        rss_ls = slope_per_hour(rss_pts)
        anon_slope = robust_slope_per_hour(anon_pts)
        anon_ls = slope_per_hour(anon_pts)
        fd_slope = slope_per_hour([(s["t_s"], s["fds"]) for s in after])
        window_h = (after[-1]["t_s"] - after[0]["t_s"]) / 3600.0 if len(after) >= 2 else 0.0
        fds = [s["fds"] for s in after]
        fd_rise = (fd_slope or 0.0) * window_h
        rss_flat = rss_slope is not None and rss_slope < a.rss_slope_max
        fds_flat = bool(fds) and max(fds) - min(fds) <= a.fd_band and fd_rise < 1.0
        flat = rss_flat and fds_flat
        failed = [c for c in self.checks if not c[2]]
        cpu = self.samples[-1]["cpu_s"] if self.samples else None
        res = {
            "command": "scripts/soak " + " ".join(x for x in self.a.argv),
            "duration_s": a.duration, "samples": len(self.samples), "samples_after_warmup": len(after),
            "warmup_s": warm_t,
            "rss_mib_first_after_warmup": after[0]["rss_kib"] / 1024.0 if after else None,
            "rss_mib_last": self.samples[-1]["rss_kib"] / 1024.0 if self.samples else None,
            "rss_mib_min_after_warmup": min(s["rss_kib"] for s in after) / 1024.0 if after else None,
            "rss_mib_max_after_warmup": max(s["rss_kib"] for s in after) / 1024.0 if after else None,
            "peak_rss_mib": self.samples[-1]["hwm_kib"] / 1024.0 if self.samples else None,
            "rss_slope_mib_per_h": rss_slope, "rss_slope_max": a.rss_slope_max,
            "rss_slope_ls_mib_per_h": rss_ls, "anon_slope_mib_per_h": anon_slope,
            "anon_slope_ls_mib_per_h": anon_ls,
            "anon_mib_first_after_warmup": after[0]["anon_kib"] / 1024.0 if after else None,
            "anon_mib_last": self.samples[-1]["anon_kib"] / 1024.0 if self.samples else None,
            "file_mib_first_after_warmup": after[0]["file_kib"] / 1024.0 if after else None,
            "file_mib_last": self.samples[-1]["file_kib"] / 1024.0 if self.samples else None,
            "fds_min": min(fds) if fds else None, "fds_max": max(fds) if fds else None,
            "fd_slope_per_h": fd_slope, "fd_fitted_rise": fd_rise,
            "threads_last": self.samples[-1]["threads"] if self.samples else None,
            "cpu_s": cpu, "cpu_share": cpu / (self.samples[-1]["t_s"] or 1) if self.samples else None,
            "drops": self.drops, "reloads": self.reloads, "reloads_accepted": self.reloaded,
            "reloads_rejected": self.rejected, "reloads_unconfirmed": self.unconfirmed, "flaps": self.flaps,
            "flaps_recovered": sum(1 for c in self.checks if c[1].startswith("flap") and c[1].endswith("back") and c[2]),
            "cli_polls_ok": self.cli_ok, "cli_polls_failed": self.cli_fail,
            "raw_sessions": rt["established"], "raw_prefixes_announced": rt["prefixes_announced"],
            "malformed_sent": rt["malformed_sent"], "malformed_answered_right": rt["malformed_answered_right"],
            "helper_routes_announced": sum(h.get("announced", 0) for h in helpers.values()),
            "helper_routes_withdrawn": sum(h.get("withdrawn", 0) for h in helpers.values()),
            "helper_event_lines": sum(h.get("events", 0) for h in helpers.values()),
            "daemon_exit_code": exit_code, "died": died,
            "verdict": ("flat" if flat else "NOT FLAT"),
            "failed_checks": [f"{c[1]}: {c[3]}" for c in failed],
            "checks_passed": sum(1 for c in self.checks if c[2]),
            "load_avg_at_end": [round(x, 2) for x in os.getloadavg()],
            "csv": self.csv_path, "out": self.out,
        }
        with open(os.path.join(self.out, "summary.json"), "w") as f:
            json.dump(res, f, indent=1)
        with open(os.path.join(self.out, "checks.json"), "w") as f:
            json.dump(self.checks, f, indent=1)
        md = summary_markdown(res)
        with open(os.path.join(self.out, "summary.md"), "w") as f:
            f.write(md)
        print(md)
        ok = flat and not failed and died is None
        log(f"verdict: {res['verdict']}; {len(failed)} failed check(s); exit {0 if ok else 1}")
        return 0 if ok else 1


def fmt(v, spec=".2f"):
    return "—" if v is None else format(v, spec)


def summary_markdown(r):
    rows = [
        ("duration / samples (after warm-up)", f"{r['duration_s']:.0f} s / {r['samples']} ({r['samples_after_warmup']} after {r['warmup_s']:.0f} s)"),
        ("RSS after warm-up: first / min / max / last (MiB)",
         f"{fmt(r['rss_mib_first_after_warmup'])} / {fmt(r['rss_mib_min_after_warmup'])} / "
         f"{fmt(r['rss_mib_max_after_warmup'])} / {fmt(r['rss_mib_last'])}"),
        ("RSS slope after warm-up (MiB/h): Theil-Sen (verdict) / least squares",
         f"{fmt(r['rss_slope_mib_per_h'], '+.2f')} / {fmt(r['rss_slope_ls_mib_per_h'], '+.2f')} (flat: < {r['rss_slope_max']})"),
        ("of which heap (RssAnon): first / last (MiB); slope Theil-Sen / least squares (MiB/h)",
         f"{fmt(r['anon_mib_first_after_warmup'])} / {fmt(r['anon_mib_last'])}; "
         f"{fmt(r['anon_slope_mib_per_h'], '+.2f')} / {fmt(r['anon_slope_ls_mib_per_h'], '+.2f')}"),
        ("of which mapped files (RssFile): first / last (MiB)",
         f"{fmt(r['file_mib_first_after_warmup'])} / {fmt(r['file_mib_last'])}"),
        ("peak RSS (VmHWM, MiB)", fmt(r["peak_rss_mib"])),
        ("open fds after warm-up: min / max; slope (fd/h)", f"{r['fds_min']} / {r['fds_max']}; {fmt(r['fd_slope_per_h'], '+.2f')}"),
        ("threads at the end", str(r["threads_last"])),
        ("CPU seconds (share of one core)", f"{fmt(r['cpu_s'])} ({fmt(100 * r['cpu_share'] if r['cpu_share'] is not None else None, '.1f')} %)"),
        ("queue drops (log)", str(r["drops"])),
        ("reloads: sent / accepted / rejected / not confirmed",
         f"{r['reloads']} / {r['reloads_accepted']} / {r['reloads_rejected']} / {r['reloads_unconfirmed']}"),
        ("peer flaps / sessions back", f"{r['flaps']} / {r['flaps_recovered']}"),
        ("raw peer: sessions / malformed sent / answered per RFC", f"{r['raw_sessions']} / {r['malformed_sent']} / {r['malformed_answered_right']}"),
        ("raw peer prefixes announced", f"{r['raw_prefixes_announced']:,}"),
        ("helpers: routes announced / withdrawn / event lines read", f"{r['helper_routes_announced']:,} / {r['helper_routes_withdrawn']:,} / {r['helper_event_lines']:,}"),
        ("CLI polls ok / failed", f"{r['cli_polls_ok']} / {r['cli_polls_failed']}"),
        ("daemon exit code after SIGTERM", str(r["daemon_exit_code"])),
        ("checks passed / failed", f"{r['checks_passed']} / {len(r['failed_checks'])}"),
        ("verdict", f"**{r['verdict']}**"),
    ]
    out = [f"Command: `{r['command']}`  ", f"Samples: {r['csv']}", "", "| measure | value |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in rows]
    if r["failed_checks"]:
        out += ["", "Failed checks:"] + [f"- {c}" for c in r["failed_checks"]]
    if r["died"]:
        out += ["", f"**{r['died']}**"]
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=parse_duration, default=600.0, help="e.g. 90s, 10m (default), 2h")
    ap.add_argument("--sample", type=float, default=10.0, help="seconds between samples (default 10)")
    ap.add_argument("--reload-every", type=float, default=30.0)
    ap.add_argument("--flap-every", type=float, default=60.0)
    ap.add_argument("--cli-every", type=float, default=5.0)
    ap.add_argument("--warmup", type=float, default=0.2, help="share of the run left out of the slope (default 0.2)")
    ap.add_argument("--rss-slope-max", type=float, default=1.0, help="MiB per hour below which RSS is flat (default 1)")
    ap.add_argument("--fd-band", type=int, default=3,
                    help="open fds after warm-up may vary by this much (sessions reconnecting, CLI clients)")
    ap.add_argument("--helper-rate", type=int, default=100, help="routes/s each helper announces (and withdraws)")
    ap.add_argument("--helper-window", type=int, default=1000, help="routes each helper keeps announced")
    ap.add_argument("--raw-rate", type=float, default=10.0, help="UPDATEs/s from the raw peer")
    ap.add_argument("--raw-batch", type=int, default=20, help="prefixes announced (and withdrawn) per UPDATE")
    ap.add_argument("--malformed-every", type=float, default=45.0)
    ap.add_argument("--reestablish-within", type=float, default=60.0, help="bound on every session check (s)")
    ap.add_argument("--rs-bin", help="the exabgp binary (default target/release/exabgp)")
    ap.add_argument("--out", help="output directory (default target/soak/<date-time>)")
    ap.add_argument("--pid-file", help="append every started pid here (for the shell wrapper's cleanup)")
    a = ap.parse_args()
    # the command as the user typed it, without the wrapper's --pid-file
    argv, skip = [], False
    for x in sys.argv[1:]:
        if skip or x == "--pid-file":
            skip = not skip
            continue
        argv.append(x)
    a.argv = argv
    if a.duration < 3 * a.sample:
        ap.error("--duration must cover at least 3 samples")
    procs.PID_FILE = a.pid_file
    atexit.register(procs.stop_all)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda s, f: sys.exit(128 + s))
    try:
        code = Soak(a).run()
    except (OSError, RuntimeError) as e:
        log(f"soak could not run: {type(e).__name__}: {e}")
        code = 2
    sys.exit(code)


if __name__ == "__main__":
    main()
