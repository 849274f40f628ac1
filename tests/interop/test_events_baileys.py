"""test_events_baileys - the events of issue 14 that only wa-sim drove
(message.waiting, engine.event), event responses, and the Wawp /v2
forms of the send routes and message actions, between Wharf and an
unmodified Baileys, through the full stack.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

wa-sim plays WhatsApp; a Wharf session `w` (every service) is account A,
an unmodified Baileys client (wharf_peer.mjs) account B. Session w has
two webhooks: `w` with "*" and `w-engine` with only "engine.event".
- message.waiting: wa-sim damages the next copy of a Baileys message to
  Wharf's device in transit (fault rule garble_dms); Wharf cannot
  decrypt it, emits message.waiting (a WAMessage with the id, no body)
  once, sends a retry receipt; Baileys resends and the real `message`
  arrives under the same id.
- engine.event: a Baileys text gives stanza.in (the <message> stanza,
  raw) and stanza.out (Wharf's receipt for it) on `w-engine` only; "*"
  never carries engine.event.
- event responses in a chat with Baileys: Baileys answers Wharf's event
  (an encEventResponseMessage encrypted here with the event's secret, as
  WhatsApp clients do, relayed by Baileys' relayMessage): event.response
  with the decrypted answer and the event as WAHA's MessageDestination
  (eventCreationKey {id, from, fromMe, to}); an answer encrypted with
  the wrong secret: event.response.failed, eventResponse null.

ctest interop_events_baileys, after interop_npm_setup. Exits 77 (skip)
when npm was unreachable. Loopback only.
"""
import hashlib
import hmac
import os
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SRC = os.environ.get("WHARF_SOURCE_DIR",
                     os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
sys.path.insert(0, os.path.join(SRC, "tests", "interop"))
from harness import check, wait_for  # noqa: E402
from baileys_util import Interop, b64, unb64  # noqa: E402

A = "15550360001"  # Wharf session w
B = "15550360002"  # Baileys
A_JID, B_JID = A + "@s.whatsapp.net", B + "@s.whatsapp.net"
A_C, B_C = A + "@c.us", B + "@c.us"
ctx = Interop(A, B, ["*"], extra_hooks=[("w-engine", ["engine.event"])])


def api(method, path, body=None, status=201, **kw):
    st, got, _ = ctx["s"].api(method, path, body, **kw)
    check(st == status, (method, path, st, got))
    return got


def hooked(path, event=None):
    """Envelopes that webhook `path` of session w received."""
    import json
    out = []
    for r in list(ctx["rx"].requests):
        if r["path"] != "/hook/" + path:
            continue
        e = json.loads(r["body"])
        if event is None or e.get("event") == event:
            out.append(e)
    return out


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


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def test_message_waiting():
    peer, sim = ctx["peer"], ctx["sim"]
    # A session both ways first, so the damaged copy is an ordinary msg
    first = peer.sock("sendMessage", A_JID, {"text": "before"})
    ctx.wharf_ev("message", lambda p: p["id"].endswith(first["key"]["id"]), "before")
    hi = api("POST", "/api/sendText", {"session": "w", "chatId": B_C, "text": "hi B"})
    baileys_msg(lambda m: m["key"]["id"] == bare(hi["id"]), "hi B")
    st, res = sim.ctl("PUT", "/faults", {"phone": A, "garble_dms": 1})
    check(st == 200, (st, res))
    sent = peer.sock("sendMessage", A_JID, {"text": "damaged, then resent"})
    bid = sent["key"]["id"]
    wid = "false_%s_%s" % (B_C, bid)
    w = ctx.wharf_ev("message.waiting", lambda p: p["id"] == wid, "waiting")
    print("message.waiting:", w)
    check(w["from"] == B_C and w["to"] == A_C and w["fromMe"] is False, w)
    check(w["body"] is None and w["hasMedia"] is False and w["participant"] is None, w)
    check(isinstance(w["timestamp"], int) and w["timestamp"] > 1600000000, w)
    check(set(w) == {"id", "timestamp", "from", "fromMe", "to", "participant", "body",
                     "hasMedia", "media", "ack", "ackName", "replyTo", "_data"}, w)
    check(w["media"] is None and w["ack"] == 2 and w["ackName"] == "DEVICE"
          and w["replyTo"] is None, w)
    check(w["_data"] == {"key": {"remoteJid": B_C, "fromMe": False, "id": bid},
                         "messageTimestamp": w["timestamp"], "type": "ciphertext",
                         "pushName": "Baileys B"}, w)
    # Wharf asked Baileys to resend, and the real message came
    st, log = sim.ctl("GET", "/stanzas?jid=%s&limit=10000" % A)
    retries = [x for x in log["stanzas"] if x["dir"] == "in" and x["tag"] == "receipt"
               and x.get("id") == bid and x.get("type") == "retry"]
    check(retries, "no retry receipt for %s" % bid)
    m = ctx.wharf_ev("message", lambda p: p["id"] == wid, "the resent message", timeout=60)
    check(m["body"] == "damaged, then resent" and m["from"] == B_C, m)
    check(len(ctx.wharf_evs("message.waiting", lambda p: p["id"] == wid)) == 1,
          "message.waiting once")
    check(len(ctx.wharf_evs("message", lambda p: p["id"] == wid)) == 1, "message once")
    st, faults = sim.ctl("GET", "/faults")
    check(faults["accounts"][A]["garble_dms"] == 0, faults)


def test_engine_event():
    peer = ctx["peer"]
    sent = peer.sock("sendMessage", A_JID, {"text": "raw please"})
    bid = sent["key"]["id"]
    ctx.wharf_ev("message", lambda p: p["id"].endswith(bid), "raw please")

    def stanza(direction, tag):
        return [e for e in hooked("w-engine", "engine.event")
                if e["payload"]["event"] == direction
                and e["payload"]["data"]["tag"] == tag
                and e["payload"]["data"]["id"] == bid]
    e = wait_for(lambda: stanza("stanza.in", "message"), 30, what="stanza.in message")[0]
    print("engine.event:", e)
    check(e["session"] == "w" and e["event"] == "engine.event", e)
    p = e["payload"]
    check(set(p) == {"event", "data"}, p)
    d = p["data"]
    check(set(d) == {"tag", "id", "type", "from", "to", "node"}, d)
    check(d["type"] == "text" and d["from"].startswith(B + ":")
          and d["from"].endswith("@s.whatsapp.net") and d["to"] is None, d)
    check(d["node"].startswith("<message") and bid in d["node"], d)
    r = wait_for(lambda: stanza("stanza.out", "receipt"), 30, what="stanza.out receipt")[0]
    check(r["payload"]["data"]["node"].startswith("<receipt"), r)
    # The engine hook gets nothing else; "*" never gets engine.event
    check(all(x["event"] == "engine.event" for x in hooked("w-engine")), "only engine.event")
    check(not hooked("w", "engine.event"), "engine.event reached the * hook")
    check(hooked("w", "message"), "the * hook works")


def response_to(eid, secret, responder, creator, response, guests, ts_ms):
    """An encrypted event response (WhatsApp clients' scheme)."""
    sign = (eid.encode() + creator.encode() + responder.encode() + b"Event Response"
            + b"\x01")
    key = hmac.new(hmac.new(b"\x00" * 32, secret, hashlib.sha256).digest(), sign,
                   hashlib.sha256).digest()
    plain = b"\x08" + varint(response) + b"\x10" + varint(ts_ms) + b"\x18" + varint(guests)
    iv = os.urandom(12)
    ct = AESGCM(key).encrypt(iv, plain, eid.encode() + b"\x00" + responder.encode())
    return {"encEventResponseMessage": {
        "eventCreationMessageKey": {"remoteJid": A_JID, "fromMe": False, "id": eid},
        "encPayload": b64(ct), "encIv": b64(iv)}}


def test_event_responses():
    peer = ctx["peer"]
    ev = api("POST", "/api/w/events", {"chatId": B_C, "event": {
        "name": "Harbour tour", "startTime": 1900000000, "extraGuestsAllowed": True}})
    eid = bare(ev["id"])
    m = baileys_msg(lambda m: m["key"]["id"] == eid, "event")
    check(m["message"]["eventMessage"]["name"] == "Harbour tour", m["message"])
    secret = unb64(m["message"]["messageContextInfo"]["messageSecret"])
    # MAYBE (3) with one guest
    sent = peer.sock("relayMessage", A_JID,
                     response_to(eid, secret, B_JID, A_JID, 3, 1, 1800000003000), {})
    er = ctx.wharf_ev("event.response",
                      lambda p: p["eventCreationKey"]["id"] == ev["id"], "event response")
    print("event.response:", er)
    # WAHA's EventResponsePayload: the response's message fields, the
    # event as a MessageDestination, the opened answer
    check(er["eventCreationKey"] == {"id": ev["id"], "from": A_C, "fromMe": True,
                                     "to": B_C}, er)
    check(er["eventResponse"] == {"response": "MAYBE", "timestampMs": 1800000003000,
                                  "extraGuestCount": 1}, er)
    check(er["id"] == "false_%s_%s" % (B_C, sent) and er["from"] == B_C
          and er["to"] == A_C and er["fromMe"] is False and er["participant"] is None, er)
    check(isinstance(er["timestamp"], int) and er["timestamp"] > 1600000000, er)
    check(er["_data"]["key"] == {"remoteJid": B_C, "fromMe": False, "id": sent}
          and er["_data"]["type"] == "event_response", er)
    # The wrong secret: Wharf cannot open it
    bad = peer.sock("relayMessage", A_JID,
                    response_to(eid, os.urandom(32), B_JID, A_JID, 1, 0, 1800000004000),
                    {})
    f = ctx.wharf_ev("event.response.failed",
                     lambda p: p["id"].endswith(bad), "failed response")
    print("event.response.failed:", f)
    check(f["eventResponse"] is None and f["eventCreationKey"] == er["eventCreationKey"], f)
    check(f["id"] == "false_%s_%s" % (B_C, bad) and f["from"] == B_C
          and f["to"] == A_C and f["fromMe"] is False, f)
    check(len(ctx.wharf_evs("event.response")) == 1, "one event.response")


ctx.run([test_message_waiting, test_engine_event, test_event_responses])
