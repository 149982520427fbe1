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


def check(name, frames, want, want_rc):
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
    if p.returncode != want_rc:
        failures += 1
        print(f"FAIL: {name}: exit {p.returncode}, expected {want_rc}")


# SYNs at 0, 3 and 9 s from three ports: the first two were unanswered for
# sure, the last one the capture ends on. A failure seen: 0xC004F074, exit 1.
check("three unanswered attempts",
      [(t, tcp(CLIENT, HOST, sp, 1688, 1000, 0, SYN))
       for t, sp in ((0, 50001), (3, 50002), (9, 50003))],
      ["0xC004F074"], 1)

print(f"synthetic captures checked, {failures} failures")
sys.exit(1 if failures else 0)
