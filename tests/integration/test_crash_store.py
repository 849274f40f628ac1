"""test_crash_store - nothing acknowledged is lost or doubled when
store-service is SIGKILLed under traffic.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Two sessions on wa-sim: s1 sends to s2 through /api/sendText, and s2's
phone (the wa-sim account) sends to s1, both at a steady rate; every send
and receive goes through store-service (Signal state, events, messages,
webhook fan-out). store-service is SIGKILLed at random points of the
stream and started again. Then:
- every send the API answered 201 reaches s2 exactly once (one `message`
  webhook event id, one row in s2's GET messages);
- every message s2's phone sent that s1 acknowledged to the server (its
  delivery receipt in wa-sim's stanza log) appears once in s1's GET
  messages and fires one `message` event (one event id; a resent webhook
  keeps its id);
- no message id is stored twice;
- a read in flight when the store dies answers within seconds (the
  gateway fails or retries it when the connection drops; it waited out its
  30 s deadline before);
- no session stops for its lease: the worker notices each kill, and renews
  the leases as soon as the store is back (counted in its log: no
  self-fencing, no lease lost; with LEASE_TTL_MS 15 s, as in production).

test_worker_notices_store_death: store-service is frozen (SIGSTOP) long
enough that the worker surely has a lease claim in flight, then SIGKILLed
and started again. The worker must notice the loss at the kill: a
session started right after the restart is claimed and shows its QR, and
the running one stays WORKING. (Before the worker watched its store
connection, the lost claim held every claim back until its deadline, half
the lease: 30 s with the 60 s lease used here.)
"""
import os
import random
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from engine_util import (EVENTS, account, by_body, check_sent_once, hooks,  # noqa: E402
                         link_qr, linked, stack)
from harness import Receiver, check, kill_loop, run, wait_for  # noqa: E402
from wasim import WaSim  # noqa: E402

KILLS = 3
FENCES = ("self-fencing", "lease lost")  # a worker stopping a session for its lease
READ_WITHIN = 15.0  # s; a store restart (ASan) takes 1-3 s
A, B = "15550001111", "15550002222"


def stored(s, session, chat):
    st, msgs, _ = s.api("GET", "/api/%s/chats/%s/messages" % (session, chat),
                        query={"limit": 1000, "downloadMedia": "false"})
    check(st == 200, (st, msgs))
    return msgs


