#!/bin/bash
# kms-pcap as a command: --help/--version, usage errors (exit 2), the man
# page documents exactly the options --help lists, standard input, several
# files, --summary (golden), escaping of hostile names, --filter.
set -u
bin="$KMSDIAG_BIN/kms-pcap"
src="$KMSDIAG_SRC"
gen="$src/captures/generated"
fail=0
t() { # t DESCRIPTION EXPECTED_RC CMD...
  local d=$1 want=$2; shift 2
  "$@" >/tmp/kms-pcap-cli.$$ 2>&1
  local rc=$?
  if [ "$rc" != "$want" ]; then
    echo "FAIL: $d: exit $rc, expected $want"; cat /tmp/kms-pcap-cli.$$; fail=1
  fi
}
trap 'rm -f /tmp/kms-pcap-cli.$$' EXIT

t "--help" 0 "$bin" --help
"$bin" --help | grep -q '^Usage: kms-pcap' || { echo "FAIL: --help text"; fail=1; }
t "--version" 0 "$bin" --version
"$bin" --version | grep -q '^kms-pcap [0-9]' || { echo "FAIL: --version text"; fail=1; }
t "no input" 2 "$bin"
t "unknown option" 2 "$bin" --no-such-option x.pcap
t "bad port" 2 "$bin" --port 70000 x.pcap
t "bad port text" 2 "$bin" --port abc x.pcap
t "bad count" 2 "$bin" -c 0 -i lo
t "-w without -i" 2 "$bin" -w /tmp/x.pcap "$gen/tcp-refused.pcap"
t "-Z without -i" 2 "$bin" -Z nobody "$gen/tcp-refused.pcap"
t "-i and files" 2 "$bin" -i lo "$gen/tcp-refused.pcap"
t "missing file" 2 "$bin" /nonexistent/file.pcap
t "bad filter" 2 "$bin" --filter 'tcp port' "$gen/tcp-refused.pcap"
t "success exits 0" 0 "$bin" "$gen/dns-srv-v6-success.pcap"
t "failure exits 1" 1 "$bin" "$gen/tcp-refused.pcap"
t "one unreadable file among good ones exits 2" 2 "$bin" "$gen/dns-srv-v6-success.pcap" /nonexistent.pcap

