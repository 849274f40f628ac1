"""test_gateway_http - HTTP behaviour of api-gateway that needs no store.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Auth (no key, wrong key, query key, sha512: form, WHATSAPP_API_KEY),
error shapes, 404/405/413/400, the OpenAPI document, and that the gateway
keeps serving after each bad request. Only api-gateway runs, so anything
that needs the store answers 503.
"""
import hashlib
import json
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack, check, run  # noqa: E402

GW = ["api-gateway"]

# Every route the issue asks for: the OpenAPI document must list them all.
EXPECTED = [
    ("get", "/ping"), ("get", "/health"), ("get", "/api/server/version"),
    ("get", "/api/openapi.json"),
    ("get", "/api/sessions"), ("post", "/api/sessions"),
    ("get", "/api/sessions/{session}"), ("put", "/api/sessions/{session}"),
    ("delete", "/api/sessions/{session}"),
    ("get", "/api/sessions/{session}/me"),
    ("post", "/api/sessions/{session}/start"),
    ("post", "/api/sessions/{session}/stop"),
    ("post", "/api/sessions/{session}/restart"),
    ("post", "/api/sessions/{session}/logout"),
    ("post", "/api/sessions/start"), ("post", "/api/sessions/stop"),
    ("post", "/api/sessions/logout"),
    ("post", "/v2/session/create"),
    ("get", "/v2/session/info"), ("post", "/v2/session/info"),
    ("get", "/v2/session/start"), ("post", "/v2/session/start"),
    ("get", "/v2/session/stop"), ("post", "/v2/session/stop"),
    ("get", "/v2/session/restart"), ("post", "/v2/session/restart"),
    ("get", "/v2/session/logout"), ("post", "/v2/session/logout"),
    ("delete", "/v2/session/delete"),
    ("get", "/v2/session/me"),
    ("post", "/api/{session}/groups"), ("get", "/api/{session}/groups"),
    ("get", "/api/{session}/groups/{id}"),
    ("get", "/api/{session}/groups/{id}/participants"),
    ("post", "/api/{session}/groups/{id}/participants/add"),
    ("post", "/api/{session}/groups/{id}/participants/remove"),
    ("post", "/api/{session}/groups/{id}/admin/promote"),
    ("post", "/api/{session}/groups/{id}/admin/demote"),
    ("post", "/v2/groups"), ("get", "/v2/groups"), ("get", "/v2/groups/{id}"),
    ("get", "/v2/groups/{id}/participants"),
]


def alive(s):
    st, body, _ = s.api("GET", "/ping", key=False)
    check(st == 200 and body == {"message": "pong"}, "gateway still serves /ping")


def test_ping_version_exclusions():
    with Stack(services=GW) as s:
        st, body, hdrs = s.api("GET", "/ping", key=False)
        check(st == 200 and body == {"message": "pong"}, "ping: %r" % body)
        check(hdrs.get("Content-Type", "").startswith("application/json"),
              "json content type")
        st, body, _ = s.api("GET", "/api/server/version")
        check(st == 200, "version: %d" % st)
        # WAHA's engine enum (WHATSAPP_DEFAULT_ENGINE, default GOWS); Wharf's
        # own name in browser; worker an object
        check(body["engine"] == "GOWS" and body["tier"] == "CORE", repr(body))
        check(body["browser"].startswith("Wharf/") and "/" in body["platform"], repr(body))
        check("version" in body and body["worker"] == {"id": None}, repr(body))
        # /health needs no key; with no store and no worker it is 503
        st, body, _ = s.api("GET", "/health", key=False)
        check(st == 503 and body["status"] == "error", "health: %r" % body)
        check(body["workers"] == 0 and body["store"]["status"] == "error",
              repr(body))
        # WAHA's (terminus) shape: indicators in details, info (up), error (down)
        check(body["details"]["store"]["status"] == "down"
              and body["error"]["workers"]["status"] == "down"
              and body["info"] == {}, repr(body))


