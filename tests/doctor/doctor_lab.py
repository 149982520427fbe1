#!/usr/bin/env python3
"""doctor_lab.py [SCENARIO...]: kms-doctor end to end against a real NSD
and the test KMS responder on loopback (tests/doctor/kmslab.py).

Each scenario sets up the client's resolver configuration (and optionally
its pasted slmgr /dlv text), runs `kms-doctor --json`, and checks the exit
status, that every output line is a JSON object with a "type", the
verdict's code, and the checks that must have found the problem.

Environment: KMSDIAG_BIN (the built tools), KMSDIAG_TESTBIN (the built test
programs), KMSDIAG_SRC. Exits 77 when NSD or the loopback addresses are not
available (with the reason)."""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("KMSDIAG_SRC", os.path.dirname(os.path.dirname(HERE)))
BIN = os.environ.get("KMSDIAG_BIN", os.path.join(SRC, "build", "bin"))
TESTBIN = os.environ.get("KMSDIAG_TESTBIN", os.path.join(os.path.dirname(BIN), "tests"))
sys.path.insert(0, HERE)
import kmslab  # noqa: E402

DOCTOR = os.path.join(BIN, "kms-doctor")
ZONE = os.path.join(HERE, "zones", "kd7.test.zone")
CMID = "6e1f5c2a-3b7d-4c9e-8a10-2f4b6d8e0c13"

LISTENERS = [
    "127.0.7.1:1688=normal",
    "127.0.7.21:1688=normal",
    "127.0.7.31:1688=bindreject",
    "127.0.7.41:1688=normal,count=3",
    "127.0.7.51:1688=hresult,hr=0xC004F042",
    "127.0.7.61:1688=hresult,hr=0xC004F06C",
    "127.0.7.81:1688=normal,epid=03612-00206-395-000001-03-1033-10240.0000-0452024",
    "127.0.7.91:1688=stale",
]


def utf16_crlf(path, tmpdir):
    """The text as Notepad or Out-File saves it: UTF-16LE, BOM, CRLF."""
    with open(path, encoding="utf-8") as f:
        text = f.read().replace("\n", "\r\n")
    out = os.path.join(tmpdir, os.path.basename(path) + ".utf16")
    with open(out, "wb") as f:
        f.write(b"\xff\xfe" + text.encode("utf-16-le"))
    return out


