"""test_gateway_sessions - the session lifecycle through the real stack.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Every lifecycle endpoint on WAHA /api and Wawp /v2 against real
store-service, session-worker and PostgreSQL: create -> start -> FAILED
(WA_URL is a closed local port) -> stop -> delete; per-instance tokens;
commands routed to the worker holding the session; the micro-cache seeing
changes; /health with and without its dependencies.
"""
import json
import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack, check, run, wait_for  # noqa: E402
import buscall  # noqa: E402

CORE = ["store-service", "api-gateway", "session-worker"]


def no_secrets(body):
    text = json.dumps(body)
    check("access_token_hash" not in text and "desired" not in text,
          "store-only fields leak: %s" % text[:300])


def stopped(s, name):
    """Wait until `name` is STOPPED with no lease holder; return it."""
    def probe():
        st, body, _ = s.api("GET", "/api/sessions/" + name)
        return body if (st == 200 and body["status"] == "STOPPED"
                        and "assignedWorker" not in body) else None
    return wait_for(probe, 20, what="%s STOPPED and released" % name)


def test_waha_lifecycle():
    with Stack(workers=1, services=CORE) as s:
        st, body, _ = s.api("POST", "/api/sessions", {"name": "s1", "start": False})
        check(st == 201, "create: %d %r" % (st, body))
        check(body["name"] == "s1" and body["status"] == "STOPPED", repr(body))
        check(body["config"] == {} and body["me"] is None, repr(body))
        check(re.fullmatch(r"[A-Z0-9]{12}", body["instance_id"]), repr(body))
        no_secrets(body)

        st, body, _ = s.api("POST", "/api/sessions", {"name": "s1"})
        check(st == 422 and body["statusCode"] == 422 and "already exists" in body["message"],
              "duplicate: %d %r" % (st, body))

        # The config as WAHA shows it: unset optionals (null) left out,
        # the defaults WAHA's schema requires filled in
        st, body, _ = s.api("POST", "/api/sessions", {
            "name": "s9", "start": False,
            "config": {"proxy": {"server": "h:1", "username": None}, "metadata": None,
                       "noweb": {"store": {"enabled": True}}}})
        check(st == 201 and body["config"] == {
            "proxy": {"server": "h:1"},
            "noweb": {"markOnline": True, "store": {"enabled": True, "fullSync": False}}},
            "config shown: %d %r" % (st, body))
        check(s.api("DELETE", "/api/sessions/s9")[0] == 200, "delete s9")

        st, body, _ = s.api("GET", "/api/sessions")
        check(st == 200 and body == [], "list hides STOPPED: %r" % body)
        st, body, _ = s.api("GET", "/api/sessions?all=true")
        check(st == 200 and [x["name"] for x in body] == ["s1"], "list all: %r" % body)

        st, body, _ = s.api("GET", "/api/sessions/s1")
        check(st == 200 and body["name"] == "s1", "get")
        no_secrets(body)
        st, body, _ = s.api("GET", "/api/sessions/nosuch")
        check(st == 404 and body == {"statusCode": 404, "message": "Session not found",
                                     "error": "Not Found"}, "unknown: %r" % body)
        st, body, _ = s.api("GET", "/api/sessions/s1/me")
        check(st == 200 and body is None, "me is null: %r" % body)
        st, _, _ = s.api("GET", "/api/sessions/nosuch/me")
        check(st == 404, "me unknown")

        st, body, _ = s.api("POST", "/api/sessions/s1/start")
        check(st == 201 and body["status"] in ("STARTING", "FAILED"), "start: %r" % body)
        failed = s.wait_status("s1", "FAILED")
        check(failed["reason"], "FAILED carries a reason: %r" % failed)
        check(failed["assignedWorker"] == "worker-0", "held by worker-0: %r" % failed)
        # WAHA's SessionInfo requires presence (an object)
        check(failed["presence"] == {}, "presence: %r" % failed)
        st, body, _ = s.api("GET", "/api/sessions")
        check([x["name"] for x in body] == ["s1"], "running sessions listed")

        # update restarts a running session with the new config
        cfg = {"metadata": {"user.id": "42"},
               "webhooks": [{"url": "http://127.0.0.1:9/hook", "events": ["session.status"]}]}
        st, body, _ = s.api("PUT", "/api/sessions/s1", {"config": cfg})
        check(st == 200 and body["config"]["metadata"] == {"user.id": "42"}, "update: %r" % body)
        st, body, _ = s.api("GET", "/api/sessions/s1")
        check(body["config"]["metadata"] == {"user.id": "42"}, "update visible at once")
        s.wait_status("s1", "FAILED")

        st, body, _ = s.api("POST", "/api/sessions/s1/restart")
        check(st == 201, "restart: %d %r" % (st, body))
        s.wait_status("s1", "FAILED")

        # stop reaches the worker holding it: STOPPED and released (at
        # once unless the machine is too loaded for the worker to answer
        # within GATEWAY_STOP_TIMEOUT_MS)
        st, body, _ = s.api("POST", "/api/sessions/s1/stop")
        check(st == 201 and body["name"] == "s1", "stop: %r" % body)
        body = stopped(s, "s1")
        st, body, _ = s.api("POST", "/api/sessions/s1/stop")
        check(st == 201 and body["status"] == "STOPPED", "stop is idempotent")

        st, body, _ = s.api("POST", "/api/sessions/s1/logout")
        check(st == 201 and body["status"] == "STOPPED", "logout stopped: %r" % body)
        st, body, _ = s.api("POST", "/api/sessions/s1/start")
        s.wait_status("s1", "FAILED")
        st, body, _ = s.api("POST", "/api/sessions/s1/logout")
        check(st == 201, "logout running: %d %r" % (st, body))
        s.wait_status("s1", ["STARTING", "FAILED"])

        st, body, _ = s.api("DELETE", "/api/sessions/s1")
        check(st == 200 and body == {}, "delete: %d %r" % (st, body))
        st, _, _ = s.api("GET", "/api/sessions/s1")
        check(st == 404, "gone after delete")
        st, body, _ = s.api("DELETE", "/api/sessions/s1")
        check(st == 200, "delete is idempotent")
        for verb in ("start", "stop", "restart", "logout"):
            st, body, _ = s.api("POST", "/api/sessions/s1/" + verb)
            check(st == 404 and body["message"] == "Session not found", "%s unknown" % verb)
        st, _, _ = s.api("PUT", "/api/sessions/s1", {"config": {}})
        check(st == 404, "update unknown")

        # defaults: generated name, start=true
        st, body, _ = s.api("POST", "/api/sessions", {})
        check(st == 201 and re.fullmatch(r"session_[0-9a-f]{16}", body["name"]), repr(body))
        s.wait_status(body["name"], "FAILED")
        st, _, _ = s.api("DELETE", "/api/sessions/" + body["name"])
        check(st == 200, "delete generated")
        check(s.proc("session-worker-0").alive(), "worker alive")


