#!/usr/bin/env python3
"""nsd_lab.py: run a real NSD on a loopback port with given zone files.

Library use (python):

    sys.path.insert(0, os.path.join(src, "tests", "lab"))
    import nsd_lab
    with nsd_lab.NsdLab(nsd_lab.default_zones()) as lab:
        lab.port          # NSD listens on 127.0.0.1 and ::1 at this port
        lab.blackhole     # bound UDP+TCP port that never answers (timeouts)
        lab.closed_port   # a port where nothing listens (refused)
        lab.ipv6          # True when ::1 is served too

Command line (shell tests, the demo):

    nsd_lab.py run [--zone NAME=FILE]... [--zones-dir DIR] -- CMD ARGS...
        Start NSD, run CMD with KMSDIAG_LAB_PORT, KMSDIAG_LAB_BLACKHOLE_PORT,
        KMSDIAG_LAB_CLOSED_PORT, KMSDIAG_LAB_IPV6 (1/0) and KMSDIAG_LAB_DIR
        (a scratch directory) in its environment, stop NSD, exit with CMD's
        status. With neither --zone nor --zones-dir the zones of
        tests/lab/zones/ are served.
    nsd_lab.py check
        Exit 0 when NSD can be started here, 77 (skip) with the reason.

Traffic stays on 127.0.0.1 and ::1. NSD runs in the foreground (nsd -d)
as the current user with every path inside a temporary directory, and is
stopped (SIGTERM, then SIGKILL) when the block or command ends.
"""
import contextlib
import ctypes
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ZONES_DIR = os.path.join(HERE, "zones")
SKIP = 77


class LabError(Exception):
    pass


