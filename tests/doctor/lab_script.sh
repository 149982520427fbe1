#!/usr/bin/env bash
# lab_script.sh: scripts/lab.sh starts the demo lab (NSD + the test KMS
# responder), kms-doctor sees one healthy host and one stale record
# through it, a second start replaces the first, and stop leaves no
# process of the lab running.
set -u
src="${KMSDIAG_SRC:?}"
bin="${KMSDIAG_BIN:?}"
build=$(dirname "$bin")
state=$(mktemp -d /tmp/kd-labscript.XXXXXX)
lab="$src/scripts/lab.sh"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
cleanup() { "$lab" stop "$state/lab" >/dev/null 2>&1; rm -rf "$state"; }
trap cleanup EXIT

rc=0
"$lab" start "$build" "$state/lab" || rc=$?
if [ "$rc" -eq 77 ]; then
  echo "SKIP: the lab cannot run here (see above)"
  exit 77
fi
[ "$rc" -eq 0 ] || { echo "FAIL: lab.sh start exit $rc"; exit 1; }
"$lab" status "$state/lab" >/dev/null || fail "status after start"
pids1=$(sed -n 's/^KMSDIAG_LAB_\(RESPONDER\|NSD\)_PID=//p' "$state/lab/env")
pid1=$(cat "$state/lab/pid")

export XDG_STATE_HOME="$state/xdg"
out=$("$bin/kms-doctor" --json --timeout 1000 --resolv-conf "$state/lab/resolv.conf")
rc=$?
[ "$rc" -eq 0 ] || fail "kms-doctor on the lab: exit $rc"
grep -q '"type":"verdict","healthy":true,"warnings":true' <<<"$out" ||
  fail "the lab must be healthy with a warning: $out"
grep -q '"name":"tcp","status":"fail","subject":"kms-old.corp.kms-lab.test.' <<<"$out" ||
  fail "the stale record is not reported"

# start again: the first lab is stopped and replaced
"$lab" start "$build" "$state/lab" >/dev/null || fail "second start"
for p in $pid1 $pids1; do
  [ -e "/proc/$p" ] && grep -q -e kmslab -e kms-test-responder -e nsd "/proc/$p/cmdline" 2>/dev/null &&
    fail "process $p of the first lab still runs"
done
pids2="$(cat "$state/lab/pid") $(sed -n 's/^KMSDIAG_LAB_\(RESPONDER\|NSD\)_PID=//p' "$state/lab/env")"
"$lab" stop "$state/lab" || fail "stop"
sleep 0.3
for p in $pids2; do
  [ -e "/proc/$p" ] && grep -q -e kmslab -e kms-test-responder -e nsd "/proc/$p/cmdline" 2>/dev/null &&
    fail "process $p still runs after stop"
done
"$lab" status "$state/lab" >/dev/null && fail "status says running after stop"
[ "$fails" -eq 0 ] && echo "lab_script: all passed"
exit $((fails > 0))
