"""test_temp_link - Wawp's temporary QR link, /v2/session/temp-link and /temp-qr/{token}.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

One stack (wa-sim with QR codes rotating every 4 s, all services):
- GET shows no link; bad input gets 400 in Wawp's shape, a wrong token 401.
- POST makes a link: its url (once), a 64-hex-digit token whose SHA-256 is
  all the database holds; GET then shows it active without the url.
- The page and its state need no API key: the state shows the session's
  QR (a PNG data URI of the worker's QR string), a new one as it rotates;
  the wa-sim phone scans it and the state says connected (WORKING).
- The token opens nothing else: not /api, not /v2, not another session.
- An unknown or replaced token: 404 (HTML page, JSON state); expired or
  revoked: 410. Revocation and expiry (moved into the past in the
  database: no 10-minute wait) show in GET.
- Guessing is rate limited: 429 with Retry-After; so is polling one link
  faster than 5 a second.
- No process log holds a token.
"""
import base64
import hashlib
import os
import re
import secrets
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from engine_util import account, stack  # noqa: E402
from harness import check, run, wait_for  # noqa: E402
from wasim import WaSim  # noqa: E402

PHONE = "15550008001"
CTX = {"tokens": []}


def v2(method, path, fields=None, how="query", token=True):
    s = CTX["s"]
    f = {"instance_id": CTX["iid"]}
    if token:
        f["access_token"] = CTX["token"] if token is True else token
    f.update(fields or {})
    if how == "query":
        return s.api(method, path + "?" + urllib.parse.urlencode(f), key=False)
    return s.api(method, path, json_body=f, key=False)


def state(tok):
    return CTX["s"].api("GET", "/temp-qr/%s/state" % tok, key=False)


def make(**fields):
    st, body, _ = v2("POST", "/v2/session/temp-link", fields, how="json")
    check(st == 200, (st, body))
    url = body["link"]["url"]
    tok = url.rsplit("/", 1)[1]
    CTX["tokens"].append(tok)
    return tok, body


def test_none_and_bad_input():
    st, body, _ = v2("GET", "/v2/session/temp-link")
    check(st == 200 and body == {"instance_id": CTX["iid"], "status": "none",
                                 "link": None, "last": None}, (st, body))
    for bad in (5, 86401, "abc", "12x", -1, 1.5):
        st, body, _ = v2("POST", "/v2/session/temp-link", {"expires_in": bad}, how="json")
        check(st == 400 and body["status"] == 400 and body["error"] == "bad_request"
              and "expires_in must be an integer 60..86400" in body["message"], (bad, st, body))
    st, body, _ = v2("POST", "/v2/session/temp-link", token="wrong", how="json")
    check(st == 401 and body["status"] == 401, (st, body))
    st, body, _ = v2("DELETE", "/v2/session/temp-link", token=None)
    check(st == 401, (st, body))
    # still none
    check(v2("GET", "/v2/session/temp-link")[1]["status"] == "none", "nothing made")


def test_make_and_show():
    s = CTX["s"]
    tok, body = make()
    check(re.fullmatch(r"[0-9a-f]{64}", tok), tok)
    link = body["link"]
    check(body["status"] == "active" and link["active"] is True
          and link["url"] == s.base + "/temp-qr/" + tok
          and 595 <= link["expires_in"] <= 600
          and link["expires_at"] - link["created_at"] == 600000, body)
    # the database holds the SHA-256 only
    rows = s.pg.psql(s.database_url, "SELECT session || ' ' || token_hash FROM temp_links")
    check(rows.strip() == "%s %s" % (CTX["name"], hashlib.sha256(tok.encode()).hexdigest()),
          rows)
    dump = s.pg.psql(s.database_url, "SELECT row_to_json(t)::text FROM temp_links t")
    check(tok not in dump, "token in the database")
    st, got, _ = v2("GET", "/v2/session/temp-link")
    check(st == 200 and got["status"] == "active" and got["link"]["active"] is True
          and "url" not in got["link"] and tok not in str(got)
          and got["last"]["state"] == "active" and got["last"]["revoked_at"] is None, got)
    CTX["tok"] = tok


