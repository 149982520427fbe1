#!/usr/bin/env bash
# deps.sh [build|test]: make sure the Debian packages kmsdiag needs are here.
# As root, installs what is missing with apt-get; otherwise prints the exact
# apt-get line and exits 1. Safe to run any number of times.
set -euo pipefail

mode=${1:-build}
build_pkgs=(gcc make cmake pkg-config libc-ares-dev libldns-dev libssl-dev
            libpcap-dev python3)
# The demo lab and the tests: a real DNS server (NSD), dig, tshark for the
# RPC cross-check, iproute2 for namespaces, tcpdump for live capture tests.
test_pkgs=(nsd bind9-dnsutils tshark iproute2 tcpdump procps)

pkgs=("${build_pkgs[@]}")
case "$mode" in
  build) ;;
  test|demo) pkgs+=("${test_pkgs[@]}") ;;
  *) echo "usage: $0 [build|test|demo]" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "kmsdiag needs these Debian packages; install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# NSD's package starts a system daemon on port 53; the lab and the tests run
# their own instances on loopback ports, so stop it when systemd is absent.
if [[ " ${missing[*]} " == *" nsd "* ]] && command -v service >/dev/null; then
  service nsd stop >/dev/null 2>&1 || true
fi
