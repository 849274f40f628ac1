"""test_crash_dispatcher - no webhook event lost when webhook-dispatcher is
SIGKILLed in the middle of a delivery, and a resent one keeps its id.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

One session on wa-sim receives a steady stream of messages from a
simulated phone, each one a `message` and a `message.any` event for the
session's webhook. webhook-dispatcher is SIGKILLed while the receiver
holds a request open (so a delivery is surely in flight), and started
again. Then:
- every received message's events reach the receiver (at least once);
- the delivery open at each kill is sent again after the restart with the
  same event id and the same body, so a receiver deduplicates by id;
- one message is never two events of the same name (two ids).
(tests/integration/test_webhooks_resilience.py kills the dispatcher under
event-gen's synthetic events; this one runs the whole stack.)
"""
import json
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from engine_util import account, hooks, linked, stack  # noqa: E402
from harness import Receiver, check, kill_loop, run, wait_for  # noqa: E402
from wasim import WaSim  # noqa: E402

KILLS = 3
A, B = "15550001111", "15550002222"


def test_dispatcher_killed_mid_delivery():
    rnd = random.Random(int(os.environ.get("WHARF_TEST_SEED", time.time())))
    with WaSim() as sim, stack(sim) as s, Receiver() as rx:
        linked(s, sim, rx, [("s1", A, "Alice")])
        account(sim, B, "Bob")
        hold = threading.Event()    # hold the next `message` delivery open
        held = []                   # (request index, event id) held open
        opened = threading.Event()

        def delay(i, path, body):
            env = json.loads(body)
            if hold.is_set() and env.get("event") == "message":
                hold.clear()
                held.append((i, env["id"]))
                opened.set()
                return 2.0
            return 0
        rx.delay_fn = delay

        sent = []
        stop = threading.Event()

        def phone():
            n = 0
            while not stop.is_set():
                text = "hook-%04d" % n
                n += 1
                st, r = sim.ctl("POST", "/accounts/%s/send" % B, {"to": A, "text": text})
                check(st == 200, (st, r))
                sent.append(text)
                time.sleep(0.05)
        t = threading.Thread(target=phone, daemon=True)
        t.start()
        at_kill = {}

        def delivery_open(k):
            base = len(hooks(rx, "s1", "message"))
            wait_for(lambda: len(hooks(rx, "s1", "message")) >= base + 5, 60,
                     what="deliveries before kill %d" % k)
            opened.clear()
            hold.set()
            wait_for(opened.is_set, 30, what="a delivery held open")

        def killed(k):
            at_kill["idx"], at_kill["eid"] = held[-1]
            at_kill["n"] = len(rx.requests)
            print("  with %s open, after %d requests" % (at_kill["eid"], at_kill["n"]),
                  flush=True)

        def resent_same(k):
            eid = at_kill["eid"]

            def again():
                with rx.lock:
                    reqs = rx.requests[at_kill["n"]:]
                return [r for r in reqs if json.loads(r["body"])["id"] == eid]
            resent = wait_for(again, 30, what="held event %s sent again" % eid)
            with rx.lock:
                first = rx.requests[at_kill["idx"]]["body"]
            check(resent[0]["body"] == first, "resent body differs for %s" % eid)

        kill_loop(s.proc("webhook-dispatcher"), KILLS, delivery_open, rnd, pause=0.5,
                  down=0.5, killed=killed, restarted=resent_same)
        time.sleep(1.0)
        stop.set()
        t.join(10)

        def by_body(name):
            out = {}
            for e in hooks(rx, "s1", name):
                out.setdefault(e["payload"]["body"], set()).add(e["id"])
            return out
        for name in ("message", "message.any"):
            try:
                wait_for(lambda: set(sent) <= set(by_body(name)), 40,
                         what="every message's %s event" % name)
            finally:
                print("%s: sent %d, missing %s" % (
                    name, len(sent), sorted(set(sent) - set(by_body(name)))[:5]))
            twice = {b: ids for b, ids in by_body(name).items() if len(ids) > 1}
            check(not twice, "one message, several %s ids: %s" % (name, list(twice.items())[:3]))
        # Same id, same body: every resend repeats the event as first sent
        first = {}
        with rx.lock:
            for r in rx.requests:
                eid = json.loads(r["body"])["id"]
                check(first.setdefault(eid, r["body"]) == r["body"],
                      "event %s sent with another body" % eid)
        ids = [json.loads(r["body"])["id"] for r in rx.requests]
        print("%d requests, %d events, %d resends" % (len(ids), len(set(ids)),
                                                      len(ids) - len(set(ids))))


if __name__ == "__main__":
    run([test_dispatcher_killed_mid_delivery])
