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


class Interop:
    """The stack most interop files share: wa-sim, the Baileys peer,
    Wharf (every service) and a webhook receiver. Wharf session `w` is
    linked as `wharf` (phone), Baileys paired as `peer`; `others` are
    more simulated phones ((phone, push name), ...). `before_link(ix)`
    runs once the accounts exist (wa-sim faults, for example);
    `stack_env` adds environment to the services (MEDIA_FETCH_ALLOW);
    `sim_args` are wa-sim's arguments ("--media-cert", path).
    `media=True` serves wa-sim's media host over HTTPS with a certificate
    (ix.cert) that media-service (MEDIA_CA_FILE) and Baileys
    (NODE_EXTRA_CA_CERTS) trust, for tests that send media.
    `same_account=True` pairs Baileys as a second companion of Wharf's
    account (`wharf`, with wharf_name) instead of `peer`'s (which is then
    only another simulated phone): app state and history between two
    devices of one account. `extra_hooks` are more webhooks of session
    w, (path, events) each, posting to rx.url + "/" + path.

        ix = Interop(A, B, EVENTS)
        ix.run([test_one, test_two])    # setup, the tests, teardown
        ix.api("POST", "/api/sendText", {...}, status=201)
        ix.wharf_ev("message", lambda p: p["body"] == "hi", "hi")
    """

    def __init__(self, wharf, peer, events, others=(), before_link=None,
                 wharf_name="Wharf A", peer_name="Baileys B", session="w",
                 stack_env=None, sim_args=(), media=False, same_account=False,
                 extra_hooks=()):
        self.wharf, self.peer_phone, self.events = wharf, peer, events
        self.extra_hooks = tuple(extra_hooks)
        self.same_account = same_account
        self.sim_args = tuple(sim_args)
        self.stack_env = dict(stack_env or {})
        self.cert = None
        if media:
            self.cert = os.path.join(tempfile.mkdtemp(prefix="wharf-interop-"), "media.crt")
            self.stack_env["MEDIA_CA_FILE"] = self.cert
        self.others, self.before_link = others, before_link
        self.wharf_name, self.peer_name, self.session = wharf_name, peer_name, session
        self.sim = self.peer = self.s = self.rx = None
        self.accounts = {}
        self.store = {}

    def __getitem__(self, key):
        """ix["sim"], ix["peer"], ix["s"], ix["rx"]: the parts; other keys
        are what the test stored (ix["gid"] = ...)."""
        if key in ("sim", "peer", "s", "rx"):
            return getattr(self, key)
        return self.store[key]

    def __setitem__(self, key, value):
        self.store[key] = value

    def setup(self):
        from engine_util import account, link_qr, stack
        from harness import Receiver
        from wasim import WaSim
        if self.cert:
            self.sim_args += ("--media-cert", self.cert)
            os.environ["NODE_EXTRA_CA_CERTS"] = self.cert
        self.sim = WaSim(*self.sim_args).__enter__()
        self.peer = start_peer(self.sim)  # first: it skips when Baileys is missing
        self.s = stack(self.sim, **self.stack_env).__enter__()
        self.rx = Receiver().__enter__()
        for phone, name in ((self.wharf, self.wharf_name),
                            (self.peer_phone, self.peer_name)) + tuple(self.others):
            self.accounts[phone] = account(self.sim, phone, name)
        if self.before_link:
            self.before_link(self)
        st, body, _ = self.s.api("POST", "/api/sessions", {
            "name": self.session, "start": True,
            "config": {"webhooks": [{"url": self.rx.url + "/" + self.session,
                                     "events": self.events}] +
                       [{"url": self.rx.url + "/" + path, "events": events}
                        for path, events in self.extra_hooks]}})
        check(st == 201, (st, body))
        link_qr(self.s, self.sim, self.session, self.wharf)
        phone, name = ((self.wharf, self.wharf_name) if self.same_account
                       else (self.peer_phone, self.peer_name))
        opened = self.peer.cmd("pair", "open", phone=phone, push_name=name)
        check(opened["id"].startswith(phone + ":"), opened)

    def close(self):
        if self.peer:
            self.peer.close()
        for part in (self.rx, self.s, self.sim):
            if part:
                part.__exit__(None, None, None)

    def run(self, tests):
        """setup, harness.run(tests), teardown; the Baileys log on failure."""
        from harness import run
        try:
            self.setup()
            run(tests)
        except BaseException as e:
            if self.peer and not (isinstance(e, SystemExit) and not e.code):
                sys.stderr.write("--- wharf_peer.mjs stderr ---\n%s\n" % self.peer.stderr())
            raise
        finally:
            self.close()

    def api(self, method, path, body=None, status=200, **kw):
        """Wharf's API; checks the status, returns the parsed body."""
        st, got, _ = self.s.api(method, path, body, **kw)
        check(st == status, (method, path, st, got))
        return got

    def wharf_evs(self, event, pred=lambda p: True):
        """Payloads of `event` webhooks of session w so far."""
        return [e["payload"] for e in self.rx.events(event)
                if e.get("session") == self.session and pred(e["payload"])]

    def wharf_ev(self, event, pred, what, timeout=30):
        """The first `event` payload matching pred, waited for."""
        return wait_for(lambda: self.wharf_evs(event, pred), timeout,
                        what="wharf %s: %s" % (event, what))[0]
