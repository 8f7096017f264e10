"""Bench control-channel clients: one round trip of a command to a running daemon,
without spawning any process, so what is timed is the daemon's answer.

exabgp-rs: a Unix stream socket; a command is one line, the answer is lines ending with
a line `done` or `error...` (ExaBGP's answer terminators, which exabgp-rs keeps).
ExaBGP 5.0: two named pipes, NAME.in (commands) and NAME.out (answers), read by its
internal `cli control` helper; the answer ends with `done` / `error` the same way.
"""

import errno
import os
import select
import socket
import time

TERMINATORS = ("done", "error", "shutdown")


class ControlError(Exception):
    pass


def _is_end(line):
    s = line.rstrip("\r")
    if s in TERMINATORS or s.startswith("error:"):
        return True
    # JSON-encoded answers end with {"answer": "done", ...}
    return s.startswith("{") and '"answer"' in s and ('"done"' in s or '"error"' in s)


class RsClient:
    """exabgp-rs control socket."""

    def __init__(self, path, timeout=10.0):
        self.path = path
        self.timeout = timeout
        self.sock = None
        self.buf = b""

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        try:
            s.connect(self.path)
        except OSError:
            s.close()
            return False
        self.sock = s
        self.buf = b""
        return True

    def roundtrip(self, command):
        if self.sock is None and not self.connect():
            raise ControlError(f"cannot connect to {self.path}")
        self.sock.sendall(command.encode() + b"\n")
        lines = []
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                text = line.decode(errors="replace")
                lines.append(text)
                if _is_end(text):
                    return lines
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                # a server that answers one command per connection and closes
                if self.buf:
                    lines.append(self.buf.decode(errors="replace"))
                self.close()
                if lines:
                    return lines
                raise ControlError("control socket closed without an answer")
            self.buf += chunk
        raise ControlError("no end of answer within the timeout")

    def close(self):
        if self.sock:
            self.sock.close()
        self.sock = None


class ExaPipeClient:
    """ExaBGP 5.0 named pipes (what its `exabgp cli` uses)."""

    def __init__(self, directory, name, timeout=10.0):
        self.send_path = os.path.join(directory, name + ".in")
        self.recv_path = os.path.join(directory, name + ".out")
        self.timeout = timeout
        self.r = None
        self.w = None
        self.buf = b""

    def connect(self):
        if self.r is None:
            self.r = os.open(self.recv_path, os.O_RDWR | os.O_NONBLOCK)
        if self.w is None:
            try:
                self.w = os.open(self.send_path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as e:
                if e.errno == errno.ENXIO:  # nobody reads commands yet
                    return False
                raise
        return True

    def roundtrip(self, command):
        if (self.r is None or self.w is None) and not self.connect():
            raise ControlError("ExaBGP is not reading its command pipe yet")
        os.write(self.w, command.encode() + b"\n")
        lines = []
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                text = line.decode(errors="replace")
                lines.append(text)
                if _is_end(text):
                    return lines
            ready, _, _ = select.select([self.r], [], [], 0.5)
            if ready:
                try:
                    self.buf += os.read(self.r, 1 << 16)
                except BlockingIOError:
                    pass
        raise ControlError("no end of answer within the timeout")

    def close(self):
        for fd in (self.r, self.w):
            if fd is not None:
                os.close(fd)
        self.r = self.w = None
        self.buf = b""
