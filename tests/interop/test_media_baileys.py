"""test_media_baileys - Wharf's media against an unmodified Baileys,
through the full stack.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

wa-sim plays WhatsApp with its media host over HTTPS (--media-cert); a
Wharf session (every service, media-service trusting the certificate
through MEDIA_CA_FILE) is account A, an unmodified Baileys client
(wharf_peer.mjs, trusting it through NODE_EXTRA_CA_CERTS) account B.
- Wharf -> Baileys: an image (file.url, caption), a PDF (file.data,
  filename), a voice note converted from a WAV made with ffmpeg, a
  video, and stickers (a WebP as it is, a PNG made a WebP): Baileys decrypts each message, sees the right message type,
  mimetype, caption, file name and ptt flag, and downloadMediaMessage
  gives the identical bytes (for converted files: those Wharf's
  media.url serves).
- Baileys -> Wharf: an image, a PDF, a voice note, a video and a sticker
  sent with
  sock.sendMessage: Wharf's `message` webhook has hasMedia, the type,
  mimetype and caption, and media.url serves the identical bytes.

ctest interop_media_baileys, after interop_npm_setup. Exits 77 (skip)
when npm was unreachable. WASIM_TEST_DEBUG=1 prints the Baileys log.
Loopback only.
"""
import base64
import os
import subprocess
import sys
import tempfile
import urllib.parse

SRC = os.environ.get("WHARF_SOURCE_DIR",
                     os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
sys.path.insert(0, os.path.join(SRC, "tests", "interop"))
from harness import Receiver, check, run, wait_for  # noqa: E402
from engine_util import account, create, hooks, link_qr, stack  # noqa: E402
from media_util import FileServer, make_files  # noqa: E402
from wasim import WaSim  # noqa: E402
from baileys_util import b64, start_peer, unb64  # noqa: E402

A = "15550310001"  # Wharf session w
B = "15550310002"  # Baileys
B_JID = B + "@s.whatsapp.net"
A_JID = A + "@s.whatsapp.net"

TMP = tempfile.mkdtemp(prefix="wharf-media-baileys-")
FILES = make_files(TMP)
subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", os.path.join(TMP, "a.wav"),
                "-c:a", "libopus", "-ac", "1", "-ar", "48000", os.path.join(TMP, "b.ogg")],
               check=True, capture_output=True)
with open(os.path.join(TMP, "b.ogg"), "rb") as f:
    OGG = f.read()
CERT = os.path.join(TMP, "media.crt")
FS = FileServer({"/a.jpg": (FILES["a.jpg"], "image/jpeg"),
                 "/a.png": (FILES["a.png"], "image/png")})
ctx = {}


def setup():
    sim = WaSim("--media-cert", CERT).__enter__()
    ctx["sim"] = sim
    # Baileys uploads to and downloads from wa-sim's HTTPS media host
    os.environ["NODE_EXTRA_CA_CERTS"] = CERT
    ctx["peer"] = start_peer(sim)  # first: it skips when Baileys is missing
    s = stack(sim, MEDIA_CA_FILE=CERT, MEDIA_FETCH_ALLOW="127.0.0.1").__enter__()
    ctx["s"] = s
    rx = Receiver().__enter__()
    ctx["rx"] = rx
    account(sim, A, "Wharf A")
    account(sim, B, "Baileys B")
    create(s, "w", rx)
    link_qr(s, sim, "w", A)
    opened = ctx["peer"].cmd("pair", "open", phone=B, push_name="Baileys B")
    check(opened["id"].startswith(B + ":"), opened)


def served(url):
    """The bytes at a media.url (with the API key)."""
    s = ctx["s"]
    u = urllib.parse.urlparse(url)
    st, raw, _ = s.raw("GET", u.path, headers={"X-Api-Key": s.api_key})
    check(st == 200, (st, url))
    return raw


def to_baileys(path, body):
    """Send from Wharf; Baileys' decrypted WebMessageInfo and the bytes
    downloadMediaMessage gives."""
    s, peer = ctx["s"], ctx["peer"]
    st, got, _ = s.api("POST", path, dict({"session": "w", "chatId": B + "@c.us"}, **body),
                       timeout=90)
    check(st == 201 and got["hasMedia"] is True, (st, got))
    stanza = got["id"].split("_")[2]
    peer.wait(lambda e: e["event"] == "message" and e["id"] == stanza, 40,
              "media message %s decrypted" % stanza)
    info = peer.cmd("message", "result", id=stanza)["value"]
    data = unb64(peer.fn("downloadMediaMessage", {"$msg": stanza}, "buffer", {},
                         timeout=60))
    return got, info["message"], data


