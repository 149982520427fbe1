#!/usr/bin/env python3
"""emitted_codes.py: every HRESULT the library itself emits (the HR_*
constants its modules define) has an entry in the error catalogue, so
each failure a tool reports can be looked up with its causes and fixes.

Environment: KMSDIAG_BIN (the built tools), KMSDIAG_SRC."""
import os
import re
import subprocess
import sys

SRC = os.environ["KMSDIAG_SRC"]
KMS_ERROR = os.path.join(os.environ["KMSDIAG_BIN"], "kms-error")
DEFINE = re.compile(r"#define\s+(?:KMSDIAG_)?HR_\w+\s+(0x[0-9A-Fa-f]{8})u?\b")

codes = {}
for top in ("lib", "include"):
    for root, _, files in os.walk(os.path.join(SRC, top)):
        for f in files:
            if f.endswith((".c", ".h")):
                path = os.path.join(root, f)
                with open(path, encoding="utf-8") as fh:
                    for m in DEFINE.finditer(fh.read()):
                        code = int(m.group(1), 16)
                        if code:
                            codes.setdefault(code, os.path.relpath(path, SRC))
fails = 0
for code, where in sorted(codes.items()):
    p = subprocess.run([KMS_ERROR, "--json", f"0x{code:08X}"],
                       capture_output=True, timeout=30)
    if p.returncode != 0 or b'"known":true' not in p.stdout:
        print(f"FAIL 0x{code:08X} (defined in {where}) is not in the catalogue")
        fails += 1
if len(codes) < 10:
    print(f"FAIL only {len(codes)} codes found: the pattern no longer matches")
    fails += 1
print(f"{max(0, len(codes) - fails)} passed, {fails} failed")
sys.exit(1 if fails else 0)
