"""test_contacts - contacts, the profile and calls through the full stack,
with wa-sim as the WhatsApp server.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Everything real (PostgreSQL, the five services, wa-sim over the wire
protocol, media-service's image handling). One stack for all cases:
- bad input: a malformed phone number, a contact id that is no person, a
  picture that is not an image: each a 400 naming it, and no IQ went to
  wa-sim;
- check-exists (WAHA query form, WAHA session path, Wawp): a registered
  and an unregistered number; answers cached (no second usync); at most
  20 new numbers a minute per session (429 after);
- a simulated phone's about and picture read by Wharf (WAHA and Wawp),
  the picture URL cached until refresh=true;
- the profile: name (presence name at wa-sim), about, picture (a PNG made
  a 640x640 JPEG by media-service; its URL downloads it), delete;
- block: wa-sim records it, the blocked phone's message is not
  delivered, unblock lets the next one through; contact info and
  contacts/all say isBlocked;
- calls: a video call placed through wa-sim gives call.received, POST
  /api/{s}/calls/reject rejects it at wa-sim and gives call.rejected; a
  voice call the phone ends gives call.rejected; an accepted one
  call.accepted; a session whose config says calls.reject rejects at
  once and answers with its text.
"""
import base64
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from engine_util import account, hooks, link_qr, stack  # noqa: E402
from harness import Receiver, check, run, wait_for  # noqa: E402
from media_util import jpeg_size, png  # noqa: E402
from wasim import WaSim  # noqa: E402

A, B, C = "15550004441", "15550004442", "15550004443"
NOBODY = "15550004449"
EVENTS = ["session.status", "message", "message.any", "call.received",
          "call.accepted", "call.rejected"]


def cus(phone):
    return phone + "@c.us"


# A tiny valid JPEG (what a phone would upload as its picture)
TINY_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0a"
    "HBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAA"
    "AAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q==")


def iqs(sim, phone, xmlns):
    """IQs of namespace xmlns that `phone`'s devices sent (stanza log)."""
    st, log = sim.ctl("GET", "/stanzas?jid=%s&limit=10000" % phone)
    check(st == 200, log)
    return [x for x in log["stanzas"] if x["dir"] == "in" and x["tag"] == "iq"
            and x.get("xmlns") == xmlns]


def check_error(st, body, status, text, wawp=False):
    check(st == status, (st, body))
    if wawp:
        check(body["status"] == status and text in str(body["message"]), body)
    else:
        check(body["statusCode"] == status and text in str(body["message"]), body)


def create(s, name, rx, config=None):
    cfg = {"webhooks": [{"url": rx.url + "/" + name, "events": EVENTS}]}
    cfg.update(config or {})
    st, body, _ = s.api("POST", "/api/sessions", {"name": name, "start": True, "config": cfg})
    check(st == 201, (st, body))


def one(rx, name, event, pred, timeout=30):
    got = wait_for(lambda: [e["payload"] for e in hooks(rx, name, event)
                            if pred(e["payload"])], timeout,
                   what="%s at %s" % (event, name))
    return got[0]


def check_call(p, call_id, frm, video):
    """WAHA's CallData, field by field."""
    check(set(p) >= {"id", "from", "timestamp", "isVideo", "isGroup", "_data"}, p)
    check(p["id"] == call_id and p["from"] == cus(frm), p)
    check(isinstance(p["timestamp"], int) and p["timestamp"] > 1600000000, p)
    check(p["isVideo"] is video and p["isGroup"] is False, p)
    check(p["_data"]["callId"] == call_id, p)


def sim_account(sim, phone):
    st, acc = sim.ctl("GET", "/accounts/" + phone)
    check(st == 200, acc)
    return acc


