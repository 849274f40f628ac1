"""test_engine_chats - messages and chats are kept, and read back through
the API, through the full stack with wa-sim.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Two sessions exchange texts; then:
- GET /api/{s}/chats lists the chat with its last message time;
- GET /api/{s}/chats/{chatId}/messages returns the WAMessages newest
  first, with the ack raised by the receipts (READ after sendSeen),
  filter.fromMe, filter.timestamp.gte/lte, filter.ack, sortOrder, limit
  and offset;
- /v2/chats and /v2/chats/{chatId}/messages give the same;
- the rows live in PostgreSQL: after store-service restarts they are
  still there;
- bad input (sortBy, limit, chatId, unknown session) gets a 400/404.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import Receiver, check, run, wait_for  # noqa: E402
from engine_util import hooks, linked, stack  # noqa: E402
from wasim import WaSim  # noqa: E402


def messages(s, session, chat, query=""):
    st, body, _ = s.api("GET", "/api/%s/chats/%s/messages%s" % (session, chat, query))
    check(st == 200 and isinstance(body, list), (st, body))
    return body


def test_chats_and_messages_are_kept():
    with WaSim() as sim, stack(sim) as s, Receiver() as rx:
        linked(s, sim, rx, [("a", "15550004444", "Alice"), ("b", "15550005555", "Bob")])

        st, m1, _ = s.api("POST", "/api/sendText",
                          {"session": "a", "chatId": "15550005555@c.us", "text": "one"})
        check(st == 201, (st, m1))
        got = wait_for(lambda: [e for e in hooks(rx, "b", "message")
                                if e["payload"]["body"] == "one"], 20, what="one at b")
        received = got[0]["payload"]
        st, m2, _ = s.api("POST", "/api/sendText",
                          {"session": "b", "chatId": "15550004444@c.us", "text": "two"})
        check(st == 201, (st, m2))
        wait_for(lambda: [e for e in hooks(rx, "a", "message")
                          if e["payload"]["body"] == "two"], 20, what="two at a")
        # b reads a's message: a's copy reaches READ
        st, body, _ = s.api("POST", "/api/sendSeen",
                            {"session": "b", "chatId": "15550004444@c.us",
                             "messageIds": [received["id"]]})
        check(st == 201, (st, body))

        # a's chat list and messages
        def a_msgs():
            ms = messages(s, "a", "15550005555@c.us")
            return ms if len(ms) == 2 and ms[1].get("ackName") == "READ" else None
        ms = wait_for(a_msgs, 20, what="a's two messages, the first READ")
        check([m["body"] for m in ms] == ["two", "one"], ms)
        check(ms[0]["fromMe"] is False and ms[0]["from"] == "15550005555@c.us", ms[0])
        check(ms[1]["id"] == m1["id"] and ms[1]["fromMe"] is True and ms[1]["ack"] == 3,
              ms[1])
        st, chats, _ = s.api("GET", "/api/a/chats")
        check(st == 200 and [c["id"] for c in chats] == ["15550005555@c.us"], (st, chats))
        check(chats[0]["conversationTimestamp"] >= m1["timestamp"], chats)

        # filters and pages
        mine = messages(s, "a", "15550005555@c.us", "?filter.fromMe=true")
        check([m["body"] for m in mine] == ["one"], mine)
        theirs = messages(s, "a", "15550005555@c.us", "?filter.fromMe=false")
        check([m["body"] for m in theirs] == ["two"], theirs)
        page = messages(s, "a", "15550005555@c.us", "?limit=1&offset=1")
        check([m["body"] for m in page] == ["one"], page)
        # sort order, time bounds (seconds) and ack level
        chat = "15550005555@c.us"
        asc = messages(s, "a", chat, "?sortOrder=asc")
        check([m["body"] for m in asc] == ["one", "two"], asc)
        check([m["body"] for m in messages(s, "a", chat, "?sortBy=messageTimestamp&sortOrder=DESC")]
              == ["two", "one"], "sortOrder=DESC")
        t1, t2 = ms[1]["timestamp"], ms[0]["timestamp"]
        both = messages(s, "a", chat, "?filter.timestamp.gte=%d&filter.timestamp.lte=%d"
                        % (t1, t2))
        check([m["body"] for m in both] == ["two", "one"], both)
        check(messages(s, "a", chat, "?filter.timestamp.gte=%d" % (t2 + 1)) == [], "gte")
        check(messages(s, "a", chat, "?filter.timestamp.lte=%d" % (t1 - 1)) == [], "lte")
        read = messages(s, "a", chat, "?filter.ack=READ")
        check([m["id"] for m in read] == [m1["id"]], read)
        check(messages(s, "a", chat, "?filter.ack=3") == read, "filter.ack=3")
        check(messages(s, "a", chat, "?filter.ack=PLAYED") == [], "filter.ack=PLAYED")
        for q, field in (("sortOrder=up", "sortOrder"), ("sortBy=body", "sortBy"),
                         ("filter.ack=SEEN", "filter.ack"),
                         ("filter.timestamp.gte=-5", "filter.timestamp.gte"),
                         ("filter.timestamp.lte=x", "filter.timestamp.lte")):
            st, body, _ = s.api("GET", "/api/a/chats/%s/messages?%s" % (chat, q))
            check(st == 400 and field in str(body["message"]), (q, st, body))
        # a bare number names the same chat
        check(len(messages(s, "a", "15550005555")) == 2, "bare number")
        check(messages(s, "a", "15550009999@c.us") == [], "other chat is empty")

        # Wawp
        st, v2, _ = s.api("GET", "/v2/chats?instance_id=b")
        check(st == 200 and [c["id"] for c in v2] == ["15550004444@c.us"], (st, v2))
        st, v2m, _ = s.api("GET", "/v2/chats/15550004444@c.us/messages?instance_id=b")
        check(st == 200 and [m["body"] for m in v2m] == ["two", "one"], (st, v2m))

        # kept in PostgreSQL: a store-service restart changes nothing
        store = s.proc("store-service")
        store.stop()
        store.start()

        def after_restart():
            st, body, _ = s.api("GET", "/api/a/chats/15550005555@c.us/messages")
            return body if st == 200 else None
        ms2 = wait_for(after_restart, 30, what="messages after a store restart")
        check([m["id"] for m in ms2] == [m["id"] for m in ms], ms2)

        # Bad input
        st, body, _ = s.api("GET", "/api/a/chats?sortBy=unread")
        check(st == 400 and "sortBy" in str(body["message"]), (st, body))
        st, body, _ = s.api("GET", "/api/a/chats?limit=0")
        check(st == 400 and "limit" in str(body["message"]), (st, body))
        st, body, _ = s.api("GET", "/api/a/chats/not-a-chat/messages")
        check(st == 400 and "chatId" in str(body["message"]), (st, body))
        st, body, _ = s.api("GET", "/api/a/chats/15550005555/messages?filter.fromMe=x")
        check(st == 400 and "filter.fromMe" in str(body["message"]), (st, body))
        st, body, _ = s.api("GET", "/api/zz/chats")
        check(st == 404, (st, body))


if __name__ == "__main__":
    run([test_chats_and_messages_are_kept])
