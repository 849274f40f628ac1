"""test_gateway_ops - what operators use around the API: server status and
environment, the screenshot.

Copyright (c) 2026 the Wharf authors. Apache-2.0.
"""
import base64
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack, check, run  # noqa: E402
from webhooks_util import create_session  # noqa: E402
from engine_util import account, api_ready, create, link_qr, stack  # noqa: E402
from harness import Receiver, wait_for  # noqa: E402
from wasim import WaSim  # noqa: E402

SERVICES = ("store-service", "api-gateway")


def png_size(data):
    check(data[:8] == b"\x89PNG\r\n\x1a\n", "a PNG: %r" % data[:16])
    return struct.unpack("!II", data[16:24])


def test_server_status_and_environment():
    before = int(time.time() * 1000)
    with Stack(workers=0, services=SERVICES,
               env={"WHATSAPP_HOOK_HMAC_KEY": "hidden", "DEBUG": "1",
                    "WHATSAPP_API_SCHEMA": "http"}) as s:
        st, body, _ = s.api("GET", "/api/server/status")
        # WAHA's ServerStatusResponse requires worker {id}
        check(st == 200 and set(body) == {"startTimestamp", "uptime", "worker"}
              and body["worker"] == {"id": "api-gateway"}, repr(body))
        now = int(time.time() * 1000)
        check(before - 1000 <= body["startTimestamp"] <= now, "start %r" % body)
        check(0 <= body["uptime"] <= now - body["startTimestamp"] + 1000, "uptime %r" % body)
        st, body, _ = s.api("GET", "/api/server/status", key=False)
        check(st == 401, "needs the key")

        st, env, _ = s.api("GET", "/api/server/environment")
        check(st == 200, "env %s" % st)
        check(list(env) == sorted(env), "sorted %r" % list(env))
        check(all(k.startswith(("WAHA_", "WHATSAPP_")) or k == "DEBUG" for k in env),
              "only WAHA_, WHATSAPP_, DEBUG: %r" % list(env))
        check(env["WAHA_API_KEY"] == "***" and env["WHATSAPP_HOOK_HMAC_KEY"] == "***",
              "secrets masked")
        check(env["WHATSAPP_API_PORT"] == str(s.api_port) and env["DEBUG"] == "1"
              and env["WHATSAPP_API_SCHEMA"] == "http", repr(env))
        check(s.api_key not in str(env), "the key never shows")
        st, full, _ = s.api("GET", "/api/server/environment", query={"all": "true"})
        check(st == 200 and "PATH" in full and full["DATABASE_URL"] == "***"
              and full["STORE_SECRET_KEY"] == "***", "all=true")
        st, body, _ = s.api("GET", "/api/server/environment", query={"all": "maybe"})
        check(st == 400, "all must be a boolean: %s" % st)


def test_screenshot():
    with Stack(workers=0, services=SERVICES) as s:
        create_session(s, "shot", [])
        st, data, h = s.raw("GET", "/api/screenshot?session=shot",
                            headers={"X-Api-Key": s.api_key})
        check(st == 200 and h["Content-Type"] == "image/png", "%s %r" % (st, h))
        check(png_size(data) == (480, 220), "status card size")
        st, body, _ = s.api("GET", "/api/screenshot", query={"session": "shot"})
        check(st == 200 and body["mimetype"] == "image/png"
              and base64.b64decode(body["data"]) == data, "JSON form is the same PNG")
        st, body, _ = s.api("GET", "/api/screenshot", query={"session": "nope"})
        check(st == 404 and body["message"] == "Session not found", repr(body))
        st, body, _ = s.api("GET", "/api/screenshot")
        check(st == 404, "default session does not exist: %s" % st)
        st, body, _ = s.api("GET", "/api/screenshot", query={"session": "a b"})
        check(st == 400, "bad name %s" % st)
        st, body, _ = s.api("GET", "/api/screenshot", key=False, query={"session": "shot"})
        check(st == 401, "needs the key")
        # Wawp form
        st, body, _ = s.api("GET", "/v2/session/screenshot", query={"instance_id": "shot"})
        check(st == 200 and body["mimetype"] == "image/png"
              and png_size(base64.b64decode(body["data"])) == (480, 220), repr(body)[:200])
        st, data, h = s.raw("POST", "/v2/session/screenshot",
                            body='{"instance_id":"shot"}',
                            headers={"X-Api-Key": s.api_key, "Accept": "image/png",
                                     "Content-Type": "application/json"})
        check(st == 200 and h["Content-Type"] == "image/png", "wawp binary %s" % st)


