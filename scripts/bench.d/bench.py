#!/usr/bin/env python3
"""exabgp-rs vs ExaBGP benchmark (issue 5). Run through scripts/bench, which installs
the reference and the peer first. Scenarios (A-F) are described in docs/performance.md.

Every run starts its own BIRD and its own daemon, on loopback addresses 127.77.x.y and
a port picked at run time, and stops both (process groups) whatever happens. Every wait
is bounded by the per-run deadline. ExaBGP results are cached in
target/bench/reference.json (they do not depend on our code); --fresh-reference reruns.
"""

import argparse
import atexit
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import ctl  # noqa: E402
import gen  # noqa: E402
import procs  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(REPO, "target", "bench")
VENV = os.path.join(OUT, "venv")
RS_BIN = os.path.join(REPO, "target", "release", "exabgp")
RS_CLI = os.path.join(REPO, "target", "release", "exabgpcli")
EXA_BIN = os.path.join(VENV, "bin", "exabgp")
EXA_CLI = os.path.join(VENV, "bin", "exabgp-cli")
EXA_PIPES = os.path.join(VENV, "run")  # ExaBGP looks for its pipes under <root>/run/
PIPENAME = "bench"
PY = sys.executable

RS, EXA = "exabgp-rs", "ExaBGP"


class Unavailable(Exception):
    """The scenario cannot run for this implementation (feature missing, crash)."""


class Timeout(Exception):
    """The run did not finish before its deadline; the message says how far it got,
    `partial` holds rates computed from that progress (shown as bounds)."""

    def __init__(self, msg, partial=None):
        super().__init__(msg)
        self.partial = partial or {}


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- daemon launching


def tail(path, n=5):
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - 4000))
            lines = f.read().decode(errors="replace").splitlines()
        return " | ".join(lines[-n:])
    except OSError:
        return ""


class Daemon:
    """One run of the daemon under test, with its config written in `work`."""

    def __init__(self, impl, work, port, neighbors, routes=0, process=None, cli=False, ack=True,
                 exa_adj_rib_in=None, family="ipv4 unicast"):
        self.impl = impl
        self.work = work
        self.log_path = os.path.join(work, "daemon.log")
        self.socket_path = os.path.join(work, "ctl.sock")
        self.notify_path = os.path.join(work, "notify.sock")
        self.notify = None
        env = dict(os.environ)
        if impl == RS:
            cfg = os.path.join(work, "bench.toml")
            with open(cfg, "w") as f:
                f.write(gen.rs_config(port, neighbors, routes, process, family=family))
            self.argv = [RS_BIN, "server", cfg]
            env.update(
                {
                    "exabgp_api_socketpath": self.socket_path,
                    "exabgp_api_cli": "true" if cli else "false",
                    "exabgp_api_ack": "true" if ack else "false",
                    "exabgp_daemon_drop": "false",
                    "exabgp_log_level": "warning",
                    "exabgp_log_destination": "stderr",
                }
            )
            if cli:
                # catch sd_notify READY=1 (exec-to-ready), as systemd would
                self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self.notify.bind(self.notify_path)
                self.notify.setblocking(False)
                env["NOTIFY_SOCKET"] = self.notify_path
        else:
            cfg = os.path.join(work, "bench.conf")
            with open(cfg, "w") as f:
                f.write(gen.exabgp_config(port, neighbors, routes, process, adj_rib_in=exa_adj_rib_in,
                                          family=family))
            self.argv = [EXA_BIN, "server", cfg]
            env.update(
                {
                    "exabgp_daemon_drop": "false",
                    "exabgp_daemon_user": "root",
                    "exabgp_daemon_daemonize": "false",
                    "exabgp_api_cli": "true" if cli else "false",
                    "exabgp_api_pipename": PIPENAME,
                    "exabgp_api_ack": "true" if ack else "false",
                    "exabgp_log_level": "WARNING",
                    "exabgp_log_destination": "stdout",
                    "EXABGP_ENVFILE": os.path.join(work, "none.env"),
                }
            )
            if cli:
                os.makedirs(EXA_PIPES, exist_ok=True)
                for ext in (".in", ".out"):
                    p = os.path.join(EXA_PIPES, PIPENAME + ext)
                    if os.path.exists(p):
                        os.unlink(p)
                    os.mkfifo(p, 0o600)
            env.pop("NOTIFY_SOCKET", None)
        self.env = env
        self.proc = None
        self.t0 = None

    def start(self):
        self.t0 = time.monotonic()
        self.proc = procs.start(self.argv, self.log_path, env=self.env, cwd=self.work)
        return self.t0

    def check_alive(self):
        if self.proc.poll() is not None:
            raise Unavailable(
                f"daemon exited with code {self.proc.returncode}: {tail(self.log_path, 3)}"
            )

    def ready_notified(self):
        if self.notify is None:
            return False
        try:
            while True:
                data = self.notify.recv(4096)
                if b"READY=1" in data.split(b"\n"):
                    return True
        except BlockingIOError:
            return False

    def peak_rss(self):
        return procs.peak_rss_mib(self.proc.pid)

    def cpu(self):
        return procs.cpu_seconds(self.proc.pid)

    def stop(self):
        procs.stop(self.proc)
        if self.notify:
            self.notify.close()
            self.notify = None


