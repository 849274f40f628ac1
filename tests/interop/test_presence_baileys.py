"""test_presence_baileys - presence, chat states and receipts between
Wharf and an unmodified Baileys, through the full stack.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

wa-sim plays WhatsApp; a Wharf session `w` (every service) is account A,
an unmodified Baileys client (wharf_peer.mjs) account B.
- Wharf types, records and pauses (/api/startTyping, /api/startRecording,
  /api/stopTyping, POST /api/w/presence typing): Baileys' presence.update
  says composing, recording, and available for a pause (Baileys' word
  for <paused/>); Wharf goes offline and online
  (POST /api/w/presence): Baileys, subscribed, sees unavailable and
  available;
- Baileys' presence (sendPresenceUpdate unavailable, available,
  composing, recording, paused) reaches Wharf, subscribed through GET
  /api/w/presence/{B}, as presence.update in WAHA's shape, field by
  field (offline with lastSeen, the others with null);
- group receipts: Wharf writes in a group with Baileys; Baileys'
  delivery receipt and readMessages reach Wharf as message.ack.group
  (participant B, the message's id with A as its sender), not as
  message.ack;
- sendSeen without ids: Baileys writes twice, Wharf reads the chat
  (the store's unread messages): Baileys sees both READ.

ctest interop_presence_baileys, after interop_npm_setup. Exits 77 (skip)
when npm was unreachable. Loopback only.
"""
import os
import sys

