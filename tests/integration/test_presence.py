"""test_presence - presence, chat states and receipts events through the
full stack, with wa-sim as the WhatsApp server.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Everything real (PostgreSQL, the five services, wa-sim over the wire
protocol). One stack, sessions a (Alice) and b (Bob), and Carol, a
phone-only wa-sim account driven through its control API:
- bad input: an unknown presence, typing without chatId, a malformed
  chatId (body and path), startTyping without chatId: 400 naming the
  field, nothing sent;
- a subscribes to b (GET /api/a/presence/{b}: WAHAChatPresences); b goes
  offline and online (POST /api/b/presence): a's presence.update carries
  {id, presences:[{participant, lastKnownPresence, lastSeen}]} in WAHA's
  words (offline with lastSeen, online with null); b types, pauses and
  records (/api/startTyping, /api/stopTyping, /api/startRecording,
  /v2/send/start-typing, POST presence typing): a sees typing, paused,
  recording; the stanzas wa-sim relayed are <chatstate><composing/>,
  <paused/>, <composing media="audio"/>; GET /api/a/presence and the
  Wawp form list the last known;
- Carol's phone goes online, offline (last seen), types: a, subscribed
  through POST /api/a/presence/{c}/subscribe, gets each presence.update;
- group receipts: a writes in a group with b; b's delivery and read
  receipts reach a as message.ack.group (per participant, WAHA's ack
  payload), not as message.ack;
- sendSeen without ids after the worker restarted: b gets READ for the
  messages a had not read (the store keeps which are unread; the worker's
  memory is gone); POST /api/a/chats/{b}/messages/read answers {ids} of
  what it read, nothing twice; bad paging and chat ids are 400s;
- message.waiting: Carol's phone sends a message a cannot decrypt: a
  emits message.waiting (a WAMessage with the id) once and still sends
  the retry receipt (wa-sim's stanza log);
- engine.event: b's webhook that names it gets raw stanzas; a's webhook
  with "*" never does.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from engine_util import account, link_qr, stack  # noqa: E402
from harness import Receiver, check, run, wait_for  # noqa: E402
from wasim import WaSim  # noqa: E402

A, B, C = "15550001111", "15550002222", "15550003333"
EVENTS = ["session.status", "message", "message.any", "message.ack",
          "message.ack.group", "message.waiting", "presence.update"]


def cus(phone):
    return phone + "@c.us"


def hooks(rx, path, event):
    """Webhook bodies of `event` posted to rx.url + "/" + path."""
    with rx.lock:
        reqs = [r for r in rx.requests if r["path"] == "/hook/" + path]
    import json
    out = [json.loads(r["body"]) for r in reqs]
    return [e for e in out if e.get("event") == event]


def presences(rx, path, chat):
    return [e["payload"] for e in hooks(rx, path, "presence.update")
            if e["payload"]["id"] == chat]


def wait_presence(rx, path, chat, state, after=0):
    """The first presence.update of chat with lastKnownPresence `state`
    after the first `after` updates of chat."""
    def probe():
        got = [p for p in presences(rx, path, chat)[after:]
               if p["presences"][0]["lastKnownPresence"] == state]
        return got[0] if got else None
    return wait_for(probe, 20, what="%s: %s %s" % (path, chat, state))


def check_presence(p, chat, participant, state):
    """A WAHAChatPresences payload, field by field."""
    check(set(p) == {"id", "presences"} and p["id"] == chat, p)
    check(isinstance(p["presences"], list) and len(p["presences"]) == 1, p)
    one = p["presences"][0]
    check(set(one) == {"participant", "lastKnownPresence", "lastSeen"}, one)
    check(one["participant"] == participant and one["lastKnownPresence"] == state, one)
    if state == "offline":
        check(isinstance(one["lastSeen"], int) and one["lastSeen"] > 1600000000, one)
    else:
        check(one["lastSeen"] is None, one)


def relayed(sim, phone, tag):
    """Stanzas with `tag` wa-sim sent to phone's devices (its log)."""
    st, log = sim.ctl("GET", "/stanzas?jid=%s&limit=10000" % phone)
    check(st == 200, log)
    return [x for x in log["stanzas"] if x["dir"] == "out" and x["tag"] == tag]


def create(s, name, hooks_):
    st, body, _ = s.api("POST", "/api/sessions", {
        "name": name, "start": True, "config": {"webhooks": hooks_}})
    check(st == 201, (st, body))


def message(res):
    """The text of a WAHA error body (its message may be a list)."""
    m = res.get("message", "") if isinstance(res, dict) else ""
    return " ".join(m) if isinstance(m, list) else m