def test_store_killed_under_traffic():
    rnd = random.Random(int(os.environ.get("WHARF_TEST_SEED", time.time())))
    with WaSim() as sim, stack(sim, LEASE_TTL_MS="15000") as s, Receiver() as rx:
        print("logs in %s" % s.tmp, flush=True)
        linked(s, sim, rx, [("s1", A, "Alice"), ("s2", B, "Bob")])
        acked, uncertain = [], []        # API sends s1 -> s2
        phoned, phone_failed = [], []    # wa-sim phone B -> s1
        took = []                        # (seconds, status) per API send
        stop = threading.Event()
        lock = threading.Lock()

        def api_sender(tag):
            n = 0
            while not stop.is_set():
                text = "api-%s-%04d" % (tag, n)
                n += 1
                t0 = time.monotonic()
                try:
                    st, m, _ = s.api("POST", "/api/sendText",
                                     {"session": "s1", "chatId": B, "text": text},
                                     timeout=20)
                except OSError:
                    st, m = 0, None
                with lock:
                    (acked if st == 201 else uncertain).append(text)
                    took.append((time.monotonic() - t0, st))
                if time.monotonic() - t0 > 3:
                    print("slow send %s: %d after %.1f s" % (text, st, time.monotonic() - t0),
                          flush=True)
                time.sleep(0.1 if st == 201 else 0.3)

        def phone_sender():
            n = 0
            while not stop.is_set():
                text = "phone-%04d" % n
                n += 1
                st, r = sim.ctl("POST", "/accounts/%s/send" % B, {"to": A, "text": text})
                with lock:
                    (phoned if st == 200 else phone_failed).append(text)
                time.sleep(0.1)

        reads = []                       # (seconds, status) per read

        def reader():
            # Reads go through the gateway to the store: one lost with the
            # store must not hang its client
            while not stop.is_set():
                t0 = time.monotonic()
                try:
                    st = s.api("GET", "/api/s2/chats/%s@c.us/messages" % A,
                               query={"limit": 5, "downloadMedia": "false"},
                               timeout=40)[0]
                except OSError:
                    st = 0
                reads.append((time.monotonic() - t0, st))
                if time.monotonic() - t0 > 3:
                    print("slow read: %d after %.1f s" % (st, time.monotonic() - t0),
                          flush=True)
                time.sleep(0.05)

        threads = [threading.Thread(target=api_sender, args=(t,), daemon=True)
                   for t in "ab"]
        threads.append(threading.Thread(target=reader, daemon=True))
        threads.append(threading.Thread(target=phone_sender, daemon=True))
        for t in threads:
            t.start()

        def traffic(k):
            base = len(acked)
            wait_for(lambda: len(acked) >= base + 10, 60, what="sends before kill %d" % k)

        def killed(k):
            print("  after %d acknowledged sends, %d phone sends"
                  % (len(acked), len(phoned)), flush=True)

        kill_loop(s.proc("store-service"), KILLS, traffic, rnd, pause=0.5, down=0.5,
                  killed=killed)
        base = len(acked)
        wait_for(lambda: len(acked) >= base + 10, 60, what="sends after the last kill")
        stop.set()
        for t in threads:
            t.join(30)

        lat = sorted(t for t, _ in took)
        print("api send seconds: median %.2f, max %.2f" % (lat[len(lat) // 2], lat[-1]))
        rlat = sorted(t for t, _ in reads)
        print("reads: %d, seconds: median %.2f, max %.2f" % (
            len(rlat), rlat[len(rlat) // 2], rlat[-1]))
        # A read the store took with it answers (503) at once, not at the
        # gateway's 30 s deadline
        check(rlat[-1] < READ_WITHIN, "a read took %.1f s" % rlat[-1])

        # The worker kept its sessions through the kills
        log = s.proc("session-worker-0").text()
        fenced = [line for line in log.splitlines() if any(f in line for f in FENCES)]
        check(not fenced, "sessions stopped for their lease: %s" % fenced[:3])

        # Every acknowledged API send at s2, once
        check_sent_once(rx, "s2", acked, uncertain)

        # Received by s1 and acknowledged to the server: stored and hooked once
        st, log = sim.ctl("GET", "/stanzas?limit=10000")
        check(st == 200, (st, log))
        receipted = {x["id"] for x in log["stanzas"]
                     if x["dir"] == "in" and x["tag"] == "receipt"
                     and x.get("jid", "").startswith(A + ":")}
        wait_for(lambda: set(phoned) <= set(by_body(hooks(rx, "s1", "message"))), 40,
                 what="every phone send at s1")
        events = hooks(rx, "s1", "message")
        got = by_body(events)
        twice = {b: ids for b, ids in got.items() if len(ids) > 1}
        check(not twice, "s1 got one message under several events: %s"
              % list(twice.items())[:3])
        ids_of = {e["payload"]["body"]: e["payload"]["id"] for e in events}
        acked_in = [b for b in phoned if ids_of.get(b, "").split("_")[-1] in receipted]
        print("phone: sent %d (refused %d), receipted by s1 %d" % (
            len(phoned), len(phone_failed), len(acked_in)))

        # The stores: one row per message, nothing missing
        rows1 = stored(s, "s1", B + "@c.us")
        rows2 = stored(s, "s2", A + "@c.us")
        for name, rows in (("s1", rows1), ("s2", rows2)):
            ids = [m["id"] for m in rows]
            dup = sorted({i for i in ids if ids.count(i) > 1})
            check(not dup, "%s stored twice: %s" % (name, dup[:5]))
        in2 = [m["body"] for m in rows2 if not m["fromMe"]]
        check(set(acked) <= set(in2), "s2 lost stored: %s" % sorted(set(acked) - set(in2))[:5])
        check(len(in2) == len(set(in2)), "s2 stored a body twice")
        out1 = [m["body"] for m in rows1 if m["fromMe"]]
        check(set(acked) <= set(out1), "s1 lost its sent: %s" % sorted(set(acked) - set(out1))[:5])
        in1 = [m["body"] for m in rows1 if not m["fromMe"]]
        check(set(phoned) <= set(in1), "s1 lost stored: %s" % sorted(set(phoned) - set(in1))[:5])
        check(len(in1) == len(set(in1)), "s1 stored a body twice")


def test_worker_notices_store_death():
    # A long lease: the worker may wait out half of it for a lost claim
    with WaSim() as sim, stack(sim, LEASE_TTL_MS="60000") as s, Receiver() as rx:
        print("logs in %s" % s.tmp, flush=True)
        linked(s, sim, rx, [("s1", A, "Alice")])
        account(sim, B, "Bob")
        store = s.proc("store-service")
        # Frozen, the store holds what the worker asks (claims every
        # WORKER_CLAIM_INTERVAL_MS, 300 ms): one is in flight at the kill
        store.p.send_signal(signal.SIGSTOP)
        time.sleep(1.5)
        store.kill()
        store.start()
        # A session started now is claimed at once: the worker did not
        # wait for the lost claim's deadline
        def created():
            st, body, _ = s.api("POST", "/api/sessions", {
                "name": "s2", "start": True,
                "config": {"webhooks": [{"url": rx.url + "/s2", "events": EVENTS}]}})
            # 503 while the gateway reconnects; 409 when a try it lost
            # the answer of went through
            check(st in (201, 409, 503), (st, body))
            return st in (201, 409)
        wait_for(created, 20, interval=0.2, what="session s2 created")
        link_qr(s, sim, "s2", B)
        st, m, _ = s.api("POST", "/api/sendText",
                         {"session": "s1", "chatId": B, "text": "after the kill"})
        check(st == 201, (st, m))
        wait_for(lambda: "after the kill" in by_body(hooks(rx, "s2", "message")), 30,
                 what="the send at s2")
        st, body, _ = s.api("GET", "/api/sessions/s1")
        check(st == 200 and body["status"] == "WORKING", (st, body))
        log = s.proc("session-worker-0").text()
        fenced = [line for line in log.splitlines() if any(f in line for f in FENCES)]
        check(not fenced, "sessions stopped for their lease: %s" % fenced[:3])
        changes = [e["payload"]["status"] for e in hooks(rx, "s1", "session.status")]
        check(changes[-1:] == ["WORKING"], "s1 went %s" % changes)


if __name__ == "__main__":
    run([test_store_killed_under_traffic, test_worker_notices_store_death])
