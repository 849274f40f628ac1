"""test_group_addressing - a group moves from PN to LID addressing.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

docs/protocol-fidelity.md rule 7. wa-sim switches one group's
addressing mode (`POST /groups/{id}/addressing {mode}`) while Wharf
holds the group's metadata as `pn`. With the `check_phash` rule a's
next send meets the server's hash (its device list is the LID one now);
Wharf reads the group again and from then on sends in
addressing_mode="lid" with a hash the server takes. Payloads keep
`@c.us` participants before and after; texts go both ways.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from engine_util import linked, stack  # noqa: E402
from harness import Receiver, check, run, wait_for  # noqa: E402
from test_lid_groups import check_incoming, cus, one, send, stanzas  # noqa: E402
from wasim import WaSim  # noqa: E402

A, B = "15550013001", "15550013002"


def server_ack(sim, bare):
    """The server's (first) ack of a's message `bare` (waits for it)."""
    return wait_for(lambda: [x for x in stanzas(sim, A, bare, "out", "ack")
                             if x.get("class") == "message"], 20,
                    what="server ack of %s" % bare)[0]


def test_group_switches_to_lid():
    with WaSim() as sim, stack(sim) as s, Receiver() as rx:
        linked(s, sim, rx, [("a", A, "Alice"), ("b", B, "Bob")])
        st, body = sim.ctl("PUT", "/faults", {"phone": A, "check_phash": True})
        check(st == 200, (st, body))
        st, g, _ = s.api("POST", "/api/a/groups", {
            "name": "Moving", "participants": [{"id": cus(B)}]})
        check(st == 201 and g["addressingMode"] == "pn", (st, g))
        gid = g["id"]
        m, bare = send(s, "a", gid, "in pn mode")
        check_incoming(one(rx, "b", "message", "in pn mode"), gid, A, "in pn mode", bare)
        out = stanzas(sim, A, bare, "in", "message")
        check(len(out) == 1 and out[0].get("addressing_mode") is None, out)

        st, r = sim.ctl("POST", "/groups/%s/addressing" % gid, {"mode": "bogus"})
        check(st == 400, (st, r))
        st, r = sim.ctl("POST", "/groups/1203630000@g.us/addressing", {"mode": "lid"})
        check(st == 404, (st, r))
        st, r = sim.ctl("POST", "/groups/%s/addressing" % gid, {"mode": "lid"})
        check(st == 200 and r["addressing_mode"] == "lid", (st, r))

        # a still holds the pn metadata: the server names its own hash
        m, bare = send(s, "a", gid, "during the switch")
        check_incoming(one(rx, "b", "message", "during the switch"), gid, A,
                       "during the switch", bare)
        check(server_ack(sim, bare).get("phash"), "the server named its hash")
        # a read the group again: LID addressing from now on, hash taken
        wait_for(lambda: s.api("GET", "/api/a/groups/" + gid)[1].get("addressingMode")
                 == "lid", 20, what="a's group metadata in lid mode")
        m, bare = send(s, "a", gid, "in lid mode")
        check_incoming(one(rx, "b", "message", "in lid mode"), gid, A, "in lid mode", bare)
        out = stanzas(sim, A, bare, "in", "message")
        check(len(out) == 1 and out[0].get("addressing_mode") == "lid", out)
        check("phash" not in server_ack(sim, bare), "a's hash refused after the switch")
        m, bare = send(s, "b", gid, "b after the switch")
        check_incoming(one(rx, "a", "message", "b after the switch"), gid, B,
                       "b after the switch", bare)


if __name__ == "__main__":
    run([test_group_switches_to_lid])
