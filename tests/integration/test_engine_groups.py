"""test_engine_groups - groups through the full stack, with wa-sim as the
WhatsApp server.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Everything real (PostgreSQL, the five services, wa-sim over the wire
protocol, Signal sender keys):
- bad input to the group routes: 400 in WAHA's and Wawp's error shapes,
  404 for an unknown session, 422 while the session is not WORKING;
- GET /api/{s}/groups/count is its own route (not groups/{id}) and
  answers WAHA's {"count": N} as groups are created, joined and left;
- session a creates a group with b (POST /api/{s}/groups), both read it
  back (WAHA and Wawp routes, admin flags); a writes twice, b once
  (/api/sendText, /v2/send/text with chatId …@g.us): `message` and
  `message.any` carry from = the group, participant = the sender,
  id = "{fromMe}_{group}_{msgid}_{sender}";
- membership changes: a adds c (c gets a's sender key, b keeps
  skmsg only), c writes, a removes c (c gets nothing more; a's next
  message carries a new sender key), b cannot
  add (403), a promotes b;
- b's phone writes in the group: a gets it, b's session sees its own
  message in message.any only;
- every message reaches each webhook once.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from engine_util import account, create, hooks, link_qr, stack  # noqa: E402
from harness import Receiver, check, run, wait_for  # noqa: E402
from wasim import WaSim  # noqa: E402

A, B, C = "15550001111", "15550002222", "15550003333"


def cus(phone):
    return phone + "@c.us"


def msgs(rx, name, event, body):
    return [e["payload"] for e in hooks(rx, name, event)
            if e["payload"].get("body") == body]


def one(rx, name, event, body, timeout=30):
    """Wait for the payload of `event` with `body` at session `name`."""
    got = wait_for(lambda: msgs(rx, name, event, body), timeout,
                   what="%s %r at %s" % (event, body, name))
    return got[0]


def send(s, session, chat, text):
    st, m, _ = s.api("POST", "/api/sendText",
                     {"session": session, "chatId": chat, "text": text})
    check(st == 201, (st, m))
    return m


def check_group_message(p, gid, sender, text, bare):
    """An incoming group message's WAHA payload."""
    check(p["from"] == gid and p["participant"] == cus(sender)
          and p["fromMe"] is False and p["body"] == text, p)
    check(p["id"] == "false_%s_%s_%s" % (gid, bare, cus(sender)), p)
    check(p["_data"]["key"]["remoteJid"] == gid
          and p["_data"]["key"]["participant"] == cus(sender), p)


def sent_children(sim, phone, bare):
    """First child tags of the message stanzas `phone`'s devices sent with
    id `bare` (wa-sim's stanza log): "participants" when the message
    carried sender key distributions, "enc" for skmsg alone."""
    st, log = sim.ctl("GET", "/stanzas?jid=%s&limit=10000" % phone)
    check(st == 200, log)
    return [x["child"] for x in log["stanzas"] if x["dir"] == "in"
            and x["tag"] == "message" and x.get("id") == bare]


def check_count(s, name, n):
    st, body, _ = s.api("GET", "/api/%s/groups/count" % name)
    check(st == 200 and body == {"count": n}, (name, st, body))


def check_error(st, body, status, text, wawp=False):
    check(st == status, (st, body))
    if wawp:
        check(body["status"] == status and isinstance(body["error"], str)
              and text in str(body["message"]), body)
    else:
        check(body["statusCode"] == status and text in str(body["message"]), body)


