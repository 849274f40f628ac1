"""test_webhooks_delivery - webhook requests, signatures, retries, dead
deliveries, replay, order and the global webhook, on a real stack.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Real store-service, webhook-dispatcher and api-gateway with a throwaway
PostgreSQL; events are appended with event.append (event-gen) and
received by local HTTP receivers.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Receiver, Stack, check, run, wait_for  # noqa: E402
from webhooks_util import (DOCS_BODY, DOCS_HMAC, bodies, create_session,  # noqa: E402
                           event_gen, settle, sign, wait_count)

SERVICES = ["store-service", "webhook-dispatcher", "api-gateway"]


def hook(rx, **kw):
    h = {"url": rx.url, "events": ["message"],
         "retries": {"policy": "constant", "delaySeconds": 0, "attempts": 5}}
    h.update(kw)
    return h


def deliveries(s, session, **query):
    st, body, _ = s.api("GET", "/api/%s/webhooks/deliveries" % session,
                        query=query or None)
    check(st == 200, "list deliveries: %s %r" % (st, body))
    return body


def test_signed_envelope():
    check(sign("my-secret-key", DOCS_BODY) == DOCS_HMAC,
          "receiver-side HMAC reproduces the docs' known answer")
    with Receiver() as rx, Stack(workers=0, services=SERVICES) as s:
        create_session(s, "sig", [hook(rx, hmac={"key": "my-secret-key"},
                                       customHeaders=[{"name": "X-Tenant",
                                                       "value": "acme"}])],
                       extra={"metadata": {"user.id": "42"}})
        t0 = time.time() * 1000
        event_gen(s, 3, session="sig", window=1)
        wait_count(rx, 3)
        settle()
        check(len(rx.requests) == 3, "exactly 3 requests: %d" % len(rx.requests))
        ids = set()
        for i, r in enumerate(rx.requests):
            h = r["headers"]
            check(h.get("x-webhook-hmac") == sign("my-secret-key", r["body"]),
                  "X-Webhook-Hmac is HMAC-SHA512 of the raw body")
            check(h.get("x-webhook-hmac-algorithm") == "sha512", "algorithm header")
            check(h.get("x-tenant") == "acme", "custom header")
            check(h.get("content-type") == "application/json", "content type")
            check(h.get("user-agent", "").startswith("Wharf/"), "user agent")
            rid = h.get("x-webhook-request-id", "")
            check(rid.startswith("req_") and rid not in ids, "unique request id")
            ids.add(rid)
            ts = int(h.get("x-webhook-timestamp", "0"))
            check(abs(ts - t0) < 60000, "timestamp in ms: %d" % ts)
            env = json.loads(r["body"])
            check(env["id"].startswith("evt_") and len(env["id"]) == 30, env["id"])
            check(env["event"] == "message" and env["session"] == "sig", repr(env))
            check(env["payload"]["n"] == i, "in order: %r" % env["payload"])
            check(env["metadata"] == {"user.id": "42"}, "metadata echoed")
            check(env["engine"] == "GOWS" and "version" in env["environment"],
                  repr(env))
            check("me" in env and abs(env["timestamp"] - t0) < 60000, repr(env))
            check(b"my-secret-key" not in r["body"], "no secret in the body")


def test_retries_dead_replay_order():
    with Receiver() as flaky, Receiver() as dead, Receiver() as order, \
            Stack(workers=0, services=SERVICES) as s:
        # 1. Fails 3 times, then succeeds: exactly 4 attempts, all logged.
        flaky.status_fn = lambda i, path, body: 500 if i < 3 else 200
        create_session(s, "retry", [hook(flaky)])
        event_gen(s, 1, session="retry")
        wait_count(flaky, 4)
        settle(1.5)
        check(len(flaky.requests) == 4, "4 attempts, got %d" % len(flaky.requests))
        check(len({r["body"] for r in flaky.requests}) == 1,
              "the body is byte-identical on every attempt")
        check(len({r["headers"]["x-webhook-request-id"] for r in flaky.requests}) == 4,
              "a new request id per attempt")
        page = deliveries(s, "retry")
        check(len(page["deliveries"]) == 1, repr(page))
        d = page["deliveries"][0]
        check(d["status"] == "delivered" and d["attempts"] == 4, repr(d))
        check(d["last_status"] == 200 and d["event"] == "message", repr(d))
        st, full, _ = s.api("GET", "/api/retry/webhooks/deliveries/%d" % d["id"])
        check(st == 200, "get delivery: %s" % st)
        check([a["http_status"] for a in full["log"]] == [500, 500, 500, 200],
              "log shows each attempt: %r" % full["log"])
        check(all(a["error"] == "HTTP 500" for a in full["log"][:3]), repr(full["log"]))
        check(full["log"][3]["error"] is None, repr(full["log"]))
        check(all(a["latency_ms"] >= 0 and a["request_id"].startswith("req_")
                  for a in full["log"]), repr(full["log"]))
        text = s.proc("webhook-dispatcher").text()
        check(text.count("delivery=%d " % d["id"]) >= 3
              and "webhook attempt failed" in text, "dispatcher logs the failures")

        # 2. Dead after the retries run out; kept, listed, replayable.
        dead.status_fn = lambda i, path, body: 503
        create_session(s, "dead", [hook(dead, retries={"delaySeconds": 0,
                                                       "attempts": 1})])
        event_gen(s, 2, session="dead", window=1)
        wait_for(lambda: len(deliveries(s, "dead", status="dead")["deliveries"]) == 2,
                 20, what="two dead deliveries")
        check(len(dead.requests) == 4, "1 + 1 retry each: %d" % len(dead.requests))
        seen = [json.loads(r["body"])["payload"]["n"] for r in dead.requests]
        check(seen == [0, 0, 1, 1], "a dead delivery stops blocking its stream: %r" % seen)
        dead.status_fn = lambda i, path, body: 200
        st, body, _ = s.api("POST", "/api/dead/webhooks/deliveries/replay")
        check(st == 201 and body == {"replayed": 2}, "replay dead: %s %r" % (st, body))
        wait_count(dead, 6)
        replayed = [json.loads(r["body"])["payload"]["n"] for r in dead.requests[4:]]
        check(replayed == [0, 1], "replayed in order: %r" % replayed)
        wait_for(lambda: len(deliveries(s, "dead", status="delivered")["deliveries"]) == 2,
                 10, what="replayed deliveries delivered")
        one = deliveries(s, "dead")["deliveries"][0]
        check(one["replays"] == 1 and one["attempts"] == 1, repr(one))
        st, body, _ = s.api("POST", "/api/dead/webhooks/deliveries/%d/replay" % one["id"])
        check(st == 201 and body == {"replayed": 1}, "replay one: %s %r" % (st, body))
        wait_count(dead, 7)

        def log_of(d):
            st, full, _ = s.api("GET", "/api/dead/webhooks/deliveries/%d" % d["id"])
            return [a["http_status"] for a in full["log"]] if st == 200 else None
        wait_for(lambda: log_of(one) == [503, 503, 200, 200], 10,
                 what="the log keeps every attempt across replays")
        st, body, _ = s.api("POST", "/api/dead/webhooks/deliveries/999999/replay")
        check(st == 404, "replay unknown delivery: %s" % st)
        st, body, _ = s.api("GET", "/api/dead/webhooks/deliveries/999999")
        check(st == 404, "get unknown delivery: %s" % st)
        st, body, _ = s.api("GET", "/api/dead/webhooks/deliveries/abc")
        check(st == 400, "bad delivery id: %s" % st)
        st, body, _ = s.api("GET", "/api/nosuch/webhooks/deliveries")
        check(st == 404, "unknown session: %s" % st)
        st, body, _ = s.api("GET", "/api/dead/webhooks/deliveries",
                            query={"status": "lost"})
        check(st == 400, "bad status filter: %s" % st)

        # 3. Order: 40 events, every 5th request fails once; the receiver
        #    still sees the events of the session in order.
        order.status_fn = lambda i, path, body: 500 if i % 5 == 4 else 200
        create_session(s, "order", [hook(order)])
        event_gen(s, 40, session="order", window=1)
        wait_for(lambda: len([r for i, r in enumerate(order.requests) if i % 5 != 4]) >= 40,
                 30, what="40 successful deliveries")
        ok = [json.loads(r["body"])["payload"]["n"]
              for i, r in enumerate(order.requests) if i % 5 != 4]
        check(ok == list(range(40)), "delivered in order: %r" % ok)

        # Pagination and filters of the delivery list
        page = deliveries(s, "order", limit=15)
        check(len(page["deliveries"]) == 15 and page["next"], repr(page["next"]))
        ids = [d["id"] for d in page["deliveries"]]
        check(ids == sorted(ids, reverse=True), "newest first")
        page2 = deliveries(s, "order", limit=15, before=page["next"])
        check(max(d["id"] for d in page2["deliveries"]) < min(ids), "next page is older")
        page3 = deliveries(s, "order", limit=15, before=page2["next"])
        check(len(page3["deliveries"]) == 10 and page3["next"] is None, repr(page3["next"]))
        check(deliveries(s, "order", event="session.status")["deliveries"] == [],
              "event filter")
        future = int(time.time() * 1000) + 3600000
        check(deliveries(s, "order", since=future)["deliveries"] == [], "time filter")
        check(len(deliveries(s, "order", until=future, limit=500)["deliveries"]) == 40,
              "time filter (until)")


def test_global_hook_once_per_url():
    with Receiver() as rx:
        env = {"WHATSAPP_HOOK_URL": rx.url, "WHATSAPP_HOOK_EVENTS": "message",
               "WHATSAPP_HOOK_HMAC_KEY": "global-key",
               "WHATSAPP_HOOK_CUSTOM_HEADERS": "X-Global:yes"}
        with Stack(workers=0, services=SERVICES, env=env) as s:
            # g1 names the same URL itself: one request per event, signed
            # with g1's own key; g2 only gets the global hook.
            create_session(s, "g1", [{"url": rx.url, "events": ["message"],
                                      "hmac": {"key": "session-key"}}])
            create_session(s, "g2", [])
            event_gen(s, 2, session="g1")
            event_gen(s, 2, session="g2")
            wait_count(rx, 4)
            settle(1.5)
            check(len(rx.requests) == 4, "one request per event and URL: %d"
                  % len(rx.requests))
            for r in rx.requests:
                env_ = json.loads(r["body"])
                key = "session-key" if env_["session"] == "g1" else "global-key"
                check(r["headers"]["x-webhook-hmac"] == sign(key, r["body"]),
                      "signed with the %s key" % key)
                check((r["headers"].get("x-global") == "yes") == (env_["session"] == "g2"),
                      "global custom header only on the global hook")
            check(deliveries(s, "g1")["deliveries"][0]["source"] == "session", "source")
            check(deliveries(s, "g2")["deliveries"][0]["source"] == "global", "source")


if __name__ == "__main__":
    run([test_signed_envelope, test_retries_dead_replay_order,
         test_global_hook_once_per_url])
