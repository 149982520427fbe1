#!/usr/bin/env python3
"""The man page docs/man/kms-probe.1 documents exactly the options that
`kms-probe --help` lists, and the same exit codes."""
import os
import re
import subprocess
import sys

src = os.environ.get("KMSDIAG_SRC", ".")
probe = os.path.join(os.environ.get("KMSDIAG_BIN", "build/bin"), "kms-probe")
help_text = subprocess.run([probe, "--help"], capture_output=True,
                           check=True).stdout.decode()
with open(os.path.join(src, "docs", "man", "kms-probe.1")) as f:
    man = f.read().replace("\\-", "-")
opt = re.compile(r"--[a-z][a-z-]*")
h, m = set(opt.findall(help_text)), set(opt.findall(man))
fail = 0
for o in sorted(h - m):
    print(f"FAIL: {o} is in --help but not in the man page")
    fail += 1
for o in sorted(m - h):
    print(f"FAIL: {o} is in the man page but not in --help")
    fail += 1
for word in ("WARNING", "UNKNOWN", "CRITICAL", "0xC004F074", "cmid"):
    if word not in help_text and word.lower() not in help_text.lower():
        print(f"FAIL: --help does not mention {word}")
        fail += 1
    if word not in man:
        print(f"FAIL: the man page does not mention {word}")
        fail += 1
if "count" not in man.lower() or "XDG_STATE_HOME" not in man:
    print("FAIL: the man page lacks the count warning / CMID state file")
    fail += 1
print(f"{len(h)} options compared, {fail} failed")
sys.exit(1 if fail else 0)
