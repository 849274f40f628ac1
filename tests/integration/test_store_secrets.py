"""Device secrets at rest (issue 12, item 10).

device_creds and signal_keys used to keep every session's Noise, identity
and ADV private keys, and its Signal state, in plain text: a database
dump was enough to take over every account. store-service now seals them
with STORE_SECRET_KEY (AES-256-GCM, the row as associated data, a key id
per row). Checked here with real processes and the raw rows in
PostgreSQL:
- a session linked through wa-sim: the raw rows hold none of its private
  key bytes (raw, hex or base64), yet the store hands them back intact;
- a wrong key: store-service refuses to start (78) and says which key id
  sealed the rows; a row moved to another session does not open (500);
- rotation: the new key plus the old one (STORE_SECRET_KEY_OLD) seals
  every row again at start (poll and event secrets, message_secrets,
  too), after which the new key alone works and the
  old one alone is refused; `store-service --reseal` does only that;
- rows written in the clear before (legacy) are sealed at the next start;
  STORE_SECRETS_PLAINTEXT with the key as the old one decrypts them back.
"""
import base64
import hashlib
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from engine_util import account, create, link_qr, stack  # noqa: E402
from harness import BIN, Receiver, Stack, check, run, wait_for  # noqa: E402
from wasim import WaSim  # noqa: E402

K1 = "11" * 32
K2 = base64.b64encode(bytes(range(100, 132))).decode()  # base64 works too


def kid(key):
    raw = bytes.fromhex(key) if len(key) == 64 else base64.b64decode(key)
    return hashlib.sha256(b"wharf-secret-key-id\0" + raw).hexdigest()[:8]


def call(s, type_, body, timeout=5000):
    ep = s.env["STORE_ENDPOINTS"].split(",")[0]
    p = subprocess.run([os.path.join(BIN, "bus-call"), "--timeout", str(timeout), ep,
                        type_, json.dumps(body)], capture_output=True, text=True,
                       timeout=timeout / 1000 + 20)
    check(p.returncode == 0, "bus-call %s failed: %s %s" % (type_, p.stdout, p.stderr))
    return json.loads(p.stdout)


def raw_rows(s):
    """Every column of the secret tables as PostgreSQL has them (bytea as
    hex)."""
    return s.pg.psql(s.database_url,
                     "SELECT d::text FROM device_creds d UNION ALL "
                     "SELECT k::text FROM signal_keys k UNION ALL "
                     "SELECT m::text FROM message_secrets m")


def forms(secret):
    """The ways a key's bytes could show in a dump."""
    b64 = base64.b64encode(secret).decode()
    return [secret.hex(), b64.rstrip("="), b64[:20], secret.hex()[:24]]


def check_no_secret(dump, secrets_, what):
    for name, secret in secrets_:
        for f in forms(secret):
            check(f not in dump, "%s: %s (%s) in the raw rows" % (what, name, f))


def restart_store(s, key, old=None, extra=None):
    """Stop the store and start it again with other keys; wait until up."""
    s.procs["store-service"].stop()
    ep = s.env["STORE_ENDPOINTS"].split(",")[0]
    pub = s.env["STORE_PUB_ENDPOINTS"].split(",")[0]
    env = {"STORE_BIND": ep, "STORE_PUB_BIND": pub, "STORE_SECRET_KEY": key,
           "STORE_SECRET_KEY_OLD": old or ""}
    env.update(extra or {})
    p = s.start("store-service", env=env)
    wait_for(lambda: call(s, "health.ping", {}, 1000)["st"] == 200, 30, 0.2,
             "store-service up")
    return p


def run_store(s, key, old=None, args=()):
    """store-service run to its end (a refusal, or --reseal)."""
    env = dict(s.env, STORE_SECRET_KEY=key, STORE_SECRET_KEY_OLD=old or "",
               STORE_BIND="tcp://127.0.0.1:1", STORE_PUB_BIND="tcp://127.0.0.1:2")
    return subprocess.run([os.path.join(BIN, "store-service")] + list(args), env=env,
                          capture_output=True, text=True, timeout=60)


