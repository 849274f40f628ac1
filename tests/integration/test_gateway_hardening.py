"""test_gateway_hardening - api-gateway under hostile but fair input (issue 12).

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Each test failed before its fix: the OpenAPI document marked the public
/ping and /health as needing a key; GET forms of Wawp's state-changing
routes could not be turned off; session configs took unknown keys and
unbounded metadata; chat ids were rewritten instead of refused
(-1@c.us became 1@c.us), sendSeen took status@broadcast, an empty group
was created, and a recipient not on WhatsApp gave 502.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack, check, run  # noqa: E402
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


if __name__ == "__main__":
    run([test_openapi_public_routes, test_side_effect_gets_setting,
         test_session_config_limits, test_chat_ids_refused_not_rewritten,
         test_unknown_recipient_is_4xx])
