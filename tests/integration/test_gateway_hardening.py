"""test_gateway_hardening - api-gateway under hostile but fair input (issue 12).

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Each test failed before its fix: the OpenAPI document marked the public
/ping and /health as needing a key; GET forms of Wawp's state-changing
routes could not be turned off; session configs took unknown keys and
unbounded metadata; chat ids were rewritten instead of refused
(-1@c.us became 1@c.us), sendSeen took status@broadcast, an empty group
was created, and a recipient not on WhatsApp gave 502; a %00 in the URL
cut the path (DELETE /api/sessions/s1%00x deleted s1) and a NUL in a
header value was ignored; about 1,024 idle or slowloris connections
locked everyone out; bodies were read and parsed before the key was
checked; libmicrohttpd's own errors (505 for HTTP/9.9, 431, ...) came as
HTML.
"""
import json
import os
import resource
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack, check, run, wait_for  # noqa: E402
from engine_util import account, linked, stack  # noqa: E402
from harness import Receiver  # noqa: E402
from wasim import WaSim  # noqa: E402

GW = ["api-gateway"]
STORE_GW = ["store-service", "api-gateway"]


def test_openapi_public_routes():
    """/ping and /health need no key, so the document says so."""
    # no store runs: /health answers 503 once its ping times out
    quick = {"GATEWAY_REQUEST_TIMEOUT_MS": "300"}
    with Stack(services=GW, env=quick) as s:
        st, doc, _ = s.api("GET", "/api/openapi.json", key=False)
        check(st == 200, "openapi: %d" % st)
        for path in ("/ping", "/health"):
            op = doc["paths"][path]["get"]
            check(op["security"] == [], "%s security: %r" % (path, op["security"]))
            check("401" not in op["responses"], "%s lists a 401" % path)
            st, _, _ = s.api("GET", path, key=False)
            check(st != 401, "%s answers without a key: %d" % (path, st))
        op = doc["paths"]["/api/server/version"]["get"]
        check({"api_key": []} in op["security"] and "401" in op["responses"],
              "version needs a key: %r" % op["security"])
    # the document follows WAHA_API_KEY_EXCLUDE_PATH
    quick["WAHA_API_KEY_EXCLUDE_PATH"] = "ping,api/server/version"
    with Stack(services=GW, env=quick) as s:
        st, doc, _ = s.api("GET", "/api/openapi.json", key=False)
        check(doc["paths"]["/health"]["get"]["security"] != [], "health needs a key now")
        check(doc["paths"]["/api/server/version"]["get"]["security"] == [],
              "version excluded from the key check")
        check(s.api("GET", "/health", key=False)[0] == 401, "health: 401 without a key")


def _wawp_get(s, route, iid, token):
    return s.api("GET", "/v2/session/" + route, key=False,
                 query={"instance_id": iid, "access_token": token})


def test_side_effect_gets_setting():
    """GATEWAY_SIDE_EFFECT_GETS=false: a GET link cannot change state."""
    with Stack(services=STORE_GW, env={"GATEWAY_SIDE_EFFECT_GETS": "false"}) as s:
        st, body, _ = s.api("POST", "/v2/session/create", {"name": "w1", "start": False})
        check(st == 201, "create: %d %r" % (st, body))
        iid, token = body["instance_id"], body["access_token"]
        for route in ("start", "stop", "restart", "logout"):
            st, body, hdrs = _wawp_get(s, route, iid, token)
            check(st == 405 and body["status"] == 405
                  and body["error"] == "method_not_allowed",
                  "GET %s: %d %r" % (route, st, body))
            check(hdrs.get("Allow") == "POST", "Allow: %r" % hdrs.get("Allow"))
        st, body, _ = s.api("GET", "/v2/send/text", key=False,
                            query={"instance_id": iid, "access_token": token,
                                   "chatId": "15550000001", "message": "hi"})
        check(st == 405, "GET send/text: %d" % st)
        st, body, _ = s.api("GET", "/api/sendText",
                            query={"phone": "15550000001", "text": "hi", "session": "w1"})
        check(st == 405 and body["statusCode"] == 405, "GET /api/sendText: %d %r" % (st, body))
        # nothing happened: still STOPPED, never started
        st, body, _ = _wawp_get(s, "info", iid, token)
        check(st == 200 and body["status"] == "STOPPED", "info still works: %d %r" % (st, body))
        # the POST forms still work
        st, body, _ = s.api("POST", "/v2/session/stop", {"instance_id": iid,
                                                         "access_token": token}, key=False)
        check(st == 200, "POST stop: %d %r" % (st, body))
        st, doc, _ = s.api("GET", "/api/openapi.json", key=False)
        check("get" not in doc["paths"]["/v2/session/logout"], "GET logout not documented")
        check("post" in doc["paths"]["/v2/session/logout"], "POST logout documented")
    # default: the GET forms stay, for Wawp compatibility
    with Stack(services=STORE_GW) as s:
        st, body, _ = s.api("POST", "/v2/session/create", {"name": "w1", "start": False})
        iid, token = body["instance_id"], body["access_token"]
        st, body, _ = _wawp_get(s, "stop", iid, token)
        check(st == 200 and body["status"] == "STOPPED", "GET stop by default: %d %r" % (st, body))


def _bad(s, method, path, payload, field):
    st, body, _ = s.api(method, path, payload)
    msg = body.get("message") if isinstance(body, dict) else None
    if isinstance(msg, list):
        msg = msg[0]
    check(st == 400 and isinstance(msg, str) and field in msg,
          "%s %s names %s: %d %r" % (method, path, field, st, str(body)[:300]))


