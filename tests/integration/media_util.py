"""media_util - fixtures for the media tests: files made with ffmpeg, a
plain HTTP file server, a WhatsApp-like HTTPS media host, and an
independent decryption of WhatsApp media in node's crypto.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

The media host stands in for WhatsApp's media servers as WhatsApp's
clients use them (POST /mms/<type>/<token>?auth=&token= answered with
{url, direct_path}; GET of the direct path): it keeps only what it was
sent, which is the encrypted file. It serves HTTPS with a certificate made
at start (media-service trusts it through MEDIA_CA_FILE). Loopback only.
"""
import base64
import hashlib
import http.server
import json
import os
import secrets
import ssl
import struct
import subprocess
import threading
import time
import urllib.parse
import zlib

from harness import check, free_port


def make_cert(directory):
    """A self-signed certificate for 127.0.0.1; returns (cert, key) paths."""
    cert = os.path.join(directory, "host.crt")
    key = os.path.join(directory, "host.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y"] + list(args),
                   check=True, capture_output=True)


def make_files(directory):
    """Test media made with ffmpeg; returns {name: bytes}."""
    p = lambda n: os.path.join(directory, n)  # noqa: E731
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=1", "-frames:v", "1", p("a.jpg"))
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=200x300:rate=1", "-frames:v", "1", p("a.png"))
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=512x512:rate=1", "-frames:v", "1",
           "-c:v", "libwebp", p("a.webp"))
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=2", p("a.wav"))
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=330:duration=2", "-c:a", "libmp3lame",
           p("a.mp3"))
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=10:duration=1",
           "-f", "lavfi", "-i", "sine=frequency=500:duration=1",
           "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
           "-movflags", "+faststart", p("a.mp4"))
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=10:duration=1",
           "-c:v", "libvpx", "-b:v", "200k", p("a.webm"))
    out = {}
    for n in ("a.jpg", "a.png", "a.webp", "a.wav", "a.mp3", "a.mp4", "a.webm"):
        with open(p(n), "rb") as f:
            out[n] = f.read()
    out["a.pdf"] = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
                    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
                    b"trailer<</Root 1 0 R>>\n%%EOF\n")
    return out


class FileServer:
    """Plain HTTP on 127.0.0.1 (or another loopback address) serving
    {path: (bytes, content type)}; /redirect?to=URL answers 302. `hits`
    lists the paths asked for."""

    def __init__(self, files, host="127.0.0.1"):
        self.files = files
        self.hits = []
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                u = urllib.parse.urlparse(self.path)
                outer.hits.append(u.path)
                if u.path == "/redirect":
                    to = urllib.parse.parse_qs(u.query)["to"][0]
                    self.send_response(302)
                    self.send_header("Location", to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                item = outer.files.get(u.path)
                if item is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data, ctype = item
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *a):
                pass

        self.port = free_port()
        self.httpd = http.server.ThreadingHTTPServer((host, self.port), H)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base = "http://%s:%d" % (host, self.port)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class SlowServer:
    """Serves one file over HTTP after holding each request `hold` s.
    `asked` is set when a request arrives; `peers` lists the client
    (address, port) of every request, in order."""

    def __init__(self, body, ctype, hold):
        self.asked = threading.Event()
        self.peers = []
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                outer.peers.append(self.client_address)
                outer.asked.set()
                time.sleep(hold)
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

            def log_message(self, *a):
                pass
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d/a.jpg" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class MediaHost:
    """A WhatsApp-like media host over HTTPS. failing=True answers 500 to
    every request. Keeps blobs by direct path; records uploads."""

    def __init__(self, cert, key, auth="test-auth", failing=False):
        self.auth = auth
        self.failing = failing
        self.delay = 0.0          # seconds to wait before answering an upload
        self.received = threading.Event()  # set when an upload body arrived
        self.blobs = {}
        self.uploads = []
        self.lock = threading.Lock()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _send(self, code, body=b"", ctype="application/json"):
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                outer.received.set()
                if outer.delay:
                    time.sleep(outer.delay)
                if outer.failing:
                    return self._send(500, b"{}")
                u = urllib.parse.urlparse(self.path)
                q = urllib.parse.parse_qs(u.query)
                parts = u.path.split("/")
                if len(parts) != 4 or parts[1] != "mms" or q.get("auth") != [outer.auth]:
                    return self._send(401, b"{}")
                token = parts[3]
                digest = base64.urlsafe_b64encode(hashlib.sha256(body).digest()).rstrip(b"=")
                if token.encode() != digest or q.get("token") != [token]:
                    return self._send(400, b"{}")
                path = "/v/t62.7118-24/%s.enc?ccb=11-4&oh=%s&oe=6%s" % (
                    secrets.token_hex(8), secrets.token_hex(4), secrets.token_hex(3))
                with outer.lock:
                    outer.blobs[path] = body
                    outer.uploads.append({"type": parts[2], "token": token,
                                          "path": path, "len": len(body),
                                          "origin": self.headers.get("Origin")})
                url = "https://127.0.0.1:%d%s" % (outer.port, path)
                return self._send(200, json.dumps({"url": url, "direct_path": path}).encode())

            def do_GET(self):
                if outer.failing:
                    return self._send(500, b"{}")
                with outer.lock:
                    blob = outer.blobs.get(self.path)
                if blob is None:
                    return self._send(404, b"")
                return self._send(200, blob, "application/octet-stream")

            def log_message(self, *a):
                pass

        self.port = free_port()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), H)
        self.httpd.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.host = "127.0.0.1:%d" % self.port

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


