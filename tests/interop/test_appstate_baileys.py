"""test_appstate_baileys - app state between Wharf and an unmodified
Baileys linked as a second device of the SAME account, through wa-sim.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Wharf session w and Baileys are both companions of account A (wa-sim's
phone A scans both QRs and shares its app-state key with each); Bob's
phone writes to A so both have the chat. Then, each side uploading
patches the other fetches on server_sync, MACs and LTHash checked by the
receiver:
- Baileys archives the chat, makes a label and puts it on the chat, pins,
  mutes and marks the chat unread, stars Bob's message: Wharf emits
  chat.archive, label.upsert and label.chat.added (WAHA's fields, the
  label in it), GET /chats shows pinned, muted and unread, GET
  .../messages the star;
- the phone's seeded history reaches both, one chunk at a time: each
  confirms each chunk with <receipt type="hist_sync">, which wa-sim's
  phone waits for before the next;
- Wharf unarchives, pins, mutes, marks unread and stars Bob's message:
  Baileys emits chats.update (archived false, pinned, muteEndTime,
  unreadCount -1) and messages.update (starred) for the chat and the
  message; Wawp's PUT /v2/send/star unstars it (starred false);
- delete for me, clear chat and delete chat both ways: Baileys deletes a
  message for me (gone at Wharf), Wharf does with forEveryone=false
  (Baileys' messages.delete); Baileys clears the chat (Wharf keeps the
  chat, no messages), Wharf does (Baileys' regular_high version reaches
  the patch: Baileys emits nothing for clearChat); Wharf deletes the chat
  (Baileys' chats.delete), Baileys deletes Carol's (gone at Wharf).
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
sys.path.insert(0, os.path.dirname(__file__))
from harness import check, wait_for  # noqa: E402
from engine_util import api_ready, hooks  # noqa: E402
from baileys_util import Interop  # noqa: E402

A = "15550009101"
B = "15550009102"
CHAT = B + "@c.us"
JID = B + "@s.whatsapp.net"
CAROL = "15550009103@c.us"
EVENTS = ["session.status", "message", "chat.archive", "label.upsert",
          "label.chat.added", "label.chat.deleted"]


def evs(event, pred=lambda p: True):
    return [e["payload"] for e in hooks(ctx["rx"], "w", event) if pred(e["payload"])]


def wharf_chat():
    st, chats, _ = ctx["s"].api("GET", "/api/w/chats")
    check(st == 200, (st, chats))
    got = [c for c in chats if c["id"] == CHAT]
    return got[0] if got else None


def baileys_modify(mod, jid=JID):
    """sock.chatModify, retried while Baileys waits for the phone's key."""
    peer = ctx["peer"]
    out = {}

    def attempt():
        n = len(peer.events())
        peer.proc.stdin.write(json.dumps(
            {"cmd": "sock", "method": "chatModify", "args": [mod, jid]}) + "\n")
        peer.proc.stdin.flush()
        got = wait_for(lambda: [e for e in peer.events()[n:]
                                if e["event"] in ("result", "error")], 60,
                       interval=0.1, what="baileys chatModify answer")
        out["last"] = got[0]
        return got[0]["event"] == "result"
    wait_for(attempt, 60, interval=0.5, what="baileys chatModify %s" % list(mod))
    return out["last"]


def seed(ix):
    """A's phone has a history: each companion gets it once linked."""
    st, body = ix["sim"].ctl("PUT", "/accounts/%s/history" % A, {
        "chats": [{"id": CAROL, "name": "Carol", "messages": [
            {"id": "HCAROL1", "text": "before the link",
             "timestamp": int(time.time()) - 3600}]}],
        "contacts": [{"id": CAROL, "pushName": "Carol"}]})
    check(st == 200, (st, body))


# Wharf session w and Baileys: two companions of A; history blobs come
# from wa-sim's HTTPS media host
ctx = Interop(A, B, EVENTS, before_link=seed, wharf_name="Alice",
              peer_name="Bob", media=True, same_account=True)


