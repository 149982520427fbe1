#!/usr/bin/env python3
"""kmslab.py: a KMS client's world on loopback: NSD serving zones with
_vlmcs._tcp records (through tests/lab/nsd_lab.py) and the test KMS
responder (tests/responder) behind them, plus resolver configuration files
that point a client at them.

Library use (the doctor's end-to-end tests):

    with KmsLab(build_dir, zones={"kd7.test": path},
                listeners=["127.0.7.1:1688=normal"]) as lab:
        path = lab.resolv_conf(domain="good.kd7.test")

Command line (scripts/lab.sh, the demo):

    kmslab.py serve --build DIR --state DIR [--zone NAME=FILE]...
                    [--listen ADDR:PORT=BEHAVIOUR]... [--domain D]
        Start everything, write STATE/resolv.conf (domain D, nameserver
        NSD), STATE/env (KMSDIAG_LAB_* lines) and STATE/ready, then wait
        until SIGTERM or SIGINT and stop everything.

Exit status 77 (skip) when NSD or a loopback port is not available here.
Traffic stays on 127.0.0.0/8 and ::1.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "lab"))

SKIP = 77


class LabUnavailable(Exception):
    """The lab cannot run on this machine (the reason is the message)."""


def _import_nsd_lab():
    try:
        import nsd_lab  # noqa: F401
        return nsd_lab
    except ImportError as e:
        raise LabUnavailable(f"tests/lab/nsd_lab.py is missing ({e})")


class KmsLab:
    def __init__(self, build_dir, zones, listeners, startup_timeout=15.0):
        self.build = build_dir
        self.zones = dict(zones)
        self.listeners = list(listeners)
        self.timeout = startup_timeout
        self.nsd = None
        self.rsp = None
        self.dir = None
        self.bound = []

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        nsd_lab = _import_nsd_lab()
        if not nsd_lab.find_nsd():
            raise LabUnavailable("nsd is not installed (apt-get install nsd)")
        self.dir = tempfile.mkdtemp(prefix="kmslab-")
        if self.listeners:
            self._start_responder()
        try:
            self.nsd = nsd_lab.NsdLab(self.zones)
            self.nsd.start()
        except nsd_lab.LabError as e:
            raise LabUnavailable(f"NSD would not start: {e}")

    def _start_responder(self):
        exe = os.path.join(self.build, "tests", "kms-test-responder")
        if not os.access(exe, os.X_OK):
            raise LabUnavailable(f"{exe} is not built")
        ready = os.path.join(self.dir, "responder.ready")
        log = open(os.path.join(self.dir, "responder.log"), "wb")
        self.rsp = subprocess.Popen(
            [exe, "--quiet", "--ready-file", ready] + self.listeners,
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if os.path.exists(ready):
                with open(ready) as f:
                    self.bound = [ln.split() for ln in f if ln.strip()]
                return
            if self.rsp.poll() is not None:
                with open(os.path.join(self.dir, "responder.log"), "rb") as f:
                    why = f.read().decode(errors="replace").strip()
                self.rsp = None
                raise LabUnavailable(
                    f"the test KMS responder could not listen: {why[-400:]}")
            time.sleep(0.02)
        raise LabUnavailable("the test KMS responder did not get ready")

    def stop(self):
        if self.rsp is not None:
            self.rsp.terminate()
            try:
                self.rsp.wait(5)
            except subprocess.TimeoutExpired:
                self.rsp.kill()
                self.rsp.wait()
            self.rsp = None
        if self.nsd is not None:
            self.nsd.stop()
            self.nsd = None
        if self.dir and os.environ.get("KMSDIAG_LAB_KEEP") != "1":
            for f in os.listdir(self.dir):
                try:
                    os.unlink(os.path.join(self.dir, f))
                except OSError:
                    pass
            try:
                os.rmdir(self.dir)
            except OSError:
                pass
            self.dir = None

    @property
    def dns_port(self):
        return self.nsd.port

    def resolv_conf(self, domain=None, search=(), server=None, name=None):
        """Write a resolver configuration; returns its path."""
        server = server or f"127.0.0.1:{self.nsd.port}"
        lines = ["# written by tests/doctor/kmslab.py"]
        if domain:
            lines.append(f"domain {domain}")
        if search:
            lines.append("search " + " ".join(search))
        lines.append(f"nameserver {server}")
        path = os.path.join(self.dir, name or f"resolv-{len(os.listdir(self.dir))}.conf")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path


def serve(argv):
    build = state = domain = None
    zones, listeners = {}, []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--build", "--state", "--zone", "--listen", "--domain") and i + 1 < len(argv):
            v = argv[i + 1]
            if a == "--build":
                build = v
            elif a == "--state":
                state = v
            elif a == "--domain":
                domain = v
            elif a == "--zone":
                n, _, p = v.partition("=")
                zones[n] = p
            else:
                listeners.append(v)
            i += 2
        else:
            print(f"kmslab.py: unknown argument {a}", file=sys.stderr)
            return 2
    if not build or not state or not zones:
        print("usage: kmslab.py serve --build DIR --state DIR --zone N=F ...",
              file=sys.stderr)
        return 2
    stop = []

    class Stop(Exception):
        pass

    def on_signal(*_):
        stop.append(1)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # let the cleanup finish
        raise Stop()  # unwinds a start in progress too: NSD gets stopped

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        with KmsLab(build, zones, listeners) as lab:
            os.makedirs(state, exist_ok=True)
            rc = lab.resolv_conf(domain=domain, name="resolv.conf")
            os.replace(rc, os.path.join(state, "resolv.conf"))
            with open(os.path.join(state, "env.tmp"), "w") as f:
                for k, v in lab.nsd.env().items():
                    if k != "KMSDIAG_LAB_DIR":
                        f.write(f"{k}={v}\n")
                f.write(f"KMSDIAG_LAB_RESPONDER_PID={lab.rsp.pid if lab.rsp else ''}\n")
                f.write(f"KMSDIAG_LAB_NSD_PID={lab.nsd.proc.pid if lab.nsd.proc else ''}\n")
            os.replace(os.path.join(state, "env.tmp"), os.path.join(state, "env"))
            with open(os.path.join(state, "ready"), "w") as f:
                for b in lab.bound:
                    f.write(" ".join(b) + "\n")
            while not stop:
                if lab.rsp is not None and lab.rsp.poll() is not None:
                    print("kmslab.py: the responder exited", file=sys.stderr)
                    break
                if lab.nsd.proc is not None and lab.nsd.proc.poll() is not None:
                    print("kmslab.py: NSD exited", file=sys.stderr)
                    break
                time.sleep(0.1)
    except Stop:
        return 0
    except LabUnavailable as e:
        print(f"SKIP: {e}", file=sys.stderr)
        return SKIP
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "serve":
        sys.exit(serve(sys.argv[2:]))
    print(__doc__)
    sys.exit(2)
