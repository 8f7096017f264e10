"""Bench plumbing: starting and always stopping processes, reading their /proc
figures, bounded waits, and a small client for BIRD's control socket."""

import os
import signal
import socket
import subprocess
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")

_started = []  # every Popen we started, stopped by stop_all()


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
