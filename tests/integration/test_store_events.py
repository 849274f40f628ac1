"""store-service: the event outbox - idempotent append, per-session seq
order under concurrency, the event.list cursor, event.new on the PUB.

Copyright (c) 2026 the Wharf authors. Apache-2.0.
"""
import platform
import threading
import time

from harness import Stack, check, run
from buscall import Sub, call, ok, wait_ready

STACK = None


def ep():
    return STACK.env["STORE_ENDPOINTS"]


def test_idempotent_append():
    e = ep()
    ok(e, "session.create", {"name": "idem", "config": {"metadata": {"m": "1"}}}, want=201)
    body = {"id": "evt_01idem000000000000000000aa", "session": "idem", "event": "message",
            "payload": {"body": "hi", "n": 1}}
    r1 = ok(e, "event.append", body)
    check(r1["seq"] == 1 and "duplicate" not in r1, "first append %r" % r1)
    r2 = ok(e, "event.append", body)
    check(r2["seq"] == 1 and r2["duplicate"] is True, "resend %r" % r2)
    # the same id resent concurrently: one row, one seq
    body2 = dict(body, id="evt_01idem000000000000000000bb")
    seqs = []
    lock = threading.Lock()

    def send():
        r = ok(e, "event.append", body2)
        with lock:
            seqs.append(r["seq"])

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(set(seqs) == {2}, "concurrent resends %r" % seqs)
    n = STACK.pg.psql(STACK.database_url, "SELECT count(*) FROM events WHERE session='idem'")
    check(n == "2", "rows %s" % n)
    # an id belongs to one session
    ok(e, "session.create", {"name": "idem2"}, want=201)
    st, _, reason = call(e, "event.append", dict(body, session="idem2"))
    check(st == 409, "id reused by another session -> %d %r" % (st, reason))
    check(call(e, "event.append", dict(body, id="evt_x1", session="nope"))[0] == 404,
          "unknown session")
    # the stored envelope
    ev = ok(e, "event.list", {"session": "idem"})["events"][0]
    check(ev["id"] == body["id"] and ev["event"] == "message" and ev["session"] == "idem",
          "envelope %r" % ev)
    check(ev["payload"] == body["payload"] and ev["metadata"] == {"m": "1"} and ev["me"] is None,
          "envelope fields %r" % ev)
    arch = {"x86_64": "x64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    check(ev["engine"] == "GOWS" and ev["environment"]["worker"] == {"id": None}
          and ev["environment"]["platform"] == "linux/" + arch
          and ev["environment"]["browser"].startswith("Wharf/"), "environment %r" % ev)
    check("instance_id" not in ev and "qr" not in ev, "Wawp fields only on session.status")
    check(abs(ev["timestamp"] - time.time() * 1000) < 60000, "timestamp %r" % ev["timestamp"])


def test_seq_order_under_concurrency():
    e = ep()
    for n in ("sa", "sb"):
        ok(e, "session.create", {"name": n}, want=201)
    sent = {"sa": [], "sb": []}
    lock = threading.Lock()

    def writer(t):
        for i in range(8):
            sess = "sa" if (i + t) % 2 else "sb"
            eid = "evt_c%d%02d" % (t, i)
            r = ok(e, "event.append", {"id": eid, "session": sess, "event": "message",
                                       "payload": {"t": t, "i": i}})
            with lock:
                sent[sess].append((r["seq"], eid))

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for sess, got in sent.items():
        seqs = sorted(s for s, _ in got)
        check(seqs == list(range(1, len(got) + 1)), "%s seqs not dense: %r" % (sess, seqs))
        # a writer's own events are in its order
        for t in range(5):
            mine = [s for s, eid in sorted(got) if eid.startswith("evt_c%d" % t)]
            check(mine == sorted(mine), "writer order")
        # the pull feed pages through them in seq order with the cursor
        listed = []
        after = 0
        while True:
            page = ok(e, "event.list", {"session": sess, "after": after, "limit": 7})
            check(len(page["events"]) <= 7, "limit")
            if not page["events"]:
                check(page["next"] == after, "next stays at the end %r" % page)
                break
            listed.extend(x["id"] for x in page["events"])
            check(len(page["seqs"]) == len(page["events"])
                  and page["seqs"] == sorted(page["seqs"])
                  and page["seqs"][0] > after and page["seqs"][-1] == page["next"],
                  "seqs name each event's cursor %r" % page["seqs"])
            after = page["next"]
        check(listed == [eid for _, eid in sorted(got)], "%s list order" % sess)
        check(after == len(got), "final cursor %d" % after)
    # default and maximal limits
    check(len(ok(e, "event.list", {"session": "sa"})["events"]) == 20, "default limit")
    check(ok(e, "event.list", {"session": "nobody"}) == {"events": [], "seqs": [], "next": 0},
          "unknown")
    # tail: where a reader of new events only starts
    check(ok(e, "event.list", {"session": "sa", "tail": True}) == {"events": [], "next": 20},
          "tail of sa")
    check(ok(e, "event.list", {"session": "nobody", "tail": True})["next"] == 0, "tail unknown")
    st, _, _ = call(e, "event.list", {"session": "sa", "tail": 1})
    check(st == 400, "tail must be a boolean: %s" % st)


