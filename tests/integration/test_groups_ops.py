"""test_groups_ops - every group operation of WAHA's §5.3 and the
group.v2.* events, through the full stack with wa-sim as the server.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Three sessions a, b, c (real PostgreSQL, the five services, wa-sim over
the wire protocol), one stack for the whole file:
- a creates a group with b: both get group.v2.join (a for its own
  action, from the w:gp2 notification WhatsApp sends every member
  device) with WAHA's GroupInfo;
- count and refresh; subject, description (set, replaced, deleted),
  messages-admin-only and info-admin-only (GET and PUT), each seen by
  b's GET and as group.v2.update at a and b; b (no admin) cannot edit
  a locked group;
- picture: a sets one from a PNG (a 640x640 JPEG at wa-sim), b reads
  its URL once the picture notification arrives, b (no admin of the
  locked group) may not change it, bad files are a 400 with nothing
  sent; a removes it;
- invite code (a link), join-info by code and by link, c joins by the
  link: c gets group.v2.join, a and b group.v2.participants (join);
  revoke: the new link works, the old code is a 404;
- promote and demote c (group.v2.participants at b), participants/v2;
- b offline while a renames the group: the queued notification gives
  b its group.v2.update once b is back;
- c leaves (c: group.v2.leave; a: participants leave, role left);
  a deletes the group (b removed: group.v2.leave; a left);
- bad input, each a clear 4xx with nothing sent: an invite code that
  does not exist, promoting someone who is no member, a subject over
  100 characters, a description over 2048, malformed codes and ids.
"""
import base64
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from engine_util import account, link_qr, stack  # noqa: E402
from harness import Receiver, check, run, wait_for  # noqa: E402
from media_util import jpeg_size, png  # noqa: E402
from wasim import WaSim  # noqa: E402

A, B, C = "15550001111", "15550002222", "15550003333"
EVENTS = ["session.status", "group.v2.join", "group.v2.leave",
          "group.v2.update", "group.v2.participants"]
LINK = "https://chat.whatsapp.com/"


def cus(phone):
    return phone + "@c.us"


def create(s, name, rx):
    st, body, _ = s.api("POST", "/api/sessions", {
        "name": name, "start": True,
        "config": {"webhooks": [{"url": rx.url + "/" + name, "events": EVENTS}]}})
    check(st == 201, (st, body))


def evs(rx, name, event):
    return [e for e in rx.events(event) if e.get("session") == name]


def wait_ev(rx, name, event, pred, timeout=20):
    """The payload of the first `event` at `name` that pred accepts."""
    got = wait_for(lambda: [e["payload"] for e in evs(rx, name, event)
                            if pred(e["payload"])],
                   timeout, what="%s at %s" % (event, name))
    return got[0]


def check_error(st, body, status, text):
    check(st == status and body["statusCode"] == status
          and text in str(body["message"]), (st, body))


def check_header(p, gid):
    """timestamp (s), group.id and _data (the notification) of an event."""
    check(isinstance(p["timestamp"], int) and 1600000000 < p["timestamp"] < 4000000000, p)
    check(p["group"]["id"] == gid, p)
    check(p["_data"]["tag"] == "notification"
          and p["_data"]["attrs"]["type"] == "w:gp2"
          and p["_data"]["attrs"]["from"] == gid, p)


def check_info(info, gid, subject, members):
    """WAHA's GroupInfo: members is {id: role}."""
    check(set(info) == {"id", "subject", "description", "membersCanAddNewMember",
                        "membersCanSendMessages", "newMembersApprovalRequired",
                        "participants"}, info)
    check(info["id"] == gid and info["subject"] == subject
          and info["description"] == "" and info["membersCanAddNewMember"] is True
          and info["membersCanSendMessages"] is True
          and info["newMembersApprovalRequired"] is False, info)
    check({p["id"]: p["role"] for p in info["participants"]} == members, info)
    check(all(set(p) == {"id", "role"} for p in info["participants"]), info)


