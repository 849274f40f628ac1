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
- Wawp /v2 forms (instance_id, Wawp's field names, JSON text in the
  query where Wawp takes it), each checked in what Baileys decoded:
  /v2/send/text (POST `message`, GET query), /v2/send/image (GET,
  file[url]) and /v2/send/pdf (flat file[data]) with the bytes Baileys
  downloads, /v2/send/location (title, `message` as the address),
  /v2/send/contact (contacts as JSON text), /v2/send/poll (poll as JSON
  text), /v2/send/poll-vote on Baileys' poll (votes as JSON text; the
  vote opens to the option's hash), /v2/send/event (event as JSON
  text), PUT /v2/send/reaction, PUT/DELETE /v2/chats/{chatId}/messages/
  {id} (edit, revoke), POST …/pin and …/unpin, /v2/send/start-typing,
  /v2/send/stop-typing and POST /v2/presence (Baileys' presence.update).
  (/v2/send/star is checked by interop_appstate_baileys, where Baileys
  is a device of Wharf's own account: only it sees a star.)

ctest interop_events_baileys, after interop_npm_setup. Exits 77 (skip)
when npm was unreachable. Loopback only.
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import urllib.parse

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SRC = os.environ.get("WHARF_SOURCE_DIR",
                     os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
sys.path.insert(0, os.path.join(SRC, "tests", "interop"))
from harness import check, wait_for  # noqa: E402
from baileys_util import Interop, b64, unb64  # noqa: E402
from media_util import FileServer, png  # noqa: E402

A = "15550360001"  # Wharf session w
B = "15550360002"  # Baileys
A_JID, B_JID = A + "@s.whatsapp.net", B + "@s.whatsapp.net"
A_C, B_C = A + "@c.us", B + "@c.us"
IMAGE = png(64, 48)
PDF = b"%PDF-1.4\n% a tiny test file\n%%EOF\n"
FILES = FileServer({"/a.png": (IMAGE, "image/png")})
ctx = Interop(A, B, ["*"], extra_hooks=[("w-engine", ["engine.event"])], media=True,
              stack_env={"MEDIA_FETCH_ALLOW": "127.0.0.1"})


def api(method, path, body=None, status=201, **kw):
    st, got, _ = ctx["s"].api(method, path, body, **kw)
    check(st == status, (method, path, st, got))
    return got


def hooked(path, event=None):
    """Envelopes that webhook `path` of session w received."""
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


def q(**kw):
    """A query string; dict and list values as JSON text (Wawp's form)."""
    return urllib.parse.urlencode({k: json.dumps(v) if isinstance(v, (dict, list)) else v
                                   for k, v in kw.items()})


def wawp(method, path, body=None, status=200, **query):
    """A Wawp /v2 call for instance w."""
    return api(method, "%s?%s" % (path, q(instance_id="w", **query)), body, status=status)


def text_of(m):
    msg = m["message"]
    return msg.get("conversation") or msg.get("extendedTextMessage", {}).get("text")


def downloaded(m):
    return unb64(ctx["peer"].fn("downloadMediaMessage", {"$msg": m["key"]["id"]},
                                "buffer", {}, timeout=60))


def test_wawp_sends():
    peer = ctx["peer"]
    # Text: POST with Wawp's `message`, GET with the query
    t = wawp("POST", "/v2/send/text", {"chatId": B_C, "message": "wawp text"})
    check(t["body"] == "wawp text" and t["fromMe"] is True and t["to"] == B_C, t)
    m = baileys_msg(lambda m: m["key"]["id"] == bare(t["id"]), "wawp text")
    check(text_of(m) == "wawp text", m)
    g = wawp("GET", "/v2/send/text", chatId=B, message="wawp get")
    m = baileys_msg(lambda m: m["key"]["id"] == bare(g["id"]), "wawp get text")
    check(text_of(m) == "wawp get", m)
    # Media: GET with flat file[url]; POST with flat file[data]
    im = wawp("GET", "/v2/send/image", chatId=B_C, caption="wawp image",
              **{"file[url]": FILES.base + "/a.png", "file[mimetype]": "image/png"})
    check(im["hasMedia"] is True, im)
    m = baileys_msg(lambda m: m["key"]["id"] == bare(im["id"]), "wawp image")
    check(m["message"]["imageMessage"]["caption"] == "wawp image"
          and m["message"]["imageMessage"]["mimetype"] == "image/png", m["message"])
    check(downloaded(m) == IMAGE, "Baileys decrypts the identical image")
    pdf = wawp("POST", "/v2/send/pdf", {
        "chatId": B_C, "file[data]": base64.b64encode(PDF).decode(),
        "file[mimetype]": "application/pdf", "file[filename]": "wawp.pdf"})
    m = baileys_msg(lambda m: m["key"]["id"] == bare(pdf["id"]), "wawp pdf")
    d = m["message"]["documentMessage"]
    check(d["fileName"] == "wawp.pdf" and d["mimetype"] == "application/pdf", d)
    check(downloaded(m) == PDF, "Baileys decrypts the identical PDF")
    # Location: Wawp's `message` is the address
    loc = wawp("GET", "/v2/send/location", chatId=B_C, latitude="52.52",
               longitude="13.405", title="Gate", message="Pariser Platz")
    m = baileys_msg(lambda m: m["key"]["id"] == bare(loc["id"]), "wawp location")
    lm = m["message"]["locationMessage"]
    check(lm["degreesLatitude"] == 52.52 and lm["degreesLongitude"] == 13.405
          and lm["name"] == "Gate" and lm["address"] == "Pariser Platz", lm)
    # Contacts, poll and event as JSON text in the query
    vc = wawp("POST", "/v2/send/contact", chatId=B_C, contacts=[
        {"fullName": "Wawp Card", "phoneNumber": "+1 555 036 0009"}])
    m = baileys_msg(lambda m: m["key"]["id"] == bare(vc["id"]), "wawp contact")
    cm = m["message"]["contactMessage"]
    check(cm["displayName"] == "Wawp Card" and "FN:Wawp Card" in cm["vcard"]
          and "waid=15550360009" in cm["vcard"], cm)
    poll = wawp("POST", "/v2/send/poll", chatId=B_C, poll={
        "name": "Wawp poll?", "options": ["One", "Two", "Three"], "multipleAnswers": True})
    m = baileys_msg(lambda m: m["key"]["id"] == bare(poll["id"]), "wawp poll")
    pc = m["message"]["pollCreationMessage"]  # multiple answers: version 1
    check(pc["name"] == "Wawp poll?" and [o["optionName"] for o in pc["options"]]
          == ["One", "Two", "Three"] and pc["selectableOptionsCount"] == 0, pc)
    check(len(unb64(m["message"]["messageContextInfo"]["messageSecret"])) == 32, m)
    ev = wawp("POST", "/v2/send/event", chatId=B_C, event={
        "name": "Wawp meetup", "description": "Bring a boat", "startTime": 1900000000,
        "location": {"name": "Pier 3"}})
    m = baileys_msg(lambda m: m["key"]["id"] == bare(ev["id"]), "wawp event")
    em = m["message"]["eventMessage"]
    check(em["name"] == "Wawp meetup" and em["description"] == "Bring a boat"
          and int(em["startTime"]) == 1900000000 and em["location"]["name"] == "Pier 3", em)
    # A vote on Baileys' poll, the votes as JSON text
    sent = peer.sock("sendMessage", A_JID, {"poll": {
        "name": "Boat?", "values": ["Sail", "Motor"], "selectableCount": 1}})
    bp = ctx.wharf_ev("message", lambda p: p["id"].endswith(sent["key"]["id"]), "B's poll")
    wawp("POST", "/v2/send/poll-vote", chatId=B_C, pollMessageId=bp["id"], votes=["Sail"])
    m = baileys_msg(lambda m: "pollUpdateMessage" in m["message"], "wawp vote")
    pu = m["message"]["pollUpdateMessage"]
    check(pu["pollCreationMessageKey"]["id"] == sent["key"]["id"], pu)
    secret = unb64(sent["message"]["messageContextInfo"]["messageSecret"])
    plain = open_vote(pu["vote"], sent["key"]["id"], secret, B_JID, A_JID)
    check(plain == b"\x0a\x20" + hashlib.sha256(b"Sail").digest(), plain)
    ctx["wawp_text"] = t


def test_wawp_actions():
    peer = ctx["peer"]
    t = ctx["wawp_text"]
    tid, mine = t["id"], bare(t["id"])
    path = "/v2/chats/%s/messages/%s" % (B_C, urllib.parse.quote(tid))
    # Reaction, with Wawp's chatId
    r = wawp("PUT", "/v2/send/reaction", {"chatId": B_C, "messageId": tid,
                                          "reaction": "\U0001F6A2"})
    check(isinstance(r, dict), r)
    m = baileys_msg(lambda m: "reactionMessage" in m["message"], "wawp reaction")
    rm = m["message"]["reactionMessage"]
    check(rm["key"]["id"] == mine and rm["text"] == "\U0001F6A2", rm)
    # Edit, pin, unpin, revoke on the /v2 message paths
    ed = wawp("PUT", path, {"text": "wawp edited"})
    check(ed["editedMessageId"] == mine and ed["body"] == "wawp edited", ed)
    m = baileys_msg(lambda m: m["message"].get("protocolMessage", {}).get("type")
                    in (14, "MESSAGE_EDIT"), "wawp edit")
    pm = m["message"]["protocolMessage"]
    check(pm["key"]["id"] == mine and pm["editedMessage"]["conversation"] == "wawp edited",
          pm)
    pin = wawp("POST", path + "/pin", {"duration": 2592000}, status=201)
    check(pin["success"] is True, pin)
    m = baileys_msg(lambda m: m["message"].get("pinInChatMessage", {}).get("type")
                    in (1, "PIN_FOR_ALL"), "wawp pin")
    check(m["message"]["pinInChatMessage"]["key"]["id"] == mine
          and m["message"]["messageContextInfo"]["messageAddOnDurationInSecs"] == 2592000, m)
    unpin = wawp("POST", path + "/unpin", status=201)
    check(unpin["success"] is True, unpin)
    m = baileys_msg(lambda m: m["message"].get("pinInChatMessage", {}).get("type")
                    in (2, "UNPIN_FOR_ALL"), "wawp unpin")
    check(m["message"]["pinInChatMessage"]["key"]["id"] == mine, m)
    wawp("DELETE", path)
    m = baileys_msg(lambda m: m["message"].get("protocolMessage", {}).get("type")
                    in (0, "REVOKE"), "wawp revoke")
    check(m["message"]["protocolMessage"]["key"]["id"] == mine, m)
    # Typing and presence, as Baileys (subscribed) sees them
    peer.sock("presenceSubscribe", A_JID)
    steps = [("/v2/send/start-typing", {"chatId": B_C}, "composing"),
             ("/v2/send/stop-typing", {"chatId": B_C}, "available"),
             ("/v2/presence", {"presence": "typing", "chatId": B_C}, "composing"),
             ("/v2/presence", {"presence": "offline"}, "unavailable"),
             ("/v2/presence", {"presence": "online"}, "available")]
    for p, body, state in steps:
        n = len(baileys_state(A_JID))
        got = wawp("POST", p, body)
        check(got in ({}, {"result": True}), (p, got))
        wait_for(lambda: state in baileys_state(A_JID)[n:], 20,
                 what="baileys sees %s after %s %s" % (state, p, body))


def baileys_state(jid):
    """What Baileys' presence.update events said of jid, in order."""
    user = jid.split("@")[0]
    out = []
    for d in ctx["peer"].evs("presence.update"):
        if d.get("id", "").split("@")[0].split(":")[0] != user:
            continue
        for who, data in (d.get("presences") or {}).items():
            if who.split("@")[0].split(":")[0] == user:
                out.append(data.get("lastKnownPresence"))
    return out


def open_vote(vote, poll_id, secret, creator, voter):
    """The plaintext of a vote (a PollVoteMessage), opened as Baileys'
    decryptPollVote does."""
    sign = poll_id.encode() + creator.encode() + voter.encode() + b"Poll Vote" + b"\x01"
    key = hmac.new(hmac.new(b"\x00" * 32, secret, hashlib.sha256).digest(), sign,
                   hashlib.sha256).digest()
    return AESGCM(key).decrypt(unb64(vote["encIv"]), unb64(vote["encPayload"]),
                               poll_id.encode() + b"\x00" + voter.encode())


try:
    ctx.run([test_message_waiting, test_engine_event, test_event_responses,
             test_wawp_sends, test_wawp_actions])
finally:
    FILES.close()
