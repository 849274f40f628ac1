"""test_media_api - the gateway's media routes over real HTTP: media
conversion (/api/{session}/media/convert/voice|video), downloaded files
(/api/files/...) served with the API key, and the send routes refusing bad
input with 400 naming the field before anything is sent.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Real store-service (PostgreSQL), api-gateway, media-service; a real HTTP
file server for file.url. Loopback only.
"""
import base64
import json
import os
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from harness import Stack, check, run  # noqa: E402
from bus import Dealer  # noqa: E402
from media_util import FileServer, make_files  # noqa: E402

TMP = tempfile.mkdtemp(prefix="wharf-media-api-")
FILES = make_files(TMP)
FS = FileServer({"/a.wav": (FILES["a.wav"], "audio/wav"),
                 "/a.pdf": (FILES["a.pdf"], "application/pdf")})
stack = Stack(services=["store-service", "api-gateway", "media-service"],
              env={"MEDIA_FETCH_ALLOW": "127.0.0.1"})
media = Dealer(stack.env["MEDIA_ENDPOINTS"])
st, created, _ = stack.api("POST", "/api/sessions", {"name": "default", "start": False})
check(st == 201, (st, created))
st, wawp, _ = stack.api("POST", "/v2/session/create", {})
check(st in (200, 201), (st, wawp))


def test_convert():
    st, raw, hdrs = stack.raw("POST", "/api/default/media/convert/voice",
                              json.dumps({"url": FS.base + "/a.wav"}),
                              {"X-Api-Key": stack.api_key,
                               "Content-Type": "application/json"}, timeout=60)
    check(st == 201 and raw[:4] == b"OggS", (st, raw[:200]))
    check(hdrs["Content-Type"].startswith("audio/ogg"), hdrs)
    st, body, _ = stack.api("POST", "/api/default/media/convert/voice",
                            {"data": base64.b64encode(FILES["a.mp3"]).decode()},
                            timeout=60)
    check(st == 201 and body["mimetype"] == "audio/ogg; codecs=opus", (st, body))
    check(base64.b64decode(body["data"])[:4] == b"OggS", "ogg data")
    st, body, _ = stack.api("POST", "/api/default/media/convert/video",
                            {"file": {"data": base64.b64encode(FILES["a.webm"]).decode()}},
                            timeout=60)
    check(st == 201 and body["mimetype"] == "video/mp4", (st, body))
    check(base64.b64decode(body["data"])[4:8] == b"ftyp", "mp4 data")
    # bad input: 400 naming the problem; unknown session 404
    st, body, _ = stack.api("POST", "/api/default/media/convert/voice",
                            {"data": base64.b64encode(FILES["a.pdf"]).decode()})
    check(st == 400 and "no audio" in json.dumps(body), (st, body))
    st, body, _ = stack.api("POST", "/api/default/media/convert/voice", {"data": "!!"})
    check(st == 400 and "file.data must be base64" in json.dumps(body), (st, body))
    st, body, _ = stack.api("POST", "/api/default/media/convert/voice",
                            {"url": "http://10.0.0.1/a.wav"})
    check(st == 400 and "not allowed" in json.dumps(body), (st, body))
    st, body, _ = stack.api("POST", "/api/nosuch/media/convert/voice",
                            {"url": FS.base + "/a.wav"})
    check(st == 404, (st, body))
    st, body, _ = stack.api("POST", "/api/default/media/convert/voice",
                            {"url": FS.base + "/a.wav"}, key=False)
    check(st == 401, (st, body))


def test_files():
    name = "false_15550000001@c.us_3EB0FILE01.pdf"
    m = media.call_msg("media.file.put", {"key": "default/" + name}, [FILES["a.pdf"]])
    check(m.st == 200, (m.st, m.reason))
    path = "/api/files/default/" + urllib.parse.quote(name)
    st, raw, hdrs = stack.raw("GET", path, headers={"X-Api-Key": stack.api_key})
    check(st == 200 and raw == FILES["a.pdf"], (st, raw[:100]))
    check(hdrs["Content-Type"] == "application/pdf", hdrs)
    # the key in the query (for <img src>), the short path of "default"
    st, raw, _ = stack.raw("GET", path + "?x-api-key=" + stack.api_key)
    check(st == 200 and raw == FILES["a.pdf"], st)
    st, raw, _ = stack.raw("GET", "/api/files/" + urllib.parse.quote(name),
                           headers={"X-Api-Key": stack.api_key})
    check(st == 200 and raw == FILES["a.pdf"], st)
    # no key: 401; missing: WAHA's 404 shape; traversal: 404
    st, raw, _ = stack.raw("GET", path)
    check(st == 401, st)
    st, body, _ = stack.api("GET", "/api/files/default/nope.pdf")
    check(st == 404 and body["error"]["key"] == "FILE_NOT_FOUND"
          and body["error"]["code"] == 404, (st, body))
    st, body, _ = stack.api("GET", "/api/files/default/..%2F..%2Fetc%2Fpasswd")
    check(st == 404, (st, body))


def test_send_bad_input():
    """Refused with 400 naming the field, before any session lookup."""
    cases = [
        ("/api/sendImage", {"chatId": "15551234567", "file": {"data": "not base64!"}},
         "file.data must be base64"),
        ("/api/sendImage", {"chatId": "15551234567"}, "file.url or file.data is required"),
        ("/api/sendFile", {"chatId": "15551234567", "file": {"url": "ftp://x/y.pdf"}},
         "file.url must be an http or https URL"),
        ("/api/sendFile", {"chatId": "nope", "file": {"url": "http://x/y.pdf"}},
         "chatId must be"),
        ("/api/sendVoice", {"chatId": "15551234567", "file": {"url": "http://x/a"},
                            "convert": "perhaps"}, "convert must be a boolean"),
        ("/api/sendVideo", {"chatId": "15551234567", "file": {"url": "http://x/a"},
                            "caption": 5}, "caption must be a string"),
        ("/api/sendImage", {"chatId": "15551234567", "file": {"url": "http://x/a"},
                            "mentions": ["zz"]}, "mentions must be"),
    ]
    for path, body, says in cases:
        st, got, _ = stack.api("POST", path, body)
        check(st == 400 and says in json.dumps(got), (path, st, got))
        check(got["statusCode"] == 400, got)
    # Wawp flat keys from the query, Wawp's error shape
    q = {"instance_id": wawp["instance_id"], "access_token": wawp["access_token"],
         "chatId": "15551234567", "file[data]": "%%%"}
    st, got, _ = stack.api("GET", "/v2/send/image?" + urllib.parse.urlencode(q), key=False)
    check(st == 400 and got["status"] == 400 and "file.data" in got["message"], (st, got))
    # good input, but the session is not WORKING: 422; unknown session 404
    good = {"chatId": "15551234567", "file": {"url": FS.base + "/a.pdf",
                                              "filename": "a.pdf"}}
    st, got, _ = stack.api("POST", "/api/sendFile", good)
    check(st == 422 and got["status"] == "STOPPED" and got["expected"] == ["WORKING"],
          (st, got))
    st, got, _ = stack.api("POST", "/api/sendFile", dict(good, session="nosuch"))
    check(st == 404, (st, got))


try:
    run([test_convert, test_files, test_send_bad_input])
finally:
    media.close()
    stack.close()
    FS.close()
