#!/usr/bin/env python3
"""Peak memory of kms-pcap is bounded whatever the file: a capture of 2000
port-1688 flows that each hold 56 KB of out-of-order data (a hole at the
start of every stream, never filled) would need over 110 MB if every flow
kept what its own cap allows. The global budget (32 MiB of buffered bytes)
must hold: the buffered-bytes peak kms-pcap reports stays under it, and
the data dropped to keep it is noted once. The peak RSS of the process is
printed for the record, not asserted: memory figures belong to the
benchmark (bench/capture)."""
import os
import re
import resource
import struct
import subprocess
import sys
import tempfile

BIN = os.path.join(os.environ.get("KMSDIAG_BIN", "build/bin"), "kms-pcap")
FLOWS, SEGS, SEGLEN = 2000, 7, 8000
BUDGET = 32 << 20
failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL:", msg)


def ip_tcp(src, dst, sport, dport, seq, flags, payload):
    tot = 40 + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tot, 0, 0x4000, 64, 6, 0,
                     bytes(src), bytes(dst))
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 0x50, flags,
                      65535, 0, 0)
    return ip + tcp + payload


def write_capture(path):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 101))
        t = 1795341600
        payload = bytes([0x41]) * SEGLEN
        for i in range(FLOWS):
            cli = [10, 30, i >> 8, i & 0xff]
            srv = [10, 31, 0, 5]
            sport = 40000 + (i % 20000)
            isn = 1000 + i * 7919
            recs = [ip_tcp(cli, srv, sport, 1688, isn, 0x02, b"")]
            # byte isn+1 is never sent: every segment waits behind the hole
            for k in range(SEGS):
                recs.append(ip_tcp(cli, srv, sport, 1688,
                                   isn + 2 + k * SEGLEN, 0x10, payload))
            for r in recs:
                f.write(struct.pack("<IIII", t, i % 1000000, len(r), len(r)))
                f.write(r)


def sanitized(path):
    with open(path, "rb") as f:
        return b"__asan_init" in f.read()


with tempfile.TemporaryDirectory() as d:
    cap = os.path.join(d, "many-ooo-flows.pcap")
    write_capture(cap)
    size = os.path.getsize(cap)
    env = dict(os.environ)
    asan = sanitized(BIN)
    if asan:  # no quarantine: freed memory counts as freed
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + \
            ":quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
    p = subprocess.run([BIN, "-q", "-v", "--summary", cap], env=env,
                       capture_output=True, timeout=600)
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB
    err = p.stderr.decode("utf-8", "replace")
    out = p.stdout.decode("utf-8", "replace")
    if p.returncode not in (0, 1):
        fail(f"exit {p.returncode}: {err[-500:]}")
    m = re.search(r"peak buffered (\d+) bytes", err)
    if not m:
        fail(f"no 'peak buffered' figure in -v output: {err[-300:]}")
    else:
        peak = int(m.group(1))
        print(f"file {size >> 20} MiB, peak buffered {peak >> 10} KiB, "
              f"peak RSS {rss >> 10} MiB{' (sanitizer build)' if asan else ''}")
        # enforced after each segment: over by at most one flow's cap
        if peak > BUDGET + 65536:
            fail(f"peak buffered {peak} bytes is over the {BUDGET} budget")
    # The process's peak RSS is a measurement (printed above; bench/capture
    # reports it against the 64 MiB goal), not a pass/fail figure: what is
    # asserted is the library's own accounting of the budget.
    if "note(s)" not in out:
        fail("no note about the dropped data")
    p = subprocess.run([BIN, "--json", cap], env=env, capture_output=True,
                       timeout=600)
    notes = [l for l in p.stdout.decode().splitlines()
             if '"type":"note"' in l and "budget" in l]
    if len(notes) != 1:
        fail(f"{len(notes)} budget notes, expected 1")
print(f"{failures} failures")
sys.exit(1 if failures else 0)
