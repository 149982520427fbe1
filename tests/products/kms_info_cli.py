#!/usr/bin/env python3
"""kms-info end to end: every subcommand in text and --json, exit codes,
--help/--version against the man page, hostile input escaped."""
import json
import os
import re
import subprocess
import sys

BIN = os.path.join(os.environ["KMSDIAG_BIN"], "kms-info")
SRC = os.environ.get("KMSDIAG_SRC", ".")
passed = failed = 0

WS2019_ON_2012R2 = "06401-00206-558-040878-03-1051-9600.0000-1912021"
WS2012R2_KEY = "06401-00206-290-000000-03-1033-9600.0000-1002015"
WIN10_KEY = "03612-00206-395-000000-03-1033-17763.0000-1002021"
WS2019_KEY = "03612-00206-560-000000-03-1033-17763.0000-1002021"
WS2025_KEY = "03612-04918-000-030000-03-1033-26100.0000-1002025"

EPID_KEYS = ["epid", "input_length", "valid", "platform_id", "platform",
             "group_id", "key_id", "csvlk", "channel", "lcid", "lcid_name",
             "host_build", "host_os", "activation_day", "activation_year",
             "activation_date", "problems", "problems_dropped"]
PRODUCT_KEYS = ["name", "family", "app_id", "app", "sku_id", "kms_id",
                "kms_group", "n_policy", "protocol", "gvlk", "lines",
                "verified", "confidence", "note"]


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


def run(*args, stdin=None):
    p = subprocess.run([BIN, *args], input=stdin, capture_output=True,
                       timeout=60)
    return p.returncode, p.stdout, p.stderr


def no_raw_controls(b):
    return all(c >= 0x20 or c in (0x0a,) for c in b) and b"\x1b" not in b


def jrun(*args, stdin=None):
    rc, out, err = run("--json", *args, stdin=stdin)
    out.decode("utf-8")  # always valid UTF-8
    recs = [json.loads(line) for line in out.splitlines()]
    for r in recs:
        check("type" in r, "every record has a type")
    return rc, recs, err


def test_help_version_man():
    rc, out, err = run("--help")
    check(rc == 0 and err == b"", "--help exits 0 quietly")
    text = out.decode()
    for cmd in ("epid", "product", "products", "can-activate"):
        check(cmd in text, f"--help names {cmd}")
    rc, out, _ = run("--version")
    check(rc == 0 and re.match(rb"kms-info \d+\.\d+\.\d+ \(libkmsdiag ", out),
          "--version")
    # the man page documents every option and command of --help
    man = open(os.path.join(SRC, "docs/man/kms-info.1"), encoding="utf-8").read()
    man_plain = man.replace("\\-", "-").replace("\\fR", "").replace("\\fP", "")
    opts = set(re.findall(r"(--[a-z][a-z-]+)", text)) | {"-h"}
    check(len(opts) >= 6, "help lists options")
    for o in opts:
        check(o in man_plain, f"man page documents {o}")
    section = man_plain.split(".SH COMMANDS")[1].split(".SH OPTIONS")[0]
    for cmd in ("epid", "product", "products", "can-activate"):
        check(re.search(r'^\.TP\n\.BI? "?' + cmd + r'\b', section, re.M),
              f"man page has command {cmd}")
    for code in ("0", "1", "2"):
        check(f"\n.B {code}\n" in man and f"  {code}  " in text,
              f"exit status {code} in help and man page")
    # help text in the man page's EXIT STATUS agrees on meanings
    check("usage error" in text.lower() and "Usage error" in man,
          "exit 2 is usage in both")


