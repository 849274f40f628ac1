"""test_appstate - app state ("syncd") through the full stack with wa-sim.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Two Wharf sessions, a1 and a2, are linked as two companion devices of the
SAME account A (the phone shares its app-state key with each); a third
session b (account B) writes to A so both have the chat. Then:
- a1 archives the chat: a1 and a2 both emit chat.archive {id, archived,
  timestamp} (a2 after fetching a1's patch on server_sync, MACs and
  LTHash verified) and GET /chats shows archived on both; unarchive too;
- a2 creates a label and puts it on the chat: a1 emits label.upsert
  {id, name, color, colorHex} and label.chat.added {labelId, chatId,
  label} with the label as stored (null for a label never seen); the
  label routes read it back on a1; removing it gives
  label.chat.deleted; deleting the label label.deleted;
- pin, mute and unread from a1 show on a2's chat list; star answers;
- delete for me (DELETE .../messages/{id}?forEveryone=false, Wharf's
  extension): a1 deletes a received message and its own one, the phone
  another: gone at a1 and a2, still at b; bad flag 400, unknown 404;
- a1 names the contact (PUT /contacts/{chatId}), clears the chat
  (DELETE .../messages) and deletes the group's chat (DELETE
  /chats/{chatId}): a2's contacts/all has the name, both lose the
  messages and the group's chat;
- the phone (wa-sim's control API) archives the chat, makes a label,
  puts it on the chat and renames the contact: both emit chat.archive,
  label.upsert and label.chat.added with WAHA's fields, /contacts/all
  shows the new name; the phone's push name setting becomes me.pushName;
- chats/overview GET and POST; the chat's picture (null, then B's phone's
  picture with refresh=true), which then is the chat's `picture` in GET
  /chats and the overview; a group's new picture shows there once its
  notification arrived;
- a worker restart resumes from the stored versions: the first fetches
  after it ask from the versions reached before (wa-sim records every
  fetch), and nothing is reported twice;
- a tampered patch (wa-sim stores a copy with a flipped patch MAC bit) is
  refused and logged: the collection does not move;
- bad input: unknown label, label name over 100 bytes, unknown color,
  archiving an unknown chat, a malformed chat id: clear 4xx.
"""
import base64
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import Receiver, check, run, wait_for  # noqa: E402
from engine_util import account, api_ready, hooks, link_qr, stack  # noqa: E402
from wasim import WaSim  # noqa: E402

A = "15550007001"
B = "15550007002"
CHAT = B + "@c.us"
# A tiny valid JPEG (B's phone's picture)
TINY_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0a"
    "HBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAA"
    "AAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q==")
EVENTS = ["session.status", "message", "chat.archive", "label.upsert",
          "label.deleted", "label.chat.added", "label.chat.deleted"]


def create(s, name, rx):
    st, body, _ = s.api("POST", "/api/sessions", {
        "name": name, "start": True,
        "config": {"webhooks": [{"url": rx.url + "/" + name, "events": EVENTS}]}})
    check(st == 201, (st, body))


def ready_action(s, method, path, body=None):
    """An app-state action, retried while the key share is on its way
    (503)."""
    out = [None]

    def attempt():
        out[0] = s.api(method, path, body)
        return out[0][0] != 503
    wait_for(attempt, 30, interval=0.3, what="%s %s not 503" % (method, path))
    return out[0]


def chat_of(s, name, chat=CHAT):
    st, chats, _ = s.api("GET", "/api/%s/chats" % name)
    check(st == 200, (st, chats))
    got = [c for c in chats if c["id"] == chat]
    return got[0] if got else None


def wait_chat(s, name, pred, what):
    return wait_for(lambda: (lambda c: c if c and pred(c) else None)(chat_of(s, name)),
                    30, what=what)


def events(rx, name, event, pred=lambda p: True):
    return [e["payload"] for e in hooks(rx, name, event) if pred(e["payload"])]


