"""test_gateway_hardening - api-gateway under hostile but fair input (issue 12).

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Each test failed before its fix: the OpenAPI document marked the public
/ping and /health as needing a key; GET forms of Wawp's state-changing
routes could not be turned off; session configs took unknown keys and
unbounded metadata.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack, check, run  # noqa: E402

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


if __name__ == "__main__":
    run([test_openapi_public_routes, test_side_effect_gets_setting,
         test_session_config_limits])
