#!/usr/bin/env bash
# demo.sh BUILD_DIR: the main job on bundled defaults, on loopback only.
#  1. kms-error explains the codes a support engineer is handed;
#  2. the demo lab (scripts/lab.sh): a real DNS server (NSD) serving an
#     example zone with _vlmcs._tcp records, one healthy KMS host (the test
#     responder) and one stale record; kms-doctor walks a client's path
#     through it, then looks at a client whose slmgr /skms still points at
#     the decommissioned host;
#  3. kms-pcap on a bundled capture, kms-zonecheck on the example zone.
# Everything the demo starts is stopped on exit; it can be run again.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
bin="$build/bin"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(dirname "$here")

echo "== kms-error: what the codes a support engineer is handed mean"
for code in 0xC004F074 0x8007232B C004F038 -1073418174 1722; do
  echo "\$ kms-error $code"
  "$bin/kms-error" "$code" || true
  echo
done

# ---- the demo lab ------------------------------------------------------
state="$build/lab"
# Run from the source tree and name files relative to it, so the output
# reads the same on every machine (the README's walkthrough is a copy).
cd "$src"
case "$state" in "$src"/*) state=${state#"$src"/} ;; esac
case "$bin" in "$src"/*) bin=${bin#"$src"/} ;; esac
zone="tests/doctor/zones/corp.kms-lab.test.zone"
note() { echo "-- note: $*"; }
lab_up=0
cleanup() {
  if [ "$lab_up" = 1 ]; then
    "$here/lab.sh" stop "$state" || true
    echo "== demo lab stopped"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== The demo lab: NSD serving corp.kms-lab.test on a loopback port, the"
echo "   test KMS responder behind kms01 (127.77.0.1:1688); kms-old"
echo "   (127.77.0.2) is a decommissioned host whose SRV record was left behind"
if [ ! -x "$bin/kms-doctor" ]; then
  note "kms-doctor is not built; skipping the lab"
else
  rc=0
  "$here/lab.sh" start "$build" "$state" || rc=$?
  if [ "$rc" -eq 0 ]; then
    lab_up=1
    export XDG_STATE_HOME="$state/xdg"   # the probe's stable CMID stays here
    # Clients take equal-weight SRV records in random order; a fixed seed
    # makes the demo print the same order on every run (the stale record
    # first, as an unlucky client meets it).
    export KMSDIAG_DNS_SEED=${KMSDIAG_DNS_SEED:-1}
    echo
    echo "\$ kms-doctor --resolv-conf $state/resolv.conf --stage kms"
    "$bin/kms-doctor" --resolv-conf "$state/resolv.conf" --stage kms || true
    echo
    echo "== A client pinned with slmgr /skms to the decommissioned host"
    echo "   (its slmgr /dlv output, saved as UTF-16 with CRLF like Notepad does)"
    dlv="$state/client-dlv.txt"
    python3 -c 'import sys; t=open(sys.argv[1],encoding="utf-8").read().replace("\n","\r\n"); open(sys.argv[2],"wb").write(b"\xff\xfe"+t.encode("utf-16-le"))' \
      "$src/tests/doctor/slmgr/demo-pinned-stale.txt" "$dlv"
    echo "\$ kms-doctor --resolv-conf $state/resolv.conf --slmgr client-dlv.txt"
    "$bin/kms-doctor" --resolv-conf "$state/resolv.conf" --slmgr "$dlv" || true
  elif [ "$rc" -eq 77 ]; then
    note "the lab cannot run on this machine (reason above); skipping it"
  else
    note "the lab did not start; skipping it"
  fi
fi

# ---- captures and zone files -------------------------------------------
echo
echo "== kms-pcap: a bundled capture"
cap=""
for c in "$src"/captures/*.pcap "$src"/captures/interop/err-unknown-kmsid-whitelist.pcap \
         "$src"/captures/interop/*.pcap; do
  if [ -f "$c" ]; then cap=$c; break; fi
done
if [ ! -x "$bin/kms-pcap" ]; then
  note "kms-pcap is not built yet; skipping"
elif [ -z "$cap" ]; then
  note "no bundled capture found under captures/; skipping"
else
  echo "\$ kms-pcap ${cap#"$src"/}"
  "$bin/kms-pcap" --quiet "$cap" || true
fi

echo
echo "== kms-zonecheck: the example zone"
if [ ! -x "$bin/kms-zonecheck" ]; then
  note "kms-zonecheck is not built yet; skipping"
else
  live=()
  if [ "$lab_up" = 1 ]; then
    # compare the file with what the lab's DNS server really serves
    live=(--live "127.0.0.1:$(sed -n 's/^KMSDIAG_LAB_PORT=//p' "$state/env")")
  fi
  echo "\$ kms-zonecheck ${live[*]} ${zone#"$src"/}"
  "$bin/kms-zonecheck" "${live[@]}" "$zone" 2>&1 || true
fi
