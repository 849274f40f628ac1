"""test_lid_migrate - accounts move from PN to LID in mid-conversation.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

docs/protocol-fidelity.md rule 6. Two Wharf sessions, a and b, whose
accounts start as not LID-migrated (wa-sim rule `lid_hidden`): they talk
by phone number. Then wa-sim migrates a's account
(`POST /accounts/{phone}/migrate-lid`): its LID is revealed and its
phone sends a the LID migration mapping sync message (protocolMessage
type 22). Wharf:
- learns b's pair from that message alone, before any other traffic,
  and moves its PN Signal sessions with b to b's LID;
- sends the next DM to b's LID (LID first), on the moved ratchet, with
  b's number in peer_recipient_pn (wa-sim's check_peer_pn rule);
- keeps ONE chat per person across the switch, in the API (chats,
  chat messages) and in webhooks (no @lid anywhere), also after b's
  account migrates too and b's phone writes.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import Receiver, check, run, wait_for  # noqa: E402
from engine_util import api_ready, hooks, linked, stack  # noqa: E402
from wasim import WaSim  # noqa: E402

A, B = "15550011001", "15550011002"


def rules(sim, phone, **kw):
    st, body = sim.ctl("PUT", "/faults", dict(kw, phone=phone))
    check(st == 200, (st, body))


def dm_stanzas(sim, msg_id):
    st, body = sim.ctl("GET", "/stanzas?since=0&limit=10000")
    check(st == 200, (st, body))
    return [x for x in body["stanzas"] if x["dir"] == "in" and
            x["tag"] == "message" and x.get("id") == msg_id]


def say(s, sim, rx, frm, chat, text, receiver):
    st, m, _ = api_ready(s, "POST", "/api/sendText",
                         {"session": frm, "chatId": chat, "text": text})
    check(st == 201, (st, m))
    wait_for(lambda: [e for e in hooks(rx, receiver, "message")
                      if e["payload"]["body"] == text], 30,
             what="%r at %s" % (text, receiver))
    return dm_stanzas(sim, m["id"].split("_")[2])


def pair(s, who, pn):
    st, body, _ = s.api("GET", "/api/%s/lids/pn/%s" % (who, pn))
    check(st == 200, (st, body))
    return body.get("lid")


def test_migrate_mid_conversation():
    with WaSim() as sim, stack(sim) as s, Receiver() as rx:
        rules(sim, A, lid_hidden=True)
        rules(sim, B, lid_hidden=True)
        linked(s, sim, rx, [("a", A, "Alice"), ("b", B, "Bob")])
        a_lid = sim.ctl("GET", "/accounts/" + A)[1]["lid"]
        b_lid = sim.ctl("GET", "/accounts/" + B)[1]["lid"]
        a_lid = a_lid if "@" in a_lid else a_lid + "@lid"
        b_lid = b_lid if "@" in b_lid else b_lid + "@lid"
        texts = []

        # PN world: DMs by number, nobody knows a LID
        got = say(s, sim, rx, "a", B + "@c.us", "pn from a", "b")
        check(got and all(x["to"] == B + "@s.whatsapp.net" for x in got), got)
        say(s, sim, rx, "b", A + "@c.us", "pn from b", "a")
        texts += ["pn from a", "pn from b"]
        check(pair(s, "a", B) is None and pair(s, "b", A) is None, "no pairs yet")

        # a's account migrates: the mapping sync message alone teaches a
        # b's LID, and a's PN sessions with b move to it
        st, r = sim.ctl("POST", "/accounts/%s/migrate-lid" % A)
        check(st == 200 and r["copies"] == 1 and r["pairs"] >= 1 and
              r["lid"] + "@lid" in (a_lid, r["lid"]), (st, r))
        st, r = sim.ctl("POST", "/accounts/15550019999/migrate-lid")
        check(st == 404, (st, r))
        wait_for(lambda: pair(s, "a", B) == b_lid, 20,
                 what="a learnt b's pair from the sync message")
        logs = s.logs()
        of_a = [ln for ln in logs.splitlines() if re.search(r' session="?a"? ', ln)]
        check(any("moved Signal sessions to the LID" in ln and
                  "lid=" + b_lid in ln for ln in of_a),
              "a moved its PN sessions with b to b's LID")
        check(any("LID migration mapping sync" in ln and "new=1" in ln
                  for ln in of_a), "sync logged")

        # LID first from now on, on the moved ratchet; nothing lost. The
        # server holds a to naming b's number beside the LID
        # (check_peer_pn: else 479)
        rules(sim, A, check_peer_pn=True)
        rules(sim, B, check_peer_pn=True)
        st, body = sim.ctl("GET", "/faults")
        check(body["accounts"][A]["check_peer_pn"] and
              not body["accounts"][A]["lid_hidden"], body)
        got = say(s, sim, rx, "a", B + "@c.us", "lid from a", "b")
        check(got and all(x["to"] == b_lid and
                          x.get("peer_recipient_pn") == B + "@s.whatsapp.net"
                          for x in got), got)
        say(s, sim, rx, "b", A + "@c.us", "after a moved", "a")
        texts += ["lid from a", "after a moved"]

        # b's account migrates too; b's phone writes as well
        st, r = sim.ctl("POST", "/accounts/%s/migrate-lid" % B)
        check(st == 200 and r["copies"] == 1, (st, r))
        wait_for(lambda: pair(s, "b", A) == a_lid, 20, what="b knows a's pair")
        say(s, sim, rx, "b", A, "both moved", "a")
        say(s, sim, rx, "a", b_lid, "to the lid id", "b")
        st, r = sim.ctl("POST", "/accounts/%s/send" % B, {"to": A, "text": "from b's phone"})
        check(st == 200, (st, r))
        wait_for(lambda: [e for e in hooks(rx, "a", "message")
                          if e["payload"]["body"] == "from b's phone"], 30,
                 what="b's phone at a")
        texts += ["both moved", "to the lid id", "from b's phone"]

        # ONE chat per person, in @c.us form, with everything in it
        for who, peer in (("a", B + "@c.us"), ("b", A + "@c.us")):
            st, chats, _ = s.api("GET", "/api/%s/chats" % who)
            check(st == 200 and [c["id"] for c in chats] == [peer], (who, chats))
            st, msgs, _ = s.api("GET", "/api/%s/chats/%s/messages?limit=100"
                                % (who, peer))
            check(st == 200, (st, msgs))
            bodies = [m["body"] for m in msgs]
            check(sorted(bodies) == sorted(texts), (who, bodies))
            check(all(m["id"].split("_")[1] == peer for m in msgs), (who, msgs))
            check("@lid" not in json.dumps(msgs), (who, msgs))
        for who, peer in (("a", B + "@c.us"), ("b", A + "@c.us")):
            evs = hooks(rx, who, "message")
            check(len(evs) >= 3, evs)
            for e in evs:
                p = e["payload"]
                check(p["from"] == peer and p["_data"]["key"]["remoteJid"] == peer, p)
                check("@lid" not in json.dumps(p), p)


if __name__ == "__main__":
    run([test_migrate_mid_conversation])
