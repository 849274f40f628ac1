"""test_wasim_media - media-service against wa-sim's media host over
HTTPS: wa-sim makes a self-signed certificate at start and writes it to a
file (--media-cert), media-service trusts it (MEDIA_CA_FILE), uploads an
encrypted image, downloads and verifies it; wa-sim stores only the
encrypted blob, and expiring it on request makes the download a clear 410.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Real wa-sim, real media-service, node's crypto for an independent
decryption. Loopback only.
"""
import json
import os
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import Stack, check, run  # noqa: E402
from bus import Dealer  # noqa: E402
from media_util import make_files, node_decrypt, sha_b64  # noqa: E402
from wasim import WaSim  # noqa: E402

TMP = tempfile.mkdtemp(prefix="wharf-wasim-media-")
FILES = make_files(TMP)
CERT = os.path.join(TMP, "media.crt")
sim = WaSim("--media-cert", CERT).__enter__()
host = sim.info["media_url"].split("://", 1)[1]
stack = Stack(services=["media-service"], env={"MEDIA_CA_FILE": CERT})
media = Dealer(stack.env["MEDIA_ENDPOINTS"])
CONN = {"auth": sim.info["media_auth"], "hosts": [{"hostname": host}]}


def control(method, path, body=None):
    req = urllib.request.Request(sim.control + path, method=method,
                                 data=json.dumps(body).encode() if body else None)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def test_https_round_trip():
    check(sim.info["media_url"].startswith("https://"), sim.info)
    m = media.call_msg("media.upload", {"kind": "image", "file": {}, "media_conn": CONN},
                       [FILES["a.jpg"]], timeout=30)
    check(m.st == 200 and m.body["url"].startswith("https://"), (m.st, m.reason))
    b = m.body
    st, stats = control("GET", "/media")
    check(st == 200 and stats["blobs"] == 1, stats)
    # the simulator holds the enc file only
    enc_len = ((len(FILES["a.jpg"]) // 16) + 1) * 16 + 10
    check(stats["bytes"] == enc_len, (stats, enc_len))
    req = {"kind": "image", "mediaKey": b["mediaKey"], "directPath": b["directPath"],
           "fileEncSha256": b["fileEncSha256"], "fileSha256": b["fileSha256"],
           "hosts": [host], "return": True}
    d = media.call_msg("media.download", req, timeout=30)
    check(d.st == 200 and d.blobs[0] == FILES["a.jpg"], (d.st, d.reason))
    # an independent decryption of what the simulator serves
    ctx = __import__("ssl").create_default_context(cafile=CERT)
    with urllib.request.urlopen("https://" + host + b["directPath"], context=ctx) as r:
        enc = r.read()
    check(sha_b64(enc) == b["fileEncSha256"], "enc hash")
    check(node_decrypt(enc, b["mediaKey"], "WhatsApp Image Keys") == FILES["a.jpg"],
          "node decrypts the same bytes")
    # expired on request: 410 with a reason
    st, _ = control("POST", "/media/expire", {"direct_path": b["directPath"]})
    check(st == 200, st)
    d = media.call_msg("media.download", req, timeout=30)
    check(d.st == 410 and "expired" in d.reason, (d.st, d.reason))
    st, _ = control("POST", "/media/expire", {"direct_path": b["directPath"]})
    check(st == 404, st)


def test_wrong_auth():
    m = media.call_msg("media.upload", {"kind": "image", "file": {},
                                        "media_conn": dict(CONN, auth="wrong")},
                       [FILES["a.jpg"]], timeout=30)
    check(m.st == 502 and "401" in m.reason, (m.st, m.reason))


try:
    run([test_https_round_trip, test_wrong_auth])
finally:
    media.close()
    stack.close()
    sim.__exit__(None, None, None)
