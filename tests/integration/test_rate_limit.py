"""test_rate_limit - Wawp's per-session send policy, GET|PATCH /v2/session/rate-limit.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

One stack: store-service and two api-gateways (no worker: sends are paced
or refused before their handler runs, so the send's own answer, 422 for a
session not WORKING, does not matter here; 429 is what the policy adds).
The gateways pace every session by GATEWAY_SEND_INTERVAL_MS=600 unless a
policy says otherwise (that default is checked on /api/sendText: a Wawp
send names no session before its handler, so only a policy paces it).

- GET shows "default" with the gateway's pacing and the built-in policies.
- Bad input gets 400 in Wawp's shape {status, message, error}; a wrong
  token 401; nothing is stored.
- strict: sequential sends leave >= 1 s apart, and the fourth within
  seconds gets 429 with Retry-After (the 3-send burst is spent), on /v2
  and on /api for the same session; the other gateway applies it too.
- unlimited ("off"): sends are neither paced nor refused, though the
  gateway's own default would pace them.
- custom limits are checked and applied.
- The policy survives a gateway restart (it lives in the store).
- default: the gateway's own pacing again.
"""
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from harness import Stack, check, free_port, run, wait_for

SERVICES = ["store-service", "api-gateway"]
CTX = {}


def call(base, method, path, fields=None, how="query", key=None):
    """A request to gateway `base`; fields in the query or a JSON body."""
    fields = dict(fields or {})
    headers = {"Accept": "application/json"}
    data = None
    if key:
        headers["X-Api-Key"] = key
    if how == "query":
        if fields:
            path += "?" + urllib.parse.urlencode(fields)
    else:
        headers["Content-Type"] = "application/json"
        data = json.dumps(fields).encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            st, raw, hdrs = r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        st, raw, hdrs = e.code, e.read(), dict(e.headers)
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = raw.decode("utf-8", "replace")
    return st, body, hdrs


def creds():
    return {"instance_id": CTX["iid"], "access_token": CTX["token"]}


def policy(base=None, **extra):
    f = creds()
    f.update(extra)
    return call(base or CTX["s"].base, "GET", "/v2/session/rate-limit", f)


def patch(fields, how="json", base=None):
    f = creds()
    f.update(fields)
    return call(base or CTX["s"].base, "PATCH", "/v2/session/rate-limit", f, how)


def send(base=None, i=0):
    """One Wawp text send; (status, body, headers, seconds taken)."""
    f = creds()
    f.update({"chatId": "123456789", "message": "hi %d" % i})
    t0 = time.monotonic()
    st, body, hdrs = call(base or CTX["s"].base, "POST", "/v2/send/text", f, "json")
    return st, body, hdrs, time.monotonic() - t0


def send_api(i=0):
    t0 = time.monotonic()
    st, body, hdrs = call(CTX["s"].base, "POST", "/api/sendText",
                          {"session": CTX["name"], "chatId": "123456789@c.us",
                           "text": "hi %d" % i}, "json", key=CTX["s"].api_key)
    return st, body, hdrs, time.monotonic() - t0


def burst(n, base=None):
    """n sends at once; each (status, body, headers, finished at seconds)."""
    out = [None] * n
    t0 = time.monotonic()

    def one(i):
        st, body, hdrs, _ = send(base, i)
        out[i] = (st, body, hdrs, time.monotonic() - t0)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_default_view():
    st, body, _ = policy()
    check(st == 200, (st, body))
    check(body["policy_slug"] == "default" and body["instance_id"] == CTX["iid"]
          and body["session"] == CTX["name"] and body["updated_at"] is None, body)
    cur = body["current_policy"]
    check(cur["slug"] == "default" and cur["limits"] == {
        "send_message_per_minute": 0, "burst": 0, "send_interval_ms": 600,
        "send_jitter_ms": 0, "concurrent_limit": 20}, cur)
    slugs = [p["slug"] for p in body["policies"]]
    check(slugs == ["strict", "standard_policy", "relaxed", "unlimited"], slugs)
    strict = body["policies"][0]
    check(strict["limits"] == {"send_message_per_minute": 10, "burst": 3,
                               "send_interval_ms": 1000, "send_jitter_ms": 500,
                               "concurrent_limit": 5} and strict["available"] is True,
          strict)
    # the default pacing: two sends >= 0.6 s apart
    a, b = send_api(), send_api()
    check(a[0] != 429 and b[0] != 429 and b[3] >= 0.5, (a[:2], b[:2], b[3]))


