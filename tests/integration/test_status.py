"""test_status - status updates (24-hour stories) through the full stack,
with wa-sim as the WhatsApp server.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Everything real (PostgreSQL, the five services, wa-sim over the wire
protocol, its HTTPS media host). Sessions a (Alice), b (Bob) and c
(Carol, config.ignore.status):
- bad input: no text, a backgroundColor that is no colour, an unknown
  font, a group among the contacts, an id with WAHA separators, an
  image status without a file: 400 naming the field; deleting a status
  that does not exist: 404; nothing is sent;
- a's text status to [b, c]: the 201 WAMessage (true_status@broadcast_
  <id>, from a, to status@broadcast), a's message.any and message.ack
  SERVER; b's `message` from status@broadcast with a as the participant,
  field by field; wa-sim relayed it to b's device from status@broadcast
  with a's LID device as participant; c, which ignores status, gets no
  event for it (its later direct message arrives alone);
- without contacts the status goes to the session's contacts (the
  people a has chats with, and its address book: d, a contact a's phone
  named through app state, without a chat): b and d get it; the account's status privacy
  (wa-sim answers <iq xmlns="status"><privacy/>) decides: a whitelist
  [c] sends to c alone (not b), a blacklist [c] to b and not c, an
  empty whitelist is a 422;
- the same lists naming people by LID (wa-sim's addressing "lid"), with
  a held to lid_status (a LID-migrated recipient is reached only at
  devices named by LID): a blacklisted LID leaves out that person's
  …@c.us chat, a whitelisted LID reaches the person's LID devices, and
  contacts given by number do too;
- retry: b's devices get a status whose sender key message is damaged
  (status_garbled); b's retry receipt to status@broadcast makes a
  resend it to b's device alone (participant), and b gets one message;
- new-message-id: a status sent in two batches under one id reaches b
  and c's devices with that id; Wawp's /v2/status/text works the same;
- image, voice (with backgroundColor) and video statuses: b's message
  events carry hasMedia, the type, the mimetype and a media.url serving
  the identical bytes;
- delete: b gets message.revoked for a's status; the revoke's WAMessage
  names it; a (the sender) gets message.revoked too, with the status as
  it was (before) and the revoke (after); c, which ignores status,
  emits nothing for its own status, and can still delete it (201), still
  with no event.
"""
import base64
import json
import os
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from engine_util import account, link_qr, stack  # noqa: E402
from harness import Receiver, check, run, wait_for  # noqa: E402
from media_util import make_files  # noqa: E402
from wasim import WaSim  # noqa: E402

A, B, C, D = "15550051111", "15550052222", "15550053333", "15550054444"
STATUS = "status@broadcast"
EVENTS = ["session.status", "message", "message.any", "message.ack",
          "message.revoked"]
TMP = tempfile.mkdtemp(prefix="wharf-status-")
FILES = make_files(TMP)
CERT = os.path.join(TMP, "media.crt")
ctx = {}


def cus(phone):
    return phone + "@c.us"


def events(name, event):
    return [e["payload"] for e in ctx["rx"].events(event) if e.get("session") == name]


def api(method, path, body=None, status=201, **kw):
    st, got, _ = ctx["s"].api(method, path, body, **kw)
    check(st == status, (method, path, st, got))
    return got


def message(res):
    m = res.get("message", "") if isinstance(res, dict) else ""
    return " ".join(m) if isinstance(m, list) else m


def setup():
    sim = WaSim("--media-cert", CERT).__enter__()
    ctx["sim"] = sim
    s = stack(sim, MEDIA_CA_FILE=CERT).__enter__()
    ctx["s"] = s
    rx = Receiver().__enter__()
    ctx["rx"] = rx
    for name, phone, push, cfg in [("a", A, "Alice", {}), ("b", B, "Bob", {}),
                                   ("c", C, "Carol", {"ignore": {"status": True}}),
                                   ("d", D, "Dave", {})]:
        account(sim, phone, push)
        st, body, _ = s.api("POST", "/api/sessions", {
            "name": name, "start": True,
            "config": dict(cfg, webhooks=[{"url": rx.url + "/" + name,
                                           "events": EVENTS}])})
        check(st == 201, (st, body))
    for name, phone in [("a", A), ("b", B), ("c", C), ("d", D)]:
        link_qr(s, sim, name, phone)
    ctx["a_lid"] = api("GET", "/api/sessions/a/me", status=200).get("lid")


