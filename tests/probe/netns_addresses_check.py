#!/usr/bin/env python3
"""netns_addresses_check.py OUT.json TIMEOUT_MS WALL_MS: the checks of the
several-addresses part of test_probe_netns.sh on kms-probe's JSON: a name
whose first address is dropped moves on to its second within the tcp
stage's timeout, every address tried is reported in order."""
import json
import sys

recs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
T, wall = int(sys.argv[2]), int(sys.argv[3])
bound = T * 1.5 + 200  # one stage: its timeout plus scheduling slack
P = {p["host"]: p for p in recs if p.get("type") == "probe"}
bad = 0


def check(cond, what):
    global bad
    if not cond:
        bad += 1
        print("FAIL: " + what)


def tried(p):
    return [(a["address"], a["status"]) for a in (p or {}).get("addresses_tried", [])]


d = P.get("dual.kms-lab.test") or {}
t2 = P.get("dropped2.kms-lab.test") or {}
tr = P.get("thenrefused.kms-lab.test") or {}
check(d.get("ok") and d.get("stage_reached") == "rpc",
      "dual: the second address works, the target passes")
check(d.get("address") == "127.0.0.1", "dual: the address that answered")
check(tried(d) == [("127.77.0.2", "KMSDIAG_ETIMEOUT"), ("127.0.0.1", "KMSDIAG_OK")],
      f"dual: both addresses reported in order: {tried(d)}")
a0 = d["addresses_tried"][0]["ms"] if d.get("addresses_tried") else -1
check(T / 2 * 0.9 <= a0 <= T / 2 * 1.5 + 200,
      f"dual: the dropped address got its share, half the timeout ({a0} ms)")
check((d.get("tcp_ms") or 1e9) <= bound,
      f"dual: tcp stage within its timeout ({d.get('tcp_ms')} ms)")
check("127.77.0.2" in d.get("message", ""), "dual: the message names the dropped address")
check(tried(t2) == [("127.77.0.3", "KMSDIAG_ETIMEOUT"), ("127.77.0.4", "KMSDIAG_ETIMEOUT")],
      f"two dropped: both tried: {tried(t2)}")
check(t2.get("status") == "KMSDIAG_ETIMEOUT" and t2.get("stage_failed") == "tcp",
      "two dropped: a tcp timeout")
check(T * 0.9 <= (t2.get("tcp_ms") or 1e9) <= bound,
      f"two dropped: the whole tcp stage within one timeout ({t2.get('tcp_ms')} ms)")
check(tried(tr) == [("127.77.0.5", "KMSDIAG_ETIMEOUT"), ("127.0.0.1", "KMSDIAG_ECONNREFUSED")],
      f"dropped then refused: both tried: {tried(tr)}")
check(tr.get("status") == "KMSDIAG_ECONNREFUSED" and "127.77.0.5" in tr.get("message", ""),
      "dropped then refused: the last outcome, the message names both")
# The three run at once: the run is bounded by the slowest target (tcp,
# then for dual an rpc stage) plus process start.
check(wall <= 2 * bound + 2000, f"run within its stages' bounds ({wall} ms)")
print(f"addresses: {bad} failed")
sys.exit(1 if bad else 0)