def test_bad_input():
    cases = [
        ({}, "policy_slug is required"),
        ({"policy_slug": "fast"}, "unknown policy_slug 'fast'"),
        ({"policy_slug": "x" * 33}, "policy_slug"),
        ({"policy_slug": 5}, "policy_slug"),
        ({"policy_slug": "strict", "limits": {"burst": 1}}, "only with policy_slug custom"),
        ({"policy_slug": "custom"}, "limits must be an object"),
        ({"policy_slug": "custom", "limits": {"fly": 1}}, "limits.fly is not a known limit"),
        ({"policy_slug": "custom", "limits": {"burst": -1}}, "limits.burst must be an integer 0..1000"),
        ({"policy_slug": "custom", "limits": {"send_interval_ms": 600001}},
         "limits.send_interval_ms must be an integer 0..600000"),
        ({"policy_slug": "custom", "limits": {"concurrent_limit": "2"}},
         "limits.concurrent_limit must be an integer 1..1000"),
    ]
    for fields, words in cases:
        st, body, _ = patch(fields)
        check(st == 400 and body["status"] == 400 and body["error"] == "bad_request"
              and words in body["message"], (fields, st, body))
    # as a query too (Wawp takes either), limits as JSON text
    st, body, _ = patch({"policy_slug": "custom", "limits": '{"burst": 5000}'}, how="query")
    check(st == 400 and "limits.burst" in body["message"], (st, body))
    st, body, _ = patch({"policy_slug": "custom", "limits": "x" * 2000}, how="query")
    check(st == 400 and "limits is too long" in body["message"], (st, body))
    # a wrong token, no credential: 401, Wawp's shape
    st, body, _ = call(CTX["s"].base, "PATCH", "/v2/session/rate-limit",
                       {"instance_id": CTX["iid"], "access_token": "nope",
                        "policy_slug": "strict"}, "json")
    check(st == 401 and body["status"] == 401, (st, body))
    st, body, _ = call(CTX["s"].base, "GET", "/v2/session/rate-limit",
                       {"instance_id": CTX["iid"]})
    check(st == 401, (st, body))
    # an unknown instance with the admin key: 404
    st, body, _ = call(CTX["s"].base, "GET", "/v2/session/rate-limit",
                       {"instance_id": "NOSUCHINSTAN"}, key=CTX["s"].api_key)
    check(st == 404 and body["status"] == 404, (st, body))
    # nothing was stored
    check(policy()[1]["policy_slug"] == "default", "still default")


def test_strict():
    st, body, _ = patch({"policy_slug": "strict"})
    check(st == 200 and body["policy_slug"] == "strict"
          and body["current_policy"]["limits"]["send_message_per_minute"] == 10
          and isinstance(body["updated_at"], int), (st, body))
    check(policy()[1]["policy_slug"] == "strict", "GET sees it")
    # sends with a wrong token (or naming the session in a `session` field)
    # are refused by their handler and charge nothing
    for i in range(6):
        f = {"instance_id": CTX["iid"], "access_token": "wrong", "session": CTX["name"],
             "chatId": "123456789", "message": "x"}
        st, body, _ = call(CTX["s"].base, "POST", "/v2/send/text", f, "json")
        check(st == 401, (st, body))
    res = [send(i=i) for i in range(4)]
    check(all(r[0] != 429 for r in res[:3]), [r[:2] for r in res])
    # paced: the 2nd and 3rd waited their 1..1.5 s slot
    check(res[1][3] >= 0.9 and res[2][3] >= 0.9, [r[3] for r in res])
    st, body, hdrs, dt = res[3]
    check(st == 429 and body["status"] == 429 and "rate-limit policy" in body["message"]
          and int(hdrs["Retry-After"]) >= 1 and dt < 1.0, (st, body, hdrs, dt))
    # the same session through WAHA's route shares the bucket
    st, body, hdrs, _ = send_api()
    check(st == 429 and body["statusCode"] == 429 and int(hdrs["Retry-After"]) >= 1,
          (st, body))
    print("strict: sends took %s s; then 429 Retry-After %s" % (
        ", ".join("%.2f" % r[3] for r in res[:3]), res[3][2]["Retry-After"]))


def test_other_gateway():
    base2 = CTX["base2"]
    # the second gateway reloads the policies every second
    time.sleep(2.5)
    out = burst(4, base2)
    limited = [r for r in out if r[0] == 429]
    passed = sorted(r[3] for r in out if r[0] != 429)
    # its own bucket of 3: one refused at once; the three others paced
    check(len(limited) == 1 and int(limited[0][2]["Retry-After"]) >= 1, [r[:2] for r in out])
    check(passed[2] >= 1.8, passed)
    st, body, _ = policy(base2)
    check(st == 200 and body["policy_slug"] == "strict", body)


