"""test_contacts_baileys - contacts and profile between Wharf and an
unmodified Baileys, through the full stack.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

wa-sim plays WhatsApp; a Wharf session `w` (every service) is account A,
an unmodified Baileys client (wharf_peer.mjs) account B.
- Baileys' about (updateProfileStatus) and picture (updateProfilePicture)
  read by Wharf: GET …/contacts/{B}/about and …/profile-picture give the
  text and the URL Baileys itself reads, which serves a JPEG;
- Wharf's new name, about and picture seen by Baileys: the push name on
  Wharf's next message (pushName), fetchStatus, and profilePictureUrl
  giving the 640x640 JPEG media-service made from a PNG (the URL
  Wharf's GET …/profile answers); the picture removed: Baileys finds
  none;
- Baileys blocked: Wharf's contact says isBlocked, Baileys' message
  sent meanwhile never arrives; unblocked, the next one does.

ctest interop_contacts_baileys, after interop_npm_setup. Exits 77 (skip)
when npm was unreachable. Loopback only.
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

A = "15550340001"  # Wharf session w
B = "15550340002"  # Baileys
A_JID, B_JID = A + "@s.whatsapp.net", B + "@s.whatsapp.net"
A_C, B_C = A + "@c.us", B + "@c.us"
EVENTS = ["session.status", "message"]
ctx = Interop(A, B, EVENTS)


def api(method, path, body=None, status=200, **kw):
    st, got, _ = ctx["s"].api(method, path, body, **kw)
    check(st == status, (method, path, st, got))
    return got


def from_baileys(text):
    """Wharf's `message` webhooks whose body is text."""
    return [e["payload"] for e in ctx["rx"].events("message")
            if e.get("session") == "w" and e["payload"]["body"] == text]


def baileys_got(msg_id):
    """The message Baileys received with that key id."""
    def items():
        return [m for d in ctx["peer"].evs("messages.upsert")
                for m in d.get("messages", []) if m["key"]["id"] == msg_id]
    return wait_for(items, 30, what="baileys: message %s" % msg_id)[0]


def test_baileys_profile_read_by_wharf():
    peer, sim = ctx["peer"], ctx["sim"]
    peer.sock("updateProfileStatus", "Baileys' about ✓")
    got = api("GET", "/api/w/contacts/%s/about" % B)
    check(got == {"id": B_C, "about": "Baileys' about ✓"}, got)
    none = api("GET", "/api/w/contacts/%s/profile-picture" % B)
    check(none == {"profilePictureURL": None}, none)
    peer.sock("updateProfilePicture", B_JID, b64(png(300, 200)))
    theirs = peer.sock("profilePictureUrl", B_JID, "image")
    got = api("GET", "/api/w/contacts/%s/profile-picture?refresh=true" % B)
    check(got == {"profilePictureURL": theirs}, (got, theirs))
    st, data = sim.http("GET", theirs)
    check(st == 200 and data[:2] == b"\xff\xd8", (st, data[:8]))
    # Wawp's form reads the same
    got = api("GET", "/v2/contacts/about?instance_id=w&contactId=" + B)
    check(got["about"] == "Baileys' about ✓", got)


def test_wharf_profile_seen_by_baileys():
    peer, sim = ctx["peer"], ctx["sim"]
    check(api("PUT", "/api/w/profile/name", {"name": "Wharf Renamed"})
          == {"success": True}, "name")
    check(api("PUT", "/api/w/profile/status", {"status": "Wharf's about"})
          == {"success": True}, "about")
    check(api("PUT", "/api/w/profile/picture", {"file": {
        "mimetype": "image/png", "data": base64.b64encode(png(400, 250)).decode()}})
        == {"success": True}, "picture")
    # The name: on Wharf's next message
    sent = api("POST", "/api/sendText", {"session": "w", "chatId": B_C,
                                         "text": "after the rename"}, status=201)
    m = baileys_got(sent["id"].split("_")[2])
    check(m["pushName"] == "Wharf Renamed", m)
    # The about, through usync's status query
    st = peer.sock("fetchStatus", A_JID)
    check(len(st) == 1 and st[0]["status"]["status"] == "Wharf's about", st)
    # The picture: the URL Wharf's profile names, a 640x640 JPEG
    me = api("GET", "/api/w/profile")
    check(me["id"] == A_C and me["name"] == "Wharf Renamed" and me["picture"], me)
    url = peer.sock("profilePictureUrl", A_JID, "image")
    check(url == me["picture"], (url, me))
    st, data = sim.http("GET", url)
    check(st == 200 and jpeg_size(data) == (640, 640), (st, data[:8]))
    # Removed: Baileys finds none (its query fails)
    check(api("DELETE", "/api/w/profile/picture") == {"success": True}, "delete")
    n = len(peer.events("error"))
    peer.proc.stdin.write('{"cmd":"sock","method":"profilePictureUrl","args":["%s","image"]}\n'
                          % A_JID)
    peer.proc.stdin.flush()
    wait_for(lambda: len(peer.events("error")) > n, 20, what="Baileys finds no picture")
    check(api("GET", "/api/w/profile")["picture"] is None, "no picture")


def test_blocked_baileys_stops_arriving():
    peer = ctx["peer"]
    peer.sock("sendMessage", A_JID, {"text": "before the block"})
    wait_for(lambda: from_baileys("before the block"), 30, what="first message")
    got = api("POST", "/api/contacts/block", {"contactId": B, "session": "w"}, status=201)
    check(got == {"success": True}, got)
    info = api("GET", "/api/w/contacts/" + B)
    check(info["id"] == B_C and info["isBlocked"] is True, info)
    sent = peer.sock("sendMessage", A_JID, {"text": "while blocked"})
    # wa-sim has it (and drops it) before the unblock goes out
    wait_for(lambda: [x for x in ctx["sim"].ctl("GET", "/stanzas?jid=%s&limit=10000" % B)[1]
                      ["stanzas"] if x["dir"] == "in" and x["tag"] == "message"
                      and x.get("id") == sent["key"]["id"]], 20, what="blocked message at wa-sim")
    api("POST", "/api/contacts/unblock", {"contactId": B, "session": "w"}, status=201)
    info = api("GET", "/api/w/contacts/" + B)
    check(info["isBlocked"] is False, info)
    peer.sock("sendMessage", A_JID, {"text": "after the unblock"})
    wait_for(lambda: from_baileys("after the unblock"), 30, what="message after unblock")
    check(not from_baileys("while blocked"), "a blocked sender's message arrived")
    check(len(from_baileys("before the block")) == 1, "duplicates")


ctx.run([test_baileys_profile_read_by_wharf, test_wharf_profile_seen_by_baileys,
         test_blocked_baileys_stops_arriving])