def test_bad_input():
    s = ctx["s"]
    cases = [("text", {"backgroundColor": "#38b42f"}, 400, "text is required"),
             ("text", {"text": "x", "backgroundColor": "green"}, 400,
              "backgroundColor must be a colour"),
             ("text", {"text": "x", "backgroundColor": "#38b42"}, 400,
              "backgroundColor must be a colour"),
             ("text", {"text": "x", "font": 5}, 400, "font must be"),
             ("text", {"text": "x", "contacts": ["120363000000000001@g.us"]}, 400,
              "contacts must be"),
             ("text", {"text": "x", "id": "true_x"}, 400, "id must be a message id"),
             ("image", {"caption": "no file", "contacts": [cus(B)]}, 400, "file"),
             ("voice", {"file": {"url": "http://127.0.0.1:1/a.ogg"},
                        "backgroundColor": "nope"}, 400, "backgroundColor"),
             ("delete", {}, 400, "id is required"),
             ("delete", {"id": "3EB0DOESNOTEXIST00000000", "contacts": [cus(B)]}, 404,
              "Status not found")]
    for kind, body, want, text in cases:
        st, res, _ = s.api("POST", "/api/a/status/" + kind, body)
        check(st == want and text in message(res), (kind, body, st, res))
    st, res, _ = s.api("POST", "/v2/status/text?instance_id=a",
                       {"text": "x", "backgroundColor": "#zzzzzz"})
    check(st == 400 and "backgroundColor" in json.dumps(res), (st, res))


def status_at(name, bare):
    return wait_for(lambda: [p for p in events(name, "message")
                             if p["id"].split("_")[2] == bare], 30,
                    what="status %s at %s" % (bare, name))[0]


def check_received(p, bare, body, wtype):
    """A status from a as session b's `message` payload."""
    check(p["id"] == "false_%s_%s_%s" % (STATUS, bare, cus(A)), p)
    check(p["from"] == STATUS and p["to"] == cus(B) and p["participant"] == cus(A), p)
    check(p["fromMe"] is False and p["body"] == body, p)
    check(isinstance(p["timestamp"], int) and p["timestamp"] > 1600000000, p)
    check(p["_data"]["key"] == {"remoteJid": STATUS, "fromMe": False, "id": bare,
                                "participant": cus(A)}, p)
    check(p["_data"]["type"] == wtype and p["_data"]["pushName"] == "Alice", p)


def test_text_status():
    text = "Open until 8 today"
    got = api("POST", "/api/a/status/text", {
        "text": text, "backgroundColor": "#38b42f", "font": 1,
        "linkPreview": False, "contacts": [cus(B), C]})
    bare = got["id"].split("_")[2]
    check(got["id"] == "true_%s_%s" % (STATUS, bare), got)
    check(got["from"] == cus(A) and got["to"] == STATUS and got["fromMe"] is True, got)
    check(got["body"] == text and got["hasMedia"] is False and got["ack"] == 1, got)
    check(got["_data"]["key"] == {"remoteJid": STATUS, "fromMe": True, "id": bare}, got)
    ctx["text_status"], ctx["text_body"] = bare, text
    # a's own events
    anym = wait_for(lambda: [p for p in events("a", "message.any") if p["id"] == got["id"]],
                    20, what="a's message.any")[0]
    check(anym["to"] == STATUS and anym["body"] == text and anym["source"] == "api", anym)
    ack = wait_for(lambda: [p for p in events("a", "message.ack")
                            if p["id"] == got["id"] and p["ackName"] == "SERVER"],
                   20, what="a's message.ack SERVER")[0]
    check(ack["from"] == STATUS and ack["fromMe"] is True, ack)
    # b's message
    p = status_at("b", bare)
    check_received(p, bare, text, "chat")
    check(p["hasMedia"] is False and p["media"] is None, p)
    # what wa-sim relayed to b's device
    st, log = ctx["sim"].ctl("GET", "/stanzas?jid=%s&limit=10000" % B)
    check(st == 200, log)
    out = [x for x in log["stanzas"] if x["dir"] == "out" and x["tag"] == "message"
           and bare in json.dumps(x)]
    check(out, "wa-sim relayed the status to b")
    # c ignores status: its next direct message arrives, the status never
    d = api("POST", "/api/sendText", {"session": "a", "chatId": cus(C), "text": "hi carol"})
    wait_for(lambda: [p for p in events("c", "message") if p["body"] == "hi carol"], 30,
             what="c's direct message")
    check(not [p for p in events("c", "message") + events("c", "message.any")
               if STATUS in p["id"]], events("c", "message"))
    check(d["to"] == cus(C), d)