def test_off():
    st, body, _ = patch({"policy_slug": "off"})
    check(st == 200 and body["policy_slug"] == "unlimited"
          and body["current_policy"]["limits"]["send_interval_ms"] == 0, (st, body))
    out = burst(8)
    check(all(r[0] != 429 for r in out), [r[:2] for r in out])
    # the default would take 7 * 0.6 = 4.2 s
    took = max(r[3] for r in out)
    check(took < 2.5, [r[3] for r in out])
    print("off: 8 sends at once done in %.2f s (default pacing: >= 4.2 s)" % took)


def test_custom():
    st, body, _ = patch({"policy_slug": "custom",
                         "limits": {"send_interval_ms": 700, "concurrent_limit": 2}})
    check(st == 200 and body["policy_slug"] == "custom"
          and body["current_policy"]["limits"] == {
              "send_message_per_minute": 0, "burst": 0, "send_interval_ms": 700,
              "send_jitter_ms": 0, "concurrent_limit": 2}, (st, body))
    a, b = send(), send()
    check(a[0] != 429 and b[0] != 429 and b[3] >= 0.6, (a[:2], b[:2], b[3]))
    # form/query input works as well; a new policy starts a full bucket
    st, body, _ = patch({"policy_slug": "custom",
                         "limits": '{"send_message_per_minute": 1, "burst": 1}'}, how="query")
    check(st == 200 and body["current_policy"]["limits"]["burst"] == 1, body)
    check(send()[0] != 429, "first of the minute")
    st, body, hdrs, _ = send()
    check(st == 429 and int(hdrs["Retry-After"]) >= 50, (st, hdrs))


def test_restart():
    s = CTX["s"]
    st, body, _ = patch({"policy_slug": "strict"})
    check(st == 200, body)
    rc = s.proc("api-gateway").stop()
    check(rc == 0, "gateway exit %s" % rc)
    s.start("api-gateway")
    wait_for(lambda: s.raw("GET", "/ping")[0] == 200, 20, what="gateway back")
    st, body, _ = policy()
    check(st == 200 and body["policy_slug"] == "strict", body)
    # applied from the store (the first reload runs at start)
    def applied():
        out = burst(4)
        return out if any(r[0] == 429 for r in out) else None
    out = wait_for(applied, 20, interval=0.5, what="strict applied after restart")
    check(sum(r[0] == 429 for r in out) == 1, [r[:2] for r in out])


def test_default_again():
    st, body, _ = patch({"policy_slug": "default"})
    check(st == 200 and body["policy_slug"] == "default"
          and body["current_policy"]["limits"]["send_interval_ms"] == 600, body)
    out = CTX["s"].pg.psql(CTX["s"].database_url,
                           "SELECT count(*) FROM session_rate_limits")
    check(out.strip() == "0", out)
    a, b = send_api(), send_api()
    check(a[0] != 429 and b[0] != 429 and b[3] >= 0.5, (a[:2], b[:2], b[3]))
    # deleting the session deletes its policy
    patch({"policy_slug": "relaxed"})
    st, _, _ = call(CTX["s"].base, "DELETE", "/v2/session/delete", creds())
    check(st == 200, st)
    out = CTX["s"].pg.psql(CTX["s"].database_url,
                           "SELECT count(*) FROM session_rate_limits")
    check(out.strip() == "0", out)


if __name__ == "__main__":
    env = {"GATEWAY_SEND_INTERVAL_MS": "600", "GATEWAY_MAX_CONNECTIONS_PER_IP": "0"}
    with Stack(workers=0, services=SERVICES, env=env) as s:
        CTX["s"] = s
        port2 = free_port()
        s.start("api-gateway", tag="api-gateway-2",
                env={"WHATSAPP_API_PORT": str(port2),
                     "GATEWAY_WORKERS_BIND": "tcp://127.0.0.1:%d" % free_port()})
        CTX["base2"] = "http://127.0.0.1:%d" % port2
        wait_for(lambda: call(CTX["base2"], "GET", "/ping")[0] == 200, 20,
                 what="second gateway")
        st, body, _ = s.api("POST", "/v2/session/create", {"name": "rl", "start": False})
        check(st == 201, (st, body))
        CTX.update(iid=body["instance_id"], token=body["access_token"], name="rl")
        run([test_default_view, test_bad_input, test_strict, test_other_gateway, test_off,
             test_custom, test_restart, test_default_again])
