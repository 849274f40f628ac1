"""store-service: PostgreSQL goes away and comes back - requests get 503
meanwhile, the service never crashes, and it recovers by itself.

Copyright (c) 2026 the Wharf authors. Apache-2.0.
"""
import time

from harness import Stack, check, run, wait_for
from buscall import call, ok, wait_ready


def test_restart():
    with Stack(services=["store-service"], env={"STORE_POOL_SIZE": "3"}) as s:
        e = s.env["STORE_ENDPOINTS"]
        wait_ready(e)
        ok(e, "session.create", {"name": "keep", "start": True}, want=201)
        ok(e, "event.append", {"id": "evt_keep1", "session": "keep", "event": "message"})
        s.pg.pause()
        try:
            # every request needing the database gets 503, quickly
            for i in range(8):
                t0 = time.time()
                st, _, reason = call(e, "session.get", {"name": "keep"})
                check(st == 503, "while down: %d %r" % (st, reason))
                check(time.time() - t0 < 4.5, "503 took %.1fs" % (time.time() - t0))
            check(call(e, "event.append", {"id": "evt_keep2", "session": "keep",
                                           "event": "message"})[0] == 503, "append while down")
            # what needs no database still works
            check(call(e, "health.ping")[0] == 200, "health while down")
            check(call(e, "session.bogus")[0] == 400, "rules while down")
            time.sleep(1.5)
            check(s.proc("store-service").alive(), "store died while PostgreSQL was down")
        finally:
            s.pg.resume()
        # recovery without a restart: each worker reconnects on its own
        # backoff (at most 2 s), then a burst of requests all succeed
        def burst():
            return all(call(e, "session.get", {"name": "keep"})[0] == 200 for _ in range(12))
        wait_for(burst, 30, interval=0.5, what="recovery of every worker")
        # nothing acknowledged was lost, and writes work again (a resend of
        # the failed append is applied once)
        r = ok(e, "event.append", {"id": "evt_keep2", "session": "keep", "event": "message"})
        check(r["seq"] == 3, "seq after recovery %r" % r)
        evs = ok(e, "event.list", {"session": "keep"})["events"]
        check([x["id"] for x in evs][1:] == ["evt_keep1", "evt_keep2"], "events %r" % evs)
        text = s.proc("store-service").text()
        check("lost connection to database" in text or "could not connect to database" in text,
              "no log of the outage")
        check("reconnected to database" in text, "no log of the recovery")


if __name__ == "__main__":
    run([test_restart])
