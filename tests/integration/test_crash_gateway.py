"""test_crash_gateway - a send the API acknowledged goes out when
api-gateway is SIGKILLed with requests in flight; the restarted gateway
serves at once and /ws clients pick up where they left.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Two sessions on wa-sim; clients send s1 -> s2 through /api/sendText and
read sessions while a /ws client follows s2's `message` events.
api-gateway is SIGKILLed at random points and started again on the same
port. Then:
- every send answered 201 reaches s2 exactly once (one event id); a send
  that got no answer may or may not have gone, but never twice;
- the restarted gateway answers /ping and accepts a send within a few
  seconds (workers re-announce their sessions by heartbeat);
- the /ws client, reconnecting with the last `cursor` it saw, gets every
  acknowledged send's event, each event id once.
"""
import os
import random
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from engine_util import check_sent_once, hooks, linked, stack  # noqa: E402
from harness import Receiver, check, kill_loop, run, wait_for  # noqa: E402
from wasim import WaSim  # noqa: E402
from wsclient import WS  # noqa: E402

KILLS = 3
A, B = "15550001111", "15550002222"
SERVES_WITHIN = 10.0  # seconds from restart to the first accepted send


class Follower:
    """A /ws client on one session that reconnects with its last cursor."""

    def __init__(self, s, session):
        self.s, self.session = s, session
        self.events = []
        self.cursor = None
        self.connects = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stop.is_set():
            q = "session=%s&events=message&x-api-key=%s" % (self.session, self.s.api_key)
            if self.cursor is not None:
                q += "&after=%s" % self.cursor
            try:
                c = WS(self.s.api_port, "/ws?" + q, timeout=5)
            except Exception:  # noqa: BLE001 - gateway down: try again
                time.sleep(0.1)
                continue
            self.connects += 1
            try:
                while not self.stop.is_set():
                    try:
                        ev = c.recv_event(timeout=1)
                    except socket.timeout:
                        continue
                    self.events.append(ev)
                    self.cursor = ev["cursor"]
            except Exception:  # noqa: BLE001 - connection gone: reconnect
                pass
            finally:
                c.close()

    def close(self):
        self.stop.set()
        self.thread.join(10)


def test_gateway_killed_with_requests_in_flight():
    rnd = random.Random(int(os.environ.get("WHARF_TEST_SEED", time.time())))
    with WaSim() as sim, stack(sim) as s, Receiver() as rx:
        linked(s, sim, rx, [("s1", A, "Alice"), ("s2", B, "Bob")])
        ws = Follower(s, "s2")
        wait_for(lambda: ws.connects >= 1, 20, what="/ws connected")
        acked, uncertain = [], []
        stop = threading.Event()
        lock = threading.Lock()

        def sender(tag):
            n = 0
            while not stop.is_set():
                text = "gw-%s-%04d" % (tag, n)
                n += 1
                try:
                    st, m, _ = s.api("POST", "/api/sendText",
                                     {"session": "s1", "chatId": B, "text": text},
                                     timeout=20)
                except OSError:
                    st, m = 0, None
                with lock:
                    (acked if st == 201 else uncertain).append(text)
                time.sleep(0.05 if st == 201 else 0.2)

        def reader():
            while not stop.is_set():
                try:
                    s.api("GET", "/api/sessions/s1", timeout=5)
                    s.api("GET", "/api/s2/chats", query={"limit": 5}, timeout=5)
                except OSError:
                    time.sleep(0.1)

        threads = [threading.Thread(target=sender, args=(t,), daemon=True) for t in "abc"]
        threads.append(threading.Thread(target=reader, daemon=True))
        for t in threads:
            t.start()

        def traffic(k):
            base = len(acked)
            wait_for(lambda: len(acked) >= base + 10, 60, what="sends before kill %d" % k)

        def killed(k):
            print("  after %d acknowledged sends" % len(acked), flush=True)

        def serves(k):
            t0 = time.monotonic()
            wait_for(lambda: s.raw("GET", "/ping", timeout=2)[0] == 200, 20,
                     interval=0.02, what="/ping after restart")
            ping = time.monotonic() - t0
            n0 = len(acked)
            wait_for(lambda: len(acked) > n0, 30, interval=0.02,
                     what="a send accepted after restart")
            first = time.monotonic() - t0
            print("  restarted: /ping after %.2f s, first 201 after %.2f s" % (ping, first))
            check(first < SERVES_WITHIN, "first send accepted %.1f s after restart" % first)

        kill_loop(s.proc("api-gateway"), KILLS, traffic, rnd, pause=0.3, killed=killed,
                  restarted=serves)
        base = len(acked)
        wait_for(lambda: len(acked) >= base + 10, 60, what="sends after the last kill")
        stop.set()
        for t in threads:
            t.join(30)

        got = check_sent_once(rx, "s2", acked, uncertain)
        print("unanswered sends that went out: %d of %d"
              % (len(set(uncertain) & set(got)), len(uncertain)))

        # The /ws client saw every acknowledged send, each event once
        try:
            wait_for(lambda: set(acked) <= {e["payload"]["body"] for e in ws.events}, 30,
                     what="every acknowledged send on /ws")
        finally:
            ws.close()
            print("/ws: %d connects, %d events" % (ws.connects, len(ws.events)))
        ids = [e["id"] for e in ws.events]
        check(len(ids) == len(set(ids)), "/ws repeated events: %s"
              % sorted({i for i in ids if ids.count(i) > 1})[:3])
        check(ws.connects >= KILLS + 1, "/ws reconnected %d times" % ws.connects)
        for e in ws.events:
            check(e["event"] == "message" and e["session"] == "s2", e)


if __name__ == "__main__":
    run([test_gateway_killed_with_requests_in_flight])
