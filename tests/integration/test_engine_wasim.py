"""test_engine_wasim - the WhatsApp engine through the full stack, with
wa-sim as the WhatsApp server.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Everything real: PostgreSQL, store-service, api-gateway, session-workers,
webhook-dispatcher, and wa-sim (tests/wa-sim) speaking the real wire
protocol (WebSocket, Noise with wa-sim's root key, binary nodes, Signal).
- QR login: SCAN_QR_CODE, the QR over /api/{s}/auth/qr (raw, PNG, JSON)
  and /v2/auth/qr, the phone scans it (wa-sim control API), WORKING, /me;
  session.status webhooks carry the QR as a data URI; logout removes the
  device on the server and shows a new QR;
- pairing-code login: /api/{s}/auth/request-code, the phone types it;
- two sessions exchange texts both ways (/api/sendText, /v2/send/text,
  reply_to) with webhooks message, message.any and message.ack up to READ
  (/api/sendSeen);
- SIGKILL the worker of a session in the middle of a conversation: the
  session comes back WORKING on the other worker with no new scan and no
  message is lost or delivered twice to the webhook.
"""
import base64
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from engine_util import account, api_ready, create, hooks, linked, stack  # noqa: E402
from harness import Receiver, check, run, wait_for  # noqa: E402
from wasim import WaSim  # noqa: E402


def test_qr_login():
    with WaSim() as sim, stack(sim) as s, Receiver() as rx:
        acc = account(sim, "15550001111", "Alice")
        create(s, "q1", rx)
        s.wait_status("q1", "SCAN_QR_CODE", 20)
        # Not linked yet: sending is refused with WAHA's 422
        st, body, _ = s.api("POST", "/api/sendText",
                            {"session": "q1", "chatId": "15550002222", "text": "x"})
        check(st == 422 and body["session"] == "q1" and body["status"] == "SCAN_QR_CODE"
              and body["expected"] == ["WORKING"]
              and "Session status is not as expected" in body["error"], (st, body))
        # The QR in its three WAHA forms and Wawp's
        st, raw, _ = api_ready(s, "GET", "/api/q1/auth/qr?format=raw")
        check(st == 200 and raw["value"].count(",") == 4, (st, raw))
        st, png, hdrs = s.raw("GET", "/api/q1/auth/qr",
                              headers={"X-Api-Key": s.api_key})
        check(st == 200 and hdrs.get("Content-Type") == "image/png"
              and png.startswith(b"\x89PNG"), (st, hdrs))
        st, js, _ = s.api("GET", "/api/q1/auth/qr")
        check(st == 200 and js["mimetype"] == "image/png"
              and base64.b64decode(js["data"]).startswith(b"\x89PNG"), st)
        st, wq, _ = s.api("GET", "/v2/auth/qr?instance_id=q1&format=raw")
        check(st == 200 and wq["value"] == raw["value"], (st, wq))
        st, wimg, _ = s.api("POST", "/v2/auth/qr-image", {"instance_id": "q1"})
        check(st == 200 and wimg["mimetype"] == "image/png", (st, wimg))
        # The session.status webhook carries the QR as a data URI
        wait_for(lambda: [e for e in hooks(rx, "q1", "session.status")
                          if e["payload"]["status"] == "SCAN_QR_CODE"
                          and (e.get("qr") or "").startswith("data:image/png;base64,")],
                 20, what="SCAN_QR_CODE webhook with the QR")
        # The phone scans it
        st, res = sim.ctl("POST", "/accounts/15550001111/scan", {"qr": raw["value"]})
        check(st == 200, (st, res))
        info = s.wait_status("q1", "WORKING", 20)
        # WAHA's MeInfo requires pushName, also on the first WORKING
        # session.status, before WhatsApp has told the device its name
        first = wait_for(lambda: [e for e in hooks(rx, "q1", "session.status")
                                  if e["payload"]["status"] == "WORKING"], 20,
                         what="WORKING webhook")[0]
        check(first["me"]["id"] == "15550001111@c.us"
              and isinstance(first["me"].get("pushName"), str), first["me"])
        check(info["me"]["id"] == "15550001111@c.us", info)
        st, me, _ = s.api("GET", "/api/sessions/q1/me")
        check(st == 200 and me["id"] == "15550001111@c.us", (st, me))
        check(me.get("lid") == acc["lid"], (me, acc))
        # pushName: from the phone's first message to the new device
        me = wait_for(lambda: (lambda r: r[1] if r[1].get("pushName") else None)(
            s.api("GET", "/api/sessions/q1/me")), 10, what="pushName")
        check(me["pushName"] == "Alice", me)
        wait_for(lambda: [e for e in hooks(rx, "q1", "session.status")
                          if e["payload"]["status"] == "WORKING"], 20,
                 what="WORKING webhook")
        # QR routes once linked: 422
        st, body, _ = s.api("GET", "/api/q1/auth/qr?format=raw")
        check(st == 422 and body["status"] == "WORKING" and body["session"] == "q1"
              and "SCAN_QR_CODE" in body["expected"], (st, body))
        st, body, _ = s.api("GET", "/api/nope/auth/qr?format=raw")
        check(st == 404, (st, body))
        # Logout: the device is removed on the server, the stored device is
        # cleared, and the running session shows a new QR
        st, body, _ = s.api("POST", "/api/sessions/q1/logout")
        check(st == 201, (st, body))
        wait_for(lambda: [d["id"] for d in sim.ctl(
            "GET", "/accounts/15550001111/devices")[1]["devices"]] == [0], 20,
            what="device removed on the server")
        s.wait_status("q1", "SCAN_QR_CODE", 20)
        st, again, _ = api_ready(s, "GET", "/api/q1/auth/qr?format=raw")
        check(st == 200 and again["value"] != raw["value"], (st, again))


