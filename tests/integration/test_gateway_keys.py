"""test_gateway_keys - WAHA's /api/keys: admin and session keys, hashed at
rest, shown once; a session key cannot touch another session on any route.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

One stack (store, gateway, no worker: the scope check answers before any
handler runs) for every case:
- create/list/update/delete, WAHA's shapes field by field; the key only
  in the create answer; the store holds its SHA-512 only; no log line
  holds it; deactivating or deleting a key stops it at once;
- a session key, on EVERY operation of the OpenAPI document (the route
  table): aimed at another session (path, query and body) it gets 403 (401
  on the /v2 instance routes, where only the instance token counts) and
  changes nothing; aimed at its own session it passes the key check on
  every route that takes a session, and only there;
- its actions (scopes): send off refuses sendText with 403;
- every place a handler reads `session` from is checked: a form body, a
  JSON null or non-string, every query value.
"""
import hashlib
import json

from harness import Stack, check, run, wait_for

SERVICES = ["store-service", "api-gateway"]
CTX = {}


def api(method, path, key, body=None, query=None):
    return CTX["s"].api(method, path, body, key=key, query=query)


def test_crud_and_at_rest():
    s = CTX["s"]
    st, made, _ = s.api("POST", "/api/keys", {"isAdmin": True})
    check(st == 201, (st, made))
    check(made["isAdmin"] is True and made["session"] is None and made["isActive"] is True
          and made["key"].startswith("wharf_") and len(made["key"]) == 70
          and isinstance(made["id"], str) and isinstance(made["createdAt"], int)
          and made["actions"] == {"read": True, "send": True, "control": True,
                                  "setting": True, "app": True, "delete": True}, made)
    admin = made["key"]
    # the made admin key is an admin key at once
    st, body, _ = api("GET", "/api/sessions", admin)
    check(st == 200 and isinstance(body, list), (st, body))
    st, body, _ = api("GET", "/api/keys", admin)
    check(st == 200 and [k["id"] for k in body] == [made["id"]], body)
    check("key" not in body[0] and "hash" not in body[0], body[0])
    # hashed at rest: SHA-512 hex, never the key
    rows = s.pg.psql(s.database_url, "SELECT id, key_hash, row_to_json(api_keys)::text FROM api_keys")
    check(hashlib.sha512(admin.encode()).hexdigest() in rows and admin not in rows, rows)
    # a session key needs a session; bad fields are 400
    for bad in ({"isAdmin": False}, {"session": 5}, {"isActive": "yes"},
                {"session": "ka", "actions": {"fly": True}}):
        st, body, _ = s.api("POST", "/api/keys", bad)
        check(st == 400 and body["statusCode"] == 400, (bad, st, body))
    # deactivate, reactivate, delete: effective at once
    st, body, _ = s.api("PUT", "/api/keys/%s" % made["id"], {"isActive": False})
    check(st == 200 and body["isActive"] is False and "key" not in body, body)
    st, _, _ = api("GET", "/api/sessions", admin)
    check(st == 401, st)
    st, body, _ = s.api("PUT", "/api/keys/%s" % made["id"], {"isActive": True})
    check(st == 200 and api("GET", "/api/sessions", admin)[0] == 200, body)
    st, body, _ = s.api("DELETE", "/api/keys/%s" % made["id"])
    check(st == 200 and body == {}, (st, body))
    check(api("GET", "/api/sessions", admin)[0] == 401, "deleted key refused")
    for m, b in (("PUT", {"isActive": True}), ("DELETE", None)):
        st, body, _ = s.api(m, "/api/keys/nosuchkey", b)
        check(st == 404 and body["statusCode"] == 404, (m, st, body))
    # the keys routes are the admin's: a session key cannot make keys,
    # not even for its own session, nor raise itself
    st, sk, _ = s.api("POST", "/api/keys", {"session": "ka"})
    check(st == 201 and sk["session"] == "ka" and sk["isAdmin"] is False, sk)
    st, body, _ = api("GET", "/api/keys", sk["key"])
    check(st == 403 and body["statusCode"] == 403, (st, body))
    for m, p, b in (("POST", "/api/keys", {"session": "ka", "isAdmin": True}),
                    ("PUT", "/api/keys/%s" % sk["id"], {"session": "ka", "isAdmin": True})):
        st, body, _ = api(m, p, sk["key"], b, {"session": "ka"})
        check(st == 403, (m, p, st, body))
    st, body, _ = s.api("GET", "/api/keys")
    check(len(body) == 1 and body[0]["isAdmin"] is False, body)
    CTX["session_key"] = sk["key"]
    # no log line holds a key
    logs = s.logs()
    check(admin not in logs and sk["key"] not in logs, "a key in the logs")


def fill(path, session):
    return path.replace("{session}", session).replace("{id}", "x").replace(
        "{file}", "x.js").replace("{filename}", "x.jpg").replace("{chatId}", "1@c.us")


