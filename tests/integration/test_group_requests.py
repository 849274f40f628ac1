"""test_group_requests - join requests of a group in membership approval
mode and WAHA's group.v2.participants.join-request event, through the
full stack with wa-sim as the server.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Two sessions a (admin) and b (member) of one group, and C, a simulated
phone that asks to join through wa-sim's control API. One stack for the
file.
- a turns approval mode on; C asks: a and b get join-request `created`
  (requesterId/requesterPn C, requestMethod invite_link), checked field
  by field, and a lists the request;
- a rejects it: `rejected` (requestMethod null) at a and b;
- C asks again and cancels: `revoked` at a and b (the notification's
  participant is C itself);
- the group moves to LID addressing; C asks again: requesterId is C's
  LID, requesterPn C's number; a approves: group.v2.participants join,
  and no join-request event (WAHA has no `approved` action);
- each notification gives each session its events once.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from engine_util import account, link_qr, stack  # noqa: E402
from harness import Receiver, check, run, wait_for  # noqa: E402
from wasim import WaSim  # noqa: E402

A, B, C = "15550041111", "15550042222", "15550043333"
JR = "group.v2.participants.join-request"
EVENTS = ["session.status", "group.v2.participants", "group.v2.update", JR]


def cus(phone):
    return phone + "@c.us"


def evs(rx, name, event):
    return [e for e in rx.events(event) if e.get("session") == name]


def requests(rx, name, gid, action):
    return [e["payload"] for e in evs(rx, name, JR)
            if e["payload"]["group"]["id"] == gid and e["payload"]["action"] == action]


def wait_request(rx, name, gid, action, n=1):
    """The n-th join-request `action` of the group at `name`."""
    got = wait_for(lambda: len(requests(rx, name, gid, action)) >= n
                   and requests(rx, name, gid, action), 20,
                   what="%s %s #%d at %s" % (JR, action, n, name))
    return got[n - 1]


def check_request(p, gid, action, requester, pn, method, actor, change):
    """WAHA's payload, field by field; _data is the notification."""
    check(set(p) == {"timestamp", "group", "action", "requesterId", "requesterPn",
                     "requestMethod", "_data"}, p)
    check(isinstance(p["timestamp"], int) and 1600000000 < p["timestamp"] < 4000000000, p)
    check(p["group"] == {"id": gid}, p)
    check(p["action"] == action and p["requesterId"] == requester
          and p["requesterPn"] == pn and p["requestMethod"] == method, p)
    data = p["_data"]
    check(data["tag"] == "notification" and data["attrs"]["type"] == "w:gp2"
          and data["attrs"]["from"] == gid, data)
    check(data["attrs"]["participant"].startswith(actor), data)
    check(data["content"][0]["tag"] == change, data)


def test_join_request_events():
    with WaSim() as sim, stack(sim) as s, Receiver() as rx:
        for name, phone, push in (("a", A, "Alice"), ("b", B, "Bob")):
            account(sim, phone, push)
            st, body, _ = s.api("POST", "/api/sessions", {
                "name": name, "start": True,
                "config": {"webhooks": [{"url": rx.url + "/" + name, "events": EVENTS}]}})
            check(st == 201, (st, body))
        account(sim, C, "Carol")
        st, acc = sim.ctl("GET", "/accounts/" + C)
        check(st == 200, acc)
        c_lid = acc["lid"]
        for name, phone in (("a", A), ("b", B)):
            link_qr(s, sim, name, phone)
        st, g, _ = s.api("POST", "/api/a/groups",
                         {"name": "Gate", "participants": [{"id": cus(B)}]})
        check(st == 201, (st, g))
        gid = g["id"]
        path = "/api/a/groups/%s/settings/security/membership-approval" % gid
        st, body, _ = s.api("PUT", path, {"newMembersApprovalRequired": True})
        check(st == 200, (st, body))
        wait_for(lambda: [e for e in evs(rx, "b", "group.v2.update")
                          if "newMembersApprovalRequired" in e["payload"]["group"]], 20,
                 what="approval mode at b")

        # C asks: created, at the admin and the member
        st, body = sim.ctl("POST", "/groups/%s/requests" % gid, {"phone": C})
        check(st == 200, (st, body))
        for name in ("a", "b"):
            p = wait_request(rx, name, gid, "created")
            check_request(p, gid, "created", cus(C), cus(C), "invite_link", C,
                          "created_membership_requests")
        st, reqs, _ = s.api("GET", "/api/a/groups/%s/participants/join-requests" % gid)
        check(st == 200 and [r["id"] for r in reqs] == [cus(C)], (st, reqs))

        # a rejects it: rejected, the admin as the notification's participant
        st, res, _ = s.api("POST", "/api/a/groups/%s/participants/join-requests/reject" % gid,
                           {"participants": [{"id": cus(C)}]})
        check(st == 200 and res == [{"id": cus(C), "status": 200}], (st, res))
        for name in ("a", "b"):
            p = wait_request(rx, name, gid, "rejected")
            check_request(p, gid, "rejected", cus(C), cus(C), None, A,
                          "revoked_membership_requests")

        # C asks again and cancels: revoked
        st, body = sim.ctl("POST", "/groups/%s/requests" % gid, {"phone": C})
        check(st == 200, (st, body))
        wait_request(rx, "a", gid, "created", 2)
        st, body = sim.ctl("DELETE", "/groups/%s/requests/%s" % (gid, C))
        check(st == 200, (st, body))
        for name in ("a", "b"):
            p = wait_request(rx, name, gid, "revoked")
            check_request(p, gid, "revoked", cus(C), cus(C), None, C,
                          "revoked_membership_requests")
        st, reqs, _ = s.api("GET", "/api/a/groups/%s/participants/join-requests" % gid)
        check(st == 200 and reqs == [], (st, reqs))
        st, body = sim.ctl("DELETE", "/groups/%s/requests/%s" % (gid, C))
        check(st == 404, (st, body))

        # LID addressing: C named by its LID, the number beside
        st, body = sim.ctl("POST", "/groups/%s/addressing" % gid, {"mode": "lid"})
        check(st == 200, (st, body))
        st, body = sim.ctl("POST", "/groups/%s/requests" % gid, {"phone": C})
        check(st == 200, (st, body))
        for name in ("a", "b"):
            p = wait_request(rx, name, gid, "created", 3)
            check_request(p, gid, "created", c_lid, cus(C), "invite_link", c_lid,
                          "created_membership_requests")
            check(p["_data"]["content"][0]["content"][0]["attrs"]["phone_number"]
                  == C + "@s.whatsapp.net", p)
        # Approved: C joins; WAHA has no `approved` join-request action
        st, res, _ = s.api("POST", "/api/a/groups/%s/participants/join-requests/approve" % gid,
                           {"participants": [{"id": cus(C)}]})
        check(st == 200 and [r["status"] for r in res] == [200], (st, res))
        wait_for(lambda: [e for e in evs(rx, "b", "group.v2.participants")
                          if e["payload"]["type"] == "join"
                          and e["payload"]["group"]["id"] == gid], 20, what="C joins at b")
        for name in ("a", "b"):
            check(sorted(e["payload"]["action"] for e in evs(rx, name, JR))
                  == ["created"] * 3 + ["rejected", "revoked"], evs(rx, name, JR))
        # Every event once per webhook
        for name in ("a", "b"):
            ids = [e["id"] for e in rx.events() if e.get("session") == name]
            check(len(ids) == len(set(ids)), (name, "duplicate events"))


if __name__ == "__main__":
    run([test_join_request_events])
