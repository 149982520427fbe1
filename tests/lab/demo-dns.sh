#!/usr/bin/env bash
# demo-dns.sh BUILD_DIR: the DNS part of the demo on the lab zones. Starts
# NSD on a loopback port (nsd_lab.py), then shows what a KMS client would
# see for several domains, a search list, and the zone checks offline and
# live. Exits 77 (skip) when NSD cannot be started. Loopback only.
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${KMSDIAG_LAB_PORT:-}" ]; then
  exec python3 "$here/nsd_lab.py" run -- bash "$0" "$build"
fi
bin="$build/bin"
srv="127.0.0.1:$KMSDIAG_LAB_PORT"
show() { echo "\$ $*"; "$@" || true; echo; }

echo "== kms-find: what a KMS client sees for each domain (NSD on $srv)"
show "$bin/kms-find" --seed 1 --server "$srv" corp.example
show "$bin/kms-find" --server "$srv" nokms.example nodata.example
show "$bin/kms-find" --server "$srv" cname.example stale.example typo.example

echo "== kms-find with no domain: the primary suffix and search list"
rc="$KMSDIAG_LAB_DIR/resolv.conf"
printf 'nameserver 127.0.0.1\ndomain branch.example\nsearch branch.example lab.example corp.example\n' > "$rc"
show "$bin/kms-find" --no-resolve --resolv-conf "$rc" --server "$srv"
printf 'nameserver 127.0.0.1\n' > "$rc"
show "$bin/kms-find" --resolv-conf "$rc" --server "$srv"

echo "== kms-find --json (one object per domain)"
show "$bin/kms-find" --json --no-resolve --server "$srv" port.example

echo "== kms-zonecheck: the same zones, offline and live"
show "$bin/kms-zonecheck" "$here/zones/typo.example.zone" "$here/zones/nearmiss.example.zone"
show "$bin/kms-zonecheck" --live "$srv" "$here/zones/corp.example.zone"
show "$bin/kms-zonecheck" "$here/../zone/data/mistakes.example.zone"
