"""test_devident - device identity checks, through the full stack.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

wa-sim signs each account's key-index list with the account key; a
device added with {"forged": true} is listed but left out of the signed
list (a device the server slipped in), and `send-as` texts from a
companion with a device identity the account signs, or a forged one.
Wharf (wa_devident):
- encrypts to the devices the account signed and not to the forged one
  (it keeps no copy); a device added behind our back but signed gets it;
- opens a pkmsg from a companion whose device identity holds;
- refuses one whose account signature does not hold, and one whose key
  index the account's signed list does not hold (send-as `key_index`):
  no message event, a log line;
- checks our own other devices against our own account key (from the
  credentials): our companion the account never signed gets no copy;
- vouches for a companion of a user whose primary it never reached
  before reading its pkmsg (and reads what the user's other devices
  sent meanwhile after it, in the order it came): it fetches the user's device list (signed
  key-index list) and the primary's bundle (the account key), then
  checks the identity against them: a genuine companion is read; one
  whose identity and signatures are made by another key than the
  account's (each signature holds on its own) is refused, as is one with
  a key index the fetched list does not hold (both were read before);
- does not take on trust what it cannot check: while Quinn's prekeys
  cannot be fetched, Quinn's companion writing first is refused (the
  account key is unknown); once they can, it is read and gets copies.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Receiver, check, run, wait_for  # noqa: E402
from engine_util import account, api_ready, hooks, linked, stack  # noqa: E402
from wasim import WaSim  # noqa: E402

A, P, Q = "15550008301", "15550008302", "15550008303"
R, S, T = "15550008304", "15550008305", "15550008306"


def devices(sim, phone):
    st, body = sim.ctl("GET", "/accounts/%s/devices" % phone)
    check(st == 200, (st, body))
    return {d["id"]: d for d in body["devices"]}


def test_device_identity():
    with WaSim() as sim, stack(sim) as s, Receiver() as rx:
        linked(s, sim, rx, [("a", A, "Alice")])
        account(sim, P, "Pat")
        st, good = sim.ctl("POST", "/accounts/%s/devices" % P, {})
        check(st == 201 and good["forged"] is False, (st, good))
        st, rogue = sim.ctl("POST", "/accounts/%s/devices" % P, {"forged": True})
        check(st == 201 and rogue["forged"] is True, (st, rogue))
        st, body = sim.ctl("POST", "/accounts/%s/devices" % P, {"forged": 1})
        check(st == 400, (st, body))

        # Outgoing: the signed companion gets a copy, the forged one none
        st, m, _ = api_ready(s, "POST", "/api/sendText",
                             {"session": "a", "chatId": P + "@c.us", "text": "hi pat"})
        check(st == 201, (st, m))
        msg_id = m["id"].split("_")[2]
        d = devices(sim, P)
        check(msg_id in d[good["id"]]["queued_messages"], d[good["id"]])
        check(msg_id not in d[rogue["id"]]["queued_messages"], d[rogue["id"]])
        wait_for(lambda: "device dropped: the account did not sign it" in s.logs(),
                 10, what="the worker logged the dropped device")

        # Incoming: a companion's pkmsg with a device identity the account
        # signed is read; a forged one is refused and logged
        st, r = sim.ctl("POST", "/accounts/%s/send-as" % P,
                        {"to": A, "text": "from a companion", "device": good["id"]})
        check(st == 200 and r["copies"] == 1, (st, r))
        got = wait_for(lambda: [e for e in hooks(rx, "a", "message")
                                if e["payload"]["body"] == "from a companion"],
                       20, what="the companion's text")
        check(got[0]["payload"]["from"] == P + "@c.us", got[0]["payload"])
        st, r = sim.ctl("POST", "/accounts/%s/send-as" % P,
                        {"to": A, "text": "forged", "device": 78, "forge": True})
        check(st == 200 and r["copies"] == 1, (st, r))
        wait_for(lambda: "device identity refused" in s.logs(), 20,
                 what="the worker refused the forged identity")
        # Signed, but with a key index the account's signed list does not
        # hold (a device the account removed): refused too
        st, body = sim.ctl("POST", "/accounts/%s/send-as" % P,
                           {"to": A, "text": "x", "device": 79, "key_index": -1})
        check(st == 400, (st, body))
        st, r = sim.ctl("POST", "/accounts/%s/send-as" % P,
                        {"to": A, "text": "stale index", "device": good["id"],
                         "key_index": 999})
        check(st == 200 and r["copies"] == 1, (st, r))
        wait_for(lambda: "key index not in the account" in s.logs(), 20,
                 what="the worker refused the identity's key index")
        # a later text arrives; the forged ones never did
        st, r = sim.ctl("POST", "/accounts/%s/send" % P, {"to": A, "text": "after"})
        check(st == 200, (st, r))
        wait_for(lambda: [e for e in hooks(rx, "a", "message")
                          if e["payload"]["body"] == "after"], 20, what="after")
        time.sleep(0.5)
        check(not [e for e in hooks(rx, "a", "message")
                   if e["payload"]["body"] in ("forged", "stale index")],
              "forged text delivered")

        # Our own other devices answer to our own account key (from the
        # credentials): a companion of ours the account never signed gets
        # no copy of what we send, a signed one does
        st, mine = sim.ctl("POST", "/accounts/%s/devices" % A, {})
        check(st == 201, (st, mine))
        st, my_rogue = sim.ctl("POST", "/accounts/%s/devices" % A, {"forged": True})
        check(st == 201, (st, my_rogue))
        # (nobody told a: a restart makes it read its own list again)
        for verb in ("stop", "start"):
            st, _, _ = s.api("POST", "/api/sessions/a/" + verb)
            check(st in (200, 201), (verb, st))
        s.wait_status("a", "WORKING", 30)
        st, m, _ = api_ready(s, "POST", "/api/sendText",
                             {"session": "a", "chatId": P + "@c.us", "text": "own fanout"})
        check(st == 201, (st, m))
        msg_id = m["id"].split("_")[2]
        d = devices(sim, A)
        check(msg_id in d[mine["id"]]["queued_messages"], d[mine["id"]])
        check(msg_id not in d[my_rogue["id"]]["queued_messages"], d[my_rogue["id"]])

        # Companions of users whose primary a never reached write first:
        # a fetches each user's device list and primary's bundle, then
        # checks. Rita's genuine companion is read; Sam's companion signs
        # with another key than Sam's account (its own signatures hold),
        # Tom's with a key index Tom's list does not hold: both refused
        def first_write(phone, name, text, **kw):
            account(sim, phone, name)
            st, dev = sim.ctl("POST", "/accounts/%s/devices" % phone, {})
            check(st == 201, (st, dev))
            st, r = sim.ctl("POST", "/accounts/%s/send-as" % phone,
                            dict(kw, to=A, text=text, device=dev["id"]))
            check(st == 200 and r["copies"] >= 1, (st, r))
            return dev

        # Rita's phone writes right behind her companion, before a could
        # fetch anything: read after it, in the order they came
        first_write(R, "Rita", "rita's companion first", then="rita's phone second")
        got = wait_for(lambda: [e for e in hooks(rx, "a", "message")
                                if e["payload"]["body"] == "rita's companion first"],
                       20, what="rita's companion's text")
        wait_for(lambda: [e for e in hooks(rx, "a", "message")
                          if e["payload"]["body"] == "rita's phone second"],
                 20, what="rita's phone's text")
        st, page, _ = s.api("GET", "/api/a/events", query={"after": 0, "limit": 1000})
        check(st == 200, (st, page))
        order = [e["payload"].get("body") for e in page["events"]
                 if e["event"] == "message" and e["payload"].get("from") == R + "@c.us"]
        check(order == ["rita's companion first", "rita's phone second"], order)
        check(got[0]["payload"]["from"] == R + "@c.us", got[0]["payload"])
        r_lid = sim.ctl("GET", "/accounts/" + R)[1]["lid"].split("@")[0]
        check([ln for ln in s.logs().splitlines() if "fetching the account to vouch"
               in ln and ("user=%s@" % R in ln or "user=%s@" % r_lid in ln)],
              "a fetched Rita's account first")
        st, body = sim.ctl("POST", "/accounts/%s/send-as" % R,
                           {"to": A, "text": "x", "device": 5, "forge_account": 1})
        check(st == 400, (st, body))
        first_write(S, "Sam", "sam's forged companion", forge_account=True)
        first_write(T, "Tom", "tom's stale companion", key_index=999)
        def refusals(phone):
            """a's refusals of phone's companions (named by LID or number)."""
            lid = sim.ctl("GET", "/accounts/" + phone)[1]["lid"].split("@")[0]
            return [ln for ln in s.logs().splitlines() if "device identity refused"
                    in ln and ("sender=%s:" % phone in ln or "sender=%s:" % lid in ln)]
        for phone in (S, T):
            wait_for(lambda p=phone: refusals(p), 20,
                     what="a refused %s's companion" % phone)
        check(all("signatures do not hold" in ln for ln in refusals(S)), refusals(S))
        check(all("key index not in the account" in ln for ln in refusals(T)),
              refusals(T))
        st, r = sim.ctl("POST", "/accounts/%s/send" % S, {"to": A, "text": "sam's phone"})
        check(st == 200, (st, r))
        wait_for(lambda: [e for e in hooks(rx, "a", "message")
                          if e["payload"]["body"] == "sam's phone"], 20, what="sam's phone")
        check(not [e for e in hooks(rx, "a", "message") if e["payload"]["body"]
                   in ("sam's forged companion", "tom's stale companion")],
              "a forged companion was read")

        # Not taken on trust: Quinn's prekeys cannot be fetched, so the
        # account key stays unknown: Quinn's companion writing first is
        # refused. Once they can be, it is read and gets copies.
        account(sim, Q, "Quinn")
        st, qc = sim.ctl("POST", "/accounts/%s/devices" % Q, {})
        check(st == 201, (st, qc))
        st, body = sim.ctl("PUT", "/faults", {"phone": Q, "refuse_prekey_fetch": True})
        check(st == 200, (st, body))
        st, r = sim.ctl("POST", "/accounts/%s/send-as" % Q,
                        {"to": A, "text": "quinn unverified", "device": qc["id"]})
        check(st == 200 and r["copies"] == 3, (st, r))  # a and the shadows
        wait_for(lambda: "the account key could not be fetched" in s.logs(), 20,
                 what="the worker refused the unverifiable companion")
        st, body = sim.ctl("PUT", "/faults", {"phone": Q, "refuse_prekey_fetch": False})
        check(st == 200, (st, body))
        st, r = sim.ctl("POST", "/accounts/%s/send-as" % Q,
                        {"to": A, "text": "quinn verified", "device": qc["id"]})
        check(st == 200, (st, r))
        wait_for(lambda: [e for e in hooks(rx, "a", "message")
                          if e["payload"]["body"] == "quinn verified"],
                 20, what="quinn's companion's text")
        check(not [e for e in hooks(rx, "a", "message")
                   if e["payload"]["body"] == "quinn unverified"], "unverified read")
        st, m, _ = api_ready(s, "POST", "/api/sendText",
                             {"session": "a", "chatId": Q + "@c.us", "text": "verified"})
        check(st == 201, (st, m))
        check(m["id"].split("_")[2] in devices(sim, Q)[qc["id"]]["queued_messages"],
              devices(sim, Q)[qc["id"]])


if __name__ == "__main__":
    run([test_device_identity])
