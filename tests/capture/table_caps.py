#!/usr/bin/env python3
"""Every table that stops at a cap says so: a capture (made by
gen_captures --caps, not bundled) of 6200 clients with distinct CMIDs
talking to 1030 hosts that all report a low count, the first 12 clients
sharing one CMID. Expected: notes for the client, CMID and findings caps,
lines for the --summary host and client caps, and the duplicate-CMID
finding naming 8 machines "and 4 more" with all 12 request frames."""
import json
import os
import subprocess
import sys
import tempfile

BIN = os.environ.get("KMSDIAG_BIN", "build/bin")
TESTBIN = os.environ.get("KMSDIAG_TESTBIN", "build/tests")
failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL:", msg)


with tempfile.TemporaryDirectory() as d:
    subprocess.run([os.path.join(TESTBIN, "gen_captures"), "--caps", d],
                   check=True)
    cap = os.path.join(d, "table-cap-stress.pcap")
    p = subprocess.run([os.path.join(BIN, "kms-pcap"), "--json", cap],
                       capture_output=True, timeout=600)
    recs = [json.loads(l) for l in p.stdout.decode().splitlines()]
    notes = [r["message"] for r in recs if r["type"] == "note"]
    for want in ("more than 3072 clients: the rest are not diagnosed",
                 "more than 6144 distinct CMIDs: ",
                 "more than 128 findings: the rest are not reported ("):
        if not any(n.startswith(want) for n in notes):
            fail(f"no note {want!r}: {notes}")
    finds = [r for r in recs if r["type"] == "diagnosis"
             and r["kind"] != "client"]
    if len(finds) != 128:
        fail(f"{len(finds)} findings, expected the cap of 128")
    dup = [r for r in finds if r["kind"] == "duplicate_cmid"]
    if len(dup) != 1:
        fail(f"{len(dup)} duplicate_cmid findings, expected 1")
    else:
        m = dup[0]["message"]
        named = [f"pc-{i:04d}.corp.example (10.40.0.{i})" for i in range(8)]
        if "is used by 12 machines: " not in m or "and 4 more" not in m or \
                any(n not in m for n in named) or "pc-0008" in m:
            fail(f"duplicate_cmid message: {m}")
        if len(dup[0]["evidence"]) != 12:
            fail(f"duplicate_cmid evidence {dup[0]['evidence']}, expected "
                 f"the 12 request frames")
    p = subprocess.run([os.path.join(BIN, "kms-pcap"), "--summary", cap],
                       capture_output=True, timeout=600)
    out = p.stdout.decode()
    for want in ("(more than 1024 hosts: ", "(more than 4096 clients: "):
        if want not in out:
            fail(f"--summary lacks {want!r}")
    p = subprocess.run([os.path.join(BIN, "kms-pcap"), "--summary", "--json",
                        cap], capture_output=True, timeout=600)
    recs = [json.loads(l) for l in p.stdout.decode().splitlines()]
    if not any(r["type"] == "note" and "summary tables full" in r["message"]
               for r in recs):
        fail("--summary --json has no note about the full tables")
    if sum(r["type"] == "host" for r in recs) != 1024:
        fail("--summary --json: not 1024 host objects")
print(f"{failures} failures")
sys.exit(1 if failures else 0)