def test_both_linked():
    """Both are companions of A; Bob writes to A: both have the chat."""
    sim, peer = ctx["sim"], ctx["peer"]
    st, devices = sim.ctl("GET", "/accounts/%s/devices" % A)
    check(st == 200 and len([d for d in devices["devices"] if d["id"] != 0]) == 2,
          devices)
    st, sent = sim.ctl("POST", "/accounts/%s/send" % B, {"to": A, "text": "hi A"})
    check(st == 200, (st, sent))
    ctx["hi"] = sent["id"]
    wait_for(wharf_chat, 30, what="Bob's chat at Wharf")
    peer.wait(lambda e: e["event"] == "message" and e.get("text") == "hi A", 30,
              "hi A at Baileys")


def test_history_receipts():
    """Each companion confirms each history chunk with <receipt
    type="hist_sync">, Baileys as Wharf: the phone sent both chunks
    (INITIAL_BOOTSTRAP, PUSH_NAME) to each, one after the other."""
    def confirmed():
        st, body = ctx["sim"].ctl("GET", "/accounts/%s/history" % A)
        check(st == 200, (st, body))
        devs = body["devices"]
        return devs if len(devs) == 2 and all(
            d["sent"] == 2 and d["receipts"] == 2 and d["pending"] == 0
            for d in devs) else None
    devs = wait_for(confirmed, 60, what="hist_sync receipts of Wharf and Baileys")
    check(all(d["unexpected"] == 0 for d in devs), devs)
    carol = wait_for(lambda: [c for c in ctx["s"].api("GET", "/api/w/chats")[1]
                              if c["id"] == CAROL], 30, what="Carol's chat from history")
    check(carol[0]["name"] == "Carol"
          and carol[0]["lastMessage"]["body"] == "before the link", carol)


