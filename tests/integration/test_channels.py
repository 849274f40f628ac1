"""test_channels - channels (newsletters) through the full stack, with
wa-sim as the WhatsApp server and its channel directory.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Everything real (PostgreSQL, the five services, wa-sim over the wire
protocol). One stack, sessions a (Alice) and b (Bob), and Carol, a
phone-only wa-sim account:
- bad input: a create without a name, a malformed channel id or invite
  code, an unknown role, view, country or category, a bad limit: 400
  naming the field; an unknown channel (info, follow, preview): 404;
- a creates a channel: the 201 Channel field by field (id, name, invite
  link, description, role OWNER, verified, subscribersCount); a's list
  (with and without role filters), info by id, by invite code and by
  invite link (b sees role GUEST);
- b follows it (201 {}): b's list has it as SUBSCRIBER, the count is 1;
  a posts with sendText to the channel: the 201 WAMessage, and b gets the
  post as a `message` webhook from the channel; b posting is a 403 that
  says why; preview shows the post with its reactions and view count;
  mute, unmute, unfollow (b's list is empty again);
- the directory: channels seeded with countries, categories and
  subscribers; search by view pages with a cursor (POPULAR order,
  hasNextPage / hasPreviousPage, the next page from endCursor), filters
  by country and category; search by text; the search metadata lists;
- an image post (sendImage to the channel) reaches the follower with its
  media and caption, uploaded unencrypted as channel media is (wa-sim
  refuses it otherwise); b's media.url serves a's image; the preview
  with downloadMedia=true carries the image post's media.url (a 400 for
  a downloadMedia that is no boolean);
- a channel created with a picture names its picture and preview URLs;
- delete: b may not (403), a may (200), then the channel is a 404;
- Wawp: /v2/channels (list, info, follow with a literal {id} path).
"""
import base64
import os
import re
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from engine_util import account, link_qr, stack  # noqa: E402
from harness import Receiver, check, run, wait_for  # noqa: E402
from media_util import png  # noqa: E402
from wasim import WaSim  # noqa: E402

A, B, C = "15550007101", "15550007102", "15550007103"
EVENTS = ["session.status", "message", "message.any", "message.ack"]
CHANNEL_KEYS = {"id", "name", "invite", "role", "description", "verified",
                "subscribersCount"}
PUBLIC_KEYS = CHANNEL_KEYS - {"role"}
INVITE = "https://www.whatsapp.com/channel/"
NOWHERE = "120363999999999999@newsletter"
STATE = {}


def q(text):
    return urllib.parse.quote(text, safe="")


def message(res):
    m = res.get("message", "") if isinstance(res, dict) else ""
    return " ".join(m) if isinstance(m, list) else m


def create_session(s, rx, name):
    st, body, _ = s.api("POST", "/api/sessions", {
        "name": name, "start": True,
        "config": {"webhooks": [{"url": rx.url + "/" + name, "events": EVENTS}]}})
    check(st == 201, (st, body))


def check_channel(c, name, role, description="", subscribers=0, keys=CHANNEL_KEYS):
    """A Channel (or ChannelPublicInfo) object, field by field."""
    check(set(c) == keys, c)
    check(re.fullmatch(r"120363\d{12}@newsletter", c["id"]), c)
    check(c["name"] == name and c["description"] == description, c)
    check(re.fullmatch(re.escape(INVITE) + r"0029Va[A-Za-z0-9]{18}", c["invite"]), c)
    check(c["verified"] is False and c["subscribersCount"] == subscribers, c)
    if "role" in keys:
        check(c["role"] == role, c)


def served(s, url):
    """The bytes at a media.url (with the API key)."""
    st, raw, _ = s.raw("GET", urllib.parse.urlparse(url).path,
                       headers={"X-Api-Key": s.api_key})
    check(st == 200, (st, url))
    return raw


