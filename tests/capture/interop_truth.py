#!/usr/bin/env python3
"""kms-pcap --json on the interop captures (recorded between vlmcs and
vlmcsd, not produced by us) gives the ground truth of
captures/interop/README.md field by field."""
import json
import os
import subprocess
import sys

SRC = os.environ.get("KMSDIAG_SRC", os.getcwd())
BIN = os.path.join(os.environ.get("KMSDIAG_BIN", "build/bin"), "kms-pcap")
failures = 0
checks = 0


def eq(what, got, want):
    global failures, checks
    checks += 1
    if got != want:
        failures += 1
        print(f"FAIL: {what}: got {got!r}, want {want!r}")


def events(case, *opts):
    p = subprocess.run([BIN, "--json", *opts, f"captures/interop/{case}.pcap"],
                       cwd=SRC, capture_output=True, check=False)
    return [json.loads(l) for l in p.stdout.decode().splitlines()]


def exchanges(case, *opts):
    return [e for e in events(case, *opts) if e["type"] == "exchange"]


WIN10 = {"app_id": "55c92734-d682-4d71-983e-d6ec3f16059f",
         "sku_id": "73111121-5638-40f6-bc11-f1d7b0d64300",
         "kms_id": "58e2134f-8e11-4d17-9cb2-91069c151148", "n_policy": 25}

SIZES = {"v4-win10-enterprise": (252, 158),
         "v5-win10-enterprise": (260, 212),
         "v6-win10-enterprise": (260, 260)}

cases = {
    "v4-win10-enterprise": ("4.0", "88fc59d9-5fd9-4f34-83df-cb1c9c63b6d8",
                            "ftp.samsung.info",
                            "06401-00206-558-040878-03-1051-9600.0000-1912021",
                            None),
    "v5-win10-enterprise": ("5.0", "528f092e-d906-4c8e-a9d7-a9a4808c0825",
                            "hack-me.ubuntu.cn",
                            "06401-00206-555-524955-03-1069-9600.0000-0182022",
                            None),
    "v6-win10-enterprise": ("6.0", "90db7c23-a4ee-4def-a2da-6790533a3bea",
                            "ns1.apple.kr",
                            "03612-00206-562-856904-03-12289-17763.0000-0902026",
                            "3A1C049600B60076"),
}
for case, (ver, cmid, ws, epid, hwid) in cases.items():
    xs = exchanges(case)
    eq(f"{case}: exchanges", len(xs), 1)
    if not xs:
        continue
    x = xs[0]
    rq, rs = x["request"], x["response"]
    eq(f"{case}: server", x["server"], "127.0.0.1:16888")
    eq(f"{case}: version", rq["version"], ver)
    for k, v in WIN10.items():
        eq(f"{case}: {k}", rq[k], v)
    eq(f"{case}: cmid", rq["cmid"], cmid)
    eq(f"{case}: workstation", rq["workstation"], ws)
    eq(f"{case}: epid", rs["epid"], epid)
    eq(f"{case}: count", rs["count"], 50)
    eq(f"{case}: activation_interval", rs["activation_interval"], 120)
    eq(f"{case}: renewal_interval", rs["renewal_interval"], 10080)
    eq(f"{case}: hwid", rs["hwid"], hwid)
    eq(f"{case}: hresult", x["hresult"], "0x00000000")
    eq(f"{case}: verified", x["verified"], True)
    eq(f"{case}: request/response frames",
       (x["request_frame"], x["response_frame"]), (10, 11))
    # KMS message sizes (captures/interop/README.md)
    eq(f"{case}: request/response sizes",
       (x["request_size"], x["response_size"]), SIZES[case])
v6 = exchanges("v6-win10-enterprise")
if v6:
    eq("v6: request time", v6[0]["request"]["request_time"],
       "2026-11-22T02:50:25Z")
v5 = exchanges("v5-win10-enterprise")
if v5:
    eq("v5: request IV", v5[0]["request"]["iv"],
       "1e2c1ff283a922cbeeab50d38d1f912c")
    eq("v5: response IV", v5[0]["response"]["iv"],
       "1e2c1ff283a922cbeeab50d38d1f912c")