def test_fenced_append_and_notifications():
    e = ep()
    ok(e, "session.create", {"name": "pub", "start": True}, want=201)
    got = ok(e, "lease.claim", {"worker": "wp", "max": 10, "ttl_ms": 60000})["sessions"]
    epoch = [x for x in got if x["name"] == "pub"][0]["epoch"]
    sub = Sub(STACK.env["STORE_PUB_ENDPOINTS"], "event.new", count=3)
    time.sleep(0.5)     # let the subscription reach the PUB
    ids = []
    for i in range(2):
        r = ok(e, "event.append", {"id": "evt_pub%d" % i, "session": "pub", "event": "message",
                                   "payload": {"i": i}, "worker": "wp", "epoch": epoch})
        ids.append(("evt_pub%d" % i, r["seq"]))
    # a status change made by the store announces its own event
    ok(e, "session.set_status", {"name": "pub", "worker": "wp", "epoch": epoch,
                                 "status": "WORKING"})
    msgs = sub.messages()
    check(len(msgs) == 3 and all(m["type"] == "event.new" for m in msgs), "pub %r" % msgs)
    check([(m["body"]["id"], m["body"]["seq"]) for m in msgs[:2]] == ids, "bodies %r" % msgs)
    check(all(m["body"]["session"] == "pub" for m in msgs), "session in body")
    check(msgs[2]["body"]["seq"] == 4 and msgs[2]["body"]["id"].startswith("evt_"),
          "status event %r" % msgs[2])
    evs = ok(e, "event.list", {"session": "pub", "after": 1})["events"]
    check([x["environment"]["worker"] for x in evs] == [{"id": "wp"}] * 3, "worker recorded")
    # a resend is not announced again, and a fenced-out one not at all
    sub = Sub(STACK.env["STORE_PUB_ENDPOINTS"], "event.new", count=1, timeout=1500)
    time.sleep(0.5)
    ok(e, "event.append", {"id": "evt_pub0", "session": "pub", "event": "message",
                           "payload": {}, "worker": "wp", "epoch": epoch})
    check(call(e, "event.append", {"id": "evt_pubx", "session": "pub", "event": "message",
                                   "worker": "wp", "epoch": epoch + 1})[0] == 409, "fenced")
    check(sub.messages() == [], "nothing announced")