def test_epid():
    rc, out, err = run(WS2019_ON_2012R2)
    check(rc == 2 and b"unknown command" in err and out == b"",
          "bare ePID is a usage error")
    rc, out, err = run("epid", WS2019_ON_2012R2)
    t = out.decode()
    check(rc == 0, "interop ePID exit 0")
    check("Windows Server 2019" in t and "2021-07-10" in t and
          "Windows 8.1 / Windows Server 2012 R2" in t and "sk-SK" in t,
          "epid text names host key, date, OS, LCID")
    rc, recs, _ = jrun("epid", WS2019_ON_2012R2)
    check(rc == 0 and len(recs) == 1 and recs[0]["type"] == "epid",
          "epid --json one record")
    e = recs[0]["epid"]
    check(list(e.keys()) == EPID_KEYS, "epid keys stable")
    check(e["valid"] is True and e["platform_id"] == 6401 and
          e["group_id"] == 206 and e["key_id"] == 558040878 and
          e["channel"] == 3 and e["lcid"] == 1051 and
          e["host_build"] == 9600 and e["activation_day"] == 191 and
          e["activation_year"] == 2021 and
          e["activation_date"] == "2021-07-10" and e["problems"] == [],
          "epid --json fields")
    check(e["csvlk"]["name"] == "Windows Server 2019" and
          e["csvlk"]["verified"] is True and
          "Windows 11" not in e["csvlk"]["activates"], "epid csvlk")

    # every interop ePID parses
    for s, os_has in (("06401-00206-555-524955-03-1069-9600.0000-0182022",
                       "2012 R2"),
                      ("03612-00206-562-856904-03-12289-17763.0000-0902026",
                       "Server 2019"),
                      ("06401-00206-562-755972-03-8251-9600.0000-0042021",
                       "2012 R2")):
        rc, recs, _ = jrun("--now", "2026-11-22", "epid", s)
        check(rc == 0 and os_has in recs[0]["epid"]["host_os"],
              f"interop {s}")

    # problems and exit codes; --now makes the date check deterministic
    fut = "03612-00206-560-000000-03-1033-17763.0000-1002030"
    rc, recs, _ = jrun("--now", "2026-11-22", "epid", fut)
    rules = [p["rule"] for p in recs[0]["epid"]["problems"]]
    check(rc == 1 and rules == ["date_future"], "future date is an error")
    rc, recs, _ = jrun("--now=2031-01-01", "epid", fut)
    check(rc == 0 and recs[0]["epid"]["problems"] == [], "--now moves today")
    rc, out, _ = run("--now", "2026-11-22", "epid", fut)
    check(rc == 1 and b"date_future" in out and b"error" in out,
          "text lists the problem")
    rc, recs, _ = jrun("epid", "03612-00206-560-000000-03-1033-17763.0000-0002021")
    check(rc == 1 and recs[0]["epid"]["problems"][0]["rule"] == "day_zero",
          "day 0")
    # an unknown platform ID is an impossible value (issue 3): an error,
    # exit 1, in text and JSON
    for pid in ("12345", "99999", "00000"):
        rc, recs, _ = jrun("epid", pid +
                           "-00206-560-000000-03-1033-17763.0000-1002021")
        probs = recs[0]["epid"]["problems"]
        check(rc == 1 and recs[0]["epid"]["valid"] is True and
              [p["rule"] for p in probs] == ["platform_unknown"] and
              probs[0]["severity"] == "error",
              f"unknown platform {pid} is an error, exit 1")
    rc, out, _ = run("epid", "99999-00206-560-000000-03-1033-17763.0000-1002021")
    check(rc == 1 and re.search(rb"error +\[platform_unknown\]", out),
          "unknown platform: text names the error")

    # not an ePID
    rc, recs, err = jrun("epid", "06401-00206")
    e = recs[0]["epid"]
    check(rc == 1 and e["valid"] is False and e["platform_id"] is None and
          e["problems"][0]["rule"] == "syntax" and recs[0]["status"] ==
          "KMSDIAG_EPARSE" and b"not a valid ePID" in err, "syntax error")

    # hostile bytes: control characters, bidi override, invalid UTF-8
    hostile = b"06401\x1b]0;pwned\x07\xe2\x80\xae\xff-00206"
    rc, out, err = run("epid", hostile)
    check(rc == 1 and no_raw_controls(out) and no_raw_controls(err) and
          b"\\x1b" in out and b"\\xe2\\x80\\xae" in out,
          "hostile ePID escaped in text")
    rc, recs, _ = jrun("epid", hostile)
    check(recs[0]["epid"]["epid"] ==
          "06401\x1b]0;pwned\x07\u202e\ufffd-00206", "hostile ePID in JSON")
    rc, out, _ = run("--json", "epid", hostile)
    check(b"\x1b" not in out and b"\x07" not in out, "JSON has no raw ESC/BEL")

    # huge input through stdin: capped, one short answer
    big = b"7" * (1 << 20)
    rc, recs, _ = jrun("epid", "-", stdin=big)
    e = recs[0]["epid"]
    check(rc == 1 and e["input_length"] == 1 << 20 and len(e["epid"]) == 63
          and e["problems"][0]["rule"] == "too_long", "huge ePID via stdin")
    rc, out, _ = run("epid", "-", stdin=big)
    check(rc == 1 and len(out) < 2000, "huge ePID text output is short")
    rc, recs, _ = jrun("epid", "-", stdin=(WS2019_ON_2012R2 + "\n").encode())
    check(rc == 0 and recs[0]["epid"]["valid"], "ePID from stdin")
    rc, out, err = run("epid", "a" * 100000)
    check(rc == 1 and len(out) < 2000, "huge ePID argument")


