#!/usr/bin/env python3
"""kms-probe with no HOST: targets found through DNS (a real NSD on a
loopback port, tests/lab) with several SRV records, one pointing at a dead
host and one at a name without addresses, and an IPv6-only host. Every
SRV target is probed, in client order (priority first)."""
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.environ.get("KMSDIAG_SRC", "."), "tests", "lab"))
import nsd_lab  # noqa: E402
from probe_helpers import Checker, Responder, closed_port, ipv6_loopback, run, run_json  # noqa: E402

why = nsd_lab.check()
if why:
    print("SKIP: " + why)
    sys.exit(77)

C = Checker()
V6 = ipv6_loopback()
lis = ["127.0.0.1:0=normal", "127.0.0.2:0=normal,ndr=32"]
if V6:
    lis.append("[::1]:0=normal")
with Responder(lis) as r:
    dead = closed_port()
    p1, p2 = r.bound[0][1], r.bound[1][1]
    zone = f"""$ORIGIN probe.example.
$TTL 300
@ IN SOA ns1.probe.example. hostmaster.probe.example. ( 1 3600 900 604800 300 )
@ IN NS ns1.probe.example.
ns1 IN A 127.0.0.1
_vlmcs._tcp IN SRV 0 100 {p1} kms1.probe.example.
_vlmcs._tcp IN SRV 10 0 {p2} kms2.probe.example.
_vlmcs._tcp IN SRV 20 0 {dead} dead.probe.example.
_vlmcs._tcp IN SRV 30 0 1688 gone.probe.example.
kms1 IN A 127.0.0.1
kms2 IN A 127.0.0.2
dead IN A 127.0.0.1
"""
    if V6:
        zone += f"_vlmcs._tcp IN SRV 5 0 {r.bound[2][1]} kms6.probe.example.\n"
        zone += "kms6 IN AAAA ::1\n"
    d = tempfile.mkdtemp(prefix="kd-zone-")
    zf = os.path.join(d, "probe.example.zone")
    with open(zf, "w") as f:
        f.write(zone)
    try:
        with nsd_lab.NsdLab({"probe.example": zf}) as lab:
            srv = lab.server()
            rc, probes, verdicts, recs, err, el = run_json(
                ["--domain", "probe.example", "--server", srv, "-t", "1000"])
            C.eq(rc, 1, "exit 1: some SRV targets fail")
            lookups = [x for x in recs if x.get("type") == "srv_lookup"]
            C.eq(len(lookups), 1, "one srv_lookup record")
            C.eq(recs[0].get("type"), "srv_lookup", "lookups come first")
            hosts = [p["host"] for p in probes]
            want = ["kms1.probe.example"] + (["kms6.probe.example"] if V6 else []) + \
                   ["kms2.probe.example", "dead.probe.example", "gone.probe.example"]
            C.eq(hosts, want, "every SRV target, in client (priority) order")
            by = {p["host"]: p for p in probes}
            C.check(by["kms1.probe.example"]["ok"], "kms1 passes rpc")
            C.eq(by["kms1.probe.example"]["port"], p1, "port from the SRV record")
            C.eq(by["kms2.probe.example"]["address"], "127.0.0.2", "kms2 address")
            C.check(by["kms2.probe.example"]["ok"], "kms2 passes rpc")
            C.eq(by["dead.probe.example"]["status"], "KMSDIAG_ECONNREFUSED",
                 "dead host refused")
            C.eq(by["dead.probe.example"]["hresult"], "0xC004F074", "dead: F074")
            C.eq(by["gone.probe.example"]["stage_failed"], "resolve",
                 "name without address fails to resolve")
            C.eq(by["gone.probe.example"]["status"], "KMSDIAG_EDNS", "gone: EDNS")
            if V6:
                C.eq(by["kms6.probe.example"]["address"], "::1", "IPv6 target")
                C.check(by["kms6.probe.example"]["ok"], "IPv6 target passes")
            C.eq(verdicts[0]["client_would_use"], "kms1.probe.example",
                 "a client would use the first working host")
            # Nagios: one of several hosts down is a WARNING.
            rc, out, err, el = run(["--nagios", "--domain", "probe.example",
                                    "--server", srv, "-t", "1000"])
            C.eq(rc, 1, "nagios: WARNING")
            # A host name resolved through the same server.
            rc, probes, *_ = run_json(["--server", srv, f"kms2.probe.example:{p2}"])
            C.check(rc == 0 and probes[0]["address"] == "127.0.0.2" and
                    probes[0]["resolve_ms"] is not None, "HOST name resolved")
            rc, probes, *_ = run_json(["--server", srv, "-t", "1000",
                                       "nonesuch.probe.example"])
            C.eq(probes[0]["status"], "KMSDIAG_EDNS", "unknown name: EDNS")
            # No SRV records: nothing to probe, exit 1, CRITICAL.
            rc, out, err, el = run(["--domain", "nokms.probe.example",
                                    "--server", srv, "-t", "1000"])
            C.eq(rc, 1, "no SRV: exit 1")
            C.check(b"0x8007232B" in out or b"0x8007251D" in out or
                    b"0x8007232A" in out, "no SRV: DNS code shown")
            rc, out, err, el = run(["--nagios", "--domain", "nokms.probe.example",
                                    "--server", srv, "-t", "1000"])
            C.eq(rc, 2, "no SRV: CRITICAL")
            # Domains from the resolver configuration, as a client does.
            rc_path = os.path.join(d, "resolv.conf")
            with open(rc_path, "w") as f:
                f.write(f"nameserver 127.0.0.1\nsearch nokms.probe.example probe.example\n")
            rc, probes, verdicts, recs, err, el = run_json(
                ["--resolv-conf", rc_path, "--server", srv, "-t", "1000",
                 "--stage", "tcp"])
            lookups = [x for x in recs if x.get("type") == "srv_lookup"]
            C.eq([x.get("source") for x in lookups], ["search-list", "search-list"],
                 "search list domains looked up")
            C.check(any(p["host"] == "kms1.probe.example" for p in probes),
                    "targets found under the second search domain")
            with open(rc_path, "w") as f:
                f.write("nameserver 127.0.0.1\n")
            rc, out, err, el = run(["--resolv-conf", rc_path, "--server", srv])
            C.eq(rc, 1, "no suffix: exit 1")
            C.check(b"0x8007007B" in out, "no suffix: 0x8007007B, no query")
            os.unlink(rc_path)
    finally:
        os.unlink(zf)
        os.rmdir(d)
sys.exit(C.finish())
