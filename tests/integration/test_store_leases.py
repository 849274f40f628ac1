"""store-service: session leases - concurrent claims never double-own,
renew, expiry and takeover with an epoch bump, fencing with 409.

Copyright (c) 2026 the Wharf authors. Apache-2.0.
"""
import threading
import time

from harness import Stack, check, run
from buscall import call, ok, wait_ready

STACK = None


def ep():
    return STACK.env["STORE_ENDPOINTS"]


def test_concurrent_claims():
    e = ep()
    names = ["c%02d" % i for i in range(24)]
    for n in names:
        ok(e, "session.create", {"name": n, "start": True}, want=201)
    results = []
    lock = threading.Lock()

    def claimer(worker):
        for _ in range(3):
            got = ok(e, "lease.claim", {"worker": worker, "max": 3, "ttl_ms": 60000})
            with lock:
                results.extend((worker, x["name"], x["epoch"]) for x in got["sessions"])

    threads = [threading.Thread(target=claimer, args=("w%d" % (i % 2),)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [n for _, n, _ in results]
    check(len(claimed) == len(set(claimed)), "a session was claimed twice: %r" % results)
    # whatever was skipped under contention is still claimable
    rest = ok(e, "lease.claim", {"worker": "w0", "max": 100, "ttl_ms": 60000})["sessions"]
    results.extend(("w0", x["name"], x["epoch"]) for x in rest)
    claimed = sorted(n for _, n, _ in results)
    check(claimed == names, "claimed %r" % claimed)
    check(all(ep_ == 1 for _, _, ep_ in results), "first epochs are 1")
    check({w for w, _, _ in results} == {"w0", "w1"}, "both workers got sessions")
    # the database agrees: one lease per session, held by its claimant
    rows = STACK.pg.psql(STACK.database_url,
                         "SELECT session || '=' || worker FROM session_leases ORDER BY 1")
    want = sorted("%s=%s" % (n, w) for w, n, _ in results)
    check(rows.split("\n") == want, "leases %r" % rows)
    # nothing left to claim
    check(ok(e, "lease.claim", {"worker": "w9", "max": 100, "ttl_ms": 1000})["sessions"] == [],
          "nothing left")
    # renew returns exactly what each worker holds
    for w in ("w0", "w1"):
        r = ok(e, "lease.renew", {"worker": w, "ttl_ms": 60000})
        held = sorted(h["name"] for h in r["held"])
        check(held == sorted(n for ww, n, _ in results if ww == w), "held %s %r" % (w, r))
        check(r["drop"] == [], "nothing to drop %r" % r)
    for n in names:
        ok(e, "session.delete", {"name": n})


def test_expiry_and_takeover():
    e = ep()
    ok(e, "session.create", {"name": "tk", "start": True, "config": {"debug": True}}, want=201)
    got = ok(e, "lease.claim", {"worker": "old", "max": 10, "ttl_ms": 60000})["sessions"]
    check([x["name"] for x in got] == ["tk"] and got[0]["config"] == {"debug": True},
          "claim %r" % got)
    e1 = got[0]["epoch"]
    ok(e, "session.set_status", {"name": "tk", "worker": "old", "epoch": e1, "status": "WORKING"})
    # a live lease cannot be taken
    check(ok(e, "lease.claim", {"worker": "new", "max": 10, "ttl_ms": 5000})["sessions"] == [],
          "live lease taken")
    # the old holder stalls past its expiry (made deterministic here; real
    # time expiry is in test_lost_lease_reported_once)
    STACK.pg.psql(STACK.database_url, "UPDATE session_leases SET expires_at = "
                  "now() - interval '1 second' WHERE session = 'tk'")
    # expired: the old holder's writes are refused, and another worker takes over
    check(call(e, "session.set_status", {"name": "tk", "worker": "old", "epoch": e1,
                                         "status": "WORKING"})[0] == 409, "expired lease wrote")
    got = ok(e, "lease.claim", {"worker": "new", "max": 10, "ttl_ms": 60000})["sessions"]
    check([x["name"] for x in got] == ["tk"], "takeover %r" % got)
    e2 = got[0]["epoch"]
    check(e2 == e1 + 1, "epoch bumped %d -> %d" % (e1, e2))
    check(ok(e, "session.get", {"name": "tk"})["session"]["worker"] == "new", "holder shown")
    # the stalled worker is fenced on every write and told to drop
    for t, body in (("session.set_status", {"status": "FAILED"}),
                    ("device.put", {"creds": {"a": 1}}),
                    ("event.append", {"id": "evt_stale1", "session": "tk", "event": "message",
                                      "payload": {}})):
        body = dict(body, name="tk", worker="old", epoch=e1)
        st, _, reason = call(e, t, body)
        check(st == 409, "%s from stale epoch -> %d %r" % (t, st, reason))
    # same worker name but an old epoch is fenced too
    check(call(e, "session.set_status", {"name": "tk", "worker": "new", "epoch": e1,
                                         "status": "FAILED"})[0] == 409, "old epoch")
    r = ok(e, "lease.renew", {"worker": "old", "ttl_ms": 5000, "sessions": ["tk"]})
    check(r["held"] == [] and r["drop"] == ["tk"], "old worker drop %r" % r)
    check(ok(e, "lease.release", {"worker": "old", "name": "tk", "epoch": e1})["released"]
          is False, "stale release must not free the new lease")
    ok(e, "session.set_status", {"name": "tk", "worker": "new", "epoch": e2, "status": "WORKING"})
    r = ok(e, "lease.renew", {"worker": "new", "ttl_ms": 60000, "sessions": ["tk"]})
    check(r["held"] == [{"name": "tk", "epoch": e2}] and r["drop"] == [], "new renew %r" % r)


def test_lost_lease_reported_once():
    e = ep()
    ok(e, "session.create", {"name": "lost", "start": True}, want=201)
    got = ok(e, "lease.claim", {"worker": "slow", "max": 10, "ttl_ms": 300})["sessions"]
    check([x["name"] for x in got] == ["lost"], "claim %r" % got)
    time.sleep(1.0)
    r = ok(e, "lease.renew", {"worker": "slow", "ttl_ms": 5000})
    check(r["held"] == [] and r["drop"] == ["lost"], "expired lease dropped %r" % r)
    r = ok(e, "lease.renew", {"worker": "slow", "ttl_ms": 5000})
    check(r["drop"] == [], "reported once %r" % r)
    # claimable again, with a higher epoch
    got = ok(e, "lease.claim", {"worker": "fast", "max": 10, "ttl_ms": 60000})["sessions"]
    check([x["name"] for x in got] == ["lost"] and got[0]["epoch"] == 2, "reclaim %r" % got)


def test_stop_and_release():
    e = ep()
    ok(e, "session.create", {"name": "sr", "start": True}, want=201)
    got = ok(e, "lease.claim", {"worker": "w", "max": 10, "ttl_ms": 60000})["sessions"]
    check([x["name"] for x in got] == ["sr"], "claim %r" % got)
    ep1 = got[0]["epoch"]
    ok(e, "session.set_status", {"name": "sr", "worker": "w", "epoch": ep1, "status": "WORKING"})
    # stopping a held session leaves the status to its holder and asks it to drop
    s = ok(e, "session.update", {"name": "sr", "desired": "stopped"})["session"]
    check(s["status"] == "WORKING" and s["desired"] == "stopped" and s["worker"] == "w",
          "update with lease %r" % s)
    r = ok(e, "lease.renew", {"worker": "w", "ttl_ms": 60000, "sessions": ["sr"]})
    check(r["held"] == [] and r["drop"] == ["sr"], "drop on stop %r" % r)
    ok(e, "session.set_status", {"name": "sr", "worker": "w", "epoch": ep1, "status": "STOPPED"})
    check(ok(e, "lease.release", {"worker": "w", "name": "sr", "epoch": ep1})["released"],
          "released")
    check(not ok(e, "lease.release", {"worker": "w", "name": "sr", "epoch": ep1})["released"],
          "release is idempotent")
    s = ok(e, "session.get", {"name": "sr"})["session"]
    check(s["worker"] is None and s["status"] == "STOPPED", "after release %r" % s)
    # not claimable while stopped; start again -> STARTING and a higher epoch
    check(ok(e, "lease.claim", {"worker": "w", "max": 10, "ttl_ms": 60000})["sessions"] == [],
          "stopped session claimed")
    s = ok(e, "session.update", {"name": "sr", "desired": "running"})["session"]
    check(s["status"] == "STARTING", "restart %r" % s)
    got = ok(e, "lease.claim", {"worker": "w2", "max": 10, "ttl_ms": 60000})["sessions"]
    check(got and got[0]["epoch"] == ep1 + 1, "epoch never resets %r" % got)
    # max 0 claims nothing
    check(ok(e, "lease.claim", {"worker": "w", "max": 0, "ttl_ms": 60000})["sessions"] == [],
          "max 0")


def main():
    global STACK
    with Stack(services=["store-service"]) as s:
        STACK = s
        wait_ready(ep())
        run([test_concurrent_claims, test_expiry_and_takeover, test_lost_lease_reported_once,
             test_stop_and_release])


if __name__ == "__main__":
    main()
