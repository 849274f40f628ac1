"""test_templink - a temporary QR link opened in a real browser.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

One stack (wa-sim with rotating QR codes, all services): an operator makes
a link with POST /v2/session/temp-link; headless Chromium opens its url
with no API key (tests/web/templink.mjs): the page shows the session's QR
as an image, a new one as it rotates; the wa-sim phone scans the code the
page shows; the page says connected (WORKING) and hides the QR. The page
keeps nothing in the browser and loads nothing from another server. An
unknown link shows 404 and a revoked one 410, both as readable pages.
Screenshots go to WHARF_WEB_ARTIFACTS.

Exits 77 (skipped) when Debian's chromium or the npm packages are missing.
"""
import os
import secrets
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
from harness import check, run  # noqa: E402
from engine_util import account, stack  # noqa: E402
from wasim import WaSim  # noqa: E402
from test_dashboard import ARTIFACTS, CHROMIUM, node, ready  # noqa: E402

PHONE = "15550009001"
CTX = {}


def test_link_in_browser():
    s, sim = CTX["s"], CTX["sim"]
    account(sim, PHONE, "Link Phone")
    st, made, _ = s.api("POST", "/v2/session/create", {"name": "weblink"})
    check(st == 201, (st, made))
    creds = {"instance_id": made["instance_id"], "access_token": made["access_token"]}
    # a link to revoke, then the one the browser opens
    st, gone, _ = s.api("POST", "/v2/session/temp-link", creds, key=False)
    check(st == 200, (st, gone))
    st, _, _ = s.api("DELETE", "/v2/session/temp-link", creds, key=False)
    check(st == 200, st)
    st, other, _ = s.api("POST", "/v2/session/create", {"name": "weblink2", "start": False})
    check(st == 201, (st, other))
    st, gone, _ = s.api("POST", "/v2/session/temp-link",
                        {"instance_id": other["instance_id"],
                         "access_token": other["access_token"]}, key=False)
    check(st == 200, (st, gone))
    st, _, _ = s.api("DELETE", "/v2/session/temp-link",
                     {"instance_id": other["instance_id"],
                      "access_token": other["access_token"]}, key=False)
    check(st == 200, st)
    st, body, _ = s.api("POST", "/v2/session/temp-link", dict(creds, expires_in=300), key=False)
    check(st == 200 and body["link"]["url"].startswith(s.base + "/temp-qr/"), (st, body))
    out = node("templink.mjs", {
        "URL": body["link"]["url"], "BAD_URL": s.base + "/temp-qr/" + secrets.token_hex(32),
        "GONE_URL": gone["link"]["url"], "SIM_CONTROL": sim.control, "PHONE": PHONE,
        "ARTIFACTS": ARTIFACTS, "CHROMIUM": CHROMIUM})
    check(out["status"] == 200, out)
    check(out["qrImage"]["width"] > 100
          and out["qrImage"]["src"] == "data:image/png;base64,", out["qrImage"])
    check("Scan the code" in out["stateText"], out["stateText"])
    check(out["qrRotated"] and out["qrHidden"], out)
    check(out["connected"].startswith("Connected"), out["connected"])
    check(out["storage"] == {"local": 0, "session": 0, "cookie": ""}, out["storage"])
    check(out["bad"]["status"] == 404 and "not valid" in out["bad"]["text"], out["bad"])
    check(out["gone"]["status"] == 410 and "revoked" in out["gone"]["text"], out["gone"])
    foreign = [u for u in out["requests"] if not u.startswith(s.base) and not u.startswith("data:")]
    check(foreign == [], foreign)
    check(not out.get("pageErrors"), out)
    for f in out["screenshots"]:
        with open(f, "rb") as fh:
            check(fh.read(8) == b"\x89PNG\r\n\x1a\n", f)
    # the API agrees
    st, info, _ = s.api("GET", "/api/sessions/weblink")
    check(st == 200 and info["status"] == "WORKING"
          and info["me"]["id"] == PHONE + "@c.us", (st, info))


if __name__ == "__main__":
    if not ready():
        sys.exit(77)
    os.makedirs(ARTIFACTS, exist_ok=True)
    with WaSim("--qr-first-ms", "12000", "--qr-next-ms", "8000", "--qr-refs", "30") as sim, \
            stack(sim, WA_QR_FIRST_MS="4000", WA_QR_NEXT_MS="4000") as s:
        CTX.update(s=s, sim=sim)
        run([test_link_in_browser])