def test_bad_input(s):
    for body, field in [({"presence": "dancing"}, "presence must be one of"),
                        ({}, "presence is required"),
                        ({"presence": "typing"}, "chatId is required"),
                        ({"presence": "online", "chatId": "abc@"}, "chatId must be"),
                        ({"presence": "typing", "chatId": "12@c.us"}, "chatId must be"),
                        ({"presence": 5}, "presence must be one of")]:
        st, res, _ = s.api("POST", "/api/a/presence", body)
        check(st == 400 and field in message(res), (body, st, res))
    for path in ["/api/a/presence/not-a-chat", "/api/a/presence/123@x.y"]:
        st, res, _ = s.api("GET", path)
        check(st == 400 and "chatId must be" in message(res), (path, st, res))
    st, res, _ = s.api("POST", "/api/a/presence/abc/subscribe")
    check(st == 400 and "chatId must be" in message(res), (st, res))
    st, res, _ = s.api("POST", "/api/startTyping", {"session": "a"})
    check(st == 400 and "chatId is required" in message(res), (st, res))
    st, res, _ = s.api("POST", "/api/startTyping", {"session": "a", "chatId": "x@y"})
    check(st == 400 and "chatId must be" in message(res), (st, res))
    st, res, _ = s.api("POST", "/v2/presence?instance_id=a", {"presence": "away"})
    check(st == 400, (st, res))
    # Unknown session: 404; nothing left for WhatsApp
    st, res, _ = s.api("POST", "/api/nosuch/presence", {"presence": "online"})
    check(st == 404, (st, res))


def test_presence_between_sessions(s, sim, rx):
    # a subscribes: answered with the last known (possibly none yet)
    st, p, _ = s.api("GET", "/api/a/presence/%s" % cus(B))
    check(st == 200 and p["id"] == cus(B) and isinstance(p["presences"], list), (st, p))
    # The server answers the subscription with b's presence: online
    wait_presence(rx, "a", cus(B), "online")
    n = len(presences(rx, "a", cus(B)))
    st, res, _ = s.api("POST", "/api/b/presence", {"presence": "offline"})
    check(st == 201, (st, res))
    check_presence(wait_presence(rx, "a", cus(B), "offline", n), cus(B), cus(B), "offline")
    n = len(presences(rx, "a", cus(B)))
    st, res, _ = s.api("POST", "/api/b/presence", {"presence": "online"})
    check(st == 201, (st, res))
    check_presence(wait_presence(rx, "a", cus(B), "online", n), cus(B), cus(B), "online")
    # Chat states: typing, paused, recording, typing (Wawp), paused
    steps = [("/api/startTyping", {"session": "b", "chatId": A}, "typing", 201),
             ("/api/stopTyping", {"session": "b", "chatId": cus(A)}, "paused", 201),
             ("/api/startRecording", {"session": "b", "chatId": cus(A)}, "recording", 201),
             ("/v2/send/start-typing?instance_id=b", {"chatId": cus(A)}, "typing", 200),
             ("/api/b/presence", {"presence": "paused", "chatId": cus(A)}, "paused", 201)]
    for path, body, state, code in steps:
        n = len(presences(rx, "a", cus(B)))
        st, res, _ = s.api("POST", path, body)
        check(st == code, (path, st, res))
        if path.endswith("Typing") or "typing" in path:
            check(res == {"result": True}, (path, res))
        check_presence(wait_presence(rx, "a", cus(B), state, n), cus(B), cus(B), state)
    # What wa-sim relayed to a's device: WhatsApp's chat state stanzas
    kinds = [x["child"] for x in relayed(sim, A, "chatstate")]
    check(kinds[:5] == ["composing", "paused", "composing", "composing", "paused"], kinds)
    # The last known, all chats and one chat, WAHA and Wawp
    st, all_, _ = s.api("GET", "/api/a/presence")
    check(st == 200 and isinstance(all_, list), (st, all_))
    mine = [c for c in all_ if c["id"] == cus(B)]
    check(len(mine) == 1, all_)
    check_presence(mine[0], cus(B), cus(B), "paused")
    st, one, _ = s.api("GET", "/v2/presence/%s?instance_id=a" % cus(B))
    check(st == 200, (st, one))
    check_presence(one, cus(B), cus(B), "paused")
    # (each GET of one chat subscribes again: the server answers with the
    # current presence, online, which becomes the last known)
    st, w, _ = s.api("GET", "/v2/presence?instance_id=a")
    check(st == 200 and [c["id"] for c in w] == [c["id"] for c in all_], (st, w))