def test_bad_input(s):
    for body, field in [({}, "name is required"), ({"name": ""}, "name must be"),
                        ({"name": "x" * 101}, "name must be"),
                        ({"name": "N", "description": 7}, "description must be"),
                        ({"name": "N", "picture": "x"}, "picture must be")]:
        st, res, _ = s.api("POST", "/api/a/channels", body)
        check(st == 400 and field in message(res), (body, st, res))
    for method, path, field in [
            ("GET", "/api/a/channels?role=GUEST", "role must be"),
            ("POST", "/api/a/channels/0029VaAAAAAAAAAAAAAAAAAA/follow", "id must be"),
            ("POST", "/api/a/channels/123@newsletter/follow", "id must be"),
            ("GET", "/api/a/channels/" + q("bad code!"), "invite code"),
            ("GET", "/api/a/channels/%s/messages/preview?limit=0" % q(NOWHERE), "limit"),
            ("DELETE", "/api/a/channels/abc", "id must be")]:
        st, res, _ = s.api(method, path)
        check(st == 400 and field in message(res), (path, st, res))
    for body, field in [({"view": "HOT"}, "view must be"),
                        ({"view": "NEW", "countries": ["XX"]}, "countries must be"),
                        ({"view": "NEW", "categories": ["NOPE"]}, "categories must be"),
                        ({"view": "NEW", "limit": 0}, "limit must be"),
                        ({"view": "NEW", "limit": 101}, "limit must be")]:
        st, res, _ = s.api("POST", "/api/a/channels/search/by-view", body)
        check(st == 400 and field in message(res), (body, st, res))
    st, res, _ = s.api("POST", "/api/a/channels/search/by-text", {"categories": []})
    check(st == 400 and "text is required" in message(res), (st, res))
    # An unknown channel: 404 from WhatsApp, for info, follow and preview
    for method, path in [("GET", "/api/a/channels/" + q(NOWHERE)),
                         ("POST", "/api/a/channels/%s/follow" % q(NOWHERE)),
                         ("GET", "/api/a/channels/%s/messages/preview" % q(NOWHERE)),
                         ("GET", "/api/a/channels/0029VaZZZZZZZZZZZZZZZZZZ")]:
        st, res, _ = s.api(method, path)
        check(st == 404 and res.get("statusCode") == 404, (path, st, res))
    # Unknown session
    st, res, _ = s.api("GET", "/api/nosuch/channels")
    check(st == 404, (st, res))


def test_create_info_list(s):
    st, c, _ = s.api("POST", "/api/a/channels", {"name": "Harbour news",
                                                  "description": "Tides and ships"})
    check(st == 201, (st, c))
    check_channel(c, "Harbour news", "OWNER", "Tides and ships")
    STATE["id"], STATE["invite"] = c["id"], c["invite"][len(INVITE):]
    st, lst, _ = s.api("GET", "/api/a/channels")
    check(st == 200 and isinstance(lst, list) and [x["id"] for x in lst] == [c["id"]], lst)
    check(lst[0] == c, (lst, c))
    st, lst, _ = s.api("GET", "/api/a/channels?role=OWNER")
    check(st == 200 and len(lst) == 1, lst)
    st, lst, _ = s.api("GET", "/api/a/channels?role=SUBSCRIBER")
    check(st == 200 and lst == [], lst)
    st, info, _ = s.api("GET", "/api/a/channels/" + q(c["id"]))
    check(st == 200 and info == c, (st, info))
    # b (not a follower) by invite code and by link (Wawp's query form): GUEST
    for path in ("/api/b/channels/" + STATE["invite"],
                 "/v2/channels/%7Bid%7D?instance_id=b&id=" + q(INVITE + STATE["invite"])):
        st, info, _ = s.api("GET", path)
        check(st == 200, (st, info))
        check_channel(info, "Harbour news", "GUEST", "Tides and ships")
        check(info["id"] == c["id"], info)
    st, lst, _ = s.api("GET", "/api/b/channels")
    check(st == 200 and lst == [], lst)