def test_deprecated_routes():
    with Stack(workers=1, services=CORE) as s:
        st, body, _ = s.api("POST", "/api/sessions/start", {"name": "old"})
        check(st == 201 and body["name"] == "old", "upsert+start: %d %r" % (st, body))
        st, body, _ = s.api("POST", "/api/sessions/start", {"name": "old"})
        check(st == 422 and "already started" in body["message"], "second start: %r" % body)
        st, body, _ = s.api("POST", "/api/sessions/stop", {"name": "old"})
        check(st == 201, "old stop: %d" % st)
        stopped(s, "old")
        st, body, _ = s.api("POST", "/api/sessions/start",
                            {"name": "old", "config": {"metadata": {"a": "b"}}})
        check(st == 201 and body["config"]["metadata"] == {"a": "b"}, "restart with config")
        st, body, _ = s.api("POST", "/api/sessions/logout", {"name": "old"})
        check(st == 201, "old logout: %d" % st)
        st, _, _ = s.api("GET", "/api/sessions/old")
        check(st == 404, "old logout deletes")
        st, _, _ = s.api("POST", "/api/sessions/start", {})
        st, body, _ = s.api("GET", "/api/sessions/default")
        check(st == 200, "name defaults to 'default'")
        st, _, _ = s.api("POST", "/api/sessions/stop", {"name": "default", "logout": True})
        st, _, _ = s.api("GET", "/api/sessions/default")
        check(st == 404, "stop with logout deletes")


def wawp(s, method, verb, token, how="query", extra=None):
    """Call /v2/session/<verb> passing instance_id/access_token `how`."""
    fields = dict(extra or {})
    if token is not None:
        fields["access_token"] = token
    path = "/v2/session/" + verb
    if how == "query":
        return s.api(method, path + "?" + urllib.parse.urlencode(fields), key=False)
    if how == "json":
        return s.api(method, path, json_body=fields, key=False)
    if how == "header":
        tok = fields.pop("access_token", None)
        return s.api(method, path + "?" + urllib.parse.urlencode(fields), key=False,
                     headers={"access-token": tok} if tok else {})
    st, raw, hdrs = s.raw(method, path, urllib.parse.urlencode(fields),
                          {"Content-Type": "application/x-www-form-urlencoded"})
    return st, json.loads(raw) if raw else None, hdrs