def test_session_config_limits():
    with Stack(services=STORE_GW) as s:
        big = "x" * (1 << 20)
        _bad(s, "POST", "/api/sessions", {"name": "a", "start": False,
                                          "config": {"junk": big}}, "config.junk")
        _bad(s, "POST", "/api/sessions", {"name": "a", "start": False,
                                          "config": {"junk": 1}}, "config.junk")
        many = {"k%d" % i: "v" for i in range(50000)}
        _bad(s, "POST", "/api/sessions", {"name": "a", "start": False,
                                          "config": {"metadata": many}}, "config.metadata")
        _bad(s, "POST", "/api/sessions", {"name": "a", "start": False,
                                          "config": {"metadata": {"k": "v" * 5000}}},
             "config.metadata.k")
        _bad(s, "POST", "/api/sessions", {"name": "a", "start": False,
                                          "config": {"metadata": {"k" * 200: "v"}}},
             "config.metadata")
        _bad(s, "POST", "/api/sessions", {"name": "a", "start": False,
                                          "config": {"proxy": {"server": "h" * 600}}},
             "config.proxy.server")
        _bad(s, "POST", "/api/sessions", {"name": "a", "start": False,
                                          "config": {"client": {"deviceName": "d" * 200}}},
             "config.client.deviceName")
        _bad(s, "POST", "/api/sessions", {"name": "a", "start": False,
                                          "config": {"ignore": {"everything": True}}},
             "config.ignore.everything")
        _bad(s, "POST", "/api/sessions", {"name": "a", "start": False,
                                          "config": {"noweb": {"x": "y" * 9000}}},
             "config.noweb")
        _bad(s, "POST", "/v2/session/create", {"name": "a", "start": False,
                                               "config": {"junk": 1}}, "config.junk")
        # nothing of that was stored
        st, body, _ = s.api("GET", "/api/sessions?all=true")
        check(st == 200 and body == [], "nothing stored: %r" % body)
        # within the limits is fine
        ok = {"metadata": {"k%d" % i: "v" * 100 for i in range(64)},
              "proxy": {"server": "127.0.0.1:3128", "username": None},
              "client": {"deviceName": "Wharf", "browserName": "Chrome"},
              "ignore": {"status": True, "groups": False}, "debug": False,
              "noweb": {"store": {"enabled": True}}}
        st, body, _ = s.api("POST", "/api/sessions", {"name": "a", "start": False, "config": ok})
        check(st == 201 and body["config"]["metadata"] == ok["metadata"],
              "config within limits: %d %s" % (st, json.dumps(body)[:300]))
        _bad(s, "PUT", "/api/sessions/a", {"config": {"unknown": {}}}, "config.unknown")
        st, body, _ = s.api("GET", "/api/sessions/a")
        check(body["config"]["client"] == ok["client"], "config unchanged: %r" % body["config"])



def _names(body, field):
    msg = body.get("message") if isinstance(body, dict) else None
    if isinstance(msg, list):
        msg = " ".join(msg)
    return isinstance(msg, str) and field in msg


def test_chat_ids_refused_not_rewritten():
    # validation comes before any store or worker call: the gateway alone
    with Stack(services=GW, env={"GATEWAY_REQUEST_TIMEOUT_MS": "300"}) as s:
        for chat in ("-1@c.us", "15550000002.0@c.us", "0@c.us", "+15550000002@c.us",
                     "1555 000 0002@c.us", "123456789@lid", "12345678901234567890123@lid",
                     "1203630@g.us", "1203630000000000000000@g.us", "x@c.us",
                     "1@hosted", "-15550000002", "15550000002@c.us@c.us"):
            st, body, _ = s.api("POST", "/api/sendText",
                                {"session": "a", "chatId": chat, "text": "hi"})
            check(st == 400 and _names(body, "chatId"), "sendText %r: %d %r" % (chat, st, body))
        # well-shaped ids get past validation (503 here: no store)
        for chat in ("+1 (555) 000-0002", "15550000002@c.us", "123456789012345@lid",
                     "120363000000000001@g.us", "15550000002-1600000000@g.us"):
            st, body, _ = s.api("POST", "/api/sendText",
                                {"session": "a", "chatId": chat, "text": "hi"})
            check(st in (503, 504), "sendText %r passes validation: %d %r" % (chat, st, body))
        # sendSeen: people and groups only
        for chat in ("status@broadcast", "120363000000000001@newsletter", "", "123@broadcast"):
            st, body, _ = s.api("POST", "/api/sendSeen", {"session": "a", "chatId": chat})
            check(st == 400 and _names(body, "chatId"), "sendSeen %r: %d %r" % (chat, st, body))
        st, body, _ = s.api("POST", "/api/sendSeen", {"session": "a"})
        check(st == 400 and _names(body, "chatId is required"), "sendSeen no chatId: %r" % body)
        st, body, _ = s.api("POST", "/api/sendSeen", {"session": "a", "chatId": "15550000002",
                                                     "participant": "-1@c.us"})
        check(st == 400 and _names(body, "participant"), "sendSeen participant: %r" % body)
        # groups: empty participants, bad participant, wrong-length id
        st, body, _ = s.api("POST", "/api/a/groups", {"name": "T", "participants": []})
        check(st == 400 and _names(body, "participants must not be empty"), "empty: %r" % body)
        st, body, _ = s.api("POST", "/api/a/groups", {"name": "T",
                                                      "participants": [{"id": "-1@c.us"}]})
        check(st == 400 and _names(body, "participants[0].id"), "bad participant: %r" % body)
        st, body, _ = s.api("POST", "/api/a/groups", {"name": "T",
                                                      "participants": [{"id": "123456789@lid"}]})
        check(st == 400 and _names(body, "participants[0].id"), "bad lid participant: %r" % body)
        for gid in ("1203630@g.us", "12036300000000000012345@g.us", "15550000002-16@g.us"):
            st, body, _ = s.api("GET", "/api/a/groups/" + gid)
            check(st == 400 and _names(body, "id"), "group %s: %d %r" % (gid, st, body))


