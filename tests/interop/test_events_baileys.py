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
  the wrong secret: event.response.failed, eventResponse null; Baileys'
  own event (an eventMessage) gives `message` with its fields. Likewise
  a vote on Wharf's poll encrypted with the wrong secret:
  poll.vote.failed (no options, the poll as a MessageDestination).
- Wawp /v2 forms (instance_id, Wawp's field names, JSON text in the
  query where Wawp takes it), each checked in what Baileys decoded:
  /v2/send/text (POST `message`, GET query), /v2/send/image (GET,
  file[url]) and /v2/send/pdf (flat file[data]) with the bytes Baileys
  downloads, /v2/send/location (title, `message` as the address),
  /v2/send/contact (contacts as JSON text: one card, then a structured
  card and a raw vCard as a contactsArrayMessage; location with reply_to
  quoting the first text), /v2/send/poll (poll as JSON
  text), /v2/send/poll-vote on Baileys' poll (votes as JSON text; the
  vote opens to the option's hash), /v2/send/event (event as JSON
  text), PUT /v2/send/reaction (and "" removing it), PUT/DELETE /v2/chats/{chatId}/messages/
  {id} (edit, revoke), POST …/pin and …/unpin, /v2/send/start-typing,
  /v2/send/stop-typing and POST /v2/presence (Baileys' presence.update),
  /v2/send/voice (a WAV converted: Baileys gets an Opus ptt) and
  /v2/send/video (flat file[data], the identical bytes), GET
  /v2/chats/{chatId}/messages/{id} of a Baileys message, /v2/send/seen
  with ids and POST /v2/chats/{chatId}/messages/read (Baileys sees READ).
- WAHA's deprecated forms: GET /api/sendText?phone=, POST /api/reply
  (Baileys gets the quote), POST /api/sendLinkPreview (matchedText and
  title), GET /api/messages?chatId= (Baileys' text listed as
  /chats/{id}/messages lists it) and GET /api/checkNumberStatus?phone=
  (Baileys' number exists).
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
import shutil
import sys
import tempfile
import urllib.parse

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SRC = os.environ.get("WHARF_SOURCE_DIR",
                     os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
sys.path.insert(0, os.path.join(SRC, "tests", "interop"))
from harness import check, wait_for  # noqa: E402
from baileys_util import Interop, b64, unb64  # noqa: E402
from media_util import FileServer, ffmpeg, png  # noqa: E402

A = "15550360001"  # Wharf session w
B = "15550360002"  # Baileys
A_JID, B_JID = A + "@s.whatsapp.net", B + "@s.whatsapp.net"
A_C, B_C = A + "@c.us", B + "@c.us"
IMAGE = png(64, 48)
TMP = tempfile.mkdtemp(prefix="wharf-events-baileys-")
ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", os.path.join(TMP, "a.wav"))
ffmpeg("-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:duration=1",
       "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart",
       os.path.join(TMP, "a.mp4"))
with open(os.path.join(TMP, "a.wav"), "rb") as f:
    WAV = f.read()
with open(os.path.join(TMP, "a.mp4"), "rb") as f:
    MP4 = f.read()
READ = 4  # Baileys' WebMessageInfo status READ
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
    # Baileys' own event (relayed as WhatsApp clients build it): a
    # `message` with the event's fields
    bev = peer.sock("relayMessage", A_JID, {
        "eventMessage": {"name": "Regatta", "description": "Sails up",
                         "startTime": 1900000100, "endTime": 1900007300,
                         "location": {"name": "Bay"}, "extraGuestsAllowed": False,
                         "isCanceled": False},
        "messageContextInfo": {"messageSecret": b64(os.urandom(32))}}, {})
    p = ctx.wharf_ev("message", lambda p: p["id"] == "false_%s_%s" % (B_C, bev),
                     "Baileys' event")
    print("event message:", p)
    check(p["_data"]["type"] == "event" and p["from"] == B_C and p["fromMe"] is False, p)
    check(p["event"]["name"] == "Regatta" and p["event"]["description"] == "Sails up"
          and p["event"]["startTime"] == 1900000100 and p["event"]["endTime"] == 1900007300
          and p["event"]["location"] == {"name": "Bay"}
          and p["event"]["extraGuestsAllowed"] is False, p)


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


def test_vote_failed():
    peer = ctx["peer"]
    poll = api("POST", "/api/sendPoll", {"session": "w", "chatId": B_C, "poll": {
        "name": "Tide?", "options": ["High", "Low"], "multipleAnswers": False}})
    pid = bare(poll["id"])
    baileys_msg(lambda m: m["key"]["id"] == pid, "poll")
    # A vote sealed with a secret that is not the poll's
    sign = pid.encode() + A_JID.encode() + B_JID.encode() + b"Poll Vote" + b"\x01"
    key = hmac.new(hmac.new(b"\x00" * 32, os.urandom(32), hashlib.sha256).digest(), sign,
                   hashlib.sha256).digest()
    iv = os.urandom(12)
    ct = AESGCM(key).encrypt(iv, b"\x0a\x20" + hashlib.sha256(b"Low").digest(),
                             pid.encode() + b"\x00" + B_JID.encode())
    vid = peer.sock("relayMessage", A_JID, {"pollUpdateMessage": {
        "pollCreationMessageKey": {"remoteJid": A_JID, "fromMe": False, "id": pid},
        "vote": {"encPayload": b64(ct), "encIv": b64(iv)},
        "senderTimestampMs": 1800000005000}}, {})
    f = ctx.wharf_ev("poll.vote.failed", lambda p: p["poll"]["id"] == poll["id"],
                     "poll.vote.failed")
    print("poll.vote.failed:", f)
    check(set(f) == {"vote", "poll", "_data"}, f)
    check(f["poll"] == {"id": poll["id"], "from": A_C, "fromMe": True, "to": B_C}, f)
    v = f["vote"]
    check(set(v) == {"id", "from", "fromMe", "to", "selectedOptions", "timestamp"}, v)
    check(v["id"] == "false_%s_%s" % (B_C, vid) and v["from"] == B_C and v["to"] == A_C
          and v["fromMe"] is False and v["selectedOptions"] == [], v)
    check(isinstance(v["timestamp"], int) and v["timestamp"] > 1600000000000, v)
    check(not ctx.wharf_evs("poll.vote", lambda p: p["poll"]["id"] == poll["id"]),
          "no poll.vote for it")


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
    # (with reply_to: the quote of the first text, as for every kind)
    im = wawp("GET", "/v2/send/image", chatId=B_C, caption="wawp image", reply_to=t["id"],
              **{"file[url]": FILES.base + "/a.png", "file[mimetype]": "image/png"})
    check(im["hasMedia"] is True and im["replyTo"] == {
        "id": bare(t["id"]), "participant": A_C, "body": "wawp text", "hasMedia": False}, im)
    m = baileys_msg(lambda m: m["key"]["id"] == bare(im["id"]), "wawp image")
    check(m["message"]["imageMessage"]["caption"] == "wawp image"
          and m["message"]["imageMessage"]["mimetype"] == "image/png", m["message"])
    ci = m["message"]["imageMessage"].get("contextInfo", {})
    check(ci.get("stanzaId") == bare(t["id"]) and ci.get("participant") == A_JID
          and ci.get("quotedMessage", {}).get("conversation") == "wawp text", ci)
    check(downloaded(m) == IMAGE, "Baileys decrypts the identical image")
    pdf = wawp("POST", "/v2/send/pdf", {
        "chatId": B_C, "file[data]": base64.b64encode(PDF).decode(),
        "file[mimetype]": "application/pdf", "file[filename]": "wawp.pdf"})
    m = baileys_msg(lambda m: m["key"]["id"] == bare(pdf["id"]), "wawp pdf")
    d = m["message"]["documentMessage"]
    check(d["fileName"] == "wawp.pdf" and d["mimetype"] == "application/pdf", d)
    check(downloaded(m) == PDF, "Baileys decrypts the identical PDF")
    # Location: Wawp's `message` is the address
    # (with reply_to: Baileys sees the quote of the first text)
    loc = wawp("GET", "/v2/send/location", chatId=B_C, latitude="52.52",
               longitude="13.405", title="Gate", message="Pariser Platz", reply_to=t["id"])
    m = baileys_msg(lambda m: m["key"]["id"] == bare(loc["id"]), "wawp location")
    lm = m["message"]["locationMessage"]
    check(lm["degreesLatitude"] == 52.52 and lm["degreesLongitude"] == 13.405
          and lm["name"] == "Gate" and lm["address"] == "Pariser Platz", lm)
    check(lm["contextInfo"]["stanzaId"] == bare(t["id"])
          and lm["contextInfo"]["participant"] == A_JID
          and lm["contextInfo"]["quotedMessage"]["conversation"] == "wawp text", lm)
    # Contacts, poll and event as JSON text in the query
    vc = wawp("POST", "/v2/send/contact", chatId=B_C, contacts=[
        {"fullName": "Wawp Card", "phoneNumber": "+1 555 036 0009"}])
    m = baileys_msg(lambda m: m["key"]["id"] == bare(vc["id"]), "wawp contact")
    cm = m["message"]["contactMessage"]
    check(cm["displayName"] == "Wawp Card" and "FN:Wawp Card" in cm["vcard"]
          and "waid=15550360009" in cm["vcard"], cm)
    raw = "BEGIN:VCARD\nVERSION:3.0\nFN:Raw Card\nTEL:+15550360008\nEND:VCARD"
    vc = wawp("POST", "/v2/send/contact", chatId=B_C, contacts=[
        {"fullName": "Org Card", "organization": "Harbour", "phoneNumber": "+15550360007"},
        {"vcard": raw}])
    m = baileys_msg(lambda m: m["key"]["id"] == bare(vc["id"]), "wawp contacts")
    ca = m["message"]["contactsArrayMessage"]["contacts"]
    check([c["displayName"] for c in ca] == ["Org Card", "Raw Card"], ca)
    check("ORG:Harbour" in ca[0]["vcard"] and "waid=15550360007" in ca[0]["vcard"]
          and ca[1]["vcard"] == raw, ca)
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
    wawp("PUT", "/v2/send/reaction", {"chatId": B_C, "messageId": tid, "reaction": ""})
    m = baileys_msg(lambda m: "reactionMessage" in m["message"]
                    and not m["message"]["reactionMessage"].get("text"), "reaction removed")
    check(m["message"]["reactionMessage"]["key"]["id"] == mine, m)
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


def test_wawp_more():
    peer = ctx["peer"]
    # Voice (converted to Opus) and video, flat file[...] fields
    vo = wawp("POST", "/v2/send/voice", {"chatId": B_C, "convert": True,
                                         "file[data]": base64.b64encode(WAV).decode(),
                                         "file[mimetype]": "audio/wav"})
    m = baileys_msg(lambda m: m["key"]["id"] == bare(vo["id"]), "wawp voice")
    a = m["message"]["audioMessage"]
    check(a["ptt"] is True and a["mimetype"] == "audio/ogg; codecs=opus", a)
    check(downloaded(m)[:4] == b"OggS", "Baileys decrypts an Ogg voice note")
    vi = wawp("POST", "/v2/send/video", {"chatId": B_C, "caption": "wawp video",
                                         "file[data]": base64.b64encode(MP4).decode(),
                                         "file[mimetype]": "video/mp4"})
    m = baileys_msg(lambda m: m["key"]["id"] == bare(vi["id"]), "wawp video")
    v = m["message"]["videoMessage"]
    check(v["caption"] == "wawp video" and v["mimetype"] == "video/mp4", v)
    check(downloaded(m) == MP4, "Baileys decrypts the identical video")
    # Baileys' texts: read one through /v2/send/seen, the other through
    # /v2/chats/{chatId}/messages/read; one read back through /v2
    keys = []
    for text in ("seen by wawp", "read by wawp"):
        sent = peer.sock("sendMessage", A_JID, {"text": text})
        keys.append(sent["key"]["id"])
        ctx.wharf_ev("message", lambda p, k=sent["key"]["id"]: p["id"].endswith(k), text)
    one = wawp("GET", "/v2/chats/%s/messages/%s" % (B_C, urllib.parse.quote(
        "false_%s_%s" % (B_C, keys[0]))))
    check(one["id"] == "false_%s_%s" % (B_C, keys[0]) and one["body"] == "seen by wawp"
          and one["fromMe"] is False and one["from"] == B_C, one)

    def read():
        return {u["key"]["id"] for u in peer.evs("messages.update") for u in
                (u if isinstance(u, list) else [u])
                if (u.get("update") or {}).get("status") == READ}
    got = wawp("POST", "/v2/send/seen", {"chatId": B_C,
                                         "messageIds": ["false_%s_%s" % (B_C, keys[0])]})
    check(isinstance(got, dict), got)
    wait_for(lambda: keys[0] in read(), 30, what="baileys sees the first read")
    got = wawp("POST", "/v2/chats/%s/messages/read" % B_C, status=201)
    # every unread message of the chat (earlier cases' too), not the seen one
    check(set(got) == {"ids"} and "false_%s_%s" % (B_C, keys[1]) in got["ids"]
          and "false_%s_%s" % (B_C, keys[0]) not in got["ids"], got)
    wait_for(lambda: keys[1] in read(), 30, what="baileys sees the second read")


def test_waha_deprecated_forms():
    peer = ctx["peer"]
    g = api("GET", "/api/sendText?" + q(session="w", phone=B, text="old get"), status=200)
    m = baileys_msg(lambda m: m["key"]["id"] == bare(g["id"]), "GET sendText")
    check(text_of(m) == "old get", m)
    sent = peer.sock("sendMessage", A_JID, {"text": "quote me"})
    theirs = ctx.wharf_ev("message", lambda p: p["id"].endswith(sent["key"]["id"]),
                          "quote me")
    r = api("POST", "/api/reply", {"session": "w", "chatId": B_C, "text": "old reply",
                                   "reply_to": theirs["id"]})
    m = baileys_msg(lambda m: m["key"]["id"] == bare(r["id"]), "old reply")
    et = m["message"]["extendedTextMessage"]
    check(et["text"] == "old reply" and et["contextInfo"]["stanzaId"] == sent["key"]["id"]
          and et["contextInfo"]["quotedMessage"]["conversation"] == "quote me", et)
    url = "https://example.com/harbour"
    lp = api("POST", "/api/sendLinkPreview", {"session": "w", "chatId": B_C, "url": url,
                                              "title": "Old preview"})
    m = baileys_msg(lambda m: m["key"]["id"] == bare(lp["id"]), "old link preview")
    et = m["message"]["extendedTextMessage"]
    check(et["text"] == url and et["matchedText"] == url and et["title"] == "Old preview",
          et)
    old = api("GET", "/api/messages?" + q(session="w", chatId=B_C, limit=50), status=200)
    new = api("GET", "/api/w/chats/%s/messages?limit=50" % B_C, status=200)
    check([x["id"] for x in old] == [x["id"] for x in new], (old, new))
    check(theirs["id"] in [x["id"] for x in old], old)
    n = api("GET", "/api/checkNumberStatus?" + q(session="w", phone=B), status=200)
    check(n == {"numberExists": True, "chatId": B_C, "pn": B_C}, n)


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
             test_vote_failed, test_wawp_sends, test_wawp_actions, test_wawp_more,
             test_waha_deprecated_forms])
finally:
    FILES.close()
    shutil.rmtree(TMP, ignore_errors=True)
