"""test_engine_media - media end to end through the full stack with
wa-sim: session a sends images, documents, voice notes and videos with
WAHA's bodies; media-service fetches, converts, encrypts and uploads them
to wa-sim's HTTPS media host; session b receives them, media-service
downloads, verifies and decrypts them, and b's events carry media.url,
which serves the identical bytes with the API key.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Stickers: a WebP sent as it is, a PNG made a 512x512 WebP (the Wawp
route), each received as a sticker with the bytes a stored; GET of one
message by id carries media.

Also: bad input is a 4xx and nothing is sent; an expired blob gives the
event a media.error (never a crash); GET .../messages carries media; media-service SIGKILLed during an upload makes the send
fail cleanly, and a send after its restart completes once.

Real PostgreSQL, every service, wa-sim with --media-cert, an HTTP file
server for file.url. Loopback only.
"""
import base64
import json
import os
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from harness import Receiver, check, run, wait_for  # noqa: E402
from engine_util import hooks, linked, stack  # noqa: E402
from media_util import FileServer, make_files  # noqa: E402
from wasim import WaSim  # noqa: E402

TMP = tempfile.mkdtemp(prefix="wharf-engine-media-")
FILES = make_files(TMP)
BIG = os.urandom(3 * 1024 * 1024)  # over MEDIA_MAX_BYTES below
FS = FileServer({"/a.jpg": (FILES["a.jpg"], "image/jpeg"),
                 "/a.png": (FILES["a.png"], "image/png"),
                 "/a.pdf": (FILES["a.pdf"], "application/pdf"),
                 "/a.mp3": (FILES["a.mp3"], "audio/mpeg"),
                 "/big.jpg": (BIG, "image/jpeg")})
CERT = os.path.join(TMP, "media.crt")
A, B = "15550007001", "15550007002"
TO_B = B + "@c.us"

sim = WaSim("--media-cert", CERT).__enter__()
s = stack(sim, MEDIA_CA_FILE=CERT, MEDIA_FETCH_ALLOW="127.0.0.1",
          MEDIA_MAX_BYTES=str(2 * 1024 * 1024)).__enter__()
rx = Receiver().__enter__()
linked(s, sim, rx, [("a", A, "Alice"), ("b", B, "Bob")])


def fetch(url):
    """GET a media.url (with the API key): (status, bytes, content type)."""
    u = urllib.parse.urlparse(url)
    check(u.netloc == s.base.split("://", 1)[1], url)
    st, raw, hdrs = s.raw("GET", u.path, headers={"X-Api-Key": s.api_key})
    return st, raw, hdrs.get("Content-Type", "")


def at_b(msg_id):
    """b's `message` event for a's message id (a's id is true_..., b's
    false_<a>_<same stanza id>)."""
    stanza = msg_id.split("_")[2]
    got = wait_for(lambda: [e for e in hooks(rx, "b", "message")
                            if e["payload"]["id"].endswith("_" + stanza)],
                   40, what="message %s at b" % stanza)
    return got[0]["payload"]


def send(path, body, expect=201, timeout=90):
    st, got, _ = s.api("POST", path, dict({"session": "a", "chatId": TO_B}, **body),
                       timeout=timeout)
    check(st == expect, (path, st, got))
    return got


def check_sent(got, mimetype, body=""):
    check(got["fromMe"] is True and got["hasMedia"] is True, got)
    check(got["id"].startswith("true_" + TO_B + "_"), got)
    check(got["body"] == body and got["ack"] == 1, got)
    check(got["media"]["mimetype"] == mimetype and "error" not in got["media"], got)
    check(got["mediaUrl"] == got["media"]["url"], got)


def check_received(p, want, mimetype, body="", filename=None):
    check(p["fromMe"] is False and p["from"] == A + "@c.us", p)
    check(p["hasMedia"] is True and p["body"] == body, p)
    m = p["media"]
    check("error" not in m and m["mimetype"] == mimetype, m)
    check(m.get("filename") == filename, m)
    check(p["mediaUrl"] == m["url"], p)
    check(m["url"].startswith(s.base + "/api/files/b/false_"), m)
    st, raw, ctype = fetch(m["url"])
    check(st == 200 and raw == want, (st, len(raw), len(want)))
    return ctype


