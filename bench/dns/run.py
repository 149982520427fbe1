#!/usr/bin/env python3
"""run.py: DNS discovery throughput, kms-find against dig -f.

    python3 bench/dns/run.py [--build DIR] [--domains N] [--repeat R]

Generates N domains (default 10,000) into one zone for NSD: the even ones
have a _vlmcs._tcp SRV record (and the target's A record), the odd ones
have nothing (NXDOMAIN). NSD is started on a loopback port by the lab
harness (tests/lab/nsd_lab.py). Then, over the same names:

  - kms-find --no-resolve --json -f LIST   (many queries in flight through
    c-ares, one SRV query per domain)
  - dig -f LIST                            (one process, one query after
    another)

and prints lookups per second and peak RSS (wait4 rusage of each child)
side by side, plus kms-find's peak RSS at several list sizes to show that
memory does not grow with the number of domains. Answers are counted to
make sure both did the same work. Use a build without sanitizers
(RelWithDebInfo), e.g. cmake -S . -B build-rel && cmake --build build-rel.
Nothing here is a pass/fail test; it prints figures.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "lab"))
import nsd_lab  # noqa: E402

ZONE = "bench.example"


def write_zone(path, n):
    with open(path, "w") as f:
        f.write(f"$ORIGIN {ZONE}.\n$TTL 3600\n")
        f.write(f"@ IN SOA ns1 hostmaster 1 3600 900 604800 300\n")
        f.write("@ IN NS ns1\nns1 IN A 127.0.0.1\n")
        for i in range(0, n, 2):
            f.write(f"_vlmcs._tcp.d{i:06d} IN SRV 0 0 1688 kms.d{i:06d}\n")
            f.write(f"kms.d{i:06d} IN A 127.0.{(i >> 8) & 255}.{i & 255}\n")


def names(n):
    return [f"d{i:06d}.{ZONE}" for i in range(n)]


TIME = shutil.which("time") or "/usr/bin/time"


def measure(cmd, stdout_path):
    """Run cmd; return (seconds, peak RSS in KiB, exit code). The peak RSS
    comes from /usr/bin/time (GNU time's %M), which forks the measured
    program from its own small process: a child forked straight from this
    Python process would report Python's own RSS as its peak."""
    rss_file = stdout_path + ".rss"
    use_time = os.access(TIME, os.X_OK)
    full = ([TIME, "-f", "%M", "-o", rss_file] if use_time else []) + cmd
    with open(stdout_path, "wb") as out:
        t0 = time.monotonic()
        p = subprocess.run(full, stdout=out, stderr=subprocess.DEVNULL)
        dt = time.monotonic() - t0
    rss = 0
    if use_time:
        with open(rss_file) as f:
            for line in f:
                if line.strip().isdigit():
                    rss = int(line)
    return dt, rss, p.returncode


def count_find(path):
    found = nx = other = 0
    with open(path) as f:
        for line in f:
            o = json.loads(line)
            if o["rcode"] == "NOERROR" and o["records"]:
                found += 1
            elif o["rcode"] == "NXDOMAIN":
                nx += 1
            else:
                other += 1
    return found, nx, other


def count_dig(path):
    found = nx = other = 0
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith(";; ->>HEADER<<-"):
                if "status: NXDOMAIN" in line:
                    nx += 1
                elif "status: NOERROR" in line:
                    found += 1
                else:
                    other += 1
    return found, nx, other


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(SRC, "build"))
    ap.add_argument("--domains", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--parallel", type=int, default=128)
    args = ap.parse_args()
    find = os.path.join(args.build, "bin", "kms-find")
    dig = shutil.which("dig")
    if not os.access(find, os.X_OK):
        sys.exit(f"no kms-find in {args.build}/bin: build first")
    if not dig:
        sys.exit("dig is not installed (bind9-dnsutils)")
    n = args.domains
    with tempfile.TemporaryDirectory(prefix="kmsdiag-bench-") as td:
        zone = os.path.join(td, ZONE + ".zone")
        write_zone(zone, max(n, 50000))
        lists = {}
        for size in sorted({1000, n, 50000}):
            p = os.path.join(td, f"domains-{size}.txt")
            with open(p, "w") as f:
                f.write("\n".join(names(size)) + "\n")
            lists[size] = p
        diglist = os.path.join(td, "dig.txt")
        with open(diglist, "w") as f:
            for d in names(n):
                f.write(f"_vlmcs._tcp.{d} SRV\n")
        with nsd_lab.NsdLab({ZONE: zone}, startup_timeout=60) as lab:
            server = lab.server()
            out = os.path.join(td, "out")
            find_cmd = [find, "--no-resolve", "--json", "--server", server,
                        "--parallel", str(args.parallel), "-f", lists[n]]
            dig_cmd = [dig, "-p", str(lab.port), "@127.0.0.1", "+norec",
                       "+tries=1", "+time=2", "+noall", "+comments",
                       "-f", diglist]
            # warm-up (page cache, NSD)
            measure(find_cmd, out)
            rows = []
            for r in range(args.repeat):
                dt, rss, rc = measure(find_cmd, out)
                c = count_find(out)
                rows.append(("kms-find --no-resolve", dt, rss, c))
                dt, rss, rc = measure(dig_cmd, out)
                c = count_dig(out)
                rows.append(("dig -f", dt, rss, c))
            print(f"{n} domains ({n // 2} with SRV, {n - n // 2} NXDOMAIN), "
                  f"NSD on {server}, {os.cpu_count()} CPUs, "
                  f"kms-find --parallel {args.parallel}")
            print(f"{'tool':24} {'seconds':>8} {'lookups/s':>10} "
                  f"{'peak RSS':>10}  answers (found/NXDOMAIN/other)")
            best = {}
            for name, dt, rss, c in rows:
                print(f"{name:24} {dt:8.3f} {n / dt:10.0f} {rss / 1024:8.1f} MiB"
                      f"  {c[0]}/{c[1]}/{c[2]}")
                if name not in best or dt < best[name][0]:
                    best[name] = (dt, rss)
            f_dt, d_dt = best["kms-find --no-resolve"][0], best["dig -f"][0]
            print(f"best of {args.repeat}: kms-find {n / f_dt:.0f}/s, dig -f "
                  f"{n / d_dt:.0f}/s, ratio {d_dt / f_dt:.1f}x")
            print("\nkms-find peak RSS by list size (memory per domain):")
            for size, path in sorted(lists.items()):
                cmd = [find, "--no-resolve", "--json", "--server", server,
                       "--parallel", str(args.parallel), "-f", path]
                dt, rss, rc = measure(cmd, out)
                c = count_find(out)
                print(f"  {size:6d} domains: {rss / 1024:6.1f} MiB peak, "
                      f"{size / dt:8.0f} lookups/s, answers {c[0]}/{c[1]}/{c[2]}")
            print("\nkms-find lookups/s by --parallel:")
            for par in (1, 16, 64, 128, 512):
                cmd = [find, "--no-resolve", "--json", "--server", server,
                       "--parallel", str(par), "-f", lists[n]]
                dt, rss, rc = measure(cmd, out)
                print(f"  --parallel {par:4d}: {n / dt:8.0f} lookups/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