def test_default_contacts():
    # a has chats with b (this message) and c: no contacts given reaches b
    api("POST", "/api/sendText", {"session": "a", "chatId": cus(B), "text": "hi bob"})
    wait_for(lambda: [p for p in events("b", "message") if p["body"] == "hi bob"], 30,
             what="b's direct message")
    # d has no chat with a but is in a's address book (a contact the
    # phone named, app state): it gets the status too
    st, res = ctx["sim"].ctl("POST", "/accounts/%s/app-state/actions" % A, {"actions": [
        {"index": ["contact", D + "@s.whatsapp.net"],
         "value": {"fullName": "Dave Phone", "firstName": "Dave"}}]})
    check(st == 200, (st, res))

    def in_book():
        st, body, _ = ctx["s"].api("GET", "/api/a/contacts/all")
        return st == 200 and [c for c in body if c["id"] == cus(D)
                              and c["name"] == "Dave Phone"]
    wait_for(in_book, 30, what="Dave in a's address book")
    got = api("POST", "/api/a/status/text", {"text": "to all my contacts"})
    bare = got["id"].split("_")[2]
    check_received(status_at("b", bare), bare, "to all my contacts", "chat")
    p = status_at("d", bare)
    check(p["participant"] == cus(A) and p["body"] == "to all my contacts", p)


def relayed(phone, bare):
    """Whether wa-sim relayed status `bare` to `phone`'s devices."""
    st, log = ctx["sim"].ctl("GET", "/stanzas?jid=%s&limit=10000" % phone)
    check(st == 200, log)
    return [x for x in log["stanzas"] if x["dir"] == "out" and x["tag"] == "message"
            and bare in json.dumps(x)]


def privacy(kind, users=(), addressing="pn"):
    st, res = ctx["sim"].ctl("PUT", "/accounts/%s/profile" % A,
                             {"statusPrivacy": {"type": kind, "users": list(users),
                                                "addressing": addressing}})
    check(st == 200, (st, res))


def faults(**rules):
    st, res = ctx["sim"].ctl("PUT", "/faults", rules)
    check(st == 200, (st, res))


def test_status_privacy():
    # a's phone shares statuses with c only: no contacts given, the
    # status goes to c (not to b, a contact)
    privacy("whitelist", [C])
    only_c = api("POST", "/api/a/status/text", {"text": "for carol only"})["id"].split("_")[2]
    # ... then with everyone but c: b gets it, c not
    privacy("blacklist", [C])
    not_c = api("POST", "/api/a/status/text", {"text": "not for carol"})["id"].split("_")[2]
    check_received(status_at("b", not_c), not_c, "not for carol", "chat")
    wait_for(lambda: relayed(C, only_c), 30, what="the whitelisted status at c's device")
    check(not relayed(B, only_c), "the whitelisted status reached b")
    check(not relayed(C, not_c), "the blacklisted status reached c")
    # A whitelist of no one: nothing to send to
    privacy("whitelist")
    st, res, _ = ctx["s"].api("POST", "/api/a/status/text", {"text": "to no one"})
    check(st == 422 and "status privacy" in message(res), (st, res))
    privacy("contacts")


