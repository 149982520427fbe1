#!/usr/bin/env python3
"""kms-error as a user runs it: every input form, text and --json output
(parsed with python's json module), unknown codes, garbage arguments, exit
codes 0/1/2, --help/--version, --list, --search, and the man page against
--help. Every code of the facts file's section 3 (bundled in
tests/errors/facts-codes.tsv) must be known, with the symbolic name the
facts give; when ../shared/reference/windows-kms-facts.md is present, the
bundled list must equal its section 3."""
import json
import os
import re
import subprocess
import sys

BIN = os.path.join(os.environ["KMSDIAG_BIN"], "kms-error")
SRC = os.environ.get("KMSDIAG_SRC", os.getcwd())

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


def run(*args):
    p = subprocess.run([BIN, *args], capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8")


def json_lines(text):
    out = []
    for line in text.splitlines():
        check(all(ord(c) >= 0x20 for c in line), "no raw control char in JSON line")
        out.append(json.loads(line))
    return out


REQUIRED_KEYS = {"type", "code", "name", "message", "layer", "layers", "causes",
                 "remedies", "known", "verified", "source", "severity", "format",
                 "facility", "facility_name", "code_field", "win32",
                 "software_licensing"}
LAYERS = {"dns", "tcp", "rpc", "kms-response", "host-side", "client-only",
          "online-activation"}


def check_object(o, what):
    check(REQUIRED_KEYS <= set(o), f"{what}: keys {sorted(REQUIRED_KEYS - set(o))} missing")
    check(o.get("type") == "error_code", f"{what}: type")
    check(re.fullmatch(r"0x[0-9A-F]{8}", o.get("code", "")) is not None, f"{what}: code format")
    check(isinstance(o.get("causes"), list) and isinstance(o.get("remedies"), list),
          f"{what}: lists")
    check(all(isinstance(s, str) and s for s in o.get("causes", []) + o.get("remedies", [])),
          f"{what}: list items are non-empty strings")
    if o.get("known"):
        check(isinstance(o["message"], str) and o["message"], f"{what}: message")
        check(o["layer"] in LAYERS and o["layer"] == o["layers"][0], f"{what}: layer")
        check(set(o["layers"]) <= LAYERS, f"{what}: layers")
        check(len(o["remedies"]) >= 1, f"{what}: remedies")
        check(len(o["causes"]) >= 1 or not o["verified"], f"{what}: causes")
    else:
        check(o["name"] is None and o["message"] is None and o["layer"] is None,
              f"{what}: unknown has null name/message/layer")
        check(o["causes"] == [] and o["layers"] == [] and not o["verified"],
              f"{what}: unknown has no causes/layers")
        check(any("slui.exe 0x2a " + o["code"] in r for r in o["remedies"]),
              f"{what}: unknown code gets the slui remedy")


def test_input_forms():
    # (argument, expected code) for every form people paste.
    forms = [
        ("0xC004F074", "0xC004F074"), ("0XC004F074", "0xC004F074"),
        ("0xc004f074", "0xC004F074"), ("C004F074", "0xC004F074"),
        ("c004f074", "0xC004F074"), ("3221549172", "0xC004F074"),
        ("-1073418124", "0xC004F074"), ("-1073418174", "0xC004F042"),
        ("9003", "0x8007232B"), ("1722", "0x800706BA"), ("0x6BA", "0x800706BA"),
        ("80070005", "0x80070005"), ("-2147024891", "0x80070005"),
        ("0x1C010003", "0x1C010003"),
    ]
    for arg, code in forms:
        rc, out, err = run("--json", arg)
        check(rc == 0, f"{arg}: exit 0 (got {rc}, {err!r})")
        objs = json_lines(out)
        check(len(objs) == 1, f"{arg}: one object")
        if objs:
            o = objs[0]
            check_object(o, arg)
            check(o["code"] == code, f"{arg}: code {o['code']} != {code}")
            check(o["known"] is True, f"{arg}: known")
            check(o["input"] == arg, f"{arg}: input echoed")
        rc, out, err = run(arg)
        check(rc == 0 and out.startswith(code + "  "), f"{arg}: text starts with {code}")
        for label in ("Message:", "Layer:", "Decoded:", "Causes:", "Remedies:", "Source:"):
            check(label in out, f"{arg}: text has {label}")
        check(err == "", f"{arg}: nothing on stderr")
    # The text block says how a plain number was read.
    rc, out, _ = run("1722")
    check("Win32 error 1722 as HRESULT_FROM_WIN32" in out, "1722 explained as Win32")
    check("RPC_S_SERVER_UNAVAILABLE" in out and "Layer:     tcp" in out, "1722 name and layer")
    rc, out, _ = run("-1073418124")
    check("Input:     -1073418124" in out, "negative input shown")
    rc, out, _ = run("0xC004F074")
    check("Input:" not in out, "no Input line for 0x form")
    check("SL_E_VL_BINDING_SERVICE_UNAVAILABLE" in out and "Software Licensing" in out,
          "0xC004F074 text")
    check("slmgr /skms" in out and "Test-NetConnection" in out, "0xC004F074 remedies commands")


def test_several_and_unknown():
    rc, out, err = run("--json", "0xC004F074", "0x80071234", "1722")
    check(rc == 1, f"one unknown among known: exit 1 (got {rc})")
    objs = json_lines(out)
    check([o["code"] for o in objs] == ["0xC004F074", "0x80071234", "0x800706BA"],
          "objects in argument order")
    if len(objs) == 3:
        u = objs[1]
        check_object(u, "unknown")
        check(u["known"] is False, "unknown: known false")
        check(u["win32"] == 0x1234 and u["facility"] == 7 and u["facility_name"] == "WIN32",
              "unknown decoded as Win32 4660")
        check(any("net helpmsg 4660" in r for r in u["remedies"]), "net helpmsg remedy")
    rc, out, err = run("0xC004FFFF")
    check(rc == 1, "unknown SL code: exit 1")
    check("(not in the catalogue)" in out and "Software Licensing" in out,
          "unknown SL code decoded in text")
    rc, out, _ = run("--json", "0xC0020018")
    o = json_lines(out)[0]
    check(rc == 1 and o["format"] == "ntstatus" and o["facility_name"] == "RPC_RUNTIME",
          "unknown NTSTATUS decoded")
    rc, out, _ = run("--json", "0x1C010014")
    o = json_lines(out)[0]
    check(rc == 1 and o["format"] == "nca" and o["win32"] is None, "unknown nca status")
    rc, out, _ = run("0")
    check(rc == 1 and "Win32 error 0 (success)" in out, "0 is decoded as success")
    # Unverified entries say so.
    rc, out, _ = run("0xC004F069")
    check(rc == 0 and "(message not verified)" in out, "unverified entry marked")
    rc, out, _ = run("--json", "0xC004F069")
    check(json_lines(out)[0]["verified"] is False, "unverified in JSON")
    rc, out, _ = run("--json", "0xC004F042")
    check(json_lines(out)[0]["verified"] is True, "verified in JSON")


def test_garbage():
    for bad in ["", "0x", "0xG", "99999999999", "-2147483649", "12abc", " 0x1",
                "0x1 ", "+1722", "C004F07", "1.5", "\x1b[31mred", "x" * 100]:
        rc, out, err = run(bad)
        check(rc == 2, f"{bad!r}: exit 2 (got {rc})")
        check(out == "", f"{bad!r}: nothing on stdout")
        check("is not an error code" in err, f"{bad!r}: message")
        check("\x1b" not in err, f"{bad!r}: stderr escaped")
    rc, out, err = run("12abc")
    check("'12abc'" in err, "message names the argument")
    # A bad argument among good ones: exit 2 and no partial output.
    rc, out, err = run("0xC004F074", "bogus", "1722", "0xZZ")
    check(rc == 2 and out == "", "mixed good/bad: exit 2, no output")
    check("'bogus'" in err and "'0xZZ'" in err, "every bad argument named")
    for args in [[], ["--bogus"], ["-x"], ["--search"], ["--list", "1722"],
                 ["--list", "--search", "dns"], ["--search", " "]]:
        rc, out, err = run(*args)
        check(rc == 2 and out == "" and "--help" in err, f"usage error for {args}")


def test_help_version():
    rc, out, err = run("--help")
    check(rc == 0 and out.startswith("Usage: kms-error") and err == "", "--help")
    rc2, out2, _ = run("-h")
    check(rc2 == 0 and out2 == out, "-h same as --help")
    rc, out, err = run("--version")
    check(rc == 0 and re.match(r"kms-error \d+\.\d+\.\d+ \(libkmsdiag \d+\.\d+\.\d+\)\n$", out),
          "--version")
    # The man page documents every option --help lists, and vice versa.
    _, help_text, _ = run("--help")
    help_opts = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", help_text))
    man = open(os.path.join(SRC, "docs", "man", "kms-error.1"), encoding="utf-8").read()
    man_plain = man.replace("\\-", "-")
    man_opts = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", man_plain))
    check(help_opts == man_opts, f"options: help {sorted(help_opts)} man {sorted(man_opts)}")
    for sect in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "INPUT FORMS", "OUTPUT",
                 "EXIT STATUS", "EXAMPLES", "SEE ALSO"):
        check(re.search(r"^\.SH " + sect + r"\s*$", man, re.M) is not None, f"man section {sect}")
    for key in REQUIRED_KEYS | {"input"}:
        check(re.search(r"\b" + re.escape(key.replace("_", "_")) + r"\b", man_plain) is not None,
              f"man page documents JSON key {key}")