def test_unknown_recipient_is_4xx():
    """WhatsApp knows no such user: 422 (WAHA's answer for a request it
    cannot carry out), not 502."""
    with WaSim() as sim, stack(sim) as s, Receiver() as rx:
        linked(s, sim, rx, [("a", "15550001111", "Alice")])
        account(sim, "15550002222", "Bob")
        st, body, _ = s.api("POST", "/api/sendText", {"session": "a", "chatId": "15559999999",
                                                      "text": "anyone?"})
        check(st == 422 and body["statusCode"] == 422
              and body["error"] == "Unprocessable Entity"
              and "not on WhatsApp" in body["message"]
              and "15559999999@c.us" in body["message"], "unknown: %d %r" % (st, body))
        st, body, _ = s.api("POST", "/v2/send/text", {"instance_id": "a", "chatId": "15559999999",
                                                      "message": "anyone?"})
        check(st == 422 and body["status"] == 422 and "not on WhatsApp" in body["message"],
              "wawp unknown: %d %r" % (st, body))
        st, body, _ = s.api("POST", "/api/sendText", {"session": "a", "chatId": "15550002222",
                                                      "text": "hi Bob"})
        check(st == 201 and body["to"] == "15550002222@c.us", "known: %d %r" % (st, body))
        # /v2 refuses a rewritable id the same way (after its instance check)
        st, body, _ = s.api("POST", "/v2/send/text", {"instance_id": "a", "chatId": "-1@c.us",
                                                      "message": "hi"})
        check(st == 400 and body["status"] == 400 and "chatId" in body["message"],
              "wawp -1@c.us: %d %r" % (st, body))



