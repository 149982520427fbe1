#!/usr/bin/env python3
"""The JSON writer's escaping round-trips through python's json module."""
import json
import os
import subprocess
import sys


def expected(raw: bytes) -> str:
    """The writer's rule: valid UTF-8 kept, each invalid byte -> U+FFFD."""
    out, i = [], 0
    while i < len(raw):
        for n in (1, 2, 3, 4):
            try:
                out.append(raw[i:i + n].decode("utf-8", errors="strict"))
                i += n
                break
            except UnicodeDecodeError:
                continue
        else:
            out.append("\ufffd")
            i += 1
    return "".join(out)


def main() -> int:
    exe = os.path.join(os.environ["KMSDIAG_TESTBIN"], "json_emit")
    text = subprocess.run([exe], check=True, capture_output=True).stdout
    text.decode("utf-8")  # the whole output is valid UTF-8
    passed = failed = 0
    for line in text.splitlines():
        for b in line:
            if b < 0x20:
                print("raw control byte in output:", line)
                failed += 1
                break
        obj = json.loads(line)
        raw = bytes.fromhex(obj["input_hex"])
        want = expected(raw)
        ok = (obj["value"] == want and obj["type"] == "case"
              and obj["key\x01\"odd"] == "k"
              and obj["neg"] == -2**63 and obj["big"] == 2**64 - 1
              and obj["nested"] == [True, None, {}])
        if ok:
            passed += 1
        else:
            failed += 1
            print("mismatch:", raw, repr(obj["value"]), repr(want))
    if passed < 15:
        print("expected 15 cases, got", passed + failed)
        failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
