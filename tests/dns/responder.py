#!/usr/bin/env python3
"""responder.py: a scripted DNS responder on 127.0.0.1 for answers no real
server sends (malformed packets, wrong ids, compression loops, truncated
messages). Real answers come from NSD (tests/lab/nsd_lab.py); this one is
only for the hostile cases.

    with Responder("compression-loop") as r:
        r.port   # UDP port on 127.0.0.1; TCP on the same port is closed

Each mode builds its reply from the received query (id and question are
echoed unless the mode breaks them on purpose). MODES lists them.
"""
import socket
import struct
import threading

SRV = 33


def name_wire(name):
    out = b""
    for label in name.strip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def split_query(q):
    """(id, question bytes incl. type/class, qname end offset) or None."""
    if len(q) < 12:
        return None
    qid = struct.unpack(">H", q[:2])[0]
    pos = 12
    while pos < len(q) and q[pos] != 0:
        pos += 1 + q[pos]
    pos += 1
    if pos + 4 > len(q):
        return None
    return qid, q[12 : pos + 4], pos


def header(qid, flags, qd, an, ns, ar):
    return struct.pack(">HHHHHH", qid, flags, qd, an, ns, ar)


RESP = 0x8400  # QR, AA


def srv_rr(owner, prio, weight, port, target, ttl=60):
    rdata = struct.pack(">HHH", prio, weight, port) + target
    return owner + struct.pack(">HHIH", SRV, 1, ttl, len(rdata)) + rdata


def addr_rr(owner, qtype, addr, ttl=60):
    if qtype == 1:
        rdata = socket.inet_pton(socket.AF_INET, addr)
    else:
        rdata = socket.inet_pton(socket.AF_INET6, addr)
    return owner + struct.pack(">HHIH", qtype, 1, ttl, len(rdata)) + rdata


def one_family_additional(qid, question, pos, family):
    """An SRV answer whose additional section carries only one family of
    the target's addresses (as a server with minimal responses, or one
    that only knows one family, may send); A and AAAA queries for the
    target are answered with both (127.0.0.5 and ::1)."""
    qtype = struct.unpack(">H", question[pos - 12: pos - 12 + 2])[0]
    target = name_wire("kms.example.test")
    if qtype == SRV:
        # target name written out once in the answer (offset of the
        # question name is 12; the target follows the SRV fixed fields)
        ans = srv_rr(b"\xc0\x0c", 0, 0, 1688, target)
        tptr = struct.pack(">H", 0xC000 | (12 + len(question) + 2 + 10 + 6))
        add = addr_rr(tptr, family, "127.0.0.5" if family == 1 else "::1")
        return header(qid, RESP, 1, 1, 0, 1) + question + ans + add
    if qtype in (1, 28):
        return header(qid, RESP, 1, 1, 0, 0) + question + addr_rr(
            b"\xc0\x0c", qtype, "127.0.0.5" if qtype == 1 else "::1")
    return header(qid, RESP, 1, 0, 0, 0) + question


