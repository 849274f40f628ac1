"""test_lid_pn_baileys - an unmodified Baileys 7 whose account is not
LID-migrated (PN mode), then migrated to LID in mid-conversation.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

docs/protocol-fidelity.md rules 1, 5, 6, 7. wa-sim's rule `lid_hidden`
on both accounts: the server tells no LID (no `lid` in pair-success's
<device> nor in <success>, where Baileys 7 and whatsmeow take their own;
none in usync; no sender_lid). Wharf session `w` is A, Baileys B, C a
simulated phone.
- PN mode: Wharf -> Baileys and Baileys -> Wharf by number (`to` is the
  number; Baileys knows no LID of its own); B demands a privacy token
  (`tctoken`): Wharf's first DM gets 463 and is sent once more with B's
  token; a PN group (A, B, C): texts both ways and from C's phone; A is
  held to the group hash (`check_phash`): a device joins B's account
  behind Wharf's back, Wharf's next text meets the server's hash and is
  resent once to that device; a forged companion identity of B's account
  (broken signature, or signed by another key) is refused;
- B's account migrates (`POST /accounts/{B}/migrate-lid`): B's phone
  sends Baileys the LID migration mapping sync message; Baileys' next DM
  carries sender_lid, Wharf learns B's pair, moves its sessions and
  writes to B's LID; then A's account migrates too (Wharf gets the sync
  message) and both write again;
- nothing lost, no chat split on Wharf's side: /chats shows B's chat and
  the group once, every DM before and after under B@c.us, no @lid.

ctest interop_lid_pn_baileys, after interop_npm_setup. Exits 77 (skip)
when npm was unreachable. Loopback only.
"""
import json
import os
import sys

