"""test_media_s3 - media-service keeping downloaded media in an
S3-compatible object store (WAHA_MEDIA_STORAGE=S3, AWS Signature V4), and
the gateway serving it at /api/files/...

Copyright (c) 2026 the Wharf authors. Apache-2.0.

s3rver (npm, an independent S3 implementation) runs on loopback with a
bucket. s3rver 3.7.1 checks that a V4 request names a known access key
but never computes its signature (its authentication middleware says so:
"Signature version 4 calculation is unimplemeneted"), so by itself it
accepts any secret. The tests therefore reach it through s3_verify's
proxy, which recomputes every request's AWS Signature V4 from AWS's
specification (checked at import against AWS's documented example) and
the body's SHA-256, and refuses a mismatch with 403 before s3rver sees
it. media-service downloads an encrypted image from a WhatsApp-like
HTTPS media host, verifies and decrypts it and puts it in the bucket;
the object is there with the exact bytes (a download with `reuse`
finds it by a signed HEAD and asks no media host), the gateway serves it, two
media-services share it; an unknown access key and a wrong secret are
refused (503, nothing stored or served), and every request of the good
ones passed the signature check. Then the engine end to end on S3: a
Wharf session sends an image to another through wa-sim, and the
receiver's media.url serves the identical bytes from the bucket. Exits
77 (skip) when npm was unreachable.
"""
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse

