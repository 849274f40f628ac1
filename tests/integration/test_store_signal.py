"""Signal state persistence through the real store-service and PostgreSQL:
signal.put batches (last entry per key wins, null deletes), signal.load,
lease fencing, validation, and device.clear removing the keys."""
import base64
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, Stack, check, run, wait_for  # noqa: E402


def call(stack, type_, body):
    ep = stack.env["STORE_ENDPOINTS"].split(",")[0]
    p = subprocess.run([os.path.join(BIN, "bus-call"), "--timeout", "5000", ep,
                        type_, json.dumps(body)], capture_output=True, text=True)
    check(p.returncode == 0, "bus-call failed: %s %s" % (p.stdout, p.stderr))
    return json.loads(p.stdout)


def b64(data):
    return base64.b64encode(data).decode()


def test_signal_rows():
    with Stack(services=["store-service"]) as s:
        wait_for(lambda: call(s, "health.ping", {})["st"] == 200, 30, 0.2,
                 "store-service up")
        r = call(s, "session.create", {"name": "sig", "config": {}, "start": True})
        check(r["st"] == 201, r)
        r = call(s, "lease.claim", {"worker": "w1", "max": 10, "ttl_ms": 60000})
        check(r["st"] == 200 and r["body"]["sessions"], r)
        epoch = r["body"]["sessions"][0]["epoch"]

        rows = [{"kind": "prekey", "key": str(i), "data": b64(bytes([i]) * 40)}
                for i in range(1, 31)]
        rows += [{"kind": "session", "key": "1555.0", "data": b64(b"first")},
                 {"kind": "session", "key": "1555.0", "data": b64(b"second")},
                 {"kind": "identity", "key": "1555.0", "data": b64(b"\x05" + b"k" * 32)},
                 {"kind": "prekey", "key": "7", "data": None}]
        r = call(s, "signal.put", {"name": "sig", "worker": "w1", "epoch": epoch,
                                   "rows": rows})
        check(r["st"] == 200, r)
        got = call(s, "signal.load", {"name": "sig"})["body"]["rows"]
        by = {(x["kind"], x["key"]): base64.b64decode(x["data"]) for x in got}
        check(len([k for k in by if k[0] == "prekey"]) == 29, "29 prekeys kept")
        check(("prekey", "7") not in by, "null data deleted the row")
        check(by[("session", "1555.0")] == b"second", "last entry wins")
        check(by[("prekey", "30")] == bytes([30]) * 40, "bytes survive")

        # a later batch deletes and rewrites
        r = call(s, "signal.put", {"name": "sig", "worker": "w1", "epoch": epoch,
                                   "rows": [{"kind": "prekey", "key": "1", "data": None},
                                            {"kind": "session", "key": "1555.0",
                                             "data": b64(b"third")}]})
        check(r["st"] == 200 and r["body"]["deleted"] == 1 and r["body"]["written"] == 1, r)

        # a stale lease is refused and writes nothing
        r = call(s, "signal.put", {"name": "sig", "worker": "w1", "epoch": epoch + 1,
                                   "rows": [{"kind": "prekey", "key": "2", "data": None}]})
        check(r["st"] == 409, r)
        r = call(s, "signal.put", {"name": "sig", "worker": "other", "epoch": epoch,
                                   "rows": []})
        check(r["st"] == 409, r)
        got = call(s, "signal.load", {"name": "sig"})["body"]["rows"]
        check(len(got) == 28 + 2, "nothing written by refused batches: %d" % len(got))

        # bad rows get 400 naming the row
        r = call(s, "signal.put", {"name": "sig", "worker": "w1", "epoch": epoch,
                                   "rows": [{"kind": "bogus", "key": "1", "data": None}]})
        check(r["st"] == 400 and "rows[0]" in r["reason"], r)
        r = call(s, "signal.put", {"name": "nope", "worker": "w1", "epoch": epoch,
                                   "rows": []})
        check(r["st"] in (404, 409), r)

        # logout clears keys and credentials
        r = call(s, "device.clear", {"name": "sig"})
        check(r["st"] == 200, r)
        got = call(s, "signal.load", {"name": "sig"})["body"]["rows"]
        check(got == [], "device.clear removed the Signal rows")


if __name__ == "__main__":
    run([test_signal_rows])