def test_batch_append():
    e = ep()
    ok(e, "session.create", {"name": "bat", "start": True,
                             "config": {"metadata": {"m": "2"}}}, want=201)
    got = ok(e, "lease.claim", {"worker": "wb", "max": 10, "ttl_ms": 60000})["sessions"]
    epoch = [x for x in got if x["name"] == "bat"][0]["epoch"]
    one = ok(e, "event.append", {"id": "evt_bat0", "session": "bat", "event": "message",
                                 "payload": {"k": 0}, "worker": "wb", "epoch": epoch})
    base = one["seq"]
    sub = Sub(STACK.env["STORE_PUB_ENDPOINTS"], "event.new", count=2, timeout=3000)  # only one may come
    time.sleep(0.5)
    batch = {"session": "bat", "worker": "wb", "epoch": epoch,
             "events": [{"id": "evt_bat1", "event": "message.any", "payload": {"k": 1}},
                        {"id": "evt_bat0", "event": "message", "payload": {"k": 0}},
                        {"id": "bad id", "event": "message"},
                        {"id": "evt_bat2", "event": "message.ack"}]}
    r = ok(e, "event.append_batch", batch)["results"]
    # in order, the resend found, the bad one refused alone
    check(r[0] == {"seq": base + 1} and r[1] == {"seq": base, "duplicate": True}
          and r[2]["status"] == 400 and r[3] == {"seq": base + 2}, "results %r" % r)
    # message events of a batch: one wake-up, the last of them
    msgs = sub.messages()
    check([(m["body"]["id"], m["body"]["seq"]) for m in msgs]
          == [("evt_bat2", base + 2)], "announced %r" % msgs)
    # stored as event.append stores them
    evs = ok(e, "event.list", {"session": "bat", "after": base - 1})["events"]
    check([x["id"] for x in evs] == ["evt_bat0", "evt_bat1", "evt_bat2"], "order %r" % evs)
    for x in evs:
        check(x["session"] == "bat" and x["metadata"] == {"m": "2"} and x["me"] is None
              and x["environment"]["worker"] == {"id": "wb"} and x["engine"] == "GOWS",
              "envelope %r" % x)
    check(evs[1]["payload"] == {"k": 1} and evs[2]["payload"] == {}, "payloads")
    # the whole batch again: all duplicates, nothing new
    r = ok(e, "event.append_batch", dict(batch, events=batch["events"][:2]))["results"]
    check(r == [{"seq": base + 1, "duplicate": True}, {"seq": base, "duplicate": True}],
          "resent %r" % r)
    # fenced, unknown session, another session's id: nothing stored
    fresh = [{"id": "evt_bat9", "event": "message"}]
    check(call(e, "event.append_batch", dict(batch, epoch=epoch + 1, events=fresh))[0] == 409,
          "fenced")
    check(call(e, "event.append_batch", {"session": "nobody", "events": fresh})[0] == 404,
          "unknown session")
    ok(e, "session.create", {"name": "bat2"}, want=201)
    check(call(e, "event.append_batch",
               {"session": "bat2", "events": fresh + [{"id": "evt_bat1", "event": "x"}]})[0]
          == 409, "id of another session")
    check(ok(e, "event.list", {"session": "bat2"})["events"] == [], "bat2 untouched")
    check(len(ok(e, "event.list", {"session": "bat", "after": base - 1})["events"]) == 3,
          "bat untouched")
    for bad in ([], [{"id": "evt_x%d" % i, "event": "m"} for i in range(101)], "x"):
        check(call(e, "event.append_batch", {"session": "bat", "events": bad})[0] == 400,
              "bad events %r" % (bad if len(bad) < 5 else len(bad)))


