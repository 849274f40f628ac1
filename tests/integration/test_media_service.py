"""test_media_service - media-service over the bus: input from blobs and
URLs, content checks, per-kind processing with ffmpeg and the image
libraries, encryption and upload to media hosts with fallback, download
with verification, local storage, and bad input refused with clear 4xx.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Real media-service process, real HTTPS media hosts (media_util.MediaHost,
self-signed certificate trusted through MEDIA_CA_FILE), a real HTTP file
server, and an independent decryption in node's crypto. Loopback only.
"""
import base64
import hashlib
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Stack, check, free_port, run  # noqa: E402
from bus import Dealer  # noqa: E402
from media_util import (FileServer, MediaHost, b64, make_cert, make_files,  # noqa: E402
                        node_decrypt, sha_b64)

TMP = tempfile.mkdtemp(prefix="wharf-media-")
CERT, KEY = make_cert(TMP)
FILES = make_files(TMP)
MAX = 4 * 1024 * 1024
FS = FileServer({
    "/a.pdf": (FILES["a.pdf"], "application/pdf"),
    "/a.jpg": (FILES["a.jpg"], "image/jpeg"),
    "/a.wav": (FILES["a.wav"], "audio/wav"),
    "/fake.jpg": (FILES["a.pdf"], "image/jpeg"),
    "/big.bin": (b"\0" * (MAX + 1024), "application/octet-stream"),
})
HOST = MediaHost(CERT, KEY)
DOWN = MediaHost(CERT, KEY, failing=True)
ENV = {"MEDIA_CA_FILE": CERT, "MEDIA_FETCH_ALLOW": "127.0.0.1",
       "MEDIA_MAX_BYTES": str(MAX), "MEDIA_FETCH_TIMEOUT_MS": "5000",
       "MEDIA_WORKERS": "2"}
CONN = {"auth": HOST.auth, "ttl": 300, "hosts": [{"hostname": HOST.host}]}
INFO = {"image": "WhatsApp Image Keys", "document": "WhatsApp Document Keys",
        "voice": "WhatsApp Audio Keys", "video": "WhatsApp Video Keys"}

stack = Stack(services=["media-service"], env=ENV)
media = Dealer(stack.env["MEDIA_ENDPOINTS"])


def upload(kind, file=None, blob=None, conn=CONN, timeout=60, **extra):
    body = {"kind": kind, "media_conn": conn, "file": file or {}}
    body.update(extra)
    m = media.call_msg("media.upload", body, [blob] if blob is not None else [],
                       timeout=timeout)
    check(m is not None, "media.upload timed out")
    return m


def check_uploaded(m, kind, plain=None):
    """The host holds exactly the enc file the reply describes, and node
    decrypts it to the plaintext."""
    check(m.st == 200, (m.st, m.reason))
    b = m.body
    path = b["directPath"]
    enc = HOST.blobs[path]
    check(b["url"].endswith(path), b)
    check(sha_b64(enc) == b["fileEncSha256"], "fileEncSha256")
    got = node_decrypt(enc, b["mediaKey"], INFO[kind])
    check(sha_b64(got) == b["fileSha256"], "fileSha256")
    check(len(got) == b["fileLength"], "fileLength")
    check(len(base64.b64decode(b["mediaKey"])) == 32, "mediaKey")
    check(abs(b["mediaKeyTimestamp"] - time.time()) < 60, "mediaKeyTimestamp")
    if plain is not None:
        check(got == plain, "decrypted bytes differ from the input")
    check(enc[:len(got)] != got[:len(enc)], "the host saw plaintext")
    return got


def test_image_blob():
    m = upload("image", {"mimetype": "image/jpeg"}, FILES["a.jpg"])
    check_uploaded(m, "image", FILES["a.jpg"])
    b = m.body
    check(b["kind"] == "image" and b["mimetype"] == "image/jpeg", b)
    check((b["width"], b["height"]) == (320, 240), b)
    check(b.get("thumbnail") is True and len(m.blobs) == 1, "thumbnail blob")
    thumb = m.blobs[0]
    check(thumb[:3] == b"\xff\xd8\xff", "thumbnail is a JPEG")
    up = HOST.uploads[-1]
    check(up["type"] == "image" and up["origin"] == "https://web.whatsapp.com", up)


def test_png_and_fallback():
    conn = {"auth": HOST.auth, "hosts": [{"hostname": DOWN.host}, {"hostname": HOST.host}]}
    m = upload("image", {}, FILES["a.png"], conn=conn)
    check_uploaded(m, "image", FILES["a.png"])
    check(m.body["host"] == HOST.host, m.body)
    check(m.body["mimetype"] == "image/png" and m.body["height"] == 300, m.body)


