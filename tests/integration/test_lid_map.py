"""test_lid_map - a session's LID <-> phone number map.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

- the `lid` store family through the real store-service and PostgreSQL:
  lid.put (fenced; a pair replaces the old pairs of both of its sides;
  the last pair of a batch wins), lid.list pages, lid.count, lid.get by
  LID or by number in any form, validation, device.clear removing them;
- the engine learns pairs from wa-sim (a message's sender_lid, usync
  <lid>) and the worker stores them: lid.get answers the peer's LID;
  after the session restarts the map is loaded back (worker log).
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, Receiver, Stack, check, run, wait_for  # noqa: E402
from engine_util import api_ready, hooks, linked, stack  # noqa: E402
from wasim import WaSim  # noqa: E402


def call(s, type_, body):
    ep = s.env["STORE_ENDPOINTS"].split(",")[0]
    p = subprocess.run([os.path.join(BIN, "bus-call"), "--timeout", "5000", ep,
                        type_, json.dumps(body)], capture_output=True, text=True)
    check(p.returncode == 0, "bus-call failed: %s %s" % (p.stdout, p.stderr))
    return json.loads(p.stdout)


def test_lid_family():
    with Stack(services=["store-service"]) as s:
        wait_for(lambda: call(s, "health.ping", {})["st"] == 200, 30, 0.2,
                 "store-service up")
        r = call(s, "session.create", {"name": "m", "config": {}, "start": True})
        check(r["st"] == 201, r)
        r = call(s, "lease.claim", {"worker": "w1", "max": 10, "ttl_ms": 60000})
        epoch = r["body"]["sessions"][0]["epoch"]
        lease = {"name": "m", "worker": "w1", "epoch": epoch}

        def put(pairs, **kw):
            return call(s, "lid.put", dict(lease, pairs=pairs, **kw))

        r = put([{"lid": "111@lid", "pn": "15550000001@c.us"},
                 {"lid": "222@lid", "pn": "15550000002@c.us"},
                 {"lid": "333@lid", "pn": "15550000009@c.us"},
                 {"lid": "333@lid", "pn": "15550000003@c.us"}])
        check(r["st"] == 200 and r["body"]["written"] == 3, r)
        r = call(s, "lid.list", {"session": "m"})
        check(r["st"] == 200 and r["body"]["lids"] == [
            {"lid": "111@lid", "pn": "15550000001@c.us"},
            {"lid": "222@lid", "pn": "15550000002@c.us"},
            {"lid": "333@lid", "pn": "15550000003@c.us"}], r)
        r = call(s, "lid.list", {"session": "m", "limit": 1, "offset": 1})
        check(r["body"]["lids"] == [{"lid": "222@lid", "pn": "15550000002@c.us"}], r)
        check(call(s, "lid.count", {"session": "m"})["body"] == {"count": 3}, "count")
        # repeated: nothing new
        r = put([{"lid": "111@lid", "pn": "15550000001@c.us"}])
        check(r["st"] == 200 and r["body"]["written"] == 0, r)
        # a number moves to another account; an account gets a new number
        r = put([{"lid": "444@lid", "pn": "15550000001@c.us"},
                 {"lid": "222@lid", "pn": "15550000022@c.us"}])
        check(r["st"] == 200 and r["body"]["written"] == 2, r)
        got = {x["lid"]: x["pn"] for x in call(s, "lid.list", {"session": "m"})["body"]["lids"]}
        check(got == {"222@lid": "15550000022@c.us", "333@lid": "15550000003@c.us",
                      "444@lid": "15550000001@c.us"}, got)

        # lookups, any form
        for body in ({"lid": "444@lid"}, {"lid": "444"}, {"pn": "15550000001"},
                     {"pn": "+15550000001"}, {"pn": "15550000001@c.us"},
                     {"pn": "15550000001@s.whatsapp.net"}):
            r = call(s, "lid.get", dict(body, session="m"))
            check(r["st"] == 200 and r["body"] == {"lid": "444@lid",
                                                  "pn": "15550000001@c.us"}, (body, r))
        check(call(s, "lid.get", {"session": "m", "lid": "111@lid"})["st"] == 404, "gone")
        check(call(s, "lid.get", {"session": "m", "pn": "15550000002"})["st"] == 404, "gone")
        for body in ({}, {"lid": "1@lid", "pn": "1"}, {"lid": "1@c.us"},
                     {"pn": "abc"}, {"pn": "1@lid"}, {"lid": 5}):
            r = call(s, "lid.get", dict(body, session="m"))
            check(r["st"] == 400, (body, r))
        check(call(s, "lid.list", {"session": "nobody"})["body"]["lids"] == [], "none")
        check(call(s, "lid.count", {"session": "nobody"})["body"]["count"] == 0, "0")
        check(call(s, "lid.list", {"session": "m", "limit": 0})["st"] == 400, "limit")

        # validation and fencing
        for pairs in ([], [{"lid": "1", "pn": "1@c.us"}], [{"lid": "1@lid"}],
                      [{"lid": "1@lid", "pn": "+1@c.us"}], "x"):
            r = put(pairs)
            check(r["st"] == 400, (pairs, r))
        r = put([{"lid": "1@lid", "pn": "1@c.us"}] * 1001)
        check(r["st"] == 400, "too many pairs")
        r = call(s, "lid.put", dict(lease, epoch=epoch + 1,
                                    pairs=[{"lid": "9@lid", "pn": "9@c.us"}]))
        check(r["st"] == 409, r)
        check(call(s, "lid.count", {"session": "m"})["body"]["count"] == 3, "fenced")

        # a logout clears the map
        check(call(s, "device.clear", {"name": "m"})["st"] == 200, "clear")
        check(call(s, "lid.count", {"session": "m"})["body"]["count"] == 0, "cleared")


def test_engine_learns_and_keeps_pairs():
    with WaSim() as sim, stack(sim) as s, Receiver() as rx:
        linked(s, sim, rx, [("a", "15550007001", "Alice"), ("b", "15550007002", "Bob")])
        st, body = sim.ctl("GET", "/accounts/15550007002")
        check(st == 200 and body.get("lid"), (st, body))
        b_lid = body["lid"] if "@" in body["lid"] else body["lid"] + "@lid"
        st, m, _ = s.api("POST", "/api/sendText",
                         {"session": "b", "chatId": "15550007001@c.us", "text": "hi"})
        check(st == 201, (st, m))
        wait_for(lambda: [e for e in hooks(rx, "a", "message")
                          if e["payload"]["body"] == "hi"], 20, what="hi at a")
        want = {"lid": b_lid, "pn": "15550007002@c.us"}

        def stored():
            r = call(s, "lid.get", {"session": "a", "pn": "15550007002"})
            return r["body"] if r["st"] == 200 else None
        check(wait_for(stored, 20, what="a stored b's pair") == want, want)
        # b learnt a's pair from the usync of its send
        r = wait_for(lambda: call(s, "lid.count", {"session": "b"})["body"]["count"] >= 1,
                     20, what="b stored a pair")
        check(r, r)

        lids_routes(s, want)

        # a restart loads the map back
        st, _, _ = s.api("POST", "/api/sessions/a/stop")
        check(st in (200, 201), st)
        st, _, _ = s.api("POST", "/api/sessions/a/start")
        check(st in (200, 201), st)
        s.wait_status("a", "WORKING", 20)
        wait_for(lambda: 'session="a"' in s.logs() and "lids=1" in s.logs(), 10,
                 what="the worker loaded a's pair")

        # LID first: texts both ways after the restart, also to the @lid
        # chat id; one chat per person, in @c.us form
        for n, (frm, chat, text) in enumerate([
                ("a", "15550007002@c.us", "after restart"),
                ("b", "15550007001", "reply"),
                ("a", b_lid, "to the lid")]):
            st, m, _ = api_ready(s, "POST", "/api/sendText",
                                 {"session": frm, "chatId": chat, "text": text})
            check(st == 201, (st, m))
            peer = "15550007002@c.us" if frm == "a" else "15550007001@c.us"
            check(m["to"] == peer and m["id"].startswith("true_" + peer + "_"), m)
            other = "b" if frm == "a" else "a"
            got = wait_for(lambda: [e for e in hooks(rx, other, "message")
                                    if e["payload"]["body"] == text], 20,
                           what="%r at %s" % (text, other))
            p = got[0]["payload"]
            sender = "15550007001@c.us" if frm == "a" else "15550007002@c.us"
            check(p["from"] == sender and p["to"] == peer and
                  p["_data"]["key"]["remoteJid"] == sender, p)
        for who, peer in (("a", "15550007002@c.us"), ("b", "15550007001@c.us")):
            st, chats, _ = s.api("GET", "/api/%s/chats" % who)
            check(st == 200 and [c["id"] for c in chats] == [peer], (who, chats))


def lids_routes(s, want):
    """WAHA's /api/{session}/lids routes and Wawp's /v2/lids read the map."""
    st, body, _ = s.api("GET", "/api/a/lids")
    check(st == 200 and want in body and all(set(x) == {"lid", "pn"} for x in body),
          (st, body))
    st, body, _ = s.api("GET", "/api/a/lids?limit=1&offset=%d" % len(body))
    check(st == 200 and body == [], (st, body))
    st, count, _ = s.api("GET", "/api/a/lids/count")
    check(st == 200 and isinstance(count["count"], int) and count["count"] >= 1,
          (st, count))
    digits = want["lid"].split("@")[0]
    for lid in (want["lid"], digits):
        st, body, _ = s.api("GET", "/api/a/lids/" + lid)
        check(st == 200 and body == want, (lid, st, body))
    for pn in ("15550007002", "15550007002@c.us", "%2B15550007002"):
        st, body, _ = s.api("GET", "/api/a/lids/pn/" + pn)
        check(st == 200 and body == want, (pn, st, body))
    # unknown: only the side asked about (both are optional in WAHA's
    # LidToPhoneNumber)
    st, body, _ = s.api("GET", "/api/a/lids/999999999999@lid")
    check(st == 200 and body == {"lid": "999999999999@lid"}, (st, body))
    st, body, _ = s.api("GET", "/api/a/lids/pn/15550009999")
    check(st == 200 and body == {"pn": "15550009999@c.us"}, (st, body))
    # not a LID: 422; not a number: 400; no such session: 404
    for bad in ("abc", "15550007002@c.us"):
        st, body, _ = s.api("GET", "/api/a/lids/" + bad)
        check(st == 422 and body["statusCode"] == 422 and "LID" in json.dumps(body),
              (bad, st, body))
    st, body, _ = s.api("GET", "/api/a/lids/pn/abc")
    check(st == 400 and "phoneNumber" in json.dumps(body), (st, body))
    st, body, _ = s.api("GET", "/api/nobody/lids")
    check(st == 404, (st, body))
    # Wawp: the instance's pairs and count
    st, body, _ = s.api("GET", "/v2/lids?instance_id=a")
    check(st == 200 and want in body, (st, body))
    st, body, _ = s.api("GET", "/v2/lids/count?instance_id=a")
    check(st == 200 and body == count, (st, body))
    # Wawp /v2/<WAHA path> aliases of the two look-ups (api-surface.md 5.2)
    for lid in (want["lid"], digits):
        st, body, _ = s.api("GET", "/v2/lids/%s?instance_id=a" % lid)
        check(st == 200 and body == want, (lid, st, body))
    st, body, _ = s.api("GET", "/v2/lids/pn/15550007002?instance_id=a")
    check(st == 200 and body == want, (st, body))
    st, body, _ = s.api("GET", "/v2/lids/abc?instance_id=a")
    check(st == 422 and body["status"] == 422 and "LID" in body["message"], (st, body))
    st, body, _ = s.api("GET", "/v2/lids/pn/abc?instance_id=a")
    check(st == 400, (st, body))


if __name__ == "__main__":
    run([test_lid_family, test_engine_learns_and_keeps_pairs])
