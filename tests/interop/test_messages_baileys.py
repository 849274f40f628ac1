"""test_messages_baileys - the message kinds and actions between Wharf and
an unmodified Baileys, both ways, through the full stack.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

wa-sim plays WhatsApp; a Wharf session `w` (every service) is account A,
an unmodified Baileys client (wharf_peer.mjs) account B.
- Wharf -> Baileys: a location, a contact card, a poll (Baileys gets its
  32-byte secret), a reaction, an edit and a revoke of Wharf's text, each
  checked in the protobuf Baileys decoded; Wharf votes on Baileys' poll
  and the vote Baileys receives opens (with the poll's secret and the
  derivation of Baileys' decryptPollVote) to the option's hash.
- In a group: Baileys' reaction to Wharf's text, the edit of its own
  text, its vote on Wharf's poll and its answer to Wharf's event (an
  encEventResponseMessage encrypted here) reach Wharf as
  message.reaction, message.edited, poll.vote and event.response, with
  the group as `from` and Baileys as participant.
- Link previews: sendText with a URL to a local page with Open Graph
  tags gives Baileys an extendedTextMessage with matchedText, title,
  description and the og:image as a JPEG thumbnail; a custom preview's
  image (URL, base64, Wawp's thumbnail) made a thumbnail; linkPreview false,
  a page on a refused address (never fetched) and a page that is not
  HTML each give a text without a preview.
- Baileys -> Wharf: a location, contact cards, a poll, a reaction, an
  edit and a delete, each a WAHA webhook checked field by field; a vote
  on Wharf's poll, encrypted here as WhatsApp clients do and sent by
  Baileys' relayMessage, gives poll.vote with the option's name.

ctest interop_messages_baileys, after interop_npm_setup. Exits 77 (skip)
when npm was unreachable. Loopback only.
"""
import base64
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
from media_util import FileServer, jpeg_size, png  # noqa: E402

A = "15550330001"  # Wharf session w
B = "15550330002"  # Baileys
A_JID, B_JID = A + "@s.whatsapp.net", B + "@s.whatsapp.net"
A_C, B_C = A + "@c.us", B + "@c.us"
EVENTS = ["session.status", "message", "message.any", "message.reaction",
          "message.edited", "message.revoked", "poll.vote", "poll.vote.failed",
          "event.response", "event.response.failed"]
PAGE = ("<!doctype html><html><head><title>Plain title</title>"
        "<meta property=\"og:title\" content=\"Wharf &amp; friends &#x2713;\">"
        "<meta property=\"og:description\" content=\"All about\n the harbour\">"
        "<meta property=\"og:image\" content=\"/img/og.png\">"
        "</head><body><p>hello</p></body></html>").encode()
PAGES = FileServer({"/page.html": (PAGE, "text/html; charset=utf-8"),
                    "/img/og.png": (png(400, 300), "image/png"),
                    "/notes.txt": (b"<title>not html</title>", "text/plain")})
# 127.0.0.2 is loopback, but not on MEDIA_FETCH_ALLOW: refused
PRIVATE = FileServer({"/page.html": (PAGE, "text/html")}, host="127.0.0.2")
ctx = Interop(A, B, EVENTS, stack_env={"MEDIA_FETCH_ALLOW": "127.0.0.1"})


def api(method, path, body=None, status=201):
    st, got, _ = ctx["s"].api(method, path, body)
    check(st == status, (method, path, st, got))
    return got


def wharf_ev(event, pred, what):
    return ctx.wharf_ev(event, pred, what)


def baileys_msg(pred, what):
    """The first message Baileys received (messages.upsert) that pred
    accepts; its `message` field."""
    def items():
        return [m for d in ctx["peer"].evs("messages.upsert")
                for m in d.get("messages", [])
                if not m["key"].get("fromMe") and m.get("message")]
    got = wait_for(lambda: [m for m in items() if pred(m)], 30,
                   what="baileys: %s" % what)
    return got[0]