def test_follow_post_preview(s, sim, rx):
    cid = STATE["id"]
    st, res, _ = s.api("POST", "/api/b/channels/%s/follow" % q(cid))
    check(st == 201 and res == {}, (st, res))
    st, lst, _ = s.api("GET", "/api/b/channels?role=SUBSCRIBER")
    check(st == 200 and len(lst) == 1, lst)
    check_channel(lst[0], "Harbour news", "SUBSCRIBER", "Tides and ships", 1)
    # The owner posts; the follower gets it as a message event
    st, sent, _ = s.api("POST", "/api/sendText", {"session": "a", "chatId": cid,
                                                  "text": "High tide at 6"})
    check(st == 201, (st, sent))
    check(sent["fromMe"] is True and sent["to"] == cid and sent["body"] == "High tide at 6",
          sent)
    check(sent["id"] == "true_%s_%s" % (cid, sent["id"].split("_")[-1]), sent)

    def post():
        got = [e for e in rx.events("message")
               if e["session"] == "b" and e["payload"]["from"] == cid]
        return got[0] if got else None
    ev = wait_for(post, 30, what="b's message event from the channel")
    p = ev["payload"]
    check(p["body"] == "High tide at 6" and p["fromMe"] is False, p)
    check(p["hasMedia"] is False and isinstance(p["timestamp"], int), p)
    check(p["id"].startswith("false_%s_" % cid), p)
    # An image post: the follower gets it with its media
    st, img, _ = s.api("POST", "/api/sendImage", {
        "session": "a", "chatId": cid, "caption": "The harbour at dawn",
        "file": {"data": base64.b64encode(png(32, 24)).decode(), "mimetype": "image/png"}})
    check(st == 201 and img["hasMedia"] is True and img["to"] == cid, (st, img))

    def image():
        got = [e for e in rx.events("message") if e["session"] == "b"
               and e["payload"]["from"] == cid and e["payload"]["hasMedia"]]
        return got[0] if got else None
    p = wait_for(image, 30, what="b's image post")["payload"]
    check(p["body"] == "The harbour at dawn" and p["media"]["mimetype"].startswith("image/"), p)
    # Channel media travels unencrypted (wa-sim refuses a post with a
    # media key); the follower's media.url serves what the owner sent
    check("error" not in p["media"] and p["mediaUrl"] == p["media"]["url"], p)
    check(served(s, p["media"]["url"]) == served(s, img["media"]["url"]),
          "b's media.url serves a's image")
    STATE["image_posts"] = 1
    # A follower may not post: 403 saying why
    st, res, _ = s.api("POST", "/api/sendText", {"session": "b", "chatId": cid,
                                                 "text": "me too"})
    check(st == 403 and "only the channel's owner and admins" in message(res), (st, res))
    # Reactions and views (Bob's and Carol's phones react; three views)
    st, res = sim.ctl("POST", "/channels/%s/post" % cid, {"text": "Low tide at 12"})
    check(st == 200 and res["copies"] >= 1, (st, res))
    server_id = res["server_id"] - 2  # a's text and image posts came first
    for phone, code in [(B, "👍"), (C, "👍"), (A, "❤️")]:
        st, res = sim.ctl("POST", "/channels/%s/react" % cid,
                          {"server_id": server_id, "code": code, "from": phone})
        check(st == 200, (st, res))
    st, res = sim.ctl("POST", "/channels/%s/view" % cid,
                      {"server_id": server_id, "count": 3})
    check(st == 200 and res["views"] == 3, (st, res))
    st, pv, _ = s.api("GET", "/api/b/channels/%s/messages/preview?limit=10&downloadMedia=false"
                      % q(cid))
    check(st == 200 and isinstance(pv, list) and len(pv) == 3, (st, pv))
    first, pic, second = pv
    check(pic["message"]["hasMedia"] is True and pic["message"]["body"] == "The harbour at dawn",
          pic)
    check(set(first) == {"message", "reactions", "viewCount"}, first)
    check(first["reactions"] == {"👍": 2, "❤️": 1} and first["viewCount"] == 3, first)
    m = first["message"]
    check(m["body"] == "High tide at 6" and m["from"] == cid and m["fromMe"] is False, m)
    check(m["id"] == "false_%s_%s" % (cid, sent["id"].split("_")[-1]), (m, sent))
    check(second["message"]["body"] == "Low tide at 12" and second["reactions"] == {}
          and second["viewCount"] == 0, second)
    # The phone's post reached b as an event too
    wait_for(lambda: [e for e in rx.events("message") if e["session"] == "b"
                      and e["payload"]["body"] == "Low tide at 12"], 30,
             what="b's event of the phone's post")
    # Preview by invite code, limit 1: the newest only
    st, pv, _ = s.api("GET", "/api/a/channels/%s/messages/preview?limit=1" % STATE["invite"])
    check(st == 200 and len(pv) == 1 and pv[0]["message"]["body"] == "Low tide at 12", pv)
    # downloadMedia: the image post's media is fetched and served; posts
    # without media stay as they were
    check("url" not in (pic["message"].get("media") or {}), pic)
    st, pv, _ = s.api("GET", "/api/b/channels/%s/messages/preview?limit=10&downloadMedia=true"
                      % q(cid))
    check(st == 200 and [x["message"]["body"] for x in pv]
          == ["High tide at 6", "The harbour at dawn", "Low tide at 12"], pv)
    media = pv[1]["message"]["media"]
    check(media["mimetype"] == img["media"]["mimetype"] and "error" not in media, pv[1])
    check(pv[1]["message"]["mediaUrl"] == media["url"], pv[1])
    check(served(s, media["url"]) == served(s, img["media"]["url"]),
          "the preview's media.url serves the posted image")
    check(pv[1]["message"]["id"] == pic["message"]["id"], (pv[1], pic))
    check(pv[0]["message"]["hasMedia"] is False and not pv[0]["message"].get("media"), pv[0])
    st, res, _ = s.api("GET", "/api/b/channels/%s/messages/preview?downloadMedia=maybe"
                       % q(cid))
    check(st == 400 and "downloadMedia must be true or false" in message(res), (st, res))
    # Mute, unmute, unfollow
    for action in ("mute", "unmute", "unfollow"):
        st, res, _ = s.api("POST", "/api/b/channels/%s/%s" % (q(cid), action))
        check(st == 201 and res == {}, (action, st, res))
    st, lst, _ = s.api("GET", "/api/b/channels")
    check(st == 200 and lst == [], lst)
    st, res, _ = s.api("POST", "/api/b/channels/%s/mute" % q(cid))
    check(st == 403, (st, res))