def scrape(s):
    st, data, h = s.raw("GET", "/metrics")
    check(st == 200 and h["Content-Type"].startswith("text/plain; version=0.0.4"),
          "scrape %s %r" % (st, h))
    values = {}
    for line in data.decode().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def test_metrics():
    with Stack(workers=0, services=SERVICES) as s:
        st, body, _ = s.api("GET", "/metrics", key=False)
        check(st == 404 and "WAHA_PROMETHEUS_ENABLED" in body["message"],
              "off by default: %s %r" % (st, body))
    with Stack(workers=0, services=SERVICES, env={"WAHA_PROMETHEUS_ENABLED": "true"}) as s:
        create_session(s, "m1", [])
        create_session(s, "m2", [])
        for _ in range(5):
            st, _, _ = s.api("GET", "/api/sessions/m1")
            check(st == 200, "get")
        s.api("GET", "/api/sessions/nope")
        m = scrape(s)  # no key needed, as WAHA
        check(m["waha_up"] == 1, "waha_up")
        # the engine label is WHATSAPP_DEFAULT_ENGINE's (default GOWS), as WAHA
        check(m['waha_sessions{status="STOPPED",engine="GOWS"}'] == 2
              and m['waha_sessions{status="WORKING",engine="GOWS"}'] == 0, "sessions")
        check(m['waha_http_requests_total{method="GET",status="200"}'] >= 5
              and m['waha_http_requests_total{method="GET",status="404"}'] >= 1, "http counts")
        check(m['waha_http_request_duration_seconds_count{method="GET",status="200"}']
              == m['waha_http_requests_total{method="GET",status="200"}'], "histogram count")
        check(m['waha_http_request_duration_seconds_bucket{method="GET",status="200",le="+Inf"}']
              == m['waha_http_requests_total{method="GET",status="200"}'], "+Inf bucket")
        check(m['wharf_bus_requests_total{dest="store",status="200"}'] >= 5, "bus requests")
        check(m["wharf_store_up"] == 1 and m["wharf_workers"] == 0, "store up, no workers")
        for k in ('wharf_webhook_deliveries{state="pending"}', "wharf_outbox_depth",
                  "wharf_webhook_attempts", "wharf_ws_streams",
                  "process_resident_memory_bytes"):
            check(k in m, "has %s" % k)
        check(m["process_resident_memory_bytes"] > 1e6, "rss")
        check(not any("/metrics" in k for k in m), "scrapes are not counted")
        # The store's database requests, timed by the store-service and
        # aggregated at the scrape: the two creates, and one session.list
        # per scrape
        h = "wharf_store_statement_duration_seconds"
        c = '%s_count{family="session",op="create"}' % h
        check(m.get(c, 0) >= 2, "store creates timed: %s" % m.get(c))
        check(m['%s_bucket{family="session",op="create",le="+Inf"}' % h] == m[c], "+Inf")
        check(0 < m['%s_sum{family="session",op="create"}' % h] < 60, "sum")
        les = [float(k.split('le="')[1].rstrip('"}')) for k in m
               if k.startswith('%s_bucket{family="session",op="create",' % h)
               and "+Inf" not in k]
        counts = [m['%s_bucket{family="session",op="create",le="%g"}' % (h, le)]
                  for le in sorted(les)]
        check(len(counts) == 11 and counts == sorted(counts) and counts[-1] <= m[c], counts)
        lists = m['%s_count{family="session",op="list"}' % h]
        # (a scrape within GATEWAY_CACHE_MS of the last takes its cached
        # session.list)
        wait_for(lambda: scrape(s)['%s_count{family="session",op="list"}' % h] > lists,
                 5, what="each scrape's session.list is timed too")
        before = m['waha_http_requests_total{method="GET",status="200"}']
        scrape(s)
        check(scrape(s)['waha_http_requests_total{method="GET",status="200"}'] == before,
              "scrapes do not count themselves")


def test_metrics_workers():
    """Per-worker sessions and memory and messages by direction, from the
    session-workers' heartbeats, through the whole stack and wa-sim."""
    a, b = "15550071111", "15550072222"
    with WaSim() as sim, stack(sim, WAHA_PROMETHEUS_ENABLED="true") as s, \
            Receiver() as rx:
        account(sim, a, "Alice")
        account(sim, b, "Bob")
        create(s, "ma", rx)
        create(s, "mb", rx)
        link_qr(s, sim, "ma", a)
        link_qr(s, sim, "mb", b)
        # (a worker that lost its leases under load holds 0 for a moment)
        m0 = wait_for(lambda: (lambda m: m.get('wharf_worker_sessions{worker="worker-0"}') == 2
                               and m)(scrape(s)), 20, interval=0.3,
                      what="wharf_worker_sessions 2")
        workers = [k for k in m0 if k.startswith("wharf_worker_sessions{")]
        check(workers == ['wharf_worker_sessions{worker="worker-0"}'], workers)
        mem = workers[0].replace("wharf_worker_sessions", "wharf_worker_memory_bytes")
        check(m0.get(mem, 0) > 1e6, ("worker memory", mem, m0.get(mem)))
        inc0 = m0['waha_messages_total{direction="incoming"}']
        out0 = m0['waha_messages_total{direction="outgoing"}']
        for i in range(3):
            st, body, _ = api_ready(s, "POST", "/api/sendText",
                                    {"session": "ma", "chatId": b + "@c.us",
                                     "text": "metrics %d" % i})
            check(st == 201, (st, body))

        def counted():
            m = scrape(s)
            return (m['waha_messages_total{direction="outgoing"}'] >= out0 + 3
                    and m['waha_messages_total{direction="incoming"}'] >= inc0 + 3) and m
        # ma's 3 sends are outgoing, mb's 3 receipts incoming (heartbeat 1 s)
        m = wait_for(counted, 20, interval=0.3, what="message counts in /metrics")
        check(m['waha_messages_total{direction="outgoing"}'] == out0 + 3, m)
        check(m['waha_messages_total{direction="incoming"}'] == inc0 + 3, m)


if __name__ == "__main__":
    run([test_server_status_and_environment, test_screenshot, test_metrics,
         test_metrics_workers])