# name: (resolver, extra args, expected exit, expected verdict hresult,
#        healthy, [(check name, status, hresult or None)...],
#        words the verdict's fixes must contain)
SCENARIOS = {
    "healthy": (dict(domain="good.kd7.test"), [], 0, None, True,
                [("resolver_config", "ok", None), ("srv_lookup", "ok", None),
                 ("tcp", "ok", None), ("rpc", "ok", None)], []),
    "healthy_kms": (dict(domain="good.kd7.test"),
                    ["--stage", "kms", "--cmid", CMID], 0, None, True,
                    [("kms", "ok", None), ("threshold", "ok", None)], []),
    "no_srv_record": (dict(domain="nosrv.kd7.test"), [], 1, "0x8007232B", False,
                      [("srv_lookup", "fail", "0x8007232B")], ["_vlmcs._tcp"]),
    "near_miss_label": (dict(domain="typo.kd7.test"), [], 1, "0x8007232B", False,
                        [("srv_lookup", "fail", "0x8007232B"),
                         ("srv_record", "warn", None)], ["misspelled"]),
    "name_without_srv": (dict(domain="nodata.kd7.test"), [], 1, "0x8007251D",
                         False, [("srv_lookup", "fail", "0x8007251D")], ["SRV"]),
    "dns_server_down": (dict(domain="good.kd7.test", server="closed"), [], 1,
                        "0x8007232A", False,
                        [("srv_lookup", "fail", "0x8007232A")], ["DNS"]),
    "no_domain": (dict(), [], 1, "0x8007007B", False,
                  [("resolver_config", "fail", "0x8007007B")],
                  ["suffix", "/skms"]),
    "search_list": (dict(search=["nosrv.kd7.test", "good.kd7.test"]), [], 0,
                    None, True,
                    [("resolver_config", "warn", None),
                     ("srv_lookup", "fail", "0x8007232B"),
                     ("srv_lookup", "ok", None)], []),
    "all_targets_refuse": (dict(domain="refuse.kd7.test"), [], 1, "0xC004F074",
                           False, [("tcp", "fail", "0x800706BA")],
                           ["1688", "slmgr /ato"]),
    "stale_and_good": (dict(domain="mixed.kd7.test"), [], 0, None, True,
                       [("tcp", "fail", "0x800706BA"), ("rpc", "ok", None)],
                       ["SRV"]),
    "bind_rejected": (dict(domain="bind.kd7.test"), [], 1, "0xC004F074", False,
                      [("tcp", "ok", None), ("rpc", "fail", None)], []),
    "count_below_threshold": (dict(domain="lowcount.kd7.test"),
                              ["--stage", "kms", "--cmid", CMID, "--product",
                               "Windows Server 2019 Standard"],
                              1, "0xC004F038", False,
                              [("kms", "fail", "0xC004F038")],
                              ["CMID", "sysprep"]),
    "host_key_mismatch": (dict(domain="keyid.kd7.test"),
                          ["--stage", "kms", "--cmid", CMID], 1, "0xC004F042",
                          False, [("kms", "fail", "0xC004F042")], ["CSVLK"]),
    "clock_skew": (dict(domain="skew.kd7.test"),
                   ["--stage", "kms", "--cmid", CMID], 1, "0xC004F06C", False,
                   [("kms", "fail", "0xC004F06C"), ("clock", "fail", "0xC004F06C")],
                   ["w32tm"]),
    "slmgr_pinned_stale": (dict(domain="good.kd7.test"),
                           ["--slmgr", "@pinned-stale.txt"], 1, "0xC004F074",
                           False,
                           [("license_channel", "ok", None),
                            ("pinned_host", "info", None),
                            ("cmid", "info", None),
                            ("tcp", "fail", "0x800706BA"),
                            ("rpc", "ok", None)],
                           ["slmgr /ckms"]),
    "slmgr_skms_domain": (dict(domain="nosrv.kd7.test"),
                          ["--slmgr", "@skms-domain.txt"], 0, None, True,
                          [("resolver_config", "info", None),
                           ("cached_host", "info", None),
                           ("cached_host", "ok", None),
                           ("srv_lookup", "ok", None), ("rpc", "ok", None)], []),
    "slmgr_cached_stale": (dict(domain="good.kd7.test"),
                           ["--slmgr", "@cached-stale.txt"], 0, None, True,
                           [("cached_host", "warn", "0x800706BA"),
                            ("srv_lookup", "ok", None), ("rpc", "ok", None)], []),
    "slmgr_mak": (dict(domain="good.kd7.test"), ["--slmgr", "@mak.txt"], 1,
                  "0xC004F056", False,
                  [("license_channel", "fail", None)], ["slmgr /ipk", "MAK"]),
    "slmgr_retail": (dict(domain="good.kd7.test"), ["--slmgr", "@retail.txt"], 1,
                     None, False, [("license_channel", "fail", None)],
                     ["slmgr /ipk"]),
    "host_option": (dict(), ["--host", "kms1.good.kd7.test:1688"], 0, None, True,
                    [("pinned_host", "info", None), ("rpc", "ok", None)], []),
    "server_option": (dict(server="closed"), ["--server", "%DNS%", "good.kd7.test"],
                      0, None, True,
                      [("resolver_config", "info", None), ("srv_lookup", "ok", None),
                       ("rpc", "ok", None)], []),
    "host_option_nxdomain": (dict(), ["--host", "gone.kd7.test"], 1, "0x8007232B",
                             False, [("resolve", "fail", "0x8007232B")],
                             ["slmgr /skms", "slmgr /ckms", "nslookup gone.kd7.test"]),
    "host_option_dead": (dict(), ["--host", "127.0.7.12"], 1, "0xC004F074",
                         False, [("tcp", "fail", "0x800706BA")], ["pinned host"]),
    "no_usable_target": (dict(domain="nohost.kd7.test"), [], 1, "0xC004F074",
                         False,
                         [("srv_lookup", "warn", "0xC004F074"),
                          ("srv_target", "warn", None),
                          ("srv_target", "fail", "0xC004F074")],
                         ["SRV"]),
    "product_host_keys": (dict(domain="good.kd7.test"),
                          ["--product", "windows 10 pro"], 0, None, True,
                          [("product", "info", None), ("rpc", "ok", None)], []),
    "product_ambiguous": (dict(domain="good.kd7.test"),
                          ["--product", "2019"], 2, None, None, [], []),
    "multi_address_target": (dict(domain="multi.kd7.test"), [], 0, None, True,
                             [("tcp", "fail", "0x800706BA"), ("tcp", "ok", None),
                              ("rpc", "ok", None)], []),
    "only_dot_target": (dict(domain="onlydot.kd7.test"), [], 1, "0xC004F074",
                        False, [("srv_target", "warn", None)],
                        ["SRV 0 0 1688"]),
    "host_key_doubt": (dict(domain="doubt.kd7.test"),
                       ["--stage", "kms", "--cmid", CMID], 0, None, True,
                       [("kms", "ok", None), ("host_key", "warn", None)],
                       ["not a Microsoft KMS host", "slmgr /dlv"]),
    "clock_skew_stale": (dict(domain="stale.kd7.test"),
                         ["--stage", "kms", "--cmid", CMID], 1, "0xC004F06C",
                         False, [("kms", "fail", "0xC004F06C")], ["w32tm"]),
    "slmgr_pinned_dns_same": (dict(domain="pindup.kd7.test"),
                              ["--slmgr", "@pinned-stale.txt"], 1,
                              "0xC004F074", False,
                              [("pinned_host", "info", None),
                               ("tcp", "fail", "0x800706BA"),
                               ("rpc", "ok", None)],
                              ["slmgr /ckms"]),
}

