"""test_tctoken - privacy tokens and the 463 rule, through the full stack.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

wa-sim refuses a DM with <ack error="463"> when the recipient's rule
`tctoken` is on and the DM carries no token the recipient issued to the
sender (sim_tctoken). Wharf (wa_tctoken, wa_outbox):
- on a 463 issues its own token, takes the contact's from the answer and
  sends the same stanza once more: the text arrives, two message stanzas;
- with no token to be had (`tctoken_withheld`) the send fails with 463
  after one message stanza: no loop;
- stores the tokens of privacy_token notifications (a phone that wrote
  first) and attaches them: one stanza;
- keeps the tokens across a restart (Signal store kind "tctoken");
- in LID mode (the LID is known: DMs to the LID with peer_recipient_pn)
  and in PN mode (`lid_hidden`: DMs to the number).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import Receiver, check, run, wait_for  # noqa: E402
from engine_util import account, api_ready, hooks, linked, stack  # noqa: E402
from wasim import WaSim  # noqa: E402

A, B = "15550008101", "15550008102"          # Wharf sessions a, b
D, E, F = "15550008104", "15550008105", "15550008106"   # phones only


def rules(sim, phone, **kw):
    """Hold an account to server rules (wa-sim's per-account fault set)."""
    st, body = sim.ctl("PUT", "/faults", dict(kw, phone=phone))
    check(st == 200, (st, body))
    st, body = sim.ctl("GET", "/faults")
    got = body["accounts"][phone]
    check(all(got[k] == v for k, v in kw.items()), body)


def stanzas(sim, msg_id):
    """The stanzas the clients sent with this id (metadata only)."""
    st, body = sim.ctl("GET", "/stanzas?since=0&limit=10000")
    check(st == 200, (st, body))
    return [x for x in body["stanzas"]
            if x["dir"] == "in" and x.get("id") == msg_id]


def send(s, frm, to, text):
    return api_ready(s, "POST", "/api/sendText",
                     {"session": frm, "chatId": to, "text": text})


def sent_ok(s, sim, rx, frm, to, text, receiver=None, copies=1):
    st, m, _ = send(s, frm, to, text)
    check(st == 201, (st, m))
    msg_id = m["id"].split("_")[2]
    got = [x for x in stanzas(sim, msg_id) if x["tag"] == "message"]
    check(len(got) == copies, (text, got))
    if receiver:
        wait_for(lambda: [e for e in hooks(rx, receiver, "message")
                          if e["payload"]["body"] == text], 20,
                 what="%r at %s" % (text, receiver))
    return got


def test_tctoken():
    with WaSim() as sim, stack(sim) as s, Receiver() as rx:
        linked(s, sim, rx, [("a", A, "Alice"), ("b", B, "Bob")])
        for phone, name in ((D, "Dora"), (E, "Eve"), (F, "Fay")):
            account(sim, phone, name)
        st, body = sim.ctl("GET", "/accounts/" + B)
        b_lid = body["lid"]
        st, body = sim.ctl("GET", "/faults")
        check(not any(body["global"][k] for k in
                      ("tctoken", "tctoken_withheld", "lid_hidden")), body)
        st, body = sim.ctl("PUT", "/faults", {"phone": B, "tctoken": 1})
        check(st == 400, (st, body))
        rules(sim, B, tctoken=True)

        # LID mode: refused once (463), token from the answer, sent again
        got = sent_ok(s, sim, rx, "a", B + "@c.us", "needs a token", "b", copies=2)
        check(all(x["to"] == b_lid for x in got), got)
        # b answers; a's next DM carries the token at once
        sent_ok(s, sim, rx, "b", A + "@c.us", "answer", "a")
        sent_ok(s, sim, rx, "a", B + "@c.us", "token kept", "b")

        # No token to be had: the send fails with 463 after one stanza
        rules(sim, D, tctoken=True, tctoken_withheld=True)
        st, m, _ = send(s, "a", D + "@c.us", "refused")
        check(st == 502 and "463" in m.get("message", str(m)), (st, m))
        d_lid = sim.ctl("GET", "/accounts/" + D)[1]["lid"]
        st, body = sim.ctl("GET", "/stanzas?since=0&limit=10000")
        to_d = [x for x in body["stanzas"] if x["dir"] == "in" and
                x["tag"] == "message" and x.get("to") in (d_lid, D + "@s.whatsapp.net")]
        check(len(to_d) == 1, to_d)

        # PN mode: the LID is hidden, DMs go to the number
        rules(sim, E, tctoken=True, lid_hidden=True)
        rules(sim, F, tctoken=True, lid_hidden=True)
        # E's phone writes first: its token comes in a privacy_token
        # notification and a's answer carries it (one stanza)
        st, r = sim.ctl("POST", "/accounts/%s/send" % E, {"to": A, "text": "hi a"})
        check(st == 200, (st, r))
        wait_for(lambda: [e for e in hooks(rx, "a", "message")
                          if e["payload"]["body"] == "hi a"], 20, what="hi a")
        got = sent_ok(s, sim, rx, "a", E + "@c.us", "with the notified token")
        check(got[0]["to"] == E + "@s.whatsapp.net", got)
        # F never wrote: 463, token from the answer, sent again, to the number
        got = sent_ok(s, sim, rx, "a", F + "@c.us", "pn mode recovery", copies=2)
        check(all(x["to"] == F + "@s.whatsapp.net" for x in got), got)

        # The tokens survive a restart (Signal store)
        st, _, _ = s.api("POST", "/api/sessions/a/stop")
        check(st in (200, 201), st)
        st, _, _ = s.api("POST", "/api/sessions/a/start")
        check(st in (200, 201), st)
        s.wait_status("a", "WORKING", 20)
        sent_ok(s, sim, rx, "a", B + "@c.us", "after restart", "b")
        sent_ok(s, sim, rx, "a", F + "@c.us", "pn after restart")


if __name__ == "__main__":
    run([test_tctoken])
