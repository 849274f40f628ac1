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
- each notification gives each session its events once;
- Wawp's /v2 forms of the other group routes (count, refresh, subject,
  description, the three security settings, invite code and revoke,
  join-info, participants/v2, join requests, leave, join, delete), with
  values in the query, a literal {id}, and bad input a clear 400.
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


ctx = {}


def test_join_request_events():
    sim, s, rx, c_lid = ctx["sim"], ctx["s"], ctx["rx"], ctx["c_lid"]
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
    check(reqs[0]["requesterId"] == cus(C) and reqs[0]["requesterPn"] == cus(C)
          and reqs[0]["requestMethod"] == "invite_link"
          and reqs[0]["timestamp"] == reqs[0]["requestedAt"], reqs)

    # a rejects it: rejected, the admin as the notification's participant
    st, res, _ = s.api("POST", "/api/a/groups/%s/participants/join-requests/reject" % gid,
                       {"participants": [{"id": cus(C)}]})
    check(st == 200 and res == [{"id": cus(C), "status": 200, "requesterId": cus(C),
                                 "success": True}], (st, res))
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


def v2(method, path, body=None, status=200, **kw):
    st, got, _ = ctx["s"].api(method, path, body, **kw)
    check(st == status, (method, path, st, got))
    return got


def test_wawp_group_routes():
    """Wawp's /v2 forms of the §5.3 routes: instance_id, values in the
    query (JSON text for participants), a literal {id} with id beside."""
    s = ctx["s"]
    q = {"instance_id": "a"}
    g = v2("POST", "/v2/groups", query=dict(q, name="Wawp",
                                            participants='[{"id":"%s"}]' % cus(B)))
    gid = g["id"]
    at = "/v2/groups/%s" % gid
    lit = dict(q, id=gid)
    count = v2("GET", "/v2/groups/count", query=q)
    check(count == v2("GET", "/api/a/groups/count") and count["count"] >= 1, count)
    check(v2("POST", "/v2/groups/refresh", query=q) == {"success": True}, "refresh")
    # Subject and description: in the query, in a body; literal {id}
    check(v2("PUT", "/v2/groups/{id}/subject", query=dict(lit, subject="Wawp ✓"))
          == {"success": True}, "subject")
    check(v2("PUT", at + "/description", {"description": "From Wawp"}, query=q)
          == {"success": True}, "description")
    got = v2("GET", "/api/b/groups/" + gid)
    check(got["subject"] == "Wawp ✓" and got["description"] == "From Wawp", got)
    # Security settings, each GET and PUT
    for name, key in (("info-admin-only", "adminsOnly"), ("messages-admin-only", "adminsOnly"),
                      ("membership-approval", "newMembersApprovalRequired")):
        path = at + "/settings/security/" + name
        check(v2("GET", path, query=q) == {key: False}, (name, "off"))
        check(v2("PUT", path, query=dict(q, **{key: "true"})) == {key: True}, (name, "on"))
        check(v2("GET", "/v2/groups/{id}/settings/security/" + name, query=lit)
              == {key: True}, (name, "read back"))
        check(v2("PUT", path, {key: False}, query=q) == {key: False}, (name, "off again"))
    # Invite link, revoke, join-info; participants/v2; join requests
    link = v2("GET", at + "/invite-code", query=q)
    check(isinstance(link, str) and link.startswith("https://chat.whatsapp.com/"), link)
    new = v2("POST", "/v2/groups/{id}/invite-code/revoke", query=lit)
    check(isinstance(new, str) and new != link and new.startswith(link[:26]), new)
    info = v2("GET", "/v2/groups/join-info", query={"instance_id": "b", "code": new})
    check(info["id"] == gid and info["subject"] == "Wawp ✓", info)
    parts = v2("GET", at + "/participants/v2", query=q)
    check(sorted(parts, key=lambda p: p["id"]) == [{"id": cus(A), "role": "superadmin"},
                                                    {"id": cus(B), "role": "participant"}], parts)
    check(v2("GET", at + "/participants/join-requests", query=q) == [], "no requests")
    res = v2("POST", "/v2/groups/{id}/participants/join-requests/approve",
             query=dict(lit, participants='[{"id":"%s"}]' % cus(C)))
    check(res == [{"id": cus(C), "status": 404, "requesterId": cus(C), "success": False,
                   "error": 404}], res)
    res = v2("POST", at + "/participants/join-requests/reject",
             {"participants": [{"id": cus(C)}]}, query=q)
    check(res == [{"id": cus(C), "status": 404, "requesterId": cus(C), "success": False,
                   "error": 404}], res)
    # b leaves and joins again by the new link
    before = v2("GET", "/api/b/groups/count")["count"]
    check(v2("POST", at + "/leave", query={"instance_id": "b"}) == {"success": True}, "leave")
    check(v2("GET", "/v2/groups/count", query={"instance_id": "b"})["count"] == before - 1,
          "b left")
    check(v2("POST", "/v2/groups/join", {"code": new}, query={"instance_id": "b"})
          == {"id": gid}, "join")
    check(v2("GET", "/api/b/groups/count")["count"] == before, "b back")
    # Bad input: a clear 400, nothing changed
    for method, path, query, text in (
            ("PUT", "/v2/groups/{id}/subject", dict(q, subject="x"), "id is required"),
            ("PUT", at + "/subject", dict(q, subject="x" * 101), "subject must be 1 to 100"),
            ("PUT", at + "/settings/security/info-admin-only", dict(q, adminsOnly="maybe"),
             "adminsOnly must be true or false"),
            ("GET", "/v2/groups/join-info", q, "code is required"),
            ("POST", at + "/participants/join-requests/approve", q, "participants is required")):
        st, body, _ = s.api(method, path, query=query)
        check(st == 400 and text in str(body.get("message")), (path, st, body))
    check(v2("GET", "/api/a/groups/" + gid)["subject"] == "Wawp ✓", "unchanged")
    # Delete: everyone else removed, then a leaves
    check(v2("DELETE", "/v2/groups/{id}", query=lit) == {"success": True}, "delete")
    check(v2("GET", "/v2/groups/count", query=q)["count"] == count["count"] - 1, "deleted")


def main():
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
        for name, phone in (("a", A), ("b", B)):
            link_qr(s, sim, name, phone)
        ctx.update(sim=sim, s=s, rx=rx, c_lid=acc["lid"])
        run([test_join_request_events, test_wawp_group_routes])


if __name__ == "__main__":
    main()
