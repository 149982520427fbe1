#!/usr/bin/env bash
# A true connect timeout and an unreachable network, inside a network
# namespace this test creates (root only; otherwise skip with 77):
#  - 192.0.2.0/24 is routed onto lo, where no address of it is local and
#    nothing forwards: the SYN is dropped without a word, so the tcp stage
#    must time out (filtered);
#  - 198.51.100.0/24 is an "unreachable" route: connect fails at once;
#  - 127.77.0.0/16 is taken out of the loopback range local to lo (only
#    127.0.0.1 stays local) and routed onto lo like 192.0.2.0/24: dropped
#    too, while 127.0.0.1 still reaches the test responder, run in the
#    namespace. A name with a dropped address first and the responder's
#    second (a hosts file bind-mounted over /etc/hosts in the probe's own
#    mount namespace; both are loopback-scoped, so the resolver's RFC 6724
#    sort keeps their order) must move on to the second address.
# No packet leaves the namespace.
set -u
BIN=${KMSDIAG_BIN:-build/bin}
TESTBIN=${KMSDIAG_TESTBIN:-build/tests}
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
tmp=$(mktemp -d)
rpid=
cleanup() {
  if [ -n "$rpid" ]; then kill "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null; fi
  ip netns del "$ns" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
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

# ---- several addresses: a connect timeout moves on to the next one ----
if ! command -v python3 >/dev/null || ! command -v mount >/dev/null; then
  echo "SKIP (addresses part): needs python3 and mount"
  echo "$pass passed, $fail failed"
  [ $fail -eq 0 ]
  exit
fi
ip -n "$ns" route del local 127.0.0.0/8 dev lo table local
ip -n "$ns" route add 127.77.0.0/16 dev lo src 127.0.0.1
ip netns exec "$ns" "$TESTBIN/kms-test-responder" --quiet \
  --ready-file "$tmp/ready" 127.0.0.1:0=normal >/dev/null &
rpid=$!
for _ in $(seq 200); do [ -f "$tmp/ready" ] && break; sleep 0.05; done
port=$(awk '{print $2; exit}' "$tmp/ready" 2>/dev/null)
check '[ -n "$port" ]' "the responder runs in the namespace"
refused=1 # nothing listens on 127.0.0.1:1 in the namespace
printf '%s\n' "127.0.0.1 localhost" \
  "127.77.0.2 dual.kms-lab.test" "127.0.0.1 dual.kms-lab.test" \
  "127.77.0.3 dropped2.kms-lab.test" "127.77.0.4 dropped2.kms-lab.test" \
  "127.77.0.5 thenrefused.kms-lab.test" "127.0.0.1 thenrefused.kms-lab.test" \
  > "$tmp/hosts"
# probe ARGS...: kms-probe inside the namespace, with that hosts file
# bind-mounted in its own mount namespace (ip netns exec makes one).
probe() {
  ip netns exec "$ns" sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' \
    "$tmp/hosts" "$BIN/kms-probe" "$@"
}
T=1000
start=$(date +%s%N)
probe --json --timeout $T "dual.kms-lab.test:$port" "dropped2.kms-lab.test:$port" \
  "thenrefused.kms-lab.test:$refused" > "$tmp/out.json"
rc=$?
end=$(date +%s%N)
cat "$tmp/out.json"
check '[ $rc -eq 1 ]' "addresses: exit 1 (two of three fail)"
# The per-target checks, from the JSON.
python3 "$(dirname "$0")/netns_addresses_check.py" "$tmp/out.json" $T \
  $(( (end - start) / 1000000 ))
check '[ $? -eq 0 ]' "several addresses (see above)"
# The text output lists each address tried.
txt=$(probe --timeout $T "dual.kms-lab.test:$port")
echo "$txt"
check 'printf "%s\n" "$txt" | grep -q "via .*127\.77\.0\.2 timed out"' "text: the dropped address"
check 'printf "%s\n" "$txt" | grep -q "via .*127\.0\.0\.1 connected"' "text: the working address"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
