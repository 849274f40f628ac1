"""Ctrl-C during `make run` (issue 12, item 9).

A terminal's Ctrl-C sends SIGINT to the whole foreground process group:
scripts/run.sh and every service it started. store-service used to stop
at once with the workers, which then could not release their leases
("could not release every lease in time"), and the next start found the
sessions held by a dead worker until the leases expired.

Here scripts/run.sh runs in its own process group against a database of
the shared test cluster, a worker holds a session's lease, and the whole
group gets one SIGINT, as from a terminal. Every lease must be released,
no service may be left running, and a new worker must claim the session
at once (the leases live 60 s here, so a stale one would show)."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import (BIN, SANITIZER_MARKS, SRC, Postgres, Stack, check,  # noqa: E402
                     free_port, run, wait_for)

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _env(database_url, var_dir, api_key):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WHATSAPP_", "WAHA_", "STORE_", "http_", "https_",
                                "HTTP_", "HTTPS_", "all_proxy", "ALL_PROXY"))}
    store, pub, gw, media = free_port(), free_port(), free_port(), free_port()
    env.update({
        "DATABASE_URL": database_url,
        "WHARF_VAR_DIR": var_dir,
        "WAHA_API_KEY": api_key,
        "WHATSAPP_API_PORT": str(free_port()),
        "WHATSAPP_API_HOSTNAME": "127.0.0.1",
        "STORE_BIND": "tcp://127.0.0.1:%d" % store,
        "STORE_ENDPOINTS": "tcp://127.0.0.1:%d" % store,
        "STORE_PUB_BIND": "tcp://127.0.0.1:%d" % pub,
        "STORE_PUB_ENDPOINTS": "tcp://127.0.0.1:%d" % pub,
        "GATEWAY_WORKERS_BIND": "tcp://127.0.0.1:%d" % gw,
        "GATEWAY_ENDPOINTS": "tcp://127.0.0.1:%d" % gw,
        "MEDIA_BIND": "tcp://127.0.0.1:%d" % media,
        "MEDIA_ENDPOINTS": "tcp://127.0.0.1:%d" % media,
        # nothing listens there: the session keeps (re)connecting, leased
        "WA_URL": "ws://127.0.0.1:%d/ws/chat" % free_port(),
        "WORKER_ID": "run-worker",
        "LEASE_TTL_MS": "60000",
        "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=86",
        "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
    })
    return env


def _build_arg():
    """run.sh's BUILD argument: relative to the source tree when inside it."""
    build = os.path.dirname(os.path.abspath(BIN))
    rel = os.path.relpath(build, SRC)
    return build if rel.startswith("..") else rel


def test_ctrl_c_releases_leases():
    pg = Postgres.shared()
    url = pg.new_database()
    var_dir = tempfile.mkdtemp(prefix="wharf-run-")
    api_key = "run-test-key-0123456789"
    env = _env(url, var_dir, api_key)
    out_path = os.path.join(var_dir, "run.out")
    with open(out_path, "wb") as out:
        p = subprocess.Popen(["bash", os.path.join(SRC, "scripts", "run.sh"), _build_arg()],
                             cwd=SRC, env=env, stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
    pgid = p.pid

    def text():
        with open(out_path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    try:
        wait_for(lambda: "Wharf is running" in text(), 60, 0.2, "run.sh started")
        # a session the worker runs (and so holds a lease for)
        req = urllib.request.Request(
            "http://127.0.0.1:%s/api/sessions" % env["WHATSAPP_API_PORT"],
            data=json.dumps({"name": "held", "start": True}).encode(), method="POST",
            headers={"X-Api-Key": api_key, "Content-Type": "application/json"})
        with _opener.open(req, timeout=30) as r:
            check(r.status == 201, r.status)
        wait_for(lambda: pg.psql(url, "SELECT worker FROM session_leases "
                                      "WHERE session = 'held'") == "run-worker",
                 20, 0.1, "the worker holding the session's lease")

        os.killpg(pgid, signal.SIGINT)  # what a terminal's Ctrl-C does
        try:
            rc = p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            raise AssertionError("run.sh did not stop on SIGINT:\n" + text()[-4000:])
        log = text()
        check(rc == 130, "run.sh exit status %s (want 130)\n%s" % (rc, log[-4000:]))
        leases = pg.psql(url, "SELECT count(*) FROM session_leases")
        check(leases == "0", "leases left after Ctrl-C: %s\n%s" % (leases, log[-4000:]))
        check("could not release every lease" not in log,
              "a worker could not release its leases:\n" + log[-4000:])
        # the services' last log lines got through (their tee outlived them)
        check("released every lease" in log, "worker log: " + log[-4000:])
        for mark in SANITIZER_MARKS:
            check(mark not in log, "sanitizer report in run.sh output:\n" + log[-6000:])
        # nothing of the group is left running (the log tees end last)
        def group_gone():
            try:
                os.killpg(pgid, 0)
                return False
            except ProcessLookupError:
                return True
        try:
            wait_for(group_gone, 5, 0.1, "run.sh's process group gone")
        except AssertionError:
            ps = subprocess.run(["ps", "-o", "pid,stat,args", "-g", str(pgid)],
                                capture_output=True, text=True).stdout
            raise AssertionError("processes of run.sh's group still run:\n" + ps)
        # run.sh generated the key sealing the device secrets, private to us
        key_path = os.path.join(var_dir, "secret.key")
        check(os.stat(key_path).st_mode & 0o077 == 0, "secret.key readable by others")
        with open(key_path) as f:
            key = f.read().strip()
        check(len(key) == 64 and int(key, 16) >= 0, "secret.key is 32 bytes in hex")
        # a fresh worker claims the session at once, not after the 60 s TTL
        with Stack(workers=0, services=["store-service"],
                   env={"DATABASE_URL": url,
                        "STORE_SECRET_KEY": key}) as s:
            bus = os.path.join(BIN, "bus-call")
            ep = s.env["STORE_ENDPOINTS"]
            out = subprocess.run([bus, "--timeout", "5000", ep, "lease.claim",
                                  '{"worker":"next","max":10,"ttl_ms":60000}'],
                                 capture_output=True, text=True, timeout=30)
            check('"held"' in out.stdout, "next worker could not claim: %s" % out.stdout)
    finally:
        if p.poll() is None:
            os.killpg(pgid, signal.SIGKILL)
            p.wait()
        subprocess.run(["rm", "-rf", var_dir])


if __name__ == "__main__":
    run([test_ctrl_c_releases_leases])
