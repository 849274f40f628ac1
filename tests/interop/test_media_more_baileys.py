"""test_media_more_baileys - received media left undownloaded and link
previews, both ways, against an unmodified Baileys, through the full
stack.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

wa-sim plays WhatsApp with its HTTPS media host (--media-cert); Wharf
session w (every service, WHATSAPP_DOWNLOAD_MEDIA=false) is account A,
an unmodified Baileys client account B.
- WHATSAPP_DOWNLOAD_MEDIA=false: an image and a PDF from Baileys give
  `message` webhooks with hasMedia and media {mimetype, filename} only
  (no url, no mediaUrl, nothing stored), field by field; GET of the
  messages says the same, with or without downloadMedia.
- A text with a link preview from Baileys (its linkPreview: matched
  text, title, description, JPEG thumbnail) gives a
  `message` webhook whose linkPreview carries them, and the stored
  message too.

ctest interop_media_more_baileys, after interop_npm_setup. Exits 77
(skip) when npm was unreachable. Loopback only.
"""
import base64
import os
import sys
import tempfile

SRC = os.environ.get("WHARF_SOURCE_DIR",
                     os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
sys.path.insert(0, os.path.join(SRC, "tests", "interop"))
from harness import check  # noqa: E402
from media_util import ffmpeg  # noqa: E402
from baileys_util import Interop, b64  # noqa: E402

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


def test_media_not_downloaded():
    p = from_baileys({"image": b64(JPEG), "caption": "not fetched"})
    check(p["hasMedia"] is True and p["body"] == "not fetched", p)
    check(p["media"] == {"mimetype": "image/jpeg"}, p["media"])
    check("mediaUrl" not in p and p["_data"]["type"] == "image", p)
    check(p["from"] == B_CUS and p["fromMe"] is False and p["to"] == A + "@c.us", p)
    # nothing stored: GET says the same with and without downloadMedia,
    # and no file is served under WAHA's name for it
    for q in ("", "?downloadMedia=true", "?downloadMedia=false"):
        m = stored(p["id"], q)
        check(m["hasMedia"] is True and m["media"] == {"mimetype": "image/jpeg"}
              and "mediaUrl" not in m, (q, m))
    st, _, _ = ix["s"].raw("GET", "/api/files/w/%s.jpeg" % p["id"],
                           headers={"X-Api-Key": ix["s"].api_key})
    check(st == 404, st)
    st, _, _ = ix["s"].raw("GET", "/api/files/w/%s.jpg" % p["id"],
                           headers={"X-Api-Key": ix["s"].api_key})
    check(st == 404, st)

    p = from_baileys({"document": b64(PDF), "mimetype": "application/pdf",
                      "fileName": "kept.pdf"})
    check(p["hasMedia"] is True and p["_data"]["type"] == "document", p)
    check(p["media"] == {"mimetype": "application/pdf", "filename": "kept.pdf"}, p["media"])
    check("mediaUrl" not in p, p)


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
    # a text without a preview has none
    p = from_baileys({"text": "no link here"})
    check("linkPreview" not in p and p["body"] == "no link here", p)


ix.run([test_media_not_downloaded, test_incoming_link_preview])