def test_session_key_on_every_route():
    s = CTX["s"]
    key = CTX["session_key"]
    st, doc, _ = s.api("GET", "/api/openapi.json", key=False)
    check(st == 200, st)
    before = s.api("GET", "/api/sessions/kb")[1]
    ops = [(path, method.upper(), op) for path, item in sorted(doc["paths"].items())
           for method, op in item.items() if op.get("security") != []]
    walked = len(ops)  # every operation that needs a key
    scoped_ok = 0
    for path, m, op in ops:
        body = {"session": "kb", "chatId": "1@c.us", "text": "x", "name": "kb"} \
            if m in ("POST", "PUT") else None
        st, res, _ = api(m, fill(path, "kb"), key, body, {"session": "kb"})
        if path.startswith("/v2/"):
            check(st in (401, 403), "%s %s -> %s %r" % (m, path, st, res))
        else:
            check(st == 403 and res["statusCode"] == 403
                  and res["error"] == "Forbidden", "%s %s -> %s %r" % (m, path, st, res))
    # nothing happened to the other session
    check(s.api("GET", "/api/sessions/kb")[1] == before, "kb changed")
    st, names, _ = s.api("GET", "/api/sessions?all=true")
    check(sorted(x["name"] for x in names) == ["ka", "kb"], names)
    for path, m, op in ops:
        # its own session: past the key check where the route takes one
        body = {"session": "ka", "chatId": "1@c.us", "text": "x", "name": "ka"} \
            if m in ("POST", "PUT") else None
        st, res, _ = api(m, fill(path, "ka"), key, body, {"session": "ka"})
        takes = not path.startswith("/api/keys") and ("{session}" in path or any(
            p.get("name") == "session" and p.get("in") == "query"
            for p in op.get("parameters", [])) or _body_has_session(doc, op))
        if takes and not path.startswith("/v2/"):
            check(st not in (401, 403), "own session refused: %s %s -> %s %r"
                  % (m, path, st, res))
            scoped_ok += 1
        elif not path.startswith("/v2/"):
            check(st == 403, "not a session route, yet %s %s -> %s" % (m, path, st))
    check(walked >= 80 and scoped_ok >= 20, (walked, scoped_ok))
    # the walk over its own session may have deleted it; kb is untouched
    check(s.api("GET", "/api/sessions/kb")[1] == before, "kb changed")
    print("walked %d operations, %d take a session" % (walked, scoped_ok))


def _body_has_session(doc, op):
    schemas = doc["components"]["schemas"]

    def has(schema, depth=0):
        if depth > 4 or not isinstance(schema, dict):
            return False
        ref = schema.get("$ref")
        if ref:
            return has(schemas.get(ref.rsplit("/", 1)[1]), depth + 1)
        if "session" in schema.get("properties", {}):
            return True
        return any(has(p, depth + 1) for p in schema.get("allOf", []))
    content = op.get("requestBody", {}).get("content", {})
    return any(has(c.get("schema")) for c in content.values())


def test_actions():
    s = CTX["s"]
    s.api("POST", "/api/sessions", {"name": "ka", "start": False})
    st, k, _ = s.api("POST", "/api/keys", {"session": "ka", "actions": {"send": False}})
    check(st == 201 and k["actions"]["send"] is False and k["actions"]["read"] is True, k)
    st, body, _ = api("POST", "/api/sendText", k["key"],
                      {"session": "ka", "chatId": "1@c.us", "text": "x"})
    check(st == 403 and "send" in body["message"], (st, body))
    st, body, _ = api("GET", "/api/sessions/ka", k["key"])
    check(st == 200 and body["name"] == "ka", (st, body))


def test_session_key_other_ways():
    """Handlers read `session` from a JSON body, a form body or the query
    (gw_req_input); before the fix the key check looked at the JSON string
    and the first query value only: a form body's session or a JSON null
    (handlers then use "default") reached another session."""
    s = CTX["s"]
    s.api("POST", "/api/sessions", {"name": "ka", "start": False})
    st, k, _ = s.api("POST", "/api/keys", {"session": "ka"})
    check(st == 201, (st, k))
    key = k["key"]
    h = {"X-Api-Key": key, "Accept": "application/json"}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    cases = [
        ("form body names kb", "/api/sendText?session=ka",
         "session=kb&chatId=15550000001%40c.us&text=x", form),
        ("JSON null session", "/api/sendText?session=ka",
         '{"session":null,"chatId":"15550000001@c.us","text":"x"}',
         {"Content-Type": "application/json"}),
        ("JSON non-string session", "/api/sendText?session=ka",
         '{"session":["kb"],"chatId":"15550000001@c.us","text":"x"}',
         {"Content-Type": "application/json"}),
        ("second query value", "/api/sendText?session=ka&session=kb",
         '{"chatId":"15550000001@c.us","text":"x"}',
         {"Content-Type": "application/json"}),
        ("form body on a GET", "/api/screenshot?session=ka", "session=kb", form),
    ]
    for what, path, body, extra in cases:
        method = "GET" if "screenshot" in path else "POST"
        st, raw, _ = s.raw(method, path, body, dict(h, **extra))
        check(st == 403, "%s: %s %r" % (what, st, raw[:300]))
        res = json.loads(raw)
        check(res["statusCode"] == 403 and res["error"] == "Forbidden"
              and "ka" in res["message"], (what, res))
    # its own session by a form body still passes the key check (then the
    # session's status decides: 422, no worker)
    st, raw, _ = s.raw("POST", "/api/sendText?session=ka",
                       "session=ka&chatId=15550000001%40c.us&text=x", dict(h, **form))
    check(st not in (401, 403), (st, raw[:300]))


if __name__ == "__main__":
    with Stack(workers=0, services=SERVICES) as s:
        CTX["s"] = s
        for name in ("ka", "kb"):
            # the store may still be starting: 503 until it answers
            wait_for(lambda: s.api("POST", "/api/sessions",
                                   {"name": name, "start": False})[0] in (201, 422),
                     20, interval=0.2, what="session %s created" % name)
        run([test_crud_and_at_rest, test_session_key_on_every_route, test_actions,
             test_session_key_other_ways])
