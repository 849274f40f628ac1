"""buscall - drive bus servers from Python through the bus-call tool.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Python has no ZeroMQ or msgpack in its standard library, so tests talk
the real bus through tests/tools/bus-call (built into $WHARF_BIN_DIR):

    from buscall import call, raw, Sub
    st, body, reason = call(ep, "session.get", {"name": "x"})
"""
import json
import os
import subprocess

from harness import BIN, wait_for

TOOL = os.path.join(BIN, "bus-call")


def _run(args, timeout_ms):
    p = subprocess.run([TOOL] + args, capture_output=True, text=True,
                       timeout=timeout_ms / 1000.0 + 10)
    if p.returncode not in (0, 2):
        raise AssertionError("bus-call %r failed (%d): %s" % (args, p.returncode, p.stderr))
    return json.loads(p.stdout.strip().splitlines()[-1])


def call_full(endpoint, type_, body=None, timeout=5000, deadline=None,
              version=None, req_id=None):
    """One request; returns the reply dict {st, reason, type, corr, body}
    (st 0 when no reply came before the timeout)."""
    args = ["--timeout", str(timeout)]
    if deadline is not None:
        args += ["--deadline", str(deadline)]
    if version is not None:
        args += ["--version", str(version)]
    if req_id is not None:
        args += ["--id", req_id]
    args += [endpoint, type_, json.dumps(body if body is not None else {})]
    return _run(args, timeout)


def call(endpoint, type_, body=None, timeout=5000, **kw):
    """One request; returns (st, body, reason)."""
    r = call_full(endpoint, type_, body, timeout, **kw)
    return r["st"], r["body"], r["reason"]


def ok(endpoint, type_, body=None, want=200, timeout=5000):
    """One request that must succeed with `want`; returns the body."""
    st, b, reason = call(endpoint, type_, body, timeout)
    if st != want:
        raise AssertionError("%s %r: want %d, got %d %r" % (type_, body, want, st, reason))
    return b


def raw(endpoint, frames, timeout=3000):
    """Send raw frames (bus-call --raw syntax); returns the reply dict."""
    return _run(["--raw", "--timeout", str(timeout), endpoint] + list(frames), timeout)


def wait_ready(endpoint, timeout=30):
    """Wait until a server answers health.ping."""
    return wait_for(lambda: call(endpoint, "health.ping", timeout=1000)[0] == 200,
                    timeout, what="health.ping on %s" % endpoint)


class Sub:
    """A subscriber process collecting `count` messages of `topic`."""

    def __init__(self, endpoint, topic="", count=1, timeout=10000):
        self.p = subprocess.Popen([TOOL, "--sub", "--timeout", str(timeout),
                                   "--count", str(count), endpoint, topic],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        # wait for "subscribed", then give the SUB a moment to connect
        self.p.stderr.readline()

    def messages(self, timeout=20):
        out, _ = self.p.communicate(timeout=timeout)
        return [json.loads(line) for line in out.splitlines() if line.strip()]
