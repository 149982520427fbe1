#!/usr/bin/env bash
# lab.sh: start and stop the demo lab on loopback.
#
#   scripts/lab.sh start BUILD_DIR [STATE_DIR]
#   scripts/lab.sh stop  [STATE_DIR]
#   scripts/lab.sh status [STATE_DIR]
#
# The lab is a real DNS server (NSD, from Debian) serving the zone
# corp.kms-lab.test (tests/doctor/zones/corp.kms-lab.test.zone): two
# _vlmcs._tcp records, kms01 (127.77.0.1, the test KMS responder answers
# there on port 1688) and kms-old (127.77.0.2, a decommissioned host:
# nothing listens). NSD listens on a free port of 127.0.0.1 (and ::1).
#
# STATE_DIR (default BUILD_DIR/lab, or ./build/lab for stop/status) then
# holds resolv.conf (domain corp.kms-lab.test, nameserver 127.0.0.1:PORT,
# for kms-doctor --resolv-conf), env (KMSDIAG_LAB_PORT=... lines), pid and
# lab.log. "start" stops a lab left in STATE_DIR first, so it can be run
# any number of times; "stop" leaves nothing running.
#
# Exit status: 0 done, 1 failure, 2 usage, 77 the lab cannot run here
# (NSD missing, loopback address in use): the reason is printed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(dirname "$here")
zone="$src/tests/doctor/zones/corp.kms-lab.test.zone"
domain=corp.kms-lab.test

usage() {
  echo "usage: $0 start BUILD_DIR [STATE_DIR] | stop [STATE_DIR] | status [STATE_DIR]" >&2
  exit 2
}

# Is PID alive and one of ours (its command line names EXPECT)?
# (no pipe into grep -q here: with pipefail, tr's SIGPIPE would make a
# match look like a failure)
ours() {
  local pid=$1 expect=$2 cmd
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ "$cmd" == *"$expect"* ]]
}

stop_pid() {
  local pid=$1 expect=$2 i
  ours "$pid" "$expect" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 1 50); do
    ours "$pid" "$expect" || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

do_stop() {
  local state=$1 pid="" rsp="" nsd=""
  [ -d "$state" ] || return 0
  [ -f "$state/pid" ] && pid=$(cat "$state/pid")
  if [ -f "$state/env" ]; then
    rsp=$(sed -n 's/^KMSDIAG_LAB_RESPONDER_PID=//p' "$state/env")
    nsd=$(sed -n 's/^KMSDIAG_LAB_NSD_PID=//p' "$state/env")
  fi
  # the lab process stops NSD and the responder itself; the two others
  # only matter when it was killed without a chance to do so
  stop_pid "$pid" "kmslab.py serve"
  stop_pid "$rsp" "kms-test-responder"
  stop_pid "$nsd" "nsd"
  rm -f "$state/pid" "$state/env" "$state/ready" "$state/resolv.conf"
}

do_start() {
  local build=$1 state=$2 i rc
  local rsp_bin="$build/tests/kms-test-responder"
  if [ ! -x "$rsp_bin" ]; then
    echo "lab.sh: $rsp_bin is not built (configure with tests enabled)" >&2
    exit 1
  fi
  do_stop "$state"
  mkdir -p "$state"
  python3 "$src/tests/doctor/kmslab.py" serve --build "$build" --state "$state" \
    --zone "$domain=$zone" --domain "$domain" \
    --listen "127.77.0.1:1688=normal" \
    </dev/null >"$state/lab.log" 2>&1 &
  echo $! >"$state/pid"
  for i in $(seq 1 300); do
    if [ -f "$state/ready" ]; then
      echo "lab.sh: NSD serves $domain on 127.0.0.1:$(sed -n 's/^KMSDIAG_LAB_PORT=//p' "$state/env");" \
           "the test KMS responder listens on 127.77.0.1:1688"
      echo "lab.sh: resolver configuration: $state/resolv.conf"
      return 0
    fi
    if ! kill -0 "$(cat "$state/pid")" 2>/dev/null; then
      rc=0
      wait "$(cat "$state/pid")" || rc=$?
      rm -f "$state/pid"
      grep -v '^$' "$state/lab.log" >&2 || true
      [ "$rc" -eq 77 ] && exit 77
      echo "lab.sh: the lab did not start (see $state/lab.log)" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "lab.sh: the lab did not get ready in 30 s (see $state/lab.log)" >&2
  do_stop "$state"
  exit 1
}

cmd=${1:-}
case "$cmd" in
  start)
    [ $# -ge 2 ] || usage
    build=$(cd "$2" && pwd)
    do_start "$build" "${3:-$build/lab}"
    ;;
  stop)
    do_stop "${2:-build/lab}"
    ;;
  status)
    state=${2:-build/lab}
    if [ -f "$state/pid" ] && ours "$(cat "$state/pid")" "kmslab.py serve"; then
      echo "running: $(cat "$state/env" 2>/dev/null | tr '\n' ' ')"
    else
      echo "not running"
      exit 1
    fi
    ;;
  *) usage ;;
esac
