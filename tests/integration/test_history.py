"""test_history - history sync through the full stack with wa-sim.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Account A's phone (wa-sim) is seeded with its history: a chat with Bob
(archived, named, 7 texts over the last hours plus one from 200 days
ago, ours and his, with message statuses), a group, a chat with Carol
(pinned, muted for ever, marked unread; a picture and a document whose
file has expired), push names, and four broken
notifications (a blob not on the media host until asked for again, one
with a flipped byte, one that is no zlib stream, one that is no
HistorySync). Three Wharf
sessions are linked to A, one after the other, with different store
settings; on each link the phone sends its history (INITIAL_BOOTSTRAP
with the newest 5 messages of each chat, RECENT with the older ones,
PUSH_NAME) through the media host, one chunk at a time: the next
once the session sent <receipt type="hist_sync"> for the last; and:
- "a" (default settings): GET /chats shows the three chats with their
  names and flags, GET .../messages the 7 recent texts field by field
  (the 200-day-old one is not kept without fullSync), Carol's picture
  downloaded as live media is (media.url serves its bytes) and the
  expired document with media.error, no message
  webhook fires for history, the gone blob is asked for again with the
  server-error receipt a real companion sends (the phone uploads it and
  sends the notification again), each other broken blob is logged as
  skipped and the session stays WORKING and sends;
- "f" (noweb.store.fullSync true): pairs with DeviceProps.requireFullSync,
  so the phone adds a FULL chunk with the old text, which f keeps (a and
  n never get it);
- "n" (noweb.store.enabled false): no history stored;
- app state wins: the phone changes chat flags through app state, then
  sends its history (the older snapshot) again: the flags stay as app
  state set them.
"""
import base64
import os
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from harness import Receiver, check, run, wait_for  # noqa: E402
from engine_util import account, api_ready, hooks, link_qr, stack  # noqa: E402
from wasim import WaSim  # noqa: E402

A = "15550008001"
B = "15550008002"
C = "15550008003"
BOB = B + "@c.us"
CAROL = C + "@c.us"
GROUP = "120363000000008001@g.us"
EVENTS = ["session.status", "message", "message.any"]
TMP = tempfile.mkdtemp(prefix="wharf-history-")
CERT = os.path.join(TMP, "media.crt")
NOW = int(time.time())
OLD = NOW - 200 * 86400
# A tiny valid JPEG (a picture in Carol's chat)
TINY_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0a"
    "HBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAA"
    "AAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q==")


def seed():
    bob = [{"id": "HOLD", "text": "from long ago", "timestamp": OLD}]
    for i in range(7):
        mine = i % 2 == 1
        m = {"id": "HBOB%d" % i, "text": "bob %d" % i,
             "timestamp": NOW - 3600 * (8 - i), "fromMe": mine,
             "starred": i == 2}
        if mine:
            m["status"] = 4  # READ
        else:
            m["pushName"] = "Bobby"
        bob.append(m)
    return {
        "chats": [
            {"id": BOB, "name": "Bob", "archived": True, "unreadCount": 2,
             "messages": bob},
            {"id": GROUP, "name": "Old friends",
             "messages": [{"id": "HGRP1", "text": "hello group",
                           "timestamp": NOW - 600, "participant": CAROL,
                           "pushName": "Carol"}]},
            {"id": CAROL, "pinned": True, "muteEndTime": -1, "markedUnread": True,
             "messages": [
                 {"id": "HCARDOC", "timestamp": NOW - 1200,
                  "media": {"kind": "document", "mimetype": "application/pdf",
                            "filename": "old.pdf", "expired": True,
                            "data": base64.b64encode(b"%PDF-1.4 gone").decode()}},
                 {"id": "HCARIMG", "timestamp": NOW - 900, "pushName": "Carol",
                  "media": {"kind": "image", "mimetype": "image/jpeg",
                            "caption": "the view",
                            "data": base64.b64encode(TINY_JPEG).decode()}},
                 {"id": "HCAR1", "text": "hi from carol", "timestamp": NOW - 300}]},
        ],
        "contacts": [{"id": BOB, "pushName": "Bobby"},
                     {"id": CAROL, "pushName": "Carol"}],
        "corrupt": ["download", "mac", "zlib", "proto"],
    }