# What else a scenario's verdict and checks must (not) show:
#   check: the verdict's deciding check;
#   no_checks: (name, status) pairs that must not appear;
#   no_fix: words the fixes must not contain;
#   once: a subject word whose host must be probed once (one check line
#         with real probe evidence, the other a "same host" line).
EXTRA = {
    "bind_rejected": dict(check="rpc", no_fix=["Make every SRV target"]),
    "all_targets_refuse": dict(check="tcp"),
    "no_usable_target": dict(check="srv_target", fix=["port"],
                             no_fix=["firewall"]),
    "only_dot_target": dict(check="srv_target", no_fix=["firewall"]),
    # the host keys kms-info product and can-activate agree on: WS2019's
    # activates Windows 10 (the line the name asks for)
    "product_host_keys": dict(evidence=("product", "Windows Server 2019,")),
    "host_option_dead": dict(check="tcp", no_fix=["SRV target"]),
    "host_key_doubt": dict(check="kms", no_checks=[("host_key", "fail")]),
    "host_key_mismatch": dict(check="kms"),
    "slmgr_pinned_stale": dict(check="tcp"),
    "slmgr_pinned_dns_same": dict(check="tcp", once="kms-old.pin"),
}
EXTRA["bind_rejected"]["fix"] = ["does not serve the KMS RPC interface",
                                 "netstat"]

failures = 0


def fail(name, msg):
    global failures
    failures += 1
    print(f"FAIL {name}: {msg}")