def test_group_input_errors():
    with WaSim() as sim, stack(sim) as s:
        st, body, _ = s.api("POST", "/api/sessions", {"name": "idle", "start": False})
        check(st == 201, (st, body))
        ok = {"name": "Team", "participants": [{"id": cus(B)}]}
        # Input first: 400 naming the field, in WAHA's shape
        cases = [
            ({"participants": []}, "name is required"),
            ({"name": "", "participants": []}, "name must be 1 to 100"),
            ({"name": "x" * 101, "participants": []}, "name must be 1 to 100"),
            ({"name": "Team"}, "participants is required"),
            ({"name": "Team", "participants": "15550002222"}, "participants must be an array"),
            ({"name": "Team", "participants": [{"id": "nope"}]}, "participants[0].id"),
            ({"name": "Team", "participants": [{"id": cus(B)}, {"id": "120363000000000001@g.us"}]},
             "participants[1].id"),
            ({"name": "Team", "participants": [{"id": "1555%07d" % i} for i in range(1024)]},
             "at most 1023"),
        ]
        for req, text in cases:
            st, body, _ = s.api("POST", "/api/idle/groups", req)
            check_error(st, body, 400, text)
            check(isinstance(body["message"], list), body)
        st, body, _ = s.api("GET", "/api/idle/groups/15550002222@c.us")
        check_error(st, body, 400, "id must be a group id")
        st, body, _ = s.api("POST", "/api/idle/groups/120363000000000001@g.us/participants/add",
                            {"participants": []})
        check_error(st, body, 400, "participants must not be empty")
        st, body, _ = s.api("GET", "/api/idle/groups?sortBy=name")
        check_error(st, body, 400, "sortBy")
        # Wawp's shape
        st, body, _ = s.api("POST", "/v2/groups?instance_id=idle", {"participants": []})
        check_error(st, body, 400, "name is required", wawp=True)
        st, body, _ = s.api("GET", "/v2/groups/{id}/participants?instance_id=idle")
        check_error(st, body, 400, "id is required", wawp=True)
        # Unknown session, session not WORKING
        st, body, _ = s.api("POST", "/api/nosuch/groups", ok)
        check_error(st, body, 404, "Session not found")
        # groups/count is no group id: the session is looked up
        st, body, _ = s.api("GET", "/api/nosuch/groups/count")
        check_error(st, body, 404, "Session not found")
        st, body, _ = s.api("POST", "/v2/groups?instance_id=nosuch", ok)
        check(st in (401, 404), (st, body))
        for method, path, req in [("POST", "/api/idle/groups", ok),
                                  ("GET", "/api/idle/groups", None),
                                  ("GET", "/api/idle/groups/count", None),
                                  ("GET", "/api/idle/groups/120363000000000001@g.us", None),
                                  ("POST", "/v2/groups?instance_id=idle", ok)]:
            st, body, _ = s.api(method, path, req)
            if path.startswith("/v2/"):
                # Wawp keeps its own error shape
                check(st == 422 and body["error"] == "session_not_ready"
                      and "STOPPED" in body["message"], (method, path, st, body))
            else:
                # WAHA's: {error, session, status, expected}
                check(st == 422 and body == {
                    "error": "Session status is not as expected. Try again later "
                             "or restart the session.",
                    "session": "idle", "status": "STOPPED", "expected": ["WORKING"]},
                    (method, path, st, body))


