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
  30 s deadline before).
"""
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from engine_util import by_body, check_sent_once, hooks, linked, stack  # noqa: E402
from harness import Receiver, check, run, wait_for  # noqa: E402
from wasim import WaSim  # noqa: E402

KILLS = 3
READ_WITHIN = 15.0  # s; a store restart (ASan) takes 1-3 s
A, B = "15550001111", "15550002222"


def stored(s, session, chat):
    st, msgs, _ = s.api("GET", "/api/%s/chats/%s/messages" % (session, chat),
                        query={"limit": 1000, "downloadMedia": "false"})
    check(st == 200, (st, msgs))
    return msgs


def test_store_killed_under_traffic():
    rnd = random.Random(int(os.environ.get("WHARF_TEST_SEED", time.time())))
    with WaSim() as sim, stack(sim) as s, Receiver() as rx:
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
        store = s.proc("store-service")
        for k in range(KILLS):
            base = len(acked)
            wait_for(lambda: len(acked) >= base + 10, 60, what="sends before kill %d" % k)
            time.sleep(rnd.uniform(0.0, 0.5))
            store.kill()
            print("kill %d after %d acknowledged sends, %d phone sends"
                  % (k + 1, len(acked), len(phoned)), flush=True)
            time.sleep(rnd.uniform(0.0, 0.5))
            store.start()
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


if __name__ == "__main__":
    run([test_store_killed_under_traffic])