def bare(waha_id):
    return waha_id.split("_")[2]


def test_wharf_to_baileys():
    peer = ctx["peer"]
    loc = api("POST", "/api/sendLocation", {"session": "w", "chatId": B_C,
                                            "latitude": 48.8584, "longitude": 2.2945,
                                            "title": "Tower", "address": "Paris"})
    m = baileys_msg(lambda m: m["key"]["id"] == bare(loc["id"]), "location")
    lm = m["message"]["locationMessage"]
    check(lm["degreesLatitude"] == 48.8584 and lm["degreesLongitude"] == 2.2945
          and lm["name"] == "Tower" and lm["address"] == "Paris", lm)
    vc = api("POST", "/api/sendContactVcard", {
        "session": "w", "chatId": B_C,
        "contacts": [{"fullName": "Zoe Card", "phoneNumber": "+1 555 033 0009"}]})
    m = baileys_msg(lambda m: m["key"]["id"] == bare(vc["id"]), "contact")
    cm = m["message"]["contactMessage"]
    check(cm["displayName"] == "Zoe Card" and "FN:Zoe Card" in cm["vcard"]
          and "waid=15550330009" in cm["vcard"], cm)
    poll = api("POST", "/api/sendPoll", {"session": "w", "chatId": B_C, "poll": {
        "name": "Lunch?", "options": ["Pizza", "Sushi"], "multipleAnswers": False}})
    m = baileys_msg(lambda m: m["key"]["id"] == bare(poll["id"]), "poll")
    pc = m["message"]["pollCreationMessageV3"]
    check(pc["name"] == "Lunch?" and [o["optionName"] for o in pc["options"]]
          == ["Pizza", "Sushi"] and pc["selectableOptionsCount"] == 1, pc)
    check(len(unb64(m["message"]["messageContextInfo"]["messageSecret"])) == 32, m)
    ctx["wharf_poll"] = poll
    # A text, then its reaction, edit and revoke, each seen by Baileys
    txt = api("POST", "/api/sendText", {"session": "w", "chatId": B_C, "text": "draft"})
    baileys_msg(lambda m: m["key"]["id"] == bare(txt["id"]), "text")
    api("PUT", "/api/reaction", {"session": "w", "messageId": txt["id"],
                                 "reaction": "\u2764"}, status=200)
    m = baileys_msg(lambda m: "reactionMessage" in m["message"], "reaction")
    check(m["message"]["reactionMessage"]["key"]["id"] == bare(txt["id"])
          and m["message"]["reactionMessage"]["text"] == "\u2764", m)
    api("PUT", "/api/w/chats/%s/messages/%s" % (B_C, txt["id"]), {"text": "final"},
        status=200)
    m = baileys_msg(lambda m: m["message"].get("protocolMessage", {}).get("type")
                    in (14, "MESSAGE_EDIT"), "edit")
    pm = m["message"]["protocolMessage"]
    check(pm["key"]["id"] == bare(txt["id"])
          and pm["editedMessage"]["conversation"] == "final", pm)
    api("DELETE", "/api/w/chats/%s/messages/%s" % (B_C, txt["id"]), status=200)
    m = baileys_msg(lambda m: m["message"].get("protocolMessage", {}).get("type")
                    in (0, "REVOKE"), "revoke")
    check(m["message"]["protocolMessage"]["key"]["id"] == bare(txt["id"]), m)
    # Baileys' poll, voted by Wharf; Baileys' decryptPollVote opens it
    sent = peer.sock("sendMessage", A_JID, {"poll": {
        "name": "Color?", "values": ["Red", "Blue"], "selectableCount": 1}})
    bp = wharf_ev("message", lambda p: p["id"].endswith(sent["key"]["id"]), "poll")
    check(bp["poll"] == {"name": "Color?", "options": ["Red", "Blue"],
                         "multipleAnswers": False} and bp["_data"]["type"] == "poll_creation",
          bp)
    api("POST", "/api/sendPollVote", {"session": "w", "chatId": B_C,
                                      "pollMessageId": bp["id"], "votes": ["Blue"]})
    m = baileys_msg(lambda m: "pollUpdateMessage" in m["message"], "vote")
    pu = m["message"]["pollUpdateMessage"]
    check(pu["pollCreationMessageKey"]["id"] == sent["key"]["id"], pu)
    secret = sent["message"]["messageContextInfo"]["messageSecret"]
    # Opened with the derivation Baileys' decryptPollVote implements
    # (process-message.js): the option's hash comes out
    plain = open_vote(pu["vote"], sent["key"]["id"], unb64(secret), B_JID, A_JID)
    check(plain == b"\x0a\x20" + hashlib.sha256(b"Blue").digest(), plain)
    # Wharf reports its own vote with the option's name
    v = wharf_ev("poll.vote", lambda p: p["vote"]["fromMe"], "own vote")
    check(v["vote"]["selectedOptions"] == ["Blue"] and v["poll"]["fromMe"] is False
          and v["poll"]["id"] == bp["id"], v)


