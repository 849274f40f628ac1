"""store-service: group commit across sessions. While every pool worker
is busy, writes of several sessions queue up, and the worker that comes
free stores them in one transaction (st_router_dispatch_group). A sender
is answered only after that commit; a refused member (here a lost lease)
keeps nothing of the group, and each write then runs alone, so the others
are stored and the refused one is not.

The store runs with STORE_POOL_SIZE=1. A psql session holding a session
row's lock keeps the worker waiting, so the writes sent meanwhile queue
behind it and go as one group.

Copyright (c) 2026 the Wharf authors. Apache-2.0.
"""
import subprocess
import threading
import time

from harness import Stack, check, run, wait_for
from buscall import call, ok, wait_ready

STACK = None


def ep():
    return STACK.env["STORE_ENDPOINTS"]


def sql(q):
    return STACK.pg.psql(STACK.database_url, q)


class Holder:
    """A psql session that locks one session row until told."""

    def __init__(self, name):
        self.p = subprocess.Popen(["psql", STACK.database_url, "-qtAX"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True)
        self.send("BEGIN; SELECT 1 FROM sessions WHERE name = '%s' FOR UPDATE;"
                  " \\echo locked" % name)
        check(self.p.stdout.readline().strip() == "1", "row read")
        check(self.p.stdout.readline().strip() == "locked", "row locked")

    def send(self, q):
        self.p.stdin.write(q + "\n")
        self.p.stdin.flush()

    def finish(self, q="COMMIT;"):
        self.send(q)
        self.p.stdin.close()
        check(self.p.wait(timeout=30) == 0, "psql finished")


class Call(threading.Thread):
    """One request on its own thread: (status, body) once answered."""

    def __init__(self, typ, body):
        super().__init__(daemon=True)
        self.typ, self.body, self.result = typ, body, None
        self.start()

    def run(self):
        st, body, _ = call(ep(), self.typ, self.body, timeout=60000)
        self.result = (st, body)


def waiting_on_locks():
    return int(sql("SELECT count(*) FROM pg_stat_activity "
                   "WHERE wait_event_type = 'Lock' AND datname = current_database()"))


def events_of(session):
    """The batch events of a session (session.create stored one of its own)."""
    return int(sql("SELECT count(*) FROM events WHERE session = '%s' "
                   "AND id LIKE 'evt\\_%s\\_%%'" % (session, session)))


def setup(prefix, count=3):
    e = ep()
    for i in range(count):
        ok(e, "session.create", {"name": "%s%d" % (prefix, i), "start": True}, want=201)
    got = ok(e, "lease.claim", {"worker": "w" + prefix, "max": 10,
                                "ttl_ms": 60000})["sessions"]
    return {x["name"]: x["epoch"] for x in got if x["name"].startswith(prefix)}


def batch(prefix, i, epochs, signal=None):
    name = "%s%d" % (prefix, i)
    body = {"session": name, "worker": "w" + prefix, "epoch": epochs[name],
            "events": [{"id": "evt_%s_%d" % (name, k), "event": "message",
                        "payload": {"k": k}} for k in range(3)]}
    if signal:
        body["signal"] = signal
    return body


def group_behind(prefix, epochs, last_signal):
    """Session 0's write waits on a lock; sessions 1 and 2 queue behind it
    (one group); session 2's row is locked too. Returns the three calls and
    the holder of session 2's row, with session 1's write done in the open
    group transaction and session 2's waiting."""
    h0 = Holder(prefix + "0")
    h2 = Holder(prefix + "2")
    c0 = Call("event.append_batch", batch(prefix, 0, epochs))
    wait_for(lambda: waiting_on_locks() == 1, timeout=30, what="first write waits")
    # Nothing to observe while they queue in the store's broker: give each
    # request time to arrive (in this order) before the worker comes free.
    c1 = Call("event.append_batch", batch(prefix, 1, epochs))
    time.sleep(0.5)
    c2 = Call("event.append_batch", batch(prefix, 2, epochs, last_signal))
    time.sleep(1.0)
    h0.finish()
    wait_for(lambda: c0.result is not None, timeout=30, what="first write answered")
    check(c0.result[0] == 200, "first write %r" % (c0.result,))
    # the group: session 1's batch runs, then session 2's waits on the lock
    wait_for(lambda: waiting_on_locks() == 1, timeout=30, what="group waits")
    return c1, c2, h2


def test_group_acks_after_commit():
    epochs = setup("ga")
    put = [{"kind": "session", "key": "1555.0", "data": "AAEC"}]
    c1, c2, h2 = group_behind("ga", epochs, put)
    # session 1's events are written in the open group transaction: not
    # committed, so neither visible nor acknowledged
    check(events_of("ga1") == 0, "nothing of the group visible before its commit")
    check(c1.result is None, "no answer before the group commits: %r" % (c1.result,))
    h2.finish()
    wait_for(lambda: c1.result is not None and c2.result is not None, timeout=30,
             what="group answered")
    check(c1.result[0] == 200 and c2.result[0] == 200, "answers %r %r" % (c1.result, c2.result))
    # after session.create's status event
    check([r["seq"] for r in c1.result[1]["results"]] == [2, 3, 4], "seqs %r" % (c1.result,))
    check(c2.result[1]["signal"] == {"written": 1, "deleted": 0}, "rows %r" % (c2.result,))
    check(events_of("ga1") == 3 and events_of("ga2") == 3, "both stored")
    rows = ok(ep(), "signal.load", {"name": "ga2"})["rows"]
    check([(r["kind"], r["key"], r["data"]) for r in rows] == [("session", "1555.0", "AAEC")],
          "signal rows %r" % rows)


def test_group_member_refused():
    """Session 2 loses its lease while its write waits for the row lock:
    its Signal rows are fenced (409) even inside a group; the group is
    rolled back and session 1's write, run again alone, is stored once."""
    epochs = setup("gr")
    put = [{"kind": "session", "key": "1555.0", "data": "AAED"}]
    c1, c2, h2 = group_behind("gr", epochs, put)
    check(c1.result is None, "no answer before the group ends")
    # a takeover commits while the group waits
    h2.finish("UPDATE session_leases SET worker = 'other', epoch = epoch + 1 "
              "WHERE session = 'gr2'; COMMIT;")
    wait_for(lambda: c1.result is not None and c2.result is not None, timeout=30,
             what="answers")
    check(c2.result[0] == 409, "fenced member %r" % (c2.result,))
    check(c1.result[0] == 200, "the other member %r" % (c1.result,))
    check([r["seq"] for r in c1.result[1]["results"]] == [2, 3, 4]
          and not any(r.get("duplicate") for r in c1.result[1]["results"]),
          "stored once, by the run alone: %r" % (c1.result,))
    check(events_of("gr1") == 3 and events_of("gr2") == 0, "refused member stored nothing")
    check(ok(ep(), "signal.load", {"name": "gr2"})["rows"] == [], "no Signal rows")


def xmins(table, session):
    """The transactions that wrote a session's rows (events: the tests')."""
    where = "session = '%s'" % session
    if table == "events":
        where += " AND id LIKE 'evt\\_%s\\_%%'" % session
    return set(sql("SELECT DISTINCT xmin FROM %s WHERE %s" % (table, where)).split())


def queue_behind(prefix, calls):
    """Session 0's write waits on a lock; `calls` ((type, body)...) queue
    behind it in this order and go to the store's worker as one group once
    it comes free. Returns their Call objects, answered."""
    h0 = Holder(prefix + "0")
    c0 = Call("event.append", {"session": prefix + "0", "id": "evt_%s_first" % prefix,
                               "event": "message", "payload": {}})
    wait_for(lambda: waiting_on_locks() == 1, timeout=30, what="first write waits")
    out = []
    for typ, body in calls:
        out.append(Call(typ, body))
        time.sleep(0.3)
    time.sleep(0.5)
    h0.finish()
    wait_for(lambda: all(c.result is not None for c in [c0] + out), timeout=60,
             what="answers")
    check(c0.result[0] == 200, "first write %r" % (c0.result,))
    return out


def test_group_written_together():
    """The first write of each session in a group is stored by the group
    writer, one statement per table for all of them, in the group's one
    transaction: a batch with Signal rows, a single event, a signal.put
    (a row written, one deleted), and a second batch of a session already
    in the group (run after its first, in the same transaction). A member
    with a stale epoch and Signal rows is refused 409 by itself: nothing of
    it is written, and the others are not rolled back (one xmin for all)."""
    epochs = setup("gw", 6)
    e = ep()
    # a row for the signal.put to delete
    ok(e, "signal.put", {"name": "gw4", "worker": "wgw", "epoch": epochs["gw4"],
                         "rows": [{"kind": "prekey", "key": "9", "data": "AAAA"}]})
    c1, c2, c3, c4, c5 = queue_behind("gw", [
        ("event.append_batch", batch("gw", 1, epochs,
                                     [{"kind": "session", "key": "1.0", "data": "AAEC"}])),
        ("event.append_batch", dict(batch("gw", 2, epochs,
                                          [{"kind": "session", "key": "2.0", "data": "AAED"}]),
                                    epoch=epochs["gw2"] + 1)),
        ("event.append", {"session": "gw3", "worker": "wgw", "epoch": epochs["gw3"],
                          "id": "evt_gw3_0", "event": "message", "payload": {"k": 0}}),
        ("signal.put", {"name": "gw4", "worker": "wgw", "epoch": epochs["gw4"],
                        "rows": [{"kind": "identity", "key": "4.0", "data": "AQID"},
                                 {"kind": "prekey", "key": "9", "data": None}]}),
        ("event.append_batch", {"session": "gw1", "worker": "wgw", "epoch": epochs["gw1"],
                                "events": [{"id": "evt_gw1_more%d" % k, "event": "message",
                                            "payload": {"k": k}} for k in range(2)]}),
    ])
    check(c1.result[0] == 200 and [r["seq"] for r in c1.result[1]["results"]] == [2, 3, 4]
          and c1.result[1]["signal"] == {"written": 1, "deleted": 0}, "batch %r" % (c1.result,))
    check(c2.result[0] == 409, "stale epoch refused %r" % (c2.result,))
    check(c3.result[0] == 200 and c3.result[1]["seq"] == 2, "single event %r" % (c3.result,))
    check(c4.result[0] == 200 and c4.result[1]["written"] == 1
          and c4.result[1]["deleted"] == 1, "signal.put %r" % (c4.result,))
    check(c5.result[0] == 200 and [r["seq"] for r in c5.result[1]["results"]] == [5, 6],
          "second batch of a session, after its first %r" % (c5.result,))
    check(events_of("gw2") == 0 and ok(e, "signal.load", {"name": "gw2"})["rows"] == [],
          "nothing of the refused member")
    rows = ok(e, "signal.load", {"name": "gw4"})["rows"]
    check([(r["kind"], r["key"]) for r in rows] == [("identity", "4.0")], "gw4 rows %r" % rows)
    # one transaction: the group was not rolled back and run again alone
    together = (xmins("events", "gw1") | xmins("events", "gw3")
                | xmins("signal_keys", "gw4") | xmins("signal_keys", "gw1"))
    check(len(together) == 1, "one group transaction, xmins %r" % together)


def test_group_stale_without_signal():
    """A stale member without Signal rows: the group writer leaves it to run
    alone (it cannot tell a resend from a lost lease); it is refused 409, and
    the others are stored once."""
    epochs = setup("gs", 3)
    c1, c2 = queue_behind("gs", [
        ("event.append_batch", dict(batch("gs", 1, epochs), epoch=epochs["gs1"] + 1)),
        ("event.append_batch", batch("gs", 2, epochs)),
    ])
    check(c1.result[0] == 409, "stale epoch refused %r" % (c1.result,))
    check(c2.result[0] == 200 and [r["seq"] for r in c2.result[1]["results"]] == [2, 3, 4]
          and not any(r.get("duplicate") for r in c2.result[1]["results"]),
          "the other stored once %r" % (c2.result,))
    check(events_of("gs1") == 0 and events_of("gs2") == 3, "stored")


def main():
    global STACK
    with Stack(services=["store-service"], env={"STORE_POOL_SIZE": "1"}) as s:
        STACK = s
        wait_ready(ep())
        run([test_group_acks_after_commit, test_group_member_refused,
             test_group_written_together, test_group_stale_without_signal])


if __name__ == "__main__":
    main()
