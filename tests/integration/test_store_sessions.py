"""store-service: the session and device families, and the bus rules
(malformed and unknown messages, deadlines) against a real PostgreSQL.

Copyright (c) 2026 the Wharf authors. Apache-2.0.
"""
import time

from harness import Stack, check, run
from buscall import call, call_full, ok, raw, wait_ready

STACK = None


def ep():
    return STACK.env["STORE_ENDPOINTS"]


def test_health():
    st, b, _ = call(ep(), "health.ping")
    check(st == 200, "health st %d" % st)
    check(b["service"] == "store-service" and b["version"] and b["id"], "health body %r" % b)


def test_session_crud():
    e = ep()
    s = ok(e, "session.create", {"name": "crud", "config": {"metadata": {"k": "v"}},
                                 "instance_id": "I-crud", "access_token_hash": "ab" * 64},
           want=201)["session"]
    check(s["name"] == "crud" and s["status"] == "STOPPED" and s["desired"] == "stopped",
          "created %r" % s)
    check(s["instance_id"] == "I-crud" and s["access_token_hash"] == "ab" * 64, "ids %r" % s)
    check(s["me"] is None and s["worker"] is None and s["reason"] is None, "nulls %r" % s)
    check([h["status"] for h in s["statuses"]] == ["STOPPED"], "history %r" % s["statuses"])
    check(abs(s["created_at"] - time.time() * 1000) < 60000, "created_at %r" % s["created_at"])
    # duplicate name, duplicate instance id
    st, _, reason = call(e, "session.create", {"name": "crud"})
    check(st == 409, "duplicate name st %d" % st)
    st, _, _ = call(e, "session.create", {"name": "other", "instance_id": "I-crud"})
    check(st == 409, "duplicate instance_id st %d" % st)
    # get by name and by instance id; instance id defaults to the name
    check(ok(e, "session.get", {"name": "crud"})["session"]["config"] == {"metadata": {"k": "v"}},
          "get by name")
    check(ok(e, "session.get", {"instance_id": "I-crud"})["session"]["name"] == "crud",
          "get by instance_id")
    s2 = ok(e, "session.create", {"name": "crud2", "start": True}, want=201)["session"]
    check(s2["instance_id"] == "crud2" and s2["status"] == "STARTING"
          and s2["desired"] == "running", "started create %r" % s2)
    check(call(e, "session.get", {"name": "nope"})[0] == 404, "get unknown")
    check(call(e, "session.get", {})[0] == 400, "get without name")
    # list: all=false leaves out STOPPED
    names = [x["name"] for x in ok(e, "session.list", {"all": True})["sessions"]]
    check("crud" in names and "crud2" in names, "list all %r" % names)
    names = [x["name"] for x in ok(e, "session.list", {})["sessions"]]
    check("crud" not in names and "crud2" in names, "list active %r" % names)
    # update: config replaced; desired running without a lease -> STARTING
    s = ok(e, "session.update", {"name": "crud", "config": {"debug": True},
                                 "desired": "running"})["session"]
    check(s["config"] == {"debug": True} and s["desired"] == "running"
          and s["status"] == "STARTING", "update %r" % s)
    check([h["status"] for h in s["statuses"]] == ["STOPPED", "STARTING"], "history %r" % s)
    s = ok(e, "session.update", {"name": "crud", "desired": "stopped"})["session"]
    check(s["status"] == "STOPPED", "stop without lease %r" % s)
    check(call(e, "session.update", {"name": "crud", "desired": "maybe"})[0] == 400, "bad desired")
    check(call(e, "session.update", {"name": "nope", "desired": "running"})[0] == 404,
          "update unknown")
    # status events were appended for every status change
    evs = ok(e, "event.list", {"session": "crud"})["events"]
    check([x["payload"]["status"] for x in evs] == ["STARTING", "STOPPED"], "events %r" % evs)
    # delete
    ok(e, "session.delete", {"name": "crud"})
    check(call(e, "session.get", {"name": "crud"})[0] == 404, "deleted")
    check(call(e, "session.delete", {"name": "crud"})[0] == 404, "delete again")
    # events outlive the session; a re-created name continues their seq
    s = ok(e, "session.create", {"name": "crud", "start": True}, want=201)["session"]
    evs = ok(e, "event.list", {"session": "crud"})["events"]
    check(len(evs) == 3, "events after re-create %r" % evs)
    nxt = ok(e, "event.list", {"session": "crud"})["next"]
    check(nxt == 3, "seq continues %r" % nxt)