def test_auth():
    with Stack(services=GW) as s:
        st, body, _ = s.api("GET", "/api/sessions", key=False)
        check(st == 401 and body == {"message": "Unauthorized", "statusCode": 401},
              "no key: %d %r" % (st, body))
        st, body, _ = s.api("GET", "/api/sessions", key="wrong")
        check(st == 401 and body["statusCode"] == 401, "wrong key")
        st, _, _ = s.api("GET", "/api/server/version", key=False,
                         query={"x-api-key": s.api_key})
        check(st == 200, "key in query: %d" % st)
        st, _, _ = s.api("GET", "/api/server/version", key=False,
                         query={"x-api-key": "nope"})
        check(st == 401, "wrong key in query")
        # the key never shows up in logs
        # /v2: Wawp error shape
        st, body, _ = s.api("GET", "/v2/session/info", key=False,
                            query={"instance_id": "ABC"})
        check(st == 401 and body.get("status") == 401
              and body.get("error") == "invalid_access_token",
              "wawp no token: %r" % body)
        # /v2 with the admin key as access_token gets past auth (503: no store)
        st, body, _ = s.api("GET", "/v2/session/info", key=False,
                            query={"instance_id": "ABC", "access_token": s.api_key})
        check(st == 503 and body.get("status") == 503, "wawp admin: %d %r" % (st, body))
        st, body, _ = s.api("POST", "/v2/session/create", key=False,
                            query={"access_token": "wrong"})
        check(st == 401 and body.get("error") == "invalid_access_token",
              "wawp create needs the admin key: %r" % body)
        st, body, _ = s.api("POST", "/v2/session/create", key=False,
                            headers={"access-token": "wrong"})
        check(st == 401, "wawp create, access-token header")
        alive(s)
        for p in s.procs.values():
            check(s.api_key not in p.text(), "%s logged the API key" % p.tag)


def test_hashed_key_and_old_name():
    key = "hashed-" + os.urandom(6).hex()
    digest = hashlib.sha512(key.encode()).hexdigest()
    with Stack(services=GW, api_key="sha512:" + digest) as s:
        st, _, _ = s.api("GET", "/api/server/version", key=key)
        check(st == 200, "sha512 key: %d" % st)
        st, _, _ = s.api("GET", "/api/server/version", key="sha512:" + digest)
        check(st == 401, "the hash itself is not a key")
        st, _, _ = s.api("GET", "/api/server/version", key=digest)
        check(st == 401, "the hex digest is not a key")
    # WAHA's engine variable picks the engine name Wharf reports
    with Stack(services=GW, env={"WHATSAPP_DEFAULT_ENGINE": "NOWEB"}) as s:
        st, body, _ = s.api("GET", "/api/server/version")
        check(st == 200 and body["engine"] == "NOWEB", (st, body))
    env = {"WAHA_API_KEY": "", "WHATSAPP_API_KEY": "old-name-key"}
    with Stack(services=GW, env=env) as s:
        st, _, _ = s.api("GET", "/api/server/version", key="old-name-key")
        check(st == 200, "WHATSAPP_API_KEY: %d" % st)


def test_exclude_path():
    with Stack(services=GW, env={"WAHA_API_KEY_EXCLUDE_PATH": "ping,/api/server/version"}) as s:
        st, _, _ = s.api("GET", "/api/server/version", key=False)
        check(st == 200, "excluded path needs no key")
        st, _, _ = s.api("GET", "/health", key=False)
        check(st == 401, "health no longer excluded: %d" % st)


