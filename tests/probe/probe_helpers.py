"""probe_helpers.py: shared pieces of the probe tests: run the test KMS
responder (tests/responder) on loopback and kms-probe against it."""
import json
import os
import signal
import socket
import subprocess
import tempfile
import time

BIN = os.environ.get("KMSDIAG_BIN", "build/bin")
TESTBIN = os.environ.get("KMSDIAG_TESTBIN", "build/tests")
PROBE = os.path.join(BIN, "kms-probe")
RESPONDER = os.path.join(TESTBIN, "kms-test-responder")


class Checker:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL: " + what, flush=True)
        return cond

    def eq(self, got, want, what):
        return self.check(got == want, f"{what}: got {got!r}, want {want!r}")

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        return 1 if self.failed or not self.passed else 0


def ipv6_loopback():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def closed_port():
    """A loopback port where nothing listens (bound, then released)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Responder:
    """kms-test-responder with the given listeners; .targets[i] is the
    HOST:PORT text of listener i, in the order given."""

    def __init__(self, listeners, script=None):
        self.listeners = listeners
        self.script = script
        self.proc = None
        self.dir = tempfile.mkdtemp(prefix="kd-resp-")
        self.ready = os.path.join(self.dir, "ready")
        self.log = os.path.join(self.dir, "requests.log")
        self.bound = []
        self.targets = []

    def __enter__(self):
        cmd = [RESPONDER, "--quiet", "--ready-file", self.ready,
               "--log", self.log]
        if self.script:
            cmd += ["--script", self.script]
        cmd += self.listeners
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        deadline = time.time() + 20
        while not os.path.exists(self.ready):
            if self.proc.poll() is not None:
                raise RuntimeError(f"responder exited with {self.proc.returncode}")
            if time.time() > deadline:
                raise RuntimeError("responder did not get ready")
            time.sleep(0.02)
        with open(self.ready) as f:
            for line in f:
                addr, port, beh = line.split()
                self.bound.append((addr, int(port), beh))
                host = f"[{addr}]" if ":" in addr else addr
                self.targets.append(f"{host}:{port}")
        return self

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode if self.proc else 0
        for f in (self.ready, self.log):
            if os.path.exists(f):
                os.unlink(f)
        if self.script and os.path.dirname(self.script) == self.dir:
            os.unlink(self.script)
        os.rmdir(self.dir)
        # It stops cleanly on SIGTERM: anything else (a sanitizer report,
        # a crash) fails the test that ran it.
        if rc != 0 and exc[0] is None:
            raise RuntimeError(f"kms-test-responder exited with {rc}")

    def requests(self):
        if not os.path.exists(self.log):
            return []
        out = []
        with open(self.log) as f:
            for line in f:
                if not line.startswith("request "):
                    continue
                parts = dict(p.split("=", 1) for p in line.split()[1:])
                out.append(parts)
        return out

    def stop(self):
        """Stop the responder; return the peak number of connections."""
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)
        with open(self.log) as f:
            for line in f:
                if line.startswith("peak_connections "):
                    return int(line.split()[1])
        return None


def run(args, env=None, timeout=120):
    e = dict(os.environ)
    if env:
        e.update(env)
    t0 = time.monotonic()
    p = subprocess.run([PROBE] + args, capture_output=True, env=e,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr, time.monotonic() - t0


def run_json(args, env=None):
    rc, out, err, el = run(["--json"] + args, env)
    recs = [json.loads(l) for l in out.decode("utf-8").splitlines() if l]
    probes = [r for r in recs if r.get("type") == "probe"]
    verdicts = [r for r in recs if r.get("type") == "verdict"]
    return rc, probes, verdicts, recs, err, el
