#!/usr/bin/env python3
"""test_find_lab.py: kms-find end to end against NSD (tests/lab) serving
tests/lab/zones/: JSON keys, text output, exit codes, search list from a
resolver configuration, IPv6 server, timeouts, ordering, --file, and that
the man page documents every option of --help."""
import json
import os
import re
import subprocess
import sys
import tempfile

SRC = os.environ.get("KMSDIAG_SRC") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("KMSDIAG_BIN")
if not BIN:
    print("SKIP: KMSDIAG_BIN not set (run through ctest)")
    sys.exit(77)
FIND = os.path.join(BIN, "kms-find")
sys.path.insert(0, os.path.join(SRC, "tests", "lab"))
import nsd_lab  # noqa: E402

failures = 0
passed = 0


def check(cond, msg):
    global failures, passed
    if cond:
        passed += 1
    else:
        failures += 1
        print("FAIL: " + msg)


def run(args, env=None, stdin=None):
    e = dict(os.environ)
    e.pop("KMSDIAG_RESOLV_CONF", None)
    if env:
        e.update(env)
    return subprocess.run([FIND] + args, capture_output=True, env=e,
                          input=stdin, timeout=120)


def objs(p):
    out = []
    for line in p.stdout.decode("utf-8").splitlines():
        out.append(json.loads(line))
    return out


def by_domain(items):
    return {o["domain"]: o for o in items}


def rules(o):
    return [x["rule"] for x in o["problems"]]


def test_cli():
    p = run(["--help"])
    check(p.returncode == 0 and b"Usage: kms-find" in p.stdout, "--help")
    helptext = p.stdout.decode()
    p = run(["--version"])
    check(p.returncode == 0 and p.stdout.startswith(b"kms-find "), "--version")
    for bad in (["--bogus"], ["--timeout", "abc", "x.example"],
                ["--timeout", "5", "x.example"], ["-s", "dns.example", "x"],
                ["-s", "127.0.0.1:99999", "x"], ["--parallel", "0", "x"],
                ["-f", "/dev/null", "x.example"]):
        p = run(bad)
        check(p.returncode == 2, f"usage error {bad}: exit {p.returncode}")
        check(b"kms-find:" in p.stderr, f"usage error {bad} explained")
    # every long option of --help is in the man page, and the reverse
    man = open(os.path.join(SRC, "docs", "man", "kms-find.1")).read()
    man_plain = man.replace("\\-", "-")
    hopts = set(re.findall(r"--[a-z][a-z-]+", helptext))
    mopts = set(re.findall(r"--[a-z][a-z-]+", man_plain))
    check(hopts and hopts <= mopts, f"man page lacks {hopts - mopts}")
    check(mopts <= hopts, f"man page has options --help lacks: {mopts - hopts}")
    for code in ("0x8007232B", "0x8007251D", "0x8007232A", "0x8007007B"):
        check(code in man_plain, f"man page explains {code}")