def test_batch_with_signal_rows():
    """A session-worker's signal.put rides in event.append_batch as
    `signal`: the rows and the events in one transaction, fenced alike."""
    e = ep()
    ok(e, "session.create", {"name": "bsig", "start": True}, want=201)
    got = ok(e, "lease.claim", {"worker": "ws", "max": 10, "ttl_ms": 60000})["sessions"]
    epoch = [x for x in got if x["name"] == "bsig"][0]["epoch"]
    ok(e, "signal.put", {"name": "bsig", "worker": "ws", "epoch": epoch,
                         "rows": [{"kind": "prekey", "key": "5", "data": "BQ=="}]})

    def rows():
        return sorted((r["kind"], r["key"], r["data"])
                      for r in ok(e, "signal.load", {"name": "bsig"})["rows"])

    def events():
        return [x["id"] for x in ok(e, "event.list", {"session": "bsig"})["events"]
                if x["id"].startswith("evt_bsig")]

    batch = {"session": "bsig", "worker": "ws", "epoch": epoch,
             "events": [{"id": "evt_bsig1", "event": "message", "payload": {}},
                        {"id": "evt_bsig2", "event": "message.any", "payload": {}}],
             "signal": [{"kind": "session", "key": "1555.0", "data": "AAEC"},
                        {"kind": "session", "key": "1555.0", "data": "AAED"},
                        {"kind": "prekey", "key": "5", "data": None}]}
    r = ok(e, "event.append_batch", batch)
    check(len(r["results"]) == 2 and all("seq" in x for x in r["results"]), "results %r" % r)
    check(r["signal"] == {"written": 1, "deleted": 1}, "signal %r" % r.get("signal"))
    check(rows() == [("session", "1555.0", "AAED")], "rows %r" % rows())
    check(events() == ["evt_bsig1", "evt_bsig2"], "events %r" % events())
    # resent (the reply was lost): events are duplicates, rows the same
    r = ok(e, "event.append_batch", batch)
    check(all(x.get("duplicate") for x in r["results"]) and r["signal"]["written"] == 1,
          "resent %r" % r)
    # fenced, bad rows, rows without a lease: neither events nor rows stored
    fresh = [{"id": "evt_bsig3", "event": "message", "payload": {}}]
    put = [{"kind": "session", "key": "1555.0", "data": "AAEE"}]
    for body, want, why in (
            (dict(batch, epoch=epoch + 1, events=fresh, signal=put), 409, "fenced"),
            (dict(batch, events=fresh, signal=[{"kind": "bogus", "key": "k", "data": "AA=="}]),
             400, "bad kind"),
            (dict(batch, events=fresh, signal=[{"kind": "session", "key": "k", "data": "no!"}]),
             400, "bad data"),
            (dict(batch, events=fresh, signal="x"), 400, "not an array"),
            ({"session": "bsig", "events": fresh, "signal": put}, 400, "no lease")):
        st = call(e, "event.append_batch", body)[0]
        check(st == want, "%s: %r" % (why, st))
    check(rows() == [("session", "1555.0", "AAED")], "rows untouched %r" % rows())
    check(events() == ["evt_bsig1", "evt_bsig2"], "events untouched %r" % events())


def test_batch_of_messages():
    """A plain batch (new distinct ids) goes in one statement with the
    messages, chats and acks its events carry."""
    e = ep()
    ok(e, "session.create", {"name": "bm", "start": True}, want=201)

    def msg(mid, chat, ts, from_me, body, ack=0):
        return {"id": mid, "timestamp": ts, "from": "1444@c.us" if from_me else chat,
                "fromMe": from_me, "to": chat if from_me else "1444@c.us",
                "body": body, "hasMedia": False, "ack": ack,
                "_data": {"key": {"remoteJid": chat, "fromMe": from_me}, "type": "chat"}}
    out = msg("true_1555@c.us_A1", "1555@c.us", 100, True, "out")
    inn = msg("false_1555@c.us_B1", "1555@c.us", 90, False, "in")
    other = msg("false_1666@c.us_C1", "1666@c.us", 95, False, "other")
    events = [{"id": "evt_bm1", "event": "message.any", "payload": out},
              {"id": "evt_bm2", "event": "message.ack",
               "payload": {"id": out["id"], "ack": 3, "ackName": "READ"}},
              {"id": "evt_bm3", "event": "message.ack",
               "payload": {"id": out["id"], "ack": 1, "ackName": "SERVER"}},
              {"id": "evt_bm4", "event": "message", "payload": inn},
              {"id": "evt_bm5", "event": "message.any", "payload": inn},
              {"id": "evt_bm6", "event": "message", "payload": other}]
    r = ok(e, "event.append_batch", {"session": "bm", "events": events})["results"]
    seqs = [x["seq"] for x in r]
    check(seqs == list(range(seqs[0], seqs[0] + 6)) and all(len(x) == 1 for x in r),
          "consecutive seqs %r" % r)
    evs = ok(e, "event.list", {"session": "bm", "after": seqs[0] - 1})["events"]
    check([(x["id"], x["event"]) for x in evs] == [(x["id"], x["event"]) for x in events],
          "stored in order %r" % evs)
    check(evs[3]["payload"] == inn and evs[0]["session"] == "bm", "envelopes")
    chats = ok(e, "chat.list", {"session": "bm"})["chats"]
    check([(c["id"], c["conversationTimestamp"]) for c in chats]
          == [("1555@c.us", 100), ("1666@c.us", 95)], "chats %r" % chats)
    ms = ok(e, "message.list", {"session": "bm", "chat": "1555@c.us"})["messages"]
    check([m["id"] for m in ms] == [out["id"], inn["id"]], "one row each %r" % ms)
    # the highest ack of the batch, whatever its order
    check(ms[0]["ack"] == 3 and ms[0]["ackName"] == "READ", "ack %r" % ms[0])
    # a later lower ack does not lower it; a later higher one raises it
    for i, (ack, name) in enumerate(((2, "DEVICE"), (4, "PLAYED"))):
        ok(e, "event.append_batch", {"session": "bm", "events": [
            {"id": "evt_bmack%d" % i, "event": "message.ack",
             "payload": {"id": out["id"], "ack": ack, "ackName": name}}]})
        m = ok(e, "message.list", {"session": "bm", "chat": "1555@c.us"})["messages"][0]
        check(m["ack"] == (3, 4)[i], "ack after %s: %r" % (name, m))
    # a batch's ack of a message stored before (its message.any again:
    # the row is not written twice) raises it, as one of a message new in
    # the batch does
    mine = msg("false_1777@c.us_D1", "1777@c.us", 97, False, "mine")
    ok(e, "event.append_batch", {"session": "bm", "events": [
        {"id": "evt_bm10", "event": "message.any", "payload": other},
        {"id": "evt_bm11", "event": "message.ack",
         "payload": {"id": other["id"], "ack": 2, "ackName": "DEVICE"}},
        {"id": "evt_bm12", "event": "message", "payload": mine},
        {"id": "evt_bm13", "event": "message.ack",
         "payload": {"id": mine["id"], "ack": 3, "ackName": "READ"}}]})
    m = ok(e, "message.list", {"session": "bm", "chat": "1666@c.us"})["messages"]
    check([(x["id"], x["ack"], x["ackName"]) for x in m]
          == [(other["id"], 2, "DEVICE")], "ack of an older row %r" % m)
    m = ok(e, "message.list", {"session": "bm", "chat": "1777@c.us"})["messages"]
    check([(x["id"], x["ack"], x["ackName"]) for x in m]
          == [(mine["id"], 3, "READ")], "ack folded into a new row %r" % m)
    # the same id twice in one batch: the second is its duplicate
    r = ok(e, "event.append_batch", {"session": "bm", "events": [
        {"id": "evt_bm7", "event": "message", "payload": {"k": 1}},
        {"id": "evt_bm7", "event": "message", "payload": {"k": 1}}]})["results"]
    check(r[1] == {"seq": r[0]["seq"], "duplicate": True}, "in-batch duplicate %r" % r)