def test_link_preview():
    # The page of the text's first URL: og tags, its image made a JPEG
    # thumbnail; Baileys gets them in the extendedTextMessage
    url = PAGES.base + "/page.html"
    text = "Read %s, then reply." % url
    got = api("POST", "/api/sendText", {"session": "w", "chatId": B_C, "text": text})
    check(got["body"] == text and got["linkPreview"] == {
        "url": url, "title": "Wharf & friends ✓",
        "description": "All about the harbour"}, got)
    check(PAGES.hits.count("/page.html") == 1 and PAGES.hits.count("/img/og.png") == 1,
          PAGES.hits)
    m = baileys_msg(lambda m: m["key"]["id"] == bare(got["id"]), "preview")
    et = m["message"]["extendedTextMessage"]
    check(et["text"] == text and et["matchedText"] == url
          and et["title"] == "Wharf & friends ✓"
          and et["description"] == "All about the harbour", et)
    thumb = unb64(et["jpegThumbnail"])
    check(jpeg_size(thumb) == (192, 144), jpeg_size(thumb))
    # A custom preview's image (a URL, or base64), made a thumbnail
    for image in ({"url": PAGES.base + "/img/og.png"},
                  {"data": base64.b64encode(png(100, 200)).decode()}):
        got = api("POST", "/api/send/link-custom-preview", {
            "session": "w", "chatId": B_C, "text": "custom " + url,
            "preview": {"url": url, "title": "Custom", "image": image}})
        check(got["linkPreview"] == {"url": url, "title": "Custom"}, got)
        m = baileys_msg(lambda m: m["key"]["id"] == bare(got["id"]), "custom preview")
        et = m["message"]["extendedTextMessage"]
        check(et["title"] == "Custom" and et["matchedText"] == url, et)
        check(jpeg_size(unb64(et["jpegThumbnail"])) == ((192, 144) if "url" in image
                                                         else (96, 192)), et)
    got = api("POST", "/v2/send/link-preview", {
        "instance_id": "w", "chatId": B_C, "text": "wawp " + url, "url": url,
        "title": "Wawp", "thumbnail": PAGES.base + "/img/og.png"}, status=200)
    m = baileys_msg(lambda m: m["key"]["id"] == bare(got["id"]), "wawp preview")
    check(jpeg_size(unb64(m["message"]["extendedTextMessage"]["jpegThumbnail"]))
          == (192, 144), m["message"])
    # linkPreview false: a plain text, nothing fetched
    n = len(PAGES.hits)
    got = api("POST", "/api/sendText", {"session": "w", "chatId": B_C,
                                        "text": "no preview " + url, "linkPreview": False})
    m = baileys_msg(lambda m: m["key"]["id"] == bare(got["id"]), "no preview")
    check(m["message"].get("conversation") == "no preview " + url, m["message"])
    check("linkPreview" not in got and len(PAGES.hits) == n, (got, PAGES.hits))
    # A page on an address the policy refuses is not fetched: the text
    # goes all the same, without a preview
    private = PRIVATE.base + "/page.html"
    got = api("POST", "/api/sendText", {"session": "w", "chatId": B_C,
                                        "text": "private " + private})
    m = baileys_msg(lambda m: m["key"]["id"] == bare(got["id"]), "private link")
    check(m["message"].get("conversation") == "private " + private, m["message"])
    check("linkPreview" not in got and PRIVATE.hits == [], (got, PRIVATE.hits))
    # A page that is not HTML: no preview either
    got = api("POST", "/v2/send/text", {"instance_id": "w", "chatId": B_C,
                                        "message": "see %s/notes.txt" % PAGES.base},
              status=200)
    m = baileys_msg(lambda m: m["key"]["id"] == bare(got["id"]), "text link")
    check("linkPreview" not in got and "/notes.txt" in PAGES.hits, (got, PAGES.hits))


