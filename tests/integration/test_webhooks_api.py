"""test_webhooks_api - webhook configuration checks, the pull feed, Wawp's
webhook settings and the session.status webhook, through the HTTP API.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

The full stack: store-service, api-gateway, session-worker (WA_URL points
at a closed local port, so a started session goes to FAILED),
webhook-dispatcher, media-service.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Receiver, Stack, check, run, wait_for  # noqa: E402
from webhooks_util import bodies, create_session, event_gen, wait_count  # noqa: E402


def messages(body):
    m = body.get("message") if isinstance(body, dict) else None
    return " ".join(m) if isinstance(m, list) else str(m)


def test_bad_config_is_400():
    with Stack(workers=0) as s:
        create_session(s, "ok", [{"url": "http://127.0.0.1:9/h", "events": ["*"]}])
        bad = [
            ({"url": "http://127.0.0.1:9/h", "events": ["message", "foo"]},
             'config.webhooks[0].events[1]: unrecognized event "foo"'),
            ({"url": "ftp://127.0.0.1/h", "events": ["message"]},
             "config.webhooks[0].url: scheme must be http or https"),
            ({"url": "http:///h", "events": ["message"]}, "config.webhooks[0].url"),
            ({"url": "http://h/" + "a" * 2048, "events": ["*"]},
             "config.webhooks[0].url: longer than 2048 bytes"),
            ({"url": "http://h", "events": ["*"], "retries": {"attempts": -1}},
             "config.webhooks[0].retries.attempts: must be between 0 and 100"),
            ({"url": "http://h", "events": ["*"], "retries": {"policy": "random"}},
             "config.webhooks[0].retries.policy"),
            ({"url": "http://h", "events": []}, "config.webhooks[0].events"),
            ({"url": "http://h", "events": ["*"],
              "customHeaders": [{"name": "Host", "value": "x"}]},
             "config.webhooks[0].customHeaders[0].name"),
        ]
        for hook, want in bad:
            st, body, _ = s.api("POST", "/api/sessions",
                                {"name": "bad", "start": False,
                                 "config": {"webhooks": [hook]}})
            check(st == 400 and want in messages(body),
                  "create with %r: %s %r" % (hook, st, body))
            st, body, _ = s.api("PUT", "/api/sessions/ok",
                                {"config": {"webhooks": [hook]}})
            check(st == 400 and want in messages(body),
                  "update with %r: %s %r" % (hook, st, body))
        st, body, _ = s.api("GET", "/api/sessions/bad")
        check(st == 404, "nothing was created")

        # Wawp: the same checks on /v2/session/webhook
        q = {"instance_id": "ok"}
        st, body, _ = s.api("POST", "/v2/session/webhook",
                            {"webhooks": [{"url": "http://h", "events": ["nope"]}]},
                            query=q)
        check(st == 400 and body.get("error") == "bad_request"
              and 'webhooks[0].events[0]: unrecognized event "nope"' in body["message"],
              "wawp bad event: %s %r" % (st, body))
        st, body, _ = s.api("POST", "/v2/session/webhook", {"webhooks": "x"}, query=q)
        check(st == 400, "wawp webhooks not an array: %s" % st)


def test_wawp_webhook_settings():
    with Receiver() as rx, Stack(workers=0) as s:
        create_session(s, "w1", [], extra={"metadata": {"k": "v"}})
        q = {"instance_id": "w1"}
        st, body, _ = s.api("GET", "/v2/session/webhook", query=q)
        check(st == 200 and body["webhooks"] == [], "empty: %s %r" % (st, body))
        check("message" in body["systemConfig"]["events"], repr(body))
        hooks = [{"url": rx.url, "events": ["message"], "is_active": 1},
                 {"url": rx.url + "/off", "events": ["message"], "is_active": False}]
        st, body, _ = s.api("POST", "/v2/session/webhook", {"webhooks": hooks}, query=q)
        check(st == 200 and len(body["webhooks"]) == 2, "set: %s %r" % (st, body))
        st, body, _ = s.api("GET", "/v2/session/webhook", query=q)
        check([h["is_active"] for h in body["webhooks"]] == [True, False], repr(body))
        st, info, _ = s.api("GET", "/api/sessions/w1")
        check(info["config"]["metadata"] == {"k": "v"}, "other config kept")
        check(len(info["config"]["webhooks"]) == 2, repr(info["config"]))
        event_gen(s, 2, session="w1", window=1)
        wait_count(rx, 2)
        time.sleep(1.0)
        check([r["path"] for r in rx.requests] == ["/hook", "/hook"],
              "the inactive webhook gets nothing: %r" % [r["path"] for r in rx.requests])
        st, body, _ = s.api("GET", "/v2/session/webhook", query={"instance_id": "nope"})
        check(st == 404, "unknown instance: %s" % st)


def test_pull_feed():
    with Stack(workers=0) as s:
        create_session(s, "feed", [])
        event_gen(s, 25, session="feed", window=1)
        seen = []
        after = 0
        for want in (10, 10, 5, 0):
            st, page, _ = s.api("GET", "/api/feed/events",
                                query={"after": after, "limit": 10})
            check(st == 200 and len(page["events"]) == want,
                  "page after %d: %s %r" % (after, st, page))
            seen += page["events"]
            if want:
                check(page["next"] > after, "cursor moves")
            else:
                check(page["next"] == after, "cursor stays at the end")
            after = page["next"]
        check([e["payload"]["n"] for e in seen] == list(range(25)), "in order")
        check(len({e["id"] for e in seen}) == 25, "distinct ids")
        check(all(e["event"] == "message" and e["session"] == "feed" for e in seen),
              "envelopes")
        # Resume after downtime: new events come after the saved cursor.
        event_gen(s, 5, session="feed", window=1)
        st, page, _ = s.api("GET", "/api/feed/events", query={"after": after})
        check(st == 200 and [e["payload"]["n"] for e in page["events"]] == list(range(5)),
              "resumed from the cursor: %r" % page)
        st, page, _ = s.api("GET", "/api/feed/events", query={"after": 0, "limit": 1000})
        check(len(page["events"]) == 30, "everything from the start")
        st, body, _ = s.api("GET", "/api/feed/events", query={"after": "x"})
        check(st == 400 and "after" in messages(body), "bad cursor: %s %r" % (st, body))
        st, body, _ = s.api("GET", "/api/feed/events", query={"limit": 0})
        check(st == 400, "bad limit: %s" % st)
        st, body, _ = s.api("GET", "/api/nosuch/events")
        check(st == 404, "unknown session: %s" % st)


def test_session_status_webhook():
    """Issue 2 item 8: a session that starts and fails (WA_URL unreachable)
    posts session.status envelopes with Wawp's extra fields."""
    with Receiver() as rx, Stack(workers=1) as s:
        create_session(s, "st", [{"url": rx.url, "events": ["session.status"]}],
                       start=True, extra={"metadata": {"tenant": "t1"}})
        s.wait_status("st", "FAILED", timeout=30)

        def statuses():
            return [b["payload"]["status"] for b in bodies(rx)]
        wait_for(lambda: "FAILED" in statuses(), 20, what="FAILED webhook")
        got = statuses()
        check("STARTING" in got and got.index("STARTING") < got.index("FAILED"),
              "STARTING then FAILED: %r" % got)
        t = time.time()
        for env in bodies(rx):
            check(env["event"] == "session.status" and env["session"] == "st", repr(env))
            check(env["id"].startswith("evt_") and len(env["id"]) == 30, env["id"])
            check(abs(env["timestamp"] / 1000 - t) < 120, "timestamp in ms")
            check(env["metadata"] == {"tenant": "t1"}, "metadata")
            check("me" in env and env["engine"] == "GOWS", repr(env))
            check(env["environment"]["engine"] == "GOWS"
                  and "version" in env["environment"], repr(env))
            p = env["payload"]
            check(p["name"] == "st" and p["data"] is None
                  and isinstance(p["statuses"], list), repr(p))
            check(env["instance_id"] and env["status"] == p["status"], repr(env))
            check(env["qr"] is None and abs(env["ts"] - t) < 120, "Wawp qr/ts in seconds")
        ids = [e["id"] for e in bodies(rx)]
        check(len(ids) == len(set(ids)), "distinct ids")


if __name__ == "__main__":
    run([test_bad_config_is_400, test_wawp_webhook_settings, test_pull_feed,
         test_session_status_webhook])
