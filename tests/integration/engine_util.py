"""engine_util - helpers for the tests that run the WhatsApp engine
through the full stack with wa-sim as the server.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

    with WaSim() as sim, stack(sim) as s, Receiver() as rx:
        account(sim, "15550001111", "Alice")
        create(s, "a", rx)
        link_qr(s, sim, "a", "15550001111")
        hooks(rx, "a", "message")
"""
from harness import Stack, check, wait_for

EVENTS = ["session.status", "message", "message.any", "message.ack"]
ENV = {"WA_RECONNECT_MIN_MS": "200", "WA_RECONNECT_MAX_MS": "1000",
       "WORKER_CLAIM_INTERVAL_MS": "300", "WHATSAPP_HOOK_RETRIES_DELAY_SECONDS": "1"}


def stack(sim, workers=1, medias=1, **extra):
    """A Stack whose workers talk to wa-sim; `extra` is more environment."""
    env = dict(ENV, WA_ROOT_KEY=sim.info["root_key"], **extra)
    return Stack(workers=workers, env=env, wa_url=sim.info["ws_url"], medias=medias)


def create(s, name, hook):
    """Create and start session `name` with a webhook to hook.url/name."""
    st, body, _ = s.api("POST", "/api/sessions", {
        "name": name, "start": True,
        "config": {"webhooks": [{"url": hook.url + "/" + name, "events": EVENTS}]}})
    check(st == 201, (st, body))


def account(sim, phone, push_name):
    """A wa-sim account (the simulated phone)."""
    st, body = sim.ctl("POST", "/accounts", {"phone": phone, "push_name": push_name})
    check(st == 201, (st, body))
    return body


def api_ready(s, method, path, body=None):
    """A request that may meet 503 while the worker joins the gateway."""
    out = [None]

    def attempt():
        out[0] = s.api(method, path, body)
        return out[0][0] != 503
    wait_for(attempt, 20, interval=0.2, what="%s %s not 503" % (method, path))
    return out[0]


def link_qr(s, sim, name, phone):
    """The phone scans session `name`'s QR; returns the WORKING session."""
    s.wait_status(name, "SCAN_QR_CODE", 20)
    st, body, _ = api_ready(s, "GET", "/api/%s/auth/qr?format=raw" % name)
    check(st == 200 and body["value"].startswith("https://wa.me/settings/linked_devices#"),
          (st, body))
    st, res = sim.ctl("POST", "/accounts/%s/scan" % phone, {"qr": body["value"]})
    check(st == 200, (st, res))
    return s.wait_status(name, "WORKING", 20)


def linked(s, sim, rx, sessions):
    """For each (name, phone, push name): a wa-sim account, a session with
    its webhook at `rx`, linked by QR. Returns the WORKING sessions."""
    for name, phone, push_name in sessions:
        account(sim, phone, push_name)
        create(s, name, rx)
    return [link_qr(s, sim, name, phone) for name, phone, _ in sessions]


def hooks(rx, name, event=None):
    """Webhook events received for session `name`."""
    return [e for e in rx.events(event) if e.get("session") == name]


def by_body(events):
    """{body: set of event ids} of `message` events."""
    out = {}
    for e in events:
        out.setdefault(e["payload"]["body"], set()).add(e["id"])
    return out


def check_sent_once(rx, peer, acked, uncertain, timeout=40):
    """After a crash test's traffic: every send the API acknowledged
    reaches `peer` (its `message` webhooks), each under one event id,
    and nothing arrives that was neither acknowledged nor left
    unanswered. Returns {body: event ids} at the peer."""
    def at_peer():
        return by_body(hooks(rx, peer, "message"))
    try:
        wait_for(lambda: set(acked) <= set(at_peer()), timeout,
                 what="every acknowledged send at %s" % peer)
    finally:
        print("acknowledged %d, unanswered %d, missing at %s %s" % (
            len(acked), len(uncertain), peer, sorted(set(acked) - set(at_peer()))[:5]))
    got = at_peer()
    check(set(got) <= set(acked) | set(uncertain),
          "unknown at %s: %s" % (peer, sorted(set(got) - set(acked) - set(uncertain))))
    twice = {b: ids for b, ids in got.items() if len(ids) > 1}
    check(not twice, "%s got one message under several events: %s"
          % (peer, list(twice.items())[:3]))
    return got
