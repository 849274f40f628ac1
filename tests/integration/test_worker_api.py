"""test_worker_api - two session-workers behind the HTTP API.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

The full core (PostgreSQL, store-service, api-gateway, two
session-workers): six sessions created over HTTP spread over both
workers (the less loaded one claims a new session first); SIGKILL one
and the API shows every session held by the other within the lease
timeout, still cycling STARTING/FAILED; /health counts one worker; stop
over HTTP reaches the new holder.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Stack, check, run, wait_for  # noqa: E402
from bus import Dealer  # noqa: E402

CORE = ["store-service", "api-gateway", "session-worker"]
ENV = {"LEASE_TTL_MS": "3000", "WA_RECONNECT_MIN_MS": "300", "WA_RECONNECT_MAX_MS": "600",
       "WORKER_CLAIM_INTERVAL_MS": "300", "WORKER_CLAIM_BATCH": "2"}
NAMES = ["h%d" % i for i in range(6)]


def assigned(s):
    out = {}
    for n in NAMES:
        st, body, _ = s.api("GET", "/api/sessions/" + n)
        check(st == 200, (st, body))
        out[n] = body.get("assignedWorker")
    return out


def test_two_workers_over_http():
    with Stack(workers=2, services=CORE, env=ENV) as s:
        # Only workers that said hello hear the nudge of a new session;
        # one that has not yet would find every session claimed
        wait_for(lambda: (lambda r: r[0] == 200 and r[1]["workers"] == 2)(
            s.api("GET", "/health")), 10, what="/health counts two workers")
        for n in NAMES:
            st, body, _ = s.api("POST", "/api/sessions", {"name": n, "start": True})
            check(st == 201, (st, body))
        h = wait_for(lambda: (lambda x: x if all(x.values()) else None)(assigned(s)),
                     20, what="all sessions assigned")
        per = {w: list(h.values()).count(w) for w in ("worker-0", "worker-1")}
        print("sessions per worker:", per)
        check(per["worker-0"] >= 1 and per["worker-1"] >= 1, h)


        t0 = time.time()
        s.proc("session-worker-0").kill()
        wait_for(lambda: all(w == "worker-1" for w in assigned(s).values()), 20,
                 interval=0.1, what="takeover")
        took = time.time() - t0
        print("takeover over HTTP: %.2fs" % took)
        check(took <= 3.0 + 3.0, "takeover took %.1fs" % took)
        # still cycling under the new holder (STARTING lasts a few ms, so
        # read the status events from the store)
        moved = [n for n, w in h.items() if w == "worker-0"]
        store = Dealer(s.env["STORE_ENDPOINTS"])
        for n in moved:
            def by_new_holder():
                st, b = store.call("event.list", {"session": n, "after": 0, "limit": 1000})
                seen = [e["status"] for e in b["events"] if e["event"] == "session.status"
                        and e["environment"]["worker"]["id"] == "worker-1"
                        and e["timestamp"] > int(t0 * 1000)]
                return "STARTING" in seen and "FAILED" in seen
            wait_for(by_new_holder, 10, what="%s cycling under worker-1" % n)
        store.close()
        wait_for(lambda: s.api("GET", "/health")[1].get("workers") == 1, 10,
                 what="gateway forgets the dead worker")

        st, body, _ = s.api("POST", "/api/sessions/%s/stop" % moved[0])
        check(st == 201, (st, body))

        def stopped():
            st, b, _ = s.api("GET", "/api/sessions/" + moved[0])
            return b if b["status"] == "STOPPED" and "assignedWorker" not in b else None
        wait_for(stopped, 10, what="stopped and released")
        check(s.proc("session-worker-1").alive(), "survivor died")


if __name__ == "__main__":
    run([test_two_workers_over_http])
