"""test_phash_baileys - the participant hash and forged device identities
with an unmodified Baileys 7, through the full stack.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

wa-sim plays WhatsApp with the 2026 rules (docs/protocol-fidelity.md
rules 8, 10): A's groups run in addressing_mode="lid" and A's and B's
group sends are held to `check_phash`. Wharf session `w` is A, an
unmodified Baileys client (wharf_peer.mjs) B, C a simulated phone.
- phash mismatch recovered: a device joins B's account behind Wharf's
  back; Wharf's next group text meets the server's hash, Wharf reads
  the devices again and sends the text to the device it missed, once;
  Baileys gets the text once; the next text's hash is taken;
- Baileys with a stale hash: a device joins A's account behind
  Baileys' back; Baileys' group text gets the server's hash in its ack
  (Baileys 7 does not resend on it: `handleBadAck`), Wharf gets the text
  once, and no stanza loops;
- forged identity: a pkmsg from a companion of B's account with a
  forged device identity (wa-sim `send-as` with `forge`) is refused and
  logged by Wharf, while Baileys' own pkmsgs (a companion too, its
  device identity signed by B's account) are read: Baileys' 1:1 text
  arrives, the forged one never does.

ctest interop_phash_baileys, after interop_npm_setup. Exits 77 (skip)
when npm was unreachable. WASIM_TEST_DEBUG=1 prints the Baileys log.
Loopback only.
"""
import os
import sys
import time