def raw_http(port, data, timeout=10, src=None):
    """Send raw bytes on a new connection; return (status, headers, body)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    if src:
        sock.bind((src, 0))
    sock.connect(("127.0.0.1", port))
    try:
        sock.sendall(data)
    except OSError:
        pass
    out = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    sock.close()
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1]) if lines and lines[0].startswith("HTTP/") else 0
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return status, hdrs, body


def json_error(status, hdrs, body, want, wawp=False):
    check(status == want, "status %d, want %d: %r" % (status, want, body[:200]))
    check(hdrs.get("content-type", "").startswith("application/json"),
          "JSON, not HTML: %r %r" % (hdrs, body[:100]))
    doc = json.loads(body)
    if wawp:
        check(doc["status"] == want and isinstance(doc["message"], str) and doc["error"],
              "Wawp shape: %r" % doc)
    else:
        check(doc["statusCode"] == want and doc["message"] and doc["error"],
              "WAHA shape: %r" % doc)
    return doc


def test_control_characters_refused():
    with Stack(services=STORE_GW) as s:
        for name in ("s1", "s2"):
            st, _, _ = s.api("POST", "/api/sessions", {"name": name, "start": False})
            check(st == 201, "create %s" % name)
        key = s.api_key.encode()
        # %00 in a path segment: refused, not cut
        st, hdrs, body = raw_http(s.api_port, b"DELETE /api/sessions/s1%00x HTTP/1.1\r\n"
                                  b"Host: x\r\nX-Api-Key: " + key + b"\r\n\r\n")
        doc = json_error(st, hdrs, body, 400)
        check("path" in json.dumps(doc), repr(doc))
        st, body, _ = s.api("GET", "/api/sessions/s1")
        check(st == 200 and body["name"] == "s1", "s1 still there: %d" % st)
        st, hdrs, body = raw_http(s.api_port, b"POST /api/sessions/%00/stop HTTP/1.1\r\n"
                                  b"Host: x\r\nX-Api-Key: " + key + b"\r\n"
                                  b"Content-Length: 0\r\n\r\n")
        json_error(st, hdrs, body, 400)
        st, hdrs, body = raw_http(s.api_port, b"GET /api/sessions/s2%00junk HTTP/1.1\r\n"
                                  b"Host: x\r\nX-Api-Key: " + key + b"\r\n\r\n")
        json_error(st, hdrs, body, 400)
        st, hdrs, body = raw_http(s.api_port, b"GET /api/sessions/s2%1b HTTP/1.1\r\n"
                                  b"Host: x\r\nX-Api-Key: " + key + b"\r\n\r\n")
        json_error(st, hdrs, body, 400)
        st, body, _ = s.api("GET", "/api/sessions?all=true")
        check(sorted(x["name"] for x in body) == ["s1", "s2"], "no session made: %r" % body)
        # NUL (or another control byte) in a header value
        for bad in (b"\0junk", b"\x01", b"\x7f"):
            st, hdrs, body = raw_http(s.api_port, b"GET /api/sessions HTTP/1.1\r\nHost: x\r\n"
                                      b"X-Api-Key: " + key + bad + b"\r\n\r\n")
            doc = json_error(st, hdrs, body, 400)
            check("X-Api-Key" in json.dumps(doc), repr(doc))
        # ...and in query values, on /api and /v2 (each in its shape)
        st, hdrs, body = raw_http(s.api_port, b"GET /api/sessions?x-api-key=" + key +
                                  b"%00junk HTTP/1.1\r\nHost: x\r\n\r\n")
        doc = json_error(st, hdrs, body, 400)
        check("x-api-key" in json.dumps(doc), repr(doc))
        st, hdrs, body = raw_http(s.api_port, b"GET /v2/session/info?instance_id=s1%00&"
                                  b"access_token=" + key + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        json_error(st, hdrs, body, 400, wawp=True)
        # a line break in a text value is text, not an attack
        st, body, _ = s.api("GET", "/api/sessions/s1?note=a%0Ab")
        check(st == 200, "newline in a query value: %d" % st)


def test_own_errors_in_json():
    """What libmicrohttpd answered by itself in HTML comes as JSON."""
    with Stack(services=GW) as s:
        port = s.api_port
        json_error(*raw_http(port, b"GET /ping HTTP/9.9\r\nHost: x\r\n\r\n"), 505)
        json_error(*raw_http(port, b"GET /v2/session/info HTTP/9.9\r\nHost: x\r\n\r\n"),
                   505, wawp=True)
        json_error(*raw_http(port, b"GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: " +
                             b"a" * 40000 + b"\r\n\r\n"), 431)
        json_error(*raw_http(port, b"GET /ping HTTP/1.1\r\n\r\n"), 400)
        json_error(*raw_http(port, b"GET /ping HTTP/1.1\r\nHost: x\r\n"
                             b"Content-Length: 12x\r\n\r\n"), 400)
        json_error(*raw_http(port, b"GET /ping HTTP/1.1\r\nHost: x\r\n"
                             b"Content-Length: 99999999999999999999999\r\n\r\n"), 400)
        json_error(*raw_http(port, b"NOT A REQUEST\r\n\r\n"), 400)
        json_error(*raw_http(port, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
                   414)
        st, _, body = raw_http(port, b"GET /ping HTTP/1.0\r\n\r\n")
        check(st == 200 and json.loads(body) == {"message": "pong"}, "HTTP/1.0: %d" % st)


def test_auth_before_body():
    # 12 MiB: a body is charged 3 times its size (the raw body and its
    # handler's copies)
    env = {"GATEWAY_BODY_MEMORY": str(12 << 20)}
    with Stack(services=GW, env=env) as s:
        port = s.api_port
        # no key: 401 even when the JSON is malformed (was 400)
        st, body, _ = s.raw("POST", "/api/sessions", b'{"name": ',
                            {"Content-Type": "application/json"})
        check(st == 401 and json.loads(body) == {"message": "Unauthorized", "statusCode": 401},
              "malformed without key: %d %r" % (st, body))
        st, body, _ = s.raw("POST", "/v2/session/create", b'{"name": ',
                            {"Content-Type": "application/json"})
        check(st == 401, "wawp malformed without credential: %d %r" % (st, body))
        # a 60 MB body announced without a key is refused at once, unread
        t0 = time.time()
        st, hdrs, body = raw_http(port, b"POST /api/sessions HTTP/1.1\r\nHost: x\r\n"
                                  b"Content-Type: application/json\r\n"
                                  b"Content-Length: 62914560\r\n\r\n{", timeout=5)
        check(st == 401 and time.time() - t0 < 3, "60 MB unauthenticated: %d" % st)
        # Wawp with no credential in the head: the body is kept small
        st, hdrs, body = raw_http(port, b"POST /v2/session/create HTTP/1.1\r\nHost: x\r\n"
                                  b"Content-Type: application/json\r\n"
                                  b"Content-Length: 2000000\r\n\r\n{", timeout=5)
        json_error(st, hdrs, body, 413, wawp=True)
        # bodies in flight share GATEWAY_BODY_MEMORY (12 MiB here: 3 MB
        # held costs 9 MB, 2 MB more would cost 6 MB)
        key = s.api_key.encode()
        hold = socket.create_connection(("127.0.0.1", port))
        hold.sendall(b"POST /api/sessions HTTP/1.1\r\nHost: x\r\nX-Api-Key: " + key +
                     b"\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 3000000\r\n\r\n{")
        time.sleep(0.5)
        st, hdrs, body = raw_http(port, b"POST /api/sessions HTTP/1.1\r\nHost: x\r\n"
                                  b"X-Api-Key: " + key + b"\r\nContent-Type: "
                                  b"application/json\r\nContent-Length: 2000000\r\n\r\n{",
                                  timeout=5)
        json_error(st, hdrs, body, 503)
        # a chunked body is counted as it grows: 503 once it is all in
        chunk = b"a" * 65536
        data = (b"POST /api/sessions HTTP/1.1\r\nHost: x\r\nX-Api-Key: " + key +
                b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
                b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(32)) +
                b"0\r\n\r\n")
        json_error(*raw_http(port, data, timeout=10), 503)
        hold.close()
        time.sleep(0.5)
        # (no store runs: past the budget check the answer is the store's 503)
        st, body, _ = s.api("POST", "/api/sessions", json_body={"name": "xx", "pad": "a" * 100})
        check("in flight" not in json.dumps(body),
              "memory freed after the held body closed: %d %r" % (st, body))


class KeptAlive:
    """One connection, several requests: reads each response by its
    Content-Length."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.settimeout(timeout)
        self.buf = b""

    def send(self, data):
        """Send a request; return (status, headers, body), status 0 when the
        connection closed without an answer."""
        try:
            self.sock.sendall(data)
        except OSError:
            pass
        while b"\r\n\r\n" not in self.buf:
            chunk = self._recv()
            if not chunk:
                return 0, {}, b""
            self.buf += chunk
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        hdrs = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        n = int(hdrs.get("content-length", "0"))
        while len(rest) < n:
            chunk = self._recv()
            if not chunk:
                break
            rest += chunk
        self.buf = rest[n:]
        return int(lines[0].split(" ")[1]), hdrs, rest[:n]

    def closed(self):
        """True when the server closed the connection."""
        return self.buf == b"" and self._recv() == b""

    def _recv(self):
        try:
            return self.sock.recv(65536)
        except OSError:
            return b""

    def close(self):
        self.sock.close()


