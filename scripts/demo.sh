#!/usr/bin/env bash
# demo.sh BUILD_DIR: the main job on bundled defaults. Later issues extend it
# (DNS lab, probe, capture); for now it explains real activation codes.
set -euo pipefail
build=${1:-build}
bin="$build/bin"
echo "== kms-error: what the codes a support engineer is handed mean"
for code in 0xC004F074 0x8007232B C004F038 -1073418174 1722; do
  echo "\$ kms-error $code"
  "$bin/kms-error" "$code" || true
  echo
done