def open_vote(vote, poll_id, secret, creator, voter):
    """The plaintext of a vote (a PollVoteMessage)."""
    sign = poll_id.encode() + creator.encode() + voter.encode() + b"Poll Vote" + b"\x01"
    key0 = hmac.new(b"\x00" * 32, secret, hashlib.sha256).digest()
    key = hmac.new(key0, sign, hashlib.sha256).digest()
    return AESGCM(key).decrypt(unb64(vote["encIv"]), unb64(vote["encPayload"]),
                               poll_id.encode() + b"\x00" + voter.encode())


def vote_for(poll_id, secret, creator, voter, options):
    """A pollUpdateMessage as WhatsApp clients build it."""
    sign = poll_id.encode() + creator.encode() + voter.encode() + b"Poll Vote" + b"\x01"
    key0 = hmac.new(b"\x00" * 32, secret, hashlib.sha256).digest()
    key = hmac.new(key0, sign, hashlib.sha256).digest()
    plain = b"".join(b"\x0a\x20" + hashlib.sha256(o.encode()).digest() for o in options)
    iv = os.urandom(12)
    ct = AESGCM(key).encrypt(iv, plain, poll_id.encode() + b"\x00" + voter.encode())
    return {"encPayload": b64(ct), "encIv": b64(iv)}