def test_document_url():
    m = upload("document", {"url": FS.base + "/a.pdf", "filename": "report.pdf",
                            "mimetype": "application/pdf"})
    check_uploaded(m, "document", FILES["a.pdf"])
    check(m.body["filename"] == "report.pdf", m.body)
    check(m.body["mimetype"] == "application/pdf", m.body)
    check(HOST.uploads[-1]["type"] == "document", HOST.uploads[-1])


def test_voice_convert():
    m = upload("voice", {"url": FS.base + "/a.wav"}, convert=True)
    got = check_uploaded(m, "voice")
    b = m.body
    check(got[:4] == b"OggS" and b"OpusHead" in got[:100], "an Ogg Opus file")
    check(b["mimetype"] == "audio/ogg; codecs=opus" and b["ptt"] is True, b)
    check(b["seconds"] == 2, b)
    wave = base64.b64decode(b["waveform"])
    check(len(wave) == 64 and max(wave) == 100, list(wave))
    check(HOST.uploads[-1]["type"] == "audio", HOST.uploads[-1])
    # an mp3 without convert is refused, naming the fix
    m = upload("voice", {"mimetype": "audio/mpeg"}, FILES["a.mp3"])
    check(m.st == 400 and "convert: true" in m.reason, (m.st, m.reason))
    # with convert it is transcoded
    m = upload("voice", {}, FILES["a.mp3"], convert=True)
    check(m.st == 200 and m.body["seconds"] == 2, (m.st, m.reason))


def test_video():
    m = upload("video", {"mimetype": "video/mp4"}, FILES["a.mp4"], caption="x")
    check_uploaded(m, "video", FILES["a.mp4"])
    b = m.body
    check((b["width"], b["height"], b["seconds"]) == (320, 240, 1), b)
    check(b["mimetype"] == "video/mp4" and len(m.blobs) == 1, b)
    # a WebM needs convert
    m = upload("video", {}, FILES["a.webm"])
    check(m.st == 400 and "convert: true" in m.reason, (m.st, m.reason))
    m = upload("video", {}, FILES["a.webm"], convert=True)
    got = check_uploaded(m, "video")
    check(got[4:8] == b"ftyp", "converted to mp4")
    # a round video note is square
    m = upload("video", {}, FILES["a.mp4"], asNote=True)
    check(m.st == 200 and m.body["width"] == m.body["height"] == 240, m.body)


def test_bad_input():
    closed = "http://127.0.0.1:%d/x.jpg" % free_port()
    cases = [
        ({"url": closed}, None, 400, "could not fetch file.url"),
        ({"url": FS.base + "/big.bin"}, None, 413, "larger than"),
        (None, b"\0" * (MAX + 1), 413, "larger than"),
        ({"url": FS.base + "/fake.jpg"}, None, 400, "its content is application/pdf"),
        ({"mimetype": "image/png"}, FILES["a.jpg"], 400, "not image/png"),
        ({"url": "http://127.0.0.2:%d/a.jpg" % FS.port}, None, 400, "not allowed"),
        ({"url": FS.base + "/redirect?to=http://127.0.0.2:%d/a.jpg" % FS.port}, None,
         400, "not allowed"),
        ({"url": "http://169.254.169.254/latest/meta-data/"}, None, 400, "not allowed"),
        ({"url": "http://[::1]:%d/a.jpg" % FS.port}, None, 400, "not allowed"),
        ({"url": FS.base + "/missing.jpg"}, None, 400, "answered 404"),
        ({"url": "file:///etc/passwd"}, None, 400, "http"),
        ({}, None, 400, "file.url or file.data is required"),
    ]
    n = len(HOST.uploads)
    for file, blob, st, says in cases:
        m = upload("image", file, blob)
        check(m.st == st and says in (m.reason or ""), (file, m.st, m.reason))
    check(len(HOST.uploads) == n, "nothing was uploaded")
    # the allowed address works through a redirect
    m = upload("image", {"url": FS.base + "/redirect?to=" + FS.base + "/a.jpg"})
    check_uploaded(m, "image", FILES["a.jpg"])
    # no media host answers
    m = upload("image", {}, FILES["a.jpg"], conn={"auth": "x", "hosts": [DOWN.host]})
    check(m.st == 502 and "answered 500" in m.reason, (m.st, m.reason))