def test_group_texts():
    with WaSim() as sim, stack(sim) as s, Receiver() as rx:
        account(sim, A, "Alice")
        account(sim, B, "Bob")
        account(sim, C, "Carol")
        for name, phone in (("a", A), ("b", B), ("c", C)):
            create(s, name, rx)
        for name, phone in (("a", A), ("b", B), ("c", C)):
            link_qr(s, sim, name, phone)

        for name in ("a", "b", "c"):
            check_count(s, name, 0)
        # a creates the group with b (and itself and a duplicate in the list)
        st, g, _ = s.api("POST", "/api/a/groups", {
            "name": "Team", "participants": [{"id": "+1 555 000 2222"}, {"id": cus(B)},
                                             {"id": cus(A)}]})
        check(st == 201, (st, g))
        gid = g["id"]
        check(gid.endswith("@g.us") and gid[:-5].isdigit(), g)
        check(g["subject"] == "Team" and g["owner"] == cus(A) and g["size"] == 2
              and g["creation"] > 1600000000, g)
        roles = {p["id"]: p for p in g["participants"]}
        check(set(roles) == {cus(A), cus(B)}, g)
        check(roles[cus(A)]["role"] == "superadmin" and roles[cus(A)]["isSuperAdmin"]
              and roles[cus(A)]["admin"] == "superadmin", roles)
        check(roles[cus(B)]["role"] == "participant" and roles[cus(B)]["admin"] is None
              and roles[cus(B)]["isAdmin"] is False, roles)
        # Both read it back, WAHA and Wawp
        for path in ("/api/a/groups/" + gid, "/api/b/groups/" + gid,
                     "/api/a/groups/" + gid[:-5],
                     "/v2/groups/%s?instance_id=a" % gid):
            st, got, _ = s.api("GET", path)
            check(st == 200 and got["id"] == gid and got["subject"] == "Team"
                  and len(got["participants"]) == 2, (path, st, got))
        st, lst, _ = s.api("GET", "/api/b/groups?exclude=participants")
        check(st == 200 and [x["id"] for x in lst] == [gid]
              and "participants" not in lst[0], (st, lst))
        st, lst, _ = s.api("GET", "/v2/groups?instance_id=a")
        check(st == 200 and [x["id"] for x in lst] == [gid], (st, lst))
        st, parts, _ = s.api("GET", "/v2/groups/{id}/participants?instance_id=a&id=" + gid)
        check(st == 200 and {p["id"] for p in parts} == {cus(A), cus(B)}, (st, parts))
        st, parts, _ = s.api("GET", "/api/a/groups/%s/participants" % gid)
        check(st == 200 and len(parts) == 2, (st, parts))
        check_count(s, "a", 1)
        check_count(s, "b", 1)
        check_count(s, "c", 0)
        st, body, _ = s.api("GET", "/api/a/groups/120363999999999999@g.us")
        check(st in (403, 404), (st, body))

        # a writes twice: sender key distribution first, skmsg after
        m1 = send(s, "a", gid, "hello team")
        m2 = send(s, "a", gid, "second")
        for m, text in ((m1, "hello team"), (m2, "second")):
            bare = m["id"].split("_")[2]
            check(m["id"] == "true_%s_%s_%s" % (gid, bare, cus(A)), m)
            check(m["fromMe"] is True and m["to"] == gid and m["body"] == text
                  and m["participant"] == cus(A), m)
            p = one(rx, "b", "message", text)
            check_group_message(p, gid, A, text, bare)
            one(rx, "b", "message.any", text)
            any_a = one(rx, "a", "message.any", text)
            check(any_a["id"] == m["id"] and any_a["fromMe"] is True
                  and any_a["source"] == "api", any_a)
            check(not msgs(rx, "a", "message", text), "own send in a's message")
        # The key went out with the first message only
        check(sent_children(sim, A, m1["id"].split("_")[2]) == ["participants"],
              sent_children(sim, A, m1["id"].split("_")[2]))
        check(sent_children(sim, A, m2["id"].split("_")[2]) == ["enc"],
              sent_children(sim, A, m2["id"].split("_")[2]))
        # b answers through Wawp
        st, m3, _ = s.api("POST", "/v2/send/text",
                          {"instance_id": "b", "chatId": gid, "message": "hi alice"})
        check(st == 200 and m3["participant"] == cus(B), (st, m3))
        p = one(rx, "a", "message", "hi alice")
        check_group_message(p, gid, B, "hi alice", m3["id"].split("_")[2])
        one(rx, "b", "message.any", "hi alice")

        # b is no admin: cannot add
        st, body, _ = s.api("POST", "/api/b/groups/%s/participants/add" % gid,
                            {"participants": [{"id": cus(C)}]})
        check_error(st, body, 403, "not allowed")
        # a adds c: c gets the key with the next message, b does not need it
        st, res, _ = s.api("POST", "/api/a/groups/%s/participants/add" % gid,
                           {"participants": [{"id": cus(C)}, {"id": "15559999999"}]})
        # WAHA declares 200 (not 201) for participants add/remove/promote/demote
        check(st == 200 and {"id": cus(C), "status": 200} in res
              and {"id": "15559999999@c.us", "status": 404} in res, (st, res))
        check_count(s, "c", 1)
        m4 = send(s, "a", gid, "welcome carol")
        # WAHA: a group ack's participant is the one its id names (here
        # a's own, on the server's ack of a's message)
        acks = wait_for(lambda: [e["payload"] for e in hooks(rx, "a", "message.ack")
                                 if e["payload"]["id"] == m4["id"]], 20,
                        what="message.ack of a's group message")
        check(all(k["participant"] == m4["id"].split("_", 3)[3] for k in acks)
              and m4["id"].endswith("_" + cus(A)), (m4["id"], acks))
        p = one(rx, "c", "message", "welcome carol")
        check_group_message(p, gid, A, "welcome carol", m4["id"].split("_")[2])
        one(rx, "b", "message", "welcome carol")
        check(sent_children(sim, A, m4["id"].split("_")[2]) == ["participants"],
              "no key for c")
        m5 = send(s, "c", gid, "thanks")
        for name in ("a", "b"):
            p = one(rx, name, "message", "thanks")
            check_group_message(p, gid, C, "thanks", m5["id"].split("_")[2])
        # a removes c: c hears nothing more
        st, res, _ = s.api("POST", "/v2/groups/%s/participants/remove?instance_id=a" % gid,
                           {"participants": [{"id": cus(C)}]})
        check(st == 200 and res == [{"id": cus(C), "status": 200}], (st, res))
        check_count(s, "c", 0)
        m6 = send(s, "a", gid, "without carol")
        one(rx, "b", "message", "without carol")
        bare6 = m6["id"].split("_")[2]
        st, log = sim.ctl("GET", "/stanzas?jid=%s&limit=10000" % C)
        check(st == 200, log)
        check(not [x for x in log["stanzas"] if x.get("id") == bare6 and x["dir"] == "out"
                   and x["tag"] == "message"], "c got a message after its removal")
        check(not msgs(rx, "c", "message", "without carol"), "c's webhook")
        # c held a's sender key: a made a new one and gave it to b again
        check(sent_children(sim, A, bare6) == ["participants"],
              "a's first send after the removal carries a new sender key")
        # Wawp: a promotes b and demotes it again
        for action, role in (("promote", "admin"), ("demote", "participant")):
            st, res, _ = s.api("POST", "/v2/groups/%%s/admin/%s?instance_id=a" % action % gid,
                               {"participants": [{"id": cus(B)}]})
            check(st == 200 and res == [{"id": cus(B), "status": 200}], (action, st, res))
            st, got, _ = s.api("GET", "/api/a/groups/" + gid)
            check({p["id"]: p["role"] for p in got["participants"]}[cus(B)] == role,
                  (action, got))
        # a promotes b
        st, res, _ = s.api("POST", "/api/a/groups/%s/admin/promote" % gid,
                           {"participants": [{"id": cus(B)}]})
        check(st == 200 and res == [{"id": cus(B), "status": 200}], (st, res))
        st, got, _ = s.api("GET", "/api/b/groups/" + gid)
        roles = {p["id"]: p["role"] for p in got["participants"]}
        check(roles == {cus(A): "superadmin", cus(B): "admin"}, got)

        # b's phone writes in the group
        st, res = sim.ctl("POST", "/accounts/%s/send" % B, {"to": gid, "text": "from the phone"})
        check(st == 200, (st, res))
        p = one(rx, "a", "message", "from the phone")
        check_group_message(p, gid, B, "from the phone", res["id"])
        own = one(rx, "b", "message.any", "from the phone")
        check(own["fromMe"] is True and own["from"] == cus(B)
              and own["id"] == "true_%s_%s_%s" % (gid, res["id"], cus(B)), own)
        check(not msgs(rx, "b", "message", "from the phone"), "own phone's message")

        # Wawp: a adds c back
        st, res, _ = s.api("POST", "/v2/groups/%s/participants/add?instance_id=a" % gid,
                           {"participants": [{"id": cus(C)}]})
        check(st == 200 and res == [{"id": cus(C), "status": 200}], (st, res))
        st, got, _ = s.api("GET", "/api/a/groups/" + gid)
        check(cus(C) in {p["id"] for p in got["participants"]}, got)

        # Every message once per webhook
        for name in ("a", "b", "c"):
            for event in ("message", "message.any"):
                ids = [e["payload"]["id"] for e in hooks(rx, name, event)]
                check(len(ids) == len(set(ids)), (name, event, ids))
                evs = [e["id"] for e in hooks(rx, name, event)]
                check(len(evs) == len(set(evs)), (name, event, "event ids"))


if __name__ == "__main__":
    run([test_group_input_errors, test_group_texts])