def test_linked_session_rows_hold_no_private_key():
    with WaSim() as sim, stack(sim) as s, Receiver() as rx:
        account(sim, "15550003131", "Sealed")
        create(s, "sealed", rx)
        link_qr(s, sim, "sealed", "15550003131")
        # what the worker stored, as the store hands it back (opened)
        def creds():
            r = call(s, "device.get", {"name": "sealed"})
            c = r["body"].get("creds") or {}
            return c if c.get("paired") else None
        c = wait_for(creds, 20, 0.2, "paired credentials stored")
        secrets_ = [(k, base64.b64decode(c[k])) for k in
                    ("noise_priv", "identity_priv", "adv_secret", "signed_prekey")]
        check(all(len(v) >= 32 for _, v in secrets_), "private keys present")
        rows = call(s, "signal.load", {"name": "sealed"})["body"]["rows"]
        check(len(rows) > 10, "Signal records stored: %d" % len(rows))
        for r in rows:
            data = base64.b64decode(r["data"])
            if r["kind"] in ("prekey", "signed_prekey", "session") and len(data) >= 32:
                secrets_.append(("%s %s" % (r["kind"], r["key"]), data))
        dump = raw_rows(s)
        check_no_secret(dump, secrets_, "linked session")
        # every row is sealed under the key of this stack
        k = kid(s.env["STORE_SECRET_KEY"])
        check(s.pg.psql(s.database_url,
                        "SELECT count(*) FROM device_creds WHERE kid = '%s' AND "
                        "creds IS NULL" % k) == "1", "device_creds row sealed")
        check(s.pg.psql(s.database_url,
                        "SELECT count(*) FROM signal_keys WHERE kid IS DISTINCT "
                        "FROM '%s'" % k) == "0", "every signal_keys row sealed")


def _seed(s, name, secret):
    """A session with credentials and Signal rows written by its worker."""
    check(call(s, "session.create", {"name": name, "config": {}, "start": True})["st"] == 201,
          "create " + name)
    r = call(s, "lease.claim", {"worker": "w-" + name, "max": 1, "ttl_ms": 600000})
    held = [x for x in r["body"]["sessions"] if x["name"] == name]
    check(held, "claimed %s: %r" % (name, r))
    lease = {"name": name, "worker": "w-" + name, "epoch": held[0]["epoch"]}
    creds = {"v": 1, "noise_priv": base64.b64encode(secret).decode(), "paired": True}
    check(call(s, "device.put", dict(lease, creds=creds))["st"] == 200, "device.put")
    rows = [{"kind": "session", "key": "1555.%d" % i,
             "data": base64.b64encode(secret + bytes([i])).decode()} for i in range(5)]
    r = call(s, "signal.put", dict(lease, rows=rows))
    check(r["st"] == 200 and r["body"]["written"] == 5, r)
    # a poll's message secret (st_kinds), sealed as the rest
    r = call(s, "message.secret_put", dict(lease, id="POLL1", secret=_poll_secret(secret),
                                           info={"kind": "poll", "options": ["x", "y"]}))
    check(r["st"] == 200, r)
    return creds, rows


def _poll_secret(secret):
    return base64.b64encode(hashlib.sha256(secret).digest()).decode()


def _same(s, name, creds, rows):
    got = call(s, "message.secret_get", {"session": name, "id": "POLL1"})
    want = _poll_secret(base64.b64decode(creds["noise_priv"]))
    check(got["st"] == 200 and got["body"]["secret"] == want
          and got["body"]["info"]["options"] == ["x", "y"], "poll secret of %s: %r" % (name, got))
    got = call(s, "device.get", {"name": name})
    check(got["st"] == 200 and got["body"]["creds"] == creds, "creds of %s: %r" % (name, got))
    got = call(s, "signal.load", {"name": name})
    check(got["st"] == 200, got)
    check(sorted((r["key"], r["data"]) for r in got["body"]["rows"]) ==
          sorted((r["key"], r["data"]) for r in rows), "Signal rows of " + name)


