#!/usr/bin/env python3
"""test_hostile.py: answers no real server sends, from the scripted
responder (responder.py), fed to kms-find. Each must end in a clear error
(exit 1, valid JSON naming the failure), never a crash or a hang."""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from responder import Responder  # noqa: E402

BIN = os.environ.get("KMSDIAG_BIN")
if not BIN:
    print("SKIP: KMSDIAG_BIN not set (run through ctest)")
    sys.exit(77)
FIND = os.path.join(BIN, "kms-find")

# mode -> (status, rule, text the error must contain, exit code)
CASES = {
    "good": ("KMSDIAG_OK", "single-host", None, 0),
    # replies c-ares drops are not silence: counted and named
    "wrong-id": ("KMSDIAG_EPROTO", "mismatched-reply",
                 "1 reply that does not match the query", 1),
    "short": ("KMSDIAG_EPROTO", "mismatched-reply",
              "1 reply that does not match the query", 1),
    "other-question": ("KMSDIAG_EPROTO", "mismatched-reply",
                       "1 reply that does not match the query", 1),
    "wrong-then-good": ("KMSDIAG_OK", "mismatched-reply", None, 0),
    "compression-loop": ("KMSDIAG_EMALFORMED", "malformed-answer",
                         "answer record 1 of 1 at offset 42", 1),
    "pointer-loop-pair": ("KMSDIAG_EMALFORMED", "malformed-answer",
                          "at offset 42", 1),
    "pointer-forward": ("KMSDIAG_EMALFORMED", "malformed-answer",
                        "compression pointer", 1),
    "truncated-answer": ("KMSDIAG_ETRUNC", "malformed-answer",
                         "header announces 2 records there, only 1 present", 1),
    "cut-rdata": ("KMSDIAG_ETRUNC", "malformed-answer", "answer record 1", 1),
    "huge-count": ("KMSDIAG_ETRUNC", "malformed-answer", "an=65535", 1),
    "label-too-long": ("KMSDIAG_EMALFORMED", "malformed-answer",
                       "answer record 1", 1),
    "srv-rdata-short": ("KMSDIAG_OK", "srv-rdata", None, 1),
    "tc-no-tcp": ("KMSDIAG_ECONNREFUSED", "connection-refused", "over TCP", 1),
    "control-bytes": ("KMSDIAG_OK", "single-host", None, 0),
}

failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL: " + msg)


for mode, (status, rule, text, code) in CASES.items():
    with Responder(mode) as r:
        args = [FIND, "--json", "--timeout", "300", "--tries", "1",
                "--no-resolve", "-s", f"127.0.0.1:{r.port}", "example.test"]
        try:
            p = subprocess.run(args, capture_output=True, timeout=60)
        except subprocess.TimeoutExpired:
            fail(f"{mode}: kms-find hung")
            continue
        queried = r.queries
    if p.returncode != code:
        fail(f"{mode}: exit {p.returncode}, want {code}; stderr: "
             f"{p.stderr.decode(errors='replace')[:500]}")
        continue
    if queried < 1:
        fail(f"{mode}: the responder saw no query")
    try:
        lines = p.stdout.decode("utf-8").splitlines()
        o = json.loads(lines[0])
    except Exception as e:  # noqa: BLE001
        fail(f"{mode}: output is not JSON ({e}): {p.stdout[:200]!r}")
        continue
    if len(lines) != 1 or o.get("type") != "srv_lookup":
        fail(f"{mode}: want one srv_lookup object, got {lines!r}")
    if o["status"] != status:
        fail(f"{mode}: status {o['status']}, want {status}")
    rules = [x["rule"] for x in o["problems"]]
    if rule not in rules:
        fail(f"{mode}: rule {rule} not in {rules}")
    if text and (not o["error"] or text not in o["error"]):
        fail(f"{mode}: error {o['error']!r} lacks {text!r}")
    if status != "KMSDIAG_OK" and o["hresult"] != "0x8007232A":
        fail(f"{mode}: hresult {o['hresult']}, want 0x8007232A")
    prs = [x for x in o["problems"] if x["rule"] == rule]
    if rule == "mismatched-reply" and prs:
        pr = prs[0]
        want_sev = "info" if status == "KMSDIAG_OK" else "error"
        if pr["severity"] != want_sev:
            fail(f"{mode}: mismatched-reply severity {pr['severity']}")
        if o.get("mismatched_replies") != 1:
            fail(f"{mode}: mismatched_replies {o.get('mismatched_replies')}, want 1")
        if status != "KMSDIAG_OK":
            srv = f"127.0.0.1:{r.port}"
            if (f"server {srv} sent 1 reply" not in pr["message"] or
                    o["server"] != srv or "timeout" in rules):
                fail(f"{mode}: message/server: {pr['message']!r} {o['server']!r}")
    elif o.get("mismatched_replies"):
        fail(f"{mode}: mismatched_replies {o['mismatched_replies']}, want 0")
    if mode == "control-bytes":
        # the raw escape byte never reaches the output, text or JSON
        if b"\x1b" in p.stdout:
            fail("control-bytes: raw ESC in JSON output")
        with Responder(mode) as r2:
            t = subprocess.run([FIND, "--no-resolve", "--timeout", "300", "-s",
                                f"127.0.0.1:{r2.port}", "example.test"],
                               capture_output=True, timeout=60)
        if b"\x1b" in t.stdout or b"\x07" in t.stdout:
            fail("control-bytes: raw control byte in text output")
        if b"evil" not in t.stdout:
            fail("control-bytes: target not shown at all")
    print(f"ok {mode}: {o['status']} {rules}")

# The additional section carries only one family of the target's
# addresses: the other family is still asked for (a server sending only A
# must not hide AAAA, and the reverse); --no-resolve asks nothing.
for mode, fam_add, fam_query in (("a-only-additional", "ipv4", "ipv6"),
                                 ("aaaa-only-additional", "ipv6", "ipv4")):
    for no_resolve in (False, True):
        with Responder(mode) as r:
            args = [FIND, "--json", "--timeout", "500", "--tries", "1", "-s",
                    f"127.0.0.1:{r.port}", "example.test"]
            if no_resolve:
                args.insert(1, "--no-resolve")
            p = subprocess.run(args, capture_output=True, timeout=60)
            queried = r.queries
        o = json.loads(p.stdout.decode().splitlines()[0])
        rec = o["records"][0] if o["records"] else {}
        fams = sorted(a["family"] for a in rec.get("addresses", []))
        if no_resolve:
            ok = (fams == [fam_add] and rec.get("addresses_from") == "additional"
                  and queried == 1)
        else:
            ok = (fams == ["ipv4", "ipv6"] and
                  rec.get("addresses_from") == "additional+query" and
                  queried == 2 and p.returncode == 0)
        if not ok:
            fail(f"{mode} (no_resolve={no_resolve}): families {fams}, "
                 f"from {rec.get('addresses_from')}, {queried} queries, "
                 f"exit {p.returncode}")
        else:
            print(f"ok {mode} no_resolve={no_resolve}: {fams} ({queried} queries)")

print(f"{len(CASES) - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