def test_set_status_and_device():
    e = ep()
    ok(e, "session.create", {"name": "st1", "start": True,
                             "config": {"metadata": {"user.id": "7"}}}, want=201)
    got = ok(e, "lease.claim", {"worker": "wa", "max": 1000, "ttl_ms": 60000})["sessions"]
    mine = [x for x in got if x["name"] == "st1"]
    check(len(mine) == 1, "claimed %r" % got)
    epoch = mine[0]["epoch"]
    check(ok(e, "session.get", {"name": "st1"})["session"]["worker"] == "wa", "worker shown")
    base = {"name": "st1", "worker": "wa", "epoch": epoch}
    s = ok(e, "session.set_status", dict(base, status="SCAN_QR_CODE",
                                         qr="data:image/png;base64,QQ=="))["session"]
    check(s["status"] == "SCAN_QR_CODE", "set_status %r" % s)
    # same status with a new QR: no history entry, but an event
    ok(e, "session.set_status", dict(base, status="SCAN_QR_CODE", qr="data:image/png;base64,Qg=="))
    me = {"id": "123@c.us", "pushName": "Bob"}
    s = ok(e, "session.set_status", dict(base, status="WORKING", me=me))["session"]
    check(s["me"] == me and s["reason"] is None, "me %r" % s)
    check([h["status"] for h in s["statuses"]] == ["STARTING", "SCAN_QR_CODE", "WORKING"],
          "history %r" % s["statuses"])
    s = ok(e, "session.set_status", dict(base, status="FAILED", reason="could not connect"))
    s = s["session"]
    check(s["me"] == me and s["reason"] == "could not connect", "me kept %r" % s)
    check(len(s["statuses"]) == 3 and s["statuses"][-1]["status"] == "FAILED", "last 3")
    s = ok(e, "session.set_status", dict(base, status="STOPPED", me=None))["session"]
    check(s["me"] is None, "me cleared")
    # the stream of session.status events, in the WAHA/Wawp envelope
    evs = ok(e, "event.list", {"session": "st1"})["events"]
    check([x["status"] for x in evs] ==
          ["STARTING", "SCAN_QR_CODE", "SCAN_QR_CODE", "WORKING", "FAILED", "STOPPED"],
          "event statuses %r" % [x["status"] for x in evs])
    qr = evs[1]
    check(qr["qr"] == "data:image/png;base64,QQ==" and evs[2]["qr"].endswith("Qg=="),
          "qr %r" % qr)
    w = evs[3]
    for k in ("id", "timestamp", "event", "session", "metadata", "me", "payload", "engine",
              "environment", "instance_id", "status", "qr", "ts"):
        check(k in w, "envelope lacks %s: %r" % (k, w))
    check(w["id"].startswith("evt_") and len(w["id"]) == 30 and w["id"] == w["id"].lower(),
          "id %r" % w["id"])
    check(w["event"] == "session.status" and w["session"] == "st1", "names %r" % w)
    check(w["metadata"] == {"user.id": "7"} and w["me"] == me and w["qr"] is None, "fields %r" % w)
    check(w["engine"] == "GOWS" and w["environment"]["worker"] == {"id": "wa"}
          and w["environment"]["tier"] == "CORE", "environment %r" % w)
    check(w["payload"]["name"] == "st1" and w["payload"]["status"] == "WORKING"
          and w["payload"]["data"] is None and len(w["payload"]["statuses"]) == 3,
          "payload %r" % w["payload"])
    check(w["ts"] == w["timestamp"] // 1000, "ts seconds")
    check(evs[0]["environment"]["worker"] == {"id": None}, "create event has no worker")
    # validation and fencing
    check(call(e, "session.set_status", dict(base, status="DANCING"))[0] == 400, "bad status")
    check(call(e, "session.set_status", dict(base, status="WORKING", me=5))[0] == 400, "bad me")
    check(call(e, "session.set_status", dict(base, status="WORKING", epoch=epoch + 7))[0] == 409,
          "stale epoch")
    check(call(e, "session.set_status", dict(base, status="WORKING", worker="wb"))[0] == 409,
          "other worker")
    check(call(e, "session.set_status", dict(base, name="nope", status="WORKING"))[0] == 404,
          "unknown session")
    # device credentials
    check(ok(e, "device.get", {"name": "st1"})["creds"] is None, "no creds yet")
    creds = {"noiseKey": "aa", "registrationId": 42, "nested": {"x": [1, 2]}}
    ok(e, "device.put", dict(base, creds=creds))
    check(ok(e, "device.get", {"name": "st1"})["creds"] == creds, "creds stored")
    check(call(e, "device.put", dict(base, epoch=epoch + 1, creds={}))[0] == 409, "fenced put")
    check(call(e, "device.put", dict(base, creds="x"))[0] == 400, "creds must be object")
    check(call(e, "device.get", {"name": "nope"})[0] == 404, "creds of unknown")
    check(call(e, "device.clear", {"name": "st1", "worker": "wb", "epoch": epoch})[0] == 409,
          "fenced clear")
    check(ok(e, "device.clear", {"name": "st1"})["cleared"] is True, "cleared")
    check(ok(e, "device.clear", {"name": "st1"})["cleared"] is False, "cleared twice")
    check(ok(e, "device.get", {"name": "st1"})["creds"] is None, "creds gone")
    ok(e, "device.put", dict(base, creds=creds))
    # delete cascades the lease and the creds
    ok(e, "session.delete", {"name": "st1"})
    r = ok(e, "lease.renew", {"worker": "wa", "ttl_ms": 60000, "sessions": ["st1"]})
    check("st1" in r["drop"] and not [h for h in r["held"] if h["name"] == "st1"],
          "deleted session dropped %r" % r)
    check(STACK.pg.psql(STACK.database_url,
                        "SELECT count(*) FROM device_creds WHERE session='st1'") == "0",
          "creds cascaded")


def test_bad_input_keeps_serving():
    e = ep()
    # unknown type
    st, _, reason = call(e, "session.bogus", {})
    check(st == 400 and reason == "unrecognized message type", "unknown type %d %r" % (st, reason))
    # wrong field types and sizes
    for body in ({}, {"name": 5}, {"name": ""}, {"name": "x" * 300}, {"name": "a\u0000b"},
                 {"name": "x", "config": []}, {"name": "x", "start": "yes"}):
        st, _, reason = call(e, "session.create", body)
        check(st == 400, "create %r -> %d" % (body, st))
    check("'name'" in call(e, "session.create", {})[2], "reason names the field")
    for t, body in (("lease.claim", {"worker": "w", "ttl_ms": 1}),
                    ("lease.claim", {"worker": "w", "ttl_ms": 1000, "max": -1}),
                    ("lease.renew", {"worker": "w"}),
                    ("lease.release", {"worker": "w", "name": "x"}),
                    ("event.append", {"id": "nope", "session": "x", "event": "e"}),
                    ("event.append", {"id": "evt_1", "session": "x", "event": "e",
                                      "worker": "w"}),
                    ("event.list", {"session": "x", "limit": 5000}),
                    ("event.list", {"session": "x", "after": -1}),
                    ("device.put", {"name": "x", "worker": "w", "epoch": 1})):
        st, _, _ = call(e, t, body)
        check(st == 400, "%s %r -> %d" % (t, body, st))
    # malformed body: header readable, body not msgpack -> 400
    r = raw(e, ["s:session.get", "h:", "x:c1"])
    check(r["st"] == 400, "bad body %r" % r)
    r = raw(e, ["s:session.get", "h:", "j:[1,2]"])
    check(r["st"] == 400, "array body %r" % r)
    # version newer than the handler knows -> 400
    check(call(e, "session.get", {"name": "x"}, version=9)[0] == 400, "new version")
    # unreadable header, too few frames, garbage: dropped (no reply)
    for frames in (["s:session.get", "x:ff", "j:{}"], ["s:only"], ["x:00ff00"],
                   ["s:bad type", "h:", "j:{}"], ["s:session.get", "j:{\"v\":1}", "j:{}"]):
        r = raw(e, frames, timeout=500)
        check(r["st"] == 0, "dropped %r -> %r" % (frames, r))
    # a request past its deadline is dropped, not answered
    r = call_full(e, "health.ping", {}, timeout=800, deadline=-1000)
    check(r["st"] == 0, "expired request answered %r" % r)
    # the service still works
    check(call(e, "health.ping")[0] == 200, "still serving")
    check(STACK.proc("store-service").alive(), "store-service died")


def main():
    global STACK
    with Stack(services=["store-service"]) as s:
        STACK = s
        wait_ready(ep())
        run([test_health, test_session_crud, test_set_status_and_device,
             test_bad_input_keeps_serving])


if __name__ == "__main__":
    main()