def test_wrong_key_rotation_and_legacy_rows():
    secret = bytes(range(7, 39))
    with Stack(services=["store-service"], env={"STORE_SECRET_KEY": K1}) as s:
        wait_for(lambda: call(s, "health.ping", {}, 1000)["st"] == 200, 30, 0.2,
                 "store-service up")
        creds, rows = _seed(s, "a", secret)
        _same(s, "a", creds, rows)
        check_no_secret(raw_rows(s), [("noise_priv", secret),
                                      ("poll", hashlib.sha256(secret).digest())], "store rows")
        check(s.pg.psql(s.database_url, "SELECT DISTINCT kid FROM signal_keys") == kid(K1),
              "rows carry the key id")

        # a row moved to another session does not open there
        _seed(s, "b", bytes(32))
        s.pg.psql(s.database_url, "UPDATE device_creds SET sealed = "
                  "(SELECT sealed FROM device_creds WHERE session = 'a') "
                  "WHERE session = 'b'")
        r = call(s, "device.get", {"name": "b"})
        check(r["st"] == 500 and "do not open" in r["reason"], r)
        s.pg.psql(s.database_url, "DELETE FROM sessions WHERE name = 'b'")

        # a wrong key: the store refuses to start, naming the key ids
        p = run_store(s, K2)
        check(p.returncode == 78, "wrong key: exit %d\n%s" % (p.returncode, p.stderr[-2000:]))
        check("STORE_SECRET_KEY" in p.stderr and kid(K1) in p.stderr and kid(K2) in p.stderr,
              "wrong key message: " + p.stderr[-2000:])

        # rotation: new key, old key to open; every row sealed again
        restart_store(s, K2, old=K1)
        log = s.procs["store-service"].text()
        check('msg="device secrets sealed" kid=%s old_kid=%s rows_resealed=7'
              % (kid(K2), kid(K1)) in log, "rotation log: " + log[-1500:])
        check(s.pg.psql(s.database_url, "SELECT string_agg(DISTINCT kid, ',') FROM "
                        "(SELECT kid FROM signal_keys UNION ALL "
                        "SELECT kid FROM message_secrets UNION ALL "
                        "SELECT kid FROM device_creds) k") == kid(K2), "all under K2")
        _same(s, "a", creds, rows)
        # then the new key alone; the old one alone is refused
        restart_store(s, K2)
        _same(s, "a", creds, rows)
        p = run_store(s, K1)
        check(p.returncode == 78 and kid(K2) in p.stderr, "old key alone: %d %s"
              % (p.returncode, p.stderr[-1000:]))

        # legacy rows, written in the clear before sealing existed
        legacy = bytes(range(50, 82))
        s.pg.psql(s.database_url,
                  "INSERT INTO sessions (name, instance_id) VALUES ('old', 'old');"
                  "INSERT INTO device_creds (session, creds) VALUES ('old', "
                  "'{\"noise_priv\": \"%s\"}');"
                  "INSERT INTO signal_keys (session, kind, key_id, data) VALUES "
                  "('old', 'prekey', '1', '\\x%s')"
                  % (base64.b64encode(legacy).decode(), legacy.hex()))
        # read as they are until sealed
        r = call(s, "device.get", {"name": "old"})
        check(r["body"]["creds"] == {"noise_priv": base64.b64encode(legacy).decode()}, r)
        # `store-service --reseal` seals them and exits
        p = run_store(s, K2, args=["--reseal"])
        check(p.returncode == 0 and "rows_resealed=2" in p.stderr,
              "--reseal: %d %s" % (p.returncode, p.stderr[-1500:]))
        check_no_secret(raw_rows(s), [("legacy", legacy), ("noise_priv", secret)],
                        "after --reseal")
        r = call(s, "device.get", {"name": "old"})
        check(r["body"]["creds"] == {"noise_priv": base64.b64encode(legacy).decode()}, r)
        r = call(s, "signal.load", {"name": "old"})
        check(r["body"]["rows"] == [{"kind": "prekey", "key": "1",
                                     "data": base64.b64encode(legacy).decode()}], r)

        # turning encryption off: plaintext mode with the key as the old one
        env = dict(s.env, STORE_SECRET_KEY="", STORE_SECRET_KEY_OLD=K2,
                   STORE_SECRETS_PLAINTEXT="true")
        p = subprocess.run([os.path.join(BIN, "store-service"), "--reseal"], env=env,
                           capture_output=True, text=True, timeout=60)
        check(p.returncode == 0 and "stored unencrypted" in p.stderr, p.stderr[-1500:])
        check(s.pg.psql(s.database_url, "SELECT count(*) FROM signal_keys WHERE kid IS "
                        "NOT NULL") == "0", "every row decrypted")
        check(s.pg.psql(s.database_url, "SELECT count(*) FROM message_secrets WHERE kid IS "
                        "NOT NULL") == "0", "every poll secret decrypted")
        _same(s, "a", creds, rows)


if __name__ == "__main__":
    run([test_wrong_key_rotation_and_legacy_rows,
         test_linked_session_rows_hold_no_private_key])
