"""test_wasim_control - wa-sim's control API and media host, end to end.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Starts the real wa-sim binary and drives its control API over loopback
HTTP: accounts, devices, faults, stanza log, unknown routes and bad
bodies (errors, never a crash), the media host's upload/download and
state-file persistence.
"""
import base64
import hashlib
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from wasim import WaSim  # noqa: E402


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def main():
    state = tempfile.mktemp(prefix="wa-sim-state-", suffix=".json")
    with WaSim("--state-file", state) as sim:
        info = sim.info
        check(info["ws_url"].startswith("ws://127.0.0.1:"), info)
        check(info["ws_url"].endswith("/ws/chat"), info)
        check(len(info["root_key"]) == 64, info)

        st, body = sim.ctl("GET", "/health")
        check(st == 200 and body["ok"] is True, body)
        st, body = sim.ctl("GET", "/info")
        check(st == 200 and body["root_key"] == info["root_key"], body)

        # Accounts
        st, alice = sim.ctl("POST", "/accounts",
                            {"phone": "+1 555 000-1111", "push_name": "Alice"})
        check(st == 201, (st, alice))
        check(alice["phone"] == "15550001111", alice)
        check(alice["jid"] == "15550001111@s.whatsapp.net", alice)
        check(alice["lid"].endswith("@lid") and len(alice["lid"]) == 19, alice)
        check(len(alice["identity_pub"]) == 64, alice)
        check(alice["devices"][0]["id"] == 0, alice)
        st, body = sim.ctl("POST", "/accounts", {"phone": "15550001111"})
        check(st == 409, (st, body))
        for bad in ({"phone": "0123"}, {"phone": "abc"}, {}, {"phone": 5},
                    {"phone": "15550002222", "push_name": 7}):
            st, body = sim.ctl("POST", "/accounts", bad)
            check(st == 400 and "error" in body, (bad, st, body))
        st, data = sim.http("POST", sim.control + "/accounts", b"{not json",
                            raw=True)
        check(st == 400, st)
        st, bob = sim.ctl("POST", "/accounts", {"phone": "15550002222"})
        check(st == 201 and bob["push_name"] == "15550002222", bob)
        st, body = sim.ctl("GET", "/accounts")
        check([a["phone"] for a in body["accounts"]]
              == ["15550001111", "15550002222"], body)
        st, body = sim.ctl("GET", "/accounts/15550001111/devices")
        check(st == 200 and len(body["devices"]) == 1, body)
        st, body = sim.ctl("GET", "/accounts/999")
        check(st == 404, body)

        # Phone-side actions without a companion
        st, body = sim.ctl("POST", "/accounts/15550001111/scan",
                           {"qr": "https://wa.me/settings/linked_devices#x,y,z,w,1"})
        check(st in (400, 404), (st, body))
        st, body = sim.ctl("POST", "/accounts/15550001111/scan", {})
        check(st == 400, body)
        st, body = sim.ctl("POST", "/accounts/15550001111/pair-code",
                           {"code": "ABCD-EFGH"})
        check(st == 404, (st, body))
        st, body = sim.ctl("DELETE", "/accounts/15550001111/devices/0")
        check(st == 400, body)
        st, body = sim.ctl("DELETE", "/accounts/15550001111/devices/7")
        check(st == 404, body)
        st, body = sim.ctl("DELETE", "/accounts/15550001111/devices/x")
        check(st == 400, body)

        # Connections
        st, body = sim.ctl("GET", "/connections")
        check(st == 200 and body["connections"] == [], body)
        st, body = sim.ctl("POST", "/connections/5/drop")
        check(st == 404, body)
        st, body = sim.ctl("POST", "/connections/5/stream-error", {"code": 515})
        check(st == 404, body)
        st, body = sim.ctl("POST", "/connections/5/stream-error", {})
        check(st == 400, body)

        # Faults
        st, body = sim.ctl("PUT", "/faults", {"ack_delay_ms": 300})
        check(st == 200 and body["global"]["ack_delay_ms"] == 300, body)
        st, body = sim.ctl("PUT", "/faults",
                           {"phone": "15550002222", "refuse_prekeys": True})
        check(body["accounts"]["15550002222"]["refuse_prekey_fetch"], body)
        check(body["accounts"]["15550002222"]["ack_delay_ms"] == 300, body)
        st, body = sim.ctl("PUT", "/faults", {"nope": 1})
        check(st == 400, body)
        st, body = sim.ctl("DELETE", "/faults")
        check(st == 200 and body["accounts"] == {}, body)

        # Stanza log
        st, body = sim.ctl("GET", "/stanzas?since=0&limit=10")
        check(st == 200 and body["stanzas"] == [], body)
        st, body = sim.ctl("GET", "/stanzas?since=x")
        check(st == 400, body)

        # Unknown routes and methods
        for method, path in (("GET", "/nope"), ("GET", "/a/b/c/d/e/f/g"),
                             ("PATCH", "/accounts/15550001111")):
            st, body = sim.ctl(method, path)
            check(st == 404, (method, path, st))

        # Media host: upload checks auth and the token hash
        media = info["media_url"]
        blob = os.urandom(1000)
        token = base64.urlsafe_b64encode(hashlib.sha256(blob).digest()).decode()
        st, data = sim.http("POST", "%s/mms/image/%s?auth=wrong&token=%s"
                            % (media, token, token), blob, raw=True)
        check(st == 401, st)
        # The auth token comes from media_conn; read it from the debug
        # route is not offered, so go through a wrong-hash check only.
        st, data = sim.http("GET", media + "/v/t62.7118-24/none.enc")
        check(st == 404, st)

        st, body = sim.ctl("DELETE", "/accounts/15550002222")
        check(st == 200, body)
        st, body = sim.ctl("POST", "/save")
        check(st == 200, body)
        check(sim.alive(), "wa-sim died")

    # The state file brings Alice back with the same LID and key.
    with WaSim("--state-file", state) as sim:
        st, body = sim.ctl("GET", "/accounts/15550001111")
        check(st == 200, body)
        check(body["lid"] == alice["lid"], body)
        check(body["identity_pub"] == alice["identity_pub"], body)
        st, body = sim.ctl("GET", "/accounts/15550002222")
        check(st == 404, body)
    os.unlink(state)
    print("test_wasim_control: OK")


if __name__ == "__main__":
    main()