def build(mode, q):
    sq = split_query(q)
    if not sq:
        return None
    qid, question, pos = sq
    if mode == "a-only-additional":
        return one_family_additional(qid, question, pos, 1)
    if mode == "aaaa-only-additional":
        return one_family_additional(qid, question, pos, 28)
    if mode == "wrong-then-good":
        # a reply with a wrong id first, then the right one
        return [build("wrong-id", q), build("good", q)]
    qptr = b"\xc0\x0c"  # pointer to the question name
    good_target = name_wire("kms.example.test")
    if mode == "good":
        return header(qid, RESP, 1, 1, 0, 0) + question + srv_rr(
            qptr, 0, 0, 1688, good_target)
    if mode == "wrong-id":
        return header(qid ^ 0x5A5A, RESP, 1, 1, 0, 0) + question + srv_rr(
            qptr, 0, 0, 1688, good_target)
    if mode == "short":
        return struct.pack(">H", qid) + b"\x84\x00\x00"
    if mode == "compression-loop":
        # the answer's owner name is a pointer to itself
        msg = header(qid, RESP, 1, 1, 0, 0) + question
        here = len(msg)
        owner = struct.pack(">H", 0xC000 | here)
        return msg + srv_rr(owner, 0, 0, 1688, good_target)
    if mode == "pointer-loop-pair":
        # target name: two pointers pointing at each other
        msg = header(qid, RESP, 1, 1, 0, 0) + question
        rr_start = len(msg)
        # owner ptr (2) + type/class/ttl/rdlen (10) + prio/weight/port (6)
        tgt = rr_start + 2 + 10 + 6
        loop = struct.pack(">H", 0xC000 | (tgt + 2)) + struct.pack(
            ">H", 0xC000 | tgt)
        return msg + srv_rr(qptr, 0, 0, 1688, loop)
    if mode == "pointer-forward":
        msg = header(qid, RESP, 1, 1, 0, 0) + question
        return msg + srv_rr(qptr, 0, 0, 1688, b"\xc3\xff")
    if mode == "truncated-answer":
        # two answers announced, one present, TC not set
        return header(qid, RESP, 1, 2, 0, 0) + question + srv_rr(
            qptr, 0, 0, 1688, good_target)
    if mode == "cut-rdata":
        # the SRV record stops in the middle of its RDATA
        full = header(qid, RESP, 1, 1, 0, 0) + question + srv_rr(
            qptr, 0, 0, 1688, good_target)
        return full[:-7]
    if mode == "srv-rdata-short":
        # rdlength 4: priority and weight only
        rdata = struct.pack(">HH", 0, 0)
        rr = qptr + struct.pack(">HHIH", SRV, 1, 60, len(rdata)) + rdata
        return header(qid, RESP, 1, 1, 0, 0) + question + rr
    if mode == "label-too-long":
        bad = bytes([0x3F]) + b"a" * 63
        target = bad * 5 + b"\x00"  # 320 bytes: longer than a DNS name
        return header(qid, RESP, 1, 1, 0, 0) + question + srv_rr(
            qptr, 0, 0, 1688, target)
    if mode == "huge-count":
        return header(qid, RESP, 1, 0xFFFF, 0xFFFF, 0xFFFF) + question + srv_rr(
            qptr, 0, 0, 1688, good_target)
    if mode == "tc-no-tcp":
        # truncated over UDP; the TCP port is closed, so the retry fails
        return header(qid, RESP | 0x0200, 1, 0, 0, 0) + question
    if mode == "other-question":
        other = name_wire("_vlmcs._tcp.elsewhere.test") + struct.pack(">HH", SRV, 1)
        return header(qid, RESP, 1, 1, 0, 0) + other + srv_rr(
            qptr, 0, 0, 1688, good_target)
    if mode == "control-bytes":
        # a target with terminal escape sequences: must come out escaped
        evil = b"\x1b[31mevil\x07"
        target = bytes([len(evil)]) + evil + name_wire("example.test")
        return header(qid, RESP, 1, 1, 0, 0) + question + srv_rr(
            qptr, 0, 0, 1688, target)
    raise ValueError("unknown mode " + mode)


MODES = [
    "good", "wrong-id", "short", "compression-loop", "pointer-loop-pair",
    "pointer-forward", "truncated-answer", "cut-rdata", "srv-rdata-short",
    "label-too-long", "huge-count", "tc-no-tcp", "other-question",
    "control-bytes", "wrong-then-good", "a-only-additional",
    "aaaa-only-additional",
]


class Responder:
    def __init__(self, mode):
        self.mode = mode
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.queries = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                q, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            self.queries += 1
            reply = build(self.mode, q)
            for r in (reply if isinstance(reply, list) else [reply]):
                if r is not None:
                    self.sock.sendto(r, peer)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self.sock.close()
        return False


if __name__ == "__main__":
    import sys
    import time
    mode = sys.argv[1] if len(sys.argv) > 1 else "good"
    with Responder(mode) as r:
        print(r.port, flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