def test_search(s, sim):
    seeds = [("Futebol Brasil", "BR", "SPORTS", 900), ("Samba daily", "BR", "ENTERTAINMENT", 700),
             ("Cricket live", "IN", "SPORTS", 800), ("World news", "US", "NEWS", 600),
             ("Daily recipes", "US", "LIFESTYLE", 500)]
    for name, country, category, subs in seeds:
        st, res = sim.ctl("POST", "/channels", {"owner": C, "name": name, "country": country,
                                                "category": category, "subscribers": subs})
        check(st == 201, (st, res))
    # POPULAR, two at a time: 900, 800 | 700, 600 | 500, 0 (Harbour news)
    st, page, _ = s.api("POST", "/api/a/channels/search/by-view",
                        {"view": "POPULAR", "countries": [], "categories": [], "limit": 2,
                         "startCursor": ""})
    check(st == 200 and set(page) == {"page", "channels"}, (st, page))
    check(set(page["page"]) == {"startCursor", "endCursor", "hasNextPage", "hasPreviousPage"},
          page)
    check(page["page"]["hasNextPage"] is True and page["page"]["hasPreviousPage"] is False, page)
    names = [c["name"] for c in page["channels"]]
    check(names == ["Futebol Brasil", "Cricket live"], names)
    for c in page["channels"]:
        check(set(c) == PUBLIC_KEYS, c)
    check(page["channels"][0]["subscribersCount"] == 900, page)
    seen = names
    cursor = page["page"]["endCursor"]
    while cursor:
        st, page, _ = s.api("POST", "/api/a/channels/search/by-view",
                            {"view": "POPULAR", "limit": 2, "startCursor": cursor})
        check(st == 200 and page["page"]["hasPreviousPage"] is True, page)
        seen += [c["name"] for c in page["channels"]]
        cursor = page["page"]["endCursor"] if page["page"]["hasNextPage"] else None
    check(seen == ["Futebol Brasil", "Cricket live", "Samba daily", "World news",
                   "Daily recipes", "Harbour news"], seen)
    # Filters
    st, page, _ = s.api("POST", "/api/a/channels/search/by-view",
                        {"view": "NEW", "countries": ["BR"], "categories": ["SPORTS"]})
    check(st == 200 and [c["name"] for c in page["channels"]] == ["Futebol Brasil"], page)
    st, page, _ = s.api("POST", "/api/a/channels/search/by-view",
                        {"view": "RECOMMENDED", "countries": ["US"]})
    check(st == 200 and [c["name"] for c in page["channels"]] == ["World news",
                                                                  "Daily recipes"], page)
    # Text, in name and description
    st, page, _ = s.api("POST", "/api/a/channels/search/by-text",
                        {"text": "daily", "categories": [], "limit": 10, "startCursor": ""})
    check(st == 200 and sorted(c["name"] for c in page["channels"]) ==
          ["Daily recipes", "Samba daily"], page)
    check(page["page"]["hasNextPage"] is False, page)
    st, page, _ = s.api("POST", "/api/a/channels/search/by-text",
                        {"text": "tides", "categories": []})
    check(st == 200 and [c["id"] for c in page["channels"]] == [STATE["id"]], page)
    # Search metadata
    st, views, _ = s.api("GET", "/api/a/channels/search/views")
    check(st == 200 and [v["value"] for v in views] == ["RECOMMENDED", "TRENDING",
                                                       "POPULAR", "NEW"], views)
    check(all(set(v) == {"value", "name"} for v in views), views)
    st, countries, _ = s.api("GET", "/api/a/channels/search/countries")
    check(st == 200 and {"code": "BR", "name": "Brazil"} in countries, countries)
    st, cats, _ = s.api("GET", "/api/a/channels/search/categories")
    check(st == 200 and {"value": "SPORTS", "name": "Sports"} in cats, cats)


