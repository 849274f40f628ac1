"""test_lid_groups - groups in LID addressing and the participant hash,
through the full stack with wa-sim as the server.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Everything real (PostgreSQL, the five services, wa-sim over the wire
protocol, Signal sender keys). Sessions a and b (Wharf), c a wa-sim
phone. For each addressing mode, PN then LID (wa-sim's `lid_groups` rule
on a's account makes a's new groups `addressing_mode="lid"`), with a
held to the `check_phash` rule (docs/protocol-fidelity.md rules 7, 8):
- a creates a group with b and c (and d, a phone a never heard of, in
  LID mode): the payload says the mode, members are @c.us with their
  `lid`; participants/v2 names them by LID with `pn` in LID groups; a
  learns d's pair from the group's metadata alone (/lids);
- a's text reaches b (from = the group, participant = a's @c.us in both
  modes); a's stanza carried the mode and a participant hash the server
  took (no `phash` on its ack);
- b's text and c's phone's text reach a, participant = the sender's
  @c.us;
- a phash mismatch recovered: wa-sim links a device to c behind a's
  back; a's next text is acked with the server's hash; a reads the
  group's devices again and sends that message to the new device once
  (`participant` = the device, in the group's addressing); a's text
  after that carries the right hash; nothing loops;
- b's receipts of a's group messages reach a (message.ack.group) by
  b's number in both modes; no LID shows in any webhook payload (from,
  to, participant, author, key).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from engine_util import EVENTS, account, hooks, link_qr, stack  # noqa: E402
from harness import Receiver, check, run, wait_for  # noqa: E402
from wasim import WaSim  # noqa: E402

A, B, C, D = "15550004441", "15550004442", "15550004443", "15550004444"


def cus(phone):
    return phone + "@c.us"


def one(rx, name, event, body, timeout=30):
    """Wait for the payload of `event` with `body` at session `name`."""
    got = wait_for(lambda: [e["payload"] for e in hooks(rx, name, event)
                            if e["payload"].get("body") == body],
                   timeout, what="%s %r at %s" % (event, body, name))
    return got[0]


def send(s, session, chat, text):
    st, m, _ = s.api("POST", "/api/sendText",
                     {"session": session, "chatId": chat, "text": text})
    check(st == 201, (st, m))
    return m, m["id"].split("_")[2]


def log(sim, phone):
    """wa-sim's stanza log entries of `phone`'s devices."""
    st, body = sim.ctl("GET", "/stanzas?jid=%s&limit=10000" % phone)
    check(st == 200, body)
    return body["stanzas"]


def stanzas(sim, phone, bare, dir_, tag):
    return [x for x in log(sim, phone)
            if x["dir"] == dir_ and x["tag"] == tag and x.get("id") == bare]


def server_acks(sim, bare):
    return [x for x in stanzas(sim, A, bare, "out", "ack")
            if x.get("class") == "message"]


def server_ack(sim, bare):
    """The server's (first) ack of a's message `bare` (waits for it)."""
    return wait_for(lambda: server_acks(sim, bare), 20,
                    what="server ack of %s" % bare)[0]


def check_incoming(p, gid, sender, text, bare):
    check(p["from"] == gid and p["participant"] == cus(sender)
          and p["fromMe"] is False and p["body"] == text, p)
    check(p["id"] == "false_%s_%s_%s" % (gid, bare, cus(sender)), p)
    check(p["_data"]["key"]["participant"] == cus(sender), p)


def run_mode(s, sim, rx, mode, lids):
    lid = mode == "lid"
    st, body = sim.ctl("PUT", "/faults", {"phone": A, "lid_groups": lid,
                                          "check_phash": True})
    check(st == 200 and body["accounts"][A]["lid_groups"] is lid
          and body["accounts"][A]["check_phash"] is True, body)
    # D, a phone a never heard of, only joins the LID group
    members = (A, B, C, D) if lid else (A, B, C)
    st, g, _ = s.api("POST", "/api/a/groups", {
        "name": "Team " + mode, "participants": [{"id": cus(p)} for p in members[1:]]})
    check(st == 201, (st, g))
    gid = g["id"]
    check(g["addressingMode"] == mode and g["owner"] == cus(A), g)
    want = {cus(p): lids[p] for p in members}
    check({p["id"]: p.get("lid") for p in g["participants"]} == want, g)
    st, sims = sim.ctl("GET", "/groups")
    check([x["addressing_mode"] for x in sims["groups"] if x["id"] == gid] == [mode],
          sims)
    # participants/v2: LID groups name members by LID, the number beside
    st, v2, _ = s.api("GET", "/api/b/groups/%s/participants/v2" % gid)
    check(st == 200, (st, v2))
    if lid:
        check(sorted((p["id"], p["pn"]) for p in v2)
              == sorted((lids[p], cus(p)) for p in members), v2)
        # a learnt D's pair from the group's metadata alone (the one map)
        got = wait_for(lambda: [b for st, b, _ in [s.api("GET", "/api/a/lids/" + lids[D])]
                                if st == 200], 20, what="a's map knows D")[0]
        check(got == {"lid": lids[D], "pn": cus(D)}, got)
    else:
        check(sorted(p["id"] for p in v2) == sorted(cus(p) for p in (A, B, C))
              and not [p for p in v2 if "pn" in p], v2)
    st, got, _ = s.api("GET", "/api/b/groups/" + gid)
    check(st == 200 and got["addressingMode"] == mode
          and {p["id"]: p.get("lid") for p in got["participants"]} == want, got)

    # a writes: b gets it from a's number; the stanza carried the mode
    # and a hash the server took
    text = "hello %s group" % mode
    m, bare = send(s, "a", gid, text)
    check(m["participant"] == cus(A), m)
    check_incoming(one(rx, "b", "message", text), gid, A, text, bare)
    out = stanzas(sim, A, bare, "in", "message")
    check(len(out) == 1 and out[0]["phash"].startswith("2:")
          and len(out[0]["phash"]) == 10, out)
    check(out[0].get("addressing_mode") == ("lid" if lid else None), out)
    check("phash" not in server_ack(sim, bare), "a's hash was refused")

    # b and c's phone write: a gets them from their numbers
    m, bare_b = send(s, "b", gid, "b in the %s group" % mode)
    check_incoming(one(rx, "a", "message", "b in the %s group" % mode), gid, B,
                   "b in the %s group" % mode, bare_b)
    st, res = sim.ctl("POST", "/accounts/%s/send" % C,
                      {"to": gid, "text": "c in the %s group" % mode})
    check(st == 200, (st, res))
    check_incoming(one(rx, "a", "message", "c in the %s group" % mode), gid, C,
                   "c in the %s group" % mode, res["id"])

    # A device joins c's account behind a's back: a's next send meets
    # the server's hash, a reads the devices again and sends the message
    # to the device it missed, once
    st, dev = sim.ctl("POST", "/accounts/%s/devices" % C)
    check(st == 201 and dev["linked"] is True, (st, dev))
    new_dev = "%s:%d@%s" % (lids[C][:-4] if lid else C, dev["id"],
                            "lid" if lid else "s.whatsapp.net")
    text = "after a new device (%s)" % mode
    m, bare = send(s, "a", gid, text)
    check_incoming(one(rx, "b", "message", text), gid, A, text, bare)
    theirs = server_ack(sim, bare).get("phash")
    check(theirs and theirs != stanzas(sim, A, bare, "in", "message")[0]["phash"],
          "the server named its hash")
    resends = wait_for(lambda: [x for x in stanzas(sim, A, bare, "in", "message")
                                if x.get("participant") == new_dev],
                       20, what="the resend to %s" % new_dev)
    check(len(resends) == 1 and resends[0]["to"] == gid
          and resends[0]["child"] == "enc", resends)
    # a's next text carries the server's view of the devices
    text = "with the new device (%s)" % mode
    m, bare2 = send(s, "a", gid, text)
    one(rx, "b", "message", text)
    check(stanzas(sim, A, bare2, "in", "message")[0]["phash"] == theirs,
          "a's hash after the refresh")
    check("phash" not in server_ack(sim, bare2), "the refreshed hash was refused")
    # Never a loop: one resend, and one message stanza of a's per id
    msgs = stanzas(sim, A, bare, "in", "message")
    check(len(msgs) == 2, msgs)
    acks = server_acks(sim, bare)
    check(len(acks) == 2 and "phash" not in acks[1], acks)
    check(len(stanzas(sim, A, bare2, "in", "message")) == 1, "second send")
    check(len(server_acks(sim, bare2)) == 1, "second send's ack")


def test_lid_groups():
    with WaSim() as sim, stack(sim) as s, Receiver() as rx:
        for name, phone, push in (("a", A, "Alice"), ("b", B, "Bob")):
            account(sim, phone, push)
            st, body, _ = s.api("POST", "/api/sessions", {
                "name": name, "start": True,
                "config": {"webhooks": [{"url": rx.url + "/" + name,
                                         "events": EVENTS + ["message.ack.group"]}]}})
            check(st == 201, (st, body))
            link_qr(s, sim, name, phone)
        account(sim, C, "Carol")
        account(sim, D, "Dave")
        lids = {}
        for p in (A, B, C, D):
            st, acc = sim.ctl("GET", "/accounts/" + p)
            check(st == 200, acc)
            lids[p] = acc["lid"]
        for mode in ("pn", "lid"):
            run_mode(s, sim, rx, mode, lids)
        # b's receipts of a's three group messages per mode: by b's
        # number in both modes
        wait_for(lambda: len({e["payload"]["id"] for e in hooks(rx, "a", "message.ack.group")
                              if e["payload"].get("participant") == cus(B)}) == 6,
                 20, what="b's receipts at a")
        # No LID leaks into the payloads: members are @c.us everywhere
        for name in ("a", "b"):
            for e in hooks(rx, name):
                p = e["payload"]
                for k in ("from", "to", "participant", "author"):
                    check("@lid" not in str(p.get(k) or ""), (name, e["event"], k, p))
                check("@lid" not in str(p.get("_data", {}).get("key", {})), (name, p))
        # Every message once per webhook
        for name in ("a", "b"):
            ids = [e["payload"]["id"] for e in hooks(rx, name, "message")]
            check(len(ids) == len(set(ids)), (name, ids))


if __name__ == "__main__":
    run([test_lid_groups])