def _die_with_parent():
    """preexec_fn: NSD gets SIGTERM when the harness process dies, so a
    killed test never leaves a server behind."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def find_nsd():
    for cand in (shutil.which("nsd"), "/usr/sbin/nsd"):
        if cand and os.access(cand, os.X_OK):
            return cand
    return None


def ipv6_loopback():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def _port_free(port, v6):
    fams = [(socket.AF_INET, "127.0.0.1")]
    if v6:
        fams.append((socket.AF_INET6, "::1"))
    socks = []
    try:
        for fam, addr in fams:
            for typ in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                s = socket.socket(fam, typ)
                socks.append(s)
                s.bind((addr, port))
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


def free_port(v6, avoid=()):
    """A port free for UDP and TCP on 127.0.0.1 (and ::1)."""
    for _ in range(200):
        port = random.randint(20000, 60000)
        if port in avoid:
            continue
        if _port_free(port, v6):
            return port
    raise LabError("no free loopback port found")


def default_zones():
    """{zone name: path} for every tests/lab/zones/<name>.zone."""
    return zones_from_dir(ZONES_DIR)


def zones_from_dir(d):
    out = {}
    for f in sorted(os.listdir(d)):
        if f.endswith(".zone"):
            out[f[: -len(".zone")]] = os.path.join(d, f)
    return out


def soa_query(name, qid):
    q = struct.pack(">HHHHHH", qid, 0x0000, 1, 0, 0, 0)
    for label in name.strip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack(">HH", 6, 1)


class NsdLab:
    def __init__(self, zones, port=None, startup_timeout=15.0):
        if not zones:
            raise LabError("no zones given")
        self.zones = dict(zones)
        self.want_port = port
        self.startup_timeout = startup_timeout
        self.dir = None
        self.proc = None
        self.port = None
        self.ipv6 = ipv6_loopback()
        self.blackhole = None
        self.closed_port = None
        self._holes = []

    # -- lifecycle --------------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def _write_conf(self):
        d = self.dir
        lines = [
            "server:",
            f"  ip-address: 127.0.0.1@{self.port}",
        ]
        if self.ipv6:
            lines.append(f"  ip-address: ::1@{self.port}")
        lines += [
            f"  port: {self.port}",
            '  username: ""',
            '  chroot: ""',
            f'  zonesdir: "{d}"',
            f'  pidfile: "{d}/nsd.pid"',
            '  database: ""',
            f'  zonelistfile: "{d}/zone.list"',
            f'  xfrdfile: "{d}/xfrd.state"',
            f'  xfrdir: "{d}"',
            f'  logfile: "{d}/nsd.log"',
            "  server-count: 1",
            "  verbosity: 1",
            "  hide-version: yes",
            "  minimal-responses: no",
            # Debian builds NSD with response rate limiting (200 answers/s
            # per /24 by default): off, tests and benchmarks send bursts
            "  rrl-ratelimit: 0",
            "  rrl-whitelist-ratelimit: 0",
            "  round-robin: no",
            "remote-control:",
            "  control-enable: no",
        ]
        for name, path in sorted(self.zones.items()):
            if not os.path.isfile(path):
                raise LabError(f"zone file {path} not found")
            lines += ["zone:", f"  name: {name}", f'  zonefile: "{os.path.abspath(path)}"']
        conf = os.path.join(d, "nsd.conf")
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        return conf

    def _open_blackhole(self):
        port = free_port(False, avoid=(self.port,))
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", port))
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind(("127.0.0.1", port))
        t.listen(1)  # connections queue up; nothing is ever answered
        self._holes = [u, t]
        self.blackhole = port
        self.closed_port = free_port(False, avoid=(self.port, port))

    def _answers(self):
        name = sorted(self.zones)[0]
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.2)
        try:
            qid = random.randint(1, 65535)
            s.sendto(soa_query(name, qid), ("127.0.0.1", self.port))
            data, _ = s.recvfrom(4096)
            return len(data) >= 12 and struct.unpack(">H", data[:2])[0] == qid
        except OSError:
            return False
        finally:
            s.close()

    def start(self):
        nsd = find_nsd()
        if not nsd:
            raise LabError("nsd is not installed (apt-get install nsd)")
        self.dir = tempfile.mkdtemp(prefix="kmsdiag-nsd-")
        last = ""
        for _attempt in range(3):
            self.port = self.want_port or free_port(self.ipv6)
            conf = self._write_conf()
            chk = shutil.which("nsd-checkconf") or "/usr/sbin/nsd-checkconf"
            if os.access(chk, os.X_OK):
                r = subprocess.run([chk, conf], capture_output=True, text=True)
                if r.returncode != 0:
                    raise LabError("nsd-checkconf: " + (r.stdout + r.stderr).strip())
            self.proc = subprocess.Popen(
                [nsd, "-d", "-c", conf],
                stdout=subprocess.DEVNULL,
                stderr=open(os.path.join(self.dir, "nsd.stderr"), "w"),
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
            deadline = time.monotonic() + self.startup_timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                if self._answers():
                    self._open_blackhole()
                    return self
                time.sleep(0.05)
            last = self._log_tail()
            self._kill()
            if self.want_port:
                break
        raise LabError("NSD did not start: " + last)

    def _log_tail(self):
        out = []
        for f in ("nsd.stderr", "nsd.log"):
            p = os.path.join(self.dir, f)
            if os.path.exists(p):
                with open(p, errors="replace") as fh:
                    out.append(fh.read()[-2000:])
        return " | ".join(x.strip() for x in out if x.strip()) or "no log"

    def _kill(self):
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def stop(self):
        self._kill()
        for s in self._holes:
            s.close()
        self._holes = []
        if self.dir and os.environ.get("KMSDIAG_LAB_KEEP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def server(self, v6=False):
        return f"[::1]:{self.port}" if v6 else f"127.0.0.1:{self.port}"

    def env(self):
        return {
            "KMSDIAG_LAB_PORT": str(self.port),
            "KMSDIAG_LAB_BLACKHOLE_PORT": str(self.blackhole),
            "KMSDIAG_LAB_CLOSED_PORT": str(self.closed_port),
            "KMSDIAG_LAB_IPV6": "1" if self.ipv6 else "0",
            "KMSDIAG_LAB_DIR": self.dir,
        }


def check():
    if not find_nsd():
        return "nsd is not installed (apt-get install nsd)"
    try:
        with NsdLab(default_zones()):
            pass
    except LabError as e:
        return str(e)
    return None


def main(argv):
    if len(argv) >= 1 and argv[0] == "check":
        why = check()
        if why:
            print("SKIP: " + why)
            return SKIP
        return 0
    if len(argv) >= 1 and argv[0] == "run":
        zones = {}
        args = argv[1:]
        while args and args[0] != "--":
            if args[0] == "--zone" and len(args) > 1:
                name, _, path = args[1].partition("=")
                zones[name] = path
                args = args[2:]
            elif args[0] == "--zones-dir" and len(args) > 1:
                zones.update(zones_from_dir(args[1]))
                args = args[2:]
            else:
                print(f"nsd_lab.py: unknown argument {args[0]}", file=sys.stderr)
                return 2
        if not args or len(args) < 2:
            print("usage: nsd_lab.py run [--zone N=F]... -- CMD...", file=sys.stderr)
            return 2
        cmd = args[1:]
        child = None

        def on_signal(signum, _frame):
            if child and child.poll() is None:
                child.send_signal(signum)
            raise SystemExit(128 + signum)

        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, on_signal)
        try:
            with NsdLab(zones or default_zones()) as lab:
                env = dict(os.environ)
                env.update(lab.env())
                child = subprocess.Popen(cmd, env=env)
                return child.wait()
        except LabError as e:
            print("SKIP: " + str(e))
            return SKIP
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
