"""test_tctoken_history - privacy tokens and the NCT salt from history sync
and app state, through the full stack.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

The recipients here hold the rules `tctoken` and `tctoken_withheld`
(wa-sim, sim_tctoken): a DM passes only with a valid <tctoken> they
issued to the sender, or with a <cstoken> = HMAC-SHA256(sender's NCT
salt, recipient's LID); the 463 path cannot get a token. So one message
stanza and 201 prove the right token went along, and 502/463 after one
stanza proves none did (never a loop).

- a's phone seeds its history with the tokens Bob, Carol and Erin gave
  it (Conversation tcToken 21, tcTokenTimestamp 22, tcTokenSender-
  Timestamp 28): Bob's and Erin's are fresh, Carol's is 35 days old.
  a sends Bob (LID mode: to Bob's LID) and Erin (PN mode, `lid_hidden`:
  to her number) with their tokens at once; Carol's expired token is not
  used (no salt yet): 463.
- b's phone puts its NCT salt in the history (HistorySync nctSalt 19): b
  sends Dan, who gave b no token, with a cstoken derived from it; Erin's
  LID is hidden, so no cstoken can be made for her: 463.
- a's phone sets a salt in app state (["nct_salt_sync"], regular_high):
  a now reaches Carol with a cstoken; when the phone removes the salt,
  a's DM to Dan gets 463 again.
"""
import os
import secrets
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Receiver, check, run, wait_for  # noqa: E402
from engine_util import account, api_ready, create, link_qr, stack  # noqa: E402
from wasim import WaSim  # noqa: E402

A, A2 = "15550008201", "15550008202"                          # Wharf a, b
B, C, D, E = "15550008203", "15550008204", "15550008205", "15550008206"
TMP = tempfile.mkdtemp(prefix="wharf-tctoken-history-")
CERT = os.path.join(TMP, "media.crt")
NOW = int(time.time())


def rules(sim, phone, **kw):
    st, body = sim.ctl("PUT", "/faults", dict(kw, phone=phone))
    check(st == 200, (st, body))


def to_of(sim, msg_id):
    """`to` of each message stanza the clients sent with this id."""
    st, body = sim.ctl("GET", "/stanzas?since=0&limit=10000")
    check(st == 200, (st, body))
    return [x.get("to") for x in body["stanzas"] if x["dir"] == "in"
            and x["tag"] == "message" and x.get("id") == msg_id]


def sent(s, sim, frm, to, text):
    """A DM that must pass with one stanza; returns its `to`."""
    st, m, _ = api_ready(s, "POST", "/api/sendText",
                         {"session": frm, "chatId": to + "@c.us", "text": text})
    check(st == 201, (text, st, m))
    got = to_of(sim, m["id"].split("_")[2])
    check(len(got) == 1, (text, got))
    return got[0]


def to_count(sim, phone):
    """Message stanzas the clients sent to `phone` (its LID or number)."""
    lid = sim.ctl("GET", "/accounts/" + phone)[1]["lid"]
    st, body = sim.ctl("GET", "/stanzas?since=0&limit=10000")
    check(st == 200, (st, body))
    return len([x for x in body["stanzas"] if x["dir"] == "in" and x["tag"]
                == "message" and x.get("to") in (lid, phone + "@s.whatsapp.net")])


def refused(s, sim, frm, to, text):
    """A DM that must fail with 463 after one stanza."""
    before = to_count(sim, to)
    st, m, _ = api_ready(s, "POST", "/api/sendText",
                         {"session": frm, "chatId": to + "@c.us", "text": text})
    check(st == 502 and "463" in m.get("message", str(m)), (text, st, m))
    check(to_count(sim, to) == before + 1, (text, "one stanza"))


def log_has(s, text):
    return wait_for(lambda: text in s.proc("session-worker-0").text(), 60,
                    what=text)


def test_tctoken_history():
    with WaSim("--media-cert", CERT) as sim, \
            stack(sim, MEDIA_CA_FILE=CERT) as s, Receiver() as rx:
        for phone, name in ((A, "Alice"), (A2, "Abe"), (B, "Bob"),
                            (C, "Carol"), (D, "Dan"), (E, "Erin")):
            account(sim, phone, name)
        # bad seeds are refused
        for bad in ({"nctSalt": 1},
                    {"chats": [{"id": B + "@c.us", "tctoken": "yes"}]},
                    {"chats": [{"id": B + "@c.us", "tctokenTimestamp": 0}]}):
            st, body = sim.ctl("PUT", "/accounts/%s/history" % A, bad)
            check(st == 400, (bad, st, body))
        st, body = sim.ctl("PUT", "/accounts/%s/history" % A, {"chats": [
            {"id": B + "@c.us", "name": "Bob", "tctoken": True,
             "tctokenSenderTimestamp": NOW - 60},
            {"id": C + "@c.us", "name": "Carol", "tctoken": True,
             "tctokenTimestamp": NOW - 35 * 86400},
            {"id": E + "@c.us", "name": "Erin", "tctoken": True}]})
        check(st == 200, (st, body))
        st, body = sim.ctl("PUT", "/accounts/%s/history" % A2,
                           {"nctSalt": True, "chats": [{"id": D + "@c.us"}]})
        check(st == 200, (st, body))
        for phone in (B, C, D):
            rules(sim, phone, tctoken=True, tctoken_withheld=True)
        rules(sim, E, tctoken=True, tctoken_withheld=True, lid_hidden=True)
        b_lid, d_lid = (sim.ctl("GET", "/accounts/" + p)[1]["lid"] for p in (B, D))

        # -- a: tokens from history ------------------------------------------
        create(s, "a", rx)
        link_qr(s, sim, "a", A)
        log_has(s, 'msg="history stored" session="a" type=INITIAL_BOOTSTRAP')
        check("tokens=3" in s.proc("session-worker-0").text(), "3 tokens")
        check(sent(s, sim, "a", B, "with bob's history token") == b_lid, "to LID")
        check(sent(s, sim, "a", E, "with erin's history token")
              == E + "@s.whatsapp.net", "to the number")
        refused(s, sim, "a", C, "carol's token is too old")

        # -- b: the NCT salt from history -------------------------------------
        create(s, "b", rx)
        link_qr(s, sim, "b", A2)
        log_has(s, 'msg="NCT salt stored" session=b source=history')
        check(sim.ctl("GET", "/accounts/" + A2)[1]["nct_salt"] is True, "salt")
        check(sent(s, sim, "b", D, "cold start to dan") == d_lid, "to LID")
        refused(s, sim, "b", E, "no LID, no cstoken")

        # -- a: the NCT salt from app state, then removed ----------------------
        salt = secrets.token_hex(32)
        st, body = sim.ctl("POST", "/accounts/%s/app-state/actions" % A, {
            "actions": [{"index": ["nct_salt_sync"], "value": {"salt": salt}}]})
        check(st == 200, (st, body))
        check(body["patches"][0]["collection"] == "regular_high", body)
        log_has(s, 'msg="NCT salt stored" session=a source=app-state')
        sent(s, sim, "a", C, "carol by cstoken")
        st, body = sim.ctl("POST", "/accounts/%s/app-state/actions" % A, {
            "actions": [{"index": ["nct_salt_sync"], "op": "remove"}]})
        check(st == 200, (st, body))
        log_has(s, 'msg="NCT salt cleared" session=a')
        refused(s, sim, "a", D, "salt gone")
        # the salt never shows in logs
        check(salt not in s.proc("session-worker-0").text(), "salt logged")


if __name__ == "__main__":
    run([test_tctoken_history])
