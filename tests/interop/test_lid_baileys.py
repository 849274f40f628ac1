"""test_lid_baileys - 1:1 texts between Wharf and an unmodified Baileys 7
with LID-migrated accounts, through the full stack.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

wa-sim's accounts are LID-migrated (usync answers their LIDs). A Wharf
session `w` is A, an unmodified Baileys client (wharf_peer.mjs) B, held
to the privacy-token rule (`tctoken`: DMs to B need a token B issued).
docs/protocol-fidelity.md rules 4, 5, 9.
- Wharf -> Baileys: the DM goes to B's LID with B's number beside
  (LID first); the first is refused with 463, Wharf takes B's token and
  sends it once more; Baileys reads both texts;
- Baileys -> Wharf, to A's LID and to A's number: Wharf's payloads name B
  by number, and /chats shows one chat with B;
- then A is held to `tctoken` too: Wharf issued its token to B when it
  wrote (as WhatsApp Web does); Baileys stored it from the
  privacy_token notification and attaches it, so its DMs reach Wharf.

ctest interop_lid_baileys, after interop_npm_setup. Exits 77 (skip) when
npm was unreachable. Loopback only.
"""
import os
import sys

SRC = os.environ.get("WHARF_SOURCE_DIR",
                     os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
sys.path.insert(0, os.path.join(SRC, "tests", "interop"))
from harness import check, wait_for  # noqa: E402
from baileys_util import Interop  # noqa: E402

A = "15550430001"  # Wharf session w
B = "15550430002"  # Baileys
EVENTS = ["session.status", "message", "message.any"]
ctx = Interop(A, B, EVENTS, before_link=lambda ix: before_link(ix))


def before_link(ix):
    """LID-migrated accounts; B demands a privacy token."""
    ix["lid"] = {phone: a["lid"] for phone, a in ix.accounts.items()}
    st, body = ix.sim.ctl("PUT", "/faults", {"phone": B, "tctoken": True})
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
    return wait_for(lambda: [m for m in items() if text_of(m) == text], 30,
                    what="baileys message %r" % text)[0]


def a_messages(bare):
    st, body = ctx["sim"].ctl("GET", "/stanzas?jid=%s&limit=10000" % A)
    check(st == 200, body)
    return [x for x in body["stanzas"]
            if x["dir"] == "in" and x["tag"] == "message" and x.get("id") == bare]


def test_lid_texts():
    s, peer, lid = ctx["s"], ctx["peer"], ctx["lid"]
    # Wharf -> Baileys: to B's LID; the first needs B's token (463, once)
    for n, text in enumerate(("hello baileys", "again")):
        st, m, _ = s.api("POST", "/api/sendText",
                         {"session": "w", "chatId": B + "@c.us", "text": text})
        check(st == 201, (st, m))
        bare = m["id"].split("_")[2]
        got = baileys_msg(text)
        check(got["key"]["id"] == bare, got["key"])
        sent = a_messages(bare)
        check(len(sent) == (2 if n == 0 else 1), sent)
        check(all(x["to"] == lid[B] for x in sent), sent)
    # From now on A demands its token too: Baileys got it when Wharf
    # issued it to B (with the 463 recovery above; a privacy_token
    # notification) and must attach it, or wa-sim refuses its DMs (463)
    st, body = ctx["sim"].ctl("PUT", "/faults", {"phone": A, "tctoken": True})
    check(st == 200, (st, body))
    # Baileys -> Wharf, to A's LID and to A's number: one chat with B
    for to, text in ((lid[A], "to your lid"), (A + "@s.whatsapp.net", "to your number")):
        peer.sock("sendMessage", to, {"text": text})
        p = wharf_msg(text)
        check(p["from"] == B + "@c.us" and not p["fromMe"], p)
    st, chats, _ = s.api("GET", "/api/w/chats")
    check(st == 200 and [c["id"] for c in chats] == [B + "@c.us"], chats)


ctx.run([test_lid_texts])
