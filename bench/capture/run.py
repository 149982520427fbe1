#!/usr/bin/env python3
"""Capture benchmark: kms-pcap --summary against a bare libpcap read loop
and tshark -Y dcerpc on the same large file, in one run.

  bench/capture/run.py [--build DIR] [--size MIB] [--file PATH] [--runs N]
                       [--no-tshark]

Builds nothing: point --build at a Release build (no sanitizers) that has
kms-pcap, bench/gen_bench and bench/pcap_loop. The data file goes to /tmp
(never into the repository) and is reused when it is big enough. The file
is read once beforehand so every program reads it from the page cache.
Prints throughput (MB/s, packets/s), wall time and peak memory (max RSS)
of each; the best of --runs runs (default 5) counts, and the machine's
load average is printed with the figures. No pass/fail."""
import argparse
import os
import re
import time
import subprocess
import sys

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ap = argparse.ArgumentParser()
ap.add_argument("--build", default=os.path.join(SRC, "build-rel"))
ap.add_argument("--size", type=int, default=1100, help="MiB (default 1100)")
ap.add_argument("--file", default="/tmp/kmsdiag-bench.pcap")
ap.add_argument("--runs", type=int, default=5)
ap.add_argument("--no-tshark", action="store_true")
a = ap.parse_args()

gen = os.path.join(a.build, "bench", "gen_bench")
loop = os.path.join(a.build, "bench", "pcap_loop")
kms = os.path.join(a.build, "bin", "kms-pcap")
for p in (gen, loop, kms):
    if not os.access(p, os.X_OK):
        sys.exit(f"{p} missing: build with cmake -DCMAKE_BUILD_TYPE=Release")

if not os.path.exists(a.file) or os.path.getsize(a.file) < a.size << 20:
    g = os.path.join(SRC, "captures", "generated")
    tpl = [os.path.join(g, n + ".pcap") for n in (
        "dns-srv-v6-success", "kms-low-count", "tcp-refused", "dns-nxdomain",
        "kms-refused-c004f042", "rpc-fault", "kms-clock-skew")]
    subprocess.run([gen, a.file, str(a.size)] + tpl, check=True)

size = os.path.getsize(a.file)
out = subprocess.run([loop, a.file], capture_output=True, text=True).stdout
frames = int(out.split()[0])
with open(a.file, "rb") as f:  # warm the page cache
    while f.read(1 << 24):
        pass


def measure(name, cmd):
    """Best wall time (time.perf_counter around the run: /usr/bin/time's
    own figure has 10 ms steps) and the peak RSS (/usr/bin/time %M, which
    forks from a small process: a child forked from this Python would
    count Python's pages in its ru_maxrss)."""
    best = None
    runs = a.runs if "tshark" not in name else 1
    for _ in range(runs):
        t0 = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-f", "RSS %M"] + cmd,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True)
        t = time.perf_counter() - t0
        m = re.search(r"RSS ([0-9]+)", p.stderr)
        if not m:
            print(f"{name}: no figures ({p.stderr[-300:]})")
            return None
        rss = int(m.group(1))  # KiB
        if best is None or t < best[0]:
            best = (t, max(rss, best[1] if best else 0))
    return best


rows = [("bare libpcap loop", [loop, a.file]),
        ("kms-pcap --summary", [kms, "--summary", "-q", a.file]),
        ("kms-pcap --json", [kms, "--json", "-q", a.file])]
if not a.no_tshark:
    rows.append(("tshark -Y dcerpc", ["tshark", "-r", a.file, "-Y", "dcerpc"]))
print(f"file {a.file}: {size / 1e6:.0f} MB, {frames} packets; load "
      f"average {os.getloadavg()[0]:.2f} before, {os.cpu_count()} CPUs")
print(f"{'program':22} {'seconds':>8} {'MB/s':>8} {'packets/s':>11} {'peak MiB':>9}")
res = {}
for name, cmd in rows:
    r = measure(name, cmd)
    if not r:
        continue
    t, rss = r
    res[name] = t
    t = max(t, 0.01)
    print(f"{name:22} {t:8.3f} {size / 1e6 / t:8.0f} {frames / t:11.0f} "
          f"{rss / 1024:9.1f}")
if "bare libpcap loop" in res and "kms-pcap --summary" in res:
    print(f"kms-pcap --summary reaches "
          f"{100 * res['bare libpcap loop'] / res['kms-pcap --summary']:.0f}% "
          f"of the bare loop's throughput")
if "tshark -Y dcerpc" in res and "kms-pcap --summary" in res:
    print(f"kms-pcap --summary is "
          f"{res['tshark -Y dcerpc'] / res['kms-pcap --summary']:.0f} times "
          f"as fast as tshark")
print(f"load average after: {os.getloadavg()[0]:.2f}")