def test_phone_presence(s, sim, rx):
    st, res, _ = s.api("POST", "/api/a/presence/%s/subscribe" % cus(C))
    check(st == 201 and res == {}, (st, res))
    # Never online: offline with a last seen
    check_presence(wait_presence(rx, "a", cus(C), "offline"), cus(C), cus(C), "offline")
    n = len(presences(rx, "a", cus(C)))
    st, res = sim.ctl("POST", "/accounts/%s/presence" % C, {"presence": "available"})
    check(st == 200, (st, res))
    check_presence(wait_presence(rx, "a", cus(C), "online", n), cus(C), cus(C), "online")
    n = len(presences(rx, "a", cus(C)))
    st, res = sim.ctl("POST", "/accounts/%s/chatstate" % C,
                      {"to": cus(A), "state": "composing"})
    check(st == 200, (st, res))
    check_presence(wait_presence(rx, "a", cus(C), "typing", n), cus(C), cus(C), "typing")
    n = len(presences(rx, "a", cus(C)))
    st, res = sim.ctl("POST", "/accounts/%s/presence" % C, {"presence": "unavailable"})
    check(st == 200, (st, res))
    p = wait_presence(rx, "a", cus(C), "offline", n)
    check_presence(p, cus(C), cus(C), "offline")
    # wa-sim's control API checks its input too
    st, res = sim.ctl("POST", "/accounts/%s/presence" % C, {"presence": "away"})
    check(st == 400, (st, res))
    st, res = sim.ctl("POST", "/accounts/%s/chatstate" % C, {"to": cus(A), "state": "x"})
    check(st == 400, (st, res))


def test_group_receipts(s, sim, rx):
    st, g, _ = s.api("POST", "/api/a/groups", {"name": "Receipts",
                                               "participants": [{"id": cus(B)}]})
    check(st == 201, (st, g))
    gid = g["id"]
    st, m, _ = s.api("POST", "/api/sendText", {"session": "a", "chatId": gid, "text": "read me"})
    check(st == 201, (st, m))
    got = wait_for(lambda: [e["payload"] for e in hooks(rx, "b", "message")
                            if e["payload"].get("body") == "read me"], 30, what="b gets it")
    st, res, _ = s.api("POST", "/api/sendSeen", {"session": "b", "chatId": gid,
                                                 "messageIds": [got[0]["id"]]})
    check(st == 201, (st, res))

    def group_acks():
        return {e["payload"]["ackName"]: e["payload"]
                for e in hooks(rx, "a", "message.ack.group") if e["payload"]["id"] == m["id"]}
    try:
        acks = wait_for(lambda: group_acks() if {"DEVICE", "READ"} <= set(group_acks())
                        else None, 20, what="message.ack.group DEVICE and READ")
    except AssertionError:
        print("group acks", group_acks(), "acks",
              [e["payload"] for e in hooks(rx, "a", "message.ack")], flush=True)
        st_, log = sim.ctl("GET", "/stanzas?limit=10000")
        print([x for x in log["stanzas"] if x["tag"] == "receipt"], flush=True)
        raise
    for name, level in (("DEVICE", 2), ("READ", 3)):
        p = acks[name]
        check(p["id"] == "true_%s_%s_%s" % (gid, m["id"].split("_")[2], cus(A)), p)
        check(p["from"] == gid and p["to"] == cus(A) and p["participant"] == cus(B), p)
        check(p["fromMe"] is True and p["ack"] == level and p["ackName"] == name, p)
        check(p["_data"]["id"] == m["id"].split("_")[2], p)
    # The members' receipts are not message.ack's (only the server's is)
    plain = [e["payload"] for e in hooks(rx, "a", "message.ack") if e["payload"]["id"] == m["id"]]
    check([p["ackName"] for p in plain] == ["SERVER"], plain)


def test_seen_after_restart(s, sim, rx):
    """sendSeen without ids reads the chat's unread messages as the store
    keeps them: a restart of the worker loses nothing."""
    sent = []
    for text in ("unread one", "unread two"):
        st, m, _ = s.api("POST", "/api/sendText", {"session": "b", "chatId": cus(A),
                                                   "text": text})
        check(st == 201, (st, m))
        sent.append(m["id"].split("_")[2])
        wait_for(lambda: [e for e in hooks(rx, "a", "message")
                          if e["payload"].get("body") == text], 20, what=text)
    # The worker restarts (its memory is gone); the store still knows
    s.proc("session-worker-0").stop()
    s.start_worker(0)

    def seen():
        st, res, _ = s.api("POST", "/api/sendSeen", {"session": "a", "chatId": B})
        return (st, res) if st not in (503, 504, 422) else None
    st, res = wait_for(seen, 40, interval=0.5, what="sendSeen after the restart")
    check(st == 201 and res == {}, (st, res))

    def reads():
        return {e["payload"]["id"].split("_")[2] for e in hooks(rx, "b", "message.ack")
                if e["payload"]["ackName"] == "READ"}
    wait_for(lambda: set(sent) <= reads(), 20, what="READ of both at b")
    # Read now: nothing left to read
    st, res, _ = s.api("POST", "/api/a/chats/%s/messages/read" % cus(B))
    check(st == 201 and res == {"ids": []}, (st, res))
    # A new one: the read route reads it and names it
    st, m, _ = s.api("POST", "/api/sendText", {"session": "b", "chatId": cus(A),
                                               "text": "unread three"})
    check(st == 201, (st, m))
    bare = m["id"].split("_")[2]
    wait_for(lambda: [e for e in hooks(rx, "a", "message")
                      if e["payload"].get("body") == "unread three"], 20, what="three")
    st, res, _ = s.api("POST", "/api/a/chats/%s/messages/read?messages=30&days=7" % cus(B))
    check(st == 201 and res == {"ids": ["false_%s_%s" % (cus(B), bare)]}, (st, res))
    wait_for(lambda: bare in reads(), 20, what="READ of three at b")
    for q in ("messages=0", "messages=abc", "days=0"):
        st, res, _ = s.api("POST", "/api/a/chats/%s/messages/read?%s" % (cus(B), q))
        check(st == 400, (q, st, res))
    st, res, _ = s.api("POST", "/api/a/chats/nonsense/messages/read")
    check(st == 400 and "chatId" in message(res), (st, res))