def test_json(lab):
    doms = ["corp.example", "nokms.example", "nodata.example", "big.example",
            "cname.example", "absent.example", "port.example",
            "stale.example", "nearmiss.example", "typo.example"]
    p = run(["--json", "--seed", "3", "-s", lab.server()] + doms)
    check(p.returncode == 0, f"json run exit {p.returncode}")
    items = objs(p)
    check([o["domain"] for o in items] == doms, "one object per domain, in order")
    need = {"type", "domain", "qname", "rcode", "hresult", "server", "records",
            "problems"}
    for o in items:
        check(need <= set(o), f"keys missing in {o['domain']}: {need - set(o)}")
        check(o["type"] == "srv_lookup", "type srv_lookup")
        check(o["server"] == lab.server(), f"server {o['server']}")
        check(re.fullmatch(r"0x[0-9A-F]{8}", o["hresult"]) is not None,
              "hresult format")
        for r in o["records"]:
            check({"target", "port", "priority", "weight", "ttl",
                   "addresses"} <= set(r), "record keys")
        for pr in o["problems"]:
            check(set(pr) >= {"severity", "rule", "message"}, "problem keys")
            check(pr["severity"] in ("error", "warning", "info"), "severity")
            check(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", pr["rule"]) is not None,
                  f"kebab-case rule {pr['rule']}")
    d = by_domain(items)
    corp = d["corp.example"]
    check(corp["hresult"] == "0x00000000" and corp["rcode"] == "NOERROR", "corp ok")
    check(corp["qname"] == "_vlmcs._tcp.corp.example.", "corp qname")
    check(len(corp["records"]) == 4 and corp["usable_hosts"] == 4, "corp records")
    prios = [r["priority"] for r in corp["records"]]
    check(prios == sorted(prios) and prios[-1] == 10, f"priority order {prios}")
    kms1 = [r for r in corp["records"] if r["target"] == "kms1.corp.example."][0]
    check(sorted(a["address"] for a in kms1["addresses"]) == ["127.0.0.11", "::1"],
          "kms1 addresses")
    check(kms1["weight"] == 60 and kms1["ttl"] == 3600 and kms1["port"] == 1688,
          "kms1 fields")
    kms3 = [r for r in corp["records"] if r["target"] == "kms3.corp.example."][0]
    check([a["family"] for a in kms3["addresses"]] == ["ipv6"], "IPv6 target")
    check(d["nokms.example"]["hresult"] == "0x8007232B" and
          d["nokms.example"]["rcode"] == "NXDOMAIN", "NXDOMAIN")
    check(d["nodata.example"]["hresult"] == "0x8007251D", "no SRV data")
    big = d["big.example"]
    check(big["transport"] == "tcp" and big["truncated_udp"] and
          len(big["records"]) == 40, "truncation to TCP")
    check("target-cname" in rules(d["cname.example"]), "CNAME target")
    check("target-root" in rules(d["absent.example"]) and
          d["absent.example"]["usable_hosts"] == 0, "target .")
    # records but nothing to contact: not "SRV records found" with 0
    check(d["absent.example"]["hresult"] == "0xC004F074" and
          d["absent.example"]["hresult_message"] != d["corp.example"]["hresult_message"],
          f"target . outcome {d['absent.example']['hresult']}")
    check(d["stale.example"]["hresult"] == "0x00000000" and
          d["stale.example"]["usable_hosts"] == 1, "one usable host is enough")
    check("port-not-1688" in rules(d["port.example"]), "wrong port")
    check("target-no-address" in rules(d["stale.example"]), "stale target")
    check({"near-miss-label", "udp-not-tcp"} <= set(rules(d["nearmiss.example"])),
          "near-miss labels")
    check("target-doubled-origin" in rules(d["typo.example"]), "doubled origin")

    # port 0 is not a usable host; the stray _udp record is then found
    p = run(["--json", "-s", lab.server(), "portzero.example"])
    o = objs(p)[0]
    check(p.returncode == 1, f"port 0 only: exit {p.returncode}")
    check(o["usable_hosts"] == 0 and o["hresult"] == "0xC004F074",
          f"port 0: usable {o['usable_hosts']}, hresult {o['hresult']}")
    check({"port-zero", "no-usable-host", "udp-not-tcp"} <= set(rules(o)),
          f"port 0 rules {rules(o)}")
    # _vlmcs.tcp (no underscore before tcp) is a near miss too
    p = run(["--json", "-s", lab.server(), "dotlabel.example"])
    o = objs(p)[0]
    check(p.returncode == 1 and o["hresult"] == "0x8007232B" and
          any(x["rule"] == "near-miss-label" and "_vlmcs.tcp.dotlabel.example"
              in x["message"] for x in o["problems"]), f"_vlmcs.tcp: {rules(o)}")

    # only failing domains: exit 1
    p = run(["--json", "-s", lab.server(), "nokms.example", "nodata.example",
             "absent.example"])
    check(p.returncode == 1, f"no usable host: exit {p.returncode}")


