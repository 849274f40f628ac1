"""test_media_more_baileys - received media left undownloaded and link
previews, both ways, against an unmodified Baileys, through the full
stack.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

wa-sim plays WhatsApp with its HTTPS media host (--media-cert); Wharf
session w (every service, WHATSAPP_DOWNLOAD_MEDIA=false) is account A,
an unmodified Baileys client account B.
- WHATSAPP_DOWNLOAD_MEDIA=false: an image and a PDF from Baileys give
  `message` webhooks with hasMedia and media {mimetype, filename} only
  (no url, no mediaUrl, nothing stored), field by field, and what a
  later download needs in _data.message (Baileys' own field names);
  GET with downloadMedia=false says the same; GET with
  downloadMedia=true (WAHA's default) downloads them then: media.url
  serves the identical bytes. A sticker's isAnimated is in
  _data.message.stickerMessage. A blob expired on the media host before
  anyone asked gives media.error (200).
- A text with a link preview from Baileys (its linkPreview: matched
  text, title, description, JPEG thumbnail) gives a
  `message` webhook whose linkPreview carries them, and the stored
  message too; a high-quality preview image's fields (direct path, key,
  hashes, size) are in _data.message.extendedTextMessage, as in WAHA's
  raw message, and the image is not downloaded (nor by WAHA).
- linkPreviewHighQuality: sendText with it uploads the page's og:image
  in full as the preview's own media (thumbnailDirectPath, mediaKey,
  hashes, width and height, "thumbnail-link" keys): Baileys'
  downloadMediaMessage of the text gives the identical JPEG (a PNG made
  a JPEG of its size), next to the inline thumbnail; without it only the
  inline thumbnail goes. A custom preview's image (base64) goes in full
  by default, as WAHA's link-custom-preview does.
- Animated stickers: an animated WebP goes as it is with isAnimated set,
  a GIF becomes an animated 512x512 WebP (ffmpeg's libwebp animation
  encoder), a still WebP stays not animated; Baileys downloads the bytes
  Wharf stored.

ctest interop_media_more_baileys, after interop_npm_setup. Exits 77
(skip) when npm was unreachable. Loopback only.
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
from harness import check  # noqa: E402
from media_util import FileServer, ffmpeg  # noqa: E402
from baileys_util import Interop, b64, unb64  # noqa: E402

A = "15550370001"  # Wharf session w
B = "15550370002"  # Baileys
A_JID = A + "@s.whatsapp.net"
B_CUS = B + "@c.us"

TMP = tempfile.mkdtemp(prefix="wharf-media-more-")
CERT = os.path.join(TMP, "media.crt")
ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=1", "-frames:v", "1",
       os.path.join(TMP, "a.jpg"))
ffmpeg("-f", "lavfi", "-i", "testsrc=size=96x72:rate=1", "-frames:v", "1",
       os.path.join(TMP, "t.jpg"))
with open(os.path.join(TMP, "a.jpg"), "rb") as f:
    JPEG = f.read()
with open(os.path.join(TMP, "t.jpg"), "rb") as f:
    THUMB = f.read()
ffmpeg("-f", "lavfi", "-i", "testsrc=size=200x300:rate=1", "-frames:v", "1",
       os.path.join(TMP, "p.png"))
ffmpeg("-f", "lavfi", "-i", "testsrc=size=512x512:rate=4:duration=1", "-c:v", "libwebp_anim",
       "-loop", "0", os.path.join(TMP, "anim.webp"))
ffmpeg("-f", "lavfi", "-i", "testsrc=size=240x160:rate=5:duration=1", os.path.join(TMP, "a.gif"))
ffmpeg("-f", "lavfi", "-i", "testsrc=size=512x512:rate=1", "-frames:v", "1", "-c:v", "libwebp",
       os.path.join(TMP, "still.webp"))
FILES = {}
for n in ("anim.webp", "a.gif", "still.webp"):
    with open(os.path.join(TMP, n), "rb") as f:
        FILES[n] = f.read()
with open(os.path.join(TMP, "p.png"), "rb") as f:
    PNG = f.read()


def page(title, image):
    return ('<html><head><meta property="og:title" content="%s">'
            '<meta property="og:description" content="a big picture">'
            '<meta property="og:image" content="%s"></head><body>x</body></html>'
            % (title, image)).encode()


PAGES = FileServer({"/big.jpg": (JPEG, "image/jpeg"), "/p.png": (PNG, "image/png"),
                    "/jpg.html": (page("JPEG page", "/big.jpg"), "text/html"),
                    "/png.html": (page("PNG page", "/p.png"), "text/html")})
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# Baileys uploads to and downloads from wa-sim's HTTPS media host
os.environ["NODE_EXTRA_CA_CERTS"] = CERT
ix = Interop(A, B, ["message", "message.any"], sim_args=("--media-cert", CERT),
             stack_env={"MEDIA_CA_FILE": CERT, "MEDIA_FETCH_ALLOW": "127.0.0.1",
                        "WHATSAPP_DOWNLOAD_MEDIA": "false"})


def from_baileys(content):
    """Baileys sends content to Wharf; Wharf's `message` payload."""
    sent = ix["peer"].sock("sendMessage", A_JID, content, timeout=90)
    stanza = sent["key"]["id"]
    return ix.wharf_ev("message", lambda p: p["id"] == "false_%s_%s" % (B_CUS, stanza),
                       "message %s" % stanza, timeout=40)


