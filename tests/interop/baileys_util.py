"""baileys_util - an unmodified Baileys client (wharf_peer.mjs) as a child
process that a Python interop test drives over JSON lines.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

    peer = start_peer(sim)          # exits 77 (skip) when Baileys is missing
    peer.cmd("pair", "open", phone=B, push_name="B")
    sent = peer.sock("sendMessage", jid, {"text": "hi"})
    peer.sock("sendMessage", jid, {"react": {"text": "x", "key": sent["key"]}})
    data = peer.fn("downloadMediaMessage", {"$msg": mid}, "buffer", {})
    ev = peer.wait_ev("presence.update", lambda d: d["id"] == jid, 20)
    peer.close()

Arguments and answers carry bytes as {"$b64": base64}; {"$msg": id} in
an argument is the stored message with that key id (see wharf_peer.mjs
for every command and event). b64(x) and unb64(v) convert. Loopback only.
"""
import base64
import json
import os
import subprocess
import sys
import tempfile
import threading

from harness import BIN, check, wait_for

NPM_DIR = os.environ.get("WHARF_INTEROP_DIR",
                         os.path.join(BIN, "..", "tests", "interop", "npm"))
SKIP = 77


def b64(data):
    """Bytes as a wharf_peer.mjs argument."""
    return {"$b64": base64.b64encode(data).decode()}


def unb64(v):
    """Bytes from a wharf_peer.mjs answer ({"$b64"} or a base64 string)."""
    if isinstance(v, dict):
        v = v["$b64"]
    return base64.b64decode(v)


class NodePeer:
    """wharf_peer.mjs as a child process: commands in, JSON events out."""

    def __init__(self, sim):
        self.log = tempfile.NamedTemporaryFile(prefix="wharf-peer-", suffix=".log",
                                               delete=False)
        self.lines = []
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(
            [os.environ.get("WHARF_NODE", "node"), os.path.join(NPM_DIR, "wharf_peer.mjs"),
             sim.info["ws_url"], sim.control, sim.info["root_key"]],
            cwd=NPM_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.log, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            if os.environ.get("WASIM_TEST_DEBUG"):
                sys.stderr.write("[baileys] " + line)
            try:
                event = json.loads(line)
            except ValueError:
                event = {"event": "garbage", "line": line}
            with self.lock:
                self.lines.append(event)

    def events(self, kind=None):
        with self.lock:
            return [e for e in self.lines if kind is None or e["event"] == kind]

    def _wait_first(self, items, pred, timeout, what):
        """The first of items() for which pred is true, waiting for it;
        fails at once when the peer exits."""
        def probe():
            hit = [x for x in items() if pred(x)]
            if hit:
                return hit[0]
            check(self.proc.poll() is None,
                  "wharf_peer.mjs exited with %s:\n%s" % (self.proc.returncode,
                                                         self.stderr()))
            return None
        return wait_for(probe, timeout, interval=0.1, what="baileys: " + what)

    def wait(self, pred, timeout, what):
        """The first event line for which pred is true."""
        return self._wait_first(self.events, pred, timeout, what)

    def cmd(self, command, answer, timeout=60, **args):
        """Send a command; return its answer event, or fail with its error."""
        c = dict(args, cmd=command)
        n = len(self.events())
        self.proc.stdin.write(json.dumps(c) + "\n")
        self.proc.stdin.flush()
        got = wait_for(lambda: [e for e in self.events()[n:]
                                if e["event"] in (answer, "error")], timeout,
                       interval=0.1, what="baileys: answer to %s" % c["cmd"])
        check(got[0]["event"] == answer, "baileys: %s failed: %s" % (c["cmd"], got[0]))
        return got[0]

    def sock(self, method, *args, timeout=60):
        """sock[method](*args) in Baileys; what it resolved to."""
        return self.cmd("sock", "result", timeout=timeout, method=method,
                        args=list(args))["value"]

    def fn(self, name, *args, timeout=60):
        """The Baileys module's export name(*args); what it resolved to."""
        return self.cmd("fn", "result", timeout=timeout, name=name,
                        args=list(args))["value"]

    def evs(self, name):
        """Data of every Baileys event called name so far."""
        return [e["data"] for e in self.events("ev") if e["name"] == name]

    def wait_ev(self, name, pred, timeout, what=None):
        """The first data of Baileys event name for which pred is true.
        Events whose data is a list (messages.update, groups.update, ...)
        are searched item by item."""
        def items():
            return [item for d in self.evs(name)
                    for item in (d if isinstance(d, list) else [d])]
        return self._wait_first(items, pred, timeout,
                                "event %s: %s" % (name, what or "match"))

    def stderr(self):
        with open(self.log.name, errors="replace") as f:
            return f.read()[-6000:]

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
                self.proc.stdin.close()
                self.proc.wait(20)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        os.unlink(self.log.name)


def start_peer(sim):
    """wharf_peer.mjs started and ready; exits 77 when Baileys is missing."""
    peer = NodePeer(sim)
    try:
        wait_for(lambda: peer.events("ready") or peer.proc.poll() is not None, 120,
                 interval=0.1, what="wharf_peer.mjs ready")
    except AssertionError:
        peer.close()
        raise
    if peer.proc.poll() == SKIP:
        print("SKIP: Baileys is not installed (the npm registry was unreachable)")
        peer.close()
        sys.exit(SKIP)
    check(peer.events("ready"), "wharf_peer.mjs did not start:\n" + peer.stderr())
    return peer
