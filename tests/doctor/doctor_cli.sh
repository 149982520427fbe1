#!/usr/bin/env bash
# doctor_cli.sh: kms-doctor's command line: --help and --version on stdout
# with exit 0, usage errors on stderr with exit 2, and the man page
# documenting exactly the options --help lists.
set -u
bin="${KMSDIAG_BIN:?}/kms-doctor"
src="${KMSDIAG_SRC:?}"
man="$src/docs/man/kms-doctor.1"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

out=$("$bin" --help) || fail "--help exit $?"
grep -q '^Usage: kms-doctor' <<<"$out" || fail "--help has no Usage line"
grep -q 'Exit status: 0 healthy' <<<"$out" || fail "--help has no exit status"
"$bin" --version | grep -q '^kms-doctor [0-9]' || fail "--version"

for args in "--resolv-conf /nonexistent/resolv.conf" "--stage tcpx" "--timeout 0" "--bogus" "a b" "--host x:0" \
            "--cmid not-a-guid --stage kms" "dom --host h"; do
  # shellcheck disable=SC2086
  "$bin" $args >/tmp/kd-cli-out.$$ 2>/tmp/kd-cli-err.$$
  rc=$?
  [ "$rc" -eq 2 ] || fail "'$args' exit $rc, want 2"
  [ -s /tmp/kd-cli-out.$$ ] && fail "'$args' wrote to stdout"
  grep -q "^kms-doctor: " /tmp/kd-cli-err.$$ || fail "'$args' no message on stderr"
done
rm -f /tmp/kd-cli-out.$$ /tmp/kd-cli-err.$$

# the man page and --help list the same long options
help_opts=$(grep -o -- '--[a-z][a-z-]*' <<<"$out" | sort -u)
man_opts=$(grep -o -- '\\-\\-[a-z][a-z\\-]*' "$man" | sed 's/\\-/-/g' | sort -u)
[ "$help_opts" = "$man_opts" ] || {
  fail "man page and --help differ:"
  diff <(echo "$help_opts") <(echo "$man_opts")
}
# every check name the library can emit is in the man page
for c in slmgr_input license_channel license_status cmid client_last_error \
         pinned_host cached_host resolver_config srv_lookup srv_record \
         srv_target resolve tcp rpc kms product threshold host_key clock; do
  sed -n '/^\.SH CHECKS/,/^\.SH EXIT/p' "$man" | grep -qw -- "$c" ||
    fail "man page CHECKS section lacks $c"
  grep -q "\"$c\"" "$src/lib/doctor/doctor.c" || fail "check $c not in the engine"
done
# the troubleshooting guide links each verdict code to its check
guide="$src/docs/troubleshooting.md"
for code in 0x8007007B 0x8007232B 0x8007251D 0x8007232A 0xC004F074 \
            0xC004F038 0xC004F042 0xC004F06C 0x800706BA; do
  grep -q "$code" "$guide" || fail "troubleshooting guide lacks $code"
done

# hostile pasted text (escape sequences, bidi controls) read from standard
# input never reaches the terminal raw; the host is a loopback port where
# nothing listens, so the run is quick and stays on this machine
printf 'Name: \033[31mWindows\342\200\256(R)\033]0;pwned\007\r\nDescription: x, VOLUME_KMSCLIENT channel\r\n' >/tmp/kd-cli-hostile.$$
out=$("$bin" --host 127.0.7.250:9 --timeout 500 --slmgr - </tmp/kd-cli-hostile.$$)
rc=$?
rm -f /tmp/kd-cli-hostile.$$
[ "$rc" -eq 1 ] || fail "hostile slmgr on stdin: exit $rc, want 1"
grep -q 'slmgr_input' <<<"$out" || fail "stdin slmgr text not read"
if LC_ALL=C grep -q $'\033\|\007\|\342\200\256' <<<"$out"; then
  fail "raw control characters reached the output"
fi
grep -q 'Verdict: 0xC004F074' <<<"$out" || fail "no verdict for the dead host"

# the same hostile text with invalid UTF-8, in JSON: every line parses,
# is valid UTF-8 and carries a "type"
# (a resolver configuration without any domain: no DNS query leaves)
printf 'nameserver 127.0.0.1:9\n' >/tmp/kd-cli-resolv.$$
printf 'Name: \033[2J\xff\xfe\xc3(\r\nDescription: x, VOLUME_KMSCLIENT channel\r\nRegistered KMS machine name: 127.0.7.250:9\r\n' |
  "$bin" --json --timeout 500 --resolv-conf /tmp/kd-cli-resolv.$$ --slmgr - >/tmp/kd-cli-json.$$
rc=$?
[ "$rc" -eq 1 ] || fail "hostile slmgr --json: exit $rc, want 1"
"${PYTHON:-python3}" - /tmp/kd-cli-json.$$ <<'PY' || fail "hostile slmgr --json: output is not clean JSON Lines"
import json, sys
data = open(sys.argv[1], "rb").read()
text = data.decode("utf-8")          # strict: raises on invalid UTF-8
assert "\x1b" not in text
recs = [json.loads(l) for l in text.splitlines()]
assert recs and all(isinstance(r, dict) and "type" in r for r in recs)
assert recs[-1]["type"] == "verdict" and recs[-1]["hresult"] == "0xC004F074"
PY
rm -f /tmp/kd-cli-json.$$ /tmp/kd-cli-resolv.$$

# what the user typed comes back escaped in error messages, in every tool
# (tools/common: tool_err, tool_usage_error)
evil=$'\e]0;pwned\a\e[31mred'
for t in kms-doctor:--product kms-probe:--product kms-info:product \
         kms-find:--server kms-zonecheck:--origin kms-error:--bogus; do
  tool=${t%%:*} opt=${t#*:}
  err=$("${KMSDIAG_BIN}/$tool" "$opt" "$evil" x 2>&1 >/dev/null)
  case "$err" in
    *$'\e'*|*$'\a'*) fail "$tool $opt: raw control bytes on stderr" ;;
    "") fail "$tool $opt: no message on stderr" ;;
  esac
done

if command -v man >/dev/null 2>&1; then
  MANWIDTH=80 man -l "$man" >/dev/null 2>&1 || fail "man page does not render"
fi
[ "$fails" -eq 0 ] && echo "doctor_cli: all passed"
exit $((fails > 0))
