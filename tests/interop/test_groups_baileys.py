"""test_groups_baileys - Wharf's group operations against an unmodified
Baileys, through the full stack.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

wa-sim plays WhatsApp; a Wharf session `w` (every service) is account A,
an unmodified Baileys client (wharf_peer.mjs) account B, and C is a
simulated phone.
- Wharf's operations, each seen by Baileys (sock.groupMetadata and its
  group events): create (with C), the invite link, which Baileys reads
  (groupGetInviteInfo) and joins (groupAcceptInvite); promote and demote
  B, subject, description, messages-admin-only, info-admin-only,
  revoke (the old code no longer works for Baileys), remove C.
- The group picture both ways: Wharf's (a PNG made a 640x640 JPEG)
  seen by Baileys (contacts.update, profilePictureUrl), Baileys' read
  by Wharf (GET …/groups/{id}/picture) and reported as group.v2.update
  {id, picture}, removals both ways; Wawp's /v2/groups/{id}/picture.
- Baileys' changes, each a group.v2.* webhook at Wharf with WAHA's
  payload: subject (group.v2.update), promote of C (group.v2.participants
  promote), B leaving (group.v2.participants leave, role left).
- Wharf joins Baileys' group by its invite link (group.v2.join with
  the GroupInfo Baileys made; Baileys sees the add).
- Join requests: Baileys turns approval mode on (group.v2.update at
  Wharf), leaves and asks to come back by the link (WAHA's
  group.v2.participants.join-request `created`); Wharf lists the
  request (…/participants/join-requests, WAHA 2026.8's paths), rejects
  it (the event's `rejected`; 404 answering it again), then approves the next one, and Baileys
  sees itself added; Wharf reads and turns off the setting
  (…/settings/security/membership-approval).

ctest interop_groups_baileys, after interop_npm_setup. Exits 77 (skip)
when npm was unreachable. WASIM_TEST_DEBUG=1 prints the Baileys log.
Loopback only.
"""
import base64
import os
import sys