def fetches(sim):
    st, body = sim.ctl("GET", "/accounts/%s/app-state" % A)
    check(st == 200, (st, body))
    return body


def test_appstate():
    with WaSim() as sim, stack(sim) as s, Receiver() as rx:
        account(sim, A, "Alice")
        account(sim, B, "Bob")
        for name in ("a1", "a2", "b"):
            create(s, name, rx)
        link_qr(s, sim, "a1", A)
        link_qr(s, sim, "a2", A)
        link_qr(s, sim, "b", B)

        # b writes to A: both companions have the chat
        st, sent, _ = api_ready(s, "POST", "/api/sendText",
                                {"session": "b", "chatId": A + "@c.us", "text": "hi"})
        check(st == 201, (st, sent))
        for name in ("a1", "a2"):
            wait_for(lambda: chat_of(s, name), 30, what="the chat at %s" % name)
        received = wait_for(lambda: events(rx, "a1", "message",
                                           lambda p: p.get("body") == "hi"),
                            30, what="hi at a1")[0]

        # -- archive: a1 -> a1 and a2 ------------------------------------
        st, body, _ = ready_action(s, "POST", "/api/a1/chats/%s/archive" % CHAT)
        check(st == 201 and body == {"success": True}, (st, body))
        for name in ("a1", "a2"):
            ev = wait_for(lambda: events(rx, name, "chat.archive",
                                         lambda p: p["archived"] is True),
                          30, what="chat.archive at %s" % name)[0]
            check(set(ev) == {"id", "archived", "timestamp"}, ev)
            check(ev["id"] == CHAT and isinstance(ev["timestamp"], int)
                  and ev["timestamp"] > 1700000000, ev)
            wait_chat(s, name, lambda c: c["archived"] is True,
                      "archived at %s" % name)
        st, body, _ = s.api("POST", "/api/a1/chats/%s/unarchive" % CHAT)
        check(st == 201, (st, body))
        wait_for(lambda: events(rx, "a2", "chat.archive",
                                lambda p: p["archived"] is False),
                 30, what="unarchive at a2")
        wait_chat(s, "a2", lambda c: c["archived"] is False, "unarchived at a2")

        # -- labels: a2 -> a1 ----------------------------------------------
        st, label, _ = ready_action(s, "POST", "/api/a2/labels",
                                    {"name": "VIP", "colorHex": "#ffd429"})
        check(st == 201, (st, label))
        check(label == {"id": "1", "name": "VIP", "color": 2, "colorHex": "#ffd429"},
              label)
        up = wait_for(lambda: events(rx, "a1", "label.upsert"), 30,
                      what="label.upsert at a1")[0]
        check(up == label, up)
        st, labels, _ = s.api("GET", "/api/a1/labels")
        check(st == 200 and labels == [label], (st, labels))
        st, body, _ = s.api("PUT", "/api/a2/labels/chats/%s" % CHAT,
                            {"labels": [{"id": "1"}]})
        check(st == 200 and body == [label], (st, body))
        added = wait_for(lambda: events(rx, "a1", "label.chat.added"), 30,
                         what="label.chat.added at a1")[0]
        check(added == {"labelId": "1", "chatId": CHAT, "label": label}, added)
        st, body, _ = s.api("GET", "/api/a1/labels/chats/%s" % CHAT)
        check(st == 200 and body == [label], (st, body))
        st, body, _ = s.api("GET", "/api/a1/labels/1/chats")
        check(st == 200 and [c["id"] for c in body] == [CHAT], (st, body))
        st, body, _ = s.api("PUT", "/api/a2/labels/1", {"name": "Gold", "color": 16})
        check(st == 200 and body["colorHex"] == "#ffaf04", (st, body))
        wait_for(lambda: events(rx, "a1", "label.upsert",
                                lambda p: p["name"] == "Gold" and p["color"] == 16),
                 30, what="renamed label at a1")
        st, body, _ = s.api("PUT", "/api/a2/labels/chats/%s" % CHAT, {"labels": []})
        check(st == 200 and body == [], (st, body))
        deleted = wait_for(lambda: events(rx, "a1", "label.chat.deleted"), 30,
                           what="label.chat.deleted at a1")[0]
        check(deleted == {"labelId": "1", "chatId": CHAT,
                          "label": {"id": "1", "name": "Gold", "color": 16,
                                    "colorHex": "#ffaf04"}}, deleted)

        # -- pin, mute, unread, star: a1 -> a2 -------------------------------
        st, body, _ = s.api("POST", "/api/a1/chats/%s/pin" % CHAT)
        check(st == 201, (st, body))
        st, body, _ = s.api("POST", "/api/a1/chats/%s/mute" % CHAT, {})
        check(st == 201, (st, body))
        st, body, _ = s.api("POST", "/api/a1/chats/%s/unread" % CHAT)
        check(st == 201, (st, body))
        c = wait_chat(s, "a2", lambda c: c["pinned"] and c["isMuted"]
                      and c["unreadCount"] == -1, "pinned, muted, unread at a2")
        check(c["muteExpiration"] == -1, c)
        st, body, _ = s.api("PUT", "/api/star", {"session": "a1", "chatId": CHAT,
                                                 "messageId": received["id"],
                                                 "star": True})
        check(st == 200 and body == {"success": True}, (st, body))
        # the star is kept: both devices' messages show it
        for name in ("a1", "a2"):
            def starred():
                st, msgs, _ = s.api("GET", "/api/%s/chats/%s/messages" % (name, CHAT))
                got = [m for m in msgs if m["id"] == received["id"]]
                return got[0] if got and got[0]["_data"].get("starred") is True else None
            wait_for(starred, 30, what="starred at %s" % name)
        st, body, _ = s.api("PUT", "/api/star", {"session": "a2", "chatId": CHAT,
                                                 "messageId": received["id"],
                                                 "star": False})
        check(st == 200, (st, body))
        wait_for(lambda: not [m for m in s.api("GET", "/api/a1/chats/%s/messages" % CHAT)[1]
                              if m["_data"].get("starred")], 30, what="unstarred at a1")

        # -- overview ---------------------------------------------------------
        st, ov, _ = s.api("GET", "/api/a2/chats/overview?ids=%s" % CHAT)
        check(st == 200 and len(ov) == 1, (st, ov))
        check(set(ov[0]) == {"id", "name", "picture", "lastMessage", "_chat"}, ov[0])
        check(ov[0]["id"] == CHAT and ov[0]["lastMessage"]["body"] == "hi", ov[0])
        st, ov2, _ = s.api("POST", "/api/a2/chats/overview",
                           {"pagination": {"limit": 10}, "filter": {"ids": [CHAT]}})
        check(st == 201 and [o["id"] for o in ov2] == [CHAT], (st, ov2))

        # -- the chat's picture ----------------------------------------------
        check(chat_of(s, "a1")["picture"] is None, chat_of(s, "a1"))
        st, body, _ = s.api("GET", "/api/a1/chats/%s/picture" % CHAT)
        check(st == 200 and body == {"url": None}, (st, body))
        st, acc = sim.ctl("PUT", "/accounts/%s/profile" % B,
                          {"picture": base64.b64encode(TINY_JPEG).decode()})
        check(st == 200 and acc["picture_path"], (st, acc))
        # kept for a day: the new picture shows with refresh=true
        st, body, _ = s.api("GET", "/api/a1/chats/%s/picture" % CHAT)
        check(st == 200 and body == {"url": None}, (st, body))
        st, body, _ = s.api("GET", "/api/a1/chats/%s/picture?refresh=true" % CHAT)
        check(st == 200 and set(body) == {"url"}
              and body["url"].endswith(acc["picture_path"]), (st, body))
        # what a1 learnt is the chat's picture in GET /chats and the
        # overview; a2 never asked
        # (the worker stores what it learnt after it answered: wait for it)
        wait_chat(s, "a1", lambda c: c["picture"] == body["url"],
                  "the learnt picture in GET /chats at a1")
        st, ov, _ = s.api("GET", "/api/a1/chats/overview?ids=%s" % CHAT)
        check(st == 200 and ov[0]["picture"] == body["url"]
              and ov[0]["_chat"]["picture"] == body["url"], (st, ov))
        check(chat_of(s, "a2")["picture"] is None, chat_of(s, "a2"))
        # -- Wawp /v2 forms of the chat routes (api-surface.md 5.1) -------
        pic = body
        st, v2, _ = s.api("GET", "/v2/chats/overview?instance_id=a1&ids=%s" % CHAT)
        check(st == 200 and [(o["id"], o["picture"]) for o in v2]
              == [(CHAT, pic["url"])], (st, v2))
        st, v2, _ = s.api("POST", "/v2/chats/overview?instance_id=a1",
                          {"filter": {"ids": [CHAT]}})
        check(st == 201 and [o["id"] for o in v2] == [CHAT], (st, v2))
        st, v2, _ = s.api("GET", "/v2/chats/%s/picture?instance_id=a1" % CHAT)
        check(st == 200 and v2 == pic, (st, v2))
        st, v2, _ = s.api("POST", "/v2/chats/%s/archive?instance_id=a1" % CHAT)
        check(st == 201 and v2 == {"success": True}, (st, v2))
        wait_chat(s, "a2", lambda c: c["archived"] is True, "archived through /v2 at a2")
        st, v2, _ = s.api("POST", "/v2/chats/%s/unarchive?instance_id=a1" % CHAT)
        check(st == 201 and v2 == {"success": True}, (st, v2))
        wait_chat(s, "a2", lambda c: c["archived"] is False, "unarchived through /v2 at a2")
        st, v2, _ = s.api("POST", "/v2/chats/%s/archive" % CHAT)
        check(st == 400 and "instance_id" in v2["message"], (st, v2))
        st, v2, _ = s.api("POST", "/v2/chats/%s/archive?instance_id=nobody" % CHAT)
        check(st == 404, (st, v2))
        # a group's new picture: its notification makes a1 read the URL
        # again, without anyone asking
        st, g, _ = s.api("POST", "/api/b/groups",
                         {"name": "Pics", "participants": [{"id": A + "@c.us"}]})
        check(st == 201, (st, g))
        gid = g["id"]
        st, body, _ = api_ready(s, "POST", "/api/sendText",
                                {"session": "b", "chatId": gid, "text": "pic"})
        check(st == 201, (st, body))
        wait_for(lambda: chat_of(s, "a1", gid), 30, what="the group at a1")
        check(chat_of(s, "a1", gid)["picture"] is None, chat_of(s, "a1", gid))
        st, body, _ = s.api("PUT", "/api/b/groups/%s/picture" % gid,
                            {"file": {"mimetype": "image/jpeg",
                                      "data": base64.b64encode(TINY_JPEG).decode()}})
        check(st == 200, (st, body))
        st, gpic, _ = s.api("GET", "/api/b/groups/%s/picture" % gid)
        check(st == 200 and gpic["url"], (st, gpic))
        wait_for(lambda: chat_of(s, "a1", gid)["picture"] == gpic["url"], 30,
                 what="the group's picture in a1's chats")
        st, body, _ = s.api("GET", "/api/a1/chats/%s/picture?refresh=maybe" % CHAT)
        check(st == 400 and "refresh" in str(body["message"]), (st, body))
        st, body, _ = s.api("GET", "/api/a1/chats/not%20a%20chat/picture")
        check(st == 400 and "chatId" in str(body["message"]), (st, body))

        # -- bad input --------------------------------------------------------
        st, body, _ = s.api("PUT", "/api/a1/labels/99", {"name": "x"})
        check(st == 404 and "99" in str(body["message"]), (st, body))
        st, body, _ = s.api("DELETE", "/api/a1/labels/99")
        check(st == 404, (st, body))
        st, body, _ = s.api("PUT", "/api/a1/labels/chats/%s" % CHAT,
                            {"labels": [{"id": "42"}]})
        check(st == 404 and "42" in str(body["message"]), (st, body))
        st, body, _ = s.api("POST", "/api/a1/labels", {"name": "x" * 101})
        check(st == 400 and "name" in str(body["message"]), (st, body))
        st, body, _ = s.api("POST", "/api/a1/labels", {"name": "x", "colorHex": "#123456"})
        check(st == 400 and "colorHex" in str(body["message"]), (st, body))
        st, body, _ = s.api("POST", "/api/a1/chats/15559999999@c.us/archive")
        check(st == 404 and "not found" in str(body["message"]), (st, body))
        st, body, _ = s.api("POST", "/api/a1/chats/not-a-chat/archive")
        check(st == 400 and "chatId" in str(body["message"]), (st, body))
        st, body, _ = s.api("PUT", "/api/star", {"session": "a1", "chatId": CHAT,
                                                 "messageId": "x", "star": "yes"})
        check(st == 400 and "star" in str(body["message"]), (st, body))

        # -- delete the label: label.deleted ----------------------------------
        st, body, _ = s.api("DELETE", "/api/a2/labels/1")
        check(st == 200 and body["id"] == "1", (st, body))
        gone = wait_for(lambda: events(rx, "a1", "label.deleted"), 30,
                        what="label.deleted at a1")[0]
        check(gone["id"] == "1" and set(gone) == {"id", "name", "color", "colorHex"},
              gone)
        wait_for(lambda: s.api("GET", "/api/a1/labels")[1] == [], 30,
                 what="no labels at a1")

        # -- Wawp's /v2/labels forms: the instance names the session --------
        st, l2, _ = s.api("POST", "/v2/labels?instance_id=a2", {"name": "Wawp"})
        check(st == 201 and set(l2) == {"id", "name", "color", "colorHex"}
              and l2["name"] == "Wawp", (st, l2))
        lid = l2["id"]
        wait_for(lambda: events(rx, "a1", "label.upsert", lambda p: p == l2), 30,
                 what="the /v2 label at a1")
        # (the event and the stored label are written apart: wait for both)
        wait_for(lambda: s.api("GET", "/v2/labels?instance_id=a1")[:2] == (200, [l2]),
                 30, what="the /v2 label listed at a1")
        st, body, _ = s.api("PUT", "/v2/labels/chats/%s?instance_id=a2" % CHAT,
                            {"labels": [{"id": lid}]})
        check(st == 200 and body == [l2], (st, body))
        wait_for(lambda: events(rx, "a1", "label.chat.added",
                                lambda p: p["labelId"] == lid), 30,
                 what="the /v2 label on the chat at a1")
        wait_for(lambda: s.api("GET", "/v2/labels/chats/%s?instance_id=a1"
                               % CHAT)[:2] == (200, [l2]),
                 30, what="the chat's /v2 labels at a1")
        wait_for(lambda: (lambda r: r[0] == 200 and [c["id"] for c in r[1]] == [CHAT])(
            s.api("GET", "/v2/labels/%s/chats?instance_id=a1" % lid)),
                 30, what="the /v2 label's chats at a1")
        st, body, _ = s.api("PUT", "/v2/labels/%s?instance_id=a2" % lid,
                            {"name": "Wawp 2"})
        check(st == 200 and body["id"] == lid and body["name"] == "Wawp 2", (st, body))
        st, body, _ = s.api("DELETE", "/v2/labels/%s?instance_id=a2" % lid)
        check(st == 200 and body["id"] == lid, (st, body))
        wait_for(lambda: s.api("GET", "/api/a1/labels")[1] == [], 30,
                 what="the /v2 label deleted at a1")
        st, body, _ = s.api("GET", "/v2/labels")
        check(st == 400 and "instance_id" in body["message"], (st, body))

        # -- the phone acts (wa-sim): a1 and a2 see it --------------------------
        st, body = sim.ctl("POST", "/accounts/%s/app-state/actions" % A, {"actions": [
            {"index": ["archive", B + "@s.whatsapp.net"],
             "value": {"archived": True}, "timestamp": 1767000000000},
            {"index": ["label_edit", "7"], "value": {"name": "From phone", "color": 4}},
            {"index": ["label_jid", "7", B + "@s.whatsapp.net"],
             "value": {"labeled": True}},
            {"index": ["contact", B + "@s.whatsapp.net"],
             "value": {"fullName": "Bob Phone", "firstName": "Bob"}}]})
        check(st == 200, (st, body))
        check(sorted(p["collection"] for p in body["patches"])
              == ["critical_unblock_low", "regular", "regular_low"], body)
        for name in ("a1", "a2"):
            ev = wait_for(lambda: events(rx, name, "chat.archive",
                                         lambda p: p["timestamp"] == 1767000000),
                          30, what="the phone's chat.archive at %s" % name)
            check(ev == [{"id": CHAT, "archived": True, "timestamp": 1767000000}], ev)
            up = wait_for(lambda: events(rx, name, "label.upsert",
                                         lambda p: p["id"] == "7"),
                          30, what="the phone's label.upsert at %s" % name)
            check(len(up) == 1 and up[0]["name"] == "From phone"
                  and up[0]["color"] == 4
                  and set(up[0]) == {"id", "name", "color", "colorHex"}, up)
            added = wait_for(lambda: events(rx, name, "label.chat.added",
                                            lambda p: p["labelId"] == "7"),
                             30, what="the phone's label.chat.added at %s" % name)
            # the label made in the same patch is in the event
            check(added == [{"labelId": "7", "chatId": CHAT, "label": up[0]}],
                  added)
            st, labels, _ = s.api("GET", "/api/%s/labels" % name)
            check(st == 200 and labels == up, (st, labels))
            wait_chat(s, name, lambda c: c["archived"] is True,
                      "archived by the phone at %s" % name)
        # the contact's name from the phone is in contacts/all
        def renamed():
            st, body, _ = s.api("GET", "/api/a1/contacts/all")
            got = [c for c in body if c["id"] == CHAT] if st == 200 else []
            return got[0] if got and got[0]["name"] == "Bob Phone" else None
        bob = wait_for(renamed, 30, what="Bob Phone in contacts/all at a1")
        check(bob["number"] == B and bob["isMe"] is False, bob)
        # the push name set on the phone (setting_pushName) becomes the
        # sessions' me.pushName
        st, body = sim.ctl("POST", "/accounts/%s/app-state/actions" % A, {"actions": [
            {"index": ["setting_pushName"], "value": {"name": "Alice Renamed"}}]})
        check(st == 200 and body["patches"][0]["collection"] == "critical_block",
              (st, body))
        for name in ("a1", "a2"):
            me = wait_for(lambda: (lambda b: b["me"] if b.get("me", {}).get("pushName")
                                   == "Alice Renamed" else None)(
                s.api("GET", "/api/sessions/%s" % name)[1]), 30,
                what="the new push name at %s" % name)
            check(me["id"] == A + "@c.us", me)
        # a label the sessions do not know: the event says null
        st, body = sim.ctl("POST", "/accounts/%s/app-state/actions" % A, {"actions": [
            {"index": ["label_jid", "8", B + "@s.whatsapp.net"],
             "value": {"labeled": True}}]})
        check(st == 200, (st, body))
        for name in ("a1", "a2"):
            added = wait_for(lambda: events(rx, name, "label.chat.added",
                                            lambda p: p["labelId"] == "8"),
                             30, what="label.chat.added of label 8 at %s" % name)
            check(added == [{"labelId": "8", "chatId": CHAT, "label": None}], added)
        # bad phone actions and a phone with no key
        st, body = sim.ctl("POST", "/accounts/%s/app-state/actions" % A,
                           {"actions": [{"index": ["bogus"]}]})
        check(st == 400, (st, body))
        account(sim, "15550007099", "Nobody")
        st, body = sim.ctl("POST", "/accounts/15550007099/app-state/actions",
                           {"actions": [{"index": ["archive", CHAT]}]})
        check(st == 409, (st, body))

        # -- restart: resume from the stored versions -------------------------
        before = fetches(sim)
        versions = before["collections"]
        check(versions.get("regular_low", 0) >= 4 and versions.get("regular", 0) >= 4,
              versions)
        seen = len(before["fetches"])
        n_archive = len(hooks(rx, "a1", "chat.archive"))
        worker = s.proc("session-worker-0")
        worker.stop()
        s.start_worker(0)

        def resumed():
            new = fetches(sim)["fetches"][seen:]
            got = {}
            for f in new:
                got.setdefault((f["device"], f["collection"]), f["version"])
            return got if len(got) >= 10 else None
        first = wait_for(resumed, 30, what="login fetches after the restart")
        # Only now: a SIGTERM keeps the status, so before the new worker
        # claims the sessions they still read WORKING from before the
        # restart; after the login fetches the status is the new
        # worker's (STARTING until it writes WORKING)
        for name in ("a1", "a2"):
            s.wait_status(name, "WORKING", 30)
        for (dev, coll), version in first.items():
            check(version == versions.get(coll, 0), (dev, coll, version, versions))
        st, body, _ = s.api("POST", "/api/a1/chats/%s/archive" % CHAT)
        check(st == 201, (st, body))
        wait_for(lambda: len(hooks(rx, "a1", "chat.archive")) == n_archive + 1, 30,
                 what="one more chat.archive at a1")

        # -- delete for me (Wharf's forEveryone=false): a1 and the phone ------
        texts = {}
        for who, to, text in (("b", A, "one"), ("b", A, "two"), ("a1", B, "mine")):
            st, sent, _ = s.api("POST", "/api/sendText",
                                {"session": who, "chatId": to + "@c.us", "text": text})
            check(st == 201, (st, sent))
            texts[text] = sent["id"].split("_")[2]

        def bodies(name, chat=CHAT):
            st, msgs, _ = s.api("GET", "/api/%s/chats/%s/messages" % (name, chat))
            check(st == 200, (st, msgs))
            return {m["body"] for m in msgs}
        for name in ("a1", "a2"):
            wait_for(lambda: {"one", "two", "mine"} <= bodies(name), 30,
                     what="one, two and mine at %s" % name)
        one = "false_%s_%s" % (CHAT, texts["one"])
        mine = "true_%s_%s" % (CHAT, texts["mine"])
        st, body, _ = s.api("DELETE", "/api/a1/chats/%s/messages/%s?forEveryone=false"
                            % (CHAT, one))
        check(st == 200 and body == {"success": True}, (st, body))
        # our own message too (the store is told fromMe)
        st, body, _ = s.api("DELETE", "/v2/chats/%s/messages/%s?instance_id=a1"
                            "&forEveryone=false" % (CHAT, mine))
        check(st == 200 and body == {"success": True}, (st, body))
        for name in ("a1", "a2"):
            left = wait_for(lambda: (lambda b: b if not {"one", "mine"} & b else None)(
                bodies(name)), 30, what="one and mine deleted for me at %s" % name)
            check("two" in left, left)
        # for me only: B still has both
        check({"one", "mine"} <= bodies("b", A + "@c.us"), bodies("b", A + "@c.us"))
        # the phone deletes "two" for me
        st, body = sim.ctl("POST", "/accounts/%s/app-state/actions" % A, {"actions": [
            {"index": ["deleteMessageForMe", B + "@s.whatsapp.net", texts["two"],
                       "0", "0"], "value": {"deleteMedia": False}}]})
        check(st == 200 and body["patches"][0]["collection"] == "regular_high",
              (st, body))
        for name in ("a1", "a2"):
            wait_for(lambda: "two" not in bodies(name), 30,
                     what="two deleted by the phone at %s" % name)
        st, body, _ = s.api("DELETE", "/api/a1/chats/%s/messages/%s?forEveryone=maybe"
                            % (CHAT, one))
        check(st == 400 and "forEveryone" in str(body["message"]), (st, body))
        st, body, _ = s.api("DELETE", "/api/a1/chats/%s/messages/%s?forEveryone=false"
                            % (CHAT, one))
        check(st == 404 and "not found" in str(body["message"]), (st, body))

        # -- contact upsert and clear chat: a1 -> a2 ---------------------------
        # (before the tamper below: clearChat rides regular_high)
        st, body, _ = s.api("PUT", "/api/a1/contacts/%s" % CHAT,
                            {"firstName": "Robert", "lastName": "Builder"})
        check(st == 200, (st, body))

        def named():
            st, body, _ = s.api("GET", "/api/a2/contacts/all")
            got = [c for c in body if c["id"] == CHAT] if st == 200 else []
            return got[0] if got and got[0]["name"] == "Robert Builder" else None
        wait_for(named, 30, what="the address-book name from a1 at a2")
        st, body, _ = s.api("PUT", "/api/a1/contacts/%s" % CHAT, {"lastName": "x"})
        check(st == 400 and "firstName" in str(body["message"]), (st, body))
        # Wawp's form: the instance names the session
        st, body, _ = s.api("PUT", "/v2/contacts/%s?instance_id=a1" % CHAT,
                            {"firstName": "Bob", "lastName": "Wawp"})
        check(st == 200 and body == {"success": True}, (st, body))
        wait_for(lambda: [c for c in s.api("GET", "/api/a2/contacts/all")[1]
                          if c["id"] == CHAT and c["name"] == "Bob Wawp"],
                 30, what="the name set through /v2 at a2")
        check(s.api("GET", "/api/a2/chats/%s/messages" % CHAT)[1], "a2 has messages")
        st, body, _ = s.api("DELETE", "/api/a1/chats/%s/messages" % CHAT)
        check(st == 200, (st, body))
        for name in ("a1", "a2"):
            wait_for(lambda: s.api("GET", "/api/%s/chats/%s/messages"
                                   % (name, CHAT))[1] == [], 30,
                     what="the chat cleared at %s" % name)
        # a1 deletes the group's chat: gone at both
        check(chat_of(s, "a2", gid), "the group at a2")
        st, body, _ = s.api("DELETE", "/api/a1/chats/%s" % gid)
        check(st == 200, (st, body))
        for name in ("a1", "a2"):
            wait_for(lambda: chat_of(s, name, gid) is None, 30,
                     what="the group's chat deleted at %s" % name)
        check(chat_of(s, "a2"), "Bob's chat stays")

        # -- a tampered patch is refused --------------------------------------
        v_high = fetches(sim)["collections"]["regular_high"]
        seen = len(fetches(sim)["fetches"])
        st, body = sim.ctl("POST", "/accounts/%s/app-state/regular_high/tamper" % A)
        check(st == 200, (st, body))

        def refused():
            text = s.proc("session-worker-0").text()
            return text.count('msg="app-state patch refused"') >= 2
        wait_for(refused, 30, what="both devices refuse the tampered patch")
        # they stay on the version before it and ask from it again later
        new = [f for f in fetches(sim)["fetches"][seen:]
               if f["collection"] == "regular_high"]
        check(new and all(f["version"] == v_high for f in new), new)
        c = chat_of(s, "a2")
        check(c["pinned"] and c["isMuted"], c)
        # the session goes on working
        st, body, _ = s.api("POST", "/api/a1/chats/%s/unarchive" % CHAT)
        check(st == 201, (st, body))


if __name__ == "__main__":
    run([test_appstate])
