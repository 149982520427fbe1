#!/usr/bin/env python3
"""kms-probe against the test KMS responder: every scripted behaviour at
the tcp, rpc and kms stages (V4, V5, V6), over IPv4 and IPv6, with the
outcome, the HRESULT a client would show, and the probe finishing within
its timeouts (a liveness bound, not a performance figure)."""
import os
import re
import stat
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from probe_helpers import (Checker, Responder, closed_port, ipv6_loopback,
                           run, run_json)

C = Checker()
V6 = ipv6_loopback()
TIMEOUT = 800  # ms per stage
# A hang would exceed this by far: three stages, each bounded.
LIVENESS_S = 3 * TIMEOUT / 1000 + 15
HWID = "0102030405060708"
EPID = "06401-00206-271-398216-03-1033-9600.0000-1362023"


def by_port(probes):
    return {p["port"]: p for p in probes}


def nagios_unknown(out, reason, what):
    """The monitoring-plugin convention: even UNKNOWN prints exactly one
    status line on stdout, saying why."""
    lines = out.decode("utf-8", "replace").splitlines()
    C.check(len(lines) == 1 and lines[0].startswith("KMS UNKNOWN - ") and
            reason in lines[0], f"nagios UNKNOWN line ({what}): {lines!r}")


def rpc_and_tcp():
    lis = ["127.0.0.1:0=normal",                  # 0
           "127.0.0.1:0=normal,ndr=both",         # 1
           "127.0.0.1:0=bindnak,reason=2",        # 2
           "127.0.0.1:0=bindreject",              # 3
           "127.0.0.1:0=fault",                   # 4
           "127.0.0.1:0=close",                   # 5
           "127.0.0.1:0=silent",                  # 6
           "127.0.0.1:0=slow,interval=300",       # 7
           "127.0.0.1:0=garbage",                 # 8
           "127.0.0.1:0=hugefrag",                # 9
           "127.0.0.1:0=normal,btfn=0,ndr=32"]    # 10
    if V6:
        lis.append("[::1]:0=normal,ndr=32")       # 11
    with Responder(lis) as r:
        refused = closed_port()
        targets = r.targets + [f"127.0.0.1:{refused}"]
        rc, probes, verdicts, recs, err, el = run_json(
            ["-t", str(TIMEOUT), "-c", "16"] + targets)
        C.eq(rc, 1, "rpc: exit status with failures")
        C.check(el < LIVENESS_S, f"rpc: finished in {el:.1f} s")
        C.eq(len(probes), len(targets), "rpc: one record per target")
        C.eq([p["port"] for p in probes],
             [int(t.rsplit(":", 1)[1]) for t in targets], "rpc: target order")
        C.check(len(verdicts) == 1 and recs[-1]["type"] == "verdict",
                "rpc: verdict record last")
        for p in probes:
            for k in ("type", "host", "address", "port", "stage_reached", "ok",
                      "hresult", "message", "tcp_ms", "rpc_ms", "status"):
                C.check(k in p, f"rpc: key {k} in {p['port']}")
        P = [by_port(probes)[b[1]] for b in r.bound]
        ok = P[0]
        C.check(ok["ok"] and ok["stage_reached"] == "rpc", "rpc normal: ok")
        C.check(ok["ndr64"] and not ok["ndr32"], "rpc normal: NDR64 only")
        C.check(ok["btfn"] and ok["btfn_features"] == 3, "rpc normal: BTFN 3")
        C.eq(ok["hresult"], "0x00000000", "rpc normal: hresult")
        C.check(ok["tcp_ms"] >= 0 and ok["rpc_ms"] >= 0, "rpc normal: timings")
        C.check(P[1]["ndr32"] and P[1]["ndr64"], "ndr=both: both accepted")
        C.check(P[10]["ok"] and P[10]["ndr32"] and not P[10]["btfn"],
                "ndr=32 btfn=0: NDR32, no negotiation")

        def failed(p, status, stage, name):
            C.eq(p["ok"], False, f"{name}: ok")
            C.eq(p["status"], status, f"{name}: status")
            C.eq(p["stage_failed"], stage, f"{name}: stage_failed")
            C.eq(p["hresult"], "0xC004F074", f"{name}: client code")

        failed(P[2], "KMSDIAG_EBINDREJECT", "rpc", "bindnak")
        C.eq(P[2].get("rpc_status"), "0x00000002", "bindnak: reason")
        failed(P[3], "KMSDIAG_EBINDREJECT", "rpc", "bindreject")
        failed(P[4], "KMSDIAG_ERPCFAULT", "rpc", "fault")
        C.eq(P[4].get("rpc_status"), "0x1C010003", "fault: status")
        failed(P[5], "KMSDIAG_ECLOSED", "rpc", "close")
        C.eq(P[5]["stage_reached"], "tcp", "close: tcp passed")
        failed(P[6], "KMSDIAG_ETIMEOUT", "rpc", "silent")
        C.check(P[6]["rpc_ms"] >= TIMEOUT * 0.9, "silent: waited the timeout")
        failed(P[7], "KMSDIAG_ETIMEOUT", "rpc", "slow")
        C.check("trickles" in P[7]["message"], "slow: partial answer named")
        failed(P[8], "KMSDIAG_EPROTO", "rpc", "garbage")
        C.check("garbage" in P[8]["message"], "garbage: named")
        failed(P[9], "KMSDIAG_EPROTO", "rpc", "hugefrag")
        C.check("frag_len" in P[9]["message"], "hugefrag: named")
        if V6:
            C.check(P[11]["ok"] and P[11]["address"] == "::1", "IPv6: rpc ok")
        ref = probes[-1]
        failed(ref, "KMSDIAG_ECONNREFUSED", "tcp", "refused")
        C.eq(ref["detail_hresult"], "0x800706BA", "refused: per-host code")
        C.eq(ref["stage_reached"], "none", "refused: nothing reached")
        C.eq(verdicts[0]["passed"], 3 + (1 if V6 else 0), "verdict: passed")
        C.eq(verdicts[0]["hresult"], "0x00000000", "verdict: a host works")

        # tcp stage: accept, closed-after-accept, silent accept, refused
        t = [r.targets[0], r.targets[5], r.targets[6], f"127.0.0.1:{refused}"]
        rc, probes, verdicts, recs, err, el = run_json(
            ["--stage", "tcp", "-t", str(TIMEOUT)] + t)
        C.eq(rc, 1, "tcp: exit status")
        C.check(probes[0]["ok"] and probes[0]["stage_reached"] == "tcp",
                "tcp: accept ok")
        C.eq(probes[0]["rpc_ms"], None, "tcp: rpc not run")
        C.eq(probes[1]["status"], "KMSDIAG_ECLOSED", "tcp: closed-after-accept")
        C.eq(probes[1]["stage_failed"], "tcp", "tcp: closed fails tcp")
        C.check(probes[2]["ok"], "tcp: silent accept passes tcp")
        C.eq(probes[3]["status"], "KMSDIAG_ECONNREFUSED", "tcp: refused")

        # Only failures: the verdict names 0xC004F074 and exit 1.
        rc, out, err, el = run(["-t", str(TIMEOUT), r.targets[2], r.targets[8]])
        txt = out.decode()
        C.eq(rc, 1, "text: exit 1")
        C.check("0xC004F074" in txt.splitlines()[-1], "text: verdict F074")
        C.check(txt.count("result    FAIL") == 2, "text: two failures")
        rc, out, err, el = run([r.targets[0], r.targets[1]])
        C.eq(rc, 0, "text: all pass exit 0")
        C.check(out.decode().splitlines()[-1].startswith("verdict: 2 of 2"),
                "text: verdict all pass")

        # Nagios
        rc, out, err, el = run(["--nagios", r.targets[0], r.targets[1]])
        line = out.decode()
        C.eq(rc, 0, "nagios: OK exit")
        C.check(line.startswith("KMS OK - 2/2") and line.count("\n") == 1,
                "nagios: one OK line")
        C.check(f"'127.0.0.1:{r.bound[0][1]}_rpc'=" in line and "ms;" in line,
                "nagios: perfdata per stage")
        rc, out, err, el = run(["--nagios", "-t", str(TIMEOUT), r.targets[0],
                                r.targets[2]])
        C.eq(rc, 1, "nagios: WARNING exit (one of two down)")
        C.check(out.decode().startswith("KMS WARNING"), "nagios: WARNING")
        C.check(out.decode().split("|")[0].count("0xC004F074") == 1,
                "nagios: names the failure")
        rc, out, err, el = run(["--nagios", "-t", str(TIMEOUT), r.targets[2]])
        C.eq(rc, 2, "nagios: CRITICAL exit")
        rc, out, err, el = run(["--nagios", "--stage", "bogus", r.targets[0]])
        C.eq(rc, 3, "nagios: UNKNOWN on usage error")
        nagios_unknown(out, "--stage", "usage error")