def run_scenario(lab, tmp, name, spec):
    resolver, args, want_rc, want_hr, want_healthy, want_checks, want_fix = spec
    server = None
    if resolver.get("server") == "closed":
        server = f"127.0.0.1:{lab.nsd.closed_port}"
    rc_path = lab.resolv_conf(domain=resolver.get("domain"),
                              search=resolver.get("search", ()), server=server)
    argv = [DOCTOR, "--json", "--timeout", "700", "--resolv-conf", rc_path]
    for a in args:
        if a.startswith("@"):
            a = utf16_crlf(os.path.join(HERE, "slmgr", a[1:]), tmp)
        a = a.replace("%DNS%", f"127.0.0.1:{lab.nsd.port}")
        argv.append(a)
    p = subprocess.run(argv, capture_output=True, timeout=120)
    out = p.stdout.decode("utf-8")  # must be valid UTF-8
    records = []
    for i, line in enumerate(out.splitlines()):
        try:
            obj = json.loads(line)
        except ValueError as e:
            fail(name, f"line {i + 1} is not JSON ({e}): {line[:120]}")
            return
        if not isinstance(obj, dict) or "type" not in obj:
            fail(name, f"line {i + 1} has no type: {line[:120]}")
            return
        records.append(obj)
    checks = [r for r in records if r["type"] == "check"]
    verdicts = [r for r in records if r["type"] == "verdict"]
    show = "\n    ".join(f'{c["status"]:4} {c["name"]} {c["subject"]} '
                         f'{c["hresult"]}: {c["evidence"]}' for c in checks)
    ok = True
    if p.returncode != want_rc:
        fail(name, f"exit {p.returncode}, want {want_rc}; stderr: "
                   f"{p.stderr.decode(errors='replace')[:300]}")
        ok = False
    if want_rc == 2:
        # a usage error: nothing on stdout, the reason (and for an
        # ambiguous product its candidates) on stderr
        e = p.stderr.decode(errors="replace")
        if p.stdout or "Windows Server 2019" not in e:
            fail(name, f"usage error must list the candidates on stderr "
                       f"only: stdout {p.stdout[:100]!r} stderr {e[:300]!r}")
        elif ok:
            print(f"ok   {name}: usage error")
        return
    if len(verdicts) != 1:
        fail(name, f"{len(verdicts)} verdict records")
        print("    " + show)
        return
    v = verdicts[0]
    for key in ("healthy", "warnings", "hresult", "name", "meaning", "cause",
                "check", "fixes"):
        if key not in v:
            fail(name, f"verdict lacks {key}")
            ok = False
    for c in checks:
        for key in ("name", "status", "evidence", "hresult", "subject"):
            if key not in c:
                fail(name, f"check lacks {key}: {c}")
                ok = False
        if c.get("status") not in ("ok", "warn", "fail", "info"):
            fail(name, f"bad status {c.get('status')}")
            ok = False
    if v.get("hresult") != want_hr:
        fail(name, f"verdict hresult {v.get('hresult')}, want {want_hr}")
        ok = False
    if v.get("healthy") != want_healthy:
        fail(name, f"verdict healthy {v.get('healthy')}, want {want_healthy}")
        ok = False
    for cname, cstatus, chr_ in want_checks:
        if not any(c["name"] == cname and c["status"] == cstatus and
                   (chr_ is None or c["hresult"] == chr_) for c in checks):
            fail(name, f"no check {cname} {cstatus} {chr_ or ''}")
            ok = False
    fixes = " ".join(v.get("fixes") or [])
    for w in want_fix:
        if w not in fixes:
            fail(name, f"fixes do not mention {w!r}: {fixes[:300]}")
            ok = False
    extra = EXTRA.get(name, {})
    if "evidence" in extra:
        cname, word = extra["evidence"]
        if not any(c["name"] == cname and word in c["evidence"] for c in checks):
            fail(name, f"no {cname} check says {word!r}")
            ok = False
    if "check" in extra and v.get("check") != extra["check"]:
        fail(name, f"verdict decided by {v.get('check')}, want {extra['check']}")
        ok = False
    for cname, cstatus in extra.get("no_checks", ()):
        if any(c["name"] == cname and c["status"] == cstatus for c in checks):
            fail(name, f"unexpected check {cname} {cstatus}")
            ok = False
    for w in extra.get("fix", ()):
        if w not in fixes:
            fail(name, f"fixes do not mention {w!r}: {fixes[:300]}")
            ok = False
    for w in extra.get("no_fix", ()):
        if w in fixes:
            fail(name, f"fixes mention {w!r}: {fixes[:300]}")
            ok = False
    if "once" in extra:
        lines = [c for c in checks if c["name"] in ("tcp", "rpc", "kms") and
                 extra["once"] in (c["subject"] or "")]
        same = [c for c in lines if c["evidence"].startswith("same host")]
        if len(same) != 1 or len(lines) != 2:
            fail(name, f"{extra['once']} should be probed once and referred "
                       f"to once: {len(lines)} check lines, {len(same)} "
                       f"'same host' lines")
            ok = False
    if name == "stale_and_good" and not v.get("warnings"):
        fail(name, "a stale target must be reported as a warning")
        ok = False
    if not ok:
        print("    " + show)
        print(f"    verdict: {json.dumps(v)[:600]}")
    else:
        print(f"ok   {name}: {'healthy' if v.get('healthy') else v.get('hresult') or 'problem, no code'}"
              f"{' (warnings)' if v.get('warnings') else ''}")


