"""test_probe_ssrf - URLs a caller gives must not reach the machine's own
network: session webhooks on a real stack.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Real store-service, webhook-dispatcher and api-gateway with a throwaway
PostgreSQL and a local HTTP receiver on 127.0.0.1. The operator's global
webhook (WHATSAPP_HOOK_URL) reaches it; a session's webhooks, set by a
caller (WAHA session config, Wawp /v2/session/webhook), do not, in any
spelling of a loopback address (a name, IPv4 inside IPv6, decimal), unless
DISPATCHER_ALLOW names it. Before the fix every one of them was POSTed.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Receiver, Stack, check, wait_for  # noqa: E402
from webhooks_util import create_session, event_gen, settle, wait_count  # noqa: E402

SERVICES = ["store-service", "webhook-dispatcher", "api-gateway"]


def hook(url):
    return {"url": url, "events": ["message"],
            "retries": {"policy": "constant", "delaySeconds": 0, "attempts": 0}}


def dead(s, session):
    st, body, _ = s.api("GET", "/api/%s/webhooks/deliveries" % session,
                        query={"status": "dead"})
    check(st == 200, "list deliveries: %s %r" % (st, body))
    return body["deliveries"]


def test_session_webhooks_refused():
    with Receiver() as rx:
        port = rx.url.rsplit(":", 1)[1].split("/")[0]
        env = {"DISPATCHER_ALLOW": "",
               "WHATSAPP_HOOK_URL": rx.url + "/global",
               "WHATSAPP_HOOK_EVENTS": "message"}
        with Stack(workers=0, services=SERVICES, env=env) as s:
            spellings = [
                rx.url + "/same-origin",                      # the global's host:port
                "http://localhost:%s/name" % port,            # a name for loopback
                "http://[::ffff:127.0.0.1]:%s/mapped" % port,  # IPv4-mapped IPv6
                "http://2130706433:%s/decimal" % port,        # 127.0.0.1 as a number
                "http://0x7f.1:%s/hex" % port,                # hex, short form
                "http://127.1:%s/short" % port,               # short form
            ]
            create_session(s, "tenant", [hook(u) for u in spellings])
            event_gen(s, 1, session="tenant", window=1)
            wait_count(rx, 1, what="the global webhook")
            wait_for(lambda: len(dead(s, "tenant")) == len(spellings), 30,
                     what="every session webhook dead")
            settle()
            paths = [r["path"] for r in rx.requests]
            check(len(paths) == 1 and paths[0].endswith("/global"),
                  "only the global webhook was POSTed: %r" % paths)
            for d in dead(s, "tenant"):
                st, full, _ = s.api("GET", "/api/tenant/webhooks/deliveries/%d" % d["id"])
                check(st == 200, "get delivery %s" % st)
                errs = [a["error"] for a in full["log"]]
                check(len(errs) == 1 and "not allowed" in (errs[0] or ""),
                      "refused with a reason: %r" % full["log"])
                check(full["log"][0]["http_status"] in (0, None), repr(full["log"]))


def test_allow_list():
    with Receiver() as rx:
        with Stack(workers=0, services=SERVICES,
                   env={"DISPATCHER_ALLOW": "127.0.0.1"}) as s:
            create_session(s, "lab", [hook(rx.url + "/allowed")])
            event_gen(s, 1, session="lab", window=1)
            wait_count(rx, 1, what="an allowed session webhook")
            check(rx.requests[0]["path"].endswith("/allowed"), repr(rx.requests[0]))


if __name__ == "__main__":
    for name, fn in list(globals().items()):
        if name.startswith("test_") and callable(fn):
            fn()
            print("ok", name)