def test_product():
    rc, out, _ = run("product", "2022 datacenter")
    t = out.decode()
    check(rc == 0 and "Windows Server 2022 Datacenter  [unverified]" in t and
          "WX4NM-KYWYW-QJJR4-XV3QB-6VM33" in t and "N policy:          5" in t,
          "product text")
    rc, recs, _ = jrun("product", "2022 datacenter")
    p = recs[0]["product"]
    check(rc == 0 and recs[0]["type"] == "product" and
          list(p.keys()) == PRODUCT_KEYS, "product keys stable")
    check(p["name"] == "Windows Server 2022 Datacenter" and
          p["sku_id"] == "ef6cfc9f-8c5d-44ac-9aad-de6a2ea0ae03" and
          p["app_id"] == "55c92734-d682-4d71-983e-d6ec3f16059f" and
          p["n_policy"] == 5 and p["protocol"] == "6.0" and
          p["verified"] is False and p["confidence"] == "unverified",
          "product fields, unverified flagged")
    by = [k["csvlk"] for k in recs[0]["activated_by"]]
    check(by == ["Windows Server 2025", "Windows Server 2022"],
          "WS2022 is activated by the 2025 and 2022 host keys")
    check("Host keys (CSVLK): Windows Server 2025, Windows Server 2022\n" in t,
          "product text lists host keys")
    rc, recs, _ = jrun("product", "windows 7 professional")
    by = [k["csvlk"] for k in recs[0]["activated_by"]]
    check("Windows Server 2019" in by and "Windows 10 (2015)" in by and
          "Office 2010" not in by, "Windows 7 host keys")
    rc, recs, _ = jrun("product", "nppr9-fwdcx-d2c8j-h872k-2yt43")
    check(rc == 0 and recs[0]["product"]["name"] == "Windows 10/11 Enterprise"
          and recs[0]["product"]["n_policy"] == 25 and
          recs[0]["product"]["kms_id"] ==
          "58e2134f-8e11-4d17-9cb2-91069c151148", "product by GVLK")
    rc, recs, _ = jrun("product", "{DE32EAFD-AAEE-4662-9444-C1BEFB41BDE2}")
    check(rc == 0 and recs[0]["product"]["name"] ==
          "Windows Server 2019 Standard" and
          recs[0]["product"]["verified"] is True, "product by SKU ID")
    rc, recs, _ = jrun("product", "58e2134f-8e11-4d17-9cb2-91069c151148")
    check(rc == 0 and recs[0]["type"] == "kms_group" and
          recs[0]["kms_group"]["n_policy"] == 25 and
          "Windows 10/11 Enterprise" in recs[0]["products"],
          "KMS counted ID lookup")
    rc, recs, _ = jrun("product", "0ff1ce15-a989-479d-af46-f275c6370663")
    check(rc == 0 and recs[0]["type"] == "app" and
          "Office" in recs[0]["app"]["name"], "application ID lookup")
    rc, out, _ = run("product", "4b83307d-7788-50ff-8d1f-1861915bdb9d")
    check(rc == 0 and b"[unverified]" in out and b"placeholder" in out,
          "placeholder counted ID says so")

    rc, out, err = run("product", "datacenter")
    check(rc == 1 and b"be more specific" in out and
          b"Windows Server 2012 R2 Datacenter" in out and b"ambiguous" in err,
          "ambiguous text")
    rc, recs, _ = jrun("product", "DATACENTER")
    c = recs[0]
    check(rc == 1 and c["type"] == "ambiguous" and c["matches"] >= 10 and
          len(c["candidates"]) == c["matches"] and
          all("Datacenter" in x["name"] for x in c["candidates"]),
          "ambiguous JSON lists candidates")
    # a bare year names products of several families: the candidates are
    # listed (exit 1), none is picked
    for q, want in (("2019", ["Office 2019 (volume)",
                              "Windows Server 2019 Standard",
                              "Windows 10/11 Enterprise LTSC 2019/2021/2024"]),
                    ("2016", ["Office 2016 (volume)",
                              "Windows Server 2016 Standard",
                              "Windows 10 Enterprise LTSB 2016"]),
                    ("2021", ["Office LTSC 2021 (volume)",
                              "Windows 10/11 Enterprise LTSC 2019/2021/2024"]),
                    ("ltsc 2024", ["Office LTSC 2024 (volume)",
                                   "Windows 10/11 Enterprise LTSC 2019/2021/2024",
                                   "Windows IoT Enterprise LTSC 2021/2024"])):
        rc, out, err = run("product", q)
        t = out.decode()
        check(rc == 1 and "be more specific" in t and
              all("  " + w in t for w in want) and b"ambiguous" in err and
              "Product:" not in t, f"product {q!r} is ambiguous")
        rc, recs, _ = jrun("product", q)
        names = [c["name"] for c in recs[0]["candidates"]]
        check(rc == 1 and recs[0]["type"] == "ambiguous" and
              all(w in names for w in want), f"product {q!r} JSON candidates")
    rc, recs, err = jrun("product", "Windows 12 Home")
    check(rc == 1 and recs[0]["type"] == "not_found" and
          recs[0]["query"] == "Windows 12 Home" and b"no product" in err,
          "not found")
    rc, out, err = run("product", b"\x1b[2J\xff")
    check(rc == 1 and no_raw_controls(out) and no_raw_controls(err) and
          b"\\x1b[2J\\xff" in err, "hostile product query escaped")
    rc, recs, _ = jrun("product", "x" * 1000)
    check(rc == 1 and recs[0]["status"] == "KMSDIAG_ETOOBIG", "long query")


