"""wasim - start a wa-sim process for integration tests.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

    from wasim import WaSim
    with WaSim("--qr-first-ms", "2000") as sim:
        st, body = sim.ctl("POST", "/accounts", {"phone": "15551234567"})
        sim.info["ws_url"], sim.info["root_key"]

wa-sim picks free loopback ports and prints one JSON line with its URLs;
the fixture reads it. A process that dies, or prints a sanitizer report,
fails the test at teardown.
"""
import json
import os
import subprocess
import tempfile
import threading
import urllib.error
import urllib.request

SRC = os.environ.get("WHARF_SOURCE_DIR",
                     os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BIN = os.environ.get("WHARF_BIN_DIR", os.path.join(SRC, "build-asan", "bin"))
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:",
                   "ERROR: LeakSanitizer", "SUMMARY: UndefinedBehaviorSanitizer")

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class WaSim:
    def __init__(self, *args, env=None):
        self.args = list(args)
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.env.setdefault("APP_LOG_LEVEL", "debug")
        self.proc = None
        self.info = None
        self.log = tempfile.NamedTemporaryFile(prefix="wa-sim-", suffix=".log",
                                               delete=False)

    def __enter__(self):
        self.proc = subprocess.Popen([os.path.join(BIN, "wa-sim")] + self.args,
                                     stdout=subprocess.PIPE, stderr=self.log,
                                     env=self.env, text=True)
        line = [None]

        def read():
            line[0] = self.proc.stdout.readline()
        t = threading.Thread(target=read, daemon=True)
        t.start()
        t.join(30)
        if not line[0]:
            self.stop()
            raise AssertionError("wa-sim did not start:\n" + self.stderr())
        self.info = json.loads(line[0])
        self.control = self.info["control_url"]
        return self

    def __exit__(self, *exc):
        self.stop()
        text = self.stderr()
        for mark in SANITIZER_MARKS:
            if mark in text:
                raise AssertionError("wa-sim sanitizer report:\n" + text[-6000:])
        if exc[0] is None and self.rc not in (0, None):
            raise AssertionError("wa-sim exited with %s:\n%s" % (self.rc, text[-4000:]))
        os.unlink(self.log.name)
        return False

    def stop(self):
        self.rc = None
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.rc = self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.rc = self.proc.wait()
        elif self.proc:
            self.rc = self.proc.returncode

    def alive(self):
        return self.proc.poll() is None

    def stderr(self):
        with open(self.log.name, errors="replace") as f:
            return f.read()

    def http(self, method, url, body=None, headers=None, raw=False):
        data = None
        hdrs = dict(headers or {})
        if body is not None and not raw:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        elif body is not None:
            data = body
        req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
        try:
            with _opener.open(req, timeout=30) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def ctl(self, method, path, body=None):
        st, data = self.http(method, self.control + path, body)
        return st, (json.loads(data) if data else None)
