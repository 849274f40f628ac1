"""store-service: embedded migrations applied exactly once by several
store-services starting together; configuration errors exit 78.

Copyright (c) 2026 the Wharf authors. Apache-2.0.
"""
import glob
import os
import re
import subprocess

from harness import BIN, SRC, Stack, check, free_port, run, wait_for
from buscall import call, ok, wait_ready

SQL = sorted(glob.glob(os.path.join(SRC, "services", "store-service", "sql", "*.sql")))


def test_concurrent_start():
    with Stack(services=["store-service"], stores=4) as s:
        eps = s.env["STORE_ENDPOINTS"].split(",")
        check(len(eps) == 4, "four stores")
        for e in eps:
            wait_ready(e)
        versions = s.pg.psql(s.database_url,
                             "SELECT version || '_' || name FROM schema_migrations ORDER BY 1")
        want = [os.path.basename(p)[:-4] for p in SQL]
        check(versions.split("\n") == want, "schema_migrations %r, want %r" % (versions, want))
        # every migration was applied by exactly one of the four
        logs = "".join(p.text() for p in s.procs.values())
        for w in want:
            v, n = w.split("_", 1)
            hits = len(re.findall(r'msg="applied migration" version=%s name=%s\b' % (v, n), logs))
            check(hits == 1, "migration %s applied %d times" % (w, hits))
        check(logs.count('msg="database schema is current"') == 4, "all four current")
        # the core tables exist
        tables = s.pg.psql(s.database_url,
                           "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables "
                           "WHERE schemaname = 'public'").split(",")
        for t in ("sessions", "session_leases", "device_creds", "signal_keys", "contacts",
                  "chats", "messages", "labels", "label_chats", "events", "schema_migrations"):
            check(t in tables, "table %s missing from %r" % (t, tables))
        # all of them serve the same data
        ok(eps[0], "session.create", {"name": "shared"}, want=201)
        for e in eps:
            check(ok(e, "session.get", {"name": "shared"})["session"]["name"] == "shared",
                  "store %s" % e)
        # a restart applies nothing
        p = s.proc("store-service-2")
        check(p.stop() == 0, "clean exit on SIGTERM")
        before = len(p.text())
        p.start()
        wait_ready(eps[2])
        after = p.text()[before:]
        check("applied=0" in after and "applied migration" not in after,
              "restart applied migrations again: %s" % after)
        check(s.pg.psql(s.database_url, "SELECT count(*) FROM schema_migrations") ==
              str(len(want)), "rows unchanged")


def test_config_errors_exit_78():
    base = dict(os.environ, DATABASE_URL="postgresql://nobody@127.0.0.1:1/none",
                STORE_BIND="tcp://127.0.0.1:%d" % free_port(),
                STORE_PUB_BIND="tcp://127.0.0.1:%d" % free_port(),
                STORE_SECRET_KEY="ab" * 32)
    cases = [{"DATABASE_URL": ""}, {"STORE_POOL_SIZE": "0"}, {"STORE_POOL_SIZE": "65"},
             {"STORE_POOL_SIZE": "x"}, {"STORE_STATEMENT_TIMEOUT_MS": "-5"},
             {"STORE_BIND": "nowhere"}, {"APP_LOG_LEVEL": "chatty"},
             # no key sealing the device secrets, a bad one, or both modes
             {"STORE_SECRET_KEY": ""}, {"STORE_SECRET_KEY": "ab" * 31},
             {"STORE_SECRET_KEY_OLD": "not a key"},
             {"STORE_SECRETS_PLAINTEXT": "true"}]
    for c in cases:
        env = dict(base, **c)
        p = subprocess.run([os.path.join(BIN, "store-service")], env=env, capture_output=True,
                           text=True, timeout=30)
        check(p.returncode == 78, "%r exited %d" % (c, p.returncode))
        name = list(c)[0]
        check(name in p.stderr, "%r: message does not name the variable: %s" % (c, p.stderr))


def test_waits_for_database():
    # PostgreSQL down at start: the store waits, then migrates and serves
    with Stack(services=["store-service"]) as s:
        wait_ready(s.env["STORE_ENDPOINTS"])
        s.pg.pause()
        try:
            port = free_port()
            late = s.start("store-service", tag="store-late",
                           env={"STORE_BIND": "tcp://127.0.0.1:%d" % port,
                                "STORE_PUB_BIND": "tcp://127.0.0.1:%d" % free_port()})
            e = "tcp://127.0.0.1:%d" % port
            wait_for(lambda: "could not connect to database" in late.text(), 15,
                     what="connection attempts")
            check(call(e, "health.ping", timeout=500)[0] == 0, "served before migrating")
            check(late.alive(), "store gave up")
        finally:
            s.pg.resume()
        wait_ready(e)
        ok(e, "session.create", {"name": "late"}, want=201)


if __name__ == "__main__":
    run([test_concurrent_start, test_config_errors_exit_78, test_waits_for_database])