def test_list():
    rc, out, err = run("--list", "--json")
    check(rc == 0, "--list exit 0")
    objs = json_lines(out)
    check(len(objs) >= 50, f"--list has >= 50 entries ({len(objs)})")
    codes = [o["code"] for o in objs]
    check(len(codes) == len(set(codes)), "--list: no duplicate codes")
    check(codes == sorted(codes, key=lambda c: int(c, 16)), "--list ascending")
    for o in objs:
        check_object(o, "list " + o["code"])
        check(o["known"] is True and "input" not in o, "list entries known, no input key")
    rc, out, _ = run("--list")
    lines = out.splitlines()
    check(len(lines) == len(objs), "text list: one line per entry")
    check([l[:10] for l in lines] == codes, "text list codes match JSON")
    return objs


def test_search(objs):
    rc, out, _ = run("--json", "--search", "time", "skew")
    hits = json_lines(out)
    check(rc == 0 and "0xC004F06C" in [h["code"] for h in hits], "search time skew")
    rc, out, _ = run("--json", "--search", "timestamp")
    hits = json_lines(out)
    check(rc == 0 and "0xC004F06C" in [h["code"] for h in hits], "search timestamp")
    # Every hit contains every word somewhere (case-insensitive); every
    # entry that contains all words is a hit.
    for words in (["dns", "Suffix"], ["SRV"], ["online-activation"], ["firewall", "1688"],
                  ["w32tm"], ["RPC", "fault"]):
        rc, out, _ = run("--json", "--search", *words)
        got = [h["code"] for h in json_lines(out)]

        def blob(o):
            parts = [o["code"], o["name"] or "", o["message"]] + o["layers"] + \
                o["causes"] + o["remedies"]
            if o["code"].startswith("0x8007"):
                parts.append(str(int(o["code"][6:], 16)))
            return " ".join(parts).lower()
        want = [o["code"] for o in objs if all(w.lower() in blob(o) for w in words)]
        check(rc == 0 and got == want and got, f"search {words}: {got} vs {want}")
    rc, out, _ = run("--search", "dns server failure")
    check(rc == 0 and "0x8007232A" in out, "search words in one argument")
    rc2, out2, _ = run("-s", "dns", "server", "failure")
    check(rc2 == 0 and out2 == out, "search words as separate arguments")
    rc, out, err = run("--search", "zzzqqq")
    check(rc == 1 and out == "" and "no entry matches" in err, "search without hits: exit 1")
    rc, out, err = run("--search", "x" * 2000)
    check(rc == 2, "overlong search: exit 2")