def test_download_and_store():
    m = upload("image", {}, FILES["a.jpg"])
    b = m.body
    key = "s1/false_15550000001@c.us_3EB0AA.jpeg"
    req = {"kind": "image", "mediaKey": b["mediaKey"], "directPath": b["directPath"],
           "fileEncSha256": b["fileEncSha256"], "fileSha256": b["fileSha256"],
           "hosts": [HOST.host], "mimetype": "image/jpeg", "key": key, "return": True}
    d = media.call_msg("media.download", req)
    check(d.st == 200 and d.blobs[0] == FILES["a.jpg"], (d.st, d.reason))
    check(d.body["key"] == key and d.body["size"] == len(FILES["a.jpg"]), d.body)
    g = media.call_msg("media.file.get", {"key": key})
    check(g.st == 200 and g.blobs[0] == FILES["a.jpg"], (g.st, g.reason))
    check(g.body["mimetype"] == "image/jpeg", g.body)
    path = os.path.join(stack.env["WHATSAPP_FILES_FOLDER"], key)
    with open(path, "rb") as f:
        check(f.read() == FILES["a.jpg"], "the stored file")
    # by url first, hosts unused
    req2 = dict(req, url=b["url"], hosts=["127.0.0.1:%d" % free_port()], key=None)
    del req2["key"]
    d = media.call_msg("media.download", req2)
    check(d.st == 200 and d.blobs[0] == FILES["a.jpg"], (d.st, d.reason))
    # tampered: 422; a wrong hash: 422; gone: 410
    enc = HOST.blobs[b["directPath"]]
    HOST.blobs[b["directPath"]] = enc[:-1] + bytes([enc[-1] ^ 1])
    d = media.call_msg("media.download", dict(req2, fileEncSha256=None))
    check(d.st == 422 and "verification" in d.reason, (d.st, d.reason))
    HOST.blobs[b["directPath"]] = enc
    d = media.call_msg("media.download", dict(req2, fileSha256=sha_b64(b"other")))
    check(d.st == 422, (d.st, d.reason))
    del HOST.blobs[b["directPath"]]
    d = media.call_msg("media.download", req2)
    check(d.st == 410 and "expired" in d.reason, (d.st, d.reason))
    d = media.call_msg("media.download", dict(req2, mediaKey=b64(b"short")))
    check(d.st == 400, (d.st, d.reason))
    g = media.call_msg("media.file.get", {"key": "s1/../../etc/passwd"})
    check(g.st == 400, (g.st, g.reason))
    g = media.call_msg("media.file.get", {"key": "s1/none.jpeg"})
    check(g.st == 404, (g.st, g.reason))


def test_convert():
    m = media.call_msg("media.convert", {"kind": "voice", "file": {"url": FS.base + "/a.wav"}},
                       timeout=60)
    check(m.st == 200 and m.blobs[0][:4] == b"OggS", (m.st, m.reason))
    check(m.body["mimetype"] == "audio/ogg; codecs=opus", m.body)
    m = media.call_msg("media.convert", {"kind": "video", "file": {}}, [FILES["a.webm"]],
                       timeout=60)
    check(m.st == 200 and m.blobs[0][4:8] == b"ftyp", (m.st, m.reason))
    m = media.call_msg("media.convert", {"kind": "voice", "file": {}}, [FILES["a.pdf"]])
    check(m.st == 400 and "no audio" in m.reason, (m.st, m.reason))


def test_parallel():
    """Two workers: a slow conversion does not hold a quick request."""
    slow = Dealer(stack.env["MEDIA_ENDPOINTS"])
    slow.send("media.convert", {"kind": "video", "file": {"url": FS.base + "/a.wav"}})
    t0 = time.time()
    m = media.call_msg("media.file.get", {"key": "s1/none.jpeg"})
    check(m.st == 404 and time.time() - t0 < 2, "quick request served")
    slow.recv(60)
    slow.close()


def test_killed_during_upload():
    """media-service SIGKILLed while a media host holds an upload: the
    caller gets no reply (it fails at its own deadline; nothing half-done
    is reported as done), and a restarted media-service does the same
    request completely."""
    import threading
    HOST.delay = 3.0
    HOST.received.clear()
    result = {}

    def call():
        try:
            result["m"] = media.call_msg("media.upload",
                                         {"kind": "image", "file": {},
                                          "media_conn": CONN},
                                         [FILES["a.jpg"]], timeout=8)
        except (ConnectionError, OSError):
            result["m"] = None  # the connection died with the process
    t = threading.Thread(target=call)
    t.start()
    check(HOST.received.wait(10), "the upload reached the host")
    stack.proc("media-service").kill()
    t.join()
    check(result["m"] is None, "no reply from a killed media-service")
    HOST.delay = 0
    stack.proc("media-service").start()
    global media
    media.close()
    media = Dealer(stack.env["MEDIA_ENDPOINTS"])
    m = upload("image", {}, FILES["a.jpg"], timeout=30)
    check_uploaded(m, "image", FILES["a.jpg"])


try:
    run([test_image_blob, test_png_and_fallback, test_document_url, test_voice_convert,
         test_video, test_bad_input, test_download_and_store, test_convert,
         test_parallel, test_killed_during_upload])
finally:
    media.close()
    stack.close()
    FS.close()
    HOST.close()
    DOWN.close()