class Run:
    """Workdir + BIRD + daemon of one run; stops both on exit."""

    def __init__(self, label, impl):
        safe = label.replace(" ", "_").replace("/", "_")
        self.work = os.path.join(OUT, "work", f"{safe}-{'rs' if impl == RS else 'exa'}")
        if os.path.isdir(self.work):
            shutil.rmtree(self.work)
        os.makedirs(self.work)
        self.bird = None
        self.daemon = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.daemon:
            self.daemon.stop()
        if self.bird:
            self.bird.stop()
        return False


def wait_established(run, count, deadline, name=None):
    def est():
        run.daemon.check_alive()
        return run.bird.bgp_stats(name)[0] >= count

    if not procs.wait_until(est, deadline, 0.005 if count == 1 else 0.05):
        raise Timeout(f"not Established within the deadline: {tail(run.daemon.log_path, 2)}")
    return time.monotonic()


def wait_imported(run, want, deadline, name=None, t0=None):
    """Poll BIRD until it holds `want` routes; returns the monotonic time seen."""
    start = t0 or time.monotonic()
    last = [0]
    while True:
        run.daemon.check_alive()
        _, imported = run.bird.bgp_stats(name)
        last[0] = imported
        now = time.monotonic()
        if imported >= want:
            return now
        if now >= deadline:
            raise Timeout(
                f"{imported} of {want} routes held at the deadline",
                {"held": imported, "elapsed_s": now - start},
            )
        # fine resolution early (fast runs), gentler on BIRD for long ones
        time.sleep(min(0.05, max(0.002, (now - start) / 200)))


# ---------------------------------------------------------------- scenarios


def scen_A(impl, n, deadline_s, label):
    with Run(label, impl) as run:
        port = procs.free_port()
        nb = gen.pairs(1)
        run.bird = procs.Bird(run.work, gen.bird_config(port, nb))
        run.bird.start(time.monotonic() + 60)
        run.daemon = Daemon(impl, run.work, port, nb, routes=n)
        t0 = run.daemon.start()
        deadline = t0 + deadline_s
        t_done = wait_imported(run, n, deadline, "d1", t0)
        return {
            "load_s": t_done - t0,
            "rss_mib": run.daemon.peak_rss(),
            "cpu_s": run.daemon.cpu(),
            "bird_cpu_s": run.bird.cpu(),
        }


