#!/usr/bin/env python3
"""Every bundled capture decoded by kms-pcap: the diagnosis it must give
(tests/capture/captures.tsv), the exit status that goes with it, and the
golden text and JSON outputs (tests/capture/golden/). With --update the
golden files are rewritten from the current output (review the diff)."""
import json
import os
import subprocess
import sys

SRC = os.environ.get("KMSDIAG_SRC", os.getcwd())
BIN = os.path.join(os.environ.get("KMSDIAG_BIN", "build/bin"), "kms-pcap")
GOLDEN = os.path.join(SRC, "tests/capture/golden")
update = "--update" in sys.argv
failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL:", msg)


def run(args):
    p = subprocess.run([BIN] + args, cwd=SRC, capture_output=True)
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8")


rows = []
with open(os.path.join(SRC, "tests/capture/captures.tsv")) as f:
    for line in f:
        if line.startswith("#") or not line.strip():
            continue
        path, opts, codes, finds = line.rstrip("\n").split("\t")
        rows.append((path, [] if opts == "-" else opts.split(),
                     codes.split(","), [] if finds == "-" else finds.split(",")))

checked = 0
for path, opts, codes, finds in rows:
    name = os.path.basename(path)[:-5]
    rc, out, err = run(["--json"] + opts + [path])
    recs = []
    for i, l in enumerate(out.splitlines()):
        try:
            r = json.loads(l)
        except ValueError as e:
            fail(f"{name}: line {i + 1} is not JSON: {e}")
            continue
        if "type" not in r:
            fail(f"{name}: line {i + 1} has no type")
        recs.append(r)
    diags = [r for r in recs if r.get("type") == "diagnosis"]
    got_codes = ["undetermined" if d["undetermined"] else d["hresult"]
                 for d in diags if d["kind"] == "client"]
    got_finds = [d["kind"] for d in diags if d["kind"] != "client"]
    if got_codes != codes:
        fail(f"{name}: client codes {got_codes}, expected {codes}")
    if got_finds != finds:
        fail(f"{name}: findings {got_finds}, expected {finds}")
    # an undetermined client is not a failure: it does not make the exit
    # status 1 by itself
    bad = any(c not in ("0x00000000", "undetermined") for c in codes) or finds
    if rc != (1 if bad else 0):
        fail(f"{name}: exit status {rc}, expected {1 if bad else 0}: {err}")
    for d in diags:
        if not d["ok"] and not d["evidence"]:
            fail(f"{name}: a failing diagnosis without evidence: {d}")
        if d["undetermined"] and (d["ok"] or d["hresult"] != "0x00000000"):
            fail(f"{name}: an undetermined diagnosis claims a code: {d}")
    rc2, text, err2 = run(opts + [path])
    if rc2 != rc:
        fail(f"{name}: text mode exit {rc2} differs from JSON mode {rc}")
    for ext, content in (("txt", text), ("jsonl", out)):
        g = os.path.join(GOLDEN, f"{name}.{ext}")
        if update:
            with open(g, "w") as f:
                f.write(content)
        elif not os.path.exists(g):
            fail(f"{name}: no golden file {g}")
        elif open(g).read() != content:
            fail(f"{name}: output differs from {g} (run "
                 f"tests/capture/captures_check.py --update and review)")
    checked += 1

# every pcap under captures/ is in the table
for sub in ("interop", "generated"):
    d = os.path.join(SRC, "captures", sub)
    for fn in sorted(os.listdir(d)):
        if fn.endswith(".pcap") and f"captures/{sub}/{fn}" not in [r[0] for r in rows]:
            fail(f"captures/{sub}/{fn} has no row in captures.tsv")

print(f"{checked} captures checked, {failures} failures")
sys.exit(1 if failures or checked == 0 else 0)
