#!/usr/bin/env bash
# A true connect timeout and an unreachable network, inside a network
# namespace this test creates (root only; otherwise skip with 77):
#  - 192.0.2.0/24 is routed onto lo, where no address of it is local and
#    nothing forwards: the SYN is dropped without a word, so the tcp stage
#    must time out (filtered);
#  - 198.51.100.0/24 is an "unreachable" route: connect fails at once.
# No packet leaves the namespace.
set -u
BIN=${KMSDIAG_BIN:-build/bin}
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root to create a network namespace"
  exit 77
fi
if ! command -v ip >/dev/null; then
  echo "SKIP: iproute2 (ip) is not installed"
  exit 77
fi
ns="kdprobe$$"
if ! ip netns add "$ns" 2>/dev/null; then
  echo "SKIP: cannot create a network namespace here"
  exit 77
fi
trap 'ip netns del "$ns" 2>/dev/null' EXIT
ip -n "$ns" link set lo up
ip -n "$ns" route add 192.0.2.0/24 dev lo
ip -n "$ns" route add unreachable 198.51.100.0/24
fail=0 pass=0
check() { if eval "$1"; then pass=$((pass+1)); else echo "FAIL: $2"; fail=$((fail+1)); fi; }

start=$(date +%s%N)
out=$(ip netns exec "$ns" "$BIN/kms-probe" --json --stage tcp --timeout 700 \
      192.0.2.2 192.0.2.3:16888 198.51.100.7)
rc=$?
end=$(date +%s%N)
echo "$out"
check '[ $rc -eq 1 ]' "exit status 1"
n=$(printf '%s\n' "$out" | grep -c '"status":"KMSDIAG_ETIMEOUT"')
check '[ "$n" -eq 2 ]' "two connect timeouts (got $n)"
check 'printf "%s\n" "$out" | grep -q "\"host\":\"198.51.100.7\".*\"status\":\"KMSDIAG_EUNREACH\""' "unreachable route"
check 'printf "%s\n" "$out" | grep "KMSDIAG_ETIMEOUT" | grep -q "\"stage_failed\":\"tcp\""' "timeout is at the tcp stage"
check 'printf "%s\n" "$out" | grep "KMSDIAG_ETIMEOUT" | grep -q "\"hresult\":\"0xC004F074\""' "timeout maps to 0xC004F074"
# Liveness, not performance: the probes run at once and each is bounded by
# its stage timeout, so the whole run ends well before 10 s.
check '[ $(( (end - start) / 1000000 )) -lt 10000 ]' "finished within its timeouts"
# The same through the rpc stage: still a tcp timeout, rpc not run.
out=$(ip netns exec "$ns" "$BIN/kms-probe" --json --timeout 500 192.0.2.9)
check 'printf "%s\n" "$out" | grep -q "\"rpc_ms\":null"' "rpc not run after a tcp timeout"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
