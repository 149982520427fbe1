#!/usr/bin/env python3
"""Hostile input for kms-pcap: every bundled capture truncated at many
points, with a corrupted file header, with absurd record lengths, cut to a
small snapshot length, and randomly mutated. Each run must end by itself
(no hang), exit 0, 1 or 2, never be killed by a signal, never trip the
sanitizers, and say where reading stopped when the file is damaged."""
import os
import random
import struct
import subprocess
import sys
import tempfile

SRC = os.environ.get("KMSDIAG_SRC", os.getcwd())
BIN = os.path.join(os.environ.get("KMSDIAG_BIN", "build/bin"), "kms-pcap")
failures = 0
runs = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL:", msg)


def run(data, what, opts=(), expect_rc=None, expect_err=None):
    global runs
    runs += 1
    with tempfile.NamedTemporaryFile(suffix=".pcap", delete=False) as f:
        f.write(data)
        path = f.name
    try:
        p = subprocess.run([BIN, "--json", "--port", "16888", *opts, path],
                           capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        fail(f"{what}: no exit within 60 s")
        return None
    finally:
        os.unlink(path)
    err = p.stderr.decode("utf-8", "replace")
    if p.returncode not in (0, 1, 2):
        fail(f"{what}: exit status {p.returncode}: {err[-500:]}")
    if "Sanitizer" in err or "runtime error" in err:
        fail(f"{what}: sanitizer report: {err[-800:]}")
    if expect_rc is not None and p.returncode != expect_rc:
        fail(f"{what}: exit {p.returncode}, expected {expect_rc}: {err}")
    if expect_err and expect_err not in err:
        fail(f"{what}: stderr lacks {expect_err!r}: {err}")
    return p


def records(d):
    """(offset, caplen) of each record of a little-endian pcap."""
    off, out = 24, []
    while off + 16 <= len(d):
        cl = struct.unpack("<I", d[off + 8:off + 12])[0]
        out.append((off, cl))
        off += 16 + cl
    return out


caps = []
for sub in ("interop", "generated"):
    d = os.path.join(SRC, "captures", sub)
    caps += [os.path.join(d, f) for f in sorted(os.listdir(d))
             if f.endswith(".pcap")]

rng = random.Random(1688)
for path in caps:
    name = os.path.basename(path)
    data = open(path, "rb").read()
    recs = records(data)
    # truncation: inside the file header, then inside records
    for cut in sorted(set([0, 10, 23] + list(range(24, len(data), 151)))):
        p = run(data[:cut], f"{name} cut at {cut}")
        if p is None:
            continue
        if cut < 24 and p.returncode != 2:
            fail(f"{name} cut at {cut}: unreadable header must exit 2")
        mid = any(o < cut < o + 16 + cl for o, cl in recs)
        if mid and b"stopped after frame" not in p.stdout and \
                b"stopped after frame" not in p.stderr:
            fail(f"{name} cut at {cut}: no note where reading stopped")
    # bad magic
    run(b"\x00\x01\x02\x03" + data[4:], f"{name} bad magic", expect_rc=2,
        expect_err="cannot read")
    # absurd lengths in the first and the last record
    for o, cl in (recs[:1] + recs[-1:]):
        bad = bytearray(data)
        bad[o + 8:o + 12] = struct.pack("<I", 0xFFFFFFF0)
        p = run(bytes(bad), f"{name} absurd caplen at {o}")
        if p is not None and b"stopped after frame" not in p.stderr:
            fail(f"{name} absurd caplen: no note where reading stopped")
        bad = bytearray(data)
        bad[o + 12:o + 16] = struct.pack("<I", 0x7FFFFFFF)  # orig len
        run(bytes(bad), f"{name} absurd orig len at {o}")
    # snapshot length 60 / 100: every packet cut
    for snap in (60, 100):
        out = bytearray(data[:24])
        out[16:20] = struct.pack("<I", snap)
        for o, cl in recs:
            hdr = bytearray(data[o:o + 16])
            n = min(cl, snap)
            hdr[8:12] = struct.pack("<I", n)
            out += hdr + data[o + 16:o + 16 + n]
        run(bytes(out), f"{name} snaplen {snap}")
    # random mutations of the whole file
    for i in range(12):
        m = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            pos = rng.randrange(len(m))
            m[pos] = rng.randrange(256)
        run(bytes(m), f"{name} mutation {i}")

# nothing at all / not a file
run(b"", "empty file", expect_rc=2)
p = subprocess.run([BIN, "/nonexistent/x.pcap"], capture_output=True)
if p.returncode != 2:
    fail(f"missing file: exit {p.returncode}")
print(f"{runs} runs over {len(caps)} captures, {failures} failures")
sys.exit(1 if failures or runs == 0 else 0)