def test_page_and_qr():
    s = CTX["s"]
    tok = CTX["tok"]
    st, html, h = s.raw("GET", "/temp-qr/" + tok)
    check(st == 200 and h["Content-Type"].startswith("text/html")
          and b"/temp-qr-files/templink.js" in html, (st, h))
    check(h.get("Cache-Control") == "no-store" and h.get("Referrer-Policy") == "no-referrer"
          and "default-src 'self'" in h.get("Content-Security-Policy", ""), h)
    for f, t in (("templink.js", "text/javascript"), ("templink.css", "text/css")):
        st, _, h = s.raw("GET", "/temp-qr-files/" + f)
        check(st == 200 and h["Content-Type"].startswith(t), (f, st, h))
    st, body, _ = s.api("GET", "/temp-qr-files/..%2f..%2fetc%2fpasswd", key=False)
    check(st == 404, (st, body))

    def qr():
        st, b, _ = state(tok)
        return b if st == 200 and b["qr"] else None
    first = wait_for(qr, 30, interval=0.5, what="the QR in the link's state")
    check(first["status"] == "SCAN_QR_CODE" and first["connected"] is False
          and first["qr"]["value"].startswith("https://wa.me/settings/linked_devices#")
          and 590 <= first["expiresIn"] <= 600, first)
    img = first["qr"]["image"]
    check(img.startswith("data:image/png;base64,")
          and base64.b64decode(img.split(",", 1)[1]).startswith(b"\x89PNG"), img[:40])
    # the same QR the API gives an operator
    st, raw, _ = s.api("GET", "/api/%s/auth/qr?format=raw" % CTX["name"])
    check(st == 200, (st, raw))
    # rotates
    rotated = wait_for(lambda: (lambda b: b if b and b["qr"]["value"] != first["qr"]["value"]
                                else None)(qr()), 30, interval=0.5, what="a new QR")
    CTX["qr"] = rotated["qr"]["value"]


def test_token_opens_nothing_else():
    s = CTX["s"]
    tok = CTX["tok"]
    st, body, _ = s.api("GET", "/api/sessions", key=tok)
    check(st == 401, (st, body))
    st, body, _ = s.api("GET", "/v2/session/info?" + urllib.parse.urlencode(
        {"instance_id": CTX["iid"], "access_token": tok}), key=False)
    check(st == 401, (st, body))
    st, body, _ = s.api("GET", "/v2/session/temp-link?" + urllib.parse.urlencode(
        {"instance_id": CTX["iid"], "access_token": tok}), key=False)
    check(st == 401, (st, body))
    # the state names no session and shows only this one's status
    st, body, _ = state(tok)
    check(st == 200 and set(body) == {"status", "connected", "qr", "expiresAt", "expiresIn"},
          body)


def test_scan_connects():
    s, sim = CTX["s"], CTX["sim"]
    tok = CTX["tok"]

    def scanned():
        st, b, _ = state(tok)
        if st != 200 or not b["qr"]:
            return None
        st, res = sim.ctl("POST", "/accounts/%s/scan" % PHONE, {"qr": b["qr"]["value"]})
        return res if st == 200 else None
    wait_for(scanned, 30, interval=1, what="the phone scans the link's QR")
    got = wait_for(lambda: (lambda r: r[1] if r[0] == 200 and r[1]["connected"] else None)(
        state(tok)), 30, interval=0.5, what="connected")
    check(got["status"] == "WORKING" and got["qr"] is None, got)
    s.wait_status(CTX["name"], "WORKING", 10)