_DECRYPT_JS = r"""
const crypto = require('crypto');
let input = '';
process.stdin.on('data', d => input += d);
process.stdin.on('end', () => {
  const q = JSON.parse(input);
  const enc = Buffer.from(q.enc, 'base64');
  const key = Buffer.from(q.mediaKey, 'base64');
  const ex = Buffer.from(crypto.hkdfSync('sha256', key, Buffer.alloc(0),
                                         Buffer.from(q.info), 112));
  const iv = ex.subarray(0, 16), ck = ex.subarray(16, 48), mk = ex.subarray(48, 80);
  const ct = enc.subarray(0, enc.length - 10), mac = enc.subarray(enc.length - 10);
  const want = crypto.createHmac('sha256', mk).update(iv).update(ct).digest().subarray(0, 10);
  if (!want.equals(mac)) { console.log(JSON.stringify({error: 'mac'})); return; }
  const d = crypto.createDecipheriv('aes-256-cbc', ck, iv);
  const plain = Buffer.concat([d.update(ct), d.final()]);
  console.log(JSON.stringify({plain: plain.toString('base64')}));
});
"""


def node_decrypt(enc, media_key_b64, info):
    """Decrypt a WhatsApp enc file with node's crypto (independent of
    Wharf's C code). Returns the plaintext bytes; raises on a bad MAC."""
    r = subprocess.run([os.environ.get("WHARF_NODE", "node"), "-e", _DECRYPT_JS],
                       input=json.dumps({"enc": base64.b64encode(enc).decode(),
                                         "mediaKey": media_key_b64, "info": info}),
                       capture_output=True, text=True, check=True)
    out = json.loads(r.stdout)
    check("plain" in out, out)
    return base64.b64decode(out["plain"])


def b64(data):
    return base64.b64encode(data).decode()


def sha_b64(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def png(w, h):
    """A w x h RGB PNG (a gradient)."""
    raw = b"".join(b"\0" + b"".join(bytes((x % 256, y % 256, 90)) for x in range(w))
                   for y in range(h))

    def chunk(tag, data):
        c = struct.pack(">I", len(data)) + tag + data
        return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def jpeg_size(data):
    """(width, height) of a JPEG from its SOF marker."""
    check(data[:2] == b"\xff\xd8", data[:8])
    i = 2
    while i < len(data):
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        i += 2 + length
    raise AssertionError("no SOF")