def test_bad_requests_keep_serving():
    with Stack(services=GW, env={"GATEWAY_BODY_LIMIT": "4096"}) as s:
        # unknown route
        st, body, _ = s.api("GET", "/api/nothing")
        check(st == 404 and body["statusCode"] == 404 and body["error"] == "Not Found",
              "unknown route: %r" % body)
        st, body, _ = s.api("GET", "/v2/nothing")
        check(st == 404 and body["status"] == 404, "unknown /v2 route: %r" % body)
        alive(s)
        # wrong method
        st, body, hdrs = s.api("PATCH", "/api/sessions/x")
        check(st == 405 and "PUT" in hdrs.get("Allow", ""), "405: %r" % hdrs)
        alive(s)
        # malformed JSON
        st, body, _ = s.raw("POST", "/api/sessions", b'{"name": ',
                            {"X-Api-Key": s.api_key, "Content-Type": "application/json"})
        check(st == 400, "malformed json: %d" % st)
        body = json.loads(body)
        check(body["statusCode"] == 400 and "JSON" in body["message"], repr(body))
        alive(s)
        # not an object
        st, body, _ = s.api("POST", "/api/sessions", json_body=[1, 2])
        check(st == 400, "array body: %d" % st)
        # wrong types name the field
        for payload, field in (({"name": 5}, "name"), ({"start": "yes"}, "start"),
                               ({"config": []}, "config"),
                               ({"config": {"webhooks": [{"url": 5, "events": ["message"]}]}},
                                "config.webhooks[0]"),
                               ({"config": {"webhooks": [{"url": "http://127.0.0.1:1/",
                                                          "events": ["nope"]}]}},
                                "nope"),
                               ({"config": {"metadata": {"a": 1}}}, "config.metadata.a"),
                               ({"config": {"proxy": {}}}, "config.proxy.server"),
                               ({"name": "bad name!"}, "name")):
            st, body, _ = s.api("POST", "/api/sessions", json_body=payload)
            check(st == 400, "%r: %d" % (payload, st))
            check(isinstance(body["message"], list) and field in body["message"][0],
                  "%r names %s: %r" % (payload, field, body))
            alive(s)
        st, body, _ = s.api("PUT", "/api/sessions/x", json_body={})
        check(st == 400 and "config" in body["message"][0], "update without config")
        st, body, _ = s.api("GET", "/api/sessions/bad%20name")
        check(st == 400, "bad session name in path: %d" % st)
        st, body, _ = s.api("GET", "/api/sessions?all=maybe")
        check(st == 400 and "all" in body["message"][0], "bad all: %r" % body)
        # /v2 missing instance_id
        st, body, _ = s.api("GET", "/v2/session/info", key=False,
                            query={"access_token": s.api_key})
        check(st == 400 and body["error"] == "bad_request"
              and "instance_id" in body["message"], "no instance_id: %r" % body)
        # oversized: Content-Length, and a chunked body counted as it arrives
        st, body, _ = s.api("POST", "/api/sessions",
                            json_body={"name": "x", "pad": "a" * 5000})
        check(st == 413, "oversized: %d" % st)
        check(json.loads(json.dumps(body))["statusCode"] == 413, repr(body))
        alive(s)
        check(chunked_status(s, 6000) == 413, "chunked oversized")
        check(chunked_status(s, 100) in (400, 503), "chunked small body accepted")
        alive(s)
        # many connections at once
        import concurrent.futures
        with concurrent.futures.ThreadPoolExecutor(32) as ex:
            codes = list(ex.map(lambda i: s.api("GET", "/ping", key=False)[0], range(200)))
        check(codes.count(200) == 200, "parallel pings: %r" % set(codes))


def chunked_status(s, size):
    """POST a chunked body of `size` bytes by hand; return the status."""
    sock = socket.create_connection(("127.0.0.1", s.api_port), timeout=10)
    head = ("POST /api/sessions HTTP/1.1\r\nHost: x\r\nX-Api-Key: %s\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            "Connection: close\r\n\r\n" % s.api_key).encode()
    body = b'{"name":"' + b"a" * max(0, size - 11) + b'"}'
    try:
        sock.sendall(head)
        for i in range(0, len(body), 1000):
            part = body[i:i + 1000]
            sock.sendall(b"%x\r\n%s\r\n" % (len(part), part))
        sock.sendall(b"0\r\n\r\n")
    except OSError:
        pass
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
    return int(data.split(b" ", 2)[1])


def test_openapi_covers_routes():
    # No store runs: every store-backed route waits out the request
    # deadline, so keep it short (the walk covers every route)
    with Stack(services=GW, env={"GATEWAY_REQUEST_TIMEOUT_MS": "400"}) as s:
        st, doc, _ = s.api("GET", "/api/openapi.json", key=False)
        check(st == 200 and doc["openapi"].startswith("3."), "openapi served without key")
        paths = doc["paths"]
        for method, path in EXPECTED:
            check(path in paths and method in paths[path],
                  "OpenAPI lacks %s %s" % (method.upper(), path))
        # every documented operation is routed (not a router 404/405)
        for path, item in paths.items():
            for method in item:
                url = path.replace("{session}", "nosuch")
                st, body, _ = s.api(method.upper(), url, json_body={} if method in ("post", "put") else None,
                                    query={"instance_id": "X"} if url.startswith("/v2/") else None)
                check(st != 405, "%s %s: 405" % (method, path))
                msg = body.get("message") if isinstance(body, dict) else None
                check(not (st == 404 and isinstance(msg, str) and msg.startswith("Cannot")),
                      "%s %s is documented but not routed" % (method, path))
        refs = json.dumps(doc)
        for name in doc["components"]["schemas"]:
            check(name in refs, "schema %s" % name)
        check("session.status" in json.dumps(doc["components"]["schemas"]["WebhookEvent"]),
              "event names in the schema")


if __name__ == "__main__":
    run([test_ping_version_exclusions, test_auth, test_hashed_key_and_old_name,
         test_exclude_path, test_bad_requests_keep_serving, test_openapi_covers_routes])
