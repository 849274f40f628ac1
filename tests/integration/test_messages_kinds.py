"""test_messages_kinds - the message kinds and actions through the full
stack: two Wharf sessions linked to wa-sim send each other locations,
contact cards, polls and votes, events, reactions, edits, deletes, pins,
forwards, mentions and quotes, and each side's webhooks are checked field
by field against WAHA's shapes.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Everything real: PostgreSQL, store-service, api-gateway, session-worker,
webhook-dispatcher and wa-sim. One stack for every case.
- a -> b: sendLocation, sendContactVcard (structured and raw), sendPoll,
  events, sendText with mentions and a caller's id, link-custom-preview,
  sendText's own link preview (a local page read by media-service; a
  page on 127.0.0.2, outside MEDIA_FETCH_ALLOW, never requested);
  b sees `message` with location, vCards, poll, event, mentionedIds;
- b quotes a's message: replyTo carries the quoted body;
- b votes on a's poll after a's worker restarted: the secret comes from
  the store, a gets poll.vote with the option's name (and Wawp's
  JSON-in-query forms);
- reactions (and their removal), edits (message.edited, the stored body
  updated), deletes (message.revoked with `before`), pins, forwards,
  GET of one message, new-message-id;
- a simulated phone (wa-sim's send-kind) sends a location, edits, reacts
  to and revokes its text, and votes on its own poll;
- bad input: each a clear 4xx and nothing sent.
"""
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from engine_util import account, link_qr, stack  # noqa: E402
from harness import Receiver, check, run, wait_for  # noqa: E402
from wasim import WaSim  # noqa: E402
from media_util import FileServer  # noqa: E402

A, B, C = "15550001111", "15550002222", "15550003333"  # C: a simulated phone
EVENTS = ["session.status", "message", "message.any", "message.ack",
          "message.reaction", "message.edited", "message.revoked",
          "poll.vote", "poll.vote.failed"]


def create(s, name, rx):
    st, body, _ = s.api("POST", "/api/sessions", {
        "name": name, "start": True,
        "config": {"webhooks": [{"url": rx.url + "/" + name, "events": EVENTS}]}})
    check(st == 201, (st, body))


def hooks(rx, name, event):
    return [e["payload"] for e in rx.events(event) if e.get("session") == name]


def one(rx, name, event, pred, what, timeout=20):
    got = wait_for(lambda: [p for p in hooks(rx, name, event) if pred(p)], timeout,
                   what=what)
    return got[0]


def sent_messages(sim):
    """Message stanzas wa-sim received from a's devices so far."""
    st, body = sim.ctl("GET", "/stanzas?jid=%s&limit=10000" % A)
    check(st == 200, body)
    return [x for x in body["stanzas"] if x["dir"] == "in" and x["tag"] == "message"]


def check_base(p, frm, to, from_me):
    """The WAMessage fields every kind carries."""
    check(p["from"] == frm and p["to"] == to and p["fromMe"] is from_me, p)
    check(isinstance(p["timestamp"], int) and p["timestamp"] > 1600000000, p)
    check(p["hasMedia"] is False and p["media"] is None, p)


PAGE = (b"<html><head><meta property='og:title' content='Kinds page'>"
        b"<meta name='description' content='What a page says'>"
        b"<meta property='og:image' content='/missing.png'></head></html>")
PAGES = FileServer({"/p.html": (PAGE, "text/html")})
REFUSED = FileServer({"/p.html": (PAGE, "text/html")}, host="127.0.0.2")