def test_baileys_to_wharf():
    peer = ctx["peer"]
    last = {"key": {"remoteJid": JID, "id": ctx["hi"], "fromMe": False},
            "messageTimestamp": 1767000000}
    baileys_modify({"archive": True, "lastMessages": [last]})
    ev = wait_for(lambda: evs("chat.archive", lambda p: p["archived"] is True), 30,
                  what="chat.archive from Baileys")[0]
    check(set(ev) == {"id", "archived", "timestamp"} and ev["id"] == CHAT
          and isinstance(ev["timestamp"], int) and ev["timestamp"] > 1700000000, ev)
    wait_for(lambda: (wharf_chat() or {}).get("archived") is True, 30,
             what="archived in GET /chats")

    baileys_modify({"addLabel": {"id": "5", "name": "From Baileys", "color": 3,
                                 "deleted": False}})
    up = wait_for(lambda: evs("label.upsert", lambda p: p["id"] == "5"), 30,
                  what="label.upsert from Baileys")[0]
    check(set(up) == {"id", "name", "color", "colorHex"} and up["name"] == "From Baileys"
          and up["color"] == 3 and up["colorHex"].startswith("#"), up)
    st, labels, _ = ctx["s"].api("GET", "/api/w/labels")
    check(st == 200 and labels == [up], (st, labels))
    baileys_modify({"addChatLabel": {"labelId": "5"}})
    added = wait_for(lambda: evs("label.chat.added", lambda p: p["labelId"] == "5"), 30,
                     what="label.chat.added from Baileys")[0]
    check(added == {"labelId": "5", "chatId": CHAT, "label": up}, added)
    st, body, _ = ctx["s"].api("GET", "/api/w/labels/chats/%s" % CHAT)
    check(st == 200 and body == [up], (st, body))

    baileys_modify({"pin": True})
    mute_end = (int(time.time()) + 8 * 3600) * 1000
    baileys_modify({"mute": mute_end})
    baileys_modify({"markRead": False, "lastMessages": [last]})
    c = wait_for(lambda: (lambda c: c if c and c["pinned"] and c["unreadCount"] == -1
                          and c["isMuted"] else None)(wharf_chat()), 30,
        what="pinned, muted, unread from Baileys")
    check(c["muteExpiration"] == mute_end // 1000, c)
    # Baileys stars Bob's message: GET .../messages shows it starred
    baileys_modify({"star": {"messages": [{"id": ctx["hi"], "fromMe": False}],
                             "star": True}})

    def starred():
        st, msgs, _ = ctx["s"].api("GET", "/api/w/chats/%s/messages" % CHAT)
        got = [m for m in msgs if m["id"] == "false_%s_%s" % (CHAT, ctx["hi"])]
        return got[0] if got and got[0]["_data"].get("starred") is True else None
    wait_for(starred, 30, what="starred by Baileys at Wharf")
    check(peer.proc.poll() is None, "baileys alive")


def test_wharf_to_baileys():
    peer, s = ctx["peer"], ctx["s"]
    st, body, _ = api_ready(s, "POST", "/api/w/chats/%s/unarchive" % CHAT)
    check(st == 201 and body == {"success": True}, (st, body))
    up = peer.wait_ev("chats.update", lambda d: d.get("id") == JID
                      and d.get("archived") is False, 30, "unarchived by Wharf")
    check(up["archived"] is False, up)

    st, body, _ = s.api("POST", "/api/w/chats/%s/pin" % CHAT)
    check(st == 201, (st, body))
    pinned = peer.wait_ev("chats.update", lambda d: d.get("id") == JID
                          and d.get("pinned"), 30, "pinned by Wharf")
    check(isinstance(pinned["pinned"], int) and pinned["pinned"] > 1700000000, pinned)

    st, body, _ = s.api("POST", "/api/w/chats/%s/unmute" % CHAT)
    check(st == 201, (st, body))
    st, body, _ = s.api("POST", "/api/w/chats/%s/mute" % CHAT, {"duration": 3600})
    check(st == 201, (st, body))
    now_ms = time.time() * 1000
    muted = peer.wait_ev("chats.update", lambda d: d.get("id") == JID
                         and now_ms < (d.get("muteEndTime") or 0) <= now_ms + 3700 * 1000,
                         30, "muted by Wharf for an hour")
    check(muted["muteEndTime"] % 1000 == 0, muted)

    st, body, _ = s.api("POST", "/api/w/chats/%s/unread" % CHAT)
    check(st == 201, (st, body))
    unread = peer.wait_ev("chats.update", lambda d: d.get("id") == JID
                          and d.get("unreadCount") == -1, 30, "unread by Wharf")
    check(unread["unreadCount"] == -1, unread)

    st, body, _ = s.api("PUT", "/api/star", {"session": "w", "chatId": CHAT,
                                             "messageId": "false_%s_%s" % (CHAT, ctx["hi"]),
                                             "star": True})
    check(st == 200 and body == {"success": True}, (st, body))
    star = peer.wait_ev("messages.update", lambda d: d.get("key", {}).get("id") == ctx["hi"]
                        and d.get("update", {}).get("starred") is True, 30,
                        "starred by Wharf")
    check(star["key"]["remoteJid"] == JID and star["key"]["fromMe"] is False, star)
    # Wawp's form unstars it
    st, body, _ = s.api("PUT", "/v2/send/star?instance_id=w",
                        {"chatId": CHAT, "messageId": "false_%s_%s" % (CHAT, ctx["hi"]),
                         "star": False})
    check(st == 200 and body == {"success": True}, (st, body))
    peer.wait_ev("messages.update", lambda d: d.get("key", {}).get("id") == ctx["hi"]
                 and d.get("update", {}).get("starred") is False, 30, "unstarred (/v2)")



def wharf_bodies(chat=CHAT):
    st, msgs, _ = ctx["s"].api("GET", "/api/w/chats/%s/messages" % chat)
    check(st == 200, (st, msgs))
    return {m["body"] for m in msgs}


def bob_sends(*texts):
    """Bob writes to A: {text: id}, once Wharf and Baileys have them."""
    ids = {}
    for text in texts:
        st, sent = ctx["sim"].ctl("POST", "/accounts/%s/send" % B, {"to": A, "text": text})
        check(st == 200, (st, sent))
        ids[text] = sent["id"]
    for text in texts:
        ctx["peer"].wait(lambda e: e["event"] == "message" and e.get("text") == text,
                         30, "%s at Baileys" % text)
    wait_for(lambda: set(texts) <= wharf_bodies(), 30, what="%s at Wharf" % (texts,))
    return ids


def regular_high(peer):
    """Baileys' app-state version of regular_high."""
    got = peer.cmd("keys", "result", type="app-state-sync-version",
                   ids=["regular_high"])["value"]
    return (got.get("regular_high") or {}).get("version", 0)


def test_deletes():
    """Delete for me, clear chat and delete chat, both ways."""
    peer, s, sim = ctx["peer"], ctx["s"], ctx["sim"]
    now = int(time.time())
    ids = bob_sends("d1", "d2", "d3")
    # Baileys deletes d1 for me: gone at Wharf
    baileys_modify({"deleteForMe": {"deleteMedia": False, "timestamp": now,
                                    "key": {"remoteJid": JID, "id": ids["d1"],
                                            "fromMe": False}}})
    wait_for(lambda: "d1" not in wharf_bodies(), 30, what="d1 deleted by Baileys")
    check({"d2", "d3"} <= wharf_bodies(), wharf_bodies())
    # Wharf deletes d2 for me (forEveryone=false): Baileys' messages.delete
    st, body, _ = s.api("DELETE", "/api/w/chats/%s/messages/false_%s_%s?forEveryone=false"
                        % (CHAT, CHAT, ids["d2"]))
    check(st == 200 and body == {"success": True}, (st, body))
    gone = peer.wait_ev("messages.delete", lambda d: [k for k in d.get("keys", [])
                                                     if k.get("id") == ids["d2"]],
                        30, "d2 deleted for me by Wharf")
    check(gone["keys"] == [{"remoteJid": JID, "id": ids["d2"], "fromMe": False}], gone)
    check("d2" not in wharf_bodies(), wharf_bodies())
    # Baileys clears the chat: Wharf keeps the chat, none of its messages
    baileys_modify({"clear": True, "lastMessages": [
        {"key": {"remoteJid": JID, "id": ids["d3"], "fromMe": False},
         "messageTimestamp": now}]})
    wait_for(lambda: not wharf_bodies(), 30, what="the chat cleared by Baileys")
    check(wharf_chat() is not None, "the chat stays")

    # Wharf clears the chat: Baileys fetches and decodes the patch
    # (Baileys emits no event for clearChat: its regular_high version
    # reaches the patch's)
    bob_sends("d4")
    st, body, _ = s.api("DELETE", "/api/w/chats/%s/messages" % CHAT)
    check(st == 200 and body == {"success": True}, (st, body))
    st, versions = sim.ctl("GET", "/accounts/%s/app-state" % A)
    v_clear = versions["collections"]["regular_high"]
    wait_for(lambda: regular_high(peer) >= v_clear, 30,
             what="Baileys at Wharf's clearChat (v%d)" % v_clear)
    check(not wharf_bodies(), wharf_bodies())
    # Wharf deletes the chat: Baileys' chats.delete
    st, body, _ = s.api("DELETE", "/api/w/chats/%s" % CHAT)
    check(st == 200 and body == {"success": True}, (st, body))
    gone = peer.wait_ev("chats.delete", lambda d: d == JID, 30, "chat deleted by Wharf")
    check(gone == JID and wharf_chat() is None, gone)

    # Baileys deletes Carol's chat (from history): gone at Wharf
    carol_jid = CAROL.replace("@c.us", "@s.whatsapp.net")
    check([c for c in s.api("GET", "/api/w/chats")[1] if c["id"] == CAROL], "Carol's chat")
    baileys_modify({"delete": True, "lastMessages": [
        {"key": {"remoteJid": carol_jid, "id": "HCAROL1", "fromMe": False},
         "messageTimestamp": now - 3600}]}, carol_jid)
    wait_for(lambda: not [c for c in s.api("GET", "/api/w/chats")[1] if c["id"] == CAROL],
             30, what="Carol's chat deleted by Baileys")
    check(wharf_bodies(CAROL) == set(), wharf_bodies(CAROL))
    check(peer.proc.poll() is None, "baileys alive")


if __name__ == "__main__":
    ctx.run([test_both_linked, test_history_receipts, test_baileys_to_wharf,
             test_wharf_to_baileys, test_deletes])