def test_keep_alive_checks_every_request():
    """Connections are kept alive, and the second and later requests on
    one get the same refusals as a connection's first (which gw_front
    checks before libmicrohttpd reads it); each refusal closes it. Failed
    before: every response said Connection: close."""
    with Stack(services=STORE_GW) as s:
        port = s.api_port
        key = s.api_key.encode()
        st, _, _ = s.api("POST", "/api/sessions", {"name": "s1", "start": False})
        check(st == 201, "create s1: %d" % st)
        version = (b"GET /api/server/version HTTP/1.1\r\nHost: x\r\nX-Api-Key: " + key +
                   b"\r\n\r\n")
        # taking turns, then pipelined
        c = KeptAlive(port)
        for i in range(3):
            st, hdrs, body = c.send(version)
            check(st == 200 and hdrs.get("connection") != "close" and
                  json.loads(body)["version"], "request %d kept alive: %d %r" % (i, st, hdrs))
        st, _, body = c.send(b"GET /api/sessions/s1 HTTP/1.1\r\nHost: x\r\nX-Api-Key: " + key +
                             b"\r\n\r\n" + version)
        check(st == 200 and json.loads(body)["name"] == "s1", "pipelined 1: %d" % st)
        st, _, body = c.send(b"")
        check(st == 200 and json.loads(body)["version"], "pipelined 2: %d" % st)
        c.close()

        def later(data, want, needle=None, wawp=False, fast=None):
            c = KeptAlive(port)
            st, hdrs, _ = c.send(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
            check(st == 200 and hdrs.get("connection") != "close", "first: %d" % st)
            t0 = time.time()
            st, hdrs, body = c.send(data)
            took = time.time() - t0
            if want == 401:  # WAHA's 401 has no "error"
                check(st == 401 and json.loads(body) == {"message": "Unauthorized",
                                                         "statusCode": 401},
                      "401: %d %r" % (st, body))
                doc = json.loads(body)
            else:
                doc = json_error(st, hdrs, body, want, wawp=wawp)
            if needle:
                check(needle in json.dumps(doc), "%r in %r" % (needle, doc))
            check(hdrs.get("connection") == "close" and c.closed(),
                  "refusal closes: %r" % hdrs)
            if fast:
                check(took < fast, "answered in %.2f s" % took)
            c.close()

        # a NUL in X-Api-Key, with bytes after it or not, before Host or not
        later(b"GET /api/sessions HTTP/1.1\r\nHost: x\r\nX-Api-Key: " + key +
              b"\0junk\r\n\r\n", 400, "X-Api-Key")
        later(b"GET /api/sessions HTTP/1.1\r\nHost: x\r\nX-Api-Key: " + key +
              b"\0\r\n\r\n", 400, "X-Api-Key")
        later(b"GET /api/sessions HTTP/1.1\r\nX-Api-Key: " + key +
              b"\0junk\r\nHost: x\r\n\r\n", 400, "X-Api-Key")
        later(b"GET /api/sessions HTTP/1.1\r\nHost: x\r\nX-Api-Key: " + key +
              b"\x01\r\n\r\n", 400, "X-Api-Key")
        # %00 in the path and in a query value, on /api and on /v2
        later(b"DELETE /api/sessions/s1%00x HTTP/1.1\r\nHost: x\r\nX-Api-Key: " + key +
              b"\r\n\r\n", 400, "path")
        later(b"GET /api/sessions?x-api-key=" + key + b"%00junk HTTP/1.1\r\nHost: x\r\n\r\n",
              400, "x-api-key")
        later(b"GET /v2/session/info?instance_id=s1%00&access_token=" + key +
              b" HTTP/1.1\r\nHost: x\r\n\r\n", 400, wawp=True)
        # a NUL in the request line, a head over 16 KiB, no Host
        later(b"GET /api/sessions/s1\0x HTTP/1.1\r\nHost: x\r\nX-Api-Key: " + key +
              b"\r\n\r\n", 400, "request target")
        later(b"GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n", 431)
        later(b"GET /ping HTTP/1.1\r\n\r\n", 400, "Host")
        later(b"POST /api/sessions HTTP/1.1\r\nHost: x\r\nX-Api-Key: " + key +
              b"\r\nTransfer-Encoding: gzip\r\n\r\n", 400, "chunked")
        # no key and a 60 MB body announced: 401 at once, the body unread
        later(b"POST /api/sendText HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
              b"\r\nContent-Length: 62914560\r\n\r\n{", 401, "Unauthorized", fast=3)
        st, body, _ = s.api("GET", "/api/sessions/s1")
        check(st == 200 and body["name"] == "s1", "s1 still there: %d" % st)


def test_mhd_pages_in_json():
    """What libmicrohttpd 0.9.75 still answered by itself with its HTML
    page comes in the JSON shape too (gw_recv judges the bytes before
    libmicrohttpd reads them): on a later request of a kept-alive
    connection a bad HTTP version, a header line without a colon, a
    Content-Length that is not a number, a head over 32 KiB; a malformed
    chunked body on any request; a bad request pipelined after a good
    one, which is still answered. A NUL as the last byte of a header
    value on a line ended by a bare LF is refused too (it was taken as the
    end of the value). Failed before: HTML 505/400/431 pages, and 200 for
    the NUL."""
    with Stack(services=GW) as s:
        port = s.api_port
        key = s.api_key.encode()

        def later(data, want, needle=None):
            c = KeptAlive(port)
            st, hdrs, _ = c.send(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
            check(st == 200 and hdrs.get("connection") != "close", "first: %d" % st)
            st, hdrs, body = c.send(data)
            doc = json_error(st, hdrs, body, want)
            if needle:
                check(needle in json.dumps(doc), "%r in %r" % (needle, doc))
            check(hdrs.get("connection") == "close" and c.closed(), "refusal closes: %r" % hdrs)
            c.close()

        later(b"GET /ping HTTP/9.9\r\nHost: x\r\n\r\n", 505, "HTTP/9.9")
        later(b"GET /ping HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n", 400, "header")
        later(b"POST /api/sessions HTTP/1.1\r\nHost: x\r\nX-Api-Key: " + key +
              b"\r\nContent-Length: 12x\r\n\r\n", 400, "Content-Length")
        later(b"GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (33 << 10) + b"\r\n\r\n",
              431, "16384")
        later(b"GET /api/sessions HTTP/1.1\nHost: x\nX-Api-Key: " + key + b"\0\n\n",
              400, "X-Api-Key")
        # a malformed chunked body, on a first request
        head = (b"POST /api/sessions HTTP/1.1\r\nHost: x\r\nX-Api-Key: " + key +
                b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        for body in (b"5\r\nhelloXX", b"zz\r\n", b"5\nhello\r\n",
                     b"2\r\n{}\r\n0\r\nnocolon\r\n\r\n"):
            doc = json_error(*raw_http(port, head + body), 400)
            check("chunked" in json.dumps(doc), "names the chunked body: %r" % doc)
        # ...and a good one on a kept-alive connection, then another request
        c = KeptAlive(port)
        st, hdrs, body = c.send(head + b"4;x=y\r\n{\"na\r\n4\r\nme\":\r\n0\r\n"
                                b"X-T: 1\r\n\r\n")
        json_error(st, hdrs, body, 400)  # the JSON is cut: {"name":
        check(hdrs.get("connection") != "close", "a good chunked body keeps it alive")
        st, _, _ = c.send(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
        check(st == 200, "then /ping: %d" % st)
        c.close()
        # pipelined: a good request, then a bad one
        c = KeptAlive(port)
        c.sock.sendall(b"GET /api/server/version HTTP/1.1\r\nHost: x\r\nX-Api-Key: " + key +
                       b"\r\n\r\nGET /ping HTTP/9.9\r\nHost: x\r\n\r\n")
        st, hdrs, body = c.send(b"")
        check(st == 200 and json.loads(body)["version"] and hdrs.get("connection") != "close",
              "the good one first: %d %r" % (st, body))
        st, hdrs, body = c.send(b"")
        json_error(st, hdrs, body, 505)
        check(c.closed(), "then closed")
        c.close()


def _status_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _asan(pid):
    with open("/proc/%d/maps" % pid) as f:
        return "libasan" in f.read()


def test_concurrent_big_bodies_bound_memory():
    """16 concurrent 8 MiB media bodies (base64 in sendImage JSON), 4 of
    them chunked, against GATEWAY_BODY_MEMORY=48 MiB. Each body is charged
    3 times its size (the raw body and its handler's copies) until its
    request ends; those past the budget get 503, and the gateway's peak
    resident memory stays within its size before + the budget + 24 MiB
    (ASan: its shadow and a 32 MiB quarantine on top). Failed
    before: the budget counted raw bodies only, and the handlers' parsed
    and decoded copies took the peak to about 3 times the budget."""
    budget = 48 << 20
    size = 8 << 20
    env = {"GATEWAY_BODY_MEMORY": str(budget), "GATEWAY_MAX_CONNECTIONS_PER_IP": "0",
           "GATEWAY_REQUEST_TIMEOUT_MS": "2000",
           "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=86:"
                           "quarantine_size_mb=32"}
    with Stack(services=GW, env=env) as s:
        pid = s.procs["api-gateway"].p.pid
        st, _, _ = s.api("GET", "/ping", key=False)
        check(st == 200, "up")
        before = _status_kib(pid, "VmRSS")
        key = s.api_key.encode()
        prefix = (b'{"session":"a","chatId":"15550000002@c.us","file":'
                  b'{"mimetype":"image/png","data":"')
        suffix = b'"}}'
        body = prefix + b"A" * (size - len(prefix) - len(suffix)) + suffix
        results = [None] * 16
        go = threading.Event()

        def one(i):
            chunked = i % 4 == 3
            c = KeptAlive(s.api_port, timeout=60)
            head = (b"POST /api/sendImage HTTP/1.1\r\nHost: x\r\nX-Api-Key: " + key +
                    b"\r\nContent-Type: application/json\r\n")
            head += (b"Transfer-Encoding: chunked\r\n\r\n" if chunked
                     else b"Content-Length: %d\r\n\r\n" % len(body))
            go.wait()
            try:
                c.sock.sendall(head)
                step = 256 << 10
                for off in range(0, len(body), step):
                    part = body[off:off + step]
                    c.sock.sendall(b"%x\r\n%s\r\n" % (len(part), part) if chunked else part)
                    time.sleep(0.02)  # the bodies overlap in time
                if chunked:
                    c.sock.sendall(b"0\r\n\r\n")
            except OSError:
                pass  # refused at the head: the rest is not wanted
            results[i] = c.send(b"")
            c.close()

        threads = [threading.Thread(target=one, args=(i,)) for i in range(16)]
        for t in threads:
            t.start()
        go.set()
        for t in threads:
            t.join()
        peak = _status_kib(pid, "VmHWM")
        refused = [r for r in results if r and r[0] == 503 and b"in flight" in r[2]]
        taken = [r for r in results if r and r[0] and b"in flight" not in r[2]]
        check(len(refused) + len(taken) == 16, "every request answered: %r"
              % [(r[0], r[2][:80]) if r else None for r in results])
        check(refused and taken, "some taken, some over the budget: %d taken, %d refused"
              % (len(taken), len(refused)))
        for st, hdrs, rb in refused:
            json_error(st, hdrs, rb, 503)
        bound = before + (budget >> 10) + 24 * 1024
        if _asan(pid):
            # ASan's shadow (1/8 of what is touched) and its 32 MiB
            # quarantine of freed memory. Measured (ASan, loaded machine):
            # peak 86 MB over before with the fix, 144 MB without it
            bound += (budget >> 10) // 8 + 32 * 1024
        print("rss before %d KiB, peak %d KiB, bound %d KiB; %d taken, %d refused"
              % (before, peak, bound, len(taken), len(refused)), flush=True)
        check(peak <= bound, "peak RSS %d KiB over %d KiB" % (peak, bound))
        # still serving, and the budget is free again
        st, _, _ = s.api("GET", "/ping", key=False)
        check(st == 200, "serving after")


def _bad_input_burst(port, key, big):
    """One burst of bad input: 8 unauthenticated `big`-byte POSTs, 6
    authenticated malformed JSON bodies of `big` bytes (4 with
    Content-Length, 2 chunked, one of those with a malformed chunk at its
    end), all at once, then 100 small bad requests. Returns the statuses
    of the big ones."""
    head = (b"POST /api/sendText HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Content-Type: application/json\r\n")
    authed = head + b"X-Api-Key: " + key + b"\r\n"
    junk = b"{" + b"A" * (big - 1)
    results = []

    def one(i):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.settimeout(60)
        try:
            if i < 8:
                sock.sendall(head + b"Content-Length: %d\r\n\r\n" % big + junk)
            elif i < 12:
                sock.sendall(authed + b"Content-Length: %d\r\n\r\n" % big + junk)
            else:
                sock.sendall(authed + b"Transfer-Encoding: chunked\r\n\r\n")
                step = 1 << 20
                for off in range(0, big, step):
                    part = junk[off:off + step]
                    sock.sendall(b"%x\r\n%s\r\n" % (len(part), part))
                sock.sendall(b"0\r\n\r\n" if i == 12 else b"5\r\nhelloXX")
        except OSError:
            pass  # refused at the head: the rest is not wanted
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        sock.close()
        results.append(int(data.split(b" ")[1]) if data.startswith(b"HTTP/") else 0)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(14)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    small = [b"GET /ping HTTP/9.9\r\nHost: x\r\n\r\n",
             b"GET /ping HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n",
             b"GET /api/sessions HTTP/1.1\r\nHost: x\r\nX-Api-Key: k\0junk\r\n\r\n",
             b"GET /api/sessions/s1%00x HTTP/1.1\r\nHost: x\r\n\r\n",
             b"GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n",
             b"POST /api/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 12x\r\n\r\n",
             b"GET /api/sessions HTTP/1.1\r\nHost: x\r\nX-Api-Key: nope\r\n\r\n",
             b"GET /nope/" + b"n" * 2000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
             b"POST /api/sessions HTTP/1.1\r\nHost: x\r\nX-Api-Key: " + key +
             b"\r\nContent-Length: 9\r\n\r\n{\"name\":[",
             b"NOT A REQUEST\r\n\r\n"]
    for i in range(100):
        c = KeptAlive(port)
        if i % 3 == 0:  # on a kept-alive connection, after a good request
            c.send(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
        st, _, _ = c.send(small[i % len(small)])
        check(400 <= st < 600, "small bad request %d: %d" % (i, st))
        c.close()
    return results


def test_memory_returns_after_bad_input():
    """Issue 12 item 4: the gateway's resident memory went from 19 to
    116 MB over a run of bad input and stayed there. Three bursts of bad
    input (big unauthenticated bodies, big malformed ones with and without
    a key, chunked or not, hundreds of small malformed requests); after
    each the gateway's resident memory comes back to within 32 MiB of
    what it was after a first, smaller burst (ASan: its quarantine is
    turned off here, so freed memory is given back as it would be)."""
    big = 4 << 20
    env = {"GATEWAY_MAX_CONNECTIONS_PER_IP": "0",
           "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=86:"
                           "quarantine_size_mb=0"}
    with Stack(services=GW, env=env) as s:
        pid = s.procs["api-gateway"].p.pid
        key = s.api_key.encode()
        _bad_input_burst(s.api_port, key, 1 << 20)  # threads, buffers, caches
        time.sleep(1)
        base = _status_kib(pid, "VmRSS")
        bound = base + 32 * 1024
        after = []
        for round_ in range(3):
            got = _bad_input_burst(s.api_port, key, big)
            check(len(got) == 14 and got.count(401) == 8 and
                  all(st in (400, 413, 503) for st in got if st != 401),
                  "round %d statuses: %r" % (round_, sorted(got)))
            after.append(wait_for(lambda: (lambda r: r if r <= bound else None)(
                _status_kib(pid, "VmRSS")), 20, interval=0.5,
                what="RSS back under %d KiB (now %d)" % (bound, _status_kib(pid, "VmRSS"))))
        peak = _status_kib(pid, "VmHWM")
        print("rss base %d KiB, peak %d KiB, after each round %r KiB (bound %d)"
              % (base, peak, after, bound), flush=True)
        check(peak > base + 16 * 1024, "the bursts did take memory: peak %d" % peak)
        st, _, _ = s.api("GET", "/ping", key=False)
        check(st == 200, "serving after")


def _raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def test_idle_connections_do_not_lock_out():
    """Thousands of idle and slowloris connections; normal requests are
    still answered within a second, and the head timeout closes them."""
    idle_n, slow_n = 2500, 1000
    have = _raise_nofile(idle_n + slow_n + 512)
    check(have >= idle_n + slow_n + 256, "need %d descriptors, have %d"
          % (idle_n + slow_n + 256, have))
    env = {"GATEWAY_MAX_CONNECTIONS_PER_IP": "0", "GATEWAY_HEADER_TIMEOUT_MS": "4000",
           "GATEWAY_REQUEST_TIMEOUT_MS": "500"}
    with Stack(services=GW, env=env) as s:
        port = s.api_port
        socks = []
        try:
            for i in range(idle_n):
                socks.append(socket.create_connection(("127.0.0.1", port)))
            slow = []
            for i in range(slow_n):
                c = socket.create_connection(("127.0.0.1", port))
                c.sendall(b"POST /api/sessions HTTP/1.1\r\nHost: x\r\n")
                slow.append(c)
            socks += slow
            for round_ in range(3):
                for c in slow[:200]:
                    try:
                        c.sendall(b"X-a: b\r\n")  # a header line now and then
                    except OSError:
                        pass
                t0 = time.time()
                st, body, _ = s.api("GET", "/ping", key=False, timeout=5)
                t1 = time.time()
                st2, body2, _ = s.api("GET", "/api/server/version", timeout=5)
                t2 = time.time()
                check(st == 200 and t1 - t0 < 1.0, "ping with %d held: %d in %.2fs"
                      % (len(socks), st, t1 - t0))
                check(st2 == 200 and t2 - t1 < 1.0, "version: %d in %.2fs" % (st2, t2 - t1))
                time.sleep(0.5)
            # the head timeout ends idle and slowloris connections
            time.sleep(3)
            closed = 0
            for c in socks[:50] + slow[-50:]:
                c.settimeout(3)
                try:
                    data = c.recv(4096)
                    closed += (data == b"" or data.startswith(b"HTTP/1.1 408"))
                except OSError:
                    closed += 1
            check(closed == 100, "idle and slowloris closed by the head timeout: %d/100" % closed)
        finally:
            for c in socks:
                c.close()
    # the per-address limit: the 21st connection from 127.0.0.1 gets 429,
    # another address is still served
    with Stack(services=GW, env={"GATEWAY_MAX_CONNECTIONS_PER_IP": "20"}) as s:
        held = [socket.create_connection(("127.0.0.1", s.api_port)) for _ in range(20)]
        # the gateway counts a connection once it accepted it: on a loaded
        # machine (CI) that took longer than 0.3 s, and a probe before it
        # was served (200). Probe until the limit holds.
        probe = [None]

        def limited():
            probe[0] = raw_http(s.api_port, b"GET /ping HTTP/1.1\r\nHost: x\r\n"
                                b"Connection: close\r\n\r\n")
            return probe[0][0] == 429
        wait_for(limited, 15, interval=0.3, what="429 for the 21st connection")
        json_error(*probe[0], 429)
        st, _, body = raw_http(s.api_port, b"GET /ping HTTP/1.1\r\nHost: x\r\n"
                               b"Connection: close\r\n\r\n", src="127.0.0.2")
        check(st == 200, "another address: %d" % st)
        for c in held:
            c.close()
        time.sleep(0.3)
        st, _, _ = s.api("GET", "/ping", key=False)
        check(st == 200, "served again once they closed: %d" % st)


if __name__ == "__main__":
    run([test_openapi_public_routes, test_side_effect_gets_setting,
         test_session_config_limits, test_chat_ids_refused_not_rewritten,
         test_unknown_recipient_is_4xx, test_control_characters_refused,
         test_own_errors_in_json, test_auth_before_body,
         test_keep_alive_checks_every_request, test_mhd_pages_in_json,
         test_memory_returns_after_bad_input,
         test_concurrent_big_bodies_bound_memory,
         test_idle_connections_do_not_lock_out])