def test_pairing_code_login():
    with WaSim() as sim, stack(sim) as s, Receiver() as rx:
        account(sim, "15550003333", "Carol")
        create(s, "p1", rx)
        s.wait_status("p1", ["STARTING", "SCAN_QR_CODE"], 20)
        s.wait_status("p1", "SCAN_QR_CODE", 20)
        st, body, _ = s.api("POST", "/api/p1/auth/request-code", {"phoneNumber": "12"})
        check(st == 400 and "phoneNumber" in str(body["message"]), (st, body))
        st, body, _ = api_ready(s, "POST", "/api/p1/auth/request-code",
                                {"phoneNumber": "+1 555 000 3333"})
        check(st == 201, (st, body))
        code = body["code"]
        check(len(code) == 9 and code[4] == "-", code)
        st, res = sim.ctl("POST", "/accounts/15550003333/pair-code", {"code": code})
        check(st == 200, (st, res))
        info = s.wait_status("p1", "WORKING", 30)
        check(info["me"]["id"] == "15550003333@c.us", info)


def test_two_sessions_exchange_texts():
    with WaSim() as sim, stack(sim) as s, Receiver() as rx:
        linked(s, sim, rx, [("a", "15550001111", "Alice"), ("b", "15550002222", "Bob")])

        # a -> b (WAHA body, bare number)
        st, m1, _ = s.api("POST", "/api/sendText",
                          {"session": "a", "chatId": "+1 555 000 2222", "text": "hi bob"})
        check(st == 201, (st, m1))
        check(m1["id"].startswith("true_15550002222@c.us_"), m1)
        check(m1["fromMe"] is True and m1["body"] == "hi bob" and m1["ack"] == 1
              and m1["ackName"] == "SERVER" and m1["hasMedia"] is False, m1)
        check(m1["to"] == "15550002222@c.us", m1)
        bare = m1["id"].split("_")[2]
        got = wait_for(lambda: [e for e in hooks(rx, "b", "message")
                                if e["payload"]["body"] == "hi bob"], 20,
                       what="message webhook at b")
        p = got[0]["payload"]
        check(p["id"] == "false_15550001111@c.us_" + bare, p)
        check(p["from"] == "15550001111@c.us" and p["fromMe"] is False, p)
        check(p["to"] == "15550002222@c.us" and p["hasMedia"] is False, p)
        check(isinstance(p["timestamp"], int) and p["timestamp"] > 1600000000, p)
        check(got[0]["me"]["id"] == "15550002222@c.us", got[0])
        wait_for(lambda: [e for e in hooks(rx, "b", "message.any")
                          if e["payload"]["body"] == "hi bob"], 10, what="message.any at b")
        # a sees its own send in message.any and the acks SERVER, DEVICE
        wait_for(lambda: [e for e in hooks(rx, "a", "message.any")
                          if e["payload"]["id"] == m1["id"]
                          and e["payload"]["fromMe"]], 10, what="message.any at a")

        def acks():
            return {e["payload"]["ackName"] for e in hooks(rx, "a", "message.ack")
                    if e["payload"]["id"] == m1["id"]}
        wait_for(lambda: {"SERVER", "DEVICE"} <= acks(), 20, what="SERVER+DEVICE acks")
        # b reads it: READ at a
        st, body, _ = s.api("POST", "/api/sendSeen",
                            {"session": "b", "chatId": "15550001111@c.us",
                             "messageIds": [p["id"]]})
        check(st == 201, (st, body))
        wait_for(lambda: "READ" in acks(), 20, what="READ ack")
        ack = [e["payload"] for e in hooks(rx, "a", "message.ack")
               if e["payload"]["ackName"] == "READ"][0]
        check(ack["ack"] == 3 and ack["fromMe"] is True
              and ack["from"] == "15550002222@c.us", ack)

        # b -> a through Wawp, quoting a's message
        st, m2, _ = s.api("POST", "/v2/send/text",
                          {"instance_id": "b", "chatId": "15550001111@c.us",
                           "message": "hi alice", "reply_to": p["id"]})
        check(st == 200 and m2["body"] == "hi alice", (st, m2))
        got = wait_for(lambda: [e for e in hooks(rx, "a", "message")
                                if e["payload"]["body"] == "hi alice"], 20,
                       what="message webhook at a")
        check(got[0]["payload"]["replyTo"]["id"] == bare, got[0]["payload"])
        # WAHA's ReplyToMessage requires hasMedia (a text was quoted)
        check(got[0]["payload"]["replyTo"]["hasMedia"] is False, got[0]["payload"])
        # WAHA's deprecated POST /api/reply: sendText's body, quoting reply_to
        st, m4, _ = s.api("POST", "/api/reply",
                          {"session": "b", "chatId": "15550001111@c.us",
                           "text": "old reply", "reply_to": p["id"]})
        check(st == 201 and m4["body"] == "old reply" and m4["fromMe"] is True, (st, m4))
        got = wait_for(lambda: [e for e in hooks(rx, "a", "message")
                                if e["payload"]["body"] == "old reply"], 20,
                       what="/api/reply at a")
        check(got[0]["payload"]["replyTo"]["id"] == bare, got[0]["payload"])
        # Errors: bad chat id, missing text, unknown session
        st, body, _ = s.api("POST", "/api/sendText", {"session": "a", "chatId": "x",
                                                      "text": "t"})
        check(st == 400 and "chatId" in str(body["message"]), (st, body))
        st, body, _ = s.api("POST", "/api/sendText", {"session": "a",
                                                      "chatId": "15550002222"})
        check(st == 400 and "text" in str(body["message"]), (st, body))
        st, body, _ = s.api("POST", "/api/sendText", {"session": "zz", "chatId": "1555000",
                                                      "text": "t"})
        check(st == 404, (st, body))
        # Deprecated GET form
        st, m3, _ = s.api("GET", "/api/sendText?session=a&phone=15550002222&text=get")
        check(st == 200 and m3["body"] == "get", (st, m3))
        wait_for(lambda: [e for e in hooks(rx, "b", "message")
                          if e["payload"]["body"] == "get"], 20, what="GET sendText")
        # Each message reached each webhook once
        for name in ("a", "b"):
            ids = [e["payload"]["id"] for e in hooks(rx, name, "message")]
            check(len(ids) == len(set(ids)), ids)


