"""test_worker_failover_signal - no acknowledged message lost and no
Signal counter used twice when the sender's worker dies (issue 12 item 1).

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Two sessions on wa-sim, s1 sending to s2 through /api/sendText at about
100 messages a second, each session on its own worker. s1's worker is
SIGKILLed at random points of the stream, three times; each time a fresh
worker takes s1 over from the stored state. Then:
- every send the API acknowledged (201) reaches s2's `message` webhook
  exactly once;
- wa-sim's counter ledger (GET /signal) saw no (sender device, recipient
  device, ratchet key, counter) used for two different ciphertexts: the
  new worker never encrypts with a message key the old one already used.
Before the fix the new worker started from Signal state that lagged the
ciphertexts already sent, reused their counters, and s2 dropped the
message as a duplicate while s1 had acknowledged it.
"""
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from engine_util import hooks, linked, stack  # noqa: E402
from harness import Receiver, check, run, wait_for  # noqa: E402
from wasim import WaSim  # noqa: E402

KILLS = 3
RATE = 100.0  # sends a second, offered
SENDERS = 4


def test_sender_worker_killed_mid_stream():
    rnd = random.Random(int(os.environ.get("WHARF_TEST_SEED", time.time())))
    with WaSim() as sim, stack(sim, workers=2, WORKER_MAX_SESSIONS="1", LEASE_TTL_MS="3000") as s, \
            Receiver() as rx:
        linked(s, sim, rx, [("s1", "15550001111", "Alice"),
                            ("s2", "15550002222", "Bob")])
        st, ledger = sim.ctl("DELETE", "/signal")
        check(st == 200, (st, ledger))

        acked = []      # texts the API acknowledged
        uncertain = []  # calls that failed: may or may not have gone out
        stop = threading.Event()
        lock = threading.Lock()

        def sender(tag):
            n = 0
            period = SENDERS / RATE
            while not stop.is_set():
                t0 = time.monotonic()
                text = "%s-%05d" % (tag, n)
                n += 1
                # A call to the worker just killed is given up after 3 s
                # (the gateway would wait 30)
                try:
                    st, m, _ = s.api("POST", "/api/sendText",
                                     {"session": "s1", "chatId": "15550002222",
                                      "text": text}, timeout=3)
                except OSError:
                    st, m = 0, None
                with lock:
                    (acked if st == 201 else uncertain).append(text)
                if st != 201:
                    time.sleep(0.1)
                left = period - (time.monotonic() - t0)
                if left > 0:
                    time.sleep(left)

        threads = [threading.Thread(target=sender, args=(tag,), daemon=True)
                   for tag in "abcd"[:SENDERS]]
        for t in threads:
            t.start()

        next_worker = 2
        for k in range(KILLS):
            st, info, _ = s.api("GET", "/api/sessions/s1")
            victim = info["assignedWorker"]
            # Sending for a random while on this worker
            base = len(acked)
            wait_for(lambda: len(acked) >= base + 20, 30, what="sends before kill")
            time.sleep(rnd.uniform(0.05, 0.5))
            s.proc("session-" + victim).kill()
            print("kill %d: %s after %d acknowledged sends" % (k + 1, victim, len(acked)))
            s.start_worker(next_worker, env={"WORKER_MAX_SESSIONS": "1"})
            survivor = "worker-%d" % next_worker
            next_worker += 1
            wait_for(lambda: (lambda r: r if r[1].get("status") == "WORKING"
                              and r[1].get("assignedWorker") == survivor else None)(
                         s.api("GET", "/api/sessions/s1")), 30,
                     what="s1 WORKING on %s" % survivor)
        # Some sends on the last worker, then stop
        base = len(acked)
        wait_for(lambda: len(acked) >= base + 20, 30, what="sends after the last kill")
        stop.set()
        for t in threads:
            t.join(30)

        def bodies():
            return [e["payload"]["body"] for e in hooks(rx, "s2", "message")]
        try:
            wait_for(lambda: set(acked) <= set(bodies()), 30,
                     what="every acknowledged send at s2")
        finally:
            missing = sorted(set(acked) - set(bodies()))
            st, ledger = sim.ctl("GET", "/signal")
            print("acknowledged %d, failed calls %d, missing at s2 %d %s; "
                  "ciphertexts %d, counters reused %d %s" % (
                      len(acked), len(uncertain), len(missing), missing[:5],
                      ledger["ciphertexts"], ledger["reused"], ledger["reuses"][:3]))
        got = bodies()
        dups = sorted({x for x in got if got.count(x) > 1})
        check(not dups, "delivered twice: %s" % dups)
        check(set(got) <= set(acked) | set(uncertain),
              sorted(set(got) - set(acked) - set(uncertain)))
        check(st == 200 and ledger["ciphertexts"] >= len(acked), ledger)
        check(ledger["reused"] == 0, "counters used for two ciphertexts: %s"
              % ledger["reuses"])


if __name__ == "__main__":
    run([test_sender_worker_killed_mid_stream])
