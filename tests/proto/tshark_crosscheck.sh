#!/bin/bash
# tshark_crosscheck.sh: for every interop capture, the RPC-layer fields our
# decoder reports (PDU type, call id, context ids, ack results, flags,
# fault status) must equal what Wireshark's dissector reports, PDU by PDU.
# Skips (77) when tshark is not installed.
set -u
src=${KMSDIAG_SRC:?}
tsv=${KMSDIAG_TESTBIN:?}/rpc_tsv
port=16888
if ! command -v tshark >/dev/null 2>&1; then
  echo "SKIP: tshark not installed"
  exit 77
fi
[ -x "$tsv" ] || { echo "FAIL: $tsv not built"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 compared=0
for pcap in "$src"/captures/interop/*.pcap; do
  name=$(basename "$pcap")
  tshark -r "$pcap" -d tcp.port==$port,dcerpc -T fields \
    -e frame.number -e dcerpc.pkt_type -e dcerpc.cn_call_id \
    -e dcerpc.cn_ctx_id -e dcerpc.cn_ack_result -e dcerpc.cn_flags \
    -e dcerpc.cn_status 2>/dev/null | awk -F'\t' '$2 != ""' >"$tmp/theirs" || {
    echo "FAIL: tshark could not read $name"; fail=1; continue; }
  "$tsv" "$pcap" $port >"$tmp/ours" || { echo "FAIL: rpc_tsv $name"; fail=1; continue; }
  if ! diff -u "$tmp/theirs" "$tmp/ours" >"$tmp/diff"; then
    echo "FAIL: $name: our RPC decode differs from tshark's (- tshark, + ours)"
    cat "$tmp/diff"
    fail=1
  fi
  n=$(wc -l <"$tmp/ours")
  compared=$((compared + n))
  echo "$name: $n PDUs agree"
done
# 6+10+4+4+6+6+6 PDUs in the bundled captures: a vacuous pass is a failure
if [ "$compared" -lt 42 ]; then
  echo "FAIL: only $compared PDUs compared"
  fail=1
fi
[ $fail -eq 0 ] && echo "PASS: $compared PDUs agree with tshark"
exit $fail