def test_worker_kill_mid_conversation():
    # One session per worker, so a and b run on different workers; a third
    # worker takes b over after the kill
    with WaSim() as sim, stack(sim, workers=2, WORKER_MAX_SESSIONS="1", LEASE_TTL_MS="3000") as s, \
            Receiver() as rx:
        linked(s, sim, rx, [("a", "15550001111", "Alice"), ("b", "15550002222", "Bob")])
        st, info, _ = s.api("GET", "/api/sessions/b")
        victim = info["assignedWorker"]
        check(victim in ("worker-0", "worker-1"), info)
        st, ainfo, _ = s.api("GET", "/api/sessions/a")
        check(ainfo["assignedWorker"] != victim, (ainfo, info))

        sent = []       # confirmed by the API
        uncertain = []  # failed calls: may or may not have gone out
        stop = threading.Event()

        def sender():
            for i in range(80):
                if stop.is_set() or len(sent) >= 60:
                    break
                text = "n%03d" % i
                st, m, _ = s.api("POST", "/api/sendText",
                                 {"session": "a", "chatId": "15550002222",
                                  "text": text})
                if st == 201:
                    sent.append(m["body"])
                else:
                    uncertain.append(text)
                    time.sleep(0.3)
                time.sleep(0.05)
        t = threading.Thread(target=sender, daemon=True)
        t.start()
        wait_for(lambda: len(sent) >= 10, 30, what="10 sends")
        s.proc("session-" + victim).kill()
        s.start_worker(2, env={"WORKER_MAX_SESSIONS": "10"})
        t.join(120)
        stop.set()
        check(len(sent) >= 20, len(sent))
        # b is back on the other worker without a scan
        survivor = "worker-2"
        wait_for(lambda: (lambda b: b if b[1].get("status") == "WORKING"
                          and b[1].get("assignedWorker") == survivor else None)(
                     s.api("GET", "/api/sessions/b")), 40, what="b WORKING again")
        st, scans = sim.ctl("GET", "/accounts/15550002222/devices")
        check(st == 200, scans)
        # Every sent text reached b's webhook exactly once
        def bodies():
            return [e["payload"]["body"] for e in hooks(rx, "b", "message")]
        wait_for(lambda: set(sent) <= set(bodies()), 60, what="every message at b")
        got = [x for x in bodies() if x.startswith("n")]
        dups = {x for x in got if got.count(x) > 1}
        check(not dups, "duplicated: %s" % sorted(dups))
        check(set(got) <= set(sent) | set(uncertain),
              sorted(set(got) - set(sent) - set(uncertain)))
        print("sent %d, failed calls %d (%d of them delivered)" % (
            len(sent), len(uncertain), len(set(got) & set(uncertain))))
        # The event ids too
        ids = [e["id"] for e in hooks(rx, "b", "message")]
        check(len(ids) == len(set(ids)), "duplicate event ids")


if __name__ == "__main__":
    run([test_qr_login, test_pairing_code_login, test_two_sessions_exchange_texts,
         test_worker_kill_mid_conversation])
