"""BGP message builders and a blocking message reader for a raw peer over a real TCP
socket (scripts/soak's churning peer): the same messages as tests/support/raw.rs,
written again in Python so the benchmark needs no Rust test harness.

Also the malformed messages the peer sends, each with the NOTIFICATION (code,
subcode) RFC 4271 / RFC 7606 prescribe as the answer (the cases of
tests/malformed_input.rs).
"""

import select
import socket
import struct
import time

RAW_AS = 65002
MARKER = b"\xff" * 16
OPEN, UPDATE, NOTIFICATION, KEEPALIVE = 1, 2, 3, 4

ORIGIN_IGP = bytes([0x40, 1, 1, 0])
# AS_PATH: one AS_SEQUENCE of [65002], 4-octet ASNs
AS_PATH = bytes([0x40, 2, 6, 2, 1]) + struct.pack("!I", RAW_AS)


def message(msg_type, body=b""):
    return MARKER + struct.pack("!HB", 19 + len(body), msg_type) + body


def open_msg(asn=RAW_AS, hold=30, router_id=(192, 0, 2, 77)):
    # capabilities: multiprotocol ipv4 unicast, 4-octet AS
    caps = bytes([1, 4, 0, 1, 0, 1, 65, 4]) + struct.pack("!I", asn)
    params = bytes([2, len(caps)]) + caps
    body = bytes([4]) + struct.pack("!HH", asn, hold) + bytes(router_id) + bytes([len(params)]) + params
    return message(OPEN, body)


def next_hop(addr):
    return bytes([0x40, 3, 4]) + socket.inet_aton(addr)


def nlri(prefixes):
    """[(dotted address, length)] -> NLRI bytes."""
    out = bytearray()
    for addr, length in prefixes:
        out.append(length)
        out += socket.inet_aton(addr)[: (length + 7) // 8]
    return bytes(out)


def update(withdrawn=b"", attrs=b"", announced=b""):
    body = struct.pack("!H", len(withdrawn)) + withdrawn + struct.pack("!H", len(attrs)) + attrs + announced
    return message(UPDATE, body)


def valid_attrs(nh):
    return ORIGIN_IGP + AS_PATH + next_hop(nh)


def malformed_cases(nh):
    """[(name, bytes, (code, subcode) expected in the answer)]."""
    bad_marker = bytearray(message(KEEPALIVE))
    bad_marker[3] = 0
    bad_length = bytearray(message(KEEPALIVE))
    bad_length[17] = 18
    attrs = valid_attrs(nh)
    overrun = bytearray(struct.pack("!H", 0) + struct.pack("!H", len(attrs) + 10) + attrs + nlri([("10.79.0.0", 24)]))
    return [
        ("bad marker", bytes(bad_marker), (1, 1)),
        ("bad length", bytes(bad_length), (1, 2)),
        ("unknown message type", message(9), (1, 3)),
        ("truncated NLRI", update(attrs=attrs, announced=bytes([24, 10])), (3, 10)),
        ("attribute length overrun", message(UPDATE, bytes(overrun)), (3, 1)),
    ]


class Reader:
    """Splits a socket's bytes into whole BGP messages, without blocking longer than
    asked."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.bytes_in = 0
        self.queued = []  # messages read but not handed out yet (see until())

    def poll(self, timeout):
        """Messages [(type, body)] readable within `timeout` s; raises EOFError when the
        peer closed."""
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if ready:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise EOFError("connection closed by the daemon")
            self.bytes_in += len(chunk)
            self.buf += chunk
        out, self.queued = self.queued, []
        while len(self.buf) >= 19:
            length = struct.unpack("!H", self.buf[16:18])[0]
            if length < 19:
                raise ValueError(f"bad length {length} from the daemon")
            if len(self.buf) < length:
                break
            out.append((self.buf[18], self.buf[19:length]))
            self.buf = self.buf[length:]
        return out

    def until(self, want, timeout):
        """Reads until a message of type `want` (or a NOTIFICATION); returns it, or None
        at the timeout. Other messages are skipped."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msgs = self.poll(0.0 if self.queued else min(0.5, max(0.0, deadline - time.monotonic())))
            for i, (t, body) in enumerate(msgs):
                if t == want or t == NOTIFICATION:
                    # what came after it in the same read is for the next call
                    self.queued = msgs[i + 1:] + self.queued
                    return t, body
        return None
