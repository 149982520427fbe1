#!/usr/bin/env python3
"""Hostile byte streams through real sockets. The fuzz targets of the probe
(tests/fuzz/fuzz_probe_bind.c, fuzz_probe_response.c) call the decoders
on whole buffers; the event loop's own framing (a header first, then
exactly frag_len bytes, in whatever pieces the peer sends them, against
the stage deadline) is not fuzzed. Here the test responder (behaviour
`stream`) sends every entry of those two corpora and deterministic
mutations of them (truncations followed by silence or a close, byte flips,
frag_len pushed to and past its bounds, trailing junk, a PDU sent twice)
at the bind (rpc stage) and, with at=request, at the activation request
(kms stage), once all at once and once in small pieces. Properties, with
no outcome written down in advance:
  - how the bytes are split does not change the verdict (status, stage,
    code);
  - every target ends, each stage within its timeout (plus slack), and the
    whole run within the bound of its waves of stages;
  - exit 0 or 1, valid JSON Lines, no sanitizer report, nothing unescaped
    from the peer in the text output;
  - the unmutated corpus entries give the answers they are (a bind_ack
    passes, a bind_nak is a rejection ...), split or not."""
import json
import math
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from probe_helpers import PROBE, Checker, Responder, run  # noqa: E402

SRC = os.environ.get("KMSDIAG_SRC", ".")
CORPUS = os.path.join(SRC, "tests", "fuzz", "corpus")
C = Checker()
T = 1500  # ms per stage; pieces arrive every ~1 ms, well within it
BOUND_MS = T * 1.5 + 200
KNOWN = {"KMSDIAG_OK", "KMSDIAG_ETIMEOUT", "KMSDIAG_ECLOSED",
         "KMSDIAG_ECONNRESET", "KMSDIAG_EPROTO", "KMSDIAG_EBINDREJECT",
         "KMSDIAG_ERPCFAULT", "KMSDIAG_EVERIFY", "KMSDIAG_EKMSREFUSED"}


