#!/usr/bin/env python3
"""Small captures written here, frame by frame, for verdicts no bundled
capture shows: repeated unanswered connection attempts, and what a port
learned from DNS SRV answers may (not) make a KMS flow. Each case: the
frames, the expected client verdicts ("ok", "undetermined" or a code) and
the exit status of kms-pcap."""
import json
import os
import struct
import subprocess
import sys
import tempfile

SRC = os.environ.get("KMSDIAG_SRC", os.getcwd())
BIN = os.path.join(os.environ.get("KMSDIAG_BIN", "build/bin"), "kms-pcap")
failures = 0

SYN, ACK, PSH, FIN, RST = 0x02, 0x10, 0x08, 0x01, 0x04
CLIENT, HOST, DNS = [10, 20, 1, 40], [10, 20, 0, 5], [10, 20, 0, 53]


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return (~s) & 0xFFFF


def ip4(src, dst, proto, l4):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0, 64, proto,
                     0, bytes(src), bytes(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    ph = bytes(src) + bytes(dst) + struct.pack("!BBH", 0, proto, len(l4))
    o = 16 if proto == 6 else 6
    l4 = l4[:o] + struct.pack("!H", csum(ph + l4)) + l4[o + 2:]
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + l4


def tcp(src, dst, sp, dp, seq, ack, flags, data=b""):
    h = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, 5 << 4, flags, 65535, 0,
                    0)
    return ip4(src, dst, 6, h + data)


def udp(src, dst, sp, dp, data):
    return ip4(src, dst, 17,
               struct.pack("!HHHH", sp, dp, 8 + len(data), 0) + data)


def pcap(frames):
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    for t, f in frames:
        out += struct.pack("<IIII", 1700000000 + int(t),
                           int((t % 1) * 1e6), len(f), len(f)) + f
    return out


def check(name, frames, want, want_rc, absent=None):
    global failures
    with tempfile.NamedTemporaryFile(suffix=".pcap", delete=False) as f:
        f.write(pcap(frames))
        path = f.name
    try:
        p = subprocess.run([BIN, "--json", path], capture_output=True,
                           timeout=60)
    finally:
        os.unlink(path)
    diags = [json.loads(l) for l in p.stdout.decode().splitlines()
             if '"type":"diagnosis"' in l]
    got = sorted("ok" if d.get("ok") else
                 "undetermined" if d.get("undetermined") else d.get("hresult")
                 for d in diags if d.get("kind") == "client")
    if got != sorted(want):
        failures += 1
        print(f"FAIL: {name}: verdicts {got}, expected {sorted(want)}")
    if absent and absent in p.stdout.decode():
        failures += 1
        print(f"FAIL: {name}: output has {absent!r}")
    if p.returncode != want_rc:
        failures += 1
        print(f"FAIL: {name}: exit {p.returncode}, expected {want_rc}")


# SYNs at 0, 3 and 9 s from three ports: the first two were unanswered for
# sure, the last one the capture ends on. A failure seen: 0xC004F074, exit 1.
check("three unanswered attempts",
      [(t, tcp(CLIENT, HOST, sp, 1688, 1000, 0, SYN))
       for t, sp in ((0, 50001), (3, 50002), (9, 50003))],
      ["0xC004F074"], 1)



def qname(n):
    return b"".join(bytes([len(x)]) + x.encode() for x in n.split(".")) + \
        b"\0"


def dns_query(qid, name, qtype):
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname(name) + \
        struct.pack("!HH", qtype, 1)


def dns_srv_answer(qid, name, port, target, addr):
    q = qname(name) + struct.pack("!HH", 33, 1)
    srv = struct.pack("!HHH", 0, 100, port) + qname(target)
    an = qname(name) + struct.pack("!HHIH", 33, 1, 300, len(srv)) + srv
    ar = qname(target) + struct.pack("!HHIH", 1, 1, 300, 4) + bytes(addr)
    return struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 1) + q + an + ar


def tcp_session(t, sport, dst, dport, up, down):
    """handshake, one message each way, then both FIN"""
    c, h = 1000, 5000
    fr = [(t, tcp(CLIENT, dst, sport, dport, c, 0, SYN)),
          (t + .01, tcp(dst, CLIENT, dport, sport, h, c + 1, SYN | ACK)),
          (t + .02, tcp(CLIENT, dst, sport, dport, c + 1, h + 1, ACK)),
          (t + .03, tcp(CLIENT, dst, sport, dport, c + 1, h + 1, PSH | ACK,
                        up)),
          (t + .04, tcp(dst, CLIENT, dport, sport, h + 1, c + 1 + len(up),
                        PSH | ACK, down))]
    c += 1 + len(up)
    h += 1 + len(down)
    fr += [(t + .05, tcp(CLIENT, dst, sport, dport, c, h, FIN | ACK)),
           (t + .06, tcp(dst, CLIENT, dport, sport, h, c + 1, FIN | ACK)),
           (t + .07, tcp(CLIENT, dst, sport, dport, c + 1, h + 1, ACK))]
    return fr


VL = "_vlmcs._tcp.corp.example"
ok_srv = [(0, udp(CLIENT, DNS, 40000, 53, dns_query(7, VL, 33)))]

# an SRV answer naming ns.corp.example:53: DNS over TCP to it stays DNS
a_query = dns_query(9, "ns.corp.example", 1)
a_answer = struct.pack("!HHHHHH", 9, 0x8180, 1, 1, 0, 0) + \
    qname("ns.corp.example") + struct.pack("!HH", 1, 1) + \
    qname("ns.corp.example") + struct.pack("!HHIH", 1, 1, 300, 4) + bytes(DNS)
check("SRV naming port 53",
      ok_srv + [(0.1, udp(DNS, CLIENT, 53, 40000,
                          dns_srv_answer(7, VL, 53, "ns.corp.example", DNS)))]
      + tcp_session(1, 40001, DNS, 53,
                    struct.pack("!H", len(a_query)) + a_query,
                    struct.pack("!H", len(a_answer)) + a_answer),
      ["ok"], 0, absent='"type":"connect"')

# an SRV answer no query asked for teaches no port
check("unsolicited SRV answer",
      [(0.1, udp(DNS, CLIENT, 53, 40000,
                 dns_srv_answer(7, VL, 2000, "kms.corp.example", HOST)))]
      + tcp_session(1, 40002, HOST, 2000, b"hello there" * 4,
                    b"general kenobi" * 4),
      ["ok"], 0, absent='"type":"connect"')

# an answer to the query, but from a server the query did not go to
check("SRV answer from another server",
      ok_srv + [(0.1, udp([10, 20, 0, 54], CLIENT, 53, 40000,
                          dns_srv_answer(7, VL, 2000, "kms.corp.example",
                                         HOST)))]
      + tcp_session(1, 40002, HOST, 2000, b"hello there" * 4,
                    b"general kenobi" * 4),
      ["undetermined"], 0, absent='"type":"connect"')

# TLS on a port learned from a matched SRV answer: not KMS
check("TLS on a learned port",
      ok_srv + [(0.1, udp(DNS, CLIENT, 53, 40000,
                          dns_srv_answer(7, VL, 443, "kms.corp.example",
                                         HOST)))]
      + tcp_session(1, 40003, HOST, 443, b"\x16\x03\x01\x00\x30" + bytes(48),
                    b"\x16\x03\x03\x00\x30" + bytes(48)),
      ["ok"], 0, absent='"type":"exchange"')

print(f"synthetic captures checked, {failures} failures")
sys.exit(1 if failures else 0)