def test_wharf_to_baileys():
    got, m, data = to_baileys("/api/sendImage", {"file": {"url": FS.base + "/a.jpg"},
                                                 "caption": "an image"})
    im = m["imageMessage"]
    check(im["mimetype"] == "image/jpeg" and im["caption"] == "an image", im)
    check(im["width"] == 320 and im["height"] == 240, im)
    check(data == FILES["a.jpg"], "Baileys decrypts the identical image")

    got, m, data = to_baileys("/api/sendFile", {
        "file": {"data": base64.b64encode(FILES["a.pdf"]).decode(),
                 "mimetype": "application/pdf", "filename": "report.pdf"}})
    d = m["documentMessage"]
    check(d["mimetype"] == "application/pdf" and d["fileName"] == "report.pdf", d)
    check(data == FILES["a.pdf"], "Baileys decrypts the identical PDF")

    got, m, data = to_baileys("/api/sendVoice", {
        "file": {"data": base64.b64encode(FILES["a.wav"]).decode()}, "convert": True})
    a = m["audioMessage"]
    check(a["ptt"] is True and a["mimetype"] == "audio/ogg; codecs=opus", a)
    check(a["seconds"] == 2 and len(unb64(a["waveform"])) == 64, a)
    check(data[:4] == b"OggS" and data == served(got["media"]["url"]),
          "Baileys decrypts the converted voice note Wharf stored")

    got, m, data = to_baileys("/api/sendVideo", {
        "file": {"data": base64.b64encode(FILES["a.mp4"]).decode(),
                 "mimetype": "video/mp4"}, "caption": "a video"})
    v = m["videoMessage"]
    check(v["mimetype"] == "video/mp4" and v["caption"] == "a video", v)
    check(v["width"] == 320 and v["height"] == 240 and v["seconds"] == 1, v)
    check(data == FILES["a.mp4"], "Baileys decrypts the identical video")

    # Stickers: a WebP as it is; a PNG made a 512x512 WebP, the bytes
    # Wharf stored
    got, m, data = to_baileys("/api/sendSticker", {
        "file": {"data": base64.b64encode(FILES["a.webp"]).decode()}})
    st = m["stickerMessage"]
    check(st["mimetype"] == "image/webp" and st["width"] == 512 and st["height"] == 512, st)
    check(data == FILES["a.webp"], "Baileys decrypts the identical sticker")
    got, m, data = to_baileys("/api/sendSticker", {"file": {"url": FS.base + "/a.png"}})
    st = m["stickerMessage"]
    check(st["mimetype"] == "image/webp" and st["width"] == 512 and st["height"] == 512, st)
    check(data[:4] == b"RIFF" and data[8:12] == b"WEBP" and data == served(got["media"]["url"]),
          "Baileys decrypts the sticker Wharf made from a PNG")


def to_wharf(content, want, wtype, mimetype, body=""):
    """Baileys sends; Wharf's message webhook and its media.url bytes."""
    peer, rx = ctx["peer"], ctx["rx"]
    sent = peer.sock("sendMessage", A_JID, content, timeout=90)
    stanza = sent["key"]["id"]
    ev = wait_for(lambda: [e for e in hooks(rx, "w", "message")
                           if e["payload"]["id"].endswith("_" + stanza)],
                  40, what="baileys media %s at wharf" % stanza)[0]["payload"]
    check(ev["hasMedia"] is True and ev["from"] == B + "@c.us", ev)
    check(ev["_data"]["type"] == wtype and ev["body"] == body, ev)
    check("error" not in ev["media"] and ev["mediaUrl"] == ev["media"]["url"], ev)
    check(ev["media"]["mimetype"].split(";")[0] == mimetype, ev["media"])
    check(served(ev["media"]["url"]) == want, "media.url serves the identical bytes")
    return ev


def test_baileys_to_wharf():
    to_wharf({"image": b64(FILES["a.jpg"]), "caption": "from baileys"},
             FILES["a.jpg"], "image", "image/jpeg", "from baileys")
    ev = to_wharf({"document": b64(FILES["a.pdf"]), "mimetype": "application/pdf",
                   "fileName": "b.pdf"}, FILES["a.pdf"], "document", "application/pdf")
    check(ev["media"]["filename"] == "b.pdf", ev["media"])
    to_wharf({"audio": b64(OGG), "mimetype": "audio/ogg; codecs=opus", "ptt": True},
             OGG, "ptt", "audio/ogg")
    to_wharf({"video": b64(FILES["a.mp4"]), "caption": "vid"},
             FILES["a.mp4"], "video", "video/mp4", "vid")
    to_wharf({"sticker": b64(FILES["a.webp"])}, FILES["a.webp"], "sticker", "image/webp")


try:
    setup()
    run([test_wharf_to_baileys, test_baileys_to_wharf])
except BaseException as e:
    if "peer" in ctx and not (isinstance(e, SystemExit) and not e.code):
        sys.stderr.write("--- wharf_peer.mjs stderr ---\n%s\n" % ctx["peer"].stderr())
    raise
finally:
    if "peer" in ctx:
        ctx["peer"].close()
    for k in ("rx", "s", "sim"):
        if k in ctx:
            ctx[k].__exit__(None, None, None)
    FS.close()