def test_contacts_profile_calls():
    with WaSim() as sim, stack(sim) as s, Receiver() as rx:
        account(sim, A, "Alice")
        account(sim, B, "Bob")
        account(sim, C, "Carol")
        create(s, "a", rx)
        create(s, "b", rx, {"calls": {"reject": True, "message": "no calls please"}})
        link_qr(s, sim, "a", A)
        link_qr(s, sim, "b", B)

        # --- bad input: 400 naming it, nothing sent -------------------------
        usync_before = len(iqs(sim, A, "usync"))
        for path in ("/api/contacts/check-exists?session=a&phone=12ab",
                     "/api/contacts/check-exists?session=a&phone=0123456",
                     "/api/a/contacts/check-exists?phone=%2B1555abc"):
            st, body, _ = s.api("GET", path)
            check_error(st, body, 400, "phone must be")
        st, body, _ = s.api("GET", "/v2/contacts/check-exists?instance_id=a&phone=x")
        check_error(st, body, 400, "phone must be", wawp=True)
        st, body, _ = s.api("GET", "/api/contacts/about?session=a&contactId=120363000000000001@g.us")
        check_error(st, body, 400, "contactId must be")
        check(len(iqs(sim, A, "usync")) == usync_before, "a usync went out")
        pics_before = len(iqs(sim, A, "w:profile:picture"))
        notimg = base64.b64encode(b"this is no image at all").decode()
        st, body, _ = s.api("PUT", "/api/a/profile/picture", {"file": {"data": notimg}})
        check_error(st, body, 400, "not an image")
        st, body, _ = s.api("PUT", "/api/a/profile/picture", {"file": {}})
        check_error(st, body, 400, "either url or data")
        check(len(iqs(sim, A, "w:profile:picture")) == pics_before, "a picture IQ went out")
        st, body, _ = s.api("POST", "/api/a/calls/reject", {"from": "nope", "id": "X"})
        check_error(st, body, 400, "from must be")

        # --- check-exists ---------------------------------------------------
        st, r, _ = s.api("GET", "/api/contacts/check-exists?session=a&phone=%2B" + C)
        check(st == 200 and r == {"numberExists": True, "chatId": cus(C), "pn": cus(C)}, (st, r))
        st, r, _ = s.api("GET", "/api/a/contacts/check-exists?phone=" + NOBODY)
        check(st == 200 and r == {"numberExists": False}, (st, r))
        n = len(iqs(sim, A, "usync"))
        st, r, _ = s.api("GET", "/v2/contacts/check-exists?instance_id=a&phone=" + C)
        check(st == 200 and r == {"numberExists": True, "chatId": cus(C), "pn": cus(C)}, (st, r))
        check(len(iqs(sim, A, "usync")) == n, "the cached answer asked WhatsApp")
        # WAHA's deprecated GET /api/checkNumberStatus?phone=&session= (dropped
        # from its 2026 document, still called by old clients): the same answer
        st, r, _ = s.api("GET", "/api/checkNumberStatus?session=a&phone=" + C)
        check(st == 200 and r == {"numberExists": True, "chatId": cus(C), "pn": cus(C)}, (st, r))
        st, r, _ = s.api("GET", "/api/checkNumberStatus?session=a&phone=12ab")
        check_error(st, r, 400, "phone must be")
        # Rate limit: 20 new numbers a minute per session (2 used)
        for i in range(18):
            st, r, _ = s.api("GET", "/api/b/contacts/check-exists?phone=1555000%04d" % (5000 + i))
            check(st == 200, (i, st, r))
        st, r, _ = s.api("GET", "/api/b/contacts/check-exists?phone=15550006000")
        check(st == 200, (st, r))
        st, r, _ = s.api("GET", "/api/b/contacts/check-exists?phone=15550006001")
        check(st == 200, (st, r))
        st, r, _ = s.api("GET", "/api/b/contacts/check-exists?phone=15550006002")
        check_error(st, r, 429, "too many numbers")
        # a's budget is its own
        st, r, _ = s.api("GET", "/api/a/contacts/check-exists?phone=15550006003")
        check(st == 200, (st, r))

        # --- a phone's about and picture ------------------------------------
        st, acc = sim.ctl("PUT", "/accounts/%s/profile" % C, {
            "about": "Carol's about", "picture": base64.b64encode(TINY_JPEG).decode()})
        check(st == 200 and acc["picture_id"], (st, acc))
        st, r, _ = s.api("GET", "/api/contacts/about?session=a&contactId=" + C)
        check(st == 200 and r == {"id": cus(C), "about": "Carol's about"}, (st, r))
        st, r, _ = s.api("GET", "/api/a/contacts/%s/about" % cus(C))
        check(st == 200 and r["about"] == "Carol's about", (st, r))
        st, r, _ = s.api("GET", "/api/contacts/profile-picture?session=a&contactId=" + cus(C))
        check(st == 200 and r["profilePictureURL"].endswith(acc["picture_path"]), (st, r))
        first = r["profilePictureURL"]
        st, data = sim.http("GET", first)
        check(st == 200 and data == TINY_JPEG, (st, data[:16]))
        # Cached: a new picture is not seen until refresh=true
        st, acc2 = sim.ctl("PUT", "/accounts/%s/profile" % C, {
            "picture": base64.b64encode(TINY_JPEG + b"\0").decode()})
        check(st == 200 and acc2["picture_id"] != acc["picture_id"], acc2)
        st, r, _ = s.api("GET", "/v2/contacts/profile-picture?instance_id=a&contactId=" + C)
        check(st == 200 and r["profilePictureURL"] == first, (st, r))
        st, r, _ = s.api("GET", "/api/a/contacts/%s/profile-picture?refresh=true" % C)
        check(st == 200 and r["profilePictureURL"].endswith(acc2["picture_path"]), (st, r))
        # Nobody's picture: null
        st, r, _ = s.api("GET", "/api/a/contacts/%s/profile-picture" % B)
        check(st == 200 and r == {"profilePictureURL": None}, (st, r))

        # --- the profile ------------------------------------------------------
        st, p, _ = s.api("GET", "/api/a/profile")
        check(st == 200 and p["id"] == cus(A) and p["picture"] is None
              and isinstance(p["name"], str), (st, p))
        st, r, _ = s.api("PUT", "/api/a/profile/name", {"name": "Wharf A"})
        check(st == 200 and r == {"success": True}, (st, r))
        wait_for(lambda: sim_account(sim, A)["push_name"] == "Wharf A", 10,
                 what="presence name at wa-sim")
        st, p, _ = s.api("GET", "/api/a/profile")
        check(st == 200 and p["name"] == "Wharf A", (st, p))
        st, r, _ = s.api("PUT", "/api/a/profile/status", {"status": "Busy here"})
        check(st == 200 and r == {"success": True}, (st, r))
        check(sim_account(sim, A)["about"] == "Busy here", sim_account(sim, A))
        st, r, _ = s.api("GET", "/api/b/contacts/%s/about" % A)
        check(st == 200 and r["about"] == "Busy here", (st, r))
        picture = base64.b64encode(png(300, 200)).decode()
        st, r, _ = s.api("PUT", "/api/a/profile/picture",
                         {"file": {"mimetype": "image/png", "data": picture}})
        check(st == 200 and r == {"success": True}, (st, r))
        acc_a = sim_account(sim, A)
        check(acc_a["picture_id"], acc_a)
        st, p, _ = s.api("GET", "/api/a/profile")
        check(st == 200 and p["picture"].endswith(acc_a["picture_path"]), (st, p))
        st, data = sim.http("GET", p["picture"])
        check(st == 200 and jpeg_size(data) == (640, 640), (st, data[:16]))
        st, r, _ = s.api("GET", "/api/b/contacts/%s/profile-picture" % A)
        check(st == 200 and r["profilePictureURL"] == p["picture"], (st, r))
        st, r, _ = s.api("DELETE", "/api/a/profile/picture")
        check(st == 200 and r == {"success": True}, (st, r))
        check(sim_account(sim, A)["picture_id"] is None, sim_account(sim, A))
        st, p, _ = s.api("GET", "/api/a/profile")
        check(st == 200 and p["picture"] is None, (st, p))
        # Wawp's /v2/profile routes: the same handlers, instance_id
        st, p2, _ = s.api("GET", "/v2/profile?instance_id=a")
        check(st == 200 and p2 == p, (st, p2, p))
        st, r, _ = s.api("PUT", "/v2/profile/name", {"instance_id": "a", "name": "Wawp A"})
        check(st == 200 and r == {"success": True}, (st, r))
        wait_for(lambda: sim_account(sim, A)["push_name"] == "Wawp A", 10,
                 what="Wawp name at wa-sim")
        st, r, _ = s.api("PUT", "/v2/profile/status", {"instance_id": "a", "status": "Wawp about"})
        check(st == 200 and r == {"success": True}, (st, r))
        check(sim_account(sim, A)["about"] == "Wawp about", sim_account(sim, A))
        st, r, _ = s.api("PUT", "/v2/profile/picture",
                         {"instance_id": "a", "file": {"mimetype": "image/png", "data": picture}})
        check(st == 200 and r == {"success": True}, (st, r))
        check(sim_account(sim, A)["picture_id"], sim_account(sim, A))
        st, p2, _ = s.api("GET", "/v2/profile?instance_id=a")
        check(st == 200 and p2["name"] == "Wawp A"
              and p2["picture"].endswith(sim_account(sim, A)["picture_path"]), (st, p2))
        st, r, _ = s.api("DELETE", "/v2/profile/picture?instance_id=a")
        check(st == 200 and r == {"success": True}, (st, r))
        check(sim_account(sim, A)["picture_id"] is None, sim_account(sim, A))
        st, r, _ = s.api("PUT", "/v2/profile/name", {"instance_id": "a", "name": ""})
        check_error(st, r, 400, "name", wawp=True)

        # --- block ------------------------------------------------------------
        st, r, _ = s.api("POST", "/api/contacts/block", {"contactId": C, "session": "a"})
        check(st == 201 and r == {"success": True}, (st, r))
        check(sim_account(sim, A)["blocked"] == [C], sim_account(sim, A))
        st, info, _ = s.api("GET", "/api/contacts?session=a&contactId=" + C)
        check(st == 200 and info["id"] == cus(C) and info["number"] == C
              and info["isBlocked"] is True and info["isWAContact"] is True
              and info["isGroup"] is False and info["isMe"] is False, (st, info))
        st, res = sim.ctl("POST", "/accounts/%s/send" % C, {"to": A, "text": "while blocked"})
        check(st == 200 and res["copies"] == 0, (st, res))
        st, r, _ = s.api("POST", "/api/a/contacts/%s/unblock" % cus(C))
        check(st == 201 and r == {"success": True}, (st, r))
        check(sim_account(sim, A)["blocked"] == [], sim_account(sim, A))
        st, res = sim.ctl("POST", "/accounts/%s/send" % C, {"to": A, "text": "after unblock"})
        check(st == 200 and res["copies"] >= 1, (st, res))
        got = one(rx, "a", "message", lambda p: p.get("body") == "after unblock")
        check(got["from"] == cus(C), got)
        check(not [e for e in hooks(rx, "a", "message")
                   if e["payload"].get("body") == "while blocked"], "blocked message arrived")
        st, info, _ = s.api("GET", "/api/a/contacts/" + cus(C))
        check(st == 200 and info["isBlocked"] is False and info["pushname"] == "Carol",
              (st, info))
        st, lst, _ = s.api("GET", "/api/contacts/all?session=a")
        check(st == 200 and [c["id"] for c in lst] == [cus(C)]
              and lst[0]["isBlocked"] is False, (st, lst))
        st, lst, _ = s.api("GET", "/v2/contacts/all?instance_id=a&limit=1&offset=1")
        check(st == 200 and lst == [], (st, lst))
        # Wawp's block, info and unblock
        st, r, _ = s.api("POST", "/v2/contacts/block", {"instance_id": "a", "contactId": C})
        check(st == 200 and r == {"success": True}, (st, r))
        check(sim_account(sim, A)["blocked"] == [C], sim_account(sim, A))
        st, info, _ = s.api("GET", "/v2/contacts/info?instance_id=a&contactId=" + C)
        check(st == 200 and info["id"] == cus(C) and info["isBlocked"] is True, (st, info))
        st, r, _ = s.api("POST", "/v2/contacts/unblock", {"instance_id": "a", "contactId": C})
        check(st == 200 and r == {"success": True}, (st, r))
        check(sim_account(sim, A)["blocked"] == [], sim_account(sim, A))
        st, info, _ = s.api("GET", "/v2/contacts/info?instance_id=a&contactId=" + C)
        check(st == 200 and info["isBlocked"] is False, (st, info))

        # --- calls --------------------------------------------------------------
        st, call = sim.ctl("POST", "/accounts/%s/calls" % C, {"to": A, "video": True})
        check(st == 200 and call["state"] == "offered", (st, call))
        p = one(rx, "a", "call.received", lambda p: p["id"] == call["id"])
        check_call(p, call["id"], C, True)
        check(p["_data"]["status"] == "offer", p)
        st, r, _ = s.api("POST", "/api/a/calls/reject", {"from": cus(C), "id": call["id"]})
        check(st == 200 and r == {"success": True}, (st, r))
        p = one(rx, "a", "call.rejected", lambda p: p["id"] == call["id"])
        check_call(p, call["id"], C, True)

        def state(cid):
            st, lst = sim.ctl("GET", "/accounts/%s/calls" % C)
            return [c for c in lst["calls"] if c["id"] == cid][0]
        wait_for(lambda: state(call["id"])["state"] == "rejected", 10, what="rejected at wa-sim")
        check(state(call["id"])["rejected_by"].startswith(A + ":"), state(call["id"]))
        # A voice call the caller ends
        st, call2 = sim.ctl("POST", "/accounts/%s/calls" % C, {"to": cus(A)})
        check(st == 200, call2)
        p = one(rx, "a", "call.received", lambda p: p["id"] == call2["id"])
        check_call(p, call2["id"], C, False)
        st, r = sim.ctl("POST", "/accounts/%s/calls/%s/end" % (C, call2["id"]))
        check(st == 200 and r["state"] == "ended", (st, r))
        p = one(rx, "a", "call.rejected", lambda p: p["id"] == call2["id"])
        check_call(p, call2["id"], C, False)
        check(p["_data"]["status"] == "terminate", p)
        # Answered on the phone: call.accepted
        st, call3 = sim.ctl("POST", "/accounts/%s/calls" % C, {"to": A})
        one(rx, "a", "call.received", lambda p: p["id"] == call3["id"])
        st, r = sim.ctl("POST", "/accounts/%s/calls/%s/accept" % (A, call3["id"]))
        check(st == 200 and r["state"] == "accepted", (st, r))
        p = one(rx, "a", "call.accepted", lambda p: p["id"] == call3["id"])
        check_call(p, call3["id"], C, False)
        # b rejects every call by config, with its text
        st, call4 = sim.ctl("POST", "/accounts/%s/calls" % C, {"to": B, "video": True})
        p = one(rx, "b", "call.received", lambda p: p["id"] == call4["id"])
        check_call(p, call4["id"], C, True)
        p = one(rx, "b", "call.rejected", lambda p: p["id"] == call4["id"])
        check(p["_data"]["reason"] == "auto", p)
        wait_for(lambda: state(call4["id"])["state"] == "rejected", 10, what="auto reject")

        # DMs go LID-first: to the caller's LID when b knows it, else
        # to its number
        st, acct = sim.ctl("GET", "/accounts/%s" % C)
        check(st == 200, (st, acct))
        c_lid = (acct.get("lid") or "").split("@")[0]
        to_c = tuple(x for x in (C + "@", C + ":", c_lid + "@", c_lid + ":") if x[0] != "@"
                     and x[0] != ":")

        def replied():
            st, log = sim.ctl("GET", "/stanzas?jid=%s&limit=10000" % B)
            return [x for x in log["stanzas"] if x["dir"] == "in" and x["tag"] == "message"
                    and x.get("to", "").startswith(to_c)]
        wait_for(replied, 20, what="b's text to the caller")
        # Each call event once
        for name in ("a", "b"):
            for ev in ("call.received", "call.rejected", "call.accepted"):
                ids = [e["payload"]["id"] for e in hooks(rx, name, ev)]
                check(len(ids) == len(set(ids)), (name, ev, ids))


if __name__ == "__main__":
    run([test_contacts_profile_calls])
