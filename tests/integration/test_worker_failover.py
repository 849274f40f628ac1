"""test_worker_failover - two session-workers share sessions and take
over from each other.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Real PostgreSQL, store-service and two session-workers (no gateway: the
sessions are created through the store's bus API, and the lease holder is
read from the session object).
- 6 sessions spread over both workers (each holds at least one);
- SIGKILL one: every session it held is claimed by the other within the
  lease timeout (LEASE_TTL_MS = 3000) plus a claim interval, and its
  status keeps being updated by the new holder;
- SIGTERM one (with a long TTL): it releases its leases and exits 0, and
  the other takes the sessions long before the TTL could expire.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Stack, check, run, wait_for  # noqa: E402
from bus import Dealer  # noqa: E402

SERVICES = ["store-service", "session-worker"]
ENV = {"LEASE_TTL_MS": "3000", "WA_RECONNECT_MIN_MS": "300", "WA_RECONNECT_MAX_MS": "600",
       "WORKER_CLAIM_INTERVAL_MS": "300", "WORKER_CLAIM_BATCH": "2"}
NAMES = ["f%d" % i for i in range(6)]


def holders(store):
    out = {}
    for n in NAMES:
        st, body = store.call("session.get", {"name": n})
        check(st == 200, (st, body))
        out[n] = body["session"]["worker"]
    return out


def spread(s, store):
    for n in NAMES:
        st, body = store.call("session.create", {"name": n, "start": True})
        check(st == 201, (st, body))
    h = wait_for(lambda: (lambda x: x if all(x.values()) else None)(holders(store)),
                 15, what="all sessions held")
    count = {w: list(h.values()).count(w) for w in ("worker-0", "worker-1")}
    check(count["worker-0"] >= 1 and count["worker-1"] >= 1, h)
    check(sum(count.values()) == 6, h)
    return h


def events_by(store, name, worker, after_ms):
    st, body = store.call("event.list", {"session": name, "after": 0, "limit": 1000})
    check(st == 200, st)
    return [e for e in body["events"] if e["event"] == "session.status"
            and e["environment"]["worker"]["id"] == worker and e["timestamp"] > after_ms]


def test_sigkill_takeover_within_lease_timeout():
    with Stack(workers=2, services=SERVICES, env=ENV) as s:
        store = Dealer(s.env["STORE_ENDPOINTS"])
        h = spread(s, store)
        victim = "worker-0"
        moved = [n for n, w in h.items() if w == victim]
        killed_at = time.time()
        kill_ms = int(killed_at * 1000)
        s.proc("session-worker-0").kill()
        wait_for(lambda: all(w == "worker-1" for w in holders(store).values()),
                 15, interval=0.1, what="takeover")
        took = time.time() - killed_at
        # Leases last 3 s after the last renew; then claims of 2 every
        # ~300 ms.
        print("takeover after SIGKILL: %.2fs" % took)
        check(took <= 3.0 + 2.5, "takeover took %.1fs" % took)
        for n in moved:
            wait_for(lambda: len(events_by(store, n, "worker-1", kill_ms)) >= 2, 10,
                     what="status updates of %s by worker-1" % n)
        check(s.proc("session-worker-1").alive(), "survivor died")
        store.close()


def test_sigterm_releases_at_once():
    env = dict(ENV, LEASE_TTL_MS="20000")
    with Stack(workers=2, services=SERVICES, env=env) as s:
        store = Dealer(s.env["STORE_ENDPOINTS"])
        h = spread(s, store)
        moved = [n for n, w in h.items() if w == "worker-1"]
        t0 = time.time()
        rc = s.proc("session-worker-1").stop()
        check(rc == 0, "SIGTERM exit code %r" % rc)
        wait_for(lambda: all(w == "worker-0" for w in holders(store).values()),
                 10, interval=0.1, what="move after SIGTERM")
        took = time.time() - t0
        print("move after SIGTERM: %.2fs" % took)
        check(took < 5.0, "move took %.1fs (TTL is 20 s)" % took)
        text = s.proc("session-worker-1").text()
        check("released every lease" in text, text[-2000:])
        for n in moved:
            wait_for(lambda: len(events_by(store, n, "worker-0", int(t0 * 1000))) >= 1,
                     10, what="status of %s by worker-0" % n)
        store.close()


if __name__ == "__main__":
    run([test_sigkill_takeover_within_lease_timeout, test_sigterm_releases_at_once])