def test_kinds():
    with WaSim() as sim, stack(sim, MEDIA_FETCH_ALLOW="127.0.0.1") as s, Receiver() as rx:
        for name, phone, push in (("a", A, "Alice"), ("b", B, "Bob")):
            account(sim, phone, push)
            create(s, name, rx)
        account(sim, C, "Carol")
        link_qr(s, sim, "a", A)
        link_qr(s, sim, "b", B)
        a_c, b_c = A + "@c.us", B + "@c.us"

        # -- location a -> b ---------------------------------------------
        st, loc, _ = s.api("POST", "/api/sendLocation",
                           {"session": "a", "chatId": B, "latitude": 52.52,
                            "longitude": 13.405, "title": "Office",
                            "address": "Main St 1"})
        check(st == 201, (st, loc))
        check(loc["id"].startswith("true_%s_" % b_c) and loc["_data"]["type"] == "location",
              loc)
        # WAHA's WALocation: the coordinates as strings
        check(loc["location"] == {"latitude": "52.52", "longitude": "13.405", "live": False,
                                  "name": "Office", "address": "Main St 1"}, loc)
        bare_loc = loc["id"].split("_")[2]
        p = one(rx, "b", "message", lambda p: p["id"].endswith(bare_loc), "location at b")
        check_base(p, a_c, b_c, False)
        check(p["id"] == "false_%s_%s" % (a_c, bare_loc), p)
        check(p["_data"]["type"] == "location" and p["body"] == "", p)
        check(p["location"]["latitude"] == "52.52" and p["location"]["longitude"] == "13.405"
              and p["location"]["name"] == "Office"
              and p["location"]["address"] == "Main St 1"
              and p["location"]["live"] is False, p)

        # -- contacts: structured and raw, two cards ---------------------
        raw = "BEGIN:VCARD\nVERSION:3.0\nFN:Carol Raw\nTEL;waid=15550003333:+1 555 000 3333\nEND:VCARD"
        st, vc, _ = s.api("POST", "/api/sendContactVcard",
                          {"session": "a", "chatId": b_c, "contacts": [
                              {"fullName": "Dan Struct", "organization": "ACME",
                               "phoneNumber": "+1 555 000 4444"},
                              {"vcard": raw}]})
        check(st == 201 and vc["_data"]["type"] == "multi_vcard", (st, vc))
        p = one(rx, "b", "message", lambda p: p["_data"]["type"] == "multi_vcard",
                "vCards at b")
        check(len(p["vCards"]) == 2 and p["vCards"][1] == raw, p)
        check("FN:Dan Struct" in p["vCards"][0] and "ORG:ACME;" in p["vCards"][0]
              and "waid=15550004444:+1 555 000 4444" in p["vCards"][0], p)
        st, vc1, _ = s.api("POST", "/api/sendContactVcard",
                           {"session": "a", "chatId": b_c, "contacts": [{"vcard": raw}]})
        check(st == 201 and vc1["_data"]["type"] == "vcard", (st, vc1))
        p = one(rx, "b", "message", lambda p: p["_data"]["type"] == "vcard", "vcard at b")
        check(p["vCards"] == [raw] and p["body"] == raw, p)

        # -- text with mentions and a caller's id -------------------------
        # (GET /api/{session}/new-message-id gives such ids; the test makes
        # its own: WAHA's schema of that reply is not in the contract extract)
        nid = {"id": "3EB0" + os.urandom(9).hex().upper()}
        st, txt, _ = s.api("POST", "/api/sendText",
                           {"session": "a", "chatId": b_c, "text": "hey @15550002222",
                            "mentions": [b_c], "id": nid["id"]})
        check(st == 201 and txt["id"] == "true_%s_%s" % (b_c, nid["id"]), (st, txt))
        check(txt["mentionedIds"] == [b_c], txt)
        p = one(rx, "b", "message", lambda p: p["id"].endswith(nid["id"]), "mention at b")
        check(p["body"] == "hey @15550002222" and p["mentionedIds"] == [b_c], p)
        text_at_b = p

        # -- b quotes a's text: replyTo carries the body --------------------
        st, rep, _ = s.api("POST", "/api/sendLocation",
                           {"session": "b", "chatId": a_c, "latitude": -33.9,
                            "longitude": 151.2, "reply_to": text_at_b["id"]})
        check(st == 201 and rep["replyTo"]["id"] == nid["id"]
              and rep["replyTo"]["body"] == "hey @15550002222", (st, rep))
        p = one(rx, "a", "message", lambda p: p["_data"]["type"] == "location",
                "quoting location at a")
        check(p["replyTo"]["id"] == nid["id"] and p["replyTo"]["body"] == "hey @15550002222"
              and p["replyTo"]["participant"] == a_c and p["replyTo"]["hasMedia"] is False,
              p)

        # -- poll a -> b, a's worker restarts, b votes ---------------------
        st, poll, _ = s.api("POST", "/api/sendPoll",
                            {"session": "a", "chatId": b_c, "poll": {
                                "name": "Drink?", "options": ["Tea", "Coffee", "Water"],
                                "multipleAnswers": False}})
        check(st == 201 and poll["_data"]["type"] == "poll_creation"
              and poll["poll"] == {"name": "Drink?", "options": ["Tea", "Coffee", "Water"],
                                   "multipleAnswers": False}, (st, poll))
        bare_poll = poll["id"].split("_")[2]
        pb = one(rx, "b", "message", lambda p: p["id"].endswith(bare_poll), "poll at b")
        check(pb["poll"]["options"] == ["Tea", "Coffee", "Water"] and pb["body"] == "Drink?",
              pb)
        w = s.proc("session-worker-0")
        w.stop()
        s.start_worker(1)
        for name in ("a", "b"):
            wait_for(lambda: (lambda r: r[1].get("status") == "WORKING"
                              and r[1].get("assignedWorker") == "worker-1")(
                         s.api("GET", "/api/sessions/" + name)), 40,
                     what="%s WORKING on the new worker" % name)
        # (the new worker may still be logging the sessions in)
        out = [None]

        def cast():
            out[0] = s.api("POST", "/api/sendPollVote",
                           {"session": "b", "chatId": a_c, "pollMessageId": pb["id"],
                            "votes": ["Coffee"]})
            return out[0][0] not in (422, 503)
        wait_for(cast, 30, interval=0.3, what="vote accepted")
        st, vote, _ = out[0]
        check(st == 201, (st, vote))
        v = one(rx, "a", "poll.vote", lambda p: p["poll"]["id"].endswith(bare_poll),
                "poll.vote at a", 30)
        check(v["vote"]["selectedOptions"] == ["Coffee"], v)
        check(v["poll"]["id"] == poll["id"] and v["poll"]["fromMe"] is True
              and v["poll"]["from"] == a_c and v["poll"]["to"] == b_c, v)
        check(v["vote"]["from"] == b_c and v["vote"]["fromMe"] is False
              and v["vote"]["to"] == a_c and v["vote"]["timestamp"] > 1600000000000, v)
        check(v["vote"]["id"].startswith("false_%s_" % b_c), v)
        # Wawp: the votes as JSON text in the query; a multi-answer poll
        st, poll2, _ = s.api("POST", "/v2/send/poll?instance_id=a&chatId=%s&poll=%s" % (
            B, urllib.parse.quote('{"name":"Days?","options":["Mon","Tue"],'
                                  '"multipleAnswers":true}')))
        check(st == 200 and poll2["poll"]["multipleAnswers"] is True, (st, poll2))
        bare2 = poll2["id"].split("_")[2]
        pb2 = one(rx, "b", "message", lambda p: p["id"].endswith(bare2), "poll 2 at b")
        st, vote2, _ = s.api("POST", "/v2/send/poll-vote?instance_id=b&chatId=%s"
                             "&pollMessageId=%s&votes=%s" % (
                                 A, urllib.parse.quote(pb2["id"]),
                                 urllib.parse.quote('["Mon","Tue"]')))
        check(st == 200, (st, vote2))
        v2 = one(rx, "a", "poll.vote", lambda p: p["poll"]["id"].endswith(bare2),
                 "poll.vote 2 at a")
        check(sorted(v2["vote"]["selectedOptions"]) == ["Mon", "Tue"], v2)

        # -- reactions b -> a's location, and removed ----------------------
        st, r, _ = s.api("PUT", "/api/reaction",
                         {"session": "b", "messageId": p_loc_id(bare_loc),
                          "reaction": "\U0001F44D"})
        check(st == 200, (st, r))
        rr = one(rx, "a", "message.reaction", lambda p: p["reaction"]["text"] != "",
                 "reaction at a")
        check(rr["reaction"] == {"text": "\U0001F44D", "messageId": loc["id"]}, rr)
        check(rr["from"] == b_c and rr["to"] == a_c and rr["fromMe"] is False
              and rr["participant"] is None and isinstance(rr["timestamp"], int), rr)
        check(not [m for m in hooks(rx, "a", "message") if m["id"] == rr["id"]],
              "a reaction is no message")
        st, r, _ = s.api("PUT", "/v2/send/reaction",
                         {"instance_id": "b", "chatId": a_c,
                          "messageId": p_loc_id(bare_loc), "reaction": ""})
        check(st == 200, (st, r))
        one(rx, "a", "message.reaction", lambda p: p["reaction"]["text"] == "",
            "reaction removed at a")
        # a sees its own reactions too
        st, r, _ = s.api("PUT", "/api/reaction",
                         {"session": "a", "messageId": rep_id_at_a(rx), "reaction": "!"})
        check(st == 200, (st, r))
        own = one(rx, "a", "message.reaction", lambda p: p["fromMe"], "own reaction")
        check(own["reaction"]["text"] == "!" and own["source"] == "api", own)

        # -- edit a's text: message.edited at b, stored body updated --------
        st, ed, _ = s.api("PUT", "/api/a/chats/%s/messages/%s" % (b_c, txt["id"]),
                          {"text": "hey, edited"})
        check(st == 200 and ed["body"] == "hey, edited", (st, ed))
        e = one(rx, "b", "message.edited", lambda p: True, "message.edited at b")
        check(e["editedMessageId"] == nid["id"] and e["body"] == "hey, edited", e)
        check(e["from"] == a_c and e["to"] == b_c and e["fromMe"] is False, e)

        def stored_body():
            st, m, _ = s.api("GET", "/api/b/chats/%s/messages/%s" % (
                a_c, urllib.parse.quote(text_at_b["id"])))
            return m.get("body") == "hey, edited" and m
        got = wait_for(stored_body, 10, what="edited body stored at b")
        check(got["id"] == text_at_b["id"], got)
        one(rx, "a", "message.edited", lambda p: p["fromMe"], "own edit at a")

        # -- delete a's location for everyone: message.revoked with before --
        st, dl, _ = s.api("DELETE", "/api/a/chats/%s/messages/%s" % (b_c, loc["id"]))
        check(st == 200, (st, dl))
        rv = one(rx, "b", "message.revoked", lambda p: True, "message.revoked at b")
        check(rv["revokedMessageId"] == bare_loc, rv)
        check(rv["before"]["id"] == "false_%s_%s" % (a_c, bare_loc)
              and rv["before"]["location"]["name"] == "Office", rv)
        check(rv["after"]["from"] == a_c and rv["after"]["_data"]["type"] == "revoked", rv)
        own = one(rx, "a", "message.revoked", lambda p: True, "own revoke at a")
        check(own["before"]["id"] == loc["id"], own)

        # -- pin, event, forward, link preview ------------------------------
        st, pn, _ = s.api("POST", "/api/a/chats/%s/messages/%s/pin" % (b_c, txt["id"]),
                          {"duration": 604800})
        check(st == 201 and pn["success"] is True, (st, pn))
        pp = one(rx, "b", "message", lambda p: p["_data"]["type"] == "pin", "pin at b")
        check(pp["pin"] == {"messageId": text_at_b["id"], "type": "PIN",
                            "duration": 604800}, pp)
        st, ev, _ = s.api("POST", "/api/a/events",
                          {"chatId": b_c, "event": {
                              "name": "Launch", "description": "Party",
                              "startTime": 1900000000, "endTime": 1900003600,
                              "location": {"name": "Roof"}, "extraGuestsAllowed": True}})
        check(st == 201 and ev["_data"]["type"] == "event", (st, ev))
        pe = one(rx, "b", "message", lambda p: p["_data"]["type"] == "event", "event at b")
        check(pe["event"]["name"] == "Launch" and pe["event"]["startTime"] == 1900000000
              and pe["event"]["endTime"] == 1900003600
              and pe["event"]["location"] == {"name": "Roof"}
              and pe["event"]["extraGuestsAllowed"] is True, pe)
        st, fw, _ = s.api("POST", "/api/forwardMessage",
                          {"session": "b", "chatId": a_c, "messageId": text_at_b["id"]})
        check(st == 201 and fw["body"] == "hey, edited", (st, fw))
        pf = one(rx, "a", "message", lambda p: p.get("isForwarded"), "forward at a")
        check(pf["body"] == "hey, edited", pf)
        st, lp, _ = s.api("POST", "/api/send/link-custom-preview",
                          {"session": "a", "chatId": b_c,
                           "text": "see https://example.com/x",
                           "preview": {"url": "https://example.com/x", "title": "X",
                                       "description": "About X"}})
        check(st == 201 and lp["linkPreview"]["title"] == "X", (st, lp))
        one(rx, "b", "message", lambda p: p["body"] == "see https://example.com/x",
            "link preview at b")
        # sendText's own preview: media-service reads the local page; a
        # page on a refused address is never asked for
        page = PAGES.base + "/p.html"
        st, lp, _ = s.api("POST", "/api/sendText", {"session": "a", "chatId": b_c,
                                                    "text": "look: %s!" % page})
        check(st == 201 and lp["linkPreview"] == {"url": page, "title": "Kinds page",
                                                  "description": "What a page says"},
              (st, lp))
        # its image is a 404: a preview without a thumbnail
        check(PAGES.hits == ["/p.html", "/missing.png"], PAGES.hits)
        one(rx, "b", "message", lambda p: p["body"] == "look: %s!" % page, "preview at b")
        refused = REFUSED.base + "/p.html"
        st, lp, _ = s.api("POST", "/v2/send/text", {"instance_id": "a", "chatId": b_c,
                                                    "message": refused})
        check(st == 200 and "linkPreview" not in lp and REFUSED.hits == [], (st, lp))
        one(rx, "b", "message", lambda p: p["body"] == refused, "no preview at b")

        # -- bad input: a clear 4xx and nothing sent ------------------------
        before = len(sent_messages(sim))
        bad = [
            ("PUT", "/api/reaction", {"session": "a", "messageId":
                                      "true_%s_3EB0000000000000000000" % b_c,
                                      "reaction": "x"}, 404, "Message not found"),
            ("PUT", "/api/a/chats/%s/messages/%s" % (a_c, rep_id_at_a(rx)),
             {"text": "mine now"}, 400, "only your own messages"),
            ("POST", "/api/sendPoll", {"session": "a", "chatId": b_c,
                                       "poll": {"name": "q", "options": ["one"]}},
             400, "2 to 12"),
            ("POST", "/api/sendPoll", {"session": "a", "chatId": b_c,
                                       "poll": {"name": "q", "options":
                                                [str(i) for i in range(20)]}},
             400, "2 to 12"),
            ("POST", "/api/sendContactVcard",
             {"session": "a", "chatId": b_c,
              "contacts": [{"vcard": "BEGIN:VCARD\nTEL:1\nEND:VCARD"}]}, 400, "no name"),
            ("POST", "/api/sendLocation", {"session": "a", "chatId": b_c,
                                           "latitude": 95, "longitude": 0},
             400, "latitude"),
            ("POST", "/api/sendLocation", {"session": "a", "chatId": b_c,
                                           "latitude": 0, "longitude": 200},
             400, "longitude"),
            ("POST", "/api/sendPollVote", {"session": "a", "chatId": b_c,
                                           "pollMessageId": poll["id"], "votes": ["Beer"]},
             400, "not an option"),
        ]
        for method, path, body, want, text in bad:
            st, out, _ = s.api(method, path, body)
            check(st == want and text in str(out.get("message")), (path, st, out))
        st, out, _ = s.api("GET", "/api/a/chats/%s/messages/nope" % b_c)
        check(st == 404 and "Message not found" in out["message"], (st, out))
        check(len(sent_messages(sim)) == before, "a bad request sent a message")
        # -- a simulated phone drives the incoming cases (wa-sim sim_kinds) --
        c_c = C + "@c.us"

        def phone(body):
            st, out = sim.ctl("POST", "/accounts/%s/send-kind" % C, dict(body, to=A))
            check(st == 200 and out["copies"] >= 1, (st, out))
            return out
        out = phone({"kind": "location", "latitude": 1.25, "longitude": -2.5,
                     "name": "Dock"})
        p = one(rx, "a", "message", lambda p: p["id"].endswith(out["id"]), "phone location")
        check(p["from"] == c_c and p["location"] == {"latitude": "1.25", "longitude": "-2.5",
                                                     "live": False, "name": "Dock"}, p)
        st, t = sim.ctl("POST", "/accounts/%s/send" % C, {"to": A, "text": "phone text"})
        check(st == 200, t)
        tp = one(rx, "a", "message", lambda p: p["id"].endswith(t["id"]), "phone text")
        phone({"kind": "edit", "id": t["id"], "text": "phone text, edited"})
        e = one(rx, "a", "message.edited", lambda p: p["from"] == c_c, "phone edit")
        check(e["editedMessageId"] == t["id"] and e["body"] == "phone text, edited", e)
        phone({"kind": "reaction", "id": t["id"], "fromMe": True, "text": "+"})
        r = one(rx, "a", "message.reaction", lambda p: p["from"] == c_c, "phone reaction")
        check(r["reaction"] == {"text": "+", "messageId": tp["id"]}, r)
        phone({"kind": "revoke", "id": t["id"]})
        rv = one(rx, "a", "message.revoked", lambda p: p["revokedMessageId"] == t["id"],
                 "phone revoke")
        check(rv["before"]["body"] == "phone text, edited" and rv["after"]["from"] == c_c, rv)
        pc = phone({"kind": "poll", "name": "Tea?", "options": ["Yes", "No"]})
        pp = one(rx, "a", "message", lambda p: p["id"].endswith(pc["id"]), "phone poll")
        check(pp["poll"] == {"name": "Tea?", "options": ["Yes", "No"],
                             "multipleAnswers": False}, pp)
        phone({"kind": "vote", "id": pc["id"], "creator": c_c, "secret": pc["secret"],
               "options": ["No"]})
        v = one(rx, "a", "poll.vote", lambda p: p["poll"]["id"] == pp["id"], "phone vote")
        check(v["vote"]["selectedOptions"] == ["No"] and v["vote"]["from"] == c_c
              and v["poll"]["fromMe"] is False, v)
        # Read your writes: a message this session was just told it sent
        # can be read and acted on at once (its row is stored after the
        # 201 is answered; the gateway waits for it instead of a 404)
        for i in range(15):
            st, t, _ = s.api("POST", "/api/sendText", {"session": "a", "chatId": b_c,
                                                       "text": "ryw %d" % i})
            check(st == 201, (st, t))
            st, got, _ = s.api("GET", "/api/a/chats/%s/messages/%s" % (b_c, t["id"]))
            check(st == 200 and got["id"] == t["id"] and got["body"] == "ryw %d" % i,
                  (i, st, got))
            st, r, _ = s.api("PUT", "/api/reaction", {"session": "a", "messageId": t["id"],
                                                      "reaction": "\U0001F44D"})
            check(st == 200, (i, st, r))
        st, r, _ = s.api("PUT", "/api/reaction", {"session": "a", "reaction": "x",
                                                  "messageId": "true_%s_3EB0FFFF0000" % b_c})
        check(st == 404, ("an unknown id of ours is still a 404", st, r))
        # -- Wawp /v2 forms of the message routes (api-surface.md 5.1) -----
        st, t, _ = s.api("POST", "/api/sendText", {"session": "a", "chatId": b_c,
                                                   "text": "v2 route"})
        check(st == 201, (st, t))
        mid, bare = urllib.parse.quote(t["id"]), t["id"].split("_")[2]
        st, got, _ = s.api("GET", "/v2/chats/%s/messages/%s?instance_id=a" % (b_c, mid))
        check(st == 200 and got["id"] == t["id"] and got["body"] == "v2 route", (st, got))
        st, ed, _ = s.api("PUT", "/v2/chats/%s/messages/%s?instance_id=a" % (b_c, mid),
                          {"text": "v2 edited"})
        check(st == 200 and ed["body"] == "v2 edited", (st, ed))
        one(rx, "b", "message.edited", lambda p: p["body"] == "v2 edited", "the /v2 edit at b")
        for op, kind in (("pin", "PIN"), ("unpin", "UNPIN")):
            st, pn, _ = s.api("POST", "/v2/chats/%s/messages/%s/%s?instance_id=a"
                              % (b_c, mid, op), {"duration": 86400} if op == "pin" else None)
            check(st == 201 and pn["success"] is True, (op, st, pn))
            one(rx, "b", "message", lambda p: p["_data"]["type"] == "pin"
                and p["pin"]["type"] == kind and p["pin"]["messageId"].endswith(bare),
                "the /v2 %s at b" % op)
        st, dl, _ = s.api("DELETE", "/v2/chats/%s/messages/%s?instance_id=a" % (b_c, mid))
        check(st == 200, (st, dl))
        one(rx, "b", "message.revoked", lambda p: p["revokedMessageId"] == bare,
            "the /v2 delete at b")
        st, bad, _ = s.api("GET", "/v2/chats/%s/messages/%s" % (b_c, mid))
        check(st == 400 and "instance_id" in str(bad["message"]), (st, bad))
        # -- WAHA's deprecated GET /api/messages and POST /api/sendLinkPreview
        st, old, _ = s.api("GET", "/api/messages?session=a&chatId=%s&limit=5" % b_c)
        st2, new, _ = s.api("GET", "/api/a/chats/%s/messages?limit=5" % b_c)
        check(st == 200 and st2 == 200 and len(old) == 5
              and [m["id"] for m in old] == [m["id"] for m in new], (st, old, new))
        st, bad, _ = s.api("GET", "/api/messages?session=a")
        check(st == 400 and "chatId" in str(bad["message"]), (st, bad))
        st, lp, _ = s.api("POST", "/api/sendLinkPreview",
                          {"session": "a", "chatId": b_c, "url": "https://example.com/old",
                           "title": "Old"})
        check(st == 201 and lp["body"] == "https://example.com/old"
              and lp["linkPreview"]["title"] == "Old", (st, lp))
        one(rx, "b", "message", lambda p: p["body"] == "https://example.com/old",
            "the deprecated link preview at b")
        st, bad, _ = s.api("POST", "/api/sendLinkPreview", {"session": "a", "chatId": b_c})
        check(st == 400 and "url" in str(bad["message"]), (st, bad))

        # Each event reached its webhook once
        for name in ("a", "b"):
            for ev_name in ("message", "message.reaction", "poll.vote"):
                ids = [x["id"] for x in hooks(rx, name, ev_name) if "id" in x]
                check(len(ids) == len(set(ids)), (name, ev_name, ids))


def p_loc_id(bare):
    """b's id of a's location."""
    return "false_%s@c.us_%s" % (A, bare)


def rep_id_at_a(rx):
    """a's id of the location b sent quoting a's text."""
    return [p for p in hooks(rx, "a", "message")
            if p["_data"]["type"] == "location"][0]["id"]


if __name__ == "__main__":
    try:
        run([test_kinds])
    finally:
        PAGES.close()
        REFUSED.close()