def kms_stage():
    state = tempfile.mkdtemp(prefix="kd-state-")
    env = {"XDG_STATE_HOME": state}
    lis = [f"127.0.0.1:0=normal,count=37,act=60,renew=1440,hwid={HWID},epid={EPID}",
           "127.0.0.1:0=normal,count=3",
           "127.0.0.1:0=hresult,hr=0xC004F042",
           "127.0.0.1:0=hresult,hr=0xC004F06C",
           "127.0.0.1:0=hresult,hr=0x8007000D",
           "127.0.0.1:0=hresult,hr=0xC004D104",
           "127.0.0.1:0=badmac",
           "127.0.0.1:0=badcmid",
           "127.0.0.1:0=stale,age=18000",
           "127.0.0.1:0=fault,at=request",
           "127.0.0.1:0=normal,ndr=32",
           # index 11: activates, but its ePID names a Windows 10 host key
           "127.0.0.1:0=normal,epid=03612-00206-395-000001-03-1033-10240.0000-0452024",
           # index 12: activates with an ePID that is not one
           "127.0.0.1:0=normal,epid=not-an-epid"]
    if V6:
        lis.append("[::1]:0=normal")
    try:
        with Responder(lis) as r:
            for ver in (4, 5, 6):
                rc, probes, verdicts, recs, err, el = run_json(
                    ["--stage", "kms", "--protocol", str(ver), "-t",
                     str(TIMEOUT)] + r.targets, env)
                tag = f"V{ver}"
                C.eq(rc, 1, f"{tag}: exit status")
                C.check(el < LIVENESS_S, f"{tag}: finished in {el:.1f} s")
                P = [by_port(probes)[b[1]] for b in r.bound]
                n = P[0]
                C.check(n["ok"] and n["verified"], f"{tag}: normal verified")
                C.eq(n["protocol"], ver, f"{tag}: protocol")
                C.eq(n["epid"], EPID, f"{tag}: ePID")
                C.eq(n["count"], 37, f"{tag}: count")
                C.eq(n["threshold"], 5, f"{tag}: server threshold")
                C.eq(n["activation_interval"], 60, f"{tag}: activation")
                C.eq(n["renewal_interval"], 1440, f"{tag}: renewal")
                C.eq(n["hwid"], HWID if ver == 6 else None, f"{tag}: hwid")
                C.check(abs(n["time_skew_s"]) <= 2, f"{tag}: no skew")
                C.eq(n["epid_info"]["host_build"], 9600, f"{tag}: host build")
                C.eq(n["epid_info"]["group_id"], 206, f"{tag}: group")
                C.check(n["can_activate"] is not None, f"{tag}: can_activate")
                C.check(P[10]["ok"] and P[10]["ndr32"], f"{tag}: NDR32 request")
                low = P[1]
                C.check(not low["ok"] and low["stage_reached"] == "kms",
                        f"{tag}: low count reached kms")
                C.eq(low["hresult"], "0xC004F038", f"{tag}: low count code")
                for i, hr in ((2, "0xC004F042"), (3, "0xC004F06C"),
                              (4, "0x8007000D"), (5, "0xC004D104")):
                    C.eq(P[i]["hresult"], hr, f"{tag}: refusal {hr}")
                    C.eq(P[i]["status"], "KMSDIAG_EKMSREFUSED", f"{tag}: {hr} status")
                    C.eq(P[i]["stage_failed"], "kms", f"{tag}: {hr} stage")
                bad = P[6]
                C.eq(bad["status"], "KMSDIAG_EVERIFY", f"{tag}: badmac status")
                key = {4: "mac", 5: "hash", 6: "hmac"}[ver]
                C.eq(bad["verification"][key], "bad", f"{tag}: badmac {key}")
                C.eq(bad["verified"], False, f"{tag}: badmac unverified")
                C.eq(P[7]["status"], "KMSDIAG_EVERIFY", f"{tag}: badcmid")
                C.eq(P[7]["verification"]["cmid_echo"], "bad", f"{tag}: cmid echo")
                st = P[8]
                C.eq(st["status"], "KMSDIAG_EVERIFY", f"{tag}: stale")
                C.eq(st["verification"]["time_echo"], "bad", f"{tag}: stale echo")
                C.eq(st["hresult"], "0xC004F06C", f"{tag}: stale code")
                C.check(st["time_skew_s"] < -4 * 3600, f"{tag}: stale skew")
                C.eq(P[9]["status"], "KMSDIAG_ERPCFAULT", f"{tag}: fault at request")
                C.eq(P[9]["stage_failed"], "kms", f"{tag}: fault stage")
                if V6:
                    C.check(P[11]["ok"], f"{tag}: IPv6 kms ok")
            # The CMID is stable across runs, kept in the state file.
            reqs = r.requests()
            cmids = {q["cmid"] for q in reqs}
            C.eq(len(cmids), 1, "one CMID across every request and run")
            path = os.path.join(state, "kmsdiag", "cmid")
            C.check(os.path.exists(path), "state file created")
            if os.path.exists(path):
                C.eq(stat.S_IMODE(os.stat(path).st_mode), 0o600, "state file 0600")
                C.eq(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode), 0o700,
                     "state dir 0700")
                with open(path) as f:
                    C.eq(f.read().strip(), cmids.pop() if cmids else None,
                         "state file holds the CMID sent")
            C.check(all(q["workstation"].startswith("kmsdiag-probe.")
                        for q in reqs), "workstation says what it is")
            C.check({q["version"] for q in reqs} == {"4", "5", "6"},
                    "requests carried versions 4, 5, 6")
            # --cmid overrides; the product's own protocol is the default.
            n0 = len(reqs)
            rc, probes, *_ = run_json(["--stage", "kms", "--cmid",
                                       "11111111-2222-4333-8444-555555555555",
                                       "--workstation", "probe-test",
                                       r.targets[0]], env)
            C.eq(rc, 0, "--cmid: exit 0")
            new = r.requests()[n0:]
            C.check(len(new) == 1 and new[0]["cmid"] ==
                    "11111111-2222-4333-8444-555555555555", "--cmid sent")
            C.check(len(new) == 1 and new[0]["workstation"] == "probe-test",
                    "--workstation sent")
            # A client product has threshold 25: count 37 passes, 3 does not.
            rc, probes, *_ = run_json(["--stage", "kms", "--product",
                                       "73111121-5638-40f6-bc11-f1d7b0d64300",
                                       r.targets[0], r.targets[1]], env)
            C.eq(probes[0]["threshold"], 25, "client product threshold")
            C.check(probes[0]["ok"], "client product activates with 37")
            C.eq(probes[1]["hresult"], "0xC004F038", "client product, count 3")
            # An activation whose ePID does not add up is a WARNING for
            # monitoring, and the text says why; a stale answer is what the
            # client reports (0xC004F06C), not "no host".
            for idx, what in ((11, "host key doubt"), (12, "malformed ePID")):
                rc, out, err, el = run(["--nagios", "--stage", "kms",
                                        r.targets[idx]], env)
                C.eq(rc, 1, f"nagios: {what} is WARNING")
                C.check(out.decode().startswith("KMS WARNING") and
                        "host key should not cover" in out.decode(),
                        f"nagios: {what} named: {out[:200]!r}")
            rc, out, err, el = run(["--stage", "kms", r.targets[12]], env)
            C.check("the ePID is not well formed" in out.decode(),
                    f"text: malformed ePID said: {out[-400:]!r}")
            rc, out, err, el = run(["--stage", "kms", r.targets[8]], env)
            C.check("a Windows client reports 0xC004F06C" in out.decode(),
                    f"verdict: stale answer is 0xC004F06C: {out[-300:]!r}")
            # Nagios: a count below threshold is a WARNING.
            rc, out, err, el = run(["--nagios", "--stage", "kms", r.targets[1]],
                                   env)
            C.eq(rc, 1, "nagios: low count is WARNING")
            C.check("_count'=3;5:" in out.decode(), "nagios: count perfdata")
            rc, out, err, el = run(["--stage", "kms", "--product", "nonesuch",
                                    r.targets[0]], env)
            C.eq(rc, 2, "unknown product: usage error")
            # An unusable CMID state file: UNKNOWN, with its one line, and
            # no request sent with some other CMID.
            n0 = len(r.requests())
            rc, out, err, el = run(["--nagios", "--stage", "kms", r.targets[0]],
                                   {"XDG_STATE_HOME": "/proc/nonexist"})
            C.eq(rc, 3, "nagios: broken state file is UNKNOWN")
            nagios_unknown(out, "CMID state file", "broken state file")
            C.eq(len(r.requests()), n0, "broken state file: no request sent")
            rc, out, err, el = run(["--nagios", "--stage", "kms", "--product",
                                    "nonesuch", r.targets[0]], env)
            C.eq(rc, 3, "nagios: unknown product is UNKNOWN")
            nagios_unknown(out, "nonesuch", "unknown product")
            # HOME fallback when XDG_STATE_HOME is not set.
            home = tempfile.mkdtemp(prefix="kd-home-")
            e2 = {"HOME": home, "XDG_STATE_HOME": ""}
            rc, *_ = run(["--stage", "kms", r.targets[0]], e2)
            hp = os.path.join(home, ".local", "state", "kmsdiag", "cmid")
            C.check(rc == 0 and os.path.exists(hp), "HOME fallback state file")
            if os.path.exists(hp):
                os.unlink(hp)
            for d in ("kmsdiag", "state", ".local"):
                pass
            os.system(f"rm -rf '{home}'")
    finally:
        os.system(f"rm -rf '{state}'")


