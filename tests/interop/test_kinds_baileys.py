"""test_kinds_baileys - the message options and actions of issue 14 that
test_messages_baileys leaves out, between Wharf and an unmodified
Baileys, both ways, through the full stack.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

wa-sim plays WhatsApp; a Wharf session `w` (every service) is account A,
an unmodified Baileys client (wharf_peer.mjs) account B.
- Wharf -> Baileys: a text with a caller's `id` (from GET
  …/new-message-id) arrives under that id; `reply_to` quotes Baileys'
  stored text (contextInfo stanzaId, participant, quotedMessage);
  `mentions` become contextInfo.mentionedJid; forwardMessage of Baileys'
  text arrives with isForwarded; a message pin and unpin arrive as
  pinInChatMessage (PIN_FOR_ALL / UNPIN_FOR_ALL, the duration in
  messageContextInfo).
- Baileys -> Wharf: a reply quoting Wharf's text gives `message` with
  replyTo {id, participant, body}; a text mentioning A gives
  mentionedIds; Baileys' pin of Wharf's text gives `message` with
  pin {messageId (Wharf's id), type PIN, duration}.

ctest interop_kinds_baileys, after interop_npm_setup. Exits 77 (skip)
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

A = "15550340001"  # Wharf session w
B = "15550340002"  # Baileys
A_JID, B_JID = A + "@s.whatsapp.net", B + "@s.whatsapp.net"
A_C, B_C = A + "@c.us", B + "@c.us"
EVENTS = ["session.status", "message", "message.any"]
ctx = Interop(A, B, EVENTS)


def api(method, path, body=None, status=201, **kw):
    st, got, _ = ctx["s"].api(method, path, body, **kw)
    check(st == status, (method, path, st, got))
    return got


def baileys_msg(pred, what):
    """The first message Baileys received that pred accepts."""
    def items():
        return [m for d in ctx["peer"].evs("messages.upsert")
                for m in d.get("messages", [])
                if not m["key"].get("fromMe") and m.get("message")]
    return wait_for(lambda: [m for m in items() if pred(m)], 30,
                    what="baileys: %s" % what)[0]


def bare(waha_id):
    return waha_id.split("_")[2]


def context_info(m):
    """contextInfo of Baileys' received text (extendedTextMessage)."""
    return m["message"]["extendedTextMessage"].get("contextInfo", {})


def test_wharf_to_baileys():
    peer = ctx["peer"]
    # Baileys' text, stored by Wharf: what Wharf quotes and forwards
    sent = peer.sock("sendMessage", A_JID, {"text": "original from B"})
    theirs = ctx.wharf_ev("message", lambda p: p["id"].endswith(sent["key"]["id"]),
                          "B's text")
    # A caller's id
    nid = api("GET", "/api/w/new-message-id", status=200)
    check(set(nid) == {"id"} and len(nid["id"]) >= 16, nid)
    t = api("POST", "/api/sendText", {"session": "w", "chatId": B_C, "text": "with my id",
                                      "id": nid["id"]})
    check(t["id"] == "true_%s_%s" % (B_C, nid["id"]), t)
    m = baileys_msg(lambda m: m["key"]["id"] == nid["id"], "text with the caller's id")
    text = m["message"].get("conversation") or m["message"]["extendedTextMessage"]["text"]
    check(text == "with my id", m)
    # reply_to: Baileys sees the quote of its own text
    r = api("POST", "/api/sendText", {"session": "w", "chatId": B_C, "text": "a reply",
                                      "reply_to": theirs["id"]})
    check(r["replyTo"]["id"] == sent["key"]["id"]
          and r["replyTo"]["body"] == "original from B", r)
    m = baileys_msg(lambda m: m["key"]["id"] == bare(r["id"]), "reply")
    ci = context_info(m)
    check(m["message"]["extendedTextMessage"]["text"] == "a reply"
          and ci["stanzaId"] == sent["key"]["id"] and ci["participant"] == B_JID
          and ci["quotedMessage"]["conversation"] == "original from B", m)
    # mentions
    mt = api("POST", "/api/sendText", {"session": "w", "chatId": B_C,
                                       "text": "hi @" + B, "mentions": [B_C]})
    m = baileys_msg(lambda m: m["key"]["id"] == bare(mt["id"]), "mention")
    check(context_info(m)["mentionedJid"] == [B_JID], m)
    # forwardMessage of Baileys' own text
    fw = api("POST", "/api/forwardMessage", {"session": "w", "chatId": B_C,
                                             "messageId": theirs["id"]})
    check(fw["body"] == "original from B" and fw.get("isForwarded") is True, fw)
    m = baileys_msg(lambda m: m["key"]["id"] == bare(fw["id"]), "forward")
    check(m["message"]["extendedTextMessage"]["text"] == "original from B"
          and context_info(m)["isForwarded"] is True, m)
    # Pin and unpin Wharf's reply for everyone
    pin = api("POST", "/api/w/chats/%s/messages/%s/pin" % (B_C, r["id"]),
              {"duration": 604800})
    check(pin["success"] is True, pin)
    m = baileys_msg(lambda m: "pinInChatMessage" in m["message"], "pin")
    pm = m["message"]["pinInChatMessage"]
    check(pm["key"]["id"] == bare(r["id"]) and pm["type"] in (1, "PIN_FOR_ALL"), pm)
    check(m["message"]["messageContextInfo"]["messageAddOnDurationInSecs"] == 604800, m)
    api("POST", "/api/w/chats/%s/messages/%s/unpin" % (B_C, r["id"]))
    m = baileys_msg(lambda m: m["message"].get("pinInChatMessage", {}).get("type")
                    in (2, "UNPIN_FOR_ALL"), "unpin")
    check(m["message"]["pinInChatMessage"]["key"]["id"] == bare(r["id"]), m)
    ctx["wharf_text"] = t


def test_baileys_to_wharf():
    peer = ctx["peer"]
    t = ctx["wharf_text"]
    mine = bare(t["id"])
    # Baileys replies to Wharf's text: replyTo with the quoted body
    sent = peer.sock("sendMessage", A_JID, {"text": "answering you"},
                     {"quoted": {"$msg": mine}})
    p = ctx.wharf_ev("message", lambda p: p["id"].endswith(sent["key"]["id"]), "reply")
    check(p["body"] == "answering you", p)
    check(p["replyTo"]["id"] == mine and p["replyTo"]["participant"] == A_C
          and p["replyTo"]["body"] == "with my id", p)
    # Baileys mentions A
    sent = peer.sock("sendMessage", A_JID, {"text": "hey @" + A, "mentions": [A_JID]})
    p = ctx.wharf_ev("message", lambda p: p["id"].endswith(sent["key"]["id"]), "mention")
    check(p["body"] == "hey @" + A and p["mentionedIds"] == [A_C], p)
    # Baileys pins Wharf's text
    sent = peer.sock("sendMessage", A_JID, {"pin": {"remoteJid": A_JID, "fromMe": False,
                                                    "id": mine},
                                            "type": 1, "time": 86400})
    p = ctx.wharf_ev("message", lambda p: p["id"].endswith(sent["key"]["id"]), "pin")
    check(p["pin"] == {"messageId": t["id"], "type": "PIN", "duration": 86400}, p)


ctx.run([test_wharf_to_baileys, test_baileys_to_wharf])