def test_products():
    rc, out, _ = run("products")
    rows = out.decode().splitlines()
    check(rc == 0 and rows[0].startswith("PRODUCT") and len(rows) > 80,
          "products text table")
    rc, recs, _ = jrun("products")
    check(rc == 0 and len(recs) == len(rows) - 1, "one record per row")
    names = [r["product"]["name"] for r in recs]
    skus = [r["product"]["sku_id"] for r in recs if r["product"]["sku_id"]]
    check(len(set(names)) == len(names), "product names unique")
    check(len(set(skus)) == len(skus), "SKU IDs unique")
    for r in recs:
        p = r["product"]
        check(r["type"] == "product" and list(p.keys()) == PRODUCT_KEYS,
              "products record keys")
        check(p["gvlk"] is None or
              re.fullmatch(r"([0-9A-Z]{5}-){4}[0-9A-Z]{5}", p["gvlk"]),
              f"GVLK form {p['name']}")
        check(p["n_policy"] in (5, 25) and p["protocol"] in
              ("4.0", "5.0", "6.0"), "N policy and protocol")
        check(p["family"] in ("windows_client", "windows_server", "office"),
              "family")
        if p["family"] == "windows_server":
            check(p["n_policy"] == 5, "servers need 5")
    check(sum(1 for r in recs if not r["product"]["verified"]) >= 5,
          "unverified entries marked")


