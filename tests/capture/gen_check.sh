#!/bin/bash
# The committed captures/generated/*.pcap are exactly what the generator
# writes now (deterministic), so the samples and their golden outputs can
# be trusted to come from tests/capture/gen_captures.c.
set -u
gen="$KMSDIAG_TESTBIN/gen_captures"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$gen" "$tmp" || { echo "FAIL: generator failed"; exit 1; }
rc=0
n=0
for f in "$tmp"/*.pcap; do
  b=$(basename "$f")
  n=$((n + 1))
  if ! cmp -s "$f" "$KMSDIAG_SRC/captures/generated/$b"; then
    echo "FAIL: captures/generated/$b differs from the generator's output"
    rc=1
  fi
done
for f in "$KMSDIAG_SRC"/captures/generated/*.pcap; do
  [ -e "$tmp/$(basename "$f")" ] || { echo "FAIL: $f is not generated"; rc=1; }
done
[ "$n" -gt 0 ] || { echo "FAIL: nothing generated"; rc=1; }
echo "$n generated captures compared"
exit $rc