def test_text(lab):
    p = run(["--seed", "1", "-s", lab.server(), "corp.example", "nokms.example"])
    t = p.stdout.decode()
    check(p.returncode == 0, "text exit 0")
    check("query:   _vlmcs._tcp.corp.example. SRV" in t, "text query line")
    check(f"NOERROR from {lab.server()} over udp" in t, "text answer line")
    check("port 1688 priority 0 weight 60 ttl 3600" in t, "text host line")
    check("0x8007232B" in t and "[nxdomain]" in t, "text NXDOMAIN")
    check("one possible client order" in t, "order is labelled as one possibility")
    check(p.stderr == b"", f"nothing on stderr: {p.stderr[:200]!r}")


def test_search_list(lab):
    with tempfile.TemporaryDirectory() as td:
        rc = os.path.join(td, "resolv.conf")
        with open(rc, "w") as f:
            f.write("nameserver 127.0.0.1\ndomain branch.example\n"
                    "search branch.example lab.example corp.example\n")
        p = run(["--json", "-s", lab.server()], env={"KMSDIAG_RESOLV_CONF": rc})
        items = objs(p)
        check([o["domain"] for o in items] ==
              ["branch.example", "lab.example", "corp.example"], "search list order")
        check([o["source"] for o in items] ==
              ["primary-suffix", "search-list", "search-list"], "sources")
        check(p.returncode == 0, "search list finds hosts")
        # the same through --resolv-conf
        p2 = run(["--json", "--resolv-conf", rc, "-s", lab.server()])
        check([o["domain"] for o in objs(p2)] == [o["domain"] for o in items],
              "--resolv-conf")
        # a --resolv-conf that cannot be read is the user's error (exit 2,
        # naming the path), not "no domain" (0x8007007B)
        for bad in (os.path.join(td, "missing.conf"), td):
            for extra in ([], ["corp.example"]):
                p3 = run(["--json", "--resolv-conf", bad, "-s", lab.server()] + extra)
                check(p3.returncode == 2 and bad.encode() in p3.stderr and
                      b"--resolv-conf" in p3.stderr and p3.stdout == b"",
                      f"unreadable --resolv-conf {bad} {extra}: exit "
                      f"{p3.returncode}, stderr {p3.stderr[:200]!r}")
        with open(rc, "w") as f:
            f.write("nameserver 127.0.0.1\n")
        p = run(["--json", "-s", lab.server()], env={"KMSDIAG_RESOLV_CONF": rc})
        items = objs(p)
        check(p.returncode == 1 and len(items) == 1, "no domain: exit 1, one object")
        check(items and items[0]["hresult"] == "0x8007007B" and
              items[0]["domain"] is None and items[0]["qname"] is None,
              "no domain: 0x8007007B, no query")
        p = run(["-s", lab.server()], env={"KMSDIAG_RESOLV_CONF": rc})
        check(b"No domain to search" in p.stdout and b"query:   none sent" in p.stdout,
              "no domain in text")
        # no server anywhere
        with open(rc, "w") as f:
            f.write("domain corp.example\n")
        p = run(["--json"], env={"KMSDIAG_RESOLV_CONF": rc})
        items = objs(p)
        check(p.returncode == 1 and items[0]["hresult"] == "0x8007232A" and
              "no DNS server" in (items[0]["error"] or ""), "no server")


