#!/usr/bin/env python3
"""make_corpus.py: regenerate tests/fuzz/corpus/dns_answer/ from real NSD
answers (lab zones) and the scripted responder's hostile messages.

    python3 tests/dns/make_corpus.py
"""
import os
import random
import socket
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "lab"))
sys.path.insert(0, HERE)
import nsd_lab  # noqa: E402
import responder  # noqa: E402

OUT = os.path.join(SRC, "tests", "fuzz", "corpus", "dns_answer")


def query(name, qtype, qid):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    q += responder.name_wire(name) + struct.pack(">HH", qtype, 1)
    return q


def ask_udp(port, name, qtype):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.sendto(query(name, qtype, random.randint(1, 65535)), ("127.0.0.1", port))
    data, _ = s.recvfrom(65535)
    s.close()
    return data


def ask_tcp(port, name, qtype):
    q = query(name, qtype, random.randint(1, 65535))
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    s.sendall(struct.pack(">H", len(q)) + q)
    n = struct.unpack(">H", s.recv(2))[0]
    data = b""
    while len(data) < n:
        data += s.recv(n - len(data))
    s.close()
    return data


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = [
        ("corp", "_vlmcs._tcp.corp.example", 33),
        ("nxdomain", "_vlmcs._tcp.nokms.example", 33),
        ("nodata", "_vlmcs._tcp.nodata.example", 33),
        ("cname-target", "_vlmcs._tcp.cname.example", 33),
        ("cname-a", "alias.cname.example", 1),
        ("root-target", "_vlmcs._tcp.absent.example", 33),
        ("port", "_vlmcs._tcp.port.example", 33),
        ("stale", "_vlmcs._tcp.stale.example", 33),
        ("aaaa", "kms3.corp.example", 28),
        ("big-udp-tc", "_vlmcs._tcp.big.example", 33),
        ("refused", "_vlmcs._tcp.not-served.example", 33),
    ]
    with nsd_lab.NsdLab(nsd_lab.default_zones()) as lab:
        for tag, name, qt in cases:
            with open(os.path.join(OUT, f"nsd-{tag}.bin"), "wb") as f:
                f.write(ask_udp(lab.port, name, qt))
        with open(os.path.join(OUT, "nsd-big-tcp.bin"), "wb") as f:
            f.write(ask_tcp(lab.port, "_vlmcs._tcp.big.example", 33))
    q = query("_vlmcs._tcp.example.test", 33, 0x4242)
    for mode in responder.MODES:
        msg = responder.build(mode, q)
        if msg:
            with open(os.path.join(OUT, f"hostile-{mode}.bin"), "wb") as f:
                f.write(msg)
    with open(os.path.join(OUT, "query.bin"), "wb") as f:
        f.write(q)
    print("corpus written to", OUT)


if __name__ == "__main__":
    main()
