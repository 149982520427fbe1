#!/usr/bin/env python3
"""Bundled captures cut to a snapshot length (as `editcap -s N` does): a
cut must never invent a code, and what the capture still shows whole (a
refusal the host sent, a reset, a long silence) must still decide. Each
row: capture, snapshot length, expected code or "undetermined", exit."""
import json
import os
import struct
import subprocess
import sys
import tempfile

SRC = os.environ.get("KMSDIAG_SRC", os.getcwd())
BIN = os.path.join(os.environ.get("KMSDIAG_BIN", "build/bin"), "kms-pcap")

ROWS = [
    # the host's whole answer carries the code; the request was cut
    ("kms-refused-c004f042", 100, "0xC004F042", 1),
    ("kms-clock-skew", 100, "0xC004F06C", 1),
    # the request was cut; the host's reset or close, or 30 s of silence
    # and then the client's reset, is captured whole and decides
    ("tcp-reset-mid-exchange", 300, "0xC004F074", 1),
    ("kms-no-response", 300, "0xC004F074", 1),
    ("tcp-host-fin-mid-exchange", 300, "0xC004F074", 1),
    # the cut hides what decides: no code
    ("kms-snaplen-cut", 0, "undetermined", 0),
]

failures = 0


def cut(data, snap):
    if snap == 0:
        return data
    out = bytearray(data[:24])
    out[16:20] = struct.pack("<I", snap)
    off = 24
    while off + 16 <= len(data):
        hdr = bytearray(data[off:off + 16])
        cl = struct.unpack("<I", hdr[8:12])[0]
        n = min(cl, snap)
        hdr[8:12] = struct.pack("<I", n)
        out += hdr + data[off + 16:off + 16 + n]
        off += 16 + cl
    return bytes(out)


for name, snap, want, want_rc in ROWS:
    with open(os.path.join(SRC, "captures/generated", name + ".pcap"),
              "rb") as f:
        data = cut(f.read(), snap)
    with tempfile.NamedTemporaryFile(suffix=".pcap", delete=False) as f:
        f.write(data)
        path = f.name
    try:
        p = subprocess.run([BIN, "--json", path], capture_output=True,
                           timeout=60)
    finally:
        os.unlink(path)
    what = f"{name} -s {snap}"
    diags = [json.loads(l) for l in p.stdout.decode().splitlines()
             if l.startswith("{") and '"type":"diagnosis"' in l]
    got = [("undetermined" if d.get("undetermined") else d.get("hresult"))
           for d in diags if d.get("kind") == "client"]
    if got != [want]:
        failures += 1
        print(f"FAIL: {what}: diagnoses {got}, expected [{want!r}]")
    if p.returncode != want_rc:
        failures += 1
        print(f"FAIL: {what}: exit {p.returncode}, expected {want_rc}")
print(f"{len(ROWS)} cut captures, {failures} failures")
sys.exit(1 if failures else 0)