def sent_iqs(sim, phone, child):
    """IQs of `phone`'s devices whose first child is `child` (stanza log)."""
    st, log = sim.ctl("GET", "/stanzas?jid=%s&limit=10000" % phone)
    check(st == 200, log)
    return [x for x in log["stanzas"] if x["dir"] == "in" and x["tag"] == "iq"
            and x.get("child") == child]


def sim_group(sim, gid):
    """wa-sim's record of the group (control API)."""
    st, body = sim.ctl("GET", "/groups")
    check(st == 200, body)
    return [g for g in body["groups"] if g["id"] == gid][0]


def updates(rx, name, gid, field):
    return [e["payload"] for e in evs(rx, name, "group.v2.update")
            if e["payload"]["group"]["id"] == gid and field in e["payload"]["group"]]


def test_group_operations():
    with WaSim() as sim, stack(sim) as s, Receiver() as rx:
        for name, phone, push in (("a", A, "Alice"), ("b", B, "Bob"), ("c", C, "Carol")):
            account(sim, phone, push)
            create(s, name, rx)
        for name, phone in (("a", A), ("b", B), ("c", C)):
            link_qr(s, sim, name, phone)

        # Create: both members hear group.v2.join, a for its own action
        st, g, _ = s.api("POST", "/api/a/groups",
                         {"name": "Team", "participants": [{"id": cus(B)}]})
        check(st == 201, (st, g))
        gid = g["id"]
        for name in ("a", "b"):
            p = wait_ev(rx, name, "group.v2.join", lambda p: p["group"]["id"] == gid)
            check(set(p) == {"timestamp", "group", "_data"}, p)
            check_header(p, gid)
            check_info(p["group"], gid, "Team", {cus(A): "superadmin", cus(B): "participant"})
        check(not evs(rx, "c", "group.v2.join"), "c is not in the group")

        # Count and refresh
        st, body, _ = s.api("GET", "/api/b/groups/count")
        check(st == 200 and body == {"count": 1}, (st, body))
        st, body, _ = s.api("POST", "/api/a/groups/refresh")
        check(st == 200 and body == {"success": True}, (st, body))

        # Subject
        st, body, _ = s.api("PUT", "/api/a/groups/%s/subject" % gid, {"subject": "Team ✓"})
        check(st == 200 and body == {"success": True}, (st, body))
        for name in ("a", "b"):
            p = wait_ev(rx, name, "group.v2.update",
                        lambda p: p["group"].get("subject") == "Team ✓")
            check_header(p, gid)
            check(p["group"] == {"id": gid, "subject": "Team ✓"}, p)
            check(p["_data"]["attrs"]["participant"] == A + "@s.whatsapp.net", p)
        st, got, _ = s.api("GET", "/api/b/groups/" + gid)
        check(st == 200 and got["subject"] == "Team ✓", got)

        # Description: set, replace (the version it replaces is named), delete
        for text in ("Line one\nLine two", "Second ✓", ""):
            st, body, _ = s.api("PUT", "/api/a/groups/%s/description" % gid,
                                {"description": text})
            check(st == 200 and body == {"success": True}, (text, st, body))
            p = wait_ev(rx, "b", "group.v2.update",
                        lambda p, t=text: p["group"].get("description") == t)
            check(p["group"] == {"id": gid, "description": text}, p)
            st, got, _ = s.api("GET", "/api/b/groups/" + gid)
            check(st == 200 and got["description"] == (text or None), (text, got))

        # Messages admin only
        path = "/api/%s/groups/%s/settings/security/messages-admin-only"
        st, body, _ = s.api("GET", path % ("b", gid))
        check(st == 200 and body == {"adminsOnly": False}, (st, body))
        st, body, _ = s.api("PUT", path % ("a", gid), {"adminsOnly": True})
        check(st == 200 and body == {"adminsOnly": True}, (st, body))
        st, body, _ = s.api("GET", path % ("b", gid))
        check(st == 200 and body == {"adminsOnly": True}, (st, body))
        p = wait_ev(rx, "b", "group.v2.update", lambda p: "membersCanSendMessages" in p["group"])
        check(p["group"] == {"id": gid, "membersCanSendMessages": False}, p)
        # b (no admin) cannot write in the group now; a can
        st, body, _ = s.api("POST", "/api/sendText",
                            {"session": "b", "chatId": gid, "text": "may I?"})
        check_error(st, body, 403, "only admins may send")
        st, body, _ = s.api("POST", "/api/sendText",
                            {"session": "a", "chatId": gid, "text": "admins only"})
        check(st == 201, (st, body))
        st, body, _ = s.api("PUT", path % ("a", gid), {"adminsOnly": False})
        check(st == 200 and body == {"adminsOnly": False}, (st, body))
        wait_for(lambda: len(updates(rx, "b", gid, "membersCanSendMessages")) == 2, 20,
                 what="second membersCanSendMessages update")
        check(updates(rx, "b", gid, "membersCanSendMessages")[1]["group"]
              == {"id": gid, "membersCanSendMessages": True}, "not_announcement")
        # Info admin only: b may no longer edit the info
        path = "/api/%s/groups/%s/settings/security/info-admin-only"
        st, body, _ = s.api("PUT", path % ("a", gid), {"adminsOnly": True})
        check(st == 200 and body == {"adminsOnly": True}, (st, body))
        st, body, _ = s.api("GET", path % ("b", gid))
        check(st == 200 and body == {"adminsOnly": True}, (st, body))
        p = wait_ev(rx, "b", "group.v2.update",
                    lambda p: p["_data"]["content"][0]["tag"] == "locked")
        check(p["group"] == {"id": gid}, p)
        st, body, _ = s.api("PUT", "/api/b/groups/%s/subject" % gid, {"subject": "Mine"})
        check_error(st, body, 403, "not allowed")
        st, body, _ = s.api("PUT", "/api/b/groups/%s/settings/security/messages-admin-only"
                            % gid, {"adminsOnly": True})
        check_error(st, body, 403, "not allowed")
        # b (no admin) cannot read the invite code
        st, body, _ = s.api("GET", "/api/b/groups/%s/invite-code" % gid)
        check_error(st, body, 403, "not allowed")

        # Picture: none yet (b keeps that answer); a sets one from a PNG,
        # media-service makes it a 640x640 JPEG; b sees it once the
        # picture notification drops its copy; b (no admin of a locked
        # group) may not change it; not an image: 400, nothing sent
        pic = "/api/%s/groups/" + gid + "/picture"
        st, body, _ = s.api("GET", pic % "b")
        check(st == 200 and body == {"url": None}, (st, body))
        st, body, _ = s.api("GET", pic % "b", query={"refresh": "maybe"})
        check_error(st, body, 400, "refresh must be true or false")
        st, body, _ = s.api("PUT", pic % "a",
                            {"file": {"mimetype": "image/png",
                                      "data": base64.b64encode(png(300, 200)).decode()}})
        check(st == 200 and body == {"success": True}, (st, body))
        sg = sim_group(sim, gid)
        check(sg["picture_id"], sg)
        st, mine, _ = s.api("GET", pic % "a")
        check(st == 200 and set(mine) == {"url"} and "/gp_" in mine["url"]
              and sg["picture_id"] in mine["url"], (st, mine))
        st, data = sim.http("GET", mine["url"])
        check(st == 200 and jpeg_size(data) == (640, 640), (st, data[:16]))
        wait_for(lambda: s.api("GET", pic % "b")[1] == mine, 20,
                 what="b sees the new group picture")
        iqs_before = len(sent_iqs(sim, B, "picture")) + len(sent_iqs(sim, A, "picture"))
        st, body, _ = s.api("PUT", pic % "b", {"file": {"data": base64.b64encode(
            png(64, 64)).decode()}})
        check_error(st, body, 403, "not allowed")
        check(sim_group(sim, gid)["picture_id"] == sg["picture_id"], "b changed it")
        st, body, _ = s.api("PUT", pic % "a", {"file": {"data": base64.b64encode(
            b"not an image at all").decode()}})
        check(st == 400 and body["statusCode"] == 400, (st, body))
        st, body, _ = s.api("PUT", pic % "a", {"file": {"data": "%%%"}})
        check_error(st, body, 400, "file.data must be base64")
        st, body, _ = s.api("PUT", "/api/a/groups/nope/picture", {"file": {"data": "AA=="}})
        check_error(st, body, 400, "id must be a group id")
        check(len(sent_iqs(sim, B, "picture")) + len(sent_iqs(sim, A, "picture"))
              == iqs_before + 1, "a picture IQ went out for bad input")
        # Removed: a's own answer at once, b's after the notification
        st, body, _ = s.api("DELETE", pic % "a")
        check(st == 200 and body == {"success": True}, (st, body))
        check(sim_group(sim, gid)["picture_id"] is None, sim_group(sim, gid))
        st, body, _ = s.api("GET", pic % "a")
        check(st == 200 and body == {"url": None}, (st, body))
        wait_for(lambda: s.api("GET", pic % "b")[1] == {"url": None}, 20,
                 what="b sees the picture removed")
        st, body, _ = s.api("GET", pic % "b", query={"refresh": "true"})
        check(st == 200 and body == {"url": None}, (st, body))

        # Invite link; join info by code and by link; c joins by the link
        st, link, _ = s.api("GET", "/api/a/groups/%s/invite-code" % gid)
        check(st == 200 and isinstance(link, str) and link.startswith(LINK)
              and len(link) > len(LINK), (st, link))
        code = link[len(LINK):]
        st, again, _ = s.api("GET", "/api/a/groups/%s/invite-code" % gid)
        check(st == 200 and again == link, (st, again))
        for q in (code, link):
            st, info, _ = s.api("GET", "/api/c/groups/join-info", query={"code": q})
            check(st == 200 and info["id"] == gid and info["subject"] == "Team ✓"
                  and info["size"] == 2 and info["restrict"] is True, (q, st, info))
        st, body, _ = s.api("POST", "/api/c/groups/join", {"code": link})
        check(st == 200 and body == {"id": gid}, (st, body))
        p = wait_ev(rx, "c", "group.v2.join", lambda p: p["group"]["id"] == gid)
        check_header(p, gid)
        check(p["group"]["subject"] == "Team ✓" and p["group"]["membersCanSendMessages"] is True
              and {x["id"]: x["role"] for x in p["group"]["participants"]}
              == {cus(A): "superadmin", cus(B): "participant", cus(C): "participant"}, p)
        for name in ("a", "b", "c"):
            p = wait_ev(rx, name, "group.v2.participants",
                        lambda p: p["type"] == "join" and p["group"]["id"] == gid)
            check(set(p) == {"type", "timestamp", "group", "participants", "_data"}, p)
            check_header(p, gid)
            check(p["group"] == {"id": gid}
                  and p["participants"] == [{"id": cus(C), "role": "participant"}], p)
            check(p["_data"]["content"][0]["tag"] == "add"
                  and p["_data"]["content"][0]["attrs"]["reason"] == "invite", p)
        check(not evs(rx, "a", "group.v2.leave"), "no leave yet")
        st, body, _ = s.api("GET", "/api/c/groups/count")
        check(st == 200 and body == {"count": 1}, (st, body))
        # Revoke: a new link; the old code leads nowhere
        st, new, _ = s.api("POST", "/api/a/groups/%s/invite-code/revoke" % gid)
        check(st == 200 and new.startswith(LINK) and new != link, (st, new))
        st, body, _ = s.api("GET", "/api/c/groups/join-info", query={"code": code})
        check_error(st, body, 404, "invite code does not exist")
        st, info, _ = s.api("GET", "/api/c/groups/join-info", query={"code": new})
        check(st == 200 and info["id"] == gid, (st, info))

        # Promote and demote c
        for action, role in (("promote", "admin"), ("demote", "participant")):
            st, res, _ = s.api("POST", "/api/a/groups/%s/admin/%s" % (gid, action),
                               {"participants": [{"id": cus(C)}]})
            check(st == 200 and res == [{"id": cus(C), "status": 200}], (st, res))
            p = wait_ev(rx, "b", "group.v2.participants", lambda p, t=action: p["type"] == t)
            check_header(p, gid)
            check(p["participants"] == [{"id": cus(C), "role": role}], p)
            st, v2, _ = s.api("GET", "/api/b/groups/%s/participants/v2" % gid)
            check(st == 200 and sorted(v2, key=lambda x: x["id"]) == [
                {"id": cus(A), "role": "superadmin"}, {"id": cus(B), "role": "participant"},
                {"id": cus(C), "role": role}], (st, v2))

        # b offline while a renames the group: the notification waits for b
        st, body, _ = s.api("POST", "/api/sessions/b/stop")
        check(st in (200, 201), (st, body))
        s.wait_status("b", "STOPPED", 20)
        st, body, _ = s.api("PUT", "/api/a/groups/%s/subject" % gid, {"subject": "Offline"})
        check(st == 200, (st, body))
        wait_ev(rx, "a", "group.v2.update", lambda p: p["group"].get("subject") == "Offline")
        check(not updates(rx, "b", gid, "subject")[1:], "b got it while stopped")
        st, body, _ = s.api("POST", "/api/sessions/b/start")
        check(st in (200, 201), (st, body))
        s.wait_status("b", "WORKING", 20)
        p = wait_ev(rx, "b", "group.v2.update", lambda p: p["group"].get("subject") == "Offline")
        check(p["group"] == {"id": gid, "subject": "Offline"}, p)

        # c leaves
        st, body, _ = s.api("POST", "/api/c/groups/%s/leave" % gid)
        check(st == 200 and body == {"success": True}, (st, body))
        p = wait_ev(rx, "c", "group.v2.leave", lambda p: p["group"]["id"] == gid)
        check(set(p) == {"timestamp", "group", "_data"} and p["group"] == {"id": gid}, p)
        check_header(p, gid)
        p = wait_ev(rx, "a", "group.v2.participants", lambda p: p["type"] == "leave")
        check(p["participants"] == [{"id": cus(C), "role": "left"}], p)
        st, body, _ = s.api("GET", "/api/c/groups/count")
        check(st == 200 and body == {"count": 0}, (st, body))

        # a deletes the group: b is removed, a leaves
        st, body, _ = s.api("DELETE", "/api/a/groups/" + gid)
        check(st == 200 and body == {"success": True}, (st, body))
        for name in ("a", "b"):
            p = wait_ev(rx, name, "group.v2.leave", lambda p: p["group"]["id"] == gid)
            check_header(p, gid)
            st, body, _ = s.api("GET", "/api/%s/groups/count" % name)
            check(st == 200 and body == {"count": 0}, (name, st, body))

        # Every event once per webhook (the notification ids make the
        # event ids)
        for name in ("a", "b", "c"):
            ids = [e["id"] for e in rx.events() if e.get("session") == name]
            check(len(ids) == len(set(ids)), (name, "duplicate events"))