def test_message_waiting(s, sim, rx):
    st, res = sim.ctl("POST", "/accounts/%s/send-undecryptable" % C, {"to": cus(A)})
    check(st == 200 and res["copies"] >= 1, (st, res))
    bare = res["id"]
    p = wait_for(lambda: [e["payload"] for e in hooks(rx, "a", "message.waiting")], 20,
                 what="message.waiting")[0]
    check(p["id"] == "false_%s_%s" % (cus(C), bare), p)
    check(p["from"] == cus(C) and p["to"] == cus(A) and p["fromMe"] is False, p)
    check(p["body"] is None and p["hasMedia"] is False and p["participant"] is None, p)
    check(isinstance(p["timestamp"], int) and p["timestamp"] > 1600000000, p)
    check(p["_data"]["key"]["id"] == bare and p["_data"]["type"] == "ciphertext", p)
    # The retry receipt still went out (a's device asked C to resend)
    st, log = sim.ctl("GET", "/stanzas?jid=%s&limit=10000" % A)
    retries = [x for x in log["stanzas"] if x["dir"] == "in" and x["tag"] == "receipt"
               and x.get("id") == bare and x.get("type") == "retry"]
    check(retries, "no retry receipt for %s" % bare)
    # Not a `message`, and message.waiting once
    check(not [e for e in hooks(rx, "a", "message") if e["payload"]["id"] == p["id"]], p)
    check(len(hooks(rx, "a", "message.waiting")) == 1, "one message.waiting")


def test_engine_event(s, sim, rx):
    debug = wait_for(lambda: hooks(rx, "b-engine", "engine.event"), 20, what="engine.event")
    e = debug[0]["payload"]
    check(set(e) == {"event", "data"} and e["event"] in ("stanza.in", "stanza.out"), e)
    check(isinstance(e["data"]["tag"], str) and e["data"]["node"].startswith("<"), e)
    tags = {x["payload"]["data"]["tag"] for x in hooks(rx, "b-engine", "engine.event")}
    check({"presence", "chatstate"} <= tags or "presence" in tags, tags)
    # Only what the hook asked for reaches it, and "*" never has it
    others = [x for x in rx.requests if x["path"] == "/hook/b-engine"]
    check(len(others) == len(hooks(rx, "b-engine", "engine.event")), "only engine.event")
    check(not hooks(rx, "a", "engine.event"), "engine.event via *")
    check(not hooks(rx, "b", "engine.event"), "engine.event to b's other hook")


def main():
    with WaSim() as sim, stack(sim) as s, Receiver() as rx:
        account(sim, A, "Alice")
        account(sim, B, "Bob")
        account(sim, C, "Carol")
        create(s, "a", [{"url": rx.url + "/a", "events": ["*"]}])
        create(s, "b", [{"url": rx.url + "/b", "events": EVENTS},
                        {"url": rx.url + "/b-engine", "events": ["engine.event"]}])
        link_qr(s, sim, "a", A)
        link_qr(s, sim, "b", B)
        run_all = [lambda: test_bad_input(s),
                   lambda: test_presence_between_sessions(s, sim, rx),
                   lambda: test_phone_presence(s, sim, rx),
                   lambda: test_group_receipts(s, sim, rx),
                   lambda: test_seen_after_restart(s, sim, rx),
                   lambda: test_message_waiting(s, sim, rx),
                   lambda: test_engine_event(s, sim, rx)]
        names = ["test_bad_input", "test_presence_between_sessions", "test_phone_presence",
                 "test_group_receipts", "test_seen_after_restart", "test_message_waiting",
                 "test_engine_event"]
        for f, n in zip(run_all, names):
            f.__name__ = n
        run(run_all)


if __name__ == "__main__":
    main()
