"""test_webhooks_resilience - nothing lost when the dispatcher or the store
dies, and a slow receiver does not hold up a fast one.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Real store-service and webhook-dispatcher processes with a throwaway
PostgreSQL; events come from event-gen (event.append), receivers are local
HTTP servers.
"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Receiver, Stack, check, run, wait_for  # noqa: E402
from webhooks_util import (bus, event_gen, store_session, wait_store)  # noqa: E402

SERVICES = ["store-service", "webhook-dispatcher"]


def hook(rx):
    return {"url": rx.url, "events": ["message"],
            "retries": {"policy": "constant", "delaySeconds": 0, "attempts": 10}}


def received_ids(rx):
    with rx.lock:
        return [json.loads(r["body"])["id"] for r in rx.requests]


def test_dispatcher_killed_twice():
    """1,000 events while the dispatcher is SIGKILLed and restarted twice:
    every event arrives, with its own id, and each session's events arrive
    in order (ignoring resends)."""
    with Receiver() as rx, Stack(workers=0, services=SERVICES) as s:
        wait_store(s)
        for i in range(10):
            store_session(s, "k%d" % i, [hook(rx)])
        ids_file = tempfile.mktemp(prefix="wharf-ids-")
        gen = event_gen(s, 1000, prefix="k", sessions=10, ids=ids_file,
                        background=True, window=8)
        disp = s.proc("webhook-dispatcher")
        for n in (250, 600):
            wait_for(lambda: len(rx.requests) >= n, 60, what="%d deliveries" % n)
            disp.kill()
            time.sleep(0.5)
            disp.start()
        out = gen.communicate(timeout=120)[0]
        check(gen.returncode == 0, "event-gen: %s" % out)
        with open(ids_file) as f:
            want = [line.strip() for line in f if line.strip()]
        os.unlink(ids_file)
        check(len(want) == 1000 and len(set(want)) == 1000, "1000 distinct event ids")
        wait_for(lambda: set(received_ids(rx)) >= set(want), 120,
                 what="every event delivered")
        got = received_ids(rx)
        check(set(got) == set(want), "no unexpected events")
        dups = len(got) - len(set(got))
        print("     1000 events, %d requests, %d resent after kills" % (len(got), dups))
        check(dups <= 2 * 10 * 50, "resends bounded by what was in flight")
        # Per session, first receipts follow the stored order (seq).
        for i in range(10):
            st, page = bus(s, "event.list", {"session": "k%d" % i, "limit": 1000})
            order = [e["id"] for e in page["events"]]
            first = []
            seen = set()
            for r in rx.requests:
                env = json.loads(r["body"])
                if env["session"] == "k%d" % i and env["id"] not in seen:
                    seen.add(env["id"])
                    first.append(env["id"])
            check(first == order, "session k%d delivered in order" % i)
        st, stats = bus(s, "delivery.stats", {})
        check(stats["delivered"] == 1000 and stats["pending"] == 0
              and stats["dead"] == 0, repr(stats))


def test_store_restart():
    """The store-service restarts while events flow: nothing acknowledged
    is lost, the dispatcher catches up."""
    env = {"DISPATCHER_STORE_TIMEOUT_MS": "2000"}
    with Receiver() as rx, Stack(workers=0, services=SERVICES, env=env) as s:
        wait_store(s)
        store_session(s, "r0", [hook(rx)])
        ids_file = tempfile.mktemp(prefix="wharf-ids-")
        gen = event_gen(s, 300, session="r0", ids=ids_file, background=True,
                        window=4)
        wait_for(lambda: len(rx.requests) >= 50, 60, what="50 deliveries")
        store = s.proc("store-service")
        store.kill()
        time.sleep(1.0)
        store.start()
        out = gen.communicate(timeout=120)[0]
        check(gen.returncode == 0, "event-gen: %s" % out)
        with open(ids_file) as f:
            want = set(line.strip() for line in f if line.strip())
        os.unlink(ids_file)
        wait_for(lambda: set(received_ids(rx)) >= want, 90,
                 what="every event delivered after the store restart")


def test_slow_receiver_does_not_delay_fast():
    env = {"DISPATCHER_MAX_IN_FLIGHT": "8", "DISPATCHER_PER_TARGET": "4"}
    with Receiver() as slow, Receiver() as fast, \
            Stack(workers=0, services=SERVICES, env=env) as s:
        slow.delay_fn = lambda i, path, body: 2.0
        wait_store(s)
        for i in range(12):
            store_session(s, "slow%d" % i, [hook(slow)])
        store_session(s, "fast", [hook(fast)])
        event_gen(s, 36, prefix="slow", sessions=12)
        wait_for(lambda: len(slow.requests) >= 4, 10, what="slow receiver busy")
        t0 = time.time()
        event_gen(s, 20, session="fast")
        wait_for(lambda: len(fast.requests) >= 20, 10, what="fast deliveries")
        took = time.time() - t0
        busy = len(slow.requests)
        print("     fast: 20 events in %.2fs while the slow receiver had %d of 36"
              % (took, busy))
        # Behind the slow receiver (36 events, 2 s each, 4 at a time) the
        # fast one would wait 18 s; the bound leaves room for event-gen's
        # start on a loaded machine.
        check(took < 6.0, "fast receiver waited %.1fs" % took)
        check(busy < 36, "slow receiver was still busy")
        with slow.lock:
            starts = sorted(r["time"] for r in slow.requests)
        # At most DISPATCHER_PER_TARGET requests at once to the slow one.
        for i in range(len(starts) - 4):
            check(starts[i + 4] - starts[i] > 1.0,
                  "no more than 4 concurrent requests to one receiver")


def test_release_waits_for_fanout():
    """Regression: a stream released while a fan-out that adds to it is
    still open must stay due once the fan-out commits (it used to be left
    with no due time, its new deliveries never sent)."""
    with Stack(workers=0, services=["store-service"]) as s:
        wait_store(s)
        store_session(s, "race", [{"url": "http://127.0.0.1:9/h", "events": ["*"]}])
        event_gen(s, 1, session="race", window=1)
        st, r = bus(s, "delivery.fanout", {"global": []})
        check(st == 200 and r["deliveries"] == 1, repr(r))
        st, r = bus(s, "delivery.claim", {"worker": "w", "lease_ms": 60000})
        check(st == 200 and len(r["deliveries"]) == 1, repr(r))
        first = r["deliveries"][0]
        # A fan-out in progress: a second delivery of the same stream is
        # inserted and the stream row locked, not yet committed.
        psql = subprocess.Popen(["psql", s.database_url, "-qtAX", "-v",
                                 "ON_ERROR_STOP=1"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        psql.stdin.write(
            "BEGIN;\n"
            "INSERT INTO events (id, session, seq, event, envelope) "
            "SELECT 'evt_race2', session, 2, event, envelope FROM events "
            "WHERE id = '%s';\n"
            "INSERT INTO webhook_deliveries (event_id, session, seq, event, url, "
            "hook_id, source) SELECT 'evt_race2', session, 2, event, url, hook_id, "
            "source FROM webhook_deliveries WHERE id = %d;\n"
            "INSERT INTO webhook_streams (session, url, next_at) VALUES "
            "('race', 'http://127.0.0.1:9/h', now()) ON CONFLICT (session, url) "
            "DO UPDATE SET next_at = COALESCE(webhook_streams.next_at, now());\n"
            "SELECT 'locked';\n" % (first["event_id"], first["id"]))
        psql.stdin.flush()
        check(psql.stdout.readline().strip() == "locked", "fan-out holds the stream")
        out = {}
        t = threading.Thread(target=lambda: out.update(r=bus(s, "delivery.result", {
            "worker": "w", "release": [{"session": "race", "url": first["url"]}],
            "results": [{"id": first["id"], "request_id": "req_race", "ok": True,
                         "http_status": 200, "latency_ms": 1,
                         "at": int(time.time() * 1000)}]})))
        t.start()
        time.sleep(1.0)   # the release now waits for the stream row
        psql.stdin.write("COMMIT;\n")
        psql.stdin.close()
        psql.wait(timeout=10)
        t.join(timeout=20)
        check(out["r"][0] == 200 and out["r"][1]["delivered"] == 1, repr(out))
        due = s.pg.psql(s.database_url, "SELECT next_at IS NOT NULL FROM "
                        "webhook_streams WHERE session = 'race'")
        check(due == "t", "the stream is still due after the release")
        st, r = bus(s, "delivery.claim", {"worker": "w", "lease_ms": 60000})
        check([d["event_id"] for d in r["deliveries"]] == ["evt_race2"],
              "the new delivery can be claimed: %r" % r)


def test_fanout_cursor():
    """Fan-out follows each session's seq (sql/0006_fanout_cursor.sql):
    a row limit that cuts a session's range resumes where it stopped,
    nothing is fanned twice or skipped, and the events of a deleted
    session still reach the global hooks, also after the name comes
    back."""
    url = "http://127.0.0.1:9/cur"
    with Stack(workers=0, services=["store-service"]) as s:
        wait_store(s)
        store_session(s, "ca", [{"url": url, "events": ["*"]}])
        store_session(s, "cb", [{"url": url, "events": ["*"]}])
        event_gen(s, 7, session="ca")
        event_gen(s, 3, session="cb")
        got = []
        for want, more in ((4, True), (4, True), (2, False), (0, False)):
            st, r = bus(s, "delivery.fanout", {"global": [], "limit": 4})
            check(st == 200 and r["events"] == want and r["more"] == more
                  and r["deliveries"] == want, "fan-out step %r" % r)
        st, r = bus(s, "delivery.stats", {})
        check(r["events_unfanned"] == 0 and r["pending"] == 10, "stats %r" % r)
        seen = {}
        for session in ("ca", "cb"):
            rows = s.pg.psql(s.database_url,
                             "SELECT seq FROM webhook_deliveries WHERE session = "
                             "'%s' ORDER BY order_key" % session).split()
            seen[session] = [int(x) for x in rows]
        check(seen == {"ca": list(range(1, 8)), "cb": [1, 2, 3]},
              "each event once, in order: %r" % seen)

        # a deleted session's last events go to the global hooks
        bus(s, "session.create", {"name": "cc"})
        event_gen(s, 2, session="cc")
        st, _ = bus(s, "session.delete", {"name": "cc"})
        check(st == 200, "deleted")
        glob = [{"url": url + "/g", "events": ["*"]}]
        st, r = bus(s, "delivery.fanout", {"global": glob})
        check(r["events"] == 2 and r["deliveries"] == 2, "orphans fanned %r" % r)
        check(s.pg.psql(s.database_url, "SELECT count(*) FROM event_orphans") == "0",
              "orphan forgotten once fanned")
        # pruned or not, a re-created name goes on from its last seq
        s.pg.psql(s.database_url, "DELETE FROM webhook_deliveries WHERE session = 'cc'; "
                  "DELETE FROM events WHERE session = 'cc'")
        bus(s, "session.create", {"name": "cc"})
        event_gen(s, 1, session="cc")
        st, r = bus(s, "delivery.fanout", {"global": glob})
        check(r["events"] == 1, "the new event is fanned out %r" % r)
        seq = s.pg.psql(s.database_url, "SELECT seq FROM events WHERE session = 'cc'")
        check(seq == "3", "seq continues: %s" % seq)


if __name__ == "__main__":
    run([test_fanout_cursor, test_release_waits_for_fanout, test_dispatcher_killed_twice,
         test_store_restart, test_slow_receiver_does_not_delay_fast])
