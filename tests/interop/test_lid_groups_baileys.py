"""test_lid_groups_baileys - texts in a LID-addressed group between Wharf
and an unmodified Baileys 7, through the full stack.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

wa-sim plays WhatsApp with the 2026 rules on Wharf's account A
(`lid_groups`: A's groups run in addressing_mode="lid"; `check_phash`:
A's group sends must carry the right participant hash). A Wharf session
`w` is A, an unmodified Baileys client (wharf_peer.mjs) B, C a simulated
phone (docs/protocol-fidelity.md rules 7, 8).
- Wharf creates a group with B and C: Baileys reads it as a LID group
  whose members are LIDs with their numbers;
- Wharf -> Baileys: two texts (the first with sender key distributions
  to B's LID devices, the second skmsg alone); Baileys decrypts both,
  sent by A's LID; wa-sim took Wharf's participant hash both times;
- Baileys -> Wharf: two texts; Wharf's `message` payloads name the group
  and B by number (@c.us);
- C's phone writes: both get it.

ctest interop_lid_groups_baileys, after interop_npm_setup. Exits 77
(skip) when npm was unreachable. WASIM_TEST_DEBUG=1 prints the Baileys
log. Loopback only.
"""
import os
import sys

SRC = os.environ.get("WHARF_SOURCE_DIR",
                     os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
sys.path.insert(0, os.path.join(SRC, "tests", "interop"))
from harness import check, wait_for  # noqa: E402
from baileys_util import Interop  # noqa: E402

A = "15550420001"  # Wharf session w
B = "15550420002"  # Baileys
C = "15550420003"  # a simulated phone
EVENTS = ["session.status", "message", "message.any"]
ctx = Interop(A, B, EVENTS, others=((C, "Phone C"),),
              before_link=lambda ix: before_link(ix))


def cus(phone):
    return phone + "@c.us"


def before_link(ix):
    """A's groups run in LID addressing mode, with the phash rule."""
    ix["lid"] = {phone: a["lid"] for phone, a in ix.accounts.items()}
    st, body = ix.sim.ctl("PUT", "/faults", {"phone": A, "lid_groups": True,
                                             "check_phash": True})
    check(st == 200, (st, body))


def wharf_msg(text):
    got = wait_for(lambda: [e["payload"] for e in ctx["rx"].events("message")
                            if e.get("session") == "w"
                            and e["payload"].get("body") == text],
                   30, what="wharf message %r" % text)
    check(len(got) == 1, got)
    return got[0]


def baileys_msg(text):
    def items():
        return [m for d in ctx["peer"].evs("messages.upsert")
                for m in d.get("messages", [])
                if not m["key"].get("fromMe") and m.get("message")]

    def text_of(m):
        msg = m["message"]
        return msg.get("conversation") or msg.get("extendedTextMessage", {}).get("text")
    got = wait_for(lambda: [m for m in items() if text_of(m) == text], 30,
                   what="baileys message %r" % text)
    return got[0]


def a_stanzas(bare, dir_, tag):
    st, body = ctx["sim"].ctl("GET", "/stanzas?jid=%s&limit=10000" % A)
    check(st == 200, body)
    return [x for x in body["stanzas"]
            if x["dir"] == dir_ and x["tag"] == tag and x.get("id") == bare]


def test_lid_group_texts():
    peer, s, lid = ctx["peer"], ctx["s"], ctx["lid"]
    st, g, _ = s.api("POST", "/api/w/groups", {
        "name": "LID interop", "participants": [{"id": cus(B)}, {"id": cus(C)}]})
    check(st == 201 and g["addressingMode"] == "lid", (st, g))
    gid = g["id"]
    ctx["gid"] = gid
    # Baileys reads a LID group: members by LID, numbers beside
    m = peer.sock("groupMetadata", gid)
    check(m.get("addressingMode") == "lid", m)
    check(sorted(p["id"] for p in m["participants"]) == sorted(lid.values()), m)
    pns = {p["id"]: p.get("phoneNumber") or p.get("jid") for p in m["participants"]}
    check(pns == {lid[x]: x + "@s.whatsapp.net" for x in (A, B, C)}, pns)

    # Wharf -> Baileys: the key with the first text, skmsg alone after
    for text in ("hello from Wharf", "again from Wharf"):
        st, sent, _ = s.api("POST", "/api/sendText",
                            {"session": "w", "chatId": gid, "text": text})
        check(st == 201, (st, sent))
        bare = sent["id"].split("_")[2]
        got = baileys_msg(text)
        key = got["key"]
        check(key["remoteJid"] == gid and key["id"] == bare, key)
        # Sent by A's LID (the number beside, as Baileys 7 keeps it)
        check(key.get("participant") == lid[A], key)
        alt = key.get("participantAlt") or key.get("participantPn")
        check(alt and alt.split(":")[0].split("@")[0] == A
              and alt.endswith("@s.whatsapp.net"), key)
        out = a_stanzas(bare, "in", "message")
        check(len(out) == 1 and out[0].get("addressing_mode") == "lid", out)
        acks = wait_for(lambda b=bare: [x for x in a_stanzas(b, "out", "ack")
                                        if x.get("class") == "message"],
                        20, what="server ack")
        check("phash" not in acks[0], ("wa-sim refused Wharf's hash", acks))

    # Baileys -> Wharf: the group and B by number
    for text in ("hello from Baileys", "again from Baileys"):
        res = peer.sock("sendMessage", gid, {"text": text})
        bare = res["key"]["id"]
        p = wharf_msg(text)
        check(p["from"] == gid and p["participant"] == cus(B)
              and p["fromMe"] is False, p)
        check(p["id"] == "false_%s_%s_%s" % (gid, bare, cus(B)), p)
        check(p["_data"]["key"]["participant"] == cus(B), p)

    # C's phone writes: both get it, from C's number at Wharf
    st, res = ctx["sim"].ctl("POST", "/accounts/%s/send" % C,
                             {"to": gid, "text": "from the phone"})
    check(st == 200, (st, res))
    p = wharf_msg("from the phone")
    check(p["participant"] == cus(C) and p["from"] == gid, p)
    got = baileys_msg("from the phone")
    check(got["key"]["participant"] == lid[C], got["key"])
    # Every message once at Wharf
    ids = [e["payload"]["id"] for e in ctx["rx"].events("message")
           if e.get("session") == "w"]
    check(len(ids) == len(set(ids)), ids)


ctx.run([test_lid_group_texts])