SRC = os.environ.get("WHARF_SOURCE_DIR",
                     os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
sys.path.insert(0, os.path.join(SRC, "tests", "interop"))
from harness import check, wait_for  # noqa: E402
from baileys_util import Interop  # noqa: E402

A = "15550330001"  # Wharf session w
B = "15550330002"  # Baileys
A_JID, B_JID = A + "@s.whatsapp.net", B + "@s.whatsapp.net"
EVENTS = ["session.status", "message", "message.ack", "message.ack.group",
          "presence.update"]
READ = 4  # Baileys' WebMessageInfo status READ
ctx = Interop(A, B, EVENTS)


def cus(phone):
    return phone + "@c.us"


def api(method, path, body=None, status=200, **kw):
    st, got, _ = ctx["s"].api(method, path, body, **kw)
    check(st == status, (method, path, st, got))
    return got


def wharf(event, pred=lambda p: True):
    return [e["payload"] for e in ctx["rx"].events(event)
            if e.get("session") == "w" and pred(e["payload"])]


def baileys_state(jid):
    """What Baileys' presence.update events said of jid, in order."""
    out = []
    for d in ctx["peer"].evs("presence.update"):
        if d.get("id", "").split("@")[0].split(":")[0] != jid.split("@")[0]:
            continue
        for who, data in (d.get("presences") or {}).items():
            if who.split("@")[0].split(":")[0] == jid.split("@")[0]:
                out.append(data.get("lastKnownPresence"))
    return out


def test_wharf_typing_seen_by_baileys():
    peer = ctx["peer"]
    peer.sock("presenceSubscribe", A_JID)
    # (Baileys reports a <paused/> chat state as "available")
    steps = [("/api/startTyping", {"session": "w", "chatId": cus(B)}, "composing"),
             ("/api/stopTyping", {"session": "w", "chatId": cus(B)}, "available"),
             ("/api/startRecording", {"session": "w", "chatId": cus(B)}, "recording"),
             ("/api/w/presence", {"presence": "typing", "chatId": cus(B)}, "composing"),
             ("/api/w/presence", {"presence": "paused", "chatId": cus(B)}, "available"),
             ("/api/w/presence", {"presence": "offline"}, "unavailable"),
             ("/api/w/presence", {"presence": "online"}, "available")]
    for path, body, state in steps:
        n = len(baileys_state(A_JID))
        got = api("POST", path, body, status=201)
        check(got in ({}, {"result": True}), got)
        wait_for(lambda: state in baileys_state(A_JID)[n:], 20,
                 what="baileys sees %s after %s %s" % (state, path, body))


def check_presence(p, state):
    check(set(p) == {"id", "presences"} and p["id"] == cus(B), p)
    check(len(p["presences"]) == 1, p)
    one = p["presences"][0]
    check(set(one) == {"participant", "lastKnownPresence", "lastSeen"}, one)
    check(one["participant"] == cus(B) and one["lastKnownPresence"] == state, one)
    if state == "offline":
        check(isinstance(one["lastSeen"], int) and one["lastSeen"] > 1600000000, one)
    else:
        check(one["lastSeen"] is None, one)


def test_baileys_presence_reaches_wharf():
    peer = ctx["peer"]
    got = api("GET", "/api/w/presence/%s" % cus(B))
    check(got["id"] == cus(B) and isinstance(got["presences"], list), got)
    mine = lambda p: p["id"] == cus(B)  # noqa: E731
    wait_for(lambda: wharf("presence.update", mine), 20, what="the subscription's answer")
    steps = [("unavailable", None, "offline"), ("available", None, "online"),
             ("composing", A_JID, "typing"), ("recording", A_JID, "recording"),
             ("paused", A_JID, "paused")]
    for kind, to, state in steps:
        n = len(wharf("presence.update", mine))
        if to:
            peer.sock("sendPresenceUpdate", kind, to)
        else:
            peer.sock("sendPresenceUpdate", kind)
        p = wait_for(lambda: [x for x in wharf("presence.update", mine)[n:]
                              if x["presences"][0]["lastKnownPresence"] == state], 20,
                     what="wharf presence.update %s" % state)[0]
        check_presence(p, state)
    last = api("GET", "/api/w/presence")
    check([c for c in last if c["id"] == cus(B)][0]["presences"][0]["lastKnownPresence"]
          == "paused", last)


def test_group_receipts_from_baileys():
    peer = ctx["peer"]
    g = api("POST", "/api/w/groups", {"name": "Receipts", "participants": [{"id": cus(B)}]},
            status=201)
    gid = g["id"]
    m = api("POST", "/api/sendText", {"session": "w", "chatId": gid, "text": "read it"},
            status=201)
    bare = m["id"].split("_")[2]
    up = peer.wait_ev("messages.upsert", lambda d: any(
        x["key"]["id"] == bare for x in d.get("messages", [])), 30, "group text at baileys")
    key = [x["key"] for x in up["messages"] if x["key"]["id"] == bare][0]
    peer.sock("readMessages", [key])
    want = "true_%s_%s_%s" % (gid, bare, cus(A))

    def acks():
        return {p["ackName"]: p for p in wharf("message.ack.group", lambda p: p["id"] == want)}
    got = wait_for(lambda: acks() if {"DEVICE", "READ"} <= set(acks()) else None, 30,
                   what="message.ack.group DEVICE and READ from baileys")
    for name, level in (("DEVICE", 2), ("READ", 3)):
        p = got[name]
        check(set(p) == {"id", "from", "to", "participant", "fromMe", "ack", "ackName",
                         "_data"}, p)
        check(p["from"] == gid and p["to"] == cus(A) and p["participant"] == cus(B)
              and p["fromMe"] is True and p["ack"] == level, p)
    plain = wharf("message.ack", lambda p: p["id"] == want)
    check([p["ackName"] for p in plain] == ["SERVER"], plain)


def test_send_seen_without_ids():
    peer = ctx["peer"]
    keys = []
    for text in ("first unread", "second unread"):
        sent = peer.sock("sendMessage", A_JID, {"text": text})
        keys.append(sent["key"]["id"])
        wait_for(lambda t=text: wharf("message", lambda p: p["body"] == t), 30,
                 what="%r at wharf" % text)
    got = api("POST", "/api/sendSeen", {"session": "w", "chatId": cus(B)}, status=201)
    check(got == {}, got)

    def read():
        return {u["key"]["id"] for u in peer.evs("messages.update") for u in
                (u if isinstance(u, list) else [u])
                if (u.get("update") or {}).get("status") == READ}
    wait_for(lambda: set(keys) <= read(), 30, what="baileys sees both read")
    # Nothing left unread
    again = api("POST", "/api/w/chats/%s/messages/read" % cus(B), status=201)
    check(again == {"ids": []}, again)


ctx.run([test_wharf_typing_seen_by_baileys, test_baileys_presence_reaches_wharf,
         test_group_receipts_from_baileys, test_send_seen_without_ids])
