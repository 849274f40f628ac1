"""test_channels_baileys - channels (newsletters) between Wharf and an
unmodified Baileys, through the full stack.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

wa-sim plays WhatsApp; a Wharf session `w` (every service) is account A,
an unmodified Baileys client (wharf_peer.mjs) account B.
- Wharf creates a channel (POST /api/w/channels); Baileys finds it by
  its invite code (newsletterMetadata "invite") and by id, follows it
  (newsletterFollow) and mutes it; Wharf sees the follower count go to
  1. Wharf posts (sendText to the channel): Baileys gets the post as a
  messages.upsert from the channel with the exact text; Baileys reacts
  to it (newsletterReactMessage with the post's server id): Wharf's
  preview shows the reaction;
- Baileys creates a channel (newsletterCreate); Wharf finds it by invite
  code (GET /api/w/channels/{code}: role GUEST, name, description) and
  follows it; Baileys posts (sendMessage to the channel, plaintext):
  Wharf gets a `message` event from the channel with the text; Wharf's
  post there is refused (403: not its channel).
- Channel media is not encrypted (wa-sim refuses a post whose media has
  a media key, or whose blob on the media host is not the plaintext its
  fileSha256 names): Wharf's image post reaches Baileys with no
  mediaKey, and the bytes at its url are the image Wharf serves at
  media.url; Baileys' image post (uploaded unencrypted) reaches Wharf
  with a media.url serving the exact bytes Baileys sent.

ctest interop_channels_baileys, after interop_npm_setup. Exits 77 (skip)
when npm was unreachable. Loopback only.
"""
import hashlib
import os
import ssl
import sys
import urllib.parse
import urllib.request

SRC = os.environ.get("WHARF_SOURCE_DIR",
                     os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
sys.path.insert(0, os.path.join(SRC, "tests", "interop"))
from harness import check, wait_for  # noqa: E402
from baileys_util import Interop, b64, unb64  # noqa: E402
from media_util import png  # noqa: E402

A = "15550340001"  # Wharf session w
B = "15550340002"  # Baileys
EVENTS = ["session.status", "message", "message.any", "message.ack"]
INVITE = "https://www.whatsapp.com/channel/"
ctx = Interop(A, B, EVENTS, media=True)


def api(method, path, body=None, status=200):
    st, got, _ = ctx["s"].api(method, path, body)
    check(st == status, (method, path, st, got))
    return got


def q(text):
    return urllib.parse.quote(text, safe="")


def upsert_text(m):
    msg = m.get("message") or {}
    return msg.get("conversation") or (msg.get("extendedTextMessage") or {}).get("text")


def test_wharf_channel_followed_by_baileys():
    peer = ctx["peer"]
    c = api("POST", "/api/w/channels", {"name": "Wharf harbour",
                                         "description": "Ships in and out"}, 201)
    cid, code = c["id"], c["invite"][len(INVITE):]
    ctx["wharf_channel"] = cid
    # Baileys finds it by invite code and by id
    meta = peer.sock("newsletterMetadata", "invite", code)
    check(meta["id"] == cid, meta)
    thread = meta["thread_metadata"]
    check(thread["name"]["text"] == "Wharf harbour" and thread["invite"] == code, meta)
    check(thread["description"]["text"] == "Ships in and out", meta)
    meta = peer.sock("newsletterMetadata", "jid", cid)
    check(meta["id"] == cid and meta["viewer_metadata"]["role"] == "GUEST", meta)
    # Baileys follows and mutes
    peer.sock("newsletterFollow", cid)
    peer.sock("newsletterMute", cid)
    meta = peer.sock("newsletterMetadata", "jid", cid)
    check(meta["viewer_metadata"] == {"mute": "ON", "role": "SUBSCRIBER"}, meta)
    info = api("GET", "/api/w/channels/" + q(cid))
    check(info["subscribersCount"] == 1 and info["role"] == "OWNER", info)
    # Wharf posts: Baileys gets it from the channel
    sent = api("POST", "/api/sendText", {"session": "w", "chatId": cid,
                                         "text": "Ferry leaves at 9"}, 201)
    check(sent["fromMe"] is True and sent["to"] == cid, sent)
    got = peer.wait_ev("messages.upsert",
                       lambda d: any(m["key"]["remoteJid"] == cid
                                     and upsert_text(m) == "Ferry leaves at 9"
                                     for m in d.get("messages", [])),
                       30, "the post at baileys")
    check(got, got)
    # Baileys reacts to the post by its server id: Wharf's preview shows it
    pv = api("GET", "/api/w/channels/%s/messages/preview?limit=5" % q(cid))
    check(len(pv) == 1 and pv[0]["message"]["body"] == "Ferry leaves at 9", pv)
    server_id = str(pv[0]["message"]["serverId"])
    peer.sock("newsletterReactMessage", cid, server_id, "🚢")

    def reacted():
        p = api("GET", "/api/w/channels/%s/messages/preview" % q(cid))
        return p if p and p[0]["reactions"] == {"🚢": 1} else None
    pv = wait_for(reacted, 20, what="baileys' reaction in wharf's preview")
    check(pv[0]["viewCount"] == 0, pv)


def served(url):
    """The bytes at a Wharf media.url (with the API key)."""
    s = ctx["s"]
    st, raw, _ = s.raw("GET", urllib.parse.urlparse(url).path,
                       headers={"X-Api-Key": s.api_key})
    check(st == 200, (st, url))
    return raw


def media_host(url):
    """The bytes at a url of wa-sim's media host (HTTPS, its certificate)."""
    check(url.startswith("https://127.0.0.1:"), url)
    tls = ssl.create_default_context(cafile=ctx.cert)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                         urllib.request.HTTPSHandler(context=tls))
    with opener.open(url, timeout=20) as r:
        return r.read()