def mutations(b):
    """(name, bytes, then) for one PDU: then is "hold" or "close"."""
    out = [("whole", b, "hold"), ("whole-close", b, "close"),
           ("twice", b + b, "hold"), ("junk", b + bytes(64), "hold")]
    for k in sorted({1, 8, 15, 16, 17, len(b) // 2, len(b) - 1}):
        if 0 < k < len(b):
            out.append((f"cut{k}", b[:k], "hold"))
            out.append((f"cut{k}-close", b[:k], "close"))
    for off in sorted({0, 1, 2, 3, 4, 8, 9, 10, 11, 16, 20, 24, 28,
                       len(b) // 2, len(b) - 1}):
        if off < len(b):
            m = bytearray(b)
            m[off] ^= 0xFF
            out.append((f"flip{off}", bytes(m), "hold"))
    if len(b) >= 16:
        for flen in (0, 15, 16, len(b) - 1, len(b) + 1, 5840, 5841, 0xFFFF):
            m = bytearray(b)
            struct.pack_into("<H", m, 8, flen & 0xFFFF)
            out.append((f"flen{flen}", bytes(m), "hold"))
    return out


def corpus(name, skip=0, only=None):
    d = os.path.join(CORPUS, name)
    for f in sorted(os.listdir(d)):
        if only and not any(o in f for o in only):
            continue
        with open(os.path.join(d, f), "rb") as fh:
            data = fh.read()[skip:]
        if data:
            yield f, data


def waves(n):
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    conc = min(n, 4096, max(1, soft - 64) if soft != resource.RLIM_INFINITY
               else 4096)
    return conc, math.ceil(n / conc)


def run_streams(tag, entries, stage, at_request, chunk):
    """One responder, one listener per (entry, mutation, split), one probe
    run over all. Returns {(entry, mutation, split): probe record}."""
    tmp = tempfile.mkdtemp(prefix="kd-streams-")
    state = tempfile.mkdtemp(prefix="kd-state-")
    keys, lis = [], []
    try:
        for fname, data in entries:
            for mname, mb, then in mutations(data):
                path = os.path.join(tmp, f"{fname}.{mname}")
                with open(path, "wb") as f:
                    f.write(mb)
                for split in ("whole", "pieces"):
                    beh = f"stream,file={path},then={then}"
                    if split == "pieces":
                        beh += f",chunk={chunk},interval=1"
                    if at_request:
                        beh += ",at=request"
                    keys.append((fname, mname, split))
                    lis.append(f"127.0.0.1:0={beh}")
        with Responder(lis) as r:
            conc, nw = waves(len(lis))
            args = ["--stage", stage, "-t", str(T), "-c", str(conc)]
            env = dict(os.environ, XDG_STATE_HOME=state)
            p = subprocess.run([PROBE, "--json"] + args + r.targets,
                               capture_output=True, env=env, timeout=600)
            rc, out, err = p.returncode, p.stdout, p.stderr
            C.check(rc in (0, 1), f"{tag}: exit {rc}")
            C.check(b"Sanitizer" not in err and b"runtime error" not in err,
                    f"{tag}: no sanitizer report: {err[-2000:]!r}")
            recs = []
            try:
                recs = [json.loads(x) for x in out.decode("utf-8").splitlines()
                        if x]
            except ValueError as e:
                C.check(False, f"{tag}: JSON Lines: {e}")
            probes = [x for x in recs if x.get("type") == "probe"]
            C.eq(len(probes), len(lis), f"{tag}: one record per target")
            by_port = {x["port"]: x for x in probes}
            res = {}
            for key, (addr, port, _b) in zip(keys, r.bound):
                res[key] = by_port.get(port)
            # The text form of the same run: nothing raw from the peer.
            rc2, txt, err2, el2 = run(args + r.targets,
                                      {"XDG_STATE_HOME": state})
            C.check(not any(c < 0x20 and c not in (0x0A,) or c == 0x7F
                            for c in txt),
                    f"{tag}: text output has no raw control bytes")
        return res, nw
    finally:
        os.system(f"rm -rf '{tmp}' '{state}'")


def judge(tag, res, stage, nw):
    order = ["tcp", "rpc", "kms"]
    ran = order[:order.index(stage) + 1]
    for key, p in sorted(res.items()):
        name = f"{tag} {key[0]}/{key[1]}/{key[2]}"
        if not C.check(p is not None and p.get("type") == "probe",
                       f"{name}: a record"):
            continue
        C.check(p["status"] in KNOWN, f"{name}: status {p['status']}")
        C.check(bool(p["message"]), f"{name}: a message")
        if p["ok"]:
            C.eq(p["stage_reached"], stage, f"{name}: ok reaches {stage}")
        else:
            C.check(p["hresult"] != "0x00000000",
                    f"{name}: a failure carries a client code")
        for st in ran:
            ms = p.get(f"{st}_ms")
            C.check(ms is None or 0 <= ms <= BOUND_MS,
                    f"{name}: {st} {ms} ms within {BOUND_MS:.0f} ms")
    # The split does not change the verdict.
    for (f, m, split), p in sorted(res.items()):
        if split != "whole" or p is None:
            continue
        q = res.get((f, m, "pieces"))
        if q is None:
            continue
        C.eq((q["status"], q["stage_failed"], q["hresult"]),
             (p["status"], p["stage_failed"], p["hresult"]),
             f"{tag} {f}/{m}: same verdict in pieces as whole")


# rpc stage: the bind answers of the corpus.
entries = list(corpus("probe_bind"))
C.check(len(entries) >= 4, "probe_bind corpus present")
t0 = time.monotonic()
res, nw = run_streams("bind", entries, "rpc", False, 1)
el = time.monotonic() - t0
judge("bind", res, "rpc", nw)
C.check(el <= nw * 2 * BOUND_MS / 1000 * 2 + 10,
        f"bind: the runs took {el:.1f} s for {nw} wave(s)")
want = {"ack_both": "KMSDIAG_OK", "ack_ndr32": "KMSDIAG_OK",
        "ack_ndr64": "KMSDIAG_OK", "ack_reject_all": "KMSDIAG_EBINDREJECT",
        "nak": "KMSDIAG_EBINDREJECT", "fault": "KMSDIAG_ERPCFAULT"}
for f, st in want.items():
    for split in ("whole", "pieces"):
        p = res.get((f, "whole", split))
        if f in dict(entries):
            C.eq(p and p["status"], st, f"bind {f} ({split}): what it is")
        p = res.get((f, "twice", split))
        if f in dict(entries):
            C.eq(p and p["status"], st, f"bind {f} twice ({split}): one PDU read")

# kms stage: the responses of the corpus, after a normal bind (the
# responder accepts NDR64, so the NDR64 entries; the answers were made for
# the fuzz target's request, so they fail verification here, or decode as
# refusals and faults).
entries = list(corpus("probe_response", skip=2,
                      only=["ctx1_normal", "ctx1_hresult", "ctx1_fault"]))
C.check(len(entries) >= 6, "probe_response corpus present")
t0 = time.monotonic()
res, nw = run_streams("response", entries, "kms", True, 5)
el = time.monotonic() - t0
judge("response", res, "kms", nw)
C.check(el <= nw * 3 * BOUND_MS / 1000 * 2 + 10,
        f"response: the runs took {el:.1f} s for {nw} wave(s)")
for f, _d in entries:
    kind = f.split("_")[-1]
    for split in ("whole", "pieces"):
        p = res.get((f, "whole", split))
        st = p and p["status"]
        if kind == "hresult":
            C.eq(st, "KMSDIAG_EKMSREFUSED", f"response {f} ({split}): refusal")
        elif kind == "fault":
            C.eq(st, "KMSDIAG_ERPCFAULT", f"response {f} ({split}): fault")
        else:
            C.check(st in ("KMSDIAG_EVERIFY", "KMSDIAG_EPROTO"),
                    f"response {f} ({split}): another request's answer is "
                    f"refused ({st})")
sys.exit(C.finish())