def stored(mid, query=""):
    return ix.api("GET", "/api/w/chats/%s/messages/%s%s" % (B_CUS, mid, query))


def served(url):
    """The bytes a media.url serves (with the API key)."""
    u = urllib.parse.urlparse(url)
    check(u.netloc == ix["s"].base.split("://", 1)[1], url)
    st, raw, _ = ix["s"].raw("GET", u.path, headers={"X-Api-Key": ix["s"].api_key})
    check(st == 200, (st, url))
    return raw


def test_media_not_downloaded():
    p = from_baileys({"image": b64(JPEG), "caption": "not fetched"})
    check(p["hasMedia"] is True and p["body"] == "not fetched", p)
    check(p["media"] == {"mimetype": "image/jpeg"}, p["media"])
    check("mediaUrl" not in p and p["_data"]["type"] == "image", p)
    check(p["from"] == B_CUS and p["fromMe"] is False and p["to"] == A + "@c.us", p)
    # what a download needs, in WAHA's raw message (Baileys' field names)
    x = p["_data"]["message"]["imageMessage"]
    check(x["directPath"].startswith("/") and len(unb64(x["mediaKey"])) == 32, x)
    check(unb64(x["fileSha256"]) == hashlib.sha256(JPEG).digest(), x)
    check(x["fileLength"] == len(JPEG) and x["mimetype"] == "image/jpeg", x)
    # nothing stored: downloadMedia=false says so, and no file is served
    # under WAHA's name for it
    m = stored(p["id"], "?downloadMedia=false")
    check(m["hasMedia"] is True and m["media"] == {"mimetype": "image/jpeg"}
          and "mediaUrl" not in m, m)
    for ext in ("jpeg", "jpg"):
        st, _, _ = ix["s"].raw("GET", "/api/files/w/%s.%s" % (p["id"], ext),
                               headers={"X-Api-Key": ix["s"].api_key})
        check(st == 404, st)
    # downloadMedia=true (WAHA's default): downloaded now, the bytes
    # Baileys sent
    for q in ("?downloadMedia=true", ""):
        m = stored(p["id"], q)
        check(m["media"]["url"] == "%s/api/files/w/%s.jpeg" % (ix["s"].base, p["id"]), m)
        check(m["mediaUrl"] == m["media"]["url"] and "error" not in m["media"], m)
        check(m["media"]["mimetype"] == "image/jpeg" and m["body"] == "not fetched", m)
        check(served(m["media"]["url"]) == JPEG, "identical bytes")

    p = from_baileys({"document": b64(PDF), "mimetype": "application/pdf",
                      "fileName": "kept.pdf"})
    check(p["hasMedia"] is True and p["_data"]["type"] == "document", p)
    check(p["media"] == {"mimetype": "application/pdf", "filename": "kept.pdf"}, p["media"])
    check("mediaUrl" not in p, p)
    check(p["_data"]["message"]["documentMessage"]["fileName"] == "kept.pdf", p["_data"])
    # the chat's messages: the document downloaded with its file name
    lst = ix.api("GET", "/api/w/chats/%s/messages?limit=10&downloadMedia=true" % B_CUS,
                 timeout=60)
    m = [x for x in lst if x["id"] == p["id"]][0]
    check(m["media"]["filename"] == "kept.pdf" and served(m["media"]["url"]) == PDF, m)

    # an animated sticker: isAnimated where WAHA's raw message has it
    p = from_baileys({"sticker": b64(FILES["anim.webp"]), "isAnimated": True})
    check(p["_data"]["type"] == "sticker" and p["media"] == {"mimetype": "image/webp"}, p)
    check(p["_data"]["message"]["stickerMessage"]["isAnimated"] is True, p["_data"])
    m = stored(p["id"])
    check(served(m["media"]["url"]) == FILES["anim.webp"], "the sticker's bytes")
    p = from_baileys({"sticker": b64(FILES["still.webp"])})
    check(p["_data"]["message"]["stickerMessage"]["isAnimated"] is False, p["_data"])

    # gone from the media host before anyone asked: media.error, 200
    p = from_baileys({"image": b64(JPEG), "caption": "gone"})
    st, res = ix["sim"].ctl("POST", "/media/expire", {"all": True})
    check(st == 200 and res["expired"] >= 1, (st, res))
    m = stored(p["id"])
    check("url" not in m["media"] and "mediaUrl" not in m, m)
    check("expired" in m["media"]["error"]["message"], m["media"])
    check(m["media"]["mimetype"] == "image/jpeg", m["media"])