def test_baileys_to_wharf():
    peer = ctx["peer"]
    sent = peer.sock("sendMessage", A_JID, {"location": {
        "degreesLatitude": -33.8568, "degreesLongitude": 151.2153, "name": "Opera"}})
    p = wharf_ev("message", lambda p: p["id"].endswith(sent["key"]["id"]), "location")
    check(p["id"] == "false_%s_%s" % (B_C, sent["key"]["id"]) and p["from"] == B_C
          and p["to"] == A_C and p["fromMe"] is False and p["_data"]["type"] == "location", p)
    check(p["location"] == {"latitude": "-33.8568", "longitude": "151.2153",
                            "live": False, "name": "Opera"}, p)
    cards = ["BEGIN:VCARD\nVERSION:3.0\nFN:One\nEND:VCARD",
             "BEGIN:VCARD\nVERSION:3.0\nFN:Two\nEND:VCARD"]
    sent = peer.sock("sendMessage", A_JID, {"contacts": {
        "displayName": "2 contacts", "contacts": [{"vcard": c} for c in cards]}})
    p = wharf_ev("message", lambda p: p["id"].endswith(sent["key"]["id"]), "vcards")
    check(p["vCards"] == cards and p["_data"]["type"] == "multi_vcard", p)
    # Baileys reacts to, edits and deletes its text
    txt = peer.sock("sendMessage", A_JID, {"text": "typo"})
    tp = wharf_ev("message", lambda p: p["id"].endswith(txt["key"]["id"]), "text")
    peer.sock("sendMessage", A_JID, {"react": {"text": "\U0001F525", "key": txt["key"]}})
    r = wharf_ev("message.reaction", lambda p: p["reaction"]["text"] == "\U0001F525",
                 "reaction")
    check(r["reaction"]["messageId"] == tp["id"] and r["from"] == B_C and r["to"] == A_C
          and r["fromMe"] is False, r)
    peer.sock("sendMessage", A_JID, {"text": "typo fixed", "edit": txt["key"]})
    e = wharf_ev("message.edited", lambda p: not p["fromMe"], "edit")
    check(e["editedMessageId"] == txt["key"]["id"] and e["body"] == "typo fixed"
          and e["from"] == B_C, e)
    def stored_body():
        st, m, _ = ctx["s"].api("GET", "/api/w/chats/%s/messages/%s" % (B_C, tp["id"]))
        return m if st == 200 and m.get("body") == "typo fixed" else None
    stored = wait_for(stored_body, 10, what="edited body stored")
    check(stored["id"] == tp["id"], stored)
    peer.sock("sendMessage", A_JID, {"delete": txt["key"]})
    rv = wharf_ev("message.revoked",
                  lambda p: p["revokedMessageId"] == txt["key"]["id"], "revoke")
    check(rv["revokedMessageId"] == txt["key"]["id"] and rv["before"]["id"] == tp["id"]
          and rv["before"]["body"] == "typo fixed", rv)
    # Baileys votes on Wharf's poll: poll.vote with the option's name
    poll = ctx["wharf_poll"]
    m = baileys_msg(lambda m: m["key"]["id"] == bare(poll["id"]), "poll")
    secret = unb64(m["message"]["messageContextInfo"]["messageSecret"])
    vote = vote_for(bare(poll["id"]), secret, A_JID, B_JID, ["Sushi"])
    peer.sock("relayMessage", A_JID, {"pollUpdateMessage": {
        "pollCreationMessageKey": {"remoteJid": A_JID, "fromMe": False,
                                   "id": bare(poll["id"])},
        "vote": vote, "senderTimestampMs": 1800000000000}}, {})
    v = wharf_ev("poll.vote", lambda p: not p["vote"]["fromMe"], "vote")
    check(v["vote"]["selectedOptions"] == ["Sushi"] and v["poll"]["id"] == poll["id"]
          and v["poll"]["fromMe"] is True and v["vote"]["from"] == B_C
          and v["vote"]["timestamp"] == 1800000000000, v)
    # Every event once
    ids = [e["id"] for e in ctx["rx"].events() if e.get("session") == "w"]
    check(len(ids) == len(set(ids)), "duplicate events")


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def test_group_kinds():
    # In a group of Wharf and Baileys: Baileys reacts to Wharf's text,
    # edits its own, votes on Wharf's poll and answers Wharf's event;
    # each reaches Wharf with the group as `from` and B as participant
    peer = ctx["peer"]
    g = api("POST", "/api/w/groups", {"name": "Kinds", "participants": [{"id": B_C}]})
    gid = g["id"]
    peer.wait_ev("groups.upsert", lambda d: d["id"] == gid, 30, "group known")
    txt = api("POST", "/api/sendText", {"session": "w", "chatId": gid, "text": "group hi"})
    m = baileys_msg(lambda m: m["key"]["id"] == bare(txt["id"]), "group text")
    peer.sock("sendMessage", gid, {"react": {"text": "👍", "key": m["key"]}})
    r = wharf_ev("message.reaction", lambda p: p["from"] == gid, "group reaction")
    check(r["reaction"] == {"text": "👍", "messageId": txt["id"]}
          and r["participant"] == B_C and r["fromMe"] is False, r)
    own = peer.sock("sendMessage", gid, {"text": "group typo"})
    op = wharf_ev("message", lambda p: "_%s_" % own["key"]["id"] in p["id"] + "_",
                  "group text in")
    check(op["id"] == "false_%s_%s_%s" % (gid, own["key"]["id"], B_C)
          and op["from"] == gid and op["participant"] == B_C, op)
    peer.sock("sendMessage", gid, {"text": "group fixed", "edit": own["key"]})
    e = wharf_ev("message.edited", lambda p: p["from"] == gid, "group edit")
    check(e["editedMessageId"] == own["key"]["id"] and e["body"] == "group fixed"
          and e["participant"] == B_C, e)
    # A vote on Wharf's group poll
    poll = api("POST", "/api/sendPoll", {"session": "w", "chatId": gid, "poll": {
        "name": "Where?", "options": ["Here", "There"], "multipleAnswers": False}})
    m = baileys_msg(lambda m: m["key"]["id"] == bare(poll["id"]), "group poll")
    secret = unb64(m["message"]["messageContextInfo"]["messageSecret"])
    vote = vote_for(bare(poll["id"]), secret, A_JID, B_JID, ["There"])
    peer.sock("relayMessage", gid, {"pollUpdateMessage": {
        "pollCreationMessageKey": {"remoteJid": gid, "fromMe": False,
                                   "id": bare(poll["id"]), "participant": A_JID},
        "vote": vote, "senderTimestampMs": 1800000001000}}, {})
    v = wharf_ev("poll.vote", lambda p: p["poll"]["id"] == poll["id"], "group vote")
    check(v["vote"]["selectedOptions"] == ["There"] and v["vote"]["from"] == gid
          and v["vote"]["participant"] == B_C and v["poll"]["fromMe"] is True, v)
    # An answer to Wharf's event (encrypted as WhatsApp clients do, with
    # the event's secret and "Event Response")
    ev = api("POST", "/api/w/events", {"chatId": gid, "event": {
        "name": "Picnic", "startTime": 1900000000}})
    m = baileys_msg(lambda m: m["key"]["id"] == bare(ev["id"]), "group event")
    check(m["message"]["eventMessage"]["name"] == "Picnic", m["message"])
    secret = unb64(m["message"]["messageContextInfo"]["messageSecret"])
    eid = bare(ev["id"])
    sign = eid.encode() + A_JID.encode() + B_JID.encode() + b"Event Response" + b"\x01"
    key = hmac.new(hmac.new(b"\x00" * 32, secret, hashlib.sha256).digest(), sign,
                   hashlib.sha256).digest()
    plain = b"\x08\x01" + b"\x10" + varint(1800000002000) + b"\x18\x02"  # GOING, +2
    iv = os.urandom(12)
    ct = AESGCM(key).encrypt(iv, plain, eid.encode() + b"\x00" + B_JID.encode())
    peer.sock("relayMessage", gid, {"encEventResponseMessage": {
        "eventCreationMessageKey": {"remoteJid": gid, "fromMe": False, "id": eid,
                                    "participant": A_JID},
        "encPayload": b64(ct), "encIv": b64(iv)}}, {})
    er = wharf_ev("event.response", lambda p: p["eventCreationKey"]["id"] == ev["id"],
                  "event response")
    check(er["eventResponse"] == {"response": "GOING", "timestampMs": 1800000002000,
                                  "extraGuestCount": 2}, er)
    # eventCreationKey is WAHA's MessageDestination of the event
    check(er["eventCreationKey"] == {"id": ev["id"], "from": A_C, "fromMe": True,
                                     "to": gid, "participant": A_C}, er)
    check(er["from"] == gid and er["participant"] == B_C, er)
    check(not [e for e in ctx["rx"].events("event.response.failed")], "failed responses")


try:
    ctx.run([test_wharf_to_baileys, test_link_preview, test_baileys_to_wharf,
             test_group_kinds])
finally:
    PAGES.close()
    PRIVATE.close()