SRC = os.environ.get("WHARF_SOURCE_DIR",
                     os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
from harness import BIN, Stack, check, free_port, run, wait_for  # noqa: E402
from bus import Dealer  # noqa: E402
from media_util import MediaHost, make_cert, make_files  # noqa: E402
sys.path.insert(0, os.path.join(SRC, "tests", "interop"))
from s3_verify import SigV4Proxy  # noqa: E402

NPM_DIR = os.environ.get("WHARF_INTEROP_DIR",
                         os.path.join(BIN, "..", "tests", "interop", "npm"))
S3RVER = os.path.join(NPM_DIR, "node_modules", "s3rver", "bin", "s3rver.js")
if not os.path.exists(S3RVER):
    with open(os.path.join(NPM_DIR, "STATUS")) as f:
        if f.read().strip() == "unreachable":
            print("skip: npm was unreachable")
            sys.exit(77)
    raise SystemExit("s3rver is not installed in %s" % NPM_DIR)

TMP = tempfile.mkdtemp(prefix="wharf-s3-")
CERT, KEY = make_cert(TMP)
FILES = make_files(TMP)
HOST = MediaHost(CERT, KEY)
S3_PORT = free_port()
S3_DIR = os.path.join(TMP, "s3")
s3 = subprocess.Popen([os.environ.get("WHARF_NODE", "node"), S3RVER, "-d", S3_DIR,
                       "-a", "127.0.0.1", "-p", str(S3_PORT), "--silent",
                       "--configure-bucket", "wharf-media"],
                      cwd=NPM_DIR, stdout=subprocess.DEVNULL,
                      stderr=open(os.path.join(TMP, "s3rver.log"), "wb"))
PROXY = SigV4Proxy("127.0.0.1", S3_PORT, "S3RVER", "S3RVER", "us-east-1")
ENV = {"WAHA_MEDIA_STORAGE": "S3", "WAHA_S3_BUCKET": "wharf-media",
       "WAHA_S3_REGION": "us-east-1",
       "WAHA_S3_ENDPOINT": PROXY.base,
       "WAHA_S3_ACCESS_KEY_ID": "S3RVER", "WAHA_S3_SECRET_ACCESS_KEY": "S3RVER",
       "WAHA_S3_FORCE_PATH_STYLE": "true", "MEDIA_CA_FILE": CERT}


def s3_ready():
    import socket
    try:
        socket.create_connection(("127.0.0.1", S3_PORT), 0.2).close()
        return True
    except OSError:
        return False


wait_for(s3_ready, 20, what="s3rver")
stack = Stack(services=["store-service", "api-gateway", "media-service"], env=ENV)
media = Dealer(stack.env["MEDIA_ENDPOINTS"])
st, _, _ = stack.api("POST", "/api/sessions", {"name": "default", "start": False})
check(st == 201, st)
NAME = "false_15550000001@c.us_3EB0S3S3S3.jpeg"
KEY_ = "default/" + NAME


def object_bytes(key):
    """The object as s3rver keeps it on disk (its own layout)."""
    for root, _, files in os.walk(os.path.join(S3_DIR, "wharf-media")):
        for f in files:
            p = os.path.join(root, f)
            rel = os.path.relpath(p, os.path.join(S3_DIR, "wharf-media"))
            if rel.startswith(key) and not f.endswith(("._S3rver_metadata.json",
                                                       "._S3rver_object.md5")):
                with open(p, "rb") as fh:
                    return fh.read()
    return None


def test_download_into_s3():
    up = media.call_msg("media.upload", {"kind": "image", "file": {},
                                         "media_conn": {"auth": HOST.auth,
                                                        "hosts": [HOST.host]}},
                        [FILES["a.jpg"]], timeout=60)
    check(up.st == 200, (up.st, up.reason))
    b = up.body
    d = media.call_msg("media.download", {
        "kind": "image", "mediaKey": b["mediaKey"], "directPath": b["directPath"],
        "fileEncSha256": b["fileEncSha256"], "fileSha256": b["fileSha256"],
        "hosts": [HOST.host], "key": KEY_}, timeout=30)
    check(d.st == 200 and d.body["key"] == KEY_, (d.st, d.reason))
    check(object_bytes(KEY_) == FILES["a.jpg"], "the object in the bucket")
    # a download on demand (`reuse`) finds the object (a signed HEAD) and
    # asks no media host (this one is unreachable); another name is
    # downloaded, so it fails on that host
    for name, want in ((KEY_[:-len(".jpeg")], 200), ("default/not_there", 502)):
        d = media.call_msg("media.download", {
            "kind": "image", "mediaKey": b["mediaKey"], "directPath": b["directPath"],
            "fileEncSha256": b["fileEncSha256"], "fileSha256": b["fileSha256"],
            "hosts": ["127.0.0.1:1"], "store": name, "mimetype": "image/jpeg",
            "reuse": True}, timeout=30)
        check(d.st == want, (name, d.st, d.reason))
    check(d.st == 502, d.st)
    d = media.call_msg("media.download", {
        "kind": "image", "mediaKey": b["mediaKey"], "directPath": b["directPath"],
        "hosts": ["127.0.0.1:1"], "store": KEY_[:-len(".jpeg")],
        "mimetype": "image/jpeg", "reuse": True}, timeout=30)
    check(d.st == 200 and d.body["key"] == KEY_ and d.body["reused"] is True
          and "size" not in d.body, (d.st, d.body))


def test_served_from_s3():
    st, raw, hdrs = stack.raw("GET", "/api/files/default/" + urllib.parse.quote(NAME),
                              headers={"X-Api-Key": stack.api_key})
    check(st == 200 and raw == FILES["a.jpg"], (st, raw[:100]))
    check(hdrs["Content-Type"] == "image/jpeg", hdrs)
    st, body, _ = stack.api("GET", "/api/files/default/missing.jpeg")
    check(st == 404 and body["error"]["key"] == "FILE_NOT_FOUND", (st, body))


def test_second_instance_and_put():
    """Another media-service on the same bucket serves the same file."""
    port = free_port()
    stack.start("media-service", tag="media-service-2",
                env={"MEDIA_BIND": "tcp://127.0.0.1:%d" % port,
                     "WHATSAPP_FILES_FOLDER": os.path.join(TMP, "unused")})
    other = Dealer("tcp://127.0.0.1:%d" % port)
    g = other.call_msg("media.file.get", {"key": KEY_})
    check(g.st == 200 and g.blobs[0] == FILES["a.jpg"], (g.st, g.reason))
    big = os.urandom(3 * 1024 * 1024)
    p = other.call_msg("media.file.put", {"key": "default/big.bin"}, [big], timeout=30)
    check(p.st == 200, (p.st, p.reason))
    g = media.call_msg("media.file.get", {"key": "default/big.bin"}, timeout=30)
    check(g.st == 200 and g.blobs[0] == big, (g.st, g.reason))
    other.close()


def test_wrong_credentials():
    # every request of the good instances was signed right
    check(PROXY.checked > 0 and PROXY.refused == 0, (PROXY.checked, PROXY.reasons))
    for tag, env in (("media-service-bad-key", {"WAHA_S3_ACCESS_KEY_ID": "NOBODY"}),
                     ("media-service-bad-secret", {"WAHA_S3_SECRET_ACCESS_KEY": "WRONG"})):
        port = free_port()
        stack.start("media-service", tag=tag,
                    env=dict(env, MEDIA_BIND="tcp://127.0.0.1:%d" % port))
        bad = Dealer("tcp://127.0.0.1:%d" % port)
        refused = PROXY.refused
        g = bad.call_msg("media.file.get", {"key": KEY_})
        check(g.st == 503, (tag, g.st, g.reason))
        p = bad.call_msg("media.file.put", {"key": "default/%s.bin" % tag}, [b"x"])
        check(p.st == 503, (tag, p.st, p.reason))
        check(PROXY.refused >= refused + 2, (tag, PROXY.reasons[-2:]))
        check(object_bytes("default/%s.bin" % tag) is None, tag)
        bad.close()
    check("SignatureDoesNotMatch" in PROXY.reasons, PROXY.reasons)


def test_engine_send_receive_on_s3():
    """A Wharf session's image to another, stored for the receiver in
    the bucket: media.url serves the identical bytes."""
    from engine_util import hooks, linked, stack as engine_stack
    from harness import Receiver
    from wasim import WaSim
    cert = os.path.join(TMP, "sim.crt")
    refused = PROXY.refused
    with WaSim("--media-cert", cert) as sim, \
            engine_stack(sim, **dict(ENV, MEDIA_CA_FILE=cert)) as s, Receiver() as rx:
        linked(s, sim, rx, [("s3a", "15550320001", "A"), ("s3b", "15550320002", "B")])
        import base64
        st, got, _ = s.api("POST", "/api/sendImage", {
            "session": "s3a", "chatId": "15550320002@c.us", "caption": "on s3",
            "file": {"data": base64.b64encode(FILES["a.jpg"]).decode()}}, timeout=90)
        check(st == 201 and got["media"]["url"], (st, got))
        stanza = got["id"].split("_")[2]
        ev = wait_for(lambda: [e for e in hooks(rx, "s3b", "message")
                               if e["payload"]["id"].endswith("_" + stanza)],
                      40, what="image at s3b")[0]["payload"]
        check("error" not in ev["media"] and ev["body"] == "on s3", ev)
        path = urllib.parse.urlparse(ev["media"]["url"]).path
        st, raw, _ = s.raw("GET", path, headers={"X-Api-Key": s.api_key})
        check(st == 200 and raw == FILES["a.jpg"], (st, len(raw)))
        key = urllib.parse.unquote(path[len("/api/files/"):])
        check(object_bytes(key) == FILES["a.jpg"], "the received image in the bucket")
    check(PROXY.refused == refused, PROXY.reasons[refused:])


try:
    run([test_download_into_s3, test_served_from_s3, test_second_instance_and_put,
         test_wrong_credentials, test_engine_send_receive_on_s3])
finally:
    media.close()
    stack.close()
    HOST.close()
    PROXY.close()
    s3.terminate()
    s3.wait(10)
