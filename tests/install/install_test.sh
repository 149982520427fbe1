#!/usr/bin/env bash
# install_test.sh BUILD_DIR CC [SANITIZE_FLAGS]: install into a temp prefix,
# then build and run a consumer with pkg-config and with CMake.
set -euo pipefail
build=$1 cc=${2:-cc} san=${3:-}
src=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
lib=$(ls -d "$tmp"/prefix/lib*/libkmsdiag.so.0 2>/dev/null | head -n1)
[ -n "$lib" ] && ok || bad "libkmsdiag.so.0 not installed"
libdir=$(dirname "$lib")

# Only kmsdiag_ symbols are exported.
extra=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBR]/ {print $3}' | grep -v '^kmsdiag_' | grep -v '^__odr_asan' || true)
[ -z "$extra" ] && ok || bad "unexpected exported symbols: $extra"
objdump -p "$lib" | grep -q 'SONAME.*libkmsdiag.so.0' && ok || bad "SONAME"
# Internal helpers stay hidden.
nm -D --defined-only "$lib" | grep -q ' kd_rd_u8$' && bad "kd_rd_u8 exported" || ok

# Test-only programs and libraries are never installed: the test KMS
# responder and the capture and seed generators build KMS responses
# (tests/common/kms_test_build.c), which the installed library must not.
leak=$(find "$tmp/prefix" \( -name 'kms-test-responder*' -o -name 'gen_captures*' \
         -o -name 'gen_probe_seeds*' -o -name 'gen_bench*' -o -name '*kmsbuild*' \
         -o -name '*test_pcap*' -o -name 'rpc_tsv*' -o -name 'replay-*' \
         -o -name 'fuzz-*' -o -name 'test_*' \) -print)
[ -z "$leak" ] && ok || bad "test-only files installed: $leak"
# bin/ holds only the kms-* tools, each with its man page.
for f in "$tmp"/prefix/bin/*; do
  [ -e "$f" ] || continue
  n=$(basename "$f")
  case "$n" in
    kms-test-*) bad "test program $n installed" ;;
    kms-*) [ -f "$tmp/prefix/share/man/man1/$n.1" ] && ok || bad "$n has no man page" ;;
    *) bad "unexpected program $n installed" ;;
  esac
done
# No response builder inside the installed library (its symbol table,
# hidden symbols included, when it is not stripped).
if nm "$lib" >/dev/null 2>&1 && nm "$lib" | grep -q .; then
  nm "$lib" | grep -Eq ' (kt_build_|kt_answer_bind)' \
    && bad "the installed library contains a KMS response builder" || ok
fi

# Man pages and headers are installed.
ls "$tmp"/prefix/share/man/man1/*.1 >/dev/null 2>&1 && ok || bad "no man pages"
[ -f "$tmp/prefix/include/kmsdiag/kmsdiag.h" ] && ok || bad "no umbrella header"

# pkg-config consumer.
export PKG_CONFIG_PATH="$libdir/pkgconfig"
flags=$(pkg-config --cflags --libs kmsdiag)
# shellcheck disable=SC2086
"$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror $san -o "$tmp/consumer" "$src/consumer.c" $flags \
  -Wl,-rpath,"$libdir" && ok || bad "pkg-config build"
out=$("$tmp/consumer")
[ "$out" = '{"type":"consumer","status":"input truncated: it ends before a field it announces"}' ] \
  && ok || bad "consumer output: $out"

# CMake consumer.
mkdir -p "$tmp/cm"
cat > "$tmp/cm/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.25)
project(consumer C)
find_package(kmsdiag REQUIRED)
add_executable(consumer $src/consumer.c)
target_link_libraries(consumer PRIVATE kmsdiag::kmsdiag)
CM
if cmake -S "$tmp/cm" -B "$tmp/cm/b" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
     -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$san" \
     -DCMAKE_EXE_LINKER_FLAGS="$san -Wl,-rpath,$libdir" >/dev/null \
   && cmake --build "$tmp/cm/b" >/dev/null; then
  ok
  "$tmp/cm/b/consumer" >/dev/null && ok || bad "cmake consumer run"
else
  bad "cmake consumer build"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
