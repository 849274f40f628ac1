"""test_dashboard - Swagger UI, the OpenAPI document at WAHA's paths and
the dashboard, in a real browser against a real stack.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

One stack (wa-sim with quickly rotating QR refs, all five services) for
every case:
- the static routes: / (Swagger UI page), /swagger-ui/* (swagger-ui-dist
  from npm, installed by scripts/www-npm.sh), /-json (= /api/openapi.json),
  /dashboard and its files, no key needed, names outside the folders 404;
- Swagger UI renders the document in headless Chromium (the operations
  appear, no page errors);
- the dashboard (tests/web/dashboard.mjs): wrong key refused, the key kept
  in sessionStorage only, a session created, its QR read from the page as
  it rotates and scanned by the wa-sim phone, WORKING and the incoming
  message seen in the page (events over /ws), a test message sent from the
  form, API keys (a session key without `send` made in the page, shown
  once, listed; it reads its session, is refused a send and other
  routes, stops when deactivated, works again, and is refused once
  revoked), a pairing code requested, stop/start/restart/delete/logout
  buttons. Screenshots go to WHARF_WEB_ARTIFACTS (build/web-artifacts).

Exits 77 (skipped) when Debian's chromium or the npm packages are missing.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
from harness import check, run  # noqa: E402
from engine_util import account, stack  # noqa: E402
from wasim import WaSim  # noqa: E402

NPM = os.environ.get("WHARF_WEB_NPM", "")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = os.environ.get("WHARF_WEB_ARTIFACTS", "/tmp/wharf-web-artifacts")
PHONE, PEER, PAIR = "15550007001", "15550007002", "15550007003"
CTX = {}


def ready():
    status = ""
    try:
        with open(os.path.join(NPM, "STATUS")) as f:
            status = f.read().strip()
    except OSError:
        pass
    if status != "ok":
        print("skipped: the npm packages are not installed (%r)" % status)
        return False
    if not os.access(CHROMIUM, os.X_OK):
        print("skipped: %s is missing (scripts/deps.sh installs chromium)" % CHROMIUM)
        return False
    return True


def test_static_routes():
    s = CTX["s"]
    st, body, h = s.raw("GET", "/")
    check(st == 200 and h["Content-Type"].startswith("text/html"), (st, h))
    check(b"/swagger-ui/swagger-ui-bundle.js" in body, body[:300])
    st, body, h = s.raw("GET", "/swagger-ui/swagger-ui-bundle.js")
    check(st == 200 and h["Content-Type"].startswith("text/javascript")
          and len(body) > 100000, (st, h, len(body)))
    st, body, h = s.raw("GET", "/swagger-ui/swagger-ui.css")
    check(st == 200 and h["Content-Type"].startswith("text/css"), (st, h))
    st, body, _ = s.raw("GET", "/swagger-ui/swagger-init.js")
    check(st == 200 and b"/api/openapi.json" in body, st)
    st, waha, h = s.api("GET", "/-json", key=False)
    check(st == 200 and h["Content-Type"].startswith("application/json"), (st, h))
    st, ours, _ = s.api("GET", "/api/openapi.json", key=False)
    check(waha == ours and waha["openapi"].startswith("3.0"), "same document")
    check(waha["paths"]["/"]["get"]["responses"]["200"]["content"].get("text/html"),
          waha["paths"]["/"])
    st, body, h = s.raw("GET", "/dashboard")
    check(st == 200 and b"dashboard.js" in body
          and h["Content-Type"].startswith("text/html"), (st, h))
    for f, t in (("dashboard.js", "text/javascript"), ("dashboard.css", "text/css")):
        st, body, h = s.raw("GET", "/dashboard/" + f)
        check(st == 200 and h["Content-Type"].startswith(t), (f, st, h))
    for p in ("/dashboard/..%2fdocs%2findex.html", "/dashboard/.hidden",
              "/dashboard/missing.js", "/swagger-ui/%2e%2e"):
        st, body, _ = s.api("GET", p, key=False)
        check(st == 404 and body["statusCode"] == 404, (p, st, body))


def node(script, extra_env, timeout=240):
    env = dict(os.environ, **extra_env)
    p = subprocess.run(["node", os.path.join(os.path.dirname(os.path.abspath(__file__)), script)],
                       cwd=NPM, env=env, capture_output=True, text=True, timeout=timeout)
    sys.stderr.write(p.stderr[-3000:])
    check(p.returncode == 0, "%s exited %d:\n%s" % (script, p.returncode, p.stdout[-2000:]))
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_swagger_ui_renders():
    s = CTX["s"]
    out = node("swagger.mjs", {"BASE": s.base, "ARTIFACTS": ARTIFACTS, "CHROMIUM": CHROMIUM})
    # Swagger UI renders only the tags near the viewport; swagger.mjs
    # scrolls through the page: every operation of the document shows.
    st, doc, _ = s.api("GET", "/api/openapi.json")
    check(st == 200, st)
    want = {m.upper() + " " + p for p, ops in doc["paths"].items() for m in ops
            if m in ("get", "put", "post", "delete", "patch")}
    tags = {t for ops in doc["paths"].values() for o in ops.values()
            if isinstance(o, dict) for t in o.get("tags", [])}
    check(set(out["ops"]) == want, {"missing": sorted(want - set(out["ops"]))[:20],
                                    "extra": sorted(set(out["ops"]) - want)[:20]})
    check(out["tags"] == len(tags), (out["tags"], len(tags)))
    check("/api/sessions" in out["paths"], out)
    check(not out.get("pageErrors"), out)
    check(out["foreign"] == [], out["foreign"])  # no CDN: only this server


def test_dashboard_in_browser():
    s, sim = CTX["s"], CTX["sim"]
    account(sim, PHONE, "Dash Phone")
    account(sim, PEER, "Peer")
    account(sim, PAIR, "Pair")
    out = node("dashboard.mjs", {
        "BASE": s.base, "API_KEY": s.api_key, "SIM_CONTROL": sim.control,
        "PHONE": PHONE, "PEER": PEER, "PAIR_PHONE": PAIR, "ARTIFACTS": ARTIFACTS,
        "CHROMIUM": CHROMIUM})
    check("refused" in out["wrongKey"], out)
    check(out["storage"] == {"session": s.api_key, "local": 0, "cookie": ""}, out["storage"])
    check(out["qrImage"]["complete"] and out["qrImage"]["width"] > 100
          and out["qrImage"]["src"] == "blob:", out["qrImage"])
    check(out["qrRotated"] and out["working"], out)
    check(out["sendResult"].startswith("Sent: true_%s@c.us_" % PEER), out["sendResult"])
    check(len(out["pairCode"].replace("-", "")) == 8, out["pairCode"])
    check(out["deleted"] and out["loggedOut"] and out["afterForget"] is None, out)
    # Keys: a session key made in the page is shown once, reaches its
    # session without the send action it lacks, and stops when
    # deactivated or revoked
    k = out["keys"]
    check(k["made"] == "wharf_" and k["length"] == 70, k)
    check("session dash" in k["row"] and "read, control, setting, app, delete" in k["row"], k)
    check((k["read"], k["send"], k["other"]) == (200, 403, 403), k)
    check((k["inactive"], k["active"], k["revoked"]) == (401, 200, 401), k)
    check(not out.get("pageErrors"), out)
    for f in out["screenshots"]:
        with open(f, "rb") as fh:
            check(fh.read(8) == b"\x89PNG\r\n\x1a\n", f)
    # The API agrees with what the page showed
    st, body, _ = s.api("GET", "/api/dash/chats/%s@c.us/messages?limit=10" % PEER)
    check(st == 200 and any(m.get("body") == out["incoming"] for m in body), (st, body))
    st, body, _ = s.api("GET", "/api/sessions/dash2")
    check(st == 404, (st, body))


if __name__ == "__main__":
    if not ready():
        sys.exit(77)
    os.makedirs(ARTIFACTS, exist_ok=True)
    # QR codes rotate every 4 s in the worker; wa-sim keeps each ref valid
    # longer, so the one on screen can still be scanned.
    with WaSim("--qr-first-ms", "12000", "--qr-next-ms", "8000", "--qr-refs", "30") as sim, \
            stack(sim, WA_QR_FIRST_MS="4000", WA_QR_NEXT_MS="4000") as s:
        CTX.update(s=s, sim=sim)
        run([test_static_routes, test_swagger_ui_renders, test_dashboard_in_browser])