SRC = os.environ.get("WHARF_SOURCE_DIR",
                     os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
sys.path.insert(0, os.path.join(SRC, "tests", "interop"))
from harness import check, wait_for  # noqa: E402
from baileys_util import Interop  # noqa: E402

A = "15550440001"  # Wharf session w
B = "15550440002"  # Baileys
C = "15550440003"  # a simulated phone
EVENTS = ["session.status", "message", "message.any"]
ctx = Interop(A, B, EVENTS, others=((C, "Phone C"),),
              before_link=lambda ix: before_link(ix))


def cus(phone):
    return phone + "@c.us"


def lid_jid(lid):
    return lid if "@" in lid else lid + "@lid"


def before_link(ix):
    """No account is LID-migrated: PN mode."""
    ix["lid"] = {phone: lid_jid(a["lid"]) for phone, a in ix.accounts.items()}
    for phone in (A, B, C):
        st, body = ix.sim.ctl("PUT", "/faults", {"phone": phone, "lid_hidden": True})
        check(st == 200, (st, body))
    for phone, rule in ((B, "tctoken"), (A, "check_phash")):
        st, body = ix.sim.ctl("PUT", "/faults", {"phone": phone, rule: True})
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
    check(len(got) == 1, got)
    return got[0]


def stanzas(phone, bare, dir_="in", tag="message"):
    st, body = ctx["sim"].ctl("GET", "/stanzas?jid=%s&limit=10000" % phone)
    check(st == 200, body)
    return [x for x in body["stanzas"]
            if x["dir"] == dir_ and x["tag"] == tag and x.get("id") == bare]


def wharf_says(chat, text):
    """Wharf sends; Baileys reads it once; the stanzas Wharf sent."""
    st, m, _ = ctx["s"].api("POST", "/api/sendText",
                            {"session": "w", "chatId": chat, "text": text})
    check(st == 201, (st, m))
    bare = m["id"].split("_")[2]
    got = baileys_msg(text)
    check(got["key"]["id"] == bare, got["key"])
    return got, stanzas(A, bare)


def baileys_says(to, text):
    """Baileys sends; Wharf reads it once; the payload, the stanzas
    Baileys sent and the copies wa-sim delivered to Wharf."""
    res = ctx["peer"].sock("sendMessage", to, {"text": text})
    bare = res["key"]["id"]
    p = wharf_msg(text)
    return p, stanzas(B, bare), stanzas(A, bare, "out")


def pair(pn):
    st, body, _ = ctx["s"].api("GET", "/api/w/lids/pn/" + pn)
    check(st == 200, (st, body))
    return body.get("lid")


def test_pn_mode_then_migration():
    s, sim, peer, lid = ctx["s"], ctx["sim"], ctx["peer"], ctx["lid"]
    opened = peer.events("open")[0]
    check(not opened.get("lid"), ("Baileys was told a LID", opened))
    dms = []

    # -- PN mode: DMs by number both ways; a 463 recovered ------------------
    got, sent = wharf_says(cus(B), "pn hello baileys")
    check(len(sent) == 2 and all(x["to"] == B + "@s.whatsapp.net" for x in sent), sent)
    check(got["key"]["remoteJid"] == A + "@s.whatsapp.net"
          and not got["key"].get("remoteJidAlt"), got["key"])
    p, sent, copies = baileys_says(A + "@s.whatsapp.net", "pn hello wharf")
    check(p["from"] == cus(B) and not p["fromMe"], p)
    check(sent and all(x["to"] == A + "@s.whatsapp.net" for x in sent), sent)
    check(copies and all(x["from"].startswith(B + ":") and "sender_lid" not in x
                         for x in copies), copies)
    dms += ["pn hello baileys", "pn hello wharf"]
    check(pair(B) is None, "no LID known for B in PN mode")

    # -- PN mode: a group ---------------------------------------------------
    st, g, _ = s.api("POST", "/api/w/groups", {
        "name": "PN interop", "participants": [{"id": cus(B)}, {"id": cus(C)}]})
    check(st == 201 and g.get("addressingMode", "pn") == "pn", (st, g))
    gid = g["id"]
    m = peer.sock("groupMetadata", gid)
    check(m.get("addressingMode", "pn") == "pn", m)
    check(sorted(x["id"] for x in m["participants"])
          == sorted(x + "@s.whatsapp.net" for x in (A, B, C)), m)
    got, _ = wharf_says(gid, "pn group from wharf")
    check(got["key"]["participant"] == A + "@s.whatsapp.net", got["key"])
    p, _, _ = baileys_says(gid, "pn group from baileys")
    check(p["from"] == gid and p["participant"] == cus(B), p)
    st, r = sim.ctl("POST", "/accounts/%s/send" % C, {"to": gid, "text": "pn group from c"})
    check(st == 200, (st, r))
    check(wharf_msg("pn group from c")["participant"] == cus(C), "C at Wharf")
    check(baileys_msg("pn group from c")["key"]["participant"] == C + "@s.whatsapp.net",
          "C at Baileys")

    # -- PN mode: a phash mismatch recovered --------------------------------
    st, dev = sim.ctl("POST", "/accounts/%s/devices" % B)
    check(st == 201, (st, dev))
    new_dev = "%s:%d@s.whatsapp.net" % (B, dev["id"])
    got, sent = wharf_says(gid, "pn group, new device")
    bare = got["key"]["id"]
    acks = wait_for(lambda: [x for x in stanzas(A, bare, "out", "ack")
                             if x.get("class") == "message"], 20, what="server ack")
    check(acks[0].get("phash") and acks[0]["phash"] != sent[0].get("phash"),
          ("the server named its hash", acks, sent))
    resent = wait_for(lambda: [x for x in stanzas(A, bare)
                               if x.get("participant") == new_dev], 20,
                      what="the resend to " + new_dev)
    check(len(resent) == 1 and len(stanzas(A, bare)) == 2, stanzas(A, bare))
    st, body = sim.ctl("GET", "/accounts/%s/devices" % B)
    check(bare in [d for d in body["devices"] if d["id"] == dev["id"]][0]
          ["queued_messages"], body)

    # -- PN mode: forged companion identities of B's account refused -------
    for n, kw in enumerate(({"forge": True}, {"forge_account": True})):
        st, r = sim.ctl("POST", "/accounts/%s/send-as" % B,
                        dict(kw, to=A, text="forged %d" % n, device=77 + n))
        check(st == 200 and r["copies"] >= 1, (st, r))
        try:
            wait_for(lambda d=77 + n: [ln for ln in s.proc("session-worker-0").text().splitlines()
                                       if "device identity refused" in ln and
                                       "sender=%s:%d@s.whatsapp.net" % (B, d) in ln],
                     20, what="Wharf refused forged identity %d" % n)
        except AssertionError:
            print("\n".join(ln for ln in s.proc("session-worker-0").text().splitlines()
                            if "identity" in ln or ":77" in ln or "refused" in ln))
            raise

    # -- B's account migrates in mid-conversation ---------------------------
    st, r = sim.ctl("POST", "/accounts/%s/migrate-lid" % B)
    check(st == 200 and r["copies"] == 2, (st, r))  # Baileys and the new device
    p, sent, copies = baileys_says(A + "@s.whatsapp.net", "after b moved")
    check(p["from"] == cus(B), p)
    check(copies and all(x.get("sender_lid") == lid[B] for x in copies), copies)
    wait_for(lambda: pair(B) == lid[B], 20, what="Wharf learnt B's pair")
    got, sent = wharf_says(cus(B), "to b's lid")
    check(sent and all(x["to"] == lid[B] for x in sent), sent)
    dms += ["after b moved", "to b's lid"]

    # -- A's account migrates too -------------------------------------------
    st, r = sim.ctl("POST", "/accounts/%s/migrate-lid" % A)
    check(st == 200 and r["copies"] >= 1, (st, r))
    got, sent = wharf_says(cus(B), "both moved, from wharf")
    p, sent, copies = baileys_says(A + "@s.whatsapp.net", "both moved, from baileys")
    check(p["from"] == cus(B), p)
    dms += ["both moved, from wharf", "both moved, from baileys"]
    got, _ = wharf_says(gid, "group after the moves")
    p, _, _ = baileys_says(gid, "group from baileys after the moves")
    check(p["participant"] == cus(B), p)

    # -- one chat per person, nothing lost ----------------------------------
    st, chats, _ = s.api("GET", "/api/w/chats")
    check(st == 200 and sorted(c["id"] for c in chats) == sorted([cus(B), gid]), chats)
    st, msgs, _ = s.api("GET", "/api/w/chats/%s/messages?limit=100" % cus(B))
    check(st == 200, (st, msgs))
    check(sorted(x["body"] for x in msgs) == sorted(dms), msgs)
    check(all(x["id"].split("_")[1] == cus(B) for x in msgs), msgs)
    check(not [e for e in ctx["rx"].events("message")
               if e["payload"].get("body", "").startswith("forged")], "forged read")
    check("@lid" not in json.dumps(msgs), msgs)
    for e in ctx["rx"].events("message"):
        check("@lid" not in json.dumps(e["payload"]), e["payload"])


ctx.run([test_pn_mode_then_migration])