def test_status_privacy_lid():
    # a's phone names the people of its lists by LID; a's statuses reach
    # LID-migrated people only at their LID devices (lid_status)
    faults(phone=A, lid_status=True)
    try:
        # a blacklist of c's LID: c's chat (…@c.us) is left out, b (a
        # chat by number) gets it at its LID device
        privacy("blacklist", [C], "lid")
        not_c = api("POST", "/api/a/status/text",
                    {"text": "not for carol (lid)"})["id"].split("_")[2]
        check_received(status_at("b", not_c), not_c, "not for carol (lid)", "chat")
        check(not relayed(C, not_c), "the LID-blacklisted status reached c")
        # a whitelist of c's LID: c's chat by number, reached at c's LID
        # devices (a number device would get nothing)
        privacy("whitelist", [C], "lid")
        only_c = api("POST", "/api/a/status/text",
                     {"text": "carol only (lid)"})["id"].split("_")[2]
        wait_for(lambda: relayed(C, only_c), 30, what="the LID-whitelisted status at c")
        check(not relayed(B, only_c), "the LID-whitelisted status reached b")
        # contacts given by number reach LID devices too
        both = api("POST", "/api/a/status/text",
                   {"text": "by number", "contacts": [cus(B), cus(C)]})["id"].split("_")[2]
        check_received(status_at("b", both), both, "by number", "chat")
    finally:
        faults(phone=A, lid_status=False)
        privacy("contacts")


def test_status_retry():
    # b's devices get a's next status with a damaged sender key message:
    # b asks for a retry (receipt to status@broadcast, participant = a's
    # device), a sends it again to b's device alone, pairwise, and b's
    # `message` arrives
    faults(phone=B, status_garbled=True)
    try:
        got = api("POST", "/api/a/status/text",
                  {"text": "sent twice", "contacts": [cus(B)]})
        bare = got["id"].split("_")[2]
        check_received(status_at("b", bare), bare, "sent twice", "chat")
    finally:
        faults(phone=B, status_garbled=False)
    st, log = ctx["sim"].ctl("GET", "/stanzas?jid=%s&limit=10000" % B)
    check(st == 200, log)
    retries = [x for x in log["stanzas"] if x["dir"] == "in" and x["tag"] == "receipt"
               and x.get("id") == bare and x.get("type") == "retry"]
    check(retries and retries[0].get("to") == STATUS, retries)
    st, log = ctx["sim"].ctl("GET", "/stanzas?jid=%s&limit=10000" % A)
    check(st == 200, log)
    resent = [x for x in log["stanzas"] if x["dir"] == "in" and x["tag"] == "message"
              and x.get("id") == bare and x.get("participant")]
    check(len(resent) == 1 and resent[0].get("to") == STATUS, resent)
    # one message for it at b, not two
    check(len([p for p in events("b", "message") if bare in p["id"]]) == 1,
          "b's messages for the retried status")


def test_batches_and_wawp():
    nid = api("GET", "/api/a/status/new-message-id", status=200)
    check(set(nid) == {"id"} and nid["id"].startswith("3EB0"), nid)
    one = api("POST", "/api/a/status/text",
              {"text": "batched", "id": nid["id"], "contacts": [cus(C)]})
    check(one["id"] == "true_%s_%s" % (STATUS, nid["id"]), one)
    two = api("POST", "/v2/status/text?instance_id=a",
              {"text": "batched", "id": nid["id"], "contacts": json.dumps([cus(B)])},
              status=200)
    check(two["id"] == one["id"], two)
    check_received(status_at("b", nid["id"]), nid["id"], "batched", "chat")


def served(url):
    s = ctx["s"]
    u = urllib.parse.urlparse(url)
    st, raw, _ = s.raw("GET", u.path, headers={"X-Api-Key": s.api_key})
    check(st == 200, (st, url))
    return raw


