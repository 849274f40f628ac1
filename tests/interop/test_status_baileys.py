"""test_status_baileys - status updates (stories) between Wharf and an
unmodified Baileys, through the full stack.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

wa-sim plays WhatsApp (with its HTTPS media host); a Wharf session `w`
(every service) is account A, an unmodified Baileys client
(wharf_peer.mjs) account B: one shared stack, baileys_util.Interop with
media=True.
- Wharf -> Baileys: POST /api/w/status/text (backgroundColor, font, a
  link to a local page) with contacts [B]: Baileys decrypts a message
  from status@broadcast whose participant is A, an extendedTextMessage
  with the text, backgroundArgb, font, and the link preview media-service
  read from the page: matchedText, title, description and a JPEG
  thumbnail of its og:image (Wharf's answer has linkPreview); POST
  /api/w/status/image: an imageMessage with the caption, and
  downloadMediaMessage gives the identical JPEG; POST
  /api/w/status/voice (a WAV converted, backgroundColor with alpha): a
  ptt audioMessage with backgroundArgb that Baileys decrypts.
- linkPreviewHighQuality on a text status: the page's og:image is
  uploaded in full (thumbnailDirectPath, mediaKey, hashes, width and
  height) and Baileys' downloadMediaMessage gives the identical JPEG;
  without it only the inline thumbnail goes.
- retry: wa-sim damages the skmsg of status copies to B
  (status_garbled); Baileys' retry receipt to status@broadcast gets the
  status re-sent to its device alone and Baileys decrypts it.
- Baileys -> Wharf: sock.sendMessage('status@broadcast', {text}, {
  statusJidList: [A]}) and an image status reach Wharf as `message`
  webhooks from status@broadcast with B as the participant, field by
  field.
- Wharf deletes its text status (POST /api/w/status/delete): Baileys
  gets the REVOKE protocol message for it.

ctest interop_status_baileys, after interop_npm_setup. Exits 77 (skip)
when npm was unreachable. WASIM_TEST_DEBUG=1 prints the Baileys log.
Loopback only.
"""
import base64
import hashlib
import os
import sys
import tempfile
import urllib.parse

