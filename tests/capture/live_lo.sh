#!/bin/bash
# Live capture on the loopback interface: kms-pcap -i lo with a BPF filter,
# -w to save what it saw and -Z to drop root once the handle is open, while
# a KMS conversation (replayed from captures/generated/kms-low-count.pcap
# over a real TCP connection on 127.0.0.1) goes by. Needs root (capture
# privilege) and a 'nobody' user; skips (77) otherwise.
set -u
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: live capture needs root (CAP_NET_RAW); running as uid $(id -u)"
  exit 77
fi
if ! id nobody >/dev/null 2>&1; then
  echo "SKIP: no 'nobody' user to test -Z with"
  exit 77
fi
if ! ip link show lo >/dev/null 2>&1; then
  echo "SKIP: no loopback interface"
  exit 77
fi
bin="$KMSDIAG_BIN/kms-pcap"
tmp=$(mktemp -d)
chmod 777 "$tmp"
trap 'rm -rf "$tmp"; [ -n "${cap:-}" ] && kill "$cap" 2>/dev/null' EXIT
port=$((20000 + RANDOM % 20000))
"$bin" --json -i lo --filter "tcp port $port" --port "$port" \
  -w "$tmp/saved.pcap" -Z nobody -q >"$tmp/live.jsonl" 2>"$tmp/live.err" &
cap=$!
sleep 1.5
if ! kill -0 "$cap" 2>/dev/null; then
  echo "FAIL: kms-pcap -i lo exited early:"; cat "$tmp/live.err"; exit 1
fi
"$PYTHON" - "$KMSDIAG_SRC/captures/generated/kms-low-count.pcap" "$port" <<'PY'
import socket, struct, sys, threading
data = open(sys.argv[1], "rb").read()
port = int(sys.argv[2])
off, segs = 24, []
while off + 16 <= len(data):
    cl = struct.unpack("<I", data[off + 8:off + 12])[0]
    f = data[off + 16:off + 16 + cl]; off += 16 + cl
    ip = f[14:]; ihl = (ip[0] & 15) * 4; tcp = ip[ihl:]
    sp = struct.unpack(">H", tcp[0:2])[0]
    pl = tcp[(tcp[12] >> 4) * 4:]
    if pl:
        segs.append((sp != 1688, pl))
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port)); srv.listen(1)
def serve():
    c, _ = srv.accept()
    for from_client, pl in segs:
        if from_client:
            got = b""
            while len(got) < len(pl):
                got += c.recv(len(pl) - len(got))
        else:
            c.sendall(pl)
    c.recv(1); c.close()
t = threading.Thread(target=serve); t.start()
cl = socket.create_connection(("127.0.0.1", port))
for from_client, pl in segs:
    if from_client:
        cl.sendall(pl)
    else:
        got = b""
        while len(got) < len(pl):
            got += cl.recv(len(pl) - len(got))
cl.close(); t.join(); srv.close()
PY
sleep 1.5
kill -INT "$cap"
wait "$cap"
rc=$?
cap=
fail=0
if [ "$rc" != 1 ]; then echo "FAIL: exit $rc, expected 1 (count too low)"; fail=1; fi
grep -q '"type":"exchange"' "$tmp/live.jsonl" || { echo "FAIL: no exchange seen live"; fail=1; }
grep -q '"hresult":"0xC004F038"' "$tmp/live.jsonl" || { echo "FAIL: no 0xC004F038 diagnosis"; fail=1; }
owner=$(stat -c %U "$tmp/saved.pcap" 2>/dev/null)
if [ "$owner" != nobody ]; then
  echo "FAIL: -w file owned by '$owner': privileges not dropped before it was opened"; fail=1
fi
"$bin" --json --port "$port" "$tmp/saved.pcap" >"$tmp/replay.jsonl"
grep -q '"hresult":"0xC004F038"' "$tmp/replay.jsonl" || { echo "FAIL: the -w file does not give the same diagnosis"; fail=1; }
# -Z to a user that does not exist: refuse, exit 2
"$bin" -i lo -c 1 -Z no-such-user-kmsdiag >/dev/null 2>&1
[ $? = 2 ] || { echo "FAIL: -Z with an unknown user must exit 2"; fail=1; }
cat "$tmp/live.err"
[ $fail = 0 ] && echo "live capture on lo: OK"
exit $fail