SRC = os.environ.get("WHARF_SOURCE_DIR",
                     os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
sys.path.insert(0, os.path.join(SRC, "tests", "interop"))
from harness import check, wait_for  # noqa: E402
from baileys_util import Interop  # noqa: E402

A = "15550430001"  # Wharf session w
B = "15550430002"  # Baileys
C = "15550430003"  # a simulated phone
EVENTS = ["session.status", "message", "message.any"]
ctx = Interop(A, B, EVENTS, others=((C, "Phone C"),),
              before_link=lambda ix: before_link(ix))


def cus(phone):
    return phone + "@c.us"


def before_link(ix):
    ix["lid"] = {phone: a["lid"] for phone, a in ix.accounts.items()}
    for phone, extra in ((A, {"lid_groups": True}), (B, {})):
        st, body = ix.sim.ctl("PUT", "/faults",
                              dict(extra, phone=phone, check_phash=True))
        check(st == 200, (st, body))


def wharf_msgs(text):
    return [e["payload"] for e in ctx["rx"].events("message")
            if e.get("session") == "w" and e["payload"].get("body") == text]


def wharf_msg(text):
    got = wait_for(lambda: wharf_msgs(text), 30, what="wharf message %r" % text)
    check(len(got) == 1, got)
    return got[0]


def baileys_msgs(text):
    def text_of(m):
        msg = m.get("message") or {}
        return msg.get("conversation") or msg.get("extendedTextMessage", {}).get("text")
    return [m for d in ctx["peer"].evs("messages.upsert")
            for m in d.get("messages", [])
            if not m["key"].get("fromMe") and text_of(m) == text]


def stanzas(phone, bare, dir_, tag):
    st, body = ctx["sim"].ctl("GET", "/stanzas?jid=%s&limit=10000" % phone)
    check(st == 200, body)
    return [x for x in body["stanzas"]
            if x["dir"] == dir_ and x["tag"] == tag and x.get("id") == bare]


def acks(phone, bare):
    return [x for x in stanzas(phone, bare, "out", "ack")
            if x.get("class") == "message"]


def send(text, gid):
    st, sent, _ = ctx["s"].api("POST", "/api/sendText",
                               {"session": "w", "chatId": gid, "text": text})
    check(st == 201, (st, sent))
    return sent["id"].split("_")[2]


def test_phash():
    peer, s, lid, sim = ctx["peer"], ctx["s"], ctx["lid"], ctx["sim"]
    st, g, _ = s.api("POST", "/api/w/groups", {
        "name": "phash interop", "participants": [{"id": cus(B)}, {"id": cus(C)}]})
    check(st == 201 and g["addressingMode"] == "lid", (st, g))
    gid = g["id"]
    bare = send("before", gid)
    wait_for(lambda: baileys_msgs("before"), 30, what="baileys gets 'before'")
    first = wait_for(lambda: acks(A, bare), 20, what="server ack")
    check("phash" not in first[0], ("wa-sim refused Wharf's hash", first))

    # A device joins B's account behind Wharf's back
    st, dev = sim.ctl("POST", "/accounts/%s/devices" % B)
    check(st == 201 and dev["linked"] is True, (st, dev))
    ctx["b_shadow"] = dev["id"]
    new_dev = "%s:%d@lid" % (lid[B][:-4], dev["id"])
    bare = send("after a new device", gid)
    got = wait_for(lambda: baileys_msgs("after a new device"), 30,
                   what="baileys gets the text")
    theirs = wait_for(lambda: acks(A, bare), 20, what="server ack")[0].get("phash")
    check(theirs and theirs != stanzas(A, bare, "in", "message")[0]["phash"],
          "the server named its hash")
    resends = wait_for(lambda: [x for x in stanzas(A, bare, "in", "message")
                                if x.get("participant") == new_dev],
                       20, what="the resend to %s" % new_dev)
    check(len(resends) == 1 and resends[0]["to"] == gid, resends)
    st, body = sim.ctl("GET", "/accounts/%s/devices" % B)
    shadow = [d for d in body["devices"] if d["id"] == dev["id"]][0]
    check(bare in shadow["queued_messages"], shadow)
    # never a loop; Baileys got it once
    check(len(stanzas(A, bare, "in", "message")) == 2, "one resend")
    check(len(got) == 1, got)
    bare2 = send("with the new device", gid)
    wait_for(lambda: baileys_msgs("with the new device"), 30, what="next text")
    nxt = wait_for(lambda: acks(A, bare2), 20, what="server ack")
    check("phash" not in nxt[0] and
          stanzas(A, bare2, "in", "message")[0]["phash"] == theirs, nxt)

    # Baileys' hash goes stale: a device joins A's account behind its back
    st, mine = sim.ctl("POST", "/accounts/%s/devices" % A)
    check(st == 201, (st, mine))
    res = peer.sock("sendMessage", gid, {"text": "baileys, stale hash"})
    bbare = res["key"]["id"]
    p = wharf_msg("baileys, stale hash")
    check(p["from"] == gid and p["participant"] == cus(B), p)
    back = wait_for(lambda: acks(B, bbare), 20, what="the server's ack to B")
    check(back[0].get("phash"), ("the server named its hash to Baileys", back))
    time.sleep(1)
    check(len(stanzas(B, bbare, "in", "message")) <= 2, "Baileys loops")
    check(len(wharf_msgs("baileys, stale hash")) == 1, "once at Wharf")


def test_forged_identity():
    peer, s, sim = ctx["peer"], ctx["s"], ctx["sim"]
    # Baileys' own pkmsg (its device identity, signed by B's account) is read
    peer.sock("sendMessage", A + "@s.whatsapp.net", {"text": "baileys 1:1"})
    p = wharf_msg("baileys 1:1")
    check(p["from"] == cus(B) and p["fromMe"] is False, p)
    # A companion of B's account with a forged identity: refused, logged
    st, r = sim.ctl("POST", "/accounts/%s/send-as" % B,
                    {"to": A, "text": "forged companion", "device": 77, "forge": True})
    check(st == 200 and r["copies"] >= 1, (st, r))
    wait_for(lambda: "device identity refused" in s.logs(), 20,
             what="Wharf refused the forged identity")
    # the conversation goes on with Baileys; the forged text never came
    peer.sock("sendMessage", A + "@s.whatsapp.net", {"text": "baileys again"})
    wharf_msg("baileys again")
    st, sent, _ = s.api("POST", "/api/sendText",
                        {"session": "w", "chatId": cus(B), "text": "wharf answers"})
    check(st == 201, (st, sent))
    wait_for(lambda: baileys_msgs("wharf answers"), 30, what="baileys gets the answer")
    check(not wharf_msgs("forged companion"), "forged text delivered")


ctx.run([test_phash, test_forged_identity])