def create(s, name, rx, store=None):
    config = {"webhooks": [{"url": rx.url + "/" + name, "events": EVENTS}]}
    if store is not None:
        config["noweb"] = {"store": store}
    st, body, _ = s.api("POST", "/api/sessions",
                        {"name": name, "start": True, "config": config})
    check(st == 201, (st, body))


def chats(s, name):
    st, body, _ = s.api("GET", "/api/%s/chats" % name)
    check(st == 200, (st, body))
    return {c["id"]: c for c in body}


def messages(s, name, chat):
    st, body, _ = s.api("GET", "/api/%s/chats/%s/messages?limit=100" % (name, chat))
    check(st == 200, (st, body))
    return body


def test_history():
    with WaSim("--media-cert", CERT) as sim, \
            stack(sim, MEDIA_CA_FILE=CERT) as s, Receiver() as rx:
        account(sim, A, "Alice")
        account(sim, B, "Bob")
        account(sim, C, "Carol")
        st, body = sim.ctl("PUT", "/accounts/%s/history" % A, seed())
        check(st == 200 and body == {"chats": 3, "messages": 12, "contacts": 2},
              (st, body))
        # bad seeds are refused
        st, body = sim.ctl("PUT", "/accounts/%s/history" % A, {"chats": [{"id": "x y"}]})
        check(st == 400, (st, body))
        st, body = sim.ctl("PUT", "/accounts/%s/history" % A, seed())
        check(st == 200, (st, body))

        # -- a: default store settings ------------------------------------
        create(s, "a", rx)
        link_qr(s, sim, "a", A)
        got = wait_for(lambda: (lambda c: c if len(c) == 3 else None)(chats(s, "a")),
                       60, what="the history's chats at a")
        bob, grp, carol = got[BOB], got[GROUP], got[CAROL]
        check(bob["name"] == "Bob" and bob["archived"] is True
              and bob["pinned"] is False and bob["isMuted"] is False
              and bob["unreadCount"] == 2, bob)
        check(bob["conversationTimestamp"] == NOW - 7200, bob)
        check(grp["name"] == "Old friends" and grp["archived"] is False, grp)
        check(carol["name"] is None and carol["pinned"] is True
              and carol["isMuted"] is True and carol["muteExpiration"] == -1
              and carol["unreadCount"] == -1, carol)
        check(carol["lastMessage"]["body"] == "hi from carol", carol)

        # Bob's 7 recent texts (RECENT brought the older two), newest
        # first; the 200-day-old one is not kept
        msgs = wait_for(lambda: (lambda m: m if len(m) == 7 else None)(
            messages(s, "a", BOB)), 60, what="Bob's 7 messages at a")
        check([m["body"] for m in msgs] == ["bob %d" % i for i in range(6, -1, -1)],
              [m["body"] for m in msgs])
        for m in msgs:
            i = int(m["body"].split()[1])
            mine = i % 2 == 1
            check(m["id"] == "%s_%s_HBOB%d" % ("true" if mine else "false", BOB, i), m)
            check(m["fromMe"] is mine and m["timestamp"] == NOW - 3600 * (8 - i), m)
            check(m["hasMedia"] is False and m["media"] is None, m)
            if mine:
                check(m["from"] == A + "@c.us" and m["to"] == BOB, m)
                check(m["ack"] == 3 and m["ackName"] == "READ", m)
                check(m["source"] == "app", m)
            else:
                check(m["from"] == BOB and m["to"] == A + "@c.us", m)
                check(m["ack"] == 2 and m["ackName"] == "DEVICE", m)
                check(m["_data"]["pushName"] == "Bobby", m)
            # a starred message shows it (from the history's star)
            check(m["_data"].get("starred") is (True if i == 2 else None), m)
        gm = messages(s, "a", GROUP)
        check(len(gm) == 1, gm)
        check(gm[0]["id"] == "false_%s_HGRP1_%s" % (GROUP, CAROL)
              and gm[0]["participant"] == CAROL and gm[0]["body"] == "hello group",
              gm[0])

        # media from history is downloaded as live media is: the picture
        # with its url (the file as the phone had it), the expired
        # document with the reason instead
        def carol_media():
            got = {m["id"]: m for m in messages(s, "a", CAROL)}
            img = got.get("false_%s_HCARIMG" % CAROL)
            return got if img and img["media"] and img["media"].get("url") else None
        got = wait_for(carol_media, 60, what="the history's picture downloaded at a")
        img, doc = got["false_%s_HCARIMG" % CAROL], got["false_%s_HCARDOC" % CAROL]
        check(img["hasMedia"] is True and img["body"] == "the view"
              and img["from"] == CAROL and img["fromMe"] is False, img)
        check(set(img["media"]) == {"url", "mimetype"}
              and img["media"]["mimetype"] == "image/jpeg"
              and img["mediaUrl"] == img["media"]["url"], img)
        u = urllib.parse.urlparse(img["media"]["url"])
        check(u.path == "/api/files/a/false_%s_HCARIMG.jpeg" % CAROL, u)
        st, raw, _ = s.raw("GET", u.path, headers={"X-Api-Key": s.api_key})
        check(st == 200 and raw == TINY_JPEG, (st, raw[:16]))
        check(doc["hasMedia"] is True and "url" not in doc["media"]
              and doc["media"]["mimetype"] == "application/pdf"
              and doc["media"]["filename"] == "old.pdf"
              and doc["media"]["error"]["message"], doc)

        # contacts/all: the chats' people with the history's push names
        def contacts():
            st, body, _ = s.api("GET", "/api/a/contacts/all")
            check(st == 200, (st, body))
            got = {c["id"]: c for c in body}
            return got if BOB in got and got[BOB]["pushname"] == "Bobby" else None
        book = wait_for(contacts, 30, what="push names in contacts/all")
        check(book[BOB]["name"] == "Bob" and book[BOB]["number"] == B
              and book[BOB]["isMe"] is False, book[BOB])
        check(book[CAROL]["pushname"] == "Carol" and book[CAROL]["name"] is None,
              book[CAROL])

        # history is no live traffic: no message webhooks for it
        check(not [e for e in hooks(rx, "a") if e["event"] in ("message", "message.any")],
              hooks(rx, "a"))

        # the blob gone from the media host was asked for again with the
        # server-error receipt (the phone uploaded it and sent it again);
        # the three that do not open were logged and skipped
        def skipped():
            text = s.proc("session-worker-0").text()
            return text.count('msg="history blob skipped"') >= 3 and text
        text = wait_for(skipped, 60, what="three skipped history blobs")
        for why in ("422", "zlib", "not a HistorySync"):
            check(why in text, why)
        check('msg="history blob gone: asked the phone to upload it again"'
              in text and "st=410" in text, "server-error retry")
        check('msg="history stored"' in text, "history stored")
        # the phone sends one chunk at a time, the next after the
        # companion's <receipt type="hist_sync"> for it: a confirmed all 7
        # (the broken ones too); the gone one went twice: first answered
        # with <receipt type="server-error"> (its payload opened with the
        # blob's media key), then confirmed; nothing else
        def confirmed(totals, errors):
            st, body = sim.ctl("GET", "/accounts/%s/history" % A)
            check(st == 200 and body["seeded"] is True, (st, body))
            devs = sorted(body["devices"], key=lambda d: d["device"])
            return devs if [d["sent"] for d in devs] == totals and [
                d["serverErrors"] for d in devs] == errors and all(
                d["receipts"] == d["sent"] - d["serverErrors"]
                and d["pending"] == 0 for d in devs) else None
        devs = wait_for(lambda: confirmed([8], [1]), 60,
                        what="7 hist_sync receipts and 1 server-error from a")
        check(devs[0]["unexpected"] == 0, devs)
        # ... and the session works on
        st, sess, _ = s.api("GET", "/api/sessions/a")
        check(st == 200 and sess["status"] == "WORKING", (st, sess))
        st, sent, _ = api_ready(s, "POST", "/api/sendText",
                                {"session": "a", "chatId": BOB, "text": "after"})
        check(st == 201, (st, sent))

        # -- f: fullSync asks the phone for everything and keeps it ----------
        # (DeviceProps.requireFullSync at pairing: the phone adds a FULL
        # chunk with what is older than its 90 days, which a and n never
        # get)
        create(s, "f", rx, {"enabled": True, "fullSync": True})
        link_qr(s, sim, "f", A)
        st, body = sim.ctl("GET", "/accounts/%s/devices" % A)
        check(st == 200, (st, body))
        companions = sorted((d for d in body["devices"] if d["id"] != 0),
                            key=lambda d: d["id"])
        check([d["fullSync"] for d in companions] == [False, True], companions)
        msgs = wait_for(lambda: (lambda m: m if len(m) == 8 else None)(
            messages(s, "f", BOB)), 60, what="Bob's 8 messages at f")
        check(msgs[-1]["id"] == "false_%s_HOLD" % BOB
              and msgs[-1]["body"] == "from long ago"
              and msgs[-1]["timestamp"] == OLD, msgs[-1])

        # -- n: store disabled: nothing from history ------------------------
        create(s, "n", rx, {"enabled": False})
        link_qr(s, sim, "n", A)

        def dropped():
            text = s.proc("session-worker-0").text()
            return text.count("history not stored") >= 3
        wait_for(dropped, 60, what="history dropped at n")
        check(chats(s, "n") == {}, chats(s, "n"))
        # f and n confirmed their chunks too, dropped ones included
        # (n stores nothing, so downloads nothing: hist_sync for each)
        devs = wait_for(lambda: confirmed([8, 9, 7], [1, 1, 0]), 60,
                        what="hist_sync receipts of f, n")
        check(all(d["unexpected"] == 0 for d in devs), devs)

        # -- app state wins over history that arrives after it ---------------
        # The phone unarchives Bob and unpins, unmutes and reads Carol
        # through app state; then its history (the same snapshot, Bob
        # archived, Carol pinned, muted and marked unread, one newer text
        # from Bob) comes again: the flags stay as app state set them.
        st, body = sim.ctl("POST", "/accounts/%s/app-state/actions" % A, {"actions": [
            {"index": ["archive", B + "@s.whatsapp.net"], "value": {"archived": False}},
            {"index": ["pin_v1", C + "@s.whatsapp.net"], "value": {"pinned": False}},
            {"index": ["mute", C + "@s.whatsapp.net"], "value": {"muted": False}},
            {"index": ["markChatAsRead", C + "@s.whatsapp.net"],
             "value": {"read": True}}]})
        check(st == 200, (st, body))

        def by_app_state(name):
            got = chats(s, name)
            bob, carol = got.get(BOB), got.get(CAROL)
            return got if bob and carol and bob["archived"] is False \
                and carol["pinned"] is False and carol["isMuted"] is False \
                and carol["unreadCount"] == 0 else None
        for name in ("a", "f"):
            wait_for(lambda: by_app_state(name), 30,
                     what="the phone's app state at %s" % name)
        again = seed()
        del again["corrupt"]
        again["chats"][0]["messages"].append(
            {"id": "HBOB7", "text": "bob 7", "timestamp": NOW - 60})
        st, body = sim.ctl("PUT", "/accounts/%s/history" % A, again)
        check(st == 200, (st, body))
        st, body = sim.ctl("POST", "/accounts/%s/history/send" % A)
        check(st == 200 and body == {"companions": 3}, (st, body))
        # without the broken ones: 3 more chunks each
        wait_for(lambda: confirmed([11, 13, 10], [1, 1, 0]), 60,
                 what="the history confirmed again")
        for name in ("a", "f"):
            # the new text comes in the same transaction as the flags
            wait_for(lambda: [m for m in messages(s, name, BOB) if m["body"] == "bob 7"],
                     60, what="the history sent again at %s" % name)
            got = chats(s, name)
            bob, carol = got[BOB], got[CAROL]
            check(bob["archived"] is False and bob["unreadCount"] == 2
                  and bob["name"] == "Bob", bob)
            check(carol["pinned"] is False and carol["isMuted"] is False
                  and carol["muteExpiration"] == 0 and carol["unreadCount"] == 0,
                  carol)
        # a phone with no history seeded has none to send
        st, body = sim.ctl("POST", "/accounts/%s/history/send" % B)
        check(st == 409, (st, body))


if __name__ == "__main__":
    run([test_history])