def test_media_statuses():
    cases = [("image", {"file": {"data": base64.b64encode(FILES["a.jpg"]).decode(),
                                 "mimetype": "image/jpeg"}, "caption": "new shop"},
              "image", "image/jpeg", "new shop", FILES["a.jpg"]),
             ("video", {"file": {"data": base64.b64encode(FILES["a.mp4"]).decode(),
                                 "mimetype": "video/mp4"}, "caption": "tour"},
              "video", "video/mp4", "tour", FILES["a.mp4"])]
    for kind, body, wtype, mimetype, caption, data in cases:
        got = api("POST", "/api/a/status/" + kind, dict(body, contacts=[cus(B)]),
                  timeout=90)
        check(got["hasMedia"] is True and got["to"] == STATUS, got)
        check(got["media"]["mimetype"] == mimetype and got["body"] == caption, got)
        bare = got["id"].split("_")[2]
        p = status_at("b", bare)
        check_received(p, bare, caption, wtype)
        check(p["hasMedia"] is True and p["media"]["mimetype"] == mimetype, p)
        check(served(p["media"]["url"]) == data, "%s status bytes at b" % kind)
    # a voice note made from the WAV, with a background colour
    got = api("POST", "/api/a/status/voice", {
        "file": {"data": base64.b64encode(FILES["a.wav"]).decode(),
                 "mimetype": "audio/wav"}, "convert": True,
        "backgroundColor": "#112233", "contacts": [cus(B)]}, timeout=90)
    check(got["hasMedia"] is True and got["_data"]["type"] == "ptt", got)
    bare = got["id"].split("_")[2]
    p = status_at("b", bare)
    check_received(p, bare, "", "ptt")
    check(p["media"]["mimetype"].startswith("audio/ogg"), p)
    check(served(p["media"]["url"]) == served(got["media"]["url"]),
          "b gets the voice note a stored")


def test_delete():
    bare = ctx["text_status"]
    got = api("POST", "/api/a/status/delete",
              {"id": "true_%s_%s" % (STATUS, bare), "contacts": [cus(B)]})
    check(got["revokedMessageId"] == bare and got["to"] == STATUS, got)
    r = wait_for(lambda: [p for p in events("b", "message.revoked")
                          if p["revokedMessageId"] == bare], 30,
                 what="b's message.revoked")[0]
    check(r["after"]["from"] == STATUS and r["after"]["participant"] == cus(A), r)
    # The sender's own message.revoked: the status as it was, the revoke
    mine = wait_for(lambda: [p for p in events("a", "message.revoked")
                             if p["revokedMessageId"] == bare], 30,
                    what="a's own message.revoked")[0]
    check(mine["before"]["id"] == "true_%s_%s" % (STATUS, bare), mine)
    check(mine["before"]["body"] == ctx["text_body"] and mine["before"]["fromMe"] is True, mine)
    check(mine["after"]["id"] == got["id"] and mine["after"]["fromMe"] is True, mine)
    check(mine["after"]["from"] == cus(A) and mine["after"]["to"] == STATUS, mine)
    check(mine["_data"] == mine["after"]["_data"], mine)
    # c ignores status: its own status gives no event, yet is kept, so it
    # can be deleted (wa-sim relays both to a)
    mine = api("POST", "/api/c/status/text", {"text": "Carol's story", "contacts": [cus(A)]})
    cbare = mine["id"].split("_")[2]
    status_at("a", cbare)

    def deleted():
        st, res, _ = ctx["s"].api("POST", "/api/c/status/delete",
                                  {"id": cbare, "contacts": [cus(A)]})
        return res if st == 201 else None
    res = wait_for(deleted, 20, what="c deletes its own status")
    check(res["revokedMessageId"] == cbare and res["fromMe"] is True, res)
    wait_for(lambda: [p for p in events("a", "message.revoked")
                      if p["revokedMessageId"] == cbare], 30,
             what="a's message.revoked for c's status")
    check(not [e for ev in ("message", "message.any", "message.revoked")
               for e in events("c", ev) if STATUS in json.dumps(e)], "c emitted status events")


try:
    setup()
    run([test_bad_input, test_text_status, test_default_contacts, test_status_privacy,
         test_status_privacy_lid, test_status_retry, test_batches_and_wawp, test_media_statuses, test_delete])
finally:
    for k in ("rx", "s", "sim"):
        if k in ctx:
            ctx[k].__exit__(None, None, None)