def test_can_activate():
    rc, out, _ = run("can-activate", "--epid", WS2012R2_KEY, "--product",
                     "windows 11 enterprise")
    t = out.decode()
    check(rc == 1 and "Can activate:      NO" in t and "0xC004F042" in t and
          "Windows 11" in t, "2012 R2 host cannot activate Windows 11")
    rc, recs, _ = jrun("can-activate", "--product=windows 11 enterprise",
                       "--epid=" + WS2019_ON_2012R2)
    r = recs[0]
    check(rc == 1 and r["type"] == "can_activate" and r["answer"] == "no" and
          r["verdict"]["hresult"] == "0xC004F042" and
          r["verdict"]["verified"] is True and
          r["asked_lines"] == ["Windows 11"] and
          list(r["epid"].keys()) == EPID_KEYS and
          list(r["product"].keys()) == PRODUCT_KEYS,
          "WS2019 key: no Windows 11 (JSON)")
    rc, recs, _ = jrun("can-activate", "--epid", WS2019_ON_2012R2,
                       "--product", "Windows 10/11 Enterprise")
    check(rc == 1 and recs[0]["answer"] == "partly", "partly")
    rc, recs, _ = jrun("can-activate", "--epid", WS2019_KEY, "--product",
                       "ws2019 std")
    check(rc == 0 and recs[0]["answer"] == "yes" and
          recs[0]["verdict"]["hresult"] is None, "yes exits 0")
    rc, out, _ = run("can-activate", "--epid", WIN10_KEY, "--product",
                     "ws2019 std")
    check(rc == 1 and b"NO" in out and b"client editions only" in out,
          "client-OS host cannot activate a server")
    rc, recs, _ = jrun("can-activate", "--epid", "garbage", "--product",
                       "ws2019 std")
    check(rc == 1 and recs[0]["answer"] == "unknown", "bad ePID: unknown")
    rc, recs, _ = jrun("can-activate", "--epid", WS2019_KEY, "--product",
                       "datacenter")
    check(rc == 1 and recs[0]["type"] == "ambiguous", "ambiguous product")
    # an ambiguous --product is never answered for one of the candidates
    rc, out, err = run("can-activate", "--epid", WS2025_KEY, "--product",
                       "ltsc 2024")
    t = out.decode()
    check(rc == 1 and "Can activate:" not in t and
          "  Office LTSC 2024 (volume)" in t and
          "  Windows 10/11 Enterprise LTSC 2019/2021/2024" in t and
          b"ambiguous" in err, "can-activate 'ltsc 2024' lists candidates")
    rc, recs, _ = jrun("can-activate", "--epid", WS2025_KEY, "--product",
                       "office ltsc 2024")
    check(recs[0]["type"] == "can_activate" and
          recs[0]["product"]["name"] == "Office LTSC 2024 (volume)",
          "can-activate 'office ltsc 2024' names one product")
    rc, recs, _ = jrun("can-activate", "--epid", WS2019_KEY, "--product",
                       "nothing like it")
    check(rc == 1 and recs[0]["type"] == "not_found", "unknown product")


# one ePID per host key: the five rows of Microsoft's table, an assumed
# list (2012 R2) and an Office key
KEY_EPIDS = {
    "Windows Server 2025": WS2025_KEY,
    "Windows Server 2022": "03612-04573-010-000000-03-1033-20348.0000-1002022",
    "Windows Server 2019": WS2019_KEY,
    "Windows Server 2016": "03612-00206-491-000000-03-1033-14393.0000-1002017",
    "Windows 10 (2015)": WIN10_KEY,
    "Windows Server 2012 R2": WS2012R2_KEY,
    "Office 2010": "06401-00096-204-917321-03-1063-9600.0000-0252023",
}


