"""test_client_outdated - the server refuses an outdated client (405).

Copyright (c) 2026 the Wharf authors. Apache-2.0.

docs/protocol-fidelity.md rule 11. The real server answers a client
whose WA Web version is too old with <failure reason="405">
(whatsmeow ConnectFailureClientOutdated). wa-sim's `min_web_version`
rule does the same. Wharf must not retry in a loop (the same version
gets the same answer): the session goes FAILED at once with a reason
naming the refused version and WA_WEB_VERSION, the worker logs an
error, and wa-sim sees one attempt only. Both for a new session
(registration, the global rule) and for a linked one (login, the
account's rule); a session linked under an acceptable version works.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Receiver, check, run  # noqa: E402
from engine_util import create, linked, stack  # noqa: E402
from wasim import WaSim  # noqa: E402

A = "15550012001"
# Wharf's built-in WA Web version is 2.3000.1047888330 (wa_payload.h)
OURS = 1047888330


def refusals(sim):
    return sim.stderr().count("refusing outdated client")


def failed_once(s, sim, name, before):
    body = s.wait_status(name, "FAILED", 30)
    reason = body.get("reason") or ""
    check("405" in reason and "2.3000.%d" % OURS in reason and
          "WA_WEB_VERSION" in reason, body)
    check(refusals(sim) == before + 1, sim.stderr()[-3000:])
    # no retry loop: still one attempt, still FAILED, a while later
    time.sleep(4)
    check(refusals(sim) == before + 1, "retried after 405")
    st, body, _ = s.api("GET", "/api/sessions/" + name)
    check(st == 200 and body["status"] == "FAILED", body)
    check("WhatsApp refused the client version" in s.logs() and
          "level=error" in s.logs(), "an error is logged")


def test_outdated_client():
    with WaSim() as sim, stack(sim) as s, Receiver() as rx:
        # A linked session works under the current rules
        linked(s, sim, rx, [("a", A, "Alice")])
        st, body = sim.ctl("PUT", "/faults", {"min_web_version": -1})
        check(st == 400, (st, body))

        # Registration of a new session: the global rule
        st, body = sim.ctl("PUT", "/faults", {"min_web_version": OURS + 1})
        check(st == 200, (st, body))
        create(s, "n", rx)
        failed_once(s, sim, "n", 0)

        # Login of the linked one: the account's rule
        st, body = sim.ctl("PUT", "/faults", {"min_web_version": 0})
        check(st == 200, (st, body))
        st, body = sim.ctl("PUT", "/faults", {"phone": A, "min_web_version": OURS + 1})
        check(st == 200, (st, body))
        st, _, _ = s.api("POST", "/api/sessions/a/stop")
        check(st in (200, 201), st)
        st, _, _ = s.api("POST", "/api/sessions/a/start")
        check(st in (200, 201), st)
        failed_once(s, sim, "a", 1)

        # The version accepted again: a restart logs in
        st, body = sim.ctl("PUT", "/faults", {"phone": A, "min_web_version": OURS})
        check(st == 200, (st, body))
        st, _, _ = s.api("POST", "/api/sessions/a/stop")
        check(st in (200, 201), st)
        st, _, _ = s.api("POST", "/api/sessions/a/start")
        check(st in (200, 201), st)
        s.wait_status("a", "WORKING", 30)


if __name__ == "__main__":
    run([test_outdated_client])
