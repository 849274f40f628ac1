"""s3_verify - an HTTP proxy on loopback that checks AWS Signature V4
(header form) of every request against one access key and secret before
passing it to an S3-compatible server behind it.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Why: s3rver 3.7.1 (npm), the S3 implementation the tests run, looks up
the access key of a V4 request but never computes its signature
(lib/middleware/authentication.js: "Signature version 4 calculation is
unimplemeneted"), so any secret passes. This proxy recomputes the
signature from AWS's specification (canonical request, string to sign,
HMAC-SHA256 key chain "AWS4"+secret / date / region / "s3" /
"aws4_request") and checks that x-amz-content-sha256 is the body's
SHA-256; a mismatch is answered 403 SignatureDoesNotMatch and never
reaches the store. At import it verifies itself against the worked
example of AWS's S3 documentation ("GET Object", signature f0e8bdb8...).
It found that libcurl 7.88's CURLOPT_AWS_SIGV4 signs the path as sent,
so a key with '@' (every WAHA file name) was signed unencoded where AWS
checks %40; media-service now sends keys URI-encoded (ms_store).

    proxy = SigV4Proxy("127.0.0.1", s3_port, "KEY", "SECRET", "us-east-1")
    proxy.base  -> "http://127.0.0.1:<port>" (give this to the client)
    proxy.checked, proxy.refused   (counters)
"""
import hashlib
import hmac
import http.client
import http.server
import threading
import urllib.parse

from harness import free_port


def _h(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signing_key(secret, date, region, service="s3"):
    k = _h(("AWS4" + secret).encode(), date)
    k = _h(k, region)
    k = _h(k, service)
    return _h(k, "aws4_request")


def _enc(s, safe):
    return urllib.parse.quote(s, safe=safe)


def canonical_request(method, raw_path, headers, signed, payload_hash):
    """headers: {lower-case name: value}; raw_path as sent (path?query)."""
    path, _, query = raw_path.partition("?")
    # S3: every path segment URI-encoded once (no double encoding)
    uri = _enc(urllib.parse.unquote(path), "/-_.~") or "/"
    pairs = []
    for part in query.split("&") if query else []:
        k, _, v = part.partition("=")
        pairs.append((_enc(urllib.parse.unquote_plus(k), "-_.~"),
                      _enc(urllib.parse.unquote_plus(v), "-_.~")))
    q = "&".join("%s=%s" % kv for kv in sorted(pairs))
    ch = "".join("%s:%s\n" % (n, " ".join(headers.get(n, "").split())) for n in signed)
    return "\n".join([method, uri, q, ch, ";".join(signed), payload_hash])


def signature(secret, region, amz_date, creq):
    scope = "%s/%s/s3/aws4_request" % (amz_date[:8], region)
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    return hmac.new(signing_key(secret, amz_date[:8], region), sts.encode(),
                    hashlib.sha256).hexdigest()


def _self_check():
    """AWS's documented example (S3 API, "Signature Calculations for the
    Authorization Header", GET Object)."""
    headers = {"host": "examplebucket.s3.amazonaws.com", "range": "bytes=0-9",
               "x-amz-content-sha256":
               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
               "x-amz-date": "20130524T000000Z"}
    signed = ["host", "range", "x-amz-content-sha256", "x-amz-date"]
    creq = canonical_request("GET", "/test.txt", headers, signed,
                             headers["x-amz-content-sha256"])
    got = signature("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1",
                    "20130524T000000Z", creq)
    assert got == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41", got


_self_check()


class SigV4Proxy:
    def __init__(self, upstream_host, upstream_port, access_key, secret, region):
        self.checked = 0
        self.refused = 0
        self.reasons = []
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _verify(self, body):
                auth = self.headers.get("Authorization", "")
                if not auth.startswith("AWS4-HMAC-SHA256 "):
                    return "no AWS4-HMAC-SHA256 Authorization header"
                fields = dict(p.strip().split("=", 1)
                              for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
                cred = fields.get("Credential", "").split("/")
                if len(cred) != 5 or cred[0] != access_key or cred[2] != region \
                        or cred[3] != "s3" or cred[4] != "aws4_request":
                    return "bad credential scope %r" % fields.get("Credential")
                signed = fields.get("SignedHeaders", "").split(";")
                if "host" not in signed or "x-amz-date" not in signed:
                    return "host and x-amz-date must be signed"
                headers = {k.lower(): v for k, v in self.headers.items()}
                amz_date = headers.get("x-amz-date", "")
                if amz_date[:8] != cred[1]:
                    return "x-amz-date does not match the scope"
                payload = headers.get("x-amz-content-sha256", "")
                if payload != "UNSIGNED-PAYLOAD" and \
                        payload != hashlib.sha256(body).hexdigest():
                    return "x-amz-content-sha256 is not the body's SHA-256"
                creq = canonical_request(self.command, self.path, headers, signed,
                                         payload)
                want = signature(secret, region, amz_date, creq)
                if not hmac.compare_digest(want, fields.get("Signature", "")):
                    return "SignatureDoesNotMatch"
                return None

            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                why = self._verify(body)
                with threading.Lock():
                    outer.checked += 1
                    if why:
                        outer.refused += 1
                        outer.reasons.append(why)
                if why:
                    msg = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>"
                           "SignatureDoesNotMatch</Code><Message>%s</Message></Error>"
                           % why).encode()
                    self.send_response(403)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(msg)))
                    self.end_headers()
                    self.wfile.write(msg)
                    return
                c = http.client.HTTPConnection(upstream_host, upstream_port, timeout=30)
                hdrs = {k: v for k, v in self.headers.items()
                        if k.lower() not in ("connection", "keep-alive")}
                c.request(self.command, self.path, body=body if n else None, headers=hdrs)
                r = c.getresponse()
                data = r.read()
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("connection", "keep-alive", "transfer-encoding",
                                         "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                c.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

            def log_message(self, *a):
                pass

        self.port = free_port()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), H)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base = "http://127.0.0.1:%d" % self.port

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
