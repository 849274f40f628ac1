"""test_wa_client_sim - wa_client against wa-sim over the real wire.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Runs the wacli tool (common/wa/tools/wacli.c: one wa_client session over
WebSocket + Noise) against the real wa-sim binary: QR login, pairing-code
login, 1:1 text both ways with server, delivery and read acks, a reply,
a group created by one client with sender keys, a restart from the saved
credentials without a new scan, a conflict, unlinking by the phone and a
logout. This checks our client protocol against an independent server
implementation (the same one Baileys is tested against).
"""
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from wasim import WaSim, BIN, SANITIZER_MARKS  # noqa: E402

TIMEOUT = 60


def check(cond, what):
    if not cond:
        raise AssertionError(what)


class Cli:
    """One wacli process: JSON events on stdout, commands on stdin."""

    def __init__(self, sim, name, creds):
        self.name = name
        self.creds = creds
        self.sim = sim
        self.events = []
        self.stopped = False
        self.q = queue.Queue()
        self.err = tempfile.NamedTemporaryFile(prefix="wacli-%s-" % name,
                                               suffix=".log", delete=False)
        env = dict(os.environ)
        env.setdefault("APP_LOG_LEVEL", "debug")
        self.proc = subprocess.Popen(
            [os.path.join(BIN, "wacli"), "--url", sim.info["ws_url"],
             "--root-key", sim.info["root_key"], "--creds", creds,
             "--name", name, "--push-name", name.capitalize()],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err,
            env=env, text=True, bufsize=1)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                self.q.put(json.loads(line))
            except ValueError:
                self.q.put({"event": "garbage", "line": line})
        self.q.put(None)

    def cmd(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def wait(self, pred, what, timeout=TIMEOUT):
        """Return the first event (already seen or new) matching pred."""
        for e in self.events:
            if pred(e):
                return e
        end = time.time() + timeout
        while time.time() < end:
            try:
                e = self.q.get(timeout=max(0.05, end - time.time()))
            except queue.Empty:
                break
            if e is None:
                raise AssertionError("%s: wacli exited (rc=%s) waiting for %s\n%s"
                                     % (self.name, self.proc.wait(), what,
                                        self.log()))
            self.events.append(e)
            if pred(e):
                return e
        raise AssertionError("%s: timed out waiting for %s; events: %s\n%s"
                             % (self.name, what, self.events[-10:], self.log()))

    def status(self, state, after=0):
        return self.wait(lambda e: e["event"] == "status"
                         and e["state"] == state
                         and self.events.index(e) >= after,
                         "status %s" % state)

    def mark(self):
        return len(self.events)

    def log(self):
        with open(self.err.name) as f:
            text = f.read()
        return text[-3000:]

    def stop(self, expect_rc=None):
        if self.stopped:
            return
        self.stopped = True
        if self.proc.poll() is None:
            try:
                self.cmd("quit")
            except (BrokenPipeError, ValueError):
                pass
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        with open(self.err.name) as f:
            text = f.read()
        for mark in SANITIZER_MARKS:
            if mark in text:
                raise AssertionError("%s: sanitizer report:\n%s"
                                     % (self.name, text[-6000:]))
        if expect_rc is not None:
            check(self.proc.returncode == expect_rc,
                  "%s: exit status %s, expected %s"
                  % (self.name, self.proc.returncode, expect_rc))
        os.unlink(self.err.name)


def scan(sim, cli, phone):
    qr = cli.status("QR")["qr"]
    st, body = sim.ctl("POST", "/accounts/%s/scan" % phone, {"qr": qr})
    check(st == 200, (st, body))
    cli.status("PAIRED")
    cli.status("RESTART")
    return cli.status("WORKING")


def main():
    tmp = tempfile.mkdtemp(prefix="wacli-test-")
    alice_p, bob_p, carol_p = "15550000001", "15550000002", "15550000003"
    alice_j = alice_p + "@s.whatsapp.net"
    bob_j = bob_p + "@s.whatsapp.net"
    clis = []
    with WaSim() as sim:
        for phone, name in ((alice_p, "Alice"), (bob_p, "Bob"),
                            (carol_p, "Carol")):
            st, body = sim.ctl("POST", "/accounts",
                               {"phone": phone, "push_name": name})
            check(st == 201, (st, body))

        # QR login
        alice = Cli(sim, "alice", os.path.join(tmp, "alice.json"))
        clis.append(alice)
        working = scan(sim, alice, alice_p)
        check(working["me"]["id"] == alice_p + "@c.us", working)
        check(working["me"]["lid"] and working["me"]["lid"].endswith("@lid"),
              working)

        # Pairing-code login
        bob = Cli(sim, "bob", os.path.join(tmp, "bob.json"))
        clis.append(bob)
        bob.status("QR")
        bob.cmd("paircode +1-555-000-0002")
        code = bob.wait(lambda e: e["event"] == "code", "pair code")["code"]
        check(len(code) == 9 and code[4] == "-", code)
        check(bob.status("PAIR_CODE")["code"] == code, bob.events[-1])
        st, body = sim.ctl("POST", "/accounts/%s/pair-code" % bob_p,
                           {"code": code})
        check(st == 200, (st, body))
        bob.status("PAIRED")
        working = bob.status("WORKING")
        check(working["me"]["id"] == bob_p + "@c.us", working)

        # 1:1 text, both ways, with acks
        alice.cmd("send %s@c.us hello bob" % bob_p)
        mid = alice.wait(lambda e: e["event"] == "queued", "queued")["id"]
        m = bob.wait(lambda e: e["event"] == "message" and e["id"] == mid,
                     "message at bob")
        check(m["body"] == "hello bob" and m["chat"] == alice_j
              and not m["from_me"] and m["type"] == "chat", m)
        check(m["sender"].startswith(alice_p + ":"), m)
        sent = alice.wait(lambda e: e["event"] == "sent" and e["id"] == mid,
                          "server ack")
        check(sent["ok"], sent)
        alice.wait(lambda e: e["event"] == "ack" and e["id"] == mid
                   and e["ack"] == 2, "delivery ack")
        bob.cmd("seen %s %s" % (alice_j, mid))
        alice.wait(lambda e: e["event"] == "ack" and e["id"] == mid
                   and e["ack"] == 3, "read ack")
        bob.cmd("reply %s %s hi alice" % (alice_j, mid))
        rid = bob.wait(lambda e: e["event"] == "queued", "queued")["id"]
        m = alice.wait(lambda e: e["event"] == "message" and e["id"] == rid,
                       "reply at alice")
        check(m["body"] == "hi alice" and m["reply_to"] == mid, m)
        bob.wait(lambda e: e["event"] == "sent" and e["id"] == rid and e["ok"],
                 "reply server ack")

        # A group with sender keys: carol joins by QR, alice creates it
        carol = Cli(sim, "carol", os.path.join(tmp, "carol.json"))
        clis.append(carol)
        scan(sim, carol, carol_p)
        alice.cmd("group team %s %s@c.us" % (bob_j, carol_p))
        g = alice.wait(lambda e: e["event"] == "iq" and e.get("tag") == "group",
                       "group created")
        gid = g.get("jid") or (g["id"] + "@g.us")
        check(gid.endswith("@g.us"), g)
        mark = alice.mark()
        alice.cmd("send %s hello group" % gid)
        gmid = alice.wait(lambda e: e["event"] == "queued"
                          and alice.events.index(e) >= mark, "queued")["id"]
        for c in (bob, carol):
            m = c.wait(lambda e: e["event"] == "message" and e["id"] == gmid,
                       "group message at %s" % c.name)
            check(m["body"] == "hello group" and m["chat"] == gid
                  and m["is_group"] and m["participant"] == alice_j, m)
        alice.wait(lambda e: e["event"] == "sent" and e["id"] == gmid
                   and e["ok"], "group server ack")
        mark = carol.mark()
        carol.cmd("send %s carol answers" % gid)
        cid = carol.wait(lambda e: e["event"] == "queued"
                         and carol.events.index(e) >= mark, "queued")["id"]
        for c in (alice, bob):
            m = c.wait(lambda e: e["event"] == "message" and e["id"] == cid,
                       "carol's group message at %s" % c.name)
            check(m["body"] == "carol answers", m)

        # Restart from the saved state: no new scan, sessions still work
        alice.stop(expect_rc=0)
        alice = Cli(sim, "alice", os.path.join(tmp, "alice.json"))
        clis.append(alice)
        alice.status("WORKING")
        check(not any(e["event"] == "status" and e["state"] == "QR"
                      for e in alice.events), alice.events)
        mark = bob.mark()
        bob.cmd("send %s after restart" % alice_j)
        aid = bob.wait(lambda e: e["event"] == "queued"
                       and bob.events.index(e) >= mark, "queued")["id"]
        m = alice.wait(lambda e: e["event"] == "message" and e["id"] == aid,
                       "message after restart")
        check(m["body"] == "after restart", m)
        mark = alice.mark()
        alice.cmd("send %s still here" % bob_j)
        sid = alice.wait(lambda e: e["event"] == "queued"
                         and alice.events.index(e) >= mark, "queued")["id"]
        bob.wait(lambda e: e["event"] == "message" and e["id"] == sid,
                 "message from restarted alice")

        # The phone unlinks carol's device: logged out, state removed
        st, body = sim.ctl("GET", "/accounts/%s/devices" % carol_p)
        dev = [d["id"] for d in body["devices"] if d["id"] != 0][0]
        st, body = sim.ctl("DELETE", "/accounts/%s/devices/%d" % (carol_p, dev))
        check(st == 200, (st, body))
        carol.status("LOGGED_OUT")
        carol.proc.wait(20)
        carol.stop(expect_rc=4)
        check(not os.path.exists(os.path.join(tmp, "carol.json")),
              "carol's state file removed")

        # Logout from the client side
        bob.cmd("logout")
        bob.status("LOGGED_OUT")
        bob.proc.wait(20)
        bob.stop(expect_rc=4)
        st, body = sim.ctl("GET", "/accounts/%s/devices" % bob_p)
        check([d["id"] for d in body["devices"]] == [0], body)

        for c in clis:
            c.stop()
    print("wa_client_sim: OK")


if __name__ == "__main__":
    main()
