"""Bench config generators: BIRD 2, ExaBGP 5.0 and exabgp-rs (TOML) configurations
for the scenarios, from one description of the topology.

Addresses: BIRD (the receiving peer) is 127.77.0.1, or 127.77.2.i for the i-th of many
neighbors; the daemon under test is 127.77.1.1 / 127.77.1.i. BIRD listens (passive)
on a port picked at run time; the daemon connects to it.
"""

import os

BIRD_AS = 65000
DAEMON_AS = 65001
NEXT_HOP = "192.0.2.1"


def prefix(i):
    """The i-th benchmark prefix: a /32 in 10.0.0.0/8."""
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}/32"


def pairs(count):
    """(bird address, daemon address) for `count` neighbors."""
    if count == 1:
        return [("127.77.0.1", "127.77.1.1")]
    if count > 250:
        raise ValueError("at most 250 neighbors")
    return [(f"127.77.2.{i}", f"127.77.1.{i}") for i in range(1, count + 1)]


def bird_config(port, neighbors, static_routes_file=None, static_disabled=False, flow=False):
    """BIRD side. `static_routes_file`: a file of `route P blackhole;` lines to export;
    `static_disabled`: that protocol starts disabled (`enable ST` on the control socket
    loads and exports the routes); `flow`: the sessions carry ipv4 flow (a flow4
    table) instead of ipv4 unicast."""
    out = [
        "router id 127.77.0.1;",
        "protocol device { scan time 600; }",
    ]
    if flow:
        out.append("flow4 table flowtab4;")
    export = "none"
    if static_routes_file:
        # BIRD's lexer only takes `include` at the start of a line
        out.append("protocol static ST {")
        out.append("  ipv4;")
        if static_disabled:
            out.append("  disabled;")
        out.append(f'include "{static_routes_file}";')
        out.append("}")
        export = "all"
    out.append("template bgp DAEMON {")
    out.append("  passive on;")
    # Listen on each protocol's local address only: BIRD's default, 0.0.0.0:PORT,
    # collides with any socket holding that port number on any address.
    out.append("  strict bind on;")
    out.append("  multihop;")  # next hops off-link (192.0.2.1) are then accepted
    if flow:
        out.append("  flow4 { table flowtab4; import all; export none; };")
    else:
        out.append(f"  ipv4 {{ import all; export {export}; next hop self; }};")
    out.append("}")
    for i, (bird_addr, daemon_addr) in enumerate(neighbors, 1):
        out.append(
            f"protocol bgp d{i} from DAEMON {{ local {bird_addr} port {port} as {BIRD_AS}; "
            f"neighbor {daemon_addr} as {DAEMON_AS}; }}"
        )
    return "\n".join(out) + "\n"


def bird_static_file(path, n):
    """Write `n` static routes for BIRD to export (cached: reused if already there)."""
    if os.path.exists(path):
        return path
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        chunk = []
        for i in range(n):
            chunk.append(f"route {prefix(i)} blackhole;\n")
            if len(chunk) >= 10000:
                f.write("".join(chunk))
                chunk = []
        f.write("".join(chunk))
    os.replace(tmp, path)
    return path


def exabgp_config(port, neighbors, routes, process=None, adj_rib_in=None, family="ipv4 unicast"):
    """ExaBGP 5.0 configuration. `process`: (name, argv, receive_updates);
    `adj_rib_in`: set ExaBGP's `adj-rib-in` (keep what was received; its default is
    false) when not None."""
    out = []
    if process:
        name, argv, _ = process
        out.append(f"process {name} {{")
        out.append(f"  run {' '.join(argv)};")
        out.append("  encoder json;")
        out.append("}")
    static = "".join(f"    route {prefix(i)} next-hop {NEXT_HOP};\n" for i in range(routes))
    for bird_addr, daemon_addr in neighbors:
        out.append(f"neighbor {bird_addr} {{")
        out.append(f"  router-id {daemon_addr};")
        out.append(f"  local-address {daemon_addr};")
        out.append(f"  local-as {DAEMON_AS};")
        out.append(f"  peer-as {BIRD_AS};")
        out.append(f"  connect {port};")
        out.append(f"  family {{ {family}; }}")
        if adj_rib_in is not None:
            out.append(f"  adj-rib-in {'true' if adj_rib_in else 'false'};")
        if process:
            # ExaBGP only takes commands from helpers bound to the neighbor
            receive = " receive { parsed; update; }" if process[2] else ""
            out.append(f"  api {{ processes [ {process[0]} ];{receive} }}")
        if routes:
            out.append("  static {")
            out.append(static.rstrip("\n"))
            out.append("  }")
        out.append("}")
    return "\n".join(out) + "\n"


def toml_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def rs_config(port, neighbors, routes, process=None, family="ipv4 unicast"):
    """exabgp-rs TOML configuration (docs: /work/shared/DESIGN.md, Config shape)."""
    out = [
        "[global]",
        f'router-id = "{neighbors[0][1]}"',
        f"local-as = {DAEMON_AS}",
        "",
    ]
    for bird_addr, daemon_addr in neighbors:
        out += [
            "[[neighbor]]",
            f'address = "{bird_addr}"',
            f"peer-as = {BIRD_AS}",
            f'local-address = "{daemon_addr}"',
            f"port = {port}",
            f'families = ["{family}"]',
            "",
        ]
    if process:
        name, argv, receive_updates = process
        out += [
            "[[process]]",
            f"name = {toml_str(name)}",
            "run = [" + ", ".join(toml_str(a) for a in argv) + "]",
            'encoder = "json"',
            'receive = ["update"]' if receive_updates else "receive = []",
            "",
        ]
    text = "\n".join(out) + "\n"
    routes_text = "".join(
        f'[[route]]\nprefix = "{prefix(i)}"\nnext-hop = "{NEXT_HOP}"\n' for i in range(routes)
    )
    return text + routes_text