# every long option of --help is in the man page and the reverse
help_opts=$("$bin" --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
man_opts=$(sed 's/\\-/-/g' "$src/docs/man/kms-pcap.1" | grep -o -- '--[a-z][a-z-]*' | sort -u)
if [ "$help_opts" != "$man_opts" ]; then
  echo "FAIL: options differ between --help and the man page:"
  diff <(echo "$help_opts") <(echo "$man_opts"); fail=1
fi
for o in -i -c -w -Z -p -q -v -h -V; do
  "$bin" --help | grep -q -- "  $o, " || { echo "FAIL: --help lacks $o"; fail=1; }
  grep -q -- "^.BR \\\\$o\"*, \|^.BR \\\\$o \|\\\\$o\", " "$src/docs/man/kms-pcap.1" ||
    grep -q -- "BR \\\\${o#-}" "$src/docs/man/kms-pcap.1" ||
    { echo "FAIL: man page lacks $o"; fail=1; }
done

# standard input gives the same as the file
a=$("$bin" --json "$gen/kms-low-count.pcap")
b=$("$bin" --json - <"$gen/kms-low-count.pcap")
[ "$a" = "$b" ] || { echo "FAIL: '-' (standard input) differs from the file"; fail=1; }

# --filter applies: only the DNS part of the success capture remains
n=$("$bin" --json --filter 'udp port 53' "$gen/dns-srv-v6-success.pcap" | grep -c '"type":"exchange"')
[ "$n" = 0 ] || { echo "FAIL: --filter 'udp port 53' still shows $n exchanges"; fail=1; }
n=$("$bin" --json --filter 'udp port 53' "$gen/dns-srv-v6-success.pcap" | grep -c '"type":"dns"')
[ "$n" = 2 ] || { echo "FAIL: --filter 'udp port 53' shows $n DNS events, expected 2"; fail=1; }

# -c stops after N frames
n=$("$bin" --json -c 2 "$gen/dns-srv-v6-success.pcap" | grep -c '"type":"dns"')
[ "$n" = 1 ] || { echo "FAIL: -c 2 shows $n DNS events, expected 1"; fail=1; }

# several files: frames as file:frame, the summary table is stable
"$bin" --summary "$gen"/*.pcap >/tmp/kms-pcap-cli.$$ 2>&1
if ! cmp -s /tmp/kms-pcap-cli.$$ "$src/tests/capture/golden/summary-generated.txt"; then
  echo "FAIL: --summary differs from tests/capture/golden/summary-generated.txt"
  diff /tmp/kms-pcap-cli.$$ "$src/tests/capture/golden/summary-generated.txt" | head -20
  fail=1
fi
"$bin" "$gen/tcp-refused.pcap" "$gen/dns-nxdomain.pcap" | grep -q 'frame 2:2 ' ||
  { echo "FAIL: no file:frame numbering with several files"; fail=1; }

# hostile names never reach the terminal raw
if "$bin" "$gen/kms-hostile-names.pcap" | grep -q $'\x1b'; then
  echo "FAIL: an ESC byte from the capture reached the output"; fail=1
fi
if "$bin" --summary "$gen/kms-hostile-names.pcap" | grep -q $'\x1b'; then
  echo "FAIL: an ESC byte reached the --summary output"; fail=1
fi
"$bin" --json "$gen/kms-hostile-names.pcap" | "$PYTHON" -c '
import json, sys
ws = [json.loads(l)["request"]["workstation"] for l in sys.stdin
      if "\"type\":\"exchange\"" in l]
assert ws == ["pc-\x1b[31mred\u202e.corp"], ws
' || { echo "FAIL: JSON does not carry the workstation name exactly"; fail=1; }

# a capture that stops right after the bind (-c 5): the capture cannot
# tell what came next, so no failure is claimed (exit 0), and the
# diagnosis says so, with the frames
out=$("$bin" -c 5 "$gen/kms-duplicate-cmid.pcap"); rc=$?
[ $rc = 0 ] || { echo "FAIL: -c 5 on kms-duplicate-cmid: exit $rc, expected 0"; fail=1; }
echo "$out" | grep -q 'UNDETERMINED (at bind)' ||
  { echo "FAIL: -c 5: no undetermined diagnosis"; echo "$out"; fail=1; }
echo "$out" | grep -q 'capture ended .* ms after the last frame' ||
  { echo "FAIL: -c 5: does not say the capture ended"; fail=1; }
echo "$out" | grep -q 'evidence: frames 1, 5' ||
  { echo "FAIL: -c 5: no evidence frames"; fail=1; }
if echo "$out" | grep -q 'no KMS request was seen'; then
  echo "FAIL: -c 5 still claims 'no KMS request was seen'"; fail=1
fi
# a capture that stops right after a SYN: undecided, not "never answered"
out=$("$bin" --json -c 1 "$gen/tcp-syn-timeout.pcap"); rc=$?
[ $rc = 0 ] || { echo "FAIL: -c 1 tcp-syn-timeout: exit $rc, expected 0"; fail=1; }
echo "$out" | grep -q '"state":"undecided".*"waiting_for":"syn_ack"' ||
  { echo "FAIL: -c 1 tcp-syn-timeout: SYN not undecided"; echo "$out"; fail=1; }

# a pcapng file whose two interfaces have different link types (libpcap
# 1.10 reads none of its packets past the second interface block): exit 2,
# named, with the way out; never "no traffic found"
png=/tmp/kms-pcap-cli-mixed.$$.pcapng
"$PYTHON" - "$png" "$gen/kms-low-count.pcap" <<'PY'
import struct, sys
out, src = sys.argv[1], sys.argv[2]
d = open(src, "rb").read()
pkts, off = [], 24
while off + 16 <= len(d):
    sec, usec, cl, ol = struct.unpack("<IIII", d[off:off + 16])
    pkts.append((sec, usec, d[off + 16:off + 16 + cl]))
    off += 16 + cl
def block(t, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", t, n) + body + struct.pack("<I", n)
f = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
f += block(1, struct.pack("<HHI", 1, 0, 0))      # interface 0: Ethernet
f += block(1, struct.pack("<HHI", 113, 0, 0))    # interface 1: Linux SLL
for sec, usec, p in pkts:
    ts = sec * 1000000 + usec
    f += block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xffffffff,
                              len(p), len(p)) + p)
open(out, "wb").write(f)
PY
"$bin" "$png" >/tmp/kms-pcap-cli.$$ 2>/tmp/kms-pcap-cli-err.$$; rc=$?
[ $rc = 2 ] || { echo "FAIL: mixed link types pcapng: exit $rc, expected 2"; fail=1; }
grep -q "cannot read $png" /tmp/kms-pcap-cli-err.$$ &&
  grep -q 'different link types' /tmp/kms-pcap-cli-err.$$ &&
  grep -q 'editcap -T' /tmp/kms-pcap-cli-err.$$ ||
  { echo "FAIL: mixed link types: message lacks the file, the reason or the way out"; cat /tmp/kms-pcap-cli-err.$$; fail=1; }
if grep -q '^No KMS or KMS DNS traffic found\.$' /tmp/kms-pcap-cli.$$; then
  echo "FAIL: mixed link types: claims no traffic"; fail=1
fi
rm -f "$png" /tmp/kms-pcap-cli-err.$$

# -w names the file once in its error (live capture: root only)
if [ "$(id -u)" = 0 ]; then
  "$bin" -i lo -c 1 -w /nonexistent-dir/x.pcap >/dev/null 2>/tmp/kms-pcap-cli.$$
  n=$(grep -o '/nonexistent-dir/x.pcap' /tmp/kms-pcap-cli.$$ | wc -l)
  [ "$n" = 1 ] || { echo "FAIL: -w error names the file $n times:"; cat /tmp/kms-pcap-cli.$$; fail=1; }
else
  echo "skip: -w error test needs root (live capture on lo)"
fi

# progress on a terminal, reading standard input (a pipe: no file
# position): the count of what was read must move, not stay at "0 MB"
"$PYTHON" - "$bin" <<'PY' || fail=1
import os, pty, struct, subprocess, sys
bin_ = sys.argv[1]
rec = struct.pack("!BBHHHBBH4s4sHHHH", 0x45, 0, 36, 0, 0, 64, 17, 0,
                  bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]), 5000, 6000,
                  16, 0) + b"progress"
data = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101)
hdr = struct.pack("<IIII", 1795341600, 0, len(rec), len(rec))
data += (hdr + rec) * 140000          # ~7 MB, progress every 65536 frames
master, slave = pty.openpty()
p = subprocess.Popen([bin_, "--summary", "-"], stdin=subprocess.PIPE,
                     stdout=subprocess.DEVNULL, stderr=slave)
os.close(slave)
p.stdin.write(data)
p.stdin.close()
err = b""
while True:
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break
    if not chunk:
        break
    err += chunk
p.wait()
text = err.decode("utf-8", "replace")
shown = [l for l in text.replace("\r", "\n").splitlines() if "frames" in l]
if not shown or "65536 frames" not in text or \
        all(" 0 MB" in l for l in shown):
    print("FAIL: progress on a pipe does not move:", repr(text[-300:]))
    sys.exit(1)
PY

[ $fail = 0 ] && echo "kms-pcap command line: OK"
exit $fail
