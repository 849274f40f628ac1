"""test_lid_history - LID <-> PN pairs learnt from history sync, and
history chats that stay one per person.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

docs/protocol-fidelity.md rule 1 (history sync as a source of pairs).
a's phone seeds its history (wa-sim `PUT /accounts/{phone}/history`)
with the three ways a HistorySync names a person's two identities:
- Bob's chat by his LID with his number beside (Conversation pnJid 39);
- Carol's chat by her number with her LID beside (Conversation lidJid 42);
- Dan's chat by his LID alone, his pair in the top-level list
  (HistorySync phoneNumberToLidMappings 15), as is Erin's, who has no chat
  (no account either).
Wharf must learn the four pairs from the history alone (GET /api/a/lids,
/lids/{lid}, /lids/pn/{pn}) and keep ONE chat per person under the
number (@c.us): the history chats, live messages from Bob's and Carol's
phones (LID-addressed), and a's DM to Dan (sent to Dan's LID at once:
the pair is known) all land in the same three chats, with no @lid.
"""
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Receiver, check, run, wait_for  # noqa: E402
from engine_util import account, api_ready, create, hooks, link_qr, stack  # noqa: E402
from wasim import WaSim  # noqa: E402

A, B, C, D = "15550014001", "15550014002", "15550014003", "15550014004"
E, E_LID = "15550014999", "99901400999@lid"  # a pair only, no account
NOW = int(time.time())
CERT = os.path.join(tempfile.mkdtemp(prefix="wharf-lid-history-"), "media.crt")


def lid_of(sim, phone):
    lid = sim.ctl("GET", "/accounts/" + phone)[1]["lid"]
    return lid if "@" in lid else lid + "@lid"


def msg(text, ago, from_me=False):
    m = {"text": text, "timestamp": NOW - ago}
    if from_me:
        m["fromMe"] = True
    return m


def test_history_pairs():
    with WaSim("--media-cert", CERT) as sim, \
            stack(sim, MEDIA_CA_FILE=CERT) as s, Receiver() as rx:
        for phone, name in ((A, "Alice"), (B, "Bob"), (C, "Carol"), (D, "Dan")):
            account(sim, phone, name)
        lids = {p: lid_of(sim, p) for p in (B, C, D)}
        # bad pairs are refused
        for bad in ({"phoneNumberToLidMappings": [{"pnJid": B}]},
                    {"phoneNumberToLidMappings": [{"pnJid": lids[B], "lidJid": B}]},
                    {"chats": [{"id": lids[B], "pnJid": lids[C]}]},
                    {"chats": [{"id": B + "@c.us", "lidJid": C + "@c.us"}]}):
            st, body = sim.ctl("PUT", "/accounts/%s/history" % A, bad)
            check(st == 400, (bad, st, body))
        st, body = sim.ctl("PUT", "/accounts/%s/history" % A, {
            "chats": [
                {"id": lids[B], "pnJid": B + "@c.us", "name": "Bob",
                 "messages": [msg("bob before", 300), msg("a before", 200, True)]},
                {"id": C + "@c.us", "lidJid": lids[C], "name": "Carol",
                 "messages": [msg("carol before", 250)]},
                {"id": lids[D], "messages": [msg("dan before", 150)]}],
            "phoneNumberToLidMappings": [
                {"pnJid": D + "@s.whatsapp.net", "lidJid": lids[D]},
                {"pnJid": E, "lidJid": E_LID}]})
        check(st == 200, (st, body))

        create(s, "a", rx)
        link_qr(s, sim, "a", A)
        wait_for(lambda: 'msg="history stored" session="a" type=INITIAL_BOOTSTRAP'
                 in s.proc("session-worker-0").text(), 60, what="history stored")

        # The four pairs, from the history alone
        want = {lids[B]: B + "@c.us", lids[C]: C + "@c.us",
                lids[D]: D + "@c.us", E_LID: E + "@c.us"}

        def learnt():
            st, body, _ = s.api("GET", "/api/a/lids?limit=100")
            check(st == 200, (st, body))
            return {x["lid"]: x["pn"] for x in body}
        try:
            wait_for(lambda: learnt() == want, 30, what="the history's pairs")
        except AssertionError:
            check(False, ("pairs in /api/a/lids", learnt(), "want", want))
        for lid, pn in want.items():
            st, body, _ = s.api("GET", "/api/a/lids/" + lid)
            check(st == 200 and body == {"lid": lid, "pn": pn}, (lid, st, body))
            st, body, _ = s.api("GET", "/api/a/lids/pn/" + pn.split("@")[0])
            check(st == 200 and body == {"lid": lid, "pn": pn}, (pn, st, body))

        # One chat per person, under the number, from the history
        people = sorted([B + "@c.us", C + "@c.us", D + "@c.us"])

        def chat_ids():
            st, chats, _ = s.api("GET", "/api/a/chats")
            check(st == 200, (st, chats))
            return sorted(c["id"] for c in chats)
        wait_for(lambda: chat_ids() == people, 30, what="three history chats")

        # Live: Bob's and Carol's phones write (from their LIDs, the
        # accounts are LID-migrated); a writes to Dan: to his LID at once
        for phone, text in ((B, "bob live"), (C, "carol live")):
            st, r = sim.ctl("POST", "/accounts/%s/send" % phone, {"to": A, "text": text})
            check(st == 200, (st, r))
            wait_for(lambda: [e for e in hooks(rx, "a", "message")
                              if e["payload"]["body"] == text], 30, what=text)
        st, m, _ = api_ready(s, "POST", "/api/sendText",
                             {"session": "a", "chatId": D + "@c.us", "text": "to dan"})
        check(st == 201, (st, m))
        st, body = sim.ctl("GET", "/stanzas?since=0&limit=10000")
        sent = [x for x in body["stanzas"] if x["dir"] == "in" and x["tag"] == "message"
                and x.get("id") == m["id"].split("_")[2]]
        check(len(sent) == 1 and sent[0]["to"] == lids[D], sent)
        for e in hooks(rx, "a", "message"):
            p = e["payload"]
            check(p["from"] in people and "@lid" not in json.dumps(p), p)

        # Still one chat per person; history and live messages together
        check(chat_ids() == people, chat_ids())
        for peer, texts in ((B, ["bob before", "a before", "bob live"]),
                            (C, ["carol before", "carol live"]),
                            (D, ["dan before", "to dan"])):
            st, msgs, _ = s.api("GET", "/api/a/chats/%s@c.us/messages?limit=100" % peer)
            check(st == 200, (st, msgs))
            check(sorted(x["body"] for x in msgs) == sorted(texts), (peer, msgs))
            check(all(x["id"].split("_")[1] == peer + "@c.us" for x in msgs), (peer, msgs))
            check("@lid" not in json.dumps(msgs), (peer, msgs))


if __name__ == "__main__":
    run([test_history_pairs])