SRC = os.environ.get("WHARF_SOURCE_DIR",
                     os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
sys.path.insert(0, os.path.join(SRC, "tests", "interop"))
from harness import check, wait_for  # noqa: E402
from engine_util import hooks  # noqa: E402
from media_util import FileServer, make_files  # noqa: E402
from baileys_util import Interop, b64, unb64  # noqa: E402

A = "15550340001"  # Wharf session w
B = "15550340002"  # Baileys
A_JID, B_JID = A + "@s.whatsapp.net", B + "@s.whatsapp.net"
STATUS = "status@broadcast"
TMP = tempfile.mkdtemp(prefix="wharf-status-baileys-")
FILES = make_files(TMP)
EVENTS = ["session.status", "message", "message.any", "message.ack"]
# A page with Open Graph tags for the link preview (loopback allowed)
PAGE = (b"<html><head><meta property='og:title' content='Shop hours'>"
        b"<meta property='og:description' content='Open 9 to 5'>"
        b"<meta property='og:image' content='/shop.png'></head></html>")
HQ_PAGE = (b"<html><head><meta property='og:title' content='Big shop'>"
           b"<meta property='og:image' content='/shop.jpg'></head></html>")
PAGES = FileServer({"/hours.html": (PAGE, "text/html"),
                    "/shop.png": (FILES["a.png"], "image/png"),
                    "/big.html": (HQ_PAGE, "text/html"),
                    "/shop.jpg": (FILES["a.jpg"], "image/jpeg")})
ctx = Interop(A, B, EVENTS, media=True, stack_env={"MEDIA_FETCH_ALLOW": "127.0.0.1"})


def cus(phone):
    return phone + "@c.us"


def api(method, path, body=None, status=201, **kw):
    st, got, _ = ctx["s"].api(method, path, body, **kw)
    check(st == status, (method, path, st, got))
    return got


def user_of(jid):
    return (jid or "").split("@")[0].split(":")[0]


def is_a(jid, lid):
    """jid names account A (its number or its LID)."""
    return user_of(jid) in (A, user_of(lid))


def status_at_baileys(bare):
    """Baileys' decrypted status with stanza id bare: (event, message)."""
    peer = ctx["peer"]
    ev = peer.wait(lambda e: e["event"] == "message" and e["id"] == bare, 40,
                   "status %s decrypted" % bare)
    info = peer.cmd("message", "result", id=bare)["value"]
    return ev, info


def check_sent(got, body, wtype):
    """The WAMessage Wharf answers for its own status."""
    check(got["id"].startswith("true_%s_" % STATUS), got)
    check(got["from"] == cus(A) and got["to"] == STATUS and got["fromMe"] is True, got)
    check(got["participant"] is None and got["source"] == "api", got)
    check(got["body"] == body and got["ack"] == 1 and got["ackName"] == "SERVER", got)
    check(got["_data"]["key"] == {"remoteJid": STATUS, "fromMe": True,
                                  "id": got["id"].split("_")[2]}, got)
    check(got["_data"]["type"] == wtype, got)
    check(isinstance(got["timestamp"], int) and got["timestamp"] > 1600000000, got)


def test_text_status_to_baileys():
    page = PAGES.base + "/hours.html"
    text = "Open today %s" % page
    got = api("POST", "/api/w/status/text", {
        "text": text, "backgroundColor": "#38b42f", "font": 2,
        "contacts": [cus(B)]})
    check_sent(got, text, "chat")
    check(got["linkPreview"] == {"url": page, "title": "Shop hours",
                                 "description": "Open 9 to 5"}, got)
    check(got["hasMedia"] is False and got["media"] is None, got)
    bare = got["id"].split("_")[2]
    ctx["text_status"] = bare
    ev, info = status_at_baileys(bare)
    check(ev["from"] == STATUS and is_a(ev["participant"], ctx["a_lid"]), ev)
    check(info["key"]["remoteJid"] == STATUS and info["key"]["fromMe"] is False, info)
    ext = info["message"]["extendedTextMessage"]
    check(ext["text"] == text, ext)
    check(ext["backgroundArgb"] == 0xFF38B42F and ext["textArgb"] == 0xFFFFFFFF, ext)
    check(ext["font"] in (2, "FB_SCRIPT"), ext)
    check(ext["matchedText"] == page, ext)
    check(ext["title"] == "Shop hours" and ext["description"] == "Open 9 to 5", ext)
    check(unb64(ext["jpegThumbnail"])[:3] == b"\xff\xd8\xff", ext)
    check(PAGES.hits == ["/hours.html", "/shop.png"], PAGES.hits)
    # Wharf's own events name the status too
    rx = ctx["rx"]
    anym = wait_for(lambda: [e["payload"] for e in hooks(rx, "w", "message.any")
                             if e["payload"]["id"] == got["id"]], 20,
                    what="message.any of the status")[0]
    check(anym["to"] == STATUS and anym["fromMe"] is True and anym["body"] == text, anym)


def test_hq_preview_status_to_baileys():
    # linkPreviewHighQuality: the page's og:image uploaded in full as the
    # preview's own media, which Baileys downloads and decrypts
    page = PAGES.base + "/big.html"
    text = "Come by %s" % page
    got = api("POST", "/api/w/status/text", {
        "text": text, "linkPreviewHighQuality": True, "contacts": [cus(B)]}, timeout=90)
    check_sent(got, text, "chat")
    check(got["linkPreview"] == {"url": page, "title": "Big shop", "highQuality": True}, got)
    bare = got["id"].split("_")[2]
    ev, info = status_at_baileys(bare)
    ext = info["message"]["extendedTextMessage"]
    check(ext["matchedText"] == page and ext["title"] == "Big shop", ext)
    check(ext["backgroundArgb"] == 0xFF000000, ext)
    check(ext["thumbnailDirectPath"].startswith("/"), ext)
    check(ext["thumbnailWidth"] == 320 and ext["thumbnailHeight"] == 240, ext)
    for k in ("mediaKey", "thumbnailSha256", "thumbnailEncSha256"):
        check(len(unb64(ext[k])) == 32, (k, ext))
    check(unb64(ext["jpegThumbnail"])[:2] == b"\xff\xd8", "the inline thumbnail stays")
    host = urllib.parse.urlparse(ctx["sim"].info["media_url"]).netloc
    data = unb64(ctx["peer"].fn("downloadMediaMessage", {"$msg": bare}, "buffer",
                                {"host": host}, timeout=60))
    check(data == FILES["a.jpg"], "Baileys decrypts the identical og:image")
    check(unb64(ext["thumbnailSha256"]) == hashlib.sha256(data).digest(), ext)
    # without it (WAHA's default): the inline thumbnail only
    got = api("POST", "/api/w/status/text", {"text": "small %s" % page,
                                             "contacts": [cus(B)]})
    check("highQuality" not in got["linkPreview"], got)
    ev, info = status_at_baileys(got["id"].split("_")[2])
    ext = info["message"]["extendedTextMessage"]
    check("thumbnailDirectPath" not in ext and "mediaKey" not in ext, ext)
    check(unb64(ext["jpegThumbnail"])[:2] == b"\xff\xd8", ext)


def test_status_retry_from_baileys():
    # Baileys gets a status whose sender key message is damaged (wa-sim's
    # status_garbled): it asks for a retry, Wharf sends it again to that
    # device alone, and Baileys decrypts it
    sim = ctx["sim"]
    st, res = sim.ctl("PUT", "/faults", {"phone": B, "status_garbled": True})
    check(st == 200, (st, res))
    try:
        got = api("POST", "/api/w/status/text", {"text": "second try",
                                                 "contacts": [cus(B)]})
        bare = got["id"].split("_")[2]
        ev, info = status_at_baileys(bare)
        check(info["message"]["extendedTextMessage"]["text"] == "second try", info)
    finally:
        sim.ctl("PUT", "/faults", {"phone": B, "status_garbled": False})
    st, log = sim.ctl("GET", "/stanzas?jid=%s&limit=10000" % B)
    retries = [x for x in log["stanzas"] if x["dir"] == "in" and x["tag"] == "receipt"
               and x.get("id") == bare and x.get("type") == "retry"]
    check(retries and retries[0].get("to") == STATUS, retries)
    st, log = sim.ctl("GET", "/stanzas?jid=%s&limit=10000" % A)
    resent = [x for x in log["stanzas"] if x["dir"] == "in" and x["tag"] == "message"
              and x.get("id") == bare and x.get("participant")]
    check(len(resent) == 1 and resent[0].get("to") == STATUS, resent)


def test_image_status_to_baileys():
    got = api("POST", "/api/w/status/image", {
        "file": {"data": base64.b64encode(FILES["a.jpg"]).decode(),
                 "mimetype": "image/jpeg"},
        "caption": "our new shop", "contacts": [cus(B)]}, timeout=90)
    check_sent(got, "our new shop", "image")
    check(got["hasMedia"] is True and got["media"]["mimetype"] == "image/jpeg", got)
    bare = got["id"].split("_")[2]
    ev, info = status_at_baileys(bare)
    check(ev["from"] == STATUS and is_a(ev["participant"], ctx["a_lid"]), ev)
    im = info["message"]["imageMessage"]
    check(im["mimetype"] == "image/jpeg" and im["caption"] == "our new shop", im)
    check(im["width"] == 320 and im["height"] == 240, im)
    data = unb64(ctx["peer"].fn("downloadMediaMessage", {"$msg": bare}, "buffer", {},
                                timeout=60))
    check(data == FILES["a.jpg"], "Baileys decrypts the identical image")


def test_voice_status_to_baileys():
    got = api("POST", "/api/w/status/voice", {
        "file": {"data": base64.b64encode(FILES["a.wav"]).decode(),
                 "mimetype": "audio/wav"}, "convert": True,
        "backgroundColor": "#80112233", "contacts": [cus(B)]}, timeout=90)
    check_sent(got, "", "ptt")
    bare = got["id"].split("_")[2]
    ev, info = status_at_baileys(bare)
    check(ev["from"] == STATUS and is_a(ev["participant"], ctx["a_lid"]), ev)
    a = info["message"]["audioMessage"]
    check(a["ptt"] is True and a["mimetype"] == "audio/ogg; codecs=opus", a)
    check(a["backgroundArgb"] == 0x80112233, a)
    data = unb64(ctx["peer"].fn("downloadMediaMessage", {"$msg": bare}, "buffer", {},
                                timeout=60))
    check(data[:4] == b"OggS", "Baileys decrypts the voice status")


def test_delete_status_at_baileys():
    bare = ctx["text_status"]
    got = api("POST", "/api/w/status/delete", {"id": bare, "contacts": [cus(B)]})
    check(got["fromMe"] is True and got["to"] == STATUS, got)
    check(got["revokedMessageId"] == bare, got)
    peer = ctx["peer"]

    def revoke():
        for d in peer.evs("messages.upsert"):
            for m in d.get("messages", []):
                p = (m.get("message") or {}).get("protocolMessage")
                if p and p.get("key", {}).get("id") == bare:
                    return m
        for u in peer.evs("messages.update"):
            for x in (u if isinstance(u, list) else [u]):
                if x["key"]["id"] == bare and (x.get("update") or {}).get("messageStubType"):
                    return x
        return None
    m = wait_for(revoke, 30, what="baileys sees the revoke of %s" % bare)
    check(m["key"]["remoteJid"] == STATUS, m)
    # A status that does not exist: 404, nothing sent
    st, res, _ = ctx["s"].api("POST", "/api/w/status/delete",
                              {"id": "3EB0000000000000000000", "contacts": [cus(B)]})
    check(st == 404, (st, res))


def wharf_status(stanza):
    rx = ctx["rx"]
    return wait_for(lambda: [e["payload"] for e in hooks(rx, "w", "message")
                             if e["payload"]["id"].split("_")[2] == stanza],
                    40, what="baileys status %s at wharf" % stanza)[0]


def test_baileys_status_to_wharf():
    peer = ctx["peer"]
    sent = peer.sock("sendMessage", STATUS,
                     {"text": "from baileys", "backgroundColor": "#ff0000", "font": 1},
                     {"statusJidList": [A_JID]}, timeout=60)
    bare = sent["key"]["id"]
    p = wharf_status(bare)
    check(p["id"] == "false_%s_%s_%s" % (STATUS, bare, cus(B)), p)
    check(p["from"] == STATUS and p["participant"] == cus(B), p)
    check(p["to"] == cus(A) and p["fromMe"] is False, p)
    check(p["body"] == "from baileys" and p["hasMedia"] is False, p)
    check(p["_data"]["key"]["remoteJid"] == STATUS, p)
    check(p["_data"]["key"]["participant"] == cus(B), p)
    check(p["_data"]["pushName"] == "Baileys B", p)

    sent = peer.sock("sendMessage", STATUS,
                     {"image": b64(FILES["a.jpg"]), "caption": "baileys pic"},
                     {"statusJidList": [A_JID]}, timeout=90)
    p = wharf_status(sent["key"]["id"])
    check(p["from"] == STATUS and p["participant"] == cus(B), p)
    check(p["hasMedia"] is True and p["body"] == "baileys pic", p)
    check(p["_data"]["type"] == "image" and p["media"]["mimetype"] == "image/jpeg", p)
    u = urllib.parse.urlparse(p["media"]["url"])
    st, raw, _ = ctx["s"].raw("GET", u.path, headers={"X-Api-Key": ctx["s"].api_key})
    check(st == 200 and raw == FILES["a.jpg"], "media.url serves the identical image")


def test_lid():
    got = api("GET", "/api/sessions/w/me", status=200)
    ctx["a_lid"] = got.get("lid")


try:
    ctx.run([test_lid, test_text_status_to_baileys, test_hq_preview_status_to_baileys,
             test_status_retry_from_baileys, test_image_status_to_baileys,
             test_voice_status_to_baileys, test_delete_status_at_baileys,
             test_baileys_status_to_wharf])
finally:
    PAGES.close()
