"""test_media_ondemand - downloadMedia=true on stored media that was not
downloaded when it came (WHATSAPP_DOWNLOAD_MEDIA=false here): GET
.../messages and GET of one message download, decrypt and store it now
through the worker and media-service, as WAHA does, and answer media.url;
media gone from the server is media.error in WAHA's WAMedia shape, never
a failed request.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Session a sends an image and a PDF to session b, whose worker does not
download media; b's events carry the download fields in _data.message
(WAHA's raw message). Then:
- downloadMedia=false answers them without a file; the default (true,
  as WAHA) downloads them: media.url serves the identical bytes;
- a second GET takes the stored file, not the server's blob (expired by
  then on wa-sim);
- a message whose blob expired before any download: 200 with
  media.error naming the expiry, no url;
- a session that is not WORKING: media.error says so (WAHA would answer
  422 for the whole request).

Real PostgreSQL, every service, wa-sim with --media-cert. Loopback only.
"""
import base64
import os
import subprocess
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from harness import Receiver, check, run, wait_for  # noqa: E402
from engine_util import hooks, linked, stack  # noqa: E402
from wasim import WaSim  # noqa: E402

TMP = tempfile.mkdtemp(prefix="wharf-media-ondemand-")
subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                "testsrc=size=320x240:rate=1", "-frames:v", "1",
                os.path.join(TMP, "a.jpg")], check=True, capture_output=True)
with open(os.path.join(TMP, "a.jpg"), "rb") as f:
    JPEG = f.read()
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
CERT = os.path.join(TMP, "media.crt")
A, B = "15550008101", "15550008102"
TO_B = B + "@c.us"
CHAT = "/api/b/chats/%s@c.us/messages" % A

sim = WaSim("--media-cert", CERT).__enter__()
s = stack(sim, MEDIA_CA_FILE=CERT, WHATSAPP_DOWNLOAD_MEDIA="false").__enter__()
rx = Receiver().__enter__()
linked(s, sim, rx, [("a", A, "Alice"), ("b", B, "Bob")])
SENT = {}


def b64(data):
    return base64.b64encode(data).decode()


def send(path, body):
    st, got, _ = s.api("POST", path, dict({"session": "a", "chatId": TO_B}, **body),
                       timeout=90)
    check(st == 201, (path, st, got))
    return got


def at_b(msg_id):
    """b's `message` event for a's message."""
    stanza = msg_id.split("_")[2]
    got = wait_for(lambda: [e for e in hooks(rx, "b", "message")
                            if e["payload"]["id"].endswith("_" + stanza)],
                   40, what="message %s at b" % stanza)
    return got[0]["payload"]


def fetch(url):
    u = urllib.parse.urlparse(url)
    check(u.netloc == s.base.split("://", 1)[1], url)
    st, raw, _ = s.raw("GET", u.path, headers={"X-Api-Key": s.api_key})
    return st, raw


def listed(query=""):
    st, lst, _ = s.api("GET", CHAT + "?limit=20" + query, timeout=60)
    check(st == 200 and isinstance(lst, list), (st, lst))
    return {m["id"]: m for m in lst}


def one(msg_id, query=""):
    st, m, _ = s.api("GET", "%s/%s%s" % (CHAT, msg_id, query), timeout=60)
    check(st == 200, (st, m))
    return m


def check_downloaded(m, want, mimetype, filename=None):
    media = m["media"]
    check("error" not in media and media["mimetype"] == mimetype, media)
    check(media.get("filename") == filename, media)
    check(media["url"] == "%s/api/files/b/%s.%s" % (
        s.base, m["id"], "jpeg" if mimetype == "image/jpeg" else "pdf"), media)
    check(m["mediaUrl"] == media["url"], m)
    st, raw = fetch(media["url"])
    check(st == 200 and raw == want, (st, len(raw), len(want)))


