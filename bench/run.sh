#!/usr/bin/env bash
# bench/run.sh: build a Release tree and run every benchmark, each printing
# its figures side by side with the peer its issue names. Prints numbers;
# asserts nothing. Needs the test packages (scripts/deps.sh test) and, for
# the capture benchmark, about 1.2 GB free in /tmp.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build-rel}
scripts/deps.sh test
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null
echo "== DNS discovery: kms-find --no-resolve vs dig -f (10,000 domains, NSD on loopback)"
python3 bench/dns/run.py --build "$build"
echo
echo "== Probing: kms-probe --concurrency 200 vs one at a time (1,000 loopback targets)"
python3 bench/probe/bench_probe.py --bin "$build/bin" --testbin "$build/tests"
echo
echo "== Capture: kms-pcap --summary vs a bare libpcap loop vs tshark -Y dcerpc (>= 1 GiB)"
python3 bench/capture/run.py --build "$build"