def test_incoming_link_preview():
    url = "https://example.test/articles/1"
    text = "read this %s today" % url
    p = from_baileys({"text": text, "linkPreview": {
        "matched-text": url, "canonical-url": "https://example.test/a/1",
        "title": "An article", "description": "What it says",
        "jpegThumbnail": b64(THUMB)}})
    check(p["body"] == text and p["hasMedia"] is False and p["media"] is None, p)
    lp = p["linkPreview"]
    # (Baileys writes no canonical URL: its canonical-url stays local)
    check(lp == {"url": url, "title": "An article", "description": "What it says",
                 "thumbnail": base64.b64encode(THUMB).decode()}, lp)
    check(stored(p["id"])["linkPreview"] == lp, "the stored message keeps it")
    check("message" not in p["_data"], "no high-quality image: no raw fields")
    # a high-quality preview image (Baileys' highQualityThumbnail): its
    # fields where WAHA's raw message has them; not downloaded (WAHA
    # downloads message media only: a text has hasMedia false)
    key, sha, enc = os.urandom(32), os.urandom(32), os.urandom(32)
    p = from_baileys({"text": "hq %s" % url, "linkPreview": {
        "matched-text": url, "title": "HQ", "jpegThumbnail": b64(THUMB),
        "highQualityThumbnail": {
            "directPath": "/o1/v/t62.36144-24/hq?ccb=11-4", "mediaKey": b64(key),
            "mediaKeyTimestamp": 1765000000, "width": 1280, "height": 720,
            "fileSha256": b64(sha), "fileEncSha256": b64(enc)}}})
    check(p["hasMedia"] is False and p["media"] is None, p)
    check(p["linkPreview"] == {"url": url, "title": "HQ",
                               "thumbnail": base64.b64encode(THUMB).decode()}, p)
    x = p["_data"]["message"]["extendedTextMessage"]
    check(x == {"thumbnailDirectPath": "/o1/v/t62.36144-24/hq?ccb=11-4",
                "mediaKey": base64.b64encode(key).decode(),
                "thumbnailSha256": base64.b64encode(sha).decode(),
                "thumbnailEncSha256": base64.b64encode(enc).decode(),
                "mediaKeyTimestamp": 1765000000, "thumbnailWidth": 1280,
                "thumbnailHeight": 720}, x)
    m = stored(p["id"], "?downloadMedia=true")
    check(m["_data"]["message"] == p["_data"]["message"] and m["media"] is None, m)
    # a text without a preview has none
    p = from_baileys({"text": "no link here"})
    check("linkPreview" not in p and p["body"] == "no link here", p)


def to_baileys(path, body):
    """Wharf sends a text; its answer, Baileys' extendedTextMessage and
    the message's stanza id."""
    got = ix.api("POST", path, dict({"session": "w", "chatId": B_CUS}, **body),
                 status=201, timeout=90)
    stanza = got["id"].split("_")[2]
    ix["peer"].wait(lambda e: e["event"] == "message" and e["id"] == stanza, 40,
                    "text %s decrypted" % stanza)
    info = ix["peer"].cmd("message", "result", id=stanza)["value"]
    return got, info["message"]["extendedTextMessage"], stanza


def hq_image(stanza):
    """The high-quality preview image as Baileys downloads and decrypts
    it (thumbnail-link keys, from the direct path on wa-sim's host)."""
    host = urllib.parse.urlparse(ix["sim"].info["media_url"]).netloc
    return unb64(ix["peer"].fn("downloadMediaMessage", {"$msg": stanza}, "buffer",
                               {"host": host}, timeout=60))