def test_wawp_lifecycle():
    with Stack(workers=1, services=CORE) as s:
        st, body, _ = s.api("POST", "/v2/session/create?access_token=" + s.api_key,
                            key=False)
        check(st == 201, "create: %d %r" % (st, body))
        iid, token, name = body["instance_id"], body["access_token"], body["session_name"]
        check(re.fullmatch(r"[A-Z0-9]{12}", iid), "instance id: %r" % iid)
        check(len(token) >= 32 and name and body["status"] == "STARTING", repr(body))
        no_secrets(body)
        s.wait_status(name, "FAILED")
        # the token is not stored in clear
        out = s.pg.psql(s.database_url, "SELECT access_token_hash FROM sessions WHERE name='%s'" % name)
        check(out and token not in out and len(out) == 128, "only a hash is stored: %r" % out)

        # X-Api-Key also creates; a second instance for cross checks
        st, body2, _ = s.api("POST", "/v2/session/create", {"name": "other", "start": False})
        check(st == 201 and body2["session_name"] == "other", "create 2: %r" % body2)
        st, body, _ = s.api("POST", "/v2/session/create", {"name": "other"})
        check(st == 422 and body["status"] == 422, "duplicate wawp: %r" % body)

        ids = {"instance_id": iid}
        for how in ("query", "form", "json", "header"):
            st, body, _ = wawp(s, "POST" if how in ("form", "json") else "GET", "info",
                               token, how, ids)
            check(st == 200 and body["instance_id"] == iid and "qr" in body,
                  "info via %s: %d %r" % (how, st, body))
            no_secrets(body)
        st, body, _ = wawp(s, "GET", "info", s.api_key, "query", ids)
        check(st == 200, "admin key as access_token")

        # tokens are per instance
        st, body, _ = wawp(s, "GET", "info", token, "query", {"instance_id": body2["instance_id"]})
        check(st == 401 and body["error"] == "invalid_access_token", "token on other: %r" % body)
        st, body, _ = wawp(s, "GET", "info", token[:-1] + "x", "query", ids)
        check(st == 401, "wrong token")
        st, body, _ = wawp(s, "GET", "info", token, "query", {"instance_id": "NOSUCHINST00"})
        check(st == 401, "unknown instance with a session token: %d" % st)
        st, body, _ = wawp(s, "GET", "info", s.api_key, "query", {"instance_id": "NOSUCHINST00"})
        check(st == 404 and body == {"status": 404, "message": "Instance not found",
                                     "error": "invalid_instance"}, "unknown instance: %r" % body)
        st, body, _ = wawp(s, "GET", "info", token, "query", {})
        check(st == 400 and body["error"] == "bad_request", "missing instance_id")

        st, body, _ = wawp(s, "GET", "stop", token, "query", ids)
        check(st == 200 and body["instance_id"] == iid, "stop: %r" % body)
        stopped(s, name)
        st, body, _ = wawp(s, "POST", "start", token, "form", ids)
        check(st == 200 and body["status"] in ("STARTING", "FAILED"), "start: %r" % body)
        s.wait_status(name, "FAILED")
        st, body, _ = wawp(s, "POST", "restart", token, "json", ids)
        check(st == 200, "restart: %d %r" % (st, body))
        s.wait_status(name, "FAILED")
        st, body, _ = wawp(s, "GET", "logout", token, "header", ids)
        check(st == 200, "logout: %d %r" % (st, body))
        st, body, _ = wawp(s, "GET", "me", token, "query", ids)
        check(st == 200 and body is None, "me: %r" % body)
        st, body, _ = wawp(s, "POST", "stop", token, "query", ids)
        check(st == 200, "stop again: %r" % body)
        stopped(s, name)

        st, body, _ = wawp(s, "DELETE", "delete", token, "query", ids)
        check(st == 200, "delete: %d %r" % (st, body))
        st, body, _ = wawp(s, "GET", "info", s.api_key, "query", ids)
        check(st == 404, "deleted instance: %d" % st)
        st, body, _ = wawp(s, "GET", "info", token, "query", ids)
        check(st == 401, "its token died with it")
        # WAHA-created sessions are reachable on /v2 by name with the admin key
        st, body, _ = wawp(s, "POST", "delete", s.api_key, "form",
                           {"instance_id": body2["instance_id"]})
        check(st == 200, "delete other")