def test_product_agrees_with_can_activate():
    """For every product, the host keys 'product' lists (text and JSON) are
    exactly those for which 'can-activate' answers yes (and likewise partly
    and unknown)."""
    rc, recs, _ = jrun("products")
    names = [r["product"]["name"] for r in recs]
    check(rc == 0 and len(names) > 80, "product names for the agreement")
    for name in names:
        rc, precs, _ = jrun("product", name)
        r = precs[0]
        by = {x["csvlk"]: x["answer"] for x in r["activated_by"]}
        unk = {x["csvlk"] for x in r["activation_unknown"]}
        check(rc == 0 and all(a in ("yes", "partly") for a in by.values())
              and not (set(by) & unk), f"{name}: activated_by answers")
        _, out, _ = run("product", name)
        text = out.decode()
        for key, epid in KEY_EPIDS.items():
            rc, crecs, _ = jrun("--now", "2026-11-22", "can-activate",
                                "--epid", epid, "--product", name)
            ans = crecs[0]["answer"]
            listed = "unknown" if key in unk else by.get(key, "no")
            check(ans == listed and (rc == 0) == (ans == "yes"),
                  f"{name} / {key}: product lists {listed}, can-activate "
                  f"says {ans}")
            m = re.search(r"^Host keys \(CSVLK\): (.*)$", text, re.M)
            yes_text = m.group(1).split(", ") if m else []
            in_text = key in [k.replace(" [unverified]", "") for k in yes_text]
            check(in_text == (ans == "yes"),
                  f"{name} / {key}: text host key list agrees ({ans})")


def test_host_key_lists():
    # Windows 10 Pro, asked as unquoted words: the WS2019 host key
    # activates it (facts 2.1), and can-activate agrees
    rc, out, err = run("product", "windows", "10", "pro")
    t = out.decode()
    check(rc == 0 and "Product:           Windows 10/11 Pro\n" in t and
          "  asked about:     Windows 10\n" in t, "product windows 10 pro "
          "unquoted")
    m = re.search(r"^Host keys \(CSVLK\): (.*)$", t, re.M)
    keys = m.group(1).split(", ") if m else []
    check(keys[:5] == ["Windows Server 2025", "Windows Server 2022",
                       "Windows Server 2019", "Windows Server 2016",
                       "Windows 10 (2015)"], f"Windows 10 host keys {keys}")
    rc2, out2, _ = run("product", "windows 10 pro")
    check(rc2 == 0 and out2 == out, "unquoted words equal the quoted name")
    rc, out, _ = run("can-activate", "--epid", WS2019_KEY, "--product",
                     "windows 10 pro")
    check(rc == 0 and b"Can activate:      YES" in out,
          "WS2019 key activates Windows 10 Pro")
    # the whole row: the WS2019 key covers only its Windows 10 line
    rc, recs, _ = jrun("product", "Windows 10/11 Pro")
    by = {x["csvlk"]: x for x in recs[0]["activated_by"]}
    check(by.get("Windows Server 2019", {}).get("answer") == "partly" and
          by["Windows Server 2019"]["lines"] == ["Windows 10"] and
          by["Windows Server 2025"]["answer"] == "yes" and
          recs[0]["asked_lines"] == ["Windows 10", "Windows 11"],
          "partial coverage marked in JSON")
    rc, out, _ = run("product", "Windows 10/11 Pro")
    check(b"  partly:          Windows Server 2019 (Windows 10 only)" in out,
          "partial coverage marked in text")
    # Windows 8: in no row of Microsoft's table
    rc, out, _ = run("product", "windows 8 pro")
    check(rc == 0 and re.search(rb"^  not known for:   Windows Server 2025, "
                                rb".*does not list Windows 8\)$", out, re.M),
          "Windows 8: Microsoft's host keys not known")