def test_transport(lab):
    if lab.ipv6:
        p = run(["--json", "-s", lab.server(v6=True), "corp.example"])
        o = objs(p)[0]
        check(p.returncode == 0 and o["server"] == lab.server(v6=True), "IPv6 server")
    p = run(["--json", "--timeout", "150", "--tries", "1", "-s",
             f"127.0.0.1:{lab.blackhole}", "corp.example"])
    o = objs(p)[0]
    check(p.returncode == 1 and "timeout" in rules(o) and
          o["hresult"] == "0x8007232A" and o["server"] is None, "timeout")
    p = run(["--json", "--tries", "1", "-s", f"127.0.0.1:{lab.closed_port}",
             "corp.example"])
    o = objs(p)[0]
    check(p.returncode == 1 and "connection-refused" in rules(o), "refused port")
    # silent first server, NSD second: answer from the second
    p = run(["--json", "--timeout", "200", "-s", f"127.0.0.1:{lab.blackhole}",
             "-s", lab.server(), "corp.example"])
    o = objs(p)[0]
    check(p.returncode == 0 and o["server"] == lab.server(), "second server answers")


def test_order_and_seed(lab):
    a = objs(run(["--json", "--seed", "5", "-s", lab.server(), "big.example"]))[0]
    b = objs(run(["--json", "--seed", "5", "-s", lab.server(), "big.example"]))[0]
    check([r["target"] for r in a["records"]] == [r["target"] for r in b["records"]],
          "same seed, same order")
    orders = set()
    for seed in range(6):
        o = objs(run(["--json", "--seed", str(seed), "-s", lab.server(),
                      "big.example"]))[0]
        orders.add(tuple(r["target"] for r in o["records"]))
    check(len(orders) > 1, "different seeds give different weighted orders")

    # priority 0 / weight 0 for every host (Microsoft's guidance): the
    # client tries them in random order (facts 1.1 step 5). A fixed seed
    # gives a fixed order; across seeds every host comes first.
    def order(seed, doms=("equal.example",)):
        out = objs(run(["--json", "--seed", str(seed), "-s", lab.server()] +
                       list(doms)))
        o = [x for x in out if x["domain"] == "equal.example"][0]
        return [r["target"] for r in o["records"]]
    hosts = {f"kms-{c}.equal.example." for c in "abcd"}
    first = set()
    for seed in range(40):
        a = order(seed)
        check(set(a) == hosts and len(a) == 4, f"equal.example records {a}")
        first.add(a[0])
    check(first == hosts, f"every 0/0 host comes first for some seed: {sorted(first)}")
    check(order(11) == order(11), "0/0 set: same seed, same order")
    # a domain's order depends on the seed and the name only, not on what
    # else is looked up (or on which answer arrives first)
    check(order(11) == order(11, ("big.example", "corp.example", "equal.example")),
          "order does not depend on the other domains of the run")


def test_file_and_many(lab):
    names = []
    for i in range(300):
        names.append("corp.example" if i % 3 == 0 else
                     "nokms.example" if i % 3 == 1 else f"n{i}.nokms.example")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("# list\n\n")
        for n in names:
            f.write(f"  {n}   # comment\n")
        path = f.name
    try:
        p = run(["--json", "--no-resolve", "--parallel", "8", "-s", lab.server(),
                 "-f", path])
        items = objs(p)
        check([o["domain"] for o in items] == names, "--file: output in input order")
        check(p.returncode == 0, "--file exit")
        check(all(len(o["problems"]) == 0 or o["rcode"] != "NOERROR"
                  or o["records"] for o in items), "no-resolve results")
        p = run(["--json", "--no-resolve", "-s", lab.server(), "-f", "-"],
                stdin=b"lab.example\n")
        check(len(objs(p)) == 1 and p.returncode == 0, "--file -")
    finally:
        os.unlink(path)


def main():
    why = None
    try:
        lab = nsd_lab.NsdLab(nsd_lab.default_zones()).start()
    except nsd_lab.LabError as e:
        why = str(e)
    if why:
        print("SKIP: " + why)
        return 77
    try:
        test_cli()
        test_json(lab)
        test_text(lab)
        test_search_list(lab)
        test_transport(lab)
        test_order_and_seed(lab)
        test_file_and_many(lab)
    finally:
        lab.stop()
    print(f"{passed} passed, {failures} failed")
    return 1 if failures or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
