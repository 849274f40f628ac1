"""store-service: PostgreSQL goes away and comes back - requests get 503
meanwhile, the service never crashes, and it recovers by itself.

Copyright (c) 2026 the Wharf authors. Apache-2.0.
"""
import subprocess
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


def test_statement_timeout():
    # a statement stuck behind a lock is cancelled after
    # STORE_STATEMENT_TIMEOUT_MS and answered 504; the worker goes on
    with Stack(services=["store-service"], env={"STORE_STATEMENT_TIMEOUT_MS": "300",
                                                "STORE_POOL_SIZE": "2"}) as s:
        e = s.env["STORE_ENDPOINTS"]
        wait_ready(e)
        ok(e, "session.create", {"name": "locked"}, want=201)
        holder = subprocess.Popen(
            ["psql", s.database_url, "-qtAX", "-c",
             "BEGIN; SELECT name FROM sessions WHERE name = 'locked' FOR UPDATE; "
             "SELECT pg_sleep(4); COMMIT;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: s.pg.psql(s.database_url,
                                       "SELECT count(*) FROM pg_locks l JOIN pg_class c "
                                       "ON c.oid = l.relation WHERE c.relname = 'sessions' "
                                       "AND l.mode = 'RowShareLock'") != "0",
                     10, what="lock holder")
            t0 = time.time()
            st, _, reason = call(e, "session.update", {"name": "locked", "desired": "running"})
            check(st == 504, "stuck statement -> %d %r" % (st, reason))
            check(time.time() - t0 < 3.5, "timeout took %.1fs" % (time.time() - t0))
            # other rows and the pool are fine meanwhile
            ok(e, "session.create", {"name": "free"}, want=201)
            check(ok(e, "session.get", {"name": "locked"})["session"]["status"] == "STOPPED",
                  "read of the locked row")
        finally:
            holder.wait(timeout=20)
        s2 = ok(e, "session.update", {"name": "locked", "desired": "running"})["session"]
        check(s2["status"] == "STARTING", "after the lock %r" % s2)


if __name__ == "__main__":
    run([test_restart, test_statement_timeout])