def text_mode(lab, tmp):
    """The text output: every check line starts with its status, the
    verdict block names the code; untrusted text is escaped."""
    rc_path = lab.resolv_conf(domain="refuse.kd7.test")
    p = subprocess.run([DOCTOR, "--timeout", "700", "--resolv-conf", rc_path],
                       capture_output=True, timeout=120)
    out = p.stdout.decode()
    if p.returncode != 1 or "Verdict: 0xC004F074" not in out or \
            "FAIL  tcp" not in out or "Fix, in order:" not in out:
        fail("text_mode", f"exit {p.returncode}, output:\n{out}")
    elif "\x1b" in out:
        fail("text_mode", "raw escape character in the output")
    else:
        print("ok   text_mode")


def usage_errors(tmp):
    cases = [
        ([DOCTOR, "--stage", "tcpx"], 2),
        ([DOCTOR, "--host", "a:b:c:99999"], 2),
        ([DOCTOR, "--product", "no such product zzz"], 2),
        ([DOCTOR, "dom1", "dom2"], 2),
        ([DOCTOR, "--slmgr", os.path.join(HERE, "slmgr", "not-slmgr.txt"),
          "good.kd7.test"], 2),
        ([DOCTOR, "--slmgr", os.path.join(tmp, "does-not-exist")], 2),
    ]
    for argv, want in cases:
        p = subprocess.run(argv, capture_output=True, timeout=60)
        if p.returncode != want or not p.stderr:
            fail("usage_errors", f"{argv[1:]}: exit {p.returncode}, stderr "
                                 f"{p.stderr[:200]!r}")
        elif p.stdout:
            fail("usage_errors", f"{argv[1:]}: wrote to stdout")
    p = subprocess.run([DOCTOR, "--slmgr", os.path.join(HERE, "slmgr", "not-slmgr.txt"),
                        "good.kd7.test"], capture_output=True, timeout=60)
    if b"no slmgr /dlv label" not in p.stderr:
        fail("usage_errors", f"slmgr error does not say what: {p.stderr!r}")
    print("ok   usage_errors")


def main(argv):
    if not os.access(DOCTOR, os.X_OK):
        print(f"FAIL: {DOCTOR} is not built")
        return 1
    names = argv or list(SCENARIOS)
    for n in names:
        if n not in SCENARIOS and n not in ("text_mode", "usage_errors"):
            print(f"unknown scenario {n}")
            return 2
    build = os.path.dirname(BIN)
    with tempfile.TemporaryDirectory(prefix="doctor-lab-") as tmp:
        os.environ["XDG_STATE_HOME"] = tmp  # never touch the user's CMID
        try:
            with kmslab.KmsLab(build, {"kd7.test": ZONE}, LISTENERS) as lab:
                for n in names:
                    if n == "text_mode":
                        text_mode(lab, tmp)
                    elif n == "usage_errors":
                        usage_errors(tmp)
                    else:
                        run_scenario(lab, tmp, n, SCENARIOS[n])
                if not argv:
                    text_mode(lab, tmp)
                    usage_errors(tmp)
        except kmslab.LabUnavailable as e:
            print(f"SKIP: {e}")
            return kmslab.SKIP
    print(f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
