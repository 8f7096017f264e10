"""Bench plumbing: starting and always stopping processes, reading their /proc
figures, bounded waits, a small client for BIRD's control socket, and a gobgpd
driven through its `gobgp` CLI (scripts/soak)."""

import json
import os
import signal
import socket
import subprocess
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")

_started = []  # every Popen we started, stopped by stop_all()
# When set, this file always lists the pid (= process group) of every process started
# and not yet stopped, so a shell wrapper can clean up even if Python itself is killed
# (scripts/soak); a stopped process leaves the list, so its pid is never signalled
# again after it might have been reused.
PID_FILE = None


def _record():
    if PID_FILE:
        tmp = PID_FILE + ".tmp"
        try:
            with open(tmp, "w") as f:
                f.write("".join(f"{p.pid}\n" for p in _started))
            os.replace(tmp, PID_FILE)
        except OSError:
            pass  # a full disk must not stop the cleanup; the old list errs on the safe side


def start(argv, log_path, env=None, cwd=None):
    """Start argv in its own process group (so its helpers die with it)."""
    log = open(log_path, "ab")
    p = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=cwd,
        start_new_session=True,
    )
    log.close()
    _started.append(p)
    _record()
    return p


def stop(p, grace=5.0):
    """SIGTERM the process group, then SIGKILL after `grace` seconds."""
    if p is None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        if p.poll() is not None:
            break
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            break
        try:
            p.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    # the group may outlive its leader (helpers): make sure it is gone
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if p in _started:
        _started.remove(p)
        _record()


def stop_all():
    for p in list(_started):
        stop(p, grace=2.0)


