#!/usr/bin/env python3
"""demo_readme.py: the README's main job, end to end.

Runs scripts/demo.sh on the build under test (NSD and the test KMS
responder on loopback), then checks that
  * it exits 0, every part ran (no "-- note:" skip line), and it stopped
    what it started;
  * the two doctor runs end with the verdicts the README describes;
  * every walkthrough block of README.md that starts with "$ kms-..." is a
    copy of what the demo printed for that command, line for line, once
    loopback ports, timings and the build directory's name are masked.
So the walkthrough cannot drift from what the tools print.

Environment: KMSDIAG_BIN (the built tools), KMSDIAG_SRC. Exits 77 when the
lab cannot run here (no NSD, or the loopback addresses are missing)."""
import os
import re
import subprocess
import sys

SRC = os.environ.get("KMSDIAG_SRC",
                     os.path.dirname(os.path.dirname(os.path.dirname(
                         os.path.abspath(__file__)))))
BIN = os.environ.get("KMSDIAG_BIN", os.path.join(SRC, "build", "bin"))
BUILD = os.path.dirname(BIN)

MASKS = [
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),
    (re.compile(r"\bin \d+(\.\d+)? ms\b"), "in N ms"),
    (re.compile(r"\bbuild[\w.-]*/lab\b"), "BUILD/lab"),
]


def mask(line):
    line = line.rstrip()
    for rx, rep in MASKS:
        line = rx.sub(rep, line)
    return line


def readme_blocks(path):
    """The fenced blocks whose first line is a '$ kms-' command."""
    blocks, cur, inside = [], None, False
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("```"):
                if inside:
                    if cur and cur[0].startswith("$ kms-"):
                        blocks.append(cur)
                    cur, inside = None, False
                else:
                    cur, inside = [], True
                continue
            if inside:
                cur.append(line)
    return blocks


def main():
    fails = []
    p = subprocess.run(["bash", os.path.join(SRC, "scripts", "demo.sh"), BUILD],
                       capture_output=True, timeout=300, cwd=SRC)
    out = p.stdout.decode("utf-8")
    err = p.stderr.decode("utf-8", errors="replace")
    if "cannot run on this machine" in out:
        print("SKIP: the demo lab cannot run here:\n" + err + out[-800:])
        return 77
    if p.returncode != 0:
        fails.append(f"demo.sh exit {p.returncode}; stderr: {err[-800:]}")
    for line in out.splitlines():
        if line.startswith("-- note:"):
            fails.append(f"a part of the demo was skipped: {line}")
    if "== demo lab stopped" not in out:
        fails.append("the demo did not say it stopped the lab")
    for want in ("Verdict: healthy, with warnings",
                 "Verdict: 0xC004F074 SL_E_VL_BINDING_SERVICE_UNAVAILABLE",
                 "client 127.0.0.1 (smtp.sony.co.uk): 0xC004F042",
                 "0 errors, 0 warnings (compared with the live server)"):
        if want not in out:
            fails.append(f"the demo output lacks {want!r}")
    # nothing of the lab left running
    env = os.path.join(BUILD, "lab", "env")
    if os.path.exists(env):
        with open(env) as f:
            for line in f:
                m = re.match(r"KMSDIAG_LAB_\w*PID=(\d+)", line)
                if m and os.path.exists(f"/proc/{m.group(1)}"):
                    with open(f"/proc/{m.group(1)}/stat") as s:
                        state = s.read().split(")")[-1].split()[0]
                    if state != "Z":
                        fails.append(f"lab process {m.group(1)} still runs")

    lines = [mask(x) for x in out.splitlines()]
    blocks = readme_blocks(os.path.join(SRC, "README.md"))
    if len(blocks) < 3:
        fails.append(f"README has {len(blocks)} walkthrough blocks, want 3 "
                     "(two doctor runs and kms-pcap)")
    for b in blocks:
        want = [mask(x) for x in b]
        try:
            i = lines.index(want[0])
        except ValueError:
            fails.append(f"README command {b[0]!r} is not in the demo output")
            continue
        got = lines[i:i + len(want)]
        for n, (w, g) in enumerate(zip(want, got + [""] * len(want))):
            if w != g:
                fails.append(f"README block {b[0]!r} line {n + 1} differs "
                             f"from the demo:\n  README: {w}\n  demo:   {g}")
                break
    for f in fails:
        print("FAIL " + f)
    if not fails:
        print(f"ok   demo ran; {len(blocks)} README blocks match its output")
    print(f"{0 if fails else 1} passed, {len(fails)} failed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