def test_unlisted_product():
    for q in ("windows 8 pro", "vista business"):
        rc, out, _ = run("can-activate", "--epid", WS2025_KEY, "--product", q)
        t = out.decode()
        check(rc == 1 and "Can activate:      UNKNOWN" in t and
              "does not list" in t and "0xC004F042" not in t and
              "install" not in t and "newer" not in t,
              f"WS2025 key / {q}: unknown, no impossible remedy")
        rc, recs, _ = jrun("can-activate", "--epid", WS2025_KEY, "--product",
                           q)
        v = recs[0]["verdict"]
        check(recs[0]["answer"] == "unknown" and v["hresult"] is None and
              v["verified"] is False and v["lines_no"] == [] and
              v["lines_unknown"] != [], f"WS2025 key / {q}: JSON unknown")
    rc, out, _ = run("can-activate", "--epid", WS2019_KEY, "--product",
                     "windows 11 pro")
    check(rc == 1 and b"NO" in out and b"0xC004F042" in out and
          b"Windows Server 2025" in out, "WS2019 / Windows 11: the remedy "
          "names the host keys that do")


def test_facts_gvlks():
    """The bundled list of section 4 GVLKs (tests/products/facts-gvlks.tsv)
    is what test_products checks against the table; here every key is also
    found by the tool. When the facts file is present, the bundled list
    must equal its section 4 (to notice drift)."""
    rows = []
    with open(os.path.join(SRC, "tests/products/facts-gvlks.tsv"),
              encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            key, src, _ = line.rstrip("\n").split("\t", 2)
            rows.append((key, src))
    check(len(rows) == 82, f"bundled GVLK list has 82 keys ({len(rows)})")
    for key, src in rows:
        rc, recs, _ = jrun("product", key)
        p = recs[0].get("product") or {}
        check(rc == 0 and p.get("gvlk") == key, f"GVLK {key} known")
        if src == "re":
            check(p.get("verified") is False, f"GVLK {key} (py-kms only) "
                  "marked unverified")
    path = os.path.join(SRC, "..", "shared", "reference",
                        "windows-kms-facts.md")
    if not os.path.exists(path):
        print("SKIP: live cross-check of facts-gvlks.tsv against "
              "windows-kms-facts.md (file not found); the bundled list was "
              "checked")
        return
    text = open(path, encoding="utf-8").read()
    sect = text.split("## 4. KMS client setup keys", 1)[1].split("\n## ", 1)[0]
    live = set(re.findall(r"\b(?:[0-9A-Z]{5}-){4}[0-9A-Z]{5}\b", sect))
    check(live == {k for k, _ in rows},
          f"facts section 4 and facts-gvlks.tsv differ: "
          f"{sorted(live ^ {k for k, _ in rows})}")


def test_usage():
    for args in ([], ["frobnicate"], ["--bogus", "products"], ["epid"],
                 ["epid", "a", "b"], ["product"], ["products", "x"],
                 ["--now", "2026-13-01", "products"], ["--now"],
                 ["--now", "2026-02-31", "products"],
                 ["--now", "26-11-22xx", "products"],
                 ["epid", "--epid", WS2019_KEY],
                 ["can-activate", "--epid", WS2019_KEY],
                 ["can-activate", "--product", "x"],
                 ["can-activate", "--epid"],
                 ["can-activate", "x", "--epid", "a", "--product", "b"],
                 [b"\x1b[31m"]):
        rc, out, err = run(*args)
        check(rc == 2 and out == b"" and err != b"" and no_raw_controls(err),
              f"usage error {args!r}")


def main():
    test_help_version_man()
    test_epid()
    test_product()
    test_products()
    test_can_activate()
    test_host_key_lists()
    test_unlisted_product()
    test_product_agrees_with_can_activate()
    test_facts_gvlks()
    test_usage()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