def test_image_by_url():
    got = send("/api/sendImage", {"file": {"url": FS.base + "/a.jpg"},
                                  "caption": "look"})
    check_sent(got, "image/jpeg", "look")
    # the sender's copy is served too
    st, raw, _ = fetch(got["media"]["url"])
    check(st == 200 and raw == FILES["a.jpg"], st)
    p = at_b(got["id"])
    ctype = check_received(p, FILES["a.jpg"], "image/jpeg", "look")
    check(ctype == "image/jpeg", ctype)
    check(p["_data"]["type"] == "image", p["_data"])
    # message.any at a carries the media too
    anys = wait_for(lambda: [e for e in hooks(rx, "a", "message.any")
                             if e["payload"]["id"] == got["id"]], 20, what="any at a")
    check(anys[0]["payload"]["media"]["url"] == got["media"]["url"], anys[0])
    # stored: the chat's messages carry media
    st, lst, _ = s.api("GET", "/api/b/chats/%s@c.us/messages?downloadMedia=true&limit=5" % A)
    check(st == 200 and any(m["id"] == p["id"] and m["media"]["url"] == p["media"]["url"]
                            for m in lst), (st, lst))
    # downloadMedia=false: the same message without the file (WAHA: not
    # downloaded), the rest as stored; the Wawp alias too
    st, lst, _ = s.api("GET", "/api/b/chats/%s@c.us/messages?downloadMedia=false&limit=5" % A)
    check(st == 200, (st, lst))
    undl = [m for m in lst if m["id"] == p["id"]]
    check(len(undl) == 1, lst)
    m = undl[0]
    check(m["hasMedia"] is True and m["media"] == {"mimetype": "image/jpeg"}, m)
    check("mediaUrl" not in m, m)
    for k in ("id", "timestamp", "from", "fromMe", "to", "participant", "body"):
        check(m[k] == p[k], (k, m[k], p[k]))
    st, one, _ = s.api("GET", "/api/b/chats/%s@c.us/messages/%s?downloadMedia=false"
                       % (A, p["id"]))
    check(st == 200 and one["media"] == {"mimetype": "image/jpeg"} and "mediaUrl" not in one,
          (st, one))
    st, one, _ = s.api("GET", "/api/b/chats/%s@c.us/messages/%s?downloadMedia=0"
                       % (A, p["id"]))
    check(st == 200 and one["media"] == {"mimetype": "image/jpeg"}, (st, one))
    st, one, _ = s.api("GET", "/api/b/chats/%s@c.us/messages/%s?downloadMedia=yes"
                       % (A, p["id"]))
    check(st == 400 and "downloadMedia" in json.dumps(one), (st, one))
    st, lst, _ = s.api("GET", "/v2/chats/%s@c.us/messages?instance_id=b&downloadMedia=false"
                       % A)
    check(st == 200 and [m["media"] for m in lst if m["id"] == p["id"]]
          == [{"mimetype": "image/jpeg"}], (st, lst))
    # a's own copy, downloadMedia=true (WAHA's default): the file stays
    st, lst, _ = s.api("GET", "/api/a/chats/%s/messages?limit=5" % TO_B)
    check(st == 200 and [m["media"]["url"] for m in lst if m["id"] == got["id"]]
          == [got["media"]["url"]], (st, lst))


def test_pdf_by_data():
    got = send("/api/sendFile", {"file": {"data": base64.b64encode(FILES["a.pdf"]).decode(),
                                          "mimetype": "application/pdf",
                                          "filename": "report.pdf"},
                                 "caption": "the report"})
    check_sent(got, "application/pdf", "the report")
    check(got["media"]["filename"] == "report.pdf", got)
    p = at_b(got["id"])
    check_received(p, FILES["a.pdf"], "application/pdf", "the report", "report.pdf")
    check(p["_data"]["type"] == "document", p["_data"])


def test_voice_converted():
    got = send("/api/sendVoice", {"file": {"url": FS.base + "/a.mp3"}, "convert": True})
    check_sent(got, "audio/ogg; codecs=opus")
    st, sent, _ = fetch(got["media"]["url"])
    check(st == 200 and sent[:4] == b"OggS", (st, sent[:8]))
    p = at_b(got["id"])
    check_received(p, sent, "audio/ogg; codecs=opus")
    check(p["_data"]["type"] == "ptt", p["_data"])


def test_video_converted():
    # a webm converted to H.264/AAC mp4
    got = send("/api/sendVideo", {"file": {"data": base64.b64encode(FILES["a.webm"]).decode(),
                                           "mimetype": "video/webm"},
                                  "convert": True, "caption": "clip"})
    check_sent(got, "video/mp4", "clip")
    st, sent, _ = fetch(got["media"]["url"])
    check(st == 200 and sent[4:8] == b"ftyp", st)
    p = at_b(got["id"])
    check_received(p, sent, "video/mp4", "clip")
    check(p["_data"]["type"] == "video", p["_data"])


def test_sticker():
    # A WebP goes as it is (Wawp's route too); b gets a sticker with the
    # identical bytes
    got = send("/api/sendSticker", {"file": {"data": base64.b64encode(FILES["a.webp"]).decode(),
                                             "mimetype": "image/webp"}})
    check_sent(got, "image/webp")
    p = at_b(got["id"])
    check_received(p, FILES["a.webp"], "image/webp")
    check(p["_data"]["type"] == "sticker", p["_data"])
    # A PNG (200x300) by URL becomes a 512x512 WebP; b gets what a stored
    st, wgot, _ = s.api("POST", "/v2/send/sticker", {"instance_id": "a", "chatId": TO_B,
                                                     "file[url]": FS.base + "/a.png"},
                        timeout=90)
    check(st == 200 and wgot["hasMedia"] is True, (st, wgot))
    check_sent(wgot, "image/webp")
    st, sent, ctype = fetch(wgot["media"]["url"])
    check(st == 200 and sent[:4] == b"RIFF" and sent[8:12] == b"WEBP", (st, sent[:16]))
    check(ctype == "image/webp", ctype)
    p = at_b(wgot["id"])
    check_received(p, sent, "image/webp")
    # GET by id at b carries the media too
    st, one, _ = s.api("GET", "/api/b/chats/%s@c.us/messages/%s" % (A, p["id"]))
    check(st == 200 and one["id"] == p["id"] and one["hasMedia"] is True
          and one["media"]["url"] == p["media"]["url"]
          and one["media"]["mimetype"] == "image/webp", (st, one))
    st, one, _ = s.api("GET", "/api/b/chats/%s@c.us/messages/%s?downloadMedia=true"
                       % (A, p["id"]))
    check(st == 200 and one["media"] == p["media"], (st, one))
    st, raw, _ = fetch(one["media"]["url"])
    check(st == 200 and raw == sent, st)