def scen_B(impl, m, deadline_s, label, flow=False):
    with Run(label, impl) as run:
        port = procs.free_port()
        nb = gen.pairs(1)
        run.bird = procs.Bird(run.work, gen.bird_config(port, nb, flow=flow))
        run.bird.start(time.monotonic() + 60)
        go = os.path.join(run.work, "go")
        started = os.path.join(run.work, "started")
        argv = [PY, os.path.join(HERE, "helper_inject.py"), str(m), go, started, str(deadline_s + 30)]
        if flow:
            argv.append("flow")
        family = "ipv4 flow" if flow else "ipv4 unicast"
        run.daemon = Daemon(impl, run.work, port, nb, process=("inject", argv, False), ack=False,
                            family=family)
        t0 = run.daemon.start()
        deadline = t0 + deadline_s
        wait_established(run, 1, deadline, "d1")
        with open(go, "w"):
            pass

        def started_at():
            run.daemon.check_alive()
            try:
                with open(started) as f:
                    return float(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                return None

        t_go = procs.wait_until(started_at, min(deadline, time.monotonic() + 60), 0.002)
        if t_go is None:
            raise Unavailable("the helper was not started (or never got the go)")
        try:
            t_done = wait_imported(run, m, deadline, "d1", t_go)
        except Timeout as e:
            if e.partial.get("elapsed_s"):
                e.partial = {"cmds_per_s": e.partial["held"] / e.partial["elapsed_s"]}
            raise
        return {
            # The timed window, for a measurement beside it (metrics.py).
            "t_go": t_go,
            "t_done": t_done,
            "inject_s": t_done - t_go,
            "cmds_per_s": m / (t_done - t_go),
            "rss_mib": run.daemon.peak_rss(),
            "cpu_s": run.daemon.cpu(),
        }


def scen_BF(impl, m, deadline_s, label):
    """B with flow rules: M distinct `announce flow route` commands from a helper,
    timed from the first write until BIRD's flow4 table holds them all."""
    return scen_B(impl, m, deadline_s, label, flow=True)


def percentile(values, p):
    v = sorted(values)
    if not v:
        return None
    k = min(len(v) - 1, max(0, int(round(p / 100.0 * (len(v) - 1)))))
    return v[k]


def scen_CD(impl, rtts, cli_runs, deadline_s, label):
    with Run(label, impl) as run:
        port = procs.free_port()
        nb = gen.pairs(1)
        run.bird = procs.Bird(run.work, gen.bird_config(port, nb))
        run.bird.start(time.monotonic() + 60)
        run.daemon = d = Daemon(impl, run.work, port, nb, cli=True)
        client = ctl.RsClient(d.socket_path) if impl == RS else ctl.ExaPipeClient(EXA_PIPES, PIPENAME)
        t0 = d.start()
        deadline = t0 + deadline_s
        sock_deadline = t0 + min(deadline_s, 10)
        t_ready = t_sock = t_est = None
        sock_error = None
        next_bird = 0.0
        while time.monotonic() < deadline:
            d.check_alive()
            now = time.monotonic()
            if t_ready is None and d.ready_notified():
                t_ready = now
            if t_sock is None and sock_error is None:
                try:
                    if client.connect():
                        client.roundtrip("show neighbor summary")
                        t_sock = time.monotonic()
                except (ctl.ControlError, OSError) as e:
                    client.close()
                    if now > sock_deadline:
                        sock_error = str(e)
                if t_sock is None and now > sock_deadline:
                    sock_error = sock_error or "control socket never answered"
            if t_est is None and now >= next_bird:
                next_bird = now + 0.005
                if run.bird.bgp_stats("d1")[0] >= 1:
                    t_est = time.monotonic()
            if t_est is not None and (t_sock is not None or sock_error) and (
                t_ready is not None or impl == EXA or now > sock_deadline
            ):
                break
            time.sleep(0.0005)
        if t_est is None:
            raise Timeout("not Established within the deadline")
        res = {
            "errors": {},
            "ready_ms": (t_ready - t0) * 1000 if t_ready else None,
            "socket_ms": (t_sock - t0) * 1000 if t_sock else None,
            "established_ms": (t_est - t0) * 1000,
        }
        if t_ready is None:
            res["errors"]["ready_ms"] = (
                "ExaBGP does not speak sd_notify" if impl == EXA else "no READY=1 on NOTIFY_SOCKET"
            )
        if sock_error:
            for k in ("socket_ms", "rtt_p50_ms", "rtt_p99_ms", "cli_p50_ms", "cli_p90_ms", "cli_cpu_p50_ms"):
                res["errors"][k] = sock_error
            client.close()
            return res
        # D: sequential round trips on one open connection
        times = []
        for _ in range(rtts):
            a = time.perf_counter()
            client.roundtrip("show neighbor summary")
            times.append((time.perf_counter() - a) * 1000)
            if time.monotonic() > deadline:
                break
        client.close()
        res["rtt_p50_ms"] = percentile(times, 50)
        res["rtt_p99_ms"] = percentile(times, 99)
        res["rtt_count"] = len(times)
        # the CLI binaries, one process per command
        if impl == RS:
            argv = [RS_CLI, "--socket", d.socket_path, "show", "neighbor", "summary"]
        else:
            argv = [EXA_CLI, "--pipename", PIPENAME, "show", "neighbor", "summary"]
        # wall time as a script sees it, and the process's own CPU time (user + sys,
        # from the rusage of reaped children), which a busy machine disturbs less
        cli_times = []
        cli_cpu = []
        cli_error = None
        for _ in range(cli_runs):
            ru = resource.getrusage(resource.RUSAGE_CHILDREN)
            a = time.perf_counter()
            try:
                r = subprocess.run(argv, capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
            except (OSError, subprocess.TimeoutExpired) as e:
                cli_error = str(e)
                break
            if r.returncode != 0:
                cli_error = f"exit {r.returncode}: {r.stderr.decode(errors='replace').strip()[:200]}"
                break
            cli_times.append((time.perf_counter() - a) * 1000)
            ru2 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cli_cpu.append((ru2.ru_utime + ru2.ru_stime - ru.ru_utime - ru.ru_stime) * 1000)
        if cli_times:
            res["cli_p50_ms"] = percentile(cli_times, 50)
            res["cli_p90_ms"] = percentile(cli_times, 90)
            res["cli_cpu_p50_ms"] = percentile(cli_cpu, 50)
        else:
            for k in ("cli_p50_ms", "cli_p90_ms", "cli_cpu_p50_ms"):
                res["errors"][k] = cli_error
        return res


def scen_E(impl, peers, routes_each, deadline_s, label):
    with Run(label, impl) as run:
        port = procs.free_port()
        nb = gen.pairs(peers)
        run.bird = procs.Bird(run.work, gen.bird_config(port, nb))
        run.bird.start(time.monotonic() + 60)
        run.daemon = Daemon(impl, run.work, port, nb, routes=routes_each)
        t0 = run.daemon.start()
        deadline = t0 + deadline_s
        t_est = None
        want = peers * routes_each
        while True:
            run.daemon.check_alive()
            est, imported = run.bird.bgp_stats()
            now = time.monotonic()
            if t_est is None and est >= peers:
                t_est = now
            if t_est is not None and imported >= want:
                break
            if now >= deadline:
                raise Timeout(f"{est}/{peers} Established, {imported}/{want} routes at the deadline")
            time.sleep(0.05)
        return {
            "all_established_s": t_est - t0,
            "all_held_s": now - t0,
            "rss_mib": run.daemon.peak_rss(),
            "cpu_s": run.daemon.cpu(),
        }


def scen_F(impl, n, deadline_s, label):
    with Run(label, impl) as run:
        port = procs.free_port()
        nb = gen.pairs(1)
        static = gen.bird_static_file(os.path.join(OUT, f"bird-static-{n}.conf"), n)
        run.bird = procs.Bird(run.work, gen.bird_config(port, nb, static_routes_file=static))
        run.bird.start(time.monotonic() + 120)
        if not procs.wait_until(lambda: run.bird.static_routes("ST") >= n, time.monotonic() + 120, 0.1):
            raise Timeout("BIRD did not load its static routes")
        progress = os.path.join(run.work, "progress")
        argv = [PY, os.path.join(HERE, "helper_count.py"), str(n), progress, str(deadline_s + 30)]
        run.daemon = Daemon(impl, run.work, port, nb, process=("counter", argv, True))
        t0 = run.daemon.start()
        deadline = t0 + deadline_s
        bird_cpu0 = run.bird.cpu() or 0.0
        t_est = wait_established(run, 1, deadline, "d1")

        def read_progress():
            try:
                with open(progress) as f:
                    c, t, done = f.read().split()
                return int(c), float(t), done == "1"
            except (OSError, ValueError):
                return 0, 0.0, False

        helper_deadline = time.monotonic() + 30
        while True:
            run.daemon.check_alive()
            c, t, done = read_progress()
            if done:
                break
            if not os.path.exists(progress) and time.monotonic() > helper_deadline:
                raise Unavailable("the helper process was never started")
            if time.monotonic() >= deadline:
                raise Timeout(
                    f"{c} of {n} prefixes delivered to the helper at the deadline",
                    {"routes_per_s": c / max(1e-9, time.monotonic() - t_est)},
                )
            time.sleep(0.005)
        return {
            "receive_s": t - t_est,
            "start_to_all_s": t - t0,
            "routes_per_s": n / (t - t_est),
            "rss_mib": run.daemon.peak_rss(),
            "cpu_s": run.daemon.cpu(),
            "bird_cpu_s": (run.bird.cpu() or 0.0) - bird_cpu0,
        }


def settle_rss(run, deadline):
    """VmRSS (MiB) once the daemon has finished its work (CPU quiet, bounded)."""
    procs.wait_quiet(run.daemon.proc.pid, min(deadline, time.monotonic() + 60))
    run.daemon.check_alive()
    return procs.rss_kib(run.daemon.proc.pid) / 1024.0


def scen_MA(impl, n, deadline_s, label):
    """Memory per route announced: RSS of the daemon holding N config routes, all held
    by BIRD, minus RSS of the same daemon with none (a first, short run)."""
    with Run(label, impl) as run:
        port = procs.free_port()
        nb = gen.pairs(1)
        run.bird = procs.Bird(run.work, gen.bird_config(port, nb))
        run.bird.start(time.monotonic() + 60)
        run.daemon = Daemon(impl, run.work, port, nb, routes=0)
        t0 = run.daemon.start()
        wait_established(run, 1, t0 + min(deadline_s, 120), "d1")
        time.sleep(1)
        rss0 = settle_rss(run, t0 + min(deadline_s, 120))
        run.daemon.stop()
        run.bird.stop()
        run.bird.start(time.monotonic() + 60)
        run.daemon = Daemon(impl, run.work, port, nb, routes=n)
        t0 = run.daemon.start()
        deadline = t0 + deadline_s
        t_done = wait_imported(run, n, deadline, "d1", t0)
        rss = settle_rss(run, deadline)
        hwm = run.daemon.peak_rss()
        return {
            "load_s": t_done - t0,
            "rss0_mib": rss0,
            "rss_mib": rss,
            "hwm_mib": hwm,
            "bytes_per_route": (rss - rss0) * 1048576 / n,
            "peak_bytes_per_route": (hwm - rss0) * 1048576 / n,
        }


def scen_MR(impl, n, deadline_s, label):
    """Memory per route received: BIRD exports N routes once the daemon is Established
    and its RSS taken; RSS again once BIRD has exported all and the daemon is done.
    ExaBGP gets `adj-rib-in true` so that it keeps what it receives, as exabgp-rs does
    (its default keeps nothing)."""
    with Run(label, impl) as run:
        port = procs.free_port()
        nb = gen.pairs(1)
        static = gen.bird_static_file(os.path.join(OUT, f"bird-static-{n}.conf"), n)
        run.bird = procs.Bird(run.work, gen.bird_config(port, nb, static_routes_file=static, static_disabled=True))
        run.bird.start(time.monotonic() + 60)
        run.daemon = Daemon(impl, run.work, port, nb, exa_adj_rib_in=True)
        t0 = run.daemon.start()
        deadline = t0 + deadline_s
        wait_established(run, 1, deadline, "d1")
        time.sleep(1)
        rss0 = settle_rss(run, deadline)
        run.bird.query("enable ST")
        t1 = time.monotonic()

        def exported():
            run.daemon.check_alive()
            return run.bird.route_counts("d1")[1] >= n

        if not procs.wait_until(exported, deadline, 0.1):
            raise Timeout(f"BIRD had exported {run.bird.route_counts('d1')[1]} of {n} routes at the deadline")
        if not procs.wait_quiet(run.daemon.proc.pid, deadline):
            raise Timeout("the daemon was still busy receiving at the deadline")
        run.daemon.check_alive()
        rss = procs.rss_kib(run.daemon.proc.pid) / 1024.0
        hwm = run.daemon.peak_rss()
        return {
            "receive_s": time.monotonic() - t1,
            "rss0_mib": rss0,
            "rss_mib": rss,
            "hwm_mib": hwm,
            "bytes_per_route": (rss - rss0) * 1048576 / n,
            "peak_bytes_per_route": (hwm - rss0) * 1048576 / n,
        }


# ---------------------------------------------------------------- plan, cache, report


def plan(args):
    """[(key, title, function, params, heavy)]; heavy: ExaBGP runs it once by default."""
    q = args.quick
    items = []
    for n in [10_000] if q else [10_000, 100_000, 1_000_000]:
        items.append((f"A:{n}", f"A. table load, {n:,} routes", scen_A, (n,), n >= 1_000_000))
    for m in [10_000] if q else [10_000, 100_000]:
        items.append((f"B:{m}", f"B. API injection, {m:,} commands", scen_B, (m,), m >= 100_000))
    for m in [10_000] if q else [10_000, 100_000]:
        items.append((f"BF:{m}", f"BF. API injection of flow rules, {m:,} commands", scen_BF, (m,), m >= 100_000))
    rtts, cli_runs = (200, 20) if q else (1000, 200)
    items.append((f"CD:{rtts}", "C. readiness / D. control socket", scen_CD, (rtts, cli_runs), False))
    peers, each = (20, 1000) if q else (200, 1000)
    items.append((f"E:{peers}x{each}", f"E. scale out, {peers} neighbors x {each:,} routes", scen_E, (peers, each), True))
    fn = 100_000 if q else 1_000_000
    items.append((f"F:{fn}", f"F. receive path, {fn:,} routes", scen_F, (fn,), True))
    # M (memory per route) only when asked for: --only M (it repeats A's and F's loads)
    for n in [10_000] if q else [100_000, 1_000_000]:
        items.append((f"MA:{n}", f"M. memory per route announced, {n:,} routes", scen_MA, (n,), n >= 1_000_000))
    n = 100_000 if q else 1_000_000
    items.append((f"MR:{n}", f"M. memory per route received, {n:,} routes", scen_MR, (n,), True))
    if not args.only:
        items = [it for it in items if not it[0].startswith("M")]
    if args.only:
        wanted = set(args.only.upper().split(","))
        if "M" in wanted:
            wanted |= {"MA", "MR"}
        items = [it for it in items if it[0].split(":")[0] in wanted or it[0].upper() in wanted
                 or ("C" in wanted or "D" in wanted) and it[0].startswith("CD")]
    return items


PROJECTED = {"A": "load_s", "B": "inject_s", "BF": "inject_s", "F": "receive_s", "MA": "load_s"}


def projected_over_deadline(results, key, impl, deadline):
    """Why a size need not be run: the previous size of the same scenario, scaled
    linearly, would already pass the deadline (or it timed out itself)."""
    kind, _, size = key.partition(":")
    metric = PROJECTED.get(kind)
    if not metric or not size.isdigit():
        return None
    prev = [(int(k.split(":")[1]), e) for k, e in results.items()
            if k.startswith(kind + ":") and k.split(":")[1].isdigit() and int(k.split(":")[1]) < int(size)]
    if not prev:
        return None
    n, entry = max(prev, key=lambda x: x[0])
    runs = entry.get(impl) or []
    if any("timeout" in r for r in runs):
        return f"the {n:,} run already timed out"
    for r in runs:
        if "unavailable" in r:
            return f"not available at {n:,} either ({r['unavailable']})"
    m = median_of(runs, metric)
    if m is not None and m * int(size) / n > deadline:
        return (f"the {n:,} run took {m:.0f} s, so {int(size):,} would take at least "
                f"{m * int(size) / n:.0f} s, over the {deadline:.0f} s deadline")
    return None


def exabgp_version():
    try:
        r = subprocess.run([EXA_BIN, "version"], capture_output=True, timeout=30)
        for line in r.stdout.decode().splitlines():
            if line.startswith("ExaBGP"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    return "unknown"


def run_one(impl, key, fn, params, deadline, label):
    try:
        return fn(impl, *params, deadline, label)
    except Unavailable as e:
        return {"unavailable": str(e)}
    except Timeout as e:
        r = {"timeout": f"> {deadline:.0f} s: {e}"}
        partial = {k: v for k, v in e.partial.items() if k in ("cmds_per_s", "routes_per_s")}
        if partial:
            r["partial"] = partial
        return r
    except (OSError, RuntimeError, ctl.ControlError) as e:
        return {"unavailable": f"{type(e).__name__}: {e}"}


def median_of(runs, metric):
    vals = [r[metric] for r in runs if isinstance(r.get(metric), (int, float))]
    return statistics.median(vals) if vals else None


METRICS = {
    "A": [("load_s", "time to all held (s)", "low"), ("cpu_s", "CPU seconds", "low"),
          ("rss_mib", "peak RSS (MiB)", "low"), ("bird_cpu_s", "BIRD CPU seconds", None)],
    "B": [("inject_s", "time to all held (s)", "low"), ("cmds_per_s", "commands per second", "high"),
          ("rss_mib", "peak RSS (MiB)", "low")],
    "BF": [("inject_s", "time to all held (s)", "low"), ("cmds_per_s", "commands per second", "high"),
           ("rss_mib", "peak RSS (MiB)", "low")],
    "CD": [("ready_ms", "C: exec to READY=1 (ms)", "low"), ("socket_ms", "C: exec to socket answers (ms)", "low"),
           ("established_ms", "C: exec to Established (ms)", "low"),
           ("rtt_p50_ms", "D: round trip p50 (ms)", "low"), ("rtt_p99_ms", "D: round trip p99 (ms)", "low"),
           ("cli_p50_ms", "D: CLI process per command p50 (ms)", "low"),
           ("cli_p90_ms", "D: CLI process per command p90 (ms)", "low"),
           ("cli_cpu_p50_ms", "D: CLI process CPU time p50 (ms)", "low")],
    "E": [("all_established_s", "time to all Established (s)", "low"), ("all_held_s", "time to all routes held (s)", "low"),
          ("rss_mib", "peak RSS (MiB)", "low"), ("cpu_s", "CPU seconds", "low")],
    "F": [("receive_s", "Established to all delivered (s)", "low"), ("routes_per_s", "routes per second", "high"),
          ("start_to_all_s", "exec to all delivered (s)", "low"), ("rss_mib", "peak RSS (MiB)", "low"),
          ("cpu_s", "CPU seconds", "low"), ("bird_cpu_s", "BIRD CPU seconds (sending)", None)],
    "MA": [("bytes_per_route", "RSS per route, settled (bytes)", "low"),
           ("peak_bytes_per_route", "peak RSS per route (bytes)", "low"),
           ("rss_mib", "RSS with the routes, settled (MiB)", "low"), ("rss0_mib", "RSS without routes (MiB)", None),
           ("hwm_mib", "peak RSS (MiB)", "low"), ("load_s", "time to all held (s)", "low")],
    "MR": [("bytes_per_route", "RSS per route, settled (bytes)", "low"),
           ("peak_bytes_per_route", "peak RSS per route (bytes)", "low"),
           ("rss_mib", "RSS with the routes, settled (MiB)", "low"), ("rss0_mib", "RSS before (MiB)", None),
           ("hwm_mib", "peak RSS (MiB)", "low"), ("receive_s", "BIRD enabled to daemon idle (s; includes the 2 s idle check)", "low")],
}


def fmt(v):
    if v is None:
        return "—"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    if abs(v) >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def cell(runs, metric):
    """Median over runs, or why there is none."""
    if not runs:
        return None, "not run"
    m = median_of(runs, metric)
    if m is not None:
        ok = sum(1 for r in runs if isinstance(r.get(metric), (int, float)))
        return m, fmt(m) + ("" if ok == len(runs) else f" ({ok}/{len(runs)} runs)")
    for r in runs:
        if "timeout" in r:
            bound = (r.get("partial") or {}).get(metric)
            if bound is not None:
                # a rate measured up to the deadline: the true rate is at most this
                return bound, f"≈ {fmt(bound)} (timeout; rate up to the deadline)"
            return None, "timeout " + r["timeout"]
        if "unavailable" in r:
            return None, "not available: " + r["unavailable"]
        err = (r.get("errors") or {}).get(metric)
        if err:
            return None, "not available: " + err
    return None, "not available"


def build_table(results, exa_version):
    rows = []
    for key, entry in results.items():
        kind = key.split(":")[0]
        shown = {}
        for metric, label, _better in METRICS[kind]:
            rs_v, rs_s = cell(entry.get(RS, []), metric)
            ex_v, ex_s = cell(entry.get(EXA, []), metric)
            # say why a scenario has no figure once, not on every metric row
            prev_rs, prev_ex = shown.get(RS), shown.get(EXA)
            shown[RS], shown[EXA] = rs_s, ex_s
            if rs_v is None and prev_rs == rs_s:
                rs_s = "(as above)"
            if ex_v is None and prev_ex == ex_s:
                ex_s = "(as above)"
            ratio = fmt(rs_v / ex_v) if rs_v is not None and ex_v not in (None, 0) else "—"
            rows.append((entry["title"], label, rs_s, ex_s, ratio))
    head = ("scenario", "metric", "exabgp-rs (median)", f"ExaBGP {exa_version} (median)", "ratio rs/ExaBGP")
    return head, rows


def markdown(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        out.append("| " + " | ".join(s.replace("|", "/") for s in r) + " |")
    return "\n".join(out) + "\n"


def plain(head, rows):
    widths = [min(60, max(len(str(x[i])) for x in [head] + rows)) for i in range(len(head))]
    lines = []
    for r in [head] + rows:
        lines.append("  ".join(str(c)[:60].ljust(w) for c, w in zip(r, widths)))
    return "\n".join(lines) + "\n"


def load_cache(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def machine_notes():
    try:
        load = os.getloadavg()
    except OSError:
        load = (0, 0, 0)
    rustc = subprocess.run(["rustc", "--version"], capture_output=True).stdout.decode().strip()
    bird = subprocess.run(["bird", "--version"], capture_output=True)
    bird_v = (bird.stdout + bird.stderr).decode().strip()
    return {
        "cpus": os.cpu_count(),
        "load_avg_at_start": [round(x, 2) for x in load],
        "kernel": platform.release(),
        "python": platform.python_version(),
        "rustc": rustc,
        "bird": bird_v,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="runs per scenario (median reported)")
    ap.add_argument("--quick", action="store_true", help="small sizes, one run")
    ap.add_argument("--only", help="comma-separated scenarios, e.g. A,C,F")
    ap.add_argument("--impl", choices=["both", "rs", "exabgp"], default="both")
    ap.add_argument("--deadline", type=float, default=300.0, help="seconds per run (default 300)")
    ap.add_argument("--reference-runs-heavy", type=int, default=1,
                    help="ExaBGP runs of the slow scenarios (A 1M, B 100k, E, F); default 1")
    ap.add_argument("--fresh-reference", action="store_true", help="ignore cached ExaBGP results")
    ap.add_argument("--rs-bin", help="another exabgp-rs binary to measure (experiments; default: the release build)")
    ap.add_argument("--out", help="write results.md/json here instead of target/bench")
    ap.add_argument("--rs-commit", help="what --rs-bin was built from (for the report)")
    args = ap.parse_args()
    global RS_BIN, RS_CLI
    if args.rs_bin:
        RS_BIN = os.path.abspath(args.rs_bin)
        cli = os.path.join(os.path.dirname(RS_BIN), "exabgpcli")
        if os.path.exists(cli):
            RS_CLI = cli
    if args.quick and "--runs" not in sys.argv:
        args.runs = 1

    os.makedirs(OUT, exist_ok=True)
    atexit.register(procs.stop_all)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda s, f: sys.exit(128 + s))

    notes = machine_notes()
    exa_version = exabgp_version()
    notes["exabgp"] = exa_version
    notes["command"] = "scripts/bench " + " ".join(sys.argv[1:])
    notes["rs_bin"] = RS_BIN
    rev = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True)
    notes["rs_commit"] = rev.stdout.decode().strip() or "unknown"
    if args.rs_commit:
        notes["rs_commit"] = args.rs_commit
    log(f"load average at start: {notes['load_avg_at_start']}; ExaBGP {exa_version}; {notes['bird']}")

    cache_path = os.path.join(OUT, "reference.json")
    # --fresh-reference measures again what this run covers; other entries are kept
    cache = load_cache(cache_path)
    results = {}
    started = time.monotonic()
    for key, title, fn, params, heavy in plan(args):
        entry = results.setdefault(key, {"title": title})
        impls = [RS, EXA] if args.impl == "both" else [RS] if args.impl == "rs" else [EXA]
        for impl in impls:
            n_runs = args.runs
            if impl == EXA:
                if heavy:
                    n_runs = min(n_runs, args.reference_runs_heavy)
                cached = None if args.fresh_reference else cache.get(key)
                if cached and cached.get("version") == exa_version and len(cached["runs"]) >= n_runs:
                    entry[EXA] = cached["runs"][:max(n_runs, 1)]
                    entry["exa_cached"] = cached.get("when")
                    log(f"{title}: ExaBGP from cache ({cached.get('when')})")
                    continue
            runs = []
            skip = projected_over_deadline(results, key, impl, args.deadline)
            if skip:
                log(f"{title}: {impl} skipped: {skip}")
                entry[impl] = [{"unavailable": "skipped: " + skip}]
                continue
            for i in range(n_runs):
                log(f"{title}: {impl} run {i + 1}/{n_runs} ...")
                r = run_one(impl, key, fn, params, args.deadline, f"{key}-{i}")
                log(f"   -> {json.dumps(r)}")
                runs.append(r)
                if "unavailable" in r or "timeout" in r or (r.get("errors") or {}).get("socket_ms"):
                    break  # the next run would not do better
            entry[impl] = runs
            if impl == EXA:
                cache[key] = {"version": exa_version, "runs": runs, "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
                with open(cache_path, "w") as f:
                    json.dump(cache, f, indent=1)
    notes["elapsed_s"] = round(time.monotonic() - started, 1)
    notes["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]

    head, rows = build_table(results, exa_version)
    print(plain(head, rows))
    md = [
        f"Command: `{notes['command']}`  ",
        f"exabgp-rs {notes['rs_commit']} ({notes['rs_bin']}), ExaBGP {exa_version} (PyPI, Python {notes['python']}), "
        f"{notes['bird']}, {notes['rustc']}  ",
        f"{notes['cpus']} CPUs, kernel {notes['kernel']}, load average at start {notes['load_avg_at_start']}, "
        f"at end {notes['load_avg_at_end']}, wall time {notes['elapsed_s']} s  ",
        f"Runs per scenario: exabgp-rs {args.runs}, ExaBGP {args.runs} "
        f"({min(args.runs, args.reference_runs_heavy)} for A 1M, B 100k, E, F); medians shown.",
        "",
        markdown(head, rows),
    ]
    cached = sorted({e.get("exa_cached") for e in results.values() if e.get("exa_cached")})
    if cached:
        md.append(f"ExaBGP figures reused from target/bench/reference.json (measured {', '.join(cached)}).\n")
    out_dir = args.out or OUT
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "results.md"), "w") as f:
        f.write("\n".join(md))
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump({"notes": notes, "results": results}, f, indent=1)
    log(f"wrote {out_dir}/results.md and results.json")


if __name__ == "__main__":
    main()
