"""webhooks_util - helpers for the webhook integration tests.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Events are produced through the store's event.append with the event-gen
tool (tests/tools/event-gen.c); store requests use bus-call.
"""
import hashlib
import hmac
import json
import os
import subprocess
import time

from harness import BIN, check, wait_for

# HMAC-SHA512 of the WAHA docs' example, key "my-secret-key" (also pinned
# in common/src/cm_webhook.c).
DOCS_BODY = b'{"event":"message","session":"default","engine":"WEBJS"}'
DOCS_HMAC = ("208f8a55dde9e05519e898b10b89bf0d0b3b0fdf11fdbf09b6b90476301b98d8"
             "097c462b2b17a6ce93b6b47a136cf2e78a33a63f6752c2c1631777076153fa89")


def sign(key, body):
    """Hex HMAC-SHA512 of body, as a receiver checks X-Webhook-Hmac."""
    return hmac.new(key.encode(), body, hashlib.sha512).hexdigest()


def store_endpoint(stack):
    return stack.env["STORE_ENDPOINTS"].split(",")[0]


def bus(stack, mtype, body=None, timeout=10000):
    """One store request; returns (st, body)."""
    out = subprocess.run([os.path.join(BIN, "bus-call"), "--timeout", str(timeout),
                          store_endpoint(stack), mtype, json.dumps(body or {})],
                         capture_output=True, text=True, timeout=timeout / 1000 + 10)
    line = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "{}"
    reply = json.loads(line)
    return reply.get("st"), reply.get("body")


def wait_store(stack):
    wait_for(lambda: bus(stack, "delivery.stats", {}, 2000)[0] == 200, 30,
             what="store-service answering")


def event_gen(stack, count, session=None, sessions=None, prefix=None,
              event="message", ids=None, background=False, window=64):
    args = [os.path.join(BIN, "event-gen"), "--count", str(count),
            "--event", event, "--window", str(window)]
    if prefix:
        args += ["--sessions", str(sessions), "--prefix", prefix]
    else:
        args += ["--session", session]
    if ids:
        args += ["--ids", ids]
    args.append(store_endpoint(stack))
    if background:
        return subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    out = subprocess.run(args, capture_output=True, text=True, timeout=300)
    check(out.returncode == 0, "event-gen failed: %s %s" % (out.stdout, out.stderr))
    return json.loads(out.stdout.strip().splitlines()[-1])


def create_session(stack, name, webhooks, start=False, extra=None):
    """Create a session through the API, waiting for the store to be up."""
    config = {"webhooks": webhooks}
    config.update(extra or {})
    out = {}

    def attempt():
        st, body, _ = stack.api("POST", "/api/sessions",
                                {"name": name, "start": start, "config": config})
        out["r"] = (st, body)
        return st != 503
    wait_for(attempt, 30, interval=0.2, what="store-service up")
    st, body = out["r"]
    check(st == 201, "create %s: %s %r" % (name, st, body))
    return body


def store_session(stack, name, webhooks):
    """Create a session through the store only (no gateway needed)."""
    st, body = bus(stack, "session.create",
                   {"name": name, "config": {"webhooks": webhooks}})
    check(st == 201, "session.create %s: %s %r" % (name, st, body))


def bodies(rx, path=None):
    """Parsed JSON bodies the receiver got, in arrival order."""
    with rx.lock:
        reqs = list(rx.requests)
    return [json.loads(r["body"]) for r in reqs if path is None or r["path"] == path]


def wait_count(rx, n, timeout=30, what=None):
    return wait_for(lambda: len(rx.requests) >= n, timeout,
                    what=what or "%d webhook requests" % n)


def settle(seconds=0.5):
    time.sleep(seconds)