def test_bad_replaced_revoked_expired():
    s = CTX["s"]
    old = CTX["tok"]
    # unknown and malformed tokens: 404
    for tok in (secrets.token_hex(32), "abc", "A" * 64):
        st, body, _ = state(tok)
        check(st == 404 and body["statusCode"] == 404
              and "not valid" in body["message"], (tok, st, body))
    st, html, h = s.raw("GET", "/temp-qr/" + secrets.token_hex(32))
    check(st == 404 and h["Content-Type"].startswith("text/html")
          and b"This link is not valid" in html, (st, html[:200]))
    # a new link replaces the old: the old one is unknown now
    new, _ = make(expires_in=120)
    check(new != old, "a new token")
    check(state(old)[0] == 404, "old token refused")
    st, body, _ = state(new)
    check(st == 200 and 115 <= body["expiresIn"] <= 120, (st, body))
    # revoked: 410, GET shows it
    st, body, _ = v2("DELETE", "/v2/session/temp-link")
    check(st == 200 and body["status"] == "revoked" and body["link"] is None
          and isinstance(body["last"]["revoked_at"], int), (st, body))
    st, body, _ = state(new)
    check(st == 410 and body["statusCode"] == 410 and "revoked" in body["message"], (st, body))
    st, html, _ = s.raw("GET", "/temp-qr/" + new)
    check(st == 410 and b"This link was revoked" in html, (st, html[:200]))
    check(v2("GET", "/v2/session/temp-link")[1]["status"] == "revoked", "GET revoked")
    # revoking again is harmless
    check(v2("DELETE", "/v2/session/temp-link")[0] == 200, "revoke again")
    # expired: 410
    exp, _ = make(expires_in=60)
    s.pg.psql(s.database_url, "UPDATE temp_links SET expires_at = now() - interval '1 second'")
    st, body, _ = state(exp)
    check(st == 410 and "expired" in body["message"], (st, body))
    st, body, _ = v2("GET", "/v2/session/temp-link")
    check(body["status"] == "expired" and body["link"] is None, body)
    # another session's link does not open this one
    st, other, _ = s.api("POST", "/v2/session/temp-link", {"instance_id": "other"})
    check(st == 200, (st, other))
    otok = other["link"]["url"].rsplit("/", 1)[1]
    CTX["tokens"].append(otok)
    st, body, _ = state(otok)
    check(st == 200 and body["status"] != "WORKING", body)  # "other" is not linked
    # deleting a session deletes its link
    st, _, _ = s.api("DELETE", "/api/sessions/other")
    check(st == 200, st)
    check(state(otok)[0] == 404, "link gone with its session")


def test_polling_bounded():
    # a good token is not charged as a guess, but one link answers at
    # most 5 lookups a second (burst 10)
    tok, _ = make()
    seen = []
    for _ in range(40):
        st, body, h = state(tok)
        seen.append(st)
        if st == 429:
            check(int(h["Retry-After"]) >= 1, h)
            break
    check(seen[-1] == 429 and all(x == 200 for x in seen[:-1]) and len(seen) >= 10, seen)
    ok = wait_for(lambda: state(tok)[0] == 200, 5, interval=0.3, what="served again")
    check(ok, "served again")


def test_guessing_limited():
    seen = []
    for _ in range(30):
        st, body, h = state(secrets.token_hex(32))
        seen.append(st)
        if st == 429:
            check(int(h["Retry-After"]) >= 1 and body["statusCode"] == 429, (body, h))
            break
    check(seen[-1] == 429 and all(x == 404 for x in seen[:-1]), seen)
    print("guessing: %d tries answered 404, then 429" % (len(seen) - 1))


def test_no_token_in_logs():
    text = "\n".join(p.text() for p in CTX["s"].procs.values())
    for tok in CTX["tokens"]:
        check(tok not in text, "a token in the logs")
    check("/temp-qr/***" in text or "temporary QR link made" in text, "the links were logged")


if __name__ == "__main__":
    with WaSim("--qr-first-ms", "12000", "--qr-next-ms", "8000", "--qr-refs", "30") as sim, \
            stack(sim, WA_QR_FIRST_MS="4000", WA_QR_NEXT_MS="4000", APP_LOG_LEVEL="debug") as s:
        account(sim, PHONE, "Link Phone")
        st, body, _ = s.api("POST", "/v2/session/create", {"name": "tl"})
        check(st == 201, (st, body))
        CTX.update(s=s, sim=sim, iid=body["instance_id"], token=body["access_token"], name="tl")
        st, body, _ = s.api("POST", "/v2/session/create", {"name": "other", "start": False})
        check(st == 201, (st, body))
        run([test_none_and_bad_input, test_make_and_show, test_page_and_qr,
             test_token_opens_nothing_else, test_scan_connects,
             test_bad_replaced_revoked_expired, test_polling_bounded, test_guessing_limited,
             test_no_token_in_logs])
