#!/usr/bin/env python3
"""bench_probe.py: kms-probe over many loopback targets.

Starts the test KMS responder (tests/responder) listening on N addresses
across 127.0.0.0/8 (one free port each), holding every bind answer DELAY ms
as a distant host would, then times `kms-probe --stage rpc` over all of
them with --concurrency C, and the same targets one at a time. Prints wall
time and peak memory (max RSS of the kms-probe process); asserts nothing.

    bench_probe.py [--bin DIR] [--testbin DIR] [--targets 1000]
                   [--delay 50] [--concurrency 200] [--no-sequential]

DIR defaults come from $KMSDIAG_BIN / $KMSDIAG_TESTBIN, else build/bin and
build/tests. Use a build without sanitizers for meaningful figures."""
import argparse
import ipaddress
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time


def start_responder(testbin, n, delay):
    d = tempfile.mkdtemp(prefix="kd-bench-")
    ready = os.path.join(d, "ready")
    first = ipaddress.IPv4Address("127.0.1.1")
    last = first + (n - 1)
    spec = f"{first}-{last}:0=normal,delay={delay}"
    proc = subprocess.Popen([os.path.join(testbin, "kms-test-responder"),
                             "--quiet", "--ready-file", ready, spec],
                            stdout=subprocess.DEVNULL)
    t0 = time.time()
    while not os.path.exists(ready):
        if proc.poll() is not None or time.time() - t0 > 30:
            raise SystemExit("responder did not start")
        time.sleep(0.05)
    with open(ready) as f:
        targets = [f"{a}:{p}" for a, p, _ in (l.split() for l in f)]
    return proc, d, ready, targets


def timed(cmd):
    """Run cmd; return (wall seconds, max RSS in KiB, exit status, stdout)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = b""
    while True:
        chunk = p.stdout.read(65536)
        if not chunk:
            break
        out += chunk
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return wall, ru.ru_maxrss, p.returncode, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.environ.get("KMSDIAG_BIN", "build/bin"))
    ap.add_argument("--testbin",
                    default=os.environ.get("KMSDIAG_TESTBIN", "build/tests"))
    ap.add_argument("--targets", type=int, default=1000)
    ap.add_argument("--delay", type=int, default=50)
    ap.add_argument("--concurrency", type=int, default=200)
    ap.add_argument("--no-sequential", action="store_true")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    probe = os.path.join(a.bin, "kms-probe")
    proc, d, ready, targets = start_responder(a.testbin, a.targets, a.delay)
    try:
        print(f"targets: {len(targets)} on 127.0.1.1..{targets[-1].split(':')[0]}"
              f", bind answer held {a.delay} ms, stage rpc")
        rows = []
        runs = [(a.concurrency, targets)]
        # Memory against the number of targets at a fixed concurrency.
        runs.append((a.concurrency, targets[: max(1, len(targets) // 4)]))
        runs.append((a.concurrency // 4 or 1, targets))
        if not a.no_sequential:
            runs.append((1, targets))
        for conc, tg in runs:
            wall, rss, rc, out = timed([probe, "--json", "-c", str(conc),
                                        "-t", "5000"] + tg)
            ok = out.count(b'"type":"probe"') and out.count(b'"ok":true')
            rows.append((conc, len(tg), wall, rss, ok, rc))
            print(f"  concurrency {conc:4d}  targets {len(tg):5d}  "
                  f"wall {wall:7.3f} s  ({len(tg) / wall:8.1f} targets/s)  "
                  f"peak RSS {rss / 1024:6.1f} MiB  passed {ok}/{len(tg)}  "
                  f"exit {rc}", flush=True)
        if len(rows) >= 4:
            print(f"speed-up of concurrency {rows[0][0]} over one at a time: "
                  f"{rows[3][2] / rows[0][2]:.1f}x")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait()
        os.unlink(ready)
        os.rmdir(d)


if __name__ == "__main__":
    sys.exit(main())