multi = exchanges("rpc-ndr64-multi-request")
eq("multi: exchanges", len(multi), 3)
eq("multi: cmids", [x["request"]["cmid"] for x in multi],
   ["5c01936a-ffc8-447b-9ff3-f12e10306302",
    "0116c209-f0be-4de8-af9c-01b57f95c6a8",
    "a8deb2d3-268c-4887-b6e8-44ce1815e794"])
eq("multi: workstations", [x["request"]["workstation"] for x in multi],
   ["dns.oracle.fr", "hack-me.samsung.net", "headquarter.amazon.me"])
eq("multi: ndr", [x["ndr"] for x in multi], ["ndr32", "ndr64", "ndr64"])
eq("multi: ctx", [x["ctx_id"] for x in multi], [0, 1, 1])
eq("multi: call ids", [x["call_id"] for x in multi], [2, 3, 4])
eq("multi: epids", {x["response"]["epid"] for x in multi},
   {"06401-00206-562-755972-03-8251-9600.0000-0042021"})
eq("multi: counts", [x["response"]["count"] for x in multi], [50, 50, 50])

wl = exchanges("err-unknown-kmsid-whitelist")
eq("whitelist: exchanges", len(wl), 1)
if wl:
    eq("whitelist: hresult", wl[0]["hresult"], "0xC004F042")
    eq("whitelist: response", wl[0]["response"], None)
    eq("whitelist: cmid", wl[0]["request"]["cmid"],
       "e0ce8b3f-45a8-4b9d-a7d0-0d723144af2b")
    eq("whitelist: kms_id", wl[0]["request"]["kms_id"],
       "11111111-2222-4333-8444-555555555555")

inv = exchanges("rpc-raw-invalid-kms-payload")
eq("invalid payload: exchanges", len(inv), 1)
if inv:
    eq("invalid payload: hresult", inv[0]["hresult"], "0x8007000D")
    eq("invalid payload: request", inv[0]["request"], None)

ev = events("rpc-raw-fault-unknown-context")
faults = [e for e in ev if e["type"] == "rpc_fault"]
eq("fault: faults", len(faults), 1)
if faults:
    eq("fault: status", faults[0]["status"], "0x1C010003")
    eq("fault: name", faults[0]["status_name"], "nca_unk_if")
    eq("fault: flags", faults[0]["flags"], 0x23)
    eq("fault: frame", faults[0]["frame"], 9)

ev = events("err-conn-refused", "--port", "16889")
conns = [e for e in ev if e["type"] == "connect"]
eq("refused: connect events", [c["state"] for c in conns], ["refused"])
diag = [e for e in ev if e["type"] == "diagnosis"]
eq("refused: client code", [d["hresult"] for d in diag], ["0xC004F074"])
# without the port the SYN/RST pair is not KMS: nothing is claimed
ev = events("err-conn-refused")
eq("refused without --port: events", [e["type"] for e in ev], [])

# the binds: NDR32 rejected, NDR64 accepted, BTFN negotiate_ack, then
# alter_context back to NDR32 (vlmcs default)
ev = events("v4-win10-enterprise")
binds = [e for e in ev if e["type"] == "rpc_bind"]
eq("v4: binds", [b["kind"] for b in binds], ["bind", "alter_context"])
if binds:
    eq("v4: bind results", [c["result"] for c in binds[0]["contexts"]],
       ["provider_rejection", "acceptance", "negotiate_ack"])
    eq("v4: bind frames", (binds[0]["bind_frame"], binds[0]["ack_frame"]),
       (4, 6))
conns = [e for e in ev if e["type"] == "connect"]
eq("v4: handshake found by content on port 16888",
   [(c["state"], c["syn_frame"], c["reply_frame"]) for c in conns],
   [("established", 1, 2)])

print(f"{checks} checks, {failures} failures")
sys.exit(1 if failures or checks == 0 else 0)