def test_received_without_download():
    SENT["img"] = send("/api/sendImage", {"file": {"data": b64(JPEG),
                                                   "mimetype": "image/jpeg"},
                                          "caption": "later"})
    SENT["pdf"] = send("/api/sendFile", {"file": {"data": b64(PDF),
                                                  "mimetype": "application/pdf",
                                                  "filename": "later.pdf"}})
    p = at_b(SENT["img"]["id"])
    check(p["hasMedia"] is True and p["body"] == "later", p)
    check(p["media"] == {"mimetype": "image/jpeg"} and "mediaUrl" not in p, p)
    # what a download needs, where WAHA keeps the engine's raw message
    x = p["_data"]["message"]["imageMessage"]
    check(x["mimetype"] == "image/jpeg" and x["directPath"].startswith("/"), x)
    check(len(base64.b64decode(x["mediaKey"])) == 32, x)
    check(len(base64.b64decode(x["fileSha256"])) == 32
          and len(base64.b64decode(x["fileEncSha256"])) == 32, x)
    check(x["fileLength"] == len(JPEG) and x["url"].startswith("https://"), x)
    check(x["width"] == 320 and x["height"] == 240 and x["mediaKeyTimestamp"] > 0, x)
    SENT["img_b"] = p["id"]
    p = at_b(SENT["pdf"]["id"])
    check(p["media"] == {"mimetype": "application/pdf", "filename": "later.pdf"}, p)
    d = p["_data"]["message"]["documentMessage"]
    check(d["fileName"] == "later.pdf" and d["fileLength"] == len(PDF), d)
    SENT["pdf_b"] = p["id"]
    # downloadMedia=false: as stored, no file
    got = listed("&downloadMedia=false")
    for k in ("img_b", "pdf_b"):
        check("url" not in got[SENT[k]]["media"] and "error" not in got[SENT[k]]["media"],
              got[SENT[k]])
    st, _, _ = s.raw("GET", "/api/files/b/%s.jpeg" % SENT["img_b"],
                     headers={"X-Api-Key": s.api_key})
    check(st == 404, st)


def test_download_on_demand():
    # WAHA's default is downloadMedia=true: both are downloaded now
    got = listed()
    check_downloaded(got[SENT["img_b"]], JPEG, "image/jpeg")
    check_downloaded(got[SENT["pdf_b"]], PDF, "application/pdf", "later.pdf")
    # the rest of the message is as stored
    m = got[SENT["img_b"]]
    check(m["body"] == "later" and m["from"] == A + "@c.us" and m["fromMe"] is False, m)
    # the server's blobs go; a GET now takes the stored files
    st, res = sim.ctl("POST", "/media/expire", {"all": True})
    check(st == 200 and res["expired"] >= 2, (st, res))
    check_downloaded(one(SENT["img_b"], "?downloadMedia=true"), JPEG, "image/jpeg")
    check_downloaded(one(SENT["pdf_b"]), PDF, "application/pdf", "later.pdf")
    # false still leaves the file out
    m = one(SENT["img_b"], "?downloadMedia=false")
    check(m["media"] == {"mimetype": "image/jpeg"} and "mediaUrl" not in m, m)


def test_gone_from_the_server():
    sent = send("/api/sendImage", {"file": {"data": b64(JPEG)}, "caption": "gone"})
    p = at_b(sent["id"])
    st, res = sim.ctl("POST", "/media/expire", {"all": True})
    check(st == 200 and res["expired"] >= 1, (st, res))
    m = one(p["id"], "?downloadMedia=true")
    media = m["media"]
    check("url" not in media and "mediaUrl" not in m, m)
    check(media["mimetype"] == "image/jpeg", media)
    check("expired" in media["error"]["message"], media)
    # in the list: the same error; the others keep their files
    got = listed()
    check("expired" in got[p["id"]]["media"]["error"]["message"], got[p["id"]])
    check_downloaded(got[SENT["img_b"]], JPEG, "image/jpeg")
    SENT["gone_b"] = p["id"]


def test_session_not_working():
    st, _, _ = s.api("POST", "/api/sessions/b/stop")
    check(st in (200, 201), st)
    s.wait_status("b", "STOPPED", 20)
    m = one(SENT["gone_b"])
    check("url" not in m["media"], m)
    check("not WORKING" in m["media"]["error"]["message"], m["media"])
    # the list too (WAHA answers 422 for a session that is not WORKING;
    # Wharf answers what it keeps); downloadMedia=false has no error
    got = listed()
    check("not WORKING" in got[SENT["img_b"]]["media"]["error"]["message"],
          got[SENT["img_b"]])
    got = listed("&downloadMedia=false")
    check(got[SENT["img_b"]]["media"] == {"mimetype": "image/jpeg"}, got[SENT["img_b"]])


try:
    run([test_received_without_download, test_download_on_demand,
         test_gone_from_the_server, test_session_not_working])
finally:
    rx.__exit__(None, None, None)
    s.__exit__(None, None, None)
    sim.__exit__(None, None, None)