def test_statistics_follow_growth():
    """The store analyzes the hot tables as they grow: a fresh install's
    planner must not keep thinking the outbox is empty (st_worker)."""
    q = ("SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables "
         "WHERE relname = 'events'")
    # Only the store may analyze the table here: autovacuum's own analyze
    # (last_autoanalyze) resets n_mod_since_analyze, and when it came
    # first at load 15-17 the store rightly saw nothing to do and the
    # test failed three runs in a row.
    STACK.pg.psql(STACK.database_url,
                  "ALTER TABLE events SET (autovacuum_enabled = off)")
    e = ep()
    ok(e, "session.create", {"name": "grow"}, want=201)
    for b in range(25):  # 2,500 rows: past 1,000 + half the table
        ok(e, "event.append_batch", {"session": "grow", "events": [
            {"id": "evt_grow%d_%d" % (b, i), "event": "message"} for i in range(100)]})
    # PostgreSQL 15 publishes a busy backend's row counts only when it has
    # been idle for up to 10 s (PGSTAT_IDLE_INTERVAL), and worker 0 looks
    # every 2 s: under CI load (load 17) 20 s was once not enough.
    deadline = time.time() + 60
    while STACK.pg.psql(STACK.database_url, q) != "t" and time.time() < deadline:
        time.sleep(0.5)
    check(STACK.pg.psql(STACK.database_url, q) == "t", "events analyzed by the store")


def main():
    global STACK
    with Stack(services=["store-service"]) as s:
        STACK = s
        wait_ready(ep())
        run([test_idempotent_append, test_seq_order_under_concurrency,
             test_fenced_append_and_notifications, test_batch_append,
             test_batch_of_messages, test_statistics_follow_growth,
             test_batch_with_signal_rows])


if __name__ == "__main__":
    main()