def test_high_quality_preview():
    url = PAGES.base + "/jpg.html"
    got, ext, stanza = to_baileys("/api/sendText", {
        "text": "big %s" % url, "linkPreviewHighQuality": True})
    check(got["linkPreview"] == {"url": url, "title": "JPEG page",
                                 "description": "a big picture", "highQuality": True}, got)
    check(ext["matchedText"] == url and ext["title"] == "JPEG page", ext)
    check(ext["thumbnailDirectPath"].startswith("/"), ext)
    check(ext["thumbnailWidth"] == 320 and ext["thumbnailHeight"] == 240, ext)
    for k in ("mediaKey", "thumbnailSha256", "thumbnailEncSha256"):
        check(len(unb64(ext[k])) == 32, (k, ext))
    check(int(ext["mediaKeyTimestamp"]) > 1700000000, ext)
    check(unb64(ext["jpegThumbnail"])[:2] == b"\xff\xd8", "the inline thumbnail stays")
    data = hq_image(stanza)
    check(data == JPEG, "Baileys decrypts the identical og:image")
    check(unb64(ext["thumbnailSha256"]) == hashlib.sha256(JPEG).digest(), ext)

    # a PNG og:image: a JPEG of its size
    url = PAGES.base + "/png.html"
    got, ext, stanza = to_baileys("/api/sendText", {
        "text": "png %s" % url, "linkPreviewHighQuality": True})
    check(ext["thumbnailWidth"] == 200 and ext["thumbnailHeight"] == 300, ext)
    data = hq_image(stanza)
    check(data[:2] == b"\xff\xd8" and unb64(ext["thumbnailSha256"])
          == hashlib.sha256(data).digest(), "a JPEG made from the PNG")

    # WAHA's default for sendText: no high-quality image
    got, ext, _ = to_baileys("/api/sendText", {"text": "small %s" % PAGES.base + "/jpg.html"})
    check("thumbnailDirectPath" not in ext and "mediaKey" not in ext, ext)
    check(unb64(ext["jpegThumbnail"])[:2] == b"\xff\xd8", ext)
    check("highQuality" not in got["linkPreview"], got)

    # a custom preview's image goes in full by default (WAHA: true)
    url = "https://example.test/custom"
    got, ext, stanza = to_baileys("/api/send/link-custom-preview", {
        "text": "custom %s" % url, "preview": {
            "url": url, "title": "Custom", "image": {"data": base64.b64encode(JPEG).decode()}}})
    check(ext["thumbnailWidth"] == 320 and ext["title"] == "Custom", ext)
    check(hq_image(stanza) == JPEG, "the custom image in full")
    # and not when it is turned off
    got, ext, _ = to_baileys("/api/send/link-custom-preview", {
        "text": "custom %s" % url, "linkPreviewHighQuality": False, "preview": {
            "url": url, "title": "Custom", "image": {"data": base64.b64encode(JPEG).decode()}}})
    check("thumbnailDirectPath" not in ext and ext.get("jpegThumbnail"), ext)


def sticker_to_baileys(name, mimetype):
    """Wharf sends file name as a sticker; Baileys' stickerMessage, the
    bytes it decrypts and those Wharf's media.url serves."""
    got = ix.api("POST", "/api/sendSticker", {
        "session": "w", "chatId": B_CUS, "file": {
            "data": base64.b64encode(FILES[name]).decode(), "mimetype": mimetype}},
        status=201, timeout=90)
    check(got["hasMedia"] is True and got["media"]["mimetype"] == "image/webp", got)
    stanza = got["id"].split("_")[2]
    ix["peer"].wait(lambda e: e["event"] == "message" and e["id"] == stanza, 40,
                    "sticker %s decrypted" % stanza)
    info = ix["peer"].cmd("message", "result", id=stanza)["value"]
    data = unb64(ix["peer"].fn("downloadMediaMessage", {"$msg": stanza}, "buffer", {},
                               timeout=60))
    u = urllib.parse.urlparse(got["media"]["url"])
    st, served, _ = ix["s"].raw("GET", u.path, headers={"X-Api-Key": ix["s"].api_key})
    check(st == 200 and served == data, "Baileys decrypts what Wharf stored")
    return info["message"]["stickerMessage"], data


def test_animated_stickers():
    stk, data = sticker_to_baileys("anim.webp", "image/webp")
    check(stk["isAnimated"] is True and stk["mimetype"] == "image/webp", stk)
    check(stk["width"] == 512 and stk["height"] == 512, stk)
    check(data == FILES["anim.webp"], "an animated WebP goes as it is")

    stk, data = sticker_to_baileys("a.gif", "image/gif")
    check(stk["isAnimated"] is True and stk["mimetype"] == "image/webp", stk)
    check(stk["width"] == 512 and stk["height"] == 512, stk)
    check(data[:4] == b"RIFF" and data[8:12] == b"WEBP" and b"ANIM" in data[:64]
          and data.count(b"ANMF") >= 2, data[:64])

    stk, data = sticker_to_baileys("still.webp", "image/webp")
    check(not stk.get("isAnimated") and data == FILES["still.webp"], stk)


try:
    ix.run([test_media_not_downloaded, test_incoming_link_preview, test_high_quality_preview,
            test_animated_stickers])
finally:
    PAGES.close()
