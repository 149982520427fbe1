#!/usr/bin/env python3
"""test_zonecheck.py: kms-zonecheck offline on zone files with known
mistakes (each marked "; expect: RULE" on the line before), and live
against NSD serving tests/lab/zones/: for every lab zone what the server
serves agrees with the file (no live-* finding, and names were compared),
and modified copies of a zone file checked against NSD serving the
original give the expected live-* findings (SRV set, TTL, target
addresses, a name without SRV in the file, a name the file lacks)."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SRC = os.environ.get("KMSDIAG_SRC") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("KMSDIAG_BIN")
if not BIN:
    print("SKIP: KMSDIAG_BIN not set (run through ctest)")
    sys.exit(77)
ZC = os.path.join(BIN, "kms-zonecheck")
sys.path.insert(0, os.path.join(SRC, "tests", "lab"))
import nsd_lab  # noqa: E402

ZONES = os.path.join(SRC, "tests", "lab", "zones")
MISTAKES = os.path.join(SRC, "tests", "zone", "data", "mistakes.example.zone")
failures = 0
passed = 0


def check(cond, msg):
    global failures, passed
    if cond:
        passed += 1
    else:
        failures += 1
        print("FAIL: " + msg)


def run(args):
    return subprocess.run([ZC] + args, capture_output=True, timeout=120)


def findings(p):
    return [json.loads(line) for line in p.stdout.decode().splitlines()]


def expectations(path):
    """[(line, rule)] from "; expect: rule" markers: the rule applies to the
    next line that is not a comment."""
    out = []
    lines = open(path).read().split("\n")
    for i, text in enumerate(lines):
        m = re.match(r";\s*expect:\s*([a-z0-9-]+)", text)
        if not m:
            continue
        j = i + 1
        while j < len(lines) and lines[j].lstrip().startswith(";"):
            j += 1
        out.append((j + 1, m.group(1)))
    return out


def test_cli():
    p = run(["--help"])
    check(p.returncode == 0 and b"Usage: kms-zonecheck" in p.stdout, "--help")
    helptext = p.stdout.decode()
    check(run(["--version"]).returncode == 0, "--version")
    check(run([]).returncode == 2, "no file: usage error")
    check(run(["--bogus", MISTAKES]).returncode == 2, "bad option")
    check(run(["--origin", "a..b", MISTAKES]).returncode == 2, "bad origin")
    check(run(["--live", "nonsense", MISTAKES]).returncode == 2, "bad --live")
    p = run(["/nonexistent/zone"])
    check(p.returncode == 2 and b"cannot read" in p.stderr, "unreadable: exit 2")
    man = open(os.path.join(SRC, "docs", "man", "kms-zonecheck.1")).read()
    man = man.replace("\\-", "-")
    hopts = set(re.findall(r"--[a-z][a-z-]+", helptext))
    mopts = set(re.findall(r"--[a-z][a-z-]+", man))
    check(hopts and hopts == mopts, f"man/--help options differ: {hopts ^ mopts}")


def test_offline_mistakes():
    p = run(["--json", MISTAKES])
    check(p.returncode == 1, f"mistakes: exit {p.returncode}")
    items = findings(p)
    keys = {"type", "file", "line", "severity", "rule", "message", "name"}
    for f in items:
        check(set(f) == keys, f"finding keys {set(f)}")
        check(f["type"] == "finding" and f["file"] == MISTAKES, "type/file")
        check(f["severity"] in ("error", "warning", "info"), "severity")
    got = {(f["line"], f["rule"]) for f in items}
    exp = expectations(MISTAKES)
    check(len(exp) >= 20, "enough expectations in the test zone")
    for line, rule in exp:
        check((line, rule) in got, f"line {line}: expected {rule}; got "
              f"{sorted(r for l, r in got if l == line)}")
    # checking went on after the first syntax error, to the end of the file
    last_syntax = min(line for line, rule in exp if rule == "srv-field-count")
    check(max(f["line"] for f in items) > last_syntax + 40, "went on after errors")
    # text format: file:line: severity: message [rule]
    p = run([MISTAKES])
    first = p.stdout.decode().splitlines()[0]
    check(re.fullmatch(re.escape(MISTAKES) + r":\d+: (error|warning|info): .+ \[[a-z0-9-]+\]",
                       first) is not None, f"text line format: {first}")
    p = run(["--quiet", MISTAKES])
    check(all(": error: " in line for line in p.stdout.decode().splitlines()),
          "--quiet shows errors only")


def lab_zone_files():
    return sorted(os.path.join(ZONES, f) for f in os.listdir(ZONES)
                  if f.endswith(".zone"))


def summary_names(stderr):
    m = re.search(rb"\(compared with the live server\); (\d+) names? queried live",
                  stderr)
    return int(m.group(1)) if m else -1


def test_live_agrees(lab):
    """Every lab zone file against NSD serving it: the SRV sets, the
    addresses of in-zone targets, the names without SRV and the zone's own
    _vlmcs._tcp name all agree, so no live-* finding; and the comparison
    really ran (names were compared)."""
    for z in lab_zone_files():
        base = os.path.basename(z)
        live = run(["--json", "--live", lab.server(), z])
        fl = findings(live)
        extra = [f for f in fl if f["rule"].startswith("live-")]
        check(not extra, f"{base}: live differs: {extra}")
        text = run(["--live", lab.server(), z])
        n = summary_names(text.stderr)
        check(n >= 1, f"{base}: names compared: {n} ({text.stderr[-200:]!r})")
    # corp.example: 1 owner, 4 in-zone targets, no other origin
    p = run(["--live", lab.server(), os.path.join(ZONES, "corp.example.zone")])
    check(summary_names(p.stderr) == 5, f"corp: 5 names compared: {p.stderr!r}")
    if lab.ipv6:
        p = run(["--json", "--live", lab.server(v6=True),
                 os.path.join(ZONES, "corp.example.zone")])
        check(p.returncode == 0 and not any(f["rule"].startswith("live-")
                                            for f in findings(p)), "live over IPv6")


CORP = os.path.join(ZONES, "corp.example.zone")
SRV_LINES = [
    "_vlmcs._tcp        IN SRV 0 60 1688 kms1.corp.example.",
    "_vlmcs._tcp        IN SRV 0 30 1688 kms2.corp.example.",
    "_vlmcs._tcp        IN SRV 0 10 1688 kms3.corp.example.",
    "_vlmcs._tcp        IN SRV 10 0 1688 kms-backup.corp.example.",
]


def live_copy(lab, td, name, edit):
    """A modified copy of corp.example's file, checked --live against NSD
    serving the original. Returns (findings, exit code, text lines)."""
    text = open(CORP).read()
    for line in SRV_LINES:
        check(line in text, f"corp.example.zone has {line!r}")
    text = edit(text)
    z = os.path.join(td, name)
    open(z, "w").write(text)
    p = run(["--json", "--live", lab.server(), z])
    off = findings(run(["--json", z]))
    check(not any(f["rule"].startswith("live-") for f in off),
          f"{name}: offline has no live-* finding")
    return findings(p), p.returncode, text.split("\n")


def line_of(lines, text):
    return lines.index(text) + 1


def test_live_differs(lab):
    with tempfile.TemporaryDirectory() as td:
        # SRV set: drop kms2, change kms1's TTL, add a new host
        def srv_edit(text):
            text = text.replace(SRV_LINES[1] + "\n", "")
            text = text.replace(SRV_LINES[0], SRV_LINES[0].replace(
                "_vlmcs._tcp        IN", "_vlmcs._tcp 60     IN"))
            text += "_vlmcs._tcp        IN SRV 0 5 1688 kms-new.corp.example.\n"
            text += "kms-new            IN A    127.0.0.14\n"
            return text
        fs, rc, lines = live_copy(lab, td, "srv.zone", srv_edit)
        rules = [f["rule"] for f in fs]
        check(rc == 1, f"live differences: exit {rc}")
        miss = [f for f in fs if f["rule"] == "live-missing"]
        check(len(miss) == 1 and "kms-new.corp.example." in miss[0]["message"],
              f"live-missing for the new record: {miss}")
        new_line = line_of(lines, "_vlmcs._tcp        IN SRV 0 5 1688 kms-new.corp.example.")
        check(miss and miss[0]["line"] == new_line, "live-missing has the line")
        ext = [f for f in fs if f["rule"] == "live-extra"]
        check(len(ext) == 1 and "kms2.corp.example." in ext[0]["message"],
              f"live-extra for the dropped record: {ext}")
        check("live-ttl" in rules, "live-ttl for the changed TTL")
        # the new target is in the zone file but not on the server
        am = [f for f in fs if f["rule"] == "live-address-missing"]
        check(len(am) == 1 and "127.0.0.14" in am[0]["message"] and
              am[0]["line"] == line_of(lines, "kms-new            IN A    127.0.0.14"),
              f"live-address-missing for kms-new: {am}")

        # addresses: kms1 moved to another A in the file (the server still
        # serves the old one), kms3's AAAA dropped from the file
        def addr_edit(text):
            text = text.replace("kms1               IN A    127.0.0.11",
                                "kms1               IN A    127.0.0.99")
            return text.replace("kms3               IN AAAA ::1\n", "")
        fs, rc, lines = live_copy(lab, td, "addr.zone", addr_edit)
        am = [f for f in fs if f["rule"] == "live-address-missing"]
        ae = [f for f in fs if f["rule"] == "live-address-extra"]
        check(rc == 1, f"address differences: exit {rc}")
        check(len(am) == 1 and "A 127.0.0.99" in am[0]["message"] and
              am[0]["name"] == "kms1.corp.example." and
              am[0]["line"] == line_of(lines, "kms1               IN A    127.0.0.99"),
              f"file address not served: {am}")
        check(sorted((f["name"], f["message"].split(" for ")[0].split(" serves ")[1])
                     for f in ae) ==
              [("kms1.corp.example.", "A 127.0.0.11"),
               ("kms3.corp.example.", "AAAA ::1")],
              f"served addresses not in the file: {ae}")
        check(not any(f["rule"] in ("live-missing", "live-extra") for f in fs),
              "address changes only: SRV sets agree")

        # the name has no SRV in the file (vlmcs-no-srv), the server has 4
        def nosrv_edit(text):
            for line in SRV_LINES:
                text = text.replace(line + "\n", "")
            return text + '_vlmcs._tcp        IN TXT "moved"\n'
        fs, rc, lines = live_copy(lab, td, "nosrv.zone", nosrv_edit)
        ext = [f for f in fs if f["rule"] == "live-extra"]
        check("vlmcs-no-srv" in [f["rule"] for f in fs], "offline rule still there")
        check(sorted(f["message"].split(" serves SRV ")[1].split(",")[0]
                     for f in ext) ==
              sorted(l.split(" IN SRV ")[1] for l in SRV_LINES),
              f"records served at an owner without SRV in the file: {ext}")
        check(all(f["line"] == line_of(lines, '_vlmcs._tcp        IN TXT "moved"')
                  and f["name"] == "_vlmcs._tcp.corp.example." for f in ext),
              "live-extra at the TXT record's line")

        # the file has no _vlmcs._tcp name at all, the server serves one
        def gone_edit(text):
            for line in SRV_LINES:
                text = text.replace(line + "\n", "")
            return text
        fs, rc, lines = live_copy(lab, td, "gone.zone", gone_edit)
        en = [f for f in fs if f["rule"] == "live-extra-name"]
        check(len(en) == 4 and all(f["name"] == "_vlmcs._tcp.corp.example." and
                                   f["severity"] == "warning" for f in en),
              f"served name missing from the file: {en}")
        check(sorted(f["message"].split(" serves SRV ")[1].split(" at ")[0]
                     for f in en) ==
              sorted(l.split(" IN SRV ")[1] for l in SRV_LINES),
              f"live-extra-name lists the served records: {en}")

    # a zone the server does not serve
    p = run(["--json", "--live", lab.server(), MISTAKES])
    check("live-refused" in [f["rule"] for f in findings(p)], "live-refused")
    # nothing answers
    p = run(["--json", "--timeout", "150", "--live", f"127.0.0.1:{lab.blackhole}",
             os.path.join(ZONES, "corp.example.zone")])
    fs = findings(p)
    check(p.returncode == 1 and "live-no-answer" in [f["rule"] for f in fs],
          "live-no-answer")


def test_origin_and_copy():
    with tempfile.TemporaryDirectory() as td:
        z = os.path.join(td, "db.branch")
        open(z, "w").write("_vlmcs._tcp 300 IN SRV 0 0 1688 kms\n"
                           "kms 300 IN A 127.0.0.31\n")
        p = run(["--json", z])
        check(p.returncode == 1 and "relative-without-origin" in
              [f["rule"] for f in findings(p)], "relative names need an origin")
        p = run(["--json", "--origin", "branch.example", z])
        rules = [f["rule"] for f in findings(p)]
        check(p.returncode == 0 and "target-relative" in rules and
              "target-no-address" not in rules, "--origin")
        shutil.copy(MISTAKES, os.path.join(td, "copy.zone"))
        p = run(["--json", os.path.join(td, "copy.zone"), "/nonexistent"])
        check(p.returncode == 2 and findings(p), "one unreadable file: exit 2, "
              "the others still checked")


def main():
    test_cli()
    test_offline_mistakes()
    test_origin_and_copy()
    try:
        lab = nsd_lab.NsdLab(nsd_lab.default_zones()).start()
    except nsd_lab.LabError as e:
        print(f"{passed} passed, {failures} failed (live part skipped: {e})")
        return 1 if failures else 77
    try:
        test_live_agrees(lab)
        test_live_differs(lab)
    finally:
        lab.stop()
    print(f"{passed} passed, {failures} failed")
    return 1 if failures or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