def test_bad_input_sends_nothing():
    before = len(hooks(rx, "b", "message"))
    cases = [
        ({"file": {"url": "http://127.0.0.1:1/x.jpg"}}, 400, "could not fetch file.url"),
        ({"file": {"url": FS.base + "/big.jpg"}}, 413, ""),
        ({"file": {"url": FS.base + "/a.pdf", "mimetype": "image/jpeg"}}, 400, "pdf"),
        ({"file": {"data": "%%% not base64"}}, 400, "base64"),
        ({"file": {"url": "http://169.254.169.254/latest/meta-data"}}, 400, "not allowed"),
        ({"file": {"url": FS.base + "/missing.jpg"}}, 400, "404"),
    ]
    for body, code, says in cases:
        got = send("/api/sendImage", body, expect=code)
        check(says.lower() in json.dumps(got).lower(), (body, got))
    # A sticker must be an image
    got = send("/api/sendSticker", {"file": {"url": FS.base + "/a.pdf"}}, expect=400)
    check("not an image" in got["message"], got)
    # a text after them arrives, and nothing else did
    st, t, _ = s.api("POST", "/api/sendText", {"session": "a", "chatId": TO_B,
                                               "text": "after bad input"})
    check(st == 201, (st, t))
    wait_for(lambda: [e for e in hooks(rx, "b", "message")
                      if e["payload"]["body"] == "after bad input"], 30, what="marker")
    check(len(hooks(rx, "b", "message")) == before + 1, hooks(rx, "b", "message")[before:])


def test_expired_media_is_an_error():
    # b is stopped; a's image waits in wa-sim's queue; its blob expires
    st, _, _ = s.api("POST", "/api/sessions/b/stop")
    check(st in (200, 201), st)
    s.wait_status("b", "STOPPED", 20)
    got = send("/api/sendImage", {"file": {"url": FS.base + "/a.jpg"}, "caption": "gone"})
    st, res = sim.ctl("POST", "/media/expire", {"all": True})
    check(st == 200 and res["expired"] >= 1, (st, res))
    st, _, _ = s.api("POST", "/api/sessions/b/start")
    check(st in (200, 201), st)
    p = at_b(got["id"])
    check(p["hasMedia"] is True and p["body"] == "gone", p)
    # WAHA's WAMedia: no url, error an object; no mediaUrl
    check("url" not in p["media"] and "mediaUrl" not in p, p)
    check("expired" in p["media"]["error"]["message"], p["media"])
    check(p["media"]["mimetype"] == "image/jpeg", p["media"])


def test_media_service_killed_during_upload():
    # a slow upload (a conversion) is in flight when media-service dies:
    # the send fails cleanly; after a restart the same send completes once
    proc = s.proc("media-service")
    result = {}

    def sender():
        result["r"] = s.api("POST", "/api/sendVoice",
                            {"session": "a", "chatId": TO_B,
                             "file": {"url": FS.base + "/a.mp3"}, "convert": True,
                             "caption": "x"}, timeout=120)
    before = len(hooks(rx, "b", "message"))
    th = threading.Thread(target=sender)
    th.start()
    time.sleep(0.3)
    proc.expected_exit = True
    proc.kill()
    th.join(150)
    st, got, _ = result["r"]
    # cleanly failed, or (when the kill came late) completed
    check(st in (201, 500, 502, 503, 504), (st, got))
    s.start("media-service")
    got2 = None
    for _ in range(20):
        st2, got2, _ = s.api("POST", "/api/sendVoice",
                             {"session": "a", "chatId": TO_B,
                              "file": {"url": FS.base + "/a.mp3"}, "convert": True},
                             timeout=90)
        if st2 == 201:
            break
        time.sleep(0.5)
    check(st2 == 201, (st2, got2))
    at_b(got2["id"])
    if st == 201:
        at_b(got["id"])
    time.sleep(1.0)
    news = hooks(rx, "b", "message")[before:]
    check(len(news) == (2 if st == 201 else 1), [e["payload"]["id"] for e in news])


try:
    run([test_image_by_url, test_pdf_by_data, test_voice_converted,
         test_video_converted, test_sticker, test_bad_input_sends_nothing,
         test_expired_media_is_an_error, test_media_service_killed_during_upload])
finally:
    rx.__exit__(None, None, None)
    s.__exit__(None, None, None)
    sim.__exit__(None, None, None)
    FS.close()