def peak_rss_mib(pid):
    """VmHWM of a live process, in MiB (None if it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def rss_kib(pid):
    """VmRSS of a live process, in KiB (None if it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def wait_quiet(pid, deadline, interval=1.0, cpu_delta=0.02, rounds=2):
    """Wait until the process used less than `cpu_delta` CPU seconds in each of
    `rounds` consecutive `interval`s (it has finished its work); True if it did
    before the monotonic deadline."""
    quiet = 0
    last = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(interval)
        now = cpu_seconds(pid)
        if now is None or last is None:
            return False
        quiet = quiet + 1 if now - last < cpu_delta else 0
        last = now
        if quiet >= rounds:
            return True
    return False


def cpu_seconds(pid):
    """user + system CPU seconds of a live process (not its children)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("0.0.0.0", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_until(predicate, deadline, interval=0.005):
    """Poll predicate() until it returns a true value or the monotonic deadline passes."""
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


class Bird:
    """A BIRD 2 daemon run in the foreground, and a client for its control socket."""

    def __init__(self, workdir, config_text=None, config_path=None):
        self.workdir = workdir
        self.sock_path = os.path.join(workdir, "bird.ctl")
        self.conf = config_path or os.path.join(workdir, "bird.conf")
        if config_text is not None:
            with open(self.conf, "w") as f:
                f.write(config_text)
        self.proc = None
        self.sock = None
        self.buf = b""

    def start(self, deadline):
        if os.path.exists(self.sock_path):
            os.unlink(self.sock_path)
        self.proc = start(
            ["bird", "-f", "-c", self.conf, "-s", self.sock_path],
            os.path.join(self.workdir, "bird.log"),
        )

        def connect():
            if self.proc.poll() is not None:
                raise RuntimeError(f"bird exited with {self.proc.returncode}; see {self.workdir}/bird.log")
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(30)
                s.connect(self.sock_path)
            except OSError:
                return None
            self.sock = s
            self.buf = b""
            self._reply()  # greeting
            return True

        if not wait_until(connect, deadline, 0.02):
            raise RuntimeError("bird control socket did not come up in time")

    def _reply(self):
        lines = []
        while True:
            while b"\n" not in self.buf:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    raise RuntimeError("bird closed its control socket")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\n", 1)
            text = line.decode(errors="replace")
            lines.append(text)
            if len(text) >= 5 and text[:4].isdigit() and text[4] == " ":
                return lines

    def query(self, cmd):
        self.sock.sendall(cmd.encode() + b"\n")
        return self._reply()

    def bgp_stats(self, name=None):
        """(established protocols, routes imported summed over BGP protocols)."""
        lines = self.query(f"show protocols all {name}" if name else "show protocols all")
        est = 0
        imported = 0
        for line in lines:
            s = line[5:] if line[:4].isdigit() else line
            s = s.strip()
            if s.startswith("BGP state:") and s.endswith("Established"):
                est += 1
            elif s.startswith("Routes:") and "imported" in s:
                try:
                    imported += int(s.split()[1])
                except (IndexError, ValueError):
                    pass
        return est, imported

    def route_counts(self, name):
        """(imported, exported) routes of protocol `name` (`Routes: I imported, E exported`)."""
        for line in self.query(f"show protocols all {name}"):
            s = (line[5:] if line[:4].isdigit() else line).strip()
            if s.startswith("Routes:"):
                words = s.replace(",", "").split()
                try:
                    imported = int(words[1]) if "imported" in words else 0
                    exported = int(words[words.index("exported") - 1]) if "exported" in words else 0
                except (IndexError, ValueError):
                    return 0, 0
                return imported, exported
        return 0, 0

    def static_routes(self, name):
        lines = self.query(f"show protocols all {name}")
        for line in lines:
            s = (line[5:] if line[:4].isdigit() else line).strip()
            if s.startswith("Routes:"):
                return int(s.split()[1])
        return 0

    def cpu(self):
        return cpu_seconds(self.proc.pid) if self.proc else None

    def stop(self):
        if self.sock:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None
        stop(self.proc)
        self.proc = None


class Gobgp:
    """A gobgpd on `addr:port`, passive toward each neighbor (they connect to it),
    with its gRPC API on `addr:api_port`, driven with the `gobgp` CLI."""

    def __init__(self, workdir, addr, asn, router_id, neighbors, port=None):
        """`neighbors`: [(neighbor address, peer AS)], ipv4 unicast."""
        self.workdir = workdir
        self.addr = addr
        self.asn = asn
        self.port = port or free_port()
        self.api_port = free_port()
        self.conf = os.path.join(workdir, "gobgpd.toml")
        out = [
            "[global.config]",
            f"  as = {asn}",
            f'  router-id = "{router_id}"',
            f"  port = {self.port}",
            f'  local-address-list = ["{addr}"]',
        ]
        for peer, peer_as in neighbors:
            out += [
                "[[neighbors]]",
                "  [neighbors.config]",
                f'    neighbor-address = "{peer}"',
                f"    peer-as = {peer_as}",
                "  [neighbors.transport.config]",
                "    passive-mode = true",
                f'    local-address = "{addr}"',
                "  [neighbors.timers.config]",
                "    idle-hold-time-after-reset = 1",
                "  [[neighbors.afi-safis]]",
                "    [neighbors.afi-safis.config]",
                '      afi-safi-name = "ipv4-unicast"',
            ]
        with open(self.conf, "w") as f:
            f.write("\n".join(out) + "\n")
        self.proc = None

    def start(self, deadline):
        self.proc = start(
            ["gobgpd", "-f", self.conf, "--api-hosts", f"{self.addr}:{self.api_port}",
             "-p", "--pprof-disable"],
            os.path.join(self.workdir, "gobgpd.log"),
        )

        def up():
            if self.proc.poll() is not None:
                raise RuntimeError(f"gobgpd exited with {self.proc.returncode}; see {self.workdir}/gobgpd.log")
            return self.cli(["-j", "global"]) is not None

        if not wait_until(up, deadline, 0.1):
            raise RuntimeError("gobgpd API did not come up in time")

    def cli(self, args, timeout=10):
        """stdout of `gobgp -u ADDR -p PORT ARGS...`, or None when it fails."""
        try:
            r = subprocess.run(
                ["gobgp", "-u", self.addr, "-p", str(self.api_port)] + list(args),
                capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return r.stdout.decode(errors="replace") if r.returncode == 0 else None

    def established(self, peer):
        """Whether the session with `peer` is Established (gobgp's session_state 6)."""
        out = self.cli(["-j", "neighbor", peer])
        if not out:
            return False
        try:
            v = json.loads(out)
        except ValueError:
            return False
        if isinstance(v, list):
            v = v[0] if v else {}
        state = (v.get("state") or {}).get("session_state")
        return state in (6, "established", "ESTABLISHED")

    def stop(self):
        stop(self.proc)
        self.proc = None