def facts_codes():
    """The bundled section 3 codes: (code, name or None, flagged)."""
    rows = []
    with open(os.path.join(SRC, "tests/errors/facts-codes.tsv"),
              encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            code, name, flag = line.rstrip("\n").split("\t")
            rows.append((code, None if name == "-" else name, flag == "yes"))
    return rows


def test_facts():
    # Always: every bundled section 3 code known to kms-error, with the
    # facts' name, unverified where the facts flag it.
    rows = facts_codes()
    check(len(rows) == 49, f"bundled facts codes: 49 ({len(rows)})")
    rc, out, _ = run("--json", *[c for c, _, _ in rows])
    objs = json_lines(out)
    check(rc == 0 and len(objs) == len(rows), "every facts code known (exit 0)")
    for (code, name, flagged), o in zip(rows, objs):
        check(o["code"] == code and o["known"], f"facts code {code} known")
        if name:
            check(o["name"] == name, f"{code}: name {o['name']}, facts {name}")
        if flagged:
            check(o["verified"] is False,
                  f"{code}: flagged [?] in facts -> unverified")
    # When the facts file is present: the bundled list still matches it.
    path = os.path.join(SRC, "..", "shared", "reference", "windows-kms-facts.md")
    if not os.path.exists(path):
        print("SKIP: live cross-check of tests/errors/facts-codes.tsv against "
              "windows-kms-facts.md (file not found); the bundled codes were "
              "checked")
        return
    text = open(path, encoding="utf-8").read()
    sect = text.split("## 3. Error codes", 1)[1].split("\n## ", 1)[0]
    live = []
    for row in sect.splitlines():
        if not re.match(r"\|\s*0x[0-9A-Fa-f]{8}", row):
            continue
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        live += [c.upper().replace("0X", "0x") for c in
                 re.findall(r"0x[0-9A-Fa-f]{8}", cells[0] + " " + cells[1])]
    bundled = [c for c, _, _ in rows]
    check(sorted(set(live)) == sorted(bundled),
          f"facts section 3 and facts-codes.tsv differ: "
          f"{sorted(set(live) ^ set(bundled))}")


def main():
    test_input_forms()
    test_several_and_unknown()
    test_garbage()
    test_help_version()
    objs = test_list()
    test_search(objs)
    test_facts()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
