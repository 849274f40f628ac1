"""test_wharf_baileys - Wharf's Signal layer against an independent one,
through the full stack.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

wa-sim plays WhatsApp; a Wharf session (PostgreSQL, store-service,
api-gateway, session-worker, webhook-dispatcher) is linked as account A by
QR, and an unmodified Baileys client (wharf_peer.mjs, a node child driven
over JSON lines) as account B. They exchange end-to-end encrypted texts
both ways:
- Wharf -> Baileys with /api/sendText: Baileys decrypts a pkmsg, then a
  msg, with the exact text; Wharf's webhooks carry message.ack DEVICE
  (Baileys' delivery receipt) and READ (after Baileys reads it);
- Baileys -> Wharf: message and message.any webhooks with body, from,
  fromMe and the WAHA id; Baileys sees its message delivered, and read
  after /api/sendSeen;
- no webhook is delivered twice.

ctest interop_wharf_baileys (tests/interop/CMakeLists.txt), after
interop_npm_setup. Exits 77 (skip) when npm was unreachable.
WASIM_TEST_DEBUG=1 prints the Baileys log. Loopback only.
"""
import os
import sys

SRC = os.environ.get("WHARF_SOURCE_DIR",
                     os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
sys.path.insert(0, os.path.join(SRC, "tests", "interop"))
from harness import Receiver, check, run, wait_for  # noqa: E402
from engine_util import account, create, hooks, link_qr, stack  # noqa: E402
from wasim import WaSim  # noqa: E402
from baileys_util import start_peer  # noqa: E402

A1 = "15550300001"  # Wharf session wa: Wharf writes first
A2 = "15550300003"  # Wharf session wb: Baileys writes first
B = "15550300002"   # Baileys
# Baileys' WebMessageInfo.Status
DELIVERY_ACK = 3
READ = 4


def test_wharf_and_baileys_exchange_texts():
    with WaSim() as sim:
        peer = start_peer(sim)  # first: it skips when Baileys is missing
        try:
            with stack(sim) as s, Receiver() as rx:
                exchange(sim, s, rx, peer)
        except BaseException:
            sys.stderr.write("--- wharf_peer.mjs stderr ---\n%s\n" % peer.stderr())
            raise
        finally:
            peer.close()


def exchange(sim, s, rx, peer):
    for phone, name in ((A1, "Wharf A1"), (A2, "Wharf A2"), (B, "Baileys B")):
        account(sim, phone, name)
    for session, phone in (("wa", A1), ("wb", A2)):
        create(s, session, rx)
        info = link_qr(s, sim, session, phone)
        check(info["me"]["id"] == phone + "@c.us", info)
    opened = peer.cmd("pair", "open", phone=B, push_name="Baileys B")
    check(opened["id"].startswith(B + ":") and opened["id"].endswith("@s.whatsapp.net"),
          opened)
    chat = Chat(s, rx, peer)
    # wa starts the conversation: Wharf sends a pkmsg, receives a msg, and
    # its next message is a msg
    chat.wharf_to_baileys("wa", A1, "hello baileys, from wharf", "pkmsg")
    chat.baileys_to_wharf("wa", A1, "hello wharf, from baileys")
    chat.wharf_to_baileys("wa", A1, "second from wharf", "msg")
    chat.baileys_to_wharf("wa", A1, "second from baileys")
    # Baileys starts the conversation with wb: it fetches wb's prekey
    # bundle (one one-time prekey is consumed) and sends a pkmsg; Wharf
    # answers with a msg
    before = wait_for(lambda: prekeys(sim, A2), 20, what="wb's prekeys uploaded")
    chat.baileys_to_wharf("wb", A2, "hello wb, from baileys")
    check(prekeys(sim, A2) == before - 1, (before, prekeys(sim, A2)))
    chat.wharf_to_baileys("wb", A2, "hello baileys, from wb", "msg")
    chat.baileys_to_wharf("wb", A2, "second to wb")

    # Nothing twice: webhook events, messages, acks; Baileys' messages
    def unique(xs, what):
        check(len(xs) == len(set(xs)), "%s twice: %s" % (what, xs))
    unique([e["id"] for e in rx.events()], "webhook event id")
    for session, ins, outs in (("wa", 2, 2), ("wb", 2, 1)):
        msgs = hooks(rx, session, "message")
        unique([e["payload"]["id"] for e in msgs], "message")
        check(len(msgs) == ins, msgs)
        anys = hooks(rx, session, "message.any")
        unique([e["payload"]["id"] for e in anys], "message.any")
        check(len(anys) == ins + outs, anys)
        unique([(e["payload"]["id"], e["payload"]["ack"])
                for e in hooks(rx, session, "message.ack")], "message.ack")
    texts = [e for e in peer.events("message") if e["text"]]
    unique([e["id"] for e in texts], "message at baileys")
    check(len(texts) == 3, texts)
    generic_commands(s, rx, peer)


def generic_commands(s, rx, peer):
    """The generic peer commands other interop tests build on: a
    sock.sendMessage reaches Wharf, Wharf's text arrives as a Baileys
    messages.upsert event, and the stored message comes back by id."""
    sent = peer.sock("sendMessage", A1 + "@s.whatsapp.net", {"text": "via sock"})
    msg = sent["message"]
    text = msg.get("conversation") or msg.get("extendedTextMessage", {}).get("text")
    check(sent["key"]["fromMe"] is True and text == "via sock", sent)
    wid = "false_%s@c.us_%s" % (B, sent["key"]["id"])
    wait_for(lambda: [e for e in hooks(rx, "wa", "message") if e["payload"]["id"] == wid
                      and e["payload"]["body"] == "via sock"], 40,
             what="message webhook for the sock send")
    st, m, _ = s.api("POST", "/api/sendText",
                     {"session": "wa", "chatId": B + "@c.us", "text": "seen as an event"})
    check(st == 201, (st, m))
    bare = m["id"].split("_", 2)[2]
    up = peer.wait_ev("messages.upsert",
                      lambda d: any(x["key"]["id"] == bare for x in d["messages"]), 40,
                      "Wharf's text as messages.upsert")
    got = [x for x in up["messages"] if x["key"]["id"] == bare][0]
    check(got["key"]["fromMe"] is False and A1 + "@s.whatsapp.net" in
          (got["key"]["remoteJid"], got["key"].get("remoteJidAlt")), got)
    stored = peer.cmd("message", "result", id=bare)["value"]
    check(stored["key"]["id"] == bare, stored)
    n = len(peer.events())
    peer.proc.stdin.write('{"cmd":"sock","method":"noSuchMethod","args":[]}\n')
    peer.proc.stdin.flush()
    err = wait_for(lambda: [e for e in peer.events()[n:] if e["event"] == "error"], 20,
                   what="error answer for an unknown sock method")
    check("noSuchMethod" in err[0]["error"], err)


def prekeys(sim, phone):
    """One-time prekeys wa-sim holds for the phone's companion device 1."""
    st, body = sim.ctl("GET", "/accounts/%s/devices" % phone)
    check(st == 200, (st, body))
    return [d["prekeys"] for d in body["devices"] if d["id"] == 1][0]


class Chat:
    """Texts between the Baileys peer (B) and a Wharf session, with checks."""

    def __init__(self, s, rx, peer):
        self.s, self.rx, self.peer = s, rx, peer
        self.b_cus = B + "@c.us"

    def acks(self, session, mid):
        return {e["payload"]["ackName"] for e in hooks(self.rx, session, "message.ack")
                if e["payload"]["id"] == mid}

    def wharf_to_baileys(self, session, a, text, enc):
        """POST /api/sendText; Baileys decrypts an <enc type=enc>; the
        session gets message.ack DEVICE, and READ once Baileys reads it."""
        st, m, _ = self.s.api("POST", "/api/sendText",
                              {"session": session, "chatId": self.b_cus, "text": text})
        check(st == 201, (st, m))
        check(m["id"].startswith("true_%s_" % self.b_cus) and m["fromMe"] is True
              and m["body"] == text and m["to"] == self.b_cus, m)
        bare = m["id"].split("_", 2)[2]
        got = self.peer.wait(lambda e: e["event"] == "message" and e["id"] == bare,
                             40, "%r from %s" % (text, session))
        check(got["text"] == text, got)
        check(a + "@s.whatsapp.net" in (got["from"], got["alt"]), got)
        node = [e for e in self.peer.events("node") if e["id"] == bare]
        check(len(node) == 1 and node[0]["enc"] == [enc], (enc, node))
        wait_for(lambda: "DEVICE" in self.acks(session, m["id"]), 40,
                 what="DEVICE ack for %r" % text)
        self.peer.cmd("read", "read", id=bare)
        wait_for(lambda: "READ" in self.acks(session, m["id"]), 40,
                 what="READ ack for %r" % text)
        ack = [e["payload"] for e in hooks(self.rx, session, "message.ack")
               if e["payload"]["id"] == m["id"] and e["payload"]["ackName"] == "READ"]
        check(ack[0]["ack"] == 3 and ack[0]["fromMe"] is True
              and ack[0]["from"] == self.b_cus, ack)

    def status(self, mid):
        return max([e["status"] for e in self.peer.events("update") if e["id"] == mid],
                   default=0)

    def baileys_to_wharf(self, session, a, text):
        """Baileys sends; the session gets message and message.any with the
        WAHA fields; Baileys sees it delivered, and read after sendSeen."""
        sent = self.peer.cmd("send", "sent", to=a + "@s.whatsapp.net", text=text)
        wid = "false_%s_%s" % (self.b_cus, sent["id"])
        got = wait_for(lambda: [e for e in hooks(self.rx, session, "message")
                                if e["payload"]["id"] == wid], 40,
                       what="message webhook for %r" % text)
        p = got[0]["payload"]
        check(p["body"] == text and p["from"] == self.b_cus and p["fromMe"] is False
              and p["to"] == a + "@c.us" and p["hasMedia"] is False, p)
        check(isinstance(p["timestamp"], int) and p["timestamp"] > 1600000000, p)
        anyp = wait_for(lambda: [e["payload"] for e in hooks(self.rx, session, "message.any")
                                 if e["payload"]["id"] == wid], 20,
                        what="message.any webhook for %r" % text)
        check(anyp[0]["body"] == text and anyp[0]["fromMe"] is False, anyp)
        wait_for(lambda: self.status(sent["id"]) >= DELIVERY_ACK, 40,
                 what="%r delivered at baileys" % text)
        st, body, _ = self.s.api("POST", "/api/sendSeen",
                                 {"session": session, "chatId": self.b_cus,
                                  "messageIds": [wid]})
        check(st == 201, (st, body))
        wait_for(lambda: self.status(sent["id"]) == READ, 40,
                 what="%r read at baileys" % text)


if __name__ == "__main__":
    run([test_wharf_and_baileys_exchange_texts])