def test_wharf_image_post_at_baileys():
    peer, cid = ctx["peer"], ctx["wharf_channel"]
    sent = api("POST", "/api/sendImage", {
        "session": "w", "chatId": cid, "caption": "Lighthouse",
        "file": {"data": b64(png(48, 32))["$b64"], "mimetype": "image/png"}}, 201)
    check(sent["hasMedia"] is True and sent["to"] == cid, sent)
    want = served(sent["media"]["url"])

    def image(d):
        return [m for m in d.get("messages", []) if m["key"]["remoteJid"] == cid
                and (m.get("message") or {}).get("imageMessage")]
    got = peer.wait_ev("messages.upsert", image, 30, "the image post at baileys")
    img = image(got)[0]["message"]["imageMessage"]
    check(img["caption"] == "Lighthouse" and img["mimetype"] == sent["media"]["mimetype"], img)
    # Not encrypted: no media key, no enc hash; the plaintext's hash
    check(not img.get("mediaKey") and not img.get("fileEncSha256"), img)
    check(img["directPath"].startswith("/") and int(img["fileLength"]) == len(want), img)
    check(unb64(img["fileSha256"]) == hashlib.sha256(want).digest(), img)
    # The bytes on the media host are the image itself
    check(media_host(img["url"]) == want, "the media host serves the plaintext")


def test_baileys_channel_followed_by_wharf():
    peer = ctx["peer"]
    created = peer.sock("newsletterCreate", "Baileys tides", "High and low")
    cid, code = created["id"], created["invite"]
    check(cid.endswith("@newsletter") and created["name"] == "Baileys tides", created)
    info = api("GET", "/api/w/channels/" + code)
    check(info["id"] == cid and info["name"] == "Baileys tides", info)
    check(info["description"] == "High and low" and info["role"] == "GUEST", info)
    check(info["invite"] == INVITE + code and info["subscribersCount"] == 0, info)
    got = api("POST", "/api/w/channels/%s/follow" % q(cid), None, 201)
    check(got == {}, got)
    lst = api("GET", "/api/w/channels?role=SUBSCRIBER")
    check([x["id"] for x in lst] == [cid], lst)
    # Baileys posts: Wharf gets a message event from the channel
    peer.sock("sendMessage", cid, {"text": "Spring tide tonight"})

    def post():
        hits = [e["payload"] for e in ctx["rx"].events("message")
                if e.get("session") == "w" and e["payload"]["from"] == cid]
        return hits[0] if hits else None
    p = wait_for(post, 30, what="baileys' post at wharf")
    check(p["body"] == "Spring tide tonight" and p["fromMe"] is False, p)
    check(p["id"].startswith("false_%s_" % cid) and p["hasMedia"] is False, p)
    # Wharf may not post in Baileys' channel
    st, res, _ = ctx["s"].api("POST", "/api/sendText", {"session": "w", "chatId": cid,
                                                       "text": "not mine"})
    check(st == 403, (st, res))
    pv = api("GET", "/api/w/channels/%s/messages/preview" % code)
    check([x["message"]["body"] for x in pv] == ["Spring tide tonight"], pv)
    ctx["baileys_channel"] = cid


def test_baileys_image_post_at_wharf():
    peer, cid = ctx["peer"], ctx["baileys_channel"]
    picture = png(40, 30)
    peer.sock("sendMessage", cid, {"image": b64(picture), "mimetype": "image/png",
                                   "caption": "Rock pools"})
    p = ctx.wharf_ev("message", lambda p: p["from"] == cid and p["hasMedia"],
                     "baileys' image post")
    check(p["body"] == "Rock pools" and p["fromMe"] is False, p)
    check(p["media"]["mimetype"] == "image/png" and "error" not in p["media"], p)
    check(p["mediaUrl"] == p["media"]["url"], p)
    check(served(p["media"]["url"]) == picture, "media.url serves baileys' exact bytes")


ctx.run([test_wharf_channel_followed_by_baileys, test_wharf_image_post_at_baileys,
         test_baileys_channel_followed_by_wharf, test_baileys_image_post_at_wharf])