def test_group_bad_input():
    with WaSim() as sim, stack(sim) as s, Receiver() as rx:
        for name, phone, push in (("a", A, "Alice"), ("b", B, "Bob")):
            account(sim, phone, push)
            create(s, name, rx)
        for name, phone in (("a", A), ("b", B)):
            link_qr(s, sim, name, phone)
        st, g, _ = s.api("POST", "/api/a/groups",
                         {"name": "Team", "participants": [{"id": cus(B)}]})
        check(st == 201, (st, g))
        gid = g["id"]

        # An invite code that does not exist: 404 (join and join-info)
        st, body, _ = s.api("POST", "/api/b/groups/join", {"code": "AAAAAAAAAAAAAAAAAAAAAA"})
        check_error(st, body, 404, "invite code does not exist")
        st, body, _ = s.api("GET", "/api/b/groups/join-info",
                            query={"code": LINK + "AAAAAAAAAAAAAAAAAAAAAA"})
        check_error(st, body, 404, "invite code does not exist")
        # Malformed codes: 400 before anything is sent
        for bad in ("", "bad code", "https://example.com/abc", LINK, "x" * 65):
            st, body, _ = s.api("POST", "/api/b/groups/join", {"code": bad})
            check_error(st, body, 400, "code")
        st, body, _ = s.api("GET", "/api/b/groups/join-info")
        check_error(st, body, 400, "code is required")

        # Promoting someone who is not a member: 400, nothing sent
        before = len(sent_iqs(sim, A, "promote"))
        st, body, _ = s.api("POST", "/api/a/groups/%s/admin/promote" % gid,
                            {"participants": [{"id": cus(C)}]})
        check_error(st, body, 400, "%s is not a member of the group" % cus(C))
        for action in ("demote", "remove"):
            st, body, _ = s.api("POST", "/api/a/groups/%s/%s/%s" % (
                gid, "admin" if action == "demote" else "participants", action),
                {"participants": [{"id": cus(B)}, {"id": "15559999999"}]})
            check_error(st, body, 400, "15559999999@c.us is not a member")
        check(len(sent_iqs(sim, A, "promote")) == before, "a promote IQ went out")
        check(not sent_iqs(sim, A, "demote") and not sent_iqs(sim, A, "remove"), "sent")
        st, got, _ = s.api("GET", "/api/a/groups/" + gid)
        check({p["id"]: p["role"] for p in got["participants"]}
              == {cus(A): "superadmin", cus(B): "participant"}, got)

        # A subject over 100 characters (counted as characters), a
        # description over 2048: 400, nothing sent
        subjects = len(sent_iqs(sim, A, "subject"))
        for bad, text in (("x" * 101, "subject must be 1 to 100"),
                          ("é" * 101, "subject must be 1 to 100"),
                          ("", "subject must be 1 to 100"),
                          ("a\nb", "subject must be 1 to 100"),
                          (None, "subject is required")):
            st, body, _ = s.api("PUT", "/api/a/groups/%s/subject" % gid,
                                {} if bad is None else {"subject": bad})
            check_error(st, body, 400, text)
        st, body, _ = s.api("PUT", "/api/a/groups/%s/subject" % gid, {"subject": "é" * 100})
        check(st == 200, (st, body))
        check(len(sent_iqs(sim, A, "subject")) == subjects + 1, "one subject IQ")
        for bad, text in (("x" * 2049, "description must be at most 2048"),
                          (7, "description must be at most 2048"),
                          (None, "description is required")):
            st, body, _ = s.api("PUT", "/api/a/groups/%s/description" % gid,
                                {} if bad is None else {"description": bad})
            check_error(st, body, 400, text)
        check(not sent_iqs(sim, A, "description"), "a description IQ went out")
        st, body, _ = s.api("PUT", "/api/a/groups/%s/description" % gid,
                            {"description": "y" * 2048})
        check(st == 200, (st, body))

        # Settings and ids
        st, body, _ = s.api("PUT", "/api/a/groups/%s/settings/security/info-admin-only"
                            % gid, {"adminsOnly": "maybe"})
        check_error(st, body, 400, "adminsOnly must be true or false")
        st, body, _ = s.api("PUT", "/api/a/groups/%s/settings/security/info-admin-only"
                            % gid, {})
        check_error(st, body, 400, "adminsOnly is required")
        for method, path in (("GET", "invite-code"), ("POST", "leave"),
                             ("GET", "participants/v2"), ("PUT", "subject")):
            st, body, _ = s.api(method, "/api/a/groups/15550002222@c.us/" + path,
                                {"subject": "x"})
            check_error(st, body, 400, "id must be a group id")
        # A group we are not in / that does not exist
        st, body, _ = s.api("POST", "/api/a/groups/120363999999999999@g.us/leave")
        check(st in (403, 404), (st, body))
        # Fixed segments never fall into {id}; a wrong method is 405
        st, body, _ = s.api("GET", "/api/a/groups/join")
        check(st == 405, (st, body))


if __name__ == "__main__":
    run([test_group_bad_input, test_group_operations])