def test_cache_sees_changes():
    env = {"GATEWAY_CACHE_MS": "60000"}
    with Stack(workers=1, services=CORE, env=env) as s:
        st, _, _ = s.api("POST", "/api/sessions", {"name": "c1", "start": False})
        st, body, _ = s.api("GET", "/api/sessions/c1")
        check(body["status"] == "STOPPED", "first get")
        st, _, _ = s.api("PUT", "/api/sessions/c1", {"config": {"metadata": {"v": "2"}}})
        st, body, _ = s.api("GET", "/api/sessions/c1")
        check(body["config"]["metadata"] == {"v": "2"}, "update invalidates: %r" % body)
        st, body, _ = s.api("GET", "/api/sessions?all=true")
        check(body[0]["config"]["metadata"] == {"v": "2"}, "list invalidated")
        s.api("POST", "/api/sessions/c1/start")
        # the worker's status changes reach the cache through event.new
        s.wait_status("c1", "FAILED", timeout=20)
        s.api("DELETE", "/api/sessions/c1")
        st, _, _ = s.api("GET", "/api/sessions/c1")
        check(st == 404, "delete invalidates")


def test_cache_sees_other_gateways():
    """A change the gateway did not forward (another gateway's, made on the
    store directly here) reaches its cache through session.changed: reads
    and engine commands (sendText) see it at once."""
    env = {"GATEWAY_CACHE_MS": "60000", "GATEWAY_COMMAND_CACHE_MS": "60000"}
    with Stack(workers=1, services=CORE, env=env) as s:
        store = s.env["STORE_ENDPOINTS"].split(",")[0]
        send = {"session": "c2", "chatId": "12132132130@c.us", "text": "hi"}
        st, _, _ = s.api("POST", "/api/sessions", {"name": "c2", "start": False})
        check(st == 201, "create: %d" % st)
        st, body, _ = s.api("GET", "/api/sessions/c2")
        check(st == 200 and body["config"].get("metadata") is None, "first get")
        st, body, _ = s.api("POST", "/api/sendText", send)
        check(st == 422 and body["status"] == "STOPPED",
              "send to a stopped session: %d %r" % (st, body))
        buscall.ok(store, "session.update",
                   {"name": "c2", "config": {"metadata": {"v": "3"}}})

        def updated():
            st, body, _ = s.api("GET", "/api/sessions/c2")
            return body if body["config"].get("metadata") == {"v": "3"} else None
        wait_for(updated, 5, what="the other gateway's update")
        buscall.ok(store, "session.delete", {"name": "c2"})

        def gone():
            st, body, _ = s.api("POST", "/api/sendText", send)
            return (st, body) if st == 404 else None
        st, body = wait_for(gone, 5, what="send to a deleted session: 404")
        check(body["message"] == "Session not found", "404 shape: %r" % body)
        st, _, _ = s.api("GET", "/api/sessions/c2")
        check(st == 404, "get after delete: %d" % st)


def test_health():
    with Stack(workers=1, services=CORE) as s:
        def healthy():
            st, body, _ = s.api("GET", "/health", key=False)
            return body if st == 200 else None
        body = wait_for(healthy, 15, what="healthy")
        check(body["status"] == "ok" and body["workers"] == 1, repr(body))
        check(body["store"]["status"] == "ok", repr(body))
        check(body["info"] == {"store": {"status": "up"},
                               "workers": {"status": "up", "count": 1}}
              and body["error"] == {} and body["details"] == body["info"], repr(body))
        s.proc("session-worker-0").stop()

        def unhealthy():
            st, body, _ = s.api("GET", "/health", key=False)
            return body if st == 503 else None
        body = wait_for(unhealthy, 15, what="503 without workers")
        check(body["workers"] == 0 and body["store"]["status"] == "ok", repr(body))
        s.proc("store-service").kill()
        st, body, _ = s.api("GET", "/health", key=False)
        check(st == 503 and body["store"]["status"] == "error", "store down: %r" % body)
        st, body, _ = s.api("GET", "/api/sessions")
        check(st in (503, 504), "store down: %d" % st)
        st, _, _ = s.api("GET", "/ping", key=False)
        check(st == 200, "ping without the store")


if __name__ == "__main__":
    run([test_waha_lifecycle, test_deprecated_routes, test_wawp_lifecycle,
         test_cache_sees_changes, test_cache_sees_other_gateways, test_health])