def test_wawp(s):
    cid = STATE["id"]
    st, lst, _ = s.api("GET", "/v2/channels?instance_id=a")
    check(st == 200 and [c["id"] for c in lst] == [cid], (st, lst))
    st, info, _ = s.api("GET", "/v2/channels/%s?instance_id=b" % q(cid))
    check(st == 200 and info["role"] == "GUEST", (st, info))
    # Wawp's docs write the path parameter again in the query
    st, res, _ = s.api("POST", "/v2/channels/%7Bid%7D/follow?instance_id=b&id=" + q(cid))
    check(st == 200 and res == {}, (st, res))
    st, res, _ = s.api("POST", "/v2/channels/%s/unfollow?instance_id=b&id=%s" % (q(cid), q(cid)))
    check(st == 200 and res == {}, (st, res))
    st, res, _ = s.api("POST", "/v2/channels/search/by-view?instance_id=a",
                       {"view": "NEW", "limit": 1})
    check(st == 200 and len(res["channels"]) == 1, (st, res))


def test_picture(s):
    # A picture (any image: media-service makes it a square JPEG) is kept
    # by WhatsApp; the Channel names its URLs
    st, c, _ = s.api("POST", "/api/a/channels", {
        "name": "Lighthouse", "picture": {"data": base64.b64encode(png(40, 30)).decode(),
                                          "mimetype": "image/png"}})
    check(st == 201 and set(c) == CHANNEL_KEYS | {"picture", "preview"}, (st, c))
    user = c["id"].split("@")[0]
    for key in ("picture", "preview"):
        check(re.fullmatch(r"https://mmg\.whatsapp\.net/v/t61\.24694-24/nl_%s_\d+\.jpg" % user,
                           c[key]), c)
    st, info, _ = s.api("GET", "/api/a/channels/" + c["id"])
    check(st == 200 and info == c, (st, info))
    st, res, _ = s.api("POST", "/api/a/channels", {"name": "Bad", "picture": {"data": "%%%"}})
    check(st == 400 and "picture.data must be base64" in message(res), (st, res))
    st, res, _ = s.api("DELETE", "/api/a/channels/" + c["id"])
    check(st == 200, (st, res))


def test_delete(s):
    cid = STATE["id"]
    st, res, _ = s.api("DELETE", "/api/b/channels/" + q(cid))
    check(st == 403, (st, res))
    st, res, _ = s.api("DELETE", "/api/a/channels/" + q(cid))
    check(st == 200 and res == {}, (st, res))
    st, res, _ = s.api("GET", "/api/a/channels/" + q(cid))
    check(st == 404, (st, res))
    st, res, _ = s.api("POST", "/api/sendText", {"session": "a", "chatId": cid, "text": "x"})
    check(st == 404 and "no such channel" in message(res), (st, res))


def main():
    cert = os.path.join(tempfile.mkdtemp(prefix="wharf-channels-"), "media.crt")
    with WaSim("--media-cert", cert) as sim, \
            stack(sim, MEDIA_CA_FILE=cert) as s, Receiver() as rx:
        account(sim, A, "Alice")
        account(sim, B, "Bob")
        account(sim, C, "Carol")
        create_session(s, rx, "a")
        create_session(s, rx, "b")
        link_qr(s, sim, "a", A)
        link_qr(s, sim, "b", B)
        tests = [("test_bad_input", lambda: test_bad_input(s)),
                 ("test_create_info_list", lambda: test_create_info_list(s)),
                 ("test_follow_post_preview", lambda: test_follow_post_preview(s, sim, rx)),
                 ("test_search", lambda: test_search(s, sim)),
                 ("test_wawp", lambda: test_wawp(s)),
                 ("test_picture", lambda: test_picture(s)),
                 ("test_delete", lambda: test_delete(s))]
        for name, f in tests:
            f.__name__ = name
        run([f for _, f in tests])


if __name__ == "__main__":
    main()