def cmid_race():
    """Eight first probes at once share one fresh state directory: they
    all end up sending the one CMID that was stored."""
    import subprocess
    from probe_helpers import PROBE
    state = tempfile.mkdtemp(prefix="kd-state-")
    try:
        with Responder(["127.0.0.1:0=normal"]) as r:
            env = dict(os.environ, XDG_STATE_HOME=state)
            procs = [subprocess.Popen([PROBE, "--stage", "kms", r.targets[0]],
                                      env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
                     for _ in range(8)]
            rcs = [p.wait(timeout=60) for p in procs]
            C.eq(rcs, [0] * 8, "eight concurrent first probes pass")
            cmids = {q["cmid"] for q in r.requests()}
            with open(os.path.join(state, "kmsdiag", "cmid")) as f:
                stored = f.read().strip()
            C.eq(cmids, {stored}, "one CMID, the stored one, across a race")
            C.eq(sorted(os.listdir(os.path.join(state, "kmsdiag"))), ["cmid"],
                 "no temporary file left")
    finally:
        os.system(f"rm -rf '{state}'")


def hostile_text():
    """An ePID with terminal escapes is escaped in text and valid in JSON."""
    d = tempfile.mkdtemp(prefix="kd-script-")
    script = os.path.join(d, "s")
    with open(script, "wb") as f:
        f.write(b"# listeners\n127.0.0.1:0=normal,epid=06401\x1b[31mRED\x07\n")
    state = tempfile.mkdtemp(prefix="kd-state-")
    try:
        with Responder([], script=script) as r:
            env = {"XDG_STATE_HOME": state}
            rc, out, err, el = run(["--stage", "kms", r.targets[0]], env)
            C.check(b"\x1b" not in out and b"\x07" not in out,
                    "text: no raw control bytes from the peer")
            C.check(b"\\x1b[31mRED\\x07" in out, "text: escaped ePID shown")
            rc, probes, *_ = run_json(["--stage", "kms", r.targets[0]], env)
            C.eq(probes[0]["epid"], "06401\x1b[31mRED\x07", "json: ePID kept")
            C.eq(probes[0]["epid_info"]["valid"], False, "json: ePID invalid")
    finally:
        os.system(f"rm -rf '{d}' '{state}'")


def responder_loopback_only():
    import subprocess
    from probe_helpers import RESPONDER
    for spec in ("0.0.0.0:0=normal", "192.0.2.1:0=normal", "[::]:0=normal",
                 "[::ffff:10.0.0.1]:0=normal", "localhost:0=normal",
                 "127.0.0.1:0=nonesuch", "127.0.0.1:x=normal"):
        p = subprocess.run([RESPONDER, spec], capture_output=True, timeout=10)
        C.eq(p.returncode, 2, f"responder refuses {spec}")
        C.check(b"" == p.stdout, f"responder bound nothing for {spec}")


def usage():
    for args, want in ((["--help"], 0), (["--version"], 0),
                       (["--stage", "nope", "x"], 2), (["--port", "0", "x"], 2),
                       (["--protocol", "7", "x"], 2), (["--json", "--nagios", "x"], 3),
                       (["[::1"], 2), (["host:99999"], 2)):
        rc, out, err, el = run(args)
        C.eq(rc, want, f"exit status of {args}")
    for args, reason in ((["--json", "--nagios", "x"], "--json and --nagios"),
                         (["-n", "--bogus", "x"], "--bogus"),
                         (["--nag", "--timeout", "0", "x"], "--timeout"),
                         (["-vn", "--port", "0", "x"], "--port"),
                         (["--nagios", "[::1"], "bad target")):
        rc, out, err, el = run(args)
        C.eq(rc, 3, f"nagios: exit status of {args}")
        nagios_unknown(out, reason, " ".join(args))
    rc, out, err, el = run(["--help"])
    C.check(b"--nagios" in out and b"--stage" in out, "--help lists options")
    C.check(b"1..600000" in out, "--help gives the --timeout range")
    C.check(not err, "--help writes nothing on stderr")


def stage_bound_ms(timeout):
    """How long one stage may take at most: its timeout plus scheduling
    slack. A property of the timeout (no stage outlives it), not a
    performance figure."""
    return timeout * 1.5 + 200


# Process start and exit (an ASan build on a busy machine) on top of the
# stages, for the wall time of one invocation.
START_SLACK_S = 2.0


def hostile_timings():
    """Each hostile behaviour in its own invocation: the right outcome, the
    failing stage (and every stage before it) within its timeout by the
    probe's own timings, and the whole invocation within the sum of its
    stages' bounds. The misbehaviours run at the bind (rpc stage) and, with
    at=request, at the activation request (kms stage)."""
    T = TIMEOUT
    F074 = "0xC004F074"
    # (behaviour, stage run, status, client code, waits the timeout)
    cases = [("silent", "rpc", "KMSDIAG_ETIMEOUT", F074, True),
             ("slow,interval=300", "rpc", "KMSDIAG_ETIMEOUT", F074, True),
             ("hugefrag", "rpc", "KMSDIAG_EPROTO", F074, False),
             ("garbage", "rpc", "KMSDIAG_EPROTO", F074, False),
             ("close", "rpc", "KMSDIAG_ECLOSED", F074, False),
             ("bindnak", "rpc", "KMSDIAG_EBINDREJECT", F074, False),
             ("bindreject", "rpc", "KMSDIAG_EBINDREJECT", F074, False),
             ("fault", "rpc", "KMSDIAG_ERPCFAULT", F074, False),
             ("close", "tcp", "KMSDIAG_ECLOSED", F074, False),
             ("silent,at=request", "kms", "KMSDIAG_ETIMEOUT", F074, True),
             ("slow,at=request,interval=300", "kms", "KMSDIAG_ETIMEOUT",
              F074, True),
             ("hugefrag,at=request", "kms", "KMSDIAG_EPROTO", F074, False),
             ("garbage,at=request", "kms", "KMSDIAG_EPROTO", F074, False),
             ("close,at=request", "kms", "KMSDIAG_ECLOSED", F074, False),
             ("fault,at=request", "kms", "KMSDIAG_ERPCFAULT", F074, False),
             ("hresult,hr=0xC004F042", "kms", "KMSDIAG_EKMSREFUSED",
              "0xC004F042", False),
             ("badmac", "kms", "KMSDIAG_EVERIFY", F074, False),
             ("stale", "kms", "KMSDIAG_EVERIFY", "0xC004F06C", False),
             ("normal,count=3", "kms", "KMSDIAG_EKMSREFUSED", "0xC004F038",
              False)]
    order = ["tcp", "rpc", "kms"]
    state = tempfile.mkdtemp(prefix="kd-state-")
    env = {"XDG_STATE_HOME": state}
    try:
        with Responder([f"127.0.0.1:0={c[0]}" for c in cases]) as r:
            for (beh, stage, status, code, waits), target in zip(cases,
                                                                 r.targets):
                tag = f"{beh} at {stage}"
                rc, probes, verdicts, recs, err, el = run_json(
                    ["--stage", stage, "-t", str(T), target], env)
                C.eq(rc, 1, f"{tag}: exit 1")
                if not C.eq(len(probes), 1, f"{tag}: one record"):
                    continue
                p = probes[0]
                C.eq(p["status"], status, f"{tag}: status")
                C.eq(p["stage_failed"], stage, f"{tag}: stage_failed")
                C.eq(p["hresult"], code, f"{tag}: client code")
                ran = order[:order.index(stage) + 1]
                for st in ran:
                    ms = p[f"{st}_ms"]
                    C.check(ms is not None and 0 <= ms <= stage_bound_ms(T),
                            f"{tag}: {st} stage took {ms} ms, bound "
                            f"{stage_bound_ms(T):.0f} ms (timeout {T})")
                if waits:
                    C.check(p[f"{stage}_ms"] >= T * 0.9,
                            f"{tag}: waited its timeout ({p[stage + '_ms']} ms)")
                bound_s = len(ran) * stage_bound_ms(T) / 1000 + START_SLACK_S
                C.check(el <= bound_s,
                        f"{tag}: invocation took {el:.2f} s, bound {bound_s:.1f} s")
            # One byte per second, as the issue describes the slow host:
            # a 2.5 s timeout sees the first three bytes of the bind_ack
            # (sent at 0, 1 and 2 s), then gives up.
            with Responder(["127.0.0.1:0=slow,interval=1000"]) as s1:
                T2 = 2500
                rc, probes, *_rest, el = run_json(["-t", str(T2)] + s1.targets)
                p = probes[0] if probes else {}
                C.eq(p.get("status"), "KMSDIAG_ETIMEOUT", "1 B/s: timeout")
                C.check(p.get("rpc_ms") is not None and
                        T2 * 0.9 <= p["rpc_ms"] <= stage_bound_ms(T2),
                        f"1 B/s: rpc stage {p.get('rpc_ms')} ms within "
                        f"{T2} ms + slack")
                m = re.search(r"\((\d+) of 16 bytes", p.get("message", ""))
                C.check(m is not None and 2 <= int(m.group(1)) <= 3,
                        f"1 B/s: 2-3 bytes seen: {p.get('message')!r}")
                bound_s = 2 * stage_bound_ms(T2) / 1000 + START_SLACK_S
                C.check(el <= bound_s, f"1 B/s: invocation {el:.2f} s <= "
                        f"{bound_s:.1f} s")
    finally:
        os.system(f"rm -rf '{state}'")


def default_protocol():
    """Without --protocol the request carries the product's own version
    (the default Windows Server edition speaks V6, Windows 7 V4, Windows
    Server 2012 V5), as the responder logs it; --protocol overrides."""
    state = tempfile.mkdtemp(prefix="kd-state-")
    env = {"XDG_STATE_HOME": state}
    try:
        with Responder(["127.0.0.1:0=normal"]) as r:
            for prod, want in ((None, 6),
                               ("FJ82H-XT6CR-J8D7P-XQJJ2-GPDD4", 4),  # 7 Pro
                               ("XC9B7-NBPP2-83J2H-RHMBY-92BT4", 5)):  # 2012
                n0 = len(r.requests())
                args = ["--stage", "kms"] + (["--product", prod] if prod else [])
                rc, probes, *_ = run_json(args + r.targets, env)
                tag = prod or "default product"
                C.eq(rc, 0, f"{tag}: activates")
                new = r.requests()[n0:]
                C.eq([q["version"] for q in new], [str(want)],
                     f"{tag}: request version on the wire")
                C.eq(probes[0].get("protocol") if probes else None, want,
                     f"{tag}: protocol reported")
            n0 = len(r.requests())
            rc, probes, *_ = run_json(["--stage", "kms", "--product",
                                       "FJ82H-XT6CR-J8D7P-XQJJ2-GPDD4",
                                       "--protocol", "6"] + r.targets, env)
            C.eq([q["version"] for q in r.requests()[n0:]], ["6"],
                 "--protocol 6 overrides Windows 7's V4")
    finally:
        os.system(f"rm -rf '{state}'")


def text_consistency():
    """Text and JSON agree on the failing stage: a low count fails the kms
    stage line with 0xC004F038, as JSON's stage_failed says."""
    state = tempfile.mkdtemp(prefix="kd-state-")
    env = {"XDG_STATE_HOME": state}
    try:
        with Responder(["127.0.0.1:0=normal,count=3",
                        "127.0.0.1:0=silent,at=request"]) as r:
            rc, probes, *_ = run_json(["--stage", "kms", "-t", str(TIMEOUT)] +
                                      r.targets, env)
            rc2, out, err, el = run(["--stage", "kms", "-t", str(TIMEOUT)] +
                                    r.targets, env)
            blocks = out.decode().split("\n\n")
            for p, blk in zip(probes, blocks):
                lines = {ln.split()[0]: ln for ln in blk.splitlines()[1:]
                         if ln.strip()}
                failed = p["stage_failed"]
                C.check(failed in lines and " FAIL" in lines[failed] and
                        p["hresult"] in lines[failed],
                        f"text {failed} line names the failure {p['hresult']}: "
                        f"{lines.get(failed)!r}")
                C.check(all(lines[s].rstrip().endswith(" ok")
                            for s in ("tcp", "rpc", "kms")
                            if s in lines and s != failed),
                        f"text: other stages ok: {blk!r}")
            C.eq(probes[0]["hresult"], "0xC004F038", "low count: code")
            C.eq(probes[1]["hresult"], "0xC004F074",
                 "silent request: a client moves on (0xC004F074)")
            C.eq(probes[1]["detail_hresult"], "0x800706BA",
                 "silent request: per-host code")
    finally:
        os.system(f"rm -rf '{state}'")


def bounded_concurrency():
    """At most --concurrency targets are in flight at once: the responder
    holds each answer 150 ms and counts its connections."""
    with Responder([f"127.0.2.1-127.0.2.40:0=normal,delay=150"]) as r:
        rc, probes, *_ = run_json(["-c", "6"] + r.targets)
        C.eq(rc, 0, "40 targets, concurrency 6: all pass")
        C.eq(len(probes), 40, "40 records")
        peak = r.stop()
        C.check(peak is not None and 2 <= peak <= 6,
                f"peak connections {peak} within --concurrency 6")


rpc_and_tcp()
hostile_timings()
default_protocol()
text_consistency()
bounded_concurrency()
kms_stage()
cmid_race()
hostile_text()
responder_loopback_only()
usage()
sys.exit(C.finish())