SRC = os.environ.get("WHARF_SOURCE_DIR",
                     os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
sys.path.insert(0, os.path.join(SRC, "tests", "interop"))
from harness import check, wait_for  # noqa: E402
from baileys_util import Interop, b64  # noqa: E402
from media_util import jpeg_size, png  # noqa: E402

A = "15550320001"  # Wharf session w
B = "15550320002"  # Baileys
C = "15550320003"  # a simulated phone
A_JID, B_JID, C_JID = (p + "@s.whatsapp.net" for p in (A, B, C))
JR = "group.v2.participants.join-request"
EVENTS = ["session.status", "group.v2.join", "group.v2.leave", "group.v2.update",
          "group.v2.participants", JR]
LINK = "https://chat.whatsapp.com/"
ctx = Interop(A, B, EVENTS, others=((C, "Phone C"),))


def cus(phone):
    return phone + "@c.us"


def api(method, path, body=None, status=200, **kw):
    st, got, _ = ctx["s"].api(method, path, body, **kw)
    check(st == status, (method, path, st, got))
    return got


def wharf_ev(event, pred, what):
    return ctx.wharf_ev(event, pred, what)


def meta(gid):
    """Baileys' view of the group (it asks wa-sim)."""
    return ctx["peer"].sock("groupMetadata", gid)


def roles(m):
    return {p["id"]: p.get("admin") for p in m["participants"]}


def test_wharf_changes_seen_by_baileys():
    peer = ctx["peer"]
    g = api("POST", "/api/w/groups", {"name": "Interop", "participants": [{"id": cus(C)}]},
            status=201)
    gid = g["id"]
    ctx["gid"] = gid
    # The invite link: Baileys reads it and joins by its code
    link = api("GET", "/api/w/groups/%s/invite-code" % gid)
    check(link.startswith(LINK), link)
    code = link[len(LINK):]
    info = peer.sock("groupGetInviteInfo", code)
    check(info["id"] == gid and info["subject"] == "Interop", info)
    joined = peer.sock("groupAcceptInvite", code)
    check(joined == gid, joined)
    p = wharf_ev("group.v2.participants", lambda p: p["type"] == "join"
                 and p["participants"] == [{"id": cus(B), "role": "participant"}], "B joins")
    check(p["group"] == {"id": gid} and p["_data"]["content"][0]["attrs"]["reason"] == "invite", p)
    check(roles(meta(gid)) == {A_JID: "superadmin", B_JID: None, C_JID: None}, meta(gid))

    # Promote and demote B: Baileys sees both
    for action, admin in (("promote", "admin"), ("demote", None), ("promote", "admin")):
        res = api("POST", "/api/w/groups/%s/admin/%s" % (gid, action),
                  {"participants": [{"id": cus(B)}]})
        check(res == [{"id": cus(B), "status": 200}], res)
        peer.wait_ev("group-participants.update",
                     lambda d, a=action: d["id"] == gid and d["action"] == a
                     and B_JID in [x if isinstance(x, str) else x.get("id")
                                   for x in d["participants"]], 20, "%s B" % action)
        check(roles(meta(gid))[B_JID] == admin, meta(gid))
    # Subject and description
    api("PUT", "/api/w/groups/%s/subject" % gid, {"subject": "Interop ✓"})
    peer.wait_ev("groups.update", lambda d: d["id"] == gid and d.get("subject") == "Interop ✓",
                 20, "subject")
    api("PUT", "/api/w/groups/%s/description" % gid, {"description": "Made by Wharf\nline 2"})
    check(meta(gid)["desc"] == "Made by Wharf\nline 2", meta(gid))
    api("PUT", "/api/w/groups/%s/description" % gid, {"description": "Second"})
    m = meta(gid)
    check(m["subject"] == "Interop ✓" and m["desc"] == "Second", m)
    # Admin-only settings
    api("PUT", "/api/w/groups/%s/settings/security/messages-admin-only" % gid,
        {"adminsOnly": True})
    peer.wait_ev("groups.update", lambda d: d["id"] == gid and d.get("announce") is True,
                 20, "announce")
    api("PUT", "/api/w/groups/%s/settings/security/info-admin-only" % gid,
        {"adminsOnly": True})
    peer.wait_ev("groups.update", lambda d: d["id"] == gid and d.get("restrict") is True,
                 20, "restrict")
    m = meta(gid)
    check(m["announce"] is True and m["restrict"] is True, m)
    api("PUT", "/api/w/groups/%s/settings/security/messages-admin-only" % gid,
        {"adminsOnly": False})
    check(meta(gid)["announce"] is False, "not_announcement")
    # Revoke: the old code no longer leads anywhere for Baileys
    new = api("POST", "/api/w/groups/%s/invite-code/revoke" % gid)
    check(new.startswith(LINK) and new != link, new)
    n = len(peer.events("error"))
    peer.proc.stdin.write('{"cmd":"sock","method":"groupGetInviteInfo","args":["%s"]}\n' % code)
    peer.proc.stdin.flush()
    wait_for(lambda: len(peer.events("error")) > n, 20, what="Baileys refused the old code")
    check(peer.sock("groupGetInviteInfo", new[len(LINK):])["id"] == gid, "new code")
    # Remove C
    res = api("POST", "/api/w/groups/%s/participants/remove" % gid,
              {"participants": [{"id": cus(C)}]})
    check(res == [{"id": cus(C), "status": 200}], res)
    peer.wait_ev("group-participants.update",
                 lambda d: d["id"] == gid and d["action"] == "remove", 20, "remove C")
    check(set(roles(meta(gid))) == {A_JID, B_JID}, meta(gid))
    # Add C back for the next case
    api("POST", "/api/w/groups/%s/participants/add" % gid, {"participants": [{"id": cus(C)}]})


def pictures(jid, what):
    """Baileys' contacts.update of jid's picture (imgUrl changed/removed)."""
    return [d for e in ctx["peer"].evs("contacts.update") for d in e
            if d.get("id") == jid and d.get("imgUrl") == what]


def test_group_picture_both_ways():
    peer, sim, gid = ctx["peer"], ctx["sim"], ctx["gid"]
    pic = "/api/w/groups/%s/picture" % gid
    check(api("GET", pic) == {"url": None}, "no picture yet")
    # Wharf sets one from a PNG: Baileys hears of it and reads the
    # 640x640 JPEG media-service made
    body = api("PUT", pic, {"file": {"mimetype": "image/png",
                                     "data": base64.b64encode(png(320, 200)).decode()}})
    check(body == {"success": True}, body)
    peer.wait_ev("contacts.update", lambda d: d["id"] == gid and d.get("imgUrl") == "changed",
                 20, "group picture changed")
    mine = api("GET", pic)["url"]
    url = peer.sock("profilePictureUrl", gid, "image")
    check(url == mine, (url, mine))
    st, data = sim.http("GET", url)
    check(st == 200 and jpeg_size(data) == (640, 640), (st, data[:16]))
    # Baileys (an admin) sets another: Wharf reads it once the
    # notification drops the URL it kept, and says so in group.v2.update
    peer.sock("updateProfilePicture", gid, b64(png(300, 300)))
    theirs = wait_for(lambda: [u for u in [api("GET", pic)["url"]] if u and u != mine],
                      20, what="Wharf sees Baileys' picture")[0]
    check(theirs == peer.sock("profilePictureUrl", gid, "image"), theirs)
    st, data = sim.http("GET", theirs)
    check(st == 200 and data[:2] == b"\xff\xd8", (st, data[:16]))
    p = wharf_ev("group.v2.update", lambda p: p["group"].get("picture")
                 and p["group"]["picture"] in theirs
                 and p["_data"]["attrs"].get("participant") == B_JID, "Baileys' picture")
    check(set(p) == {"timestamp", "group", "_data"} and set(p["group"]) == {"id", "picture"}
          and p["group"]["id"] == gid, p)
    check(p["_data"]["attrs"]["type"] == "picture"
          and p["_data"]["content"][0]["tag"] == "set", p)
    # The Wawp route reads the same picture
    check(api("GET", "/v2/groups/%s/picture?instance_id=w" % gid) == {"url": theirs}, "v2")
    # Baileys removes it; Wharf removes its own after setting it again
    peer.sock("removeProfilePicture", gid)
    wait_for(lambda: api("GET", pic) == {"url": None}, 20, what="picture removed")
    p = wharf_ev("group.v2.update", lambda p: "picture" in p["group"]
                 and p["group"]["picture"] is None
                 and p["_data"]["attrs"].get("participant") == B_JID, "Baileys' removal")
    check(p["group"] == {"id": gid, "picture": None}, p)
    # Wawp sets and removes it too ({id} in the query as Wawp sends it)
    body = api("PUT", "/v2/groups/%7Bid%7D/picture", {
        "instance_id": "w", "id": gid,
        "file": {"data": base64.b64encode(png(48, 48)).decode()}})
    check(body == {"success": True}, body)
    wait_for(lambda: api("GET", pic)["url"], 20, what="Wawp picture")
    check(api("DELETE", "/v2/groups/%s/picture?instance_id=w" % gid) == {"success": True},
          "v2 delete")
    wait_for(lambda: api("GET", pic) == {"url": None}, 20, what="Wawp removal")
    api("PUT", pic, {"file": {"data": base64.b64encode(png(64, 64)).decode()}})
    check(peer.sock("profilePictureUrl", gid, "image") == api("GET", pic)["url"], "set again")
    removed = len(pictures(gid, "removed"))
    check(api("DELETE", pic) == {"success": True}, "delete")
    wait_for(lambda: len(pictures(gid, "removed")) > removed, 20,
             what="Baileys hears of the removal")
    # wa-sim answers 404 for a group without picture; Baileys rejects
    n = len(peer.events("error"))
    peer.proc.stdin.write('{"cmd":"sock","method":"profilePictureUrl","args":["%s","image"]}\n'
                          % gid)
    peer.proc.stdin.flush()
    wait_for(lambda: len(peer.events("error")) > n, 20, what="Baileys finds no picture")


def test_baileys_changes_seen_by_wharf():
    peer, gid = ctx["peer"], ctx["gid"]
    # Subject (B is an admin of the locked group)
    peer.sock("groupUpdateSubject", gid, "Renamed by Baileys")
    p = wharf_ev("group.v2.update", lambda p: p["group"].get("subject") == "Renamed by Baileys",
                 "subject")
    check(set(p) == {"timestamp", "group", "_data"}, p)
    check(p["group"] == {"id": gid, "subject": "Renamed by Baileys"}, p)
    check(p["_data"]["attrs"]["participant"] == B_JID and p["_data"]["attrs"]["from"] == gid, p)
    check(isinstance(p["timestamp"], int) and p["timestamp"] > 1600000000, p)
    got = api("GET", "/api/w/groups/" + gid)
    check(got["subject"] == "Renamed by Baileys", got)
    # Description
    peer.sock("groupUpdateDescription", gid, "Baileys' words")
    p = wharf_ev("group.v2.update", lambda p: p["group"].get("description") == "Baileys' words",
                 "description")
    check(p["group"] == {"id": gid, "description": "Baileys' words"}, p)
    # Promote C
    peer.sock("groupParticipantsUpdate", gid, [C_JID], "promote")
    p = wharf_ev("group.v2.participants", lambda p: p["type"] == "promote"
                 and p["participants"][0]["id"] == cus(C), "promote C")
    check(set(p) == {"type", "timestamp", "group", "participants", "_data"}, p)
    check(p["group"] == {"id": gid} and p["participants"] == [{"id": cus(C), "role": "admin"}], p)
    check(p["_data"]["attrs"]["participant"] == B_JID, p)
    v2 = api("GET", "/api/w/groups/%s/participants/v2" % gid)
    check(sorted(v2, key=lambda x: x["id"]) == [
        {"id": cus(A), "role": "superadmin"}, {"id": cus(B), "role": "admin"},
        {"id": cus(C), "role": "admin"}], v2)
    # B leaves
    peer.sock("groupLeave", gid)
    p = wharf_ev("group.v2.participants", lambda p: p["type"] == "leave"
                 and p["participants"][0]["id"] == cus(B), "B leaves")
    check(p["participants"] == [{"id": cus(B), "role": "left"}] and p["group"] == {"id": gid}, p)
    check(not [e for e in ctx["rx"].events("group.v2.leave")], "Wharf did not leave")
    got = api("GET", "/api/w/groups/" + gid)
    check({x["id"] for x in got["participants"]} == {cus(A), cus(C)}, got)


def test_wharf_joins_baileys_group():
    peer = ctx["peer"]
    made = peer.sock("groupCreate", "Baileys' group", [C_JID])
    gid = made["id"]
    code = peer.sock("groupInviteCode", gid)
    info = api("GET", "/api/w/groups/join-info", query={"code": LINK + code})
    check(info["id"] == gid and info["subject"] == "Baileys' group"
          and info["owner"] == cus(B), info)
    body = api("POST", "/api/w/groups/join", {"code": LINK + code})
    check(body == {"id": gid}, body)
    p = wharf_ev("group.v2.join", lambda p: p["group"]["id"] == gid, "joined")
    check(set(p) == {"timestamp", "group", "_data"}, p)
    g = p["group"]
    check(g["subject"] == "Baileys' group" and g["description"] == ""
          and g["membersCanSendMessages"] is True and g["newMembersApprovalRequired"] is False, g)
    check({x["id"]: x["role"] for x in g["participants"]}
          == {cus(B): "superadmin", cus(C): "participant", cus(A): "participant"}, g)
    peer.wait_ev("group-participants.update",
                 lambda d: d["id"] == gid and d["action"] == "add"
                 and A_JID in [x if isinstance(x, str) else x.get("id")
                               for x in d["participants"]], 20, "Wharf joined")
    check(A_JID in roles(meta(gid)), meta(gid))
    count = api("GET", "/api/w/groups/count")
    check(count == {"count": 2}, count)
    # Every event once
    ids = [e["id"] for e in ctx["rx"].events() if e.get("session") == "w"]
    check(len(ids) == len(set(ids)), "duplicate events")


def test_join_requests():
    peer = ctx["peer"]
    g = api("POST", "/api/w/groups", {"name": "Approval", "participants": [{"id": cus(B)}]},
            status=201)
    gid = g["id"]
    api("POST", "/api/w/groups/%s/admin/promote" % gid, {"participants": [{"id": cus(B)}]})
    # Baileys (an admin) turns approval mode on: Wharf hears of it
    peer.sock("groupJoinApprovalMode", gid, "on")
    p = wharf_ev("group.v2.update", lambda p: p["group"]["id"] == gid
                 and "newMembersApprovalRequired" in p["group"], "approval mode")
    check(p["group"] == {"id": gid, "newMembersApprovalRequired": True}, p)
    check(api("GET", "/api/w/groups/%s/settings/security/membership-approval" % gid)
          == {"newMembersApprovalRequired": True}, "approval read by Wharf")
    check(api("GET", "/api/w/groups/" + gid)["approval"] is True, "group object")
    code = api("GET", "/api/w/groups/%s/invite-code" % gid)[len(LINK):]
    # B leaves, then asks to come back by the link: a request, not a join
    peer.sock("groupLeave", gid)
    wharf_ev("group.v2.participants", lambda p: p["group"]["id"] == gid
             and p["type"] == "leave", "B left")
    check(api("GET", "/api/w/groups/%s/participants/join-requests" % gid) == [], "none yet")
    peer.sock("groupAcceptInvite", code)
    # WAHA's join-request event, field by field
    p = wharf_ev(JR, lambda p: p["group"]["id"] == gid and p["action"] == "created",
                 "B's request event")
    check(set(p) == {"timestamp", "group", "action", "requesterId", "requesterPn",
                     "requestMethod", "_data"}, p)
    check(p["group"] == {"id": gid} and p["requesterId"] == cus(B)
          and p["requesterPn"] == cus(B) and p["requestMethod"] == "invite_link"
          and isinstance(p["timestamp"], int) and p["timestamp"] > 1600000000, p)
    check(p["_data"]["attrs"]["participant"] == B_JID
          and p["_data"]["content"][0]["tag"] == "created_membership_requests", p)
    reqs = wait_for(lambda: api("GET", "/api/w/groups/%s/participants/join-requests" % gid), 20,
                    what="B's request")
    check(len(reqs) == 1 and set(reqs[0]) == {
        "id", "requestedAt", "method", "requesterId", "requesterPn", "requestMethod",
        "timestamp", "addedById", "parentGroupId"}, reqs)
    check(reqs[0]["id"] == cus(B) and reqs[0]["method"] == "invite_link"
          and reqs[0]["requestedAt"] > 1600000000, reqs)
    # WAHA 2026.8's names beside
    check(reqs[0]["requesterId"] == cus(B) and reqs[0]["requesterPn"] == cus(B)
          and reqs[0]["requestMethod"] == "invite_link"
          and reqs[0]["timestamp"] == reqs[0]["requestedAt"]
          and reqs[0]["addedById"] is None and reqs[0]["parentGroupId"] is None, reqs)
    check(cus(B) not in {x["id"] for x in api("GET", "/api/w/groups/" + gid)["participants"]},
          "not a member while asking")
    # Rejected: gone from the list, still out; a second answer finds none
    res = api("POST", "/api/w/groups/%s/participants/join-requests/reject" % gid,
              {"participants": [{"id": cus(B)}]})
    check(res == [{"id": cus(B), "status": 200, "requesterId": cus(B), "success": True}], res)
    check(api("GET", "/api/w/groups/%s/participants/join-requests" % gid) == [], "rejected")
    p = wharf_ev(JR, lambda p: p["group"]["id"] == gid and p["action"] == "rejected",
                 "B rejected event")
    check(p["requesterId"] == cus(B) and p["requesterPn"] == cus(B)
          and p["requestMethod"] is None and p["_data"]["attrs"]["participant"] == A_JID, p)
    res = api("POST", "/api/w/groups/%s/participants/join-requests/approve" % gid,
              {"participants": [{"id": cus(B)}]})
    check(res == [{"id": cus(B), "status": 404, "requesterId": cus(B), "success": False,
                   "error": 404}], res)
    check(cus(B) not in {x["id"] for x in api("GET", "/api/w/groups/" + gid)["participants"]},
          "still out")
    # Asked again and approved: B is a member, and Baileys sees itself added
    peer.sock("groupAcceptInvite", code)
    wait_for(lambda: api("GET", "/api/w/groups/%s/participants/join-requests" % gid), 20,
             what="B's second request")
    res = api("POST", "/api/w/groups/%s/participants/join-requests/approve" % gid,
              {"participants": [{"id": cus(B)}]})
    check(res == [{"id": cus(B), "status": 200, "requesterId": cus(B), "success": True}], res)
    peer.wait_ev("group-participants.update",
                 lambda d: d["id"] == gid and d["action"] == "add"
                 and B_JID in [x if isinstance(x, str) else x.get("id")
                               for x in d["participants"]], 20, "B approved")
    check(B_JID in roles(meta(gid)), meta(gid))
    p = wharf_ev("group.v2.participants", lambda p: p["group"]["id"] == gid
                 and p["type"] == "join", "B joins")
    check(p["participants"] == [{"id": cus(B), "role": "participant"}], p)
    check(api("GET", "/api/w/groups/%s/participants/join-requests" % gid) == [], "answered")
    # Wharf turns approval mode off (WAHA's setting route): Baileys sees it
    path = "/api/w/groups/%s/settings/security/membership-approval" % gid
    check(api("PUT", path, {"newMembersApprovalRequired": False})
          == {"newMembersApprovalRequired": False}, "off")
    peer.wait_ev("groups.update", lambda d: d["id"] == gid
                 and d.get("joinApprovalMode") is False, 20, "approval off at Baileys")
    check(api("GET", path) == {"newMembersApprovalRequired": False}, "read back")
    st, body, _ = ctx["s"].api("PUT", path, {"newMembersApprovalRequired": "maybe"})
    check(st == 400 and "newMembersApprovalRequired" in str(body["message"]), (st, body))
    # Bad input: a clear 400, nothing sent
    st, body, _ = ctx["s"].api("POST", "/api/w/groups/%s/participants/join-requests/approve" % gid,
                               {"participants": [{"id": "not-a-number"}]})
    check(st == 400 and body["statusCode"] == 400, (st, body))
    st, body, _ = ctx["s"].api("GET", "/api/w/groups/nope/participants/join-requests")
    check(st == 400 and "id" in str(body["message"]), (st, body))


ctx.run([test_wharf_changes_seen_by_baileys, test_group_picture_both_ways,
         test_baileys_changes_seen_by_wharf,
         test_wharf_joins_baileys_group, test_join_requests])
