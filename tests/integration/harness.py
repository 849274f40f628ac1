"""harness - start a real Wharf stack for integration tests.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Everything is real: a throwaway PostgreSQL cluster (scripts/pg.sh, run as
the `postgres` user when we are root), the five service binaries on real
ZeroMQ sockets, real HTTP. Only loopback addresses are used.

    from harness import Stack, Receiver, check
    with Stack(workers=1) as s:
        st, body, hdrs = s.api("GET", "/api/sessions")

Binaries come from $WHARF_BIN_DIR (set by ctest). A service that dies
unexpectedly, or prints a sanitizer report, fails the test at teardown.
"""
import http.server
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

SRC = os.environ.get("WHARF_SOURCE_DIR",
                     os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BIN = os.environ.get("WHARF_BIN_DIR", os.path.join(SRC, "build-asan", "bin"))
SERVICES = ["store-service", "api-gateway", "session-worker",
            "media-service", "webhook-dispatcher"]
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:",
                   "ERROR: LeakSanitizer", "SUMMARY: UndefinedBehaviorSanitizer")

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

# Contract traffic (tests/contract): when WHARF_CONTRACT_DIR is set, every
# HTTP exchange made through Stack.raw/api and every webhook a Receiver gets
# is appended to WHARF_CONTRACT_DIR/<test script>.jsonl, one JSON object a
# line: {"kind": "http", method, path, status, type, body} or
# {"kind": "webhook", path, body}. body is the text received (body_b64 when
# it is not UTF-8). The file is rewritten by each run of the script.
_traffic = {"file": None, "lock": threading.Lock()}


def record_traffic(kind, body, **fields):
    """Append one exchange to the contract traffic file (no-op if unset)."""
    where = os.environ.get("WHARF_CONTRACT_DIR")
    if not where:
        return
    rec = {"kind": kind}
    rec.update(fields)
    try:
        rec["body"] = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError:
        import base64
        rec["body_b64"] = base64.b64encode(body).decode()
    with _traffic["lock"]:
        if _traffic["file"] is None:
            os.makedirs(where, exist_ok=True)
            name = os.path.splitext(os.path.basename(sys.argv[0] or "python"))[0]
            _traffic["file"] = open(os.path.join(where, name + ".jsonl"), "w")
        _traffic["file"].write(json.dumps(rec) + "\n")
        _traffic["file"].flush()


# Listening ports are picked below the kernel's ephemeral range
# (ip_local_port_range, 32768-60999 by default): a port taken from that
# range can be handed to an outgoing connection of another test (a
# ZeroMQ or HTTP client) between the check here and the service's bind.
_PORT_LOW, _PORT_HIGH = 20000, 32767


_handed_ports = set()
_PORT_CLAIMS = os.path.join(tempfile.gettempdir(), "wharf-test-ports")
_PORT_CLAIM_TTL = 1800  # seconds a claim keeps a port from other test processes


def _claim_port(port):
    """Claim a port across test processes (ctest -j runs several at once):
    a file created with O_EXCL; a claim older than _PORT_CLAIM_TTL is stale
    and taken over."""
    os.makedirs(_PORT_CLAIMS, exist_ok=True)
    path = os.path.join(_PORT_CLAIMS, str(port))
    for _ in range(2):
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            return True
        except FileExistsError:
            try:
                if time.time() - os.stat(path).st_mtime < _PORT_CLAIM_TTL:
                    return False
                os.unlink(path)
            except FileNotFoundError:
                pass
        except OSError:
            return True  # no claim directory: fall back to the bind check
    return False


def free_port():
    """A loopback port nobody listens on that this process has never handed
    out before and no other test process claimed recently. Random picks
    alone let two services of one stack get the same port (seen in CI:
    store-service could not bind the gateway's port)."""
    import random
    for _ in range(500):
        port = random.randint(_PORT_LOW, _PORT_HIGH)
        if port in _handed_ports:
            continue
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            s.close()
        if not _claim_port(port):
            continue
        _handed_ports.add(port)
        return port
    raise RuntimeError("no free loopback port in %d-%d" % (_PORT_LOW, _PORT_HIGH))


def check(cond, what):
    """Assert with a message; raises AssertionError."""
    if not cond:
        raise AssertionError(what)


def wait_for(fn, timeout=10.0, interval=0.05, what="condition"):
    """Poll fn() until it returns a truthy value; return it or raise."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = fn()
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - keep polling
            last = e
        time.sleep(interval)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


class Postgres:
    """One throwaway cluster per test process; a fresh database per Stack."""
    _shared = None

    def __init__(self, durable=False):
        """durable: fsync and synchronous_commit on (benchmarks); tests
        run without them."""
        self.dir = tempfile.mkdtemp(prefix="wharf-pg-")
        os.chmod(self.dir, 0o755)
        sync = "on" if durable else "off"
        self._env = dict(os.environ, PG_FSYNC=sync, PG_SYNC_COMMIT=sync)
        out = subprocess.run([os.path.join(SRC, "scripts", "pg.sh"), "start", self.dir],
                             check=True, capture_output=True, text=True, env=self._env)
        # The throwaway cluster has no TLS: say so, so libpq does not set
        # up OpenSSL for every connection (its half-built contexts showed
        # up as leaks when a service exited in the middle of connecting)
        self.url = out.stdout.strip().splitlines()[-1] + "?sslmode=disable"

    @classmethod
    def shared(cls, durable=False):
        """The process's cluster, started on first use (`durable` counts
        then only)."""
        if cls._shared is None:
            cls._shared = Postgres(durable)
            import atexit
            atexit.register(cls._shared.stop)
        return cls._shared

    def new_database(self):
        name = "t_" + secrets.token_hex(6)
        self.psql("postgres", "CREATE DATABASE %s" % name)
        return self._url_for(name)

    def _url_for(self, db):
        base, sep, query = self.url.partition("?")
        return base.rsplit("/", 1)[0] + "/" + db + sep + query

    def psql(self, db_or_url, sql):
        url = db_or_url if "://" in db_or_url else self._url_for(db_or_url)
        out = subprocess.run(["psql", url, "-qtAX", "-v", "ON_ERROR_STOP=1", "-c", sql],
                             check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def stop(self):
        subprocess.run([os.path.join(SRC, "scripts", "pg.sh"), "stop", self.dir],
                       capture_output=True)
        subprocess.run(["rm", "-rf", self.dir])

    def pause(self):
        """Shut the server down (fast), keeping data and port."""
        subprocess.run([os.path.join(SRC, "scripts", "pg.sh"), "stop", self.dir],
                       check=True, capture_output=True)

    def resume(self):
        """Start the server again after pause(), on the same port."""
        out = subprocess.run([os.path.join(SRC, "scripts", "pg.sh"), "start", self.dir],
                             check=True, capture_output=True, text=True, env=self._env)
        url = out.stdout.strip().splitlines()[-1]
        check(url == self.url.partition("?")[0],
              "PostgreSQL came back on another port")


class Proc:
    """One service process with its log file."""

    def __init__(self, name, env, logdir, tag=None, args=()):
        self.name = name
        self.tag = tag or name
        self.log_path = os.path.join(logdir, self.tag + ".log")
        self.log = open(self.log_path, "ab")
        self.env = env
        self.args = list(args)
        self.expected_exit = False
        self.start()

    def start(self):
        self.expected_exit = False
        self.p = subprocess.Popen([os.path.join(BIN, self.name)] + self.args,
                                  env=self.env, stdout=self.log, stderr=self.log,
                                  stdin=subprocess.DEVNULL)

    def alive(self):
        return self.p.poll() is None

    def kill(self, sig=signal.SIGKILL):
        """Kill without a chance to clean up (a crash)."""
        self.expected_exit = True
        if self.alive():
            self.p.send_signal(sig)
            self.p.wait(timeout=20)

    def stop(self, timeout=15):
        """Ask politely (SIGTERM), then kill. Returns the exit code."""
        self.expected_exit = True
        if self.alive():
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
                raise AssertionError("%s did not stop on SIGTERM" % self.tag)
        return self.p.returncode

    def text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


class Stack:
    """A full Wharf deployment on loopback.

    workers: number of session-workers; env: extra environment for every
    service; wa_url: where workers connect (default: a closed local port,
    so sessions go to FAILED); stores, medias: number of store-services
    and media-services (tags store-service, store-service-1, ...;
    media-service, media-service-1, ...), every client connects to all."""

    def __init__(self, workers=1, env=None, wa_url=None, services=None,
                 api_key=None, stores=1, medias=1):
        self.tmp = tempfile.mkdtemp(prefix="wharf-it-")
        self.pg = Postgres.shared()
        self.database_url = self.pg.new_database()
        self.api_key = api_key or ("test-" + secrets.token_hex(8))
        self.api_port = free_port()
        self.base = "http://127.0.0.1:%d" % self.api_port
        store_ports = [(free_port(), free_port()) for _ in range(stores)]
        gw_port = free_port()
        media_ports = [free_port() for _ in range(medias)]
        self.env = dict(os.environ)
        for k in list(self.env):
            if k.startswith(("WHATSAPP_", "WAHA_", "http_", "https_", "HTTP_",
                             "HTTPS_", "all_proxy", "ALL_PROXY")):
                del self.env[k]
        self.env.update({
            "APP_LOG_LEVEL": "info",
            "DATABASE_URL": self.database_url,
            "STORE_ENDPOINTS": ",".join("tcp://127.0.0.1:%d" % a for a, _ in store_ports),
            "STORE_PUB_ENDPOINTS": ",".join("tcp://127.0.0.1:%d" % b for _, b in store_ports),
            "GATEWAY_WORKERS_BIND": "tcp://127.0.0.1:%d" % gw_port,
            "GATEWAY_ENDPOINTS": "tcp://127.0.0.1:%d" % gw_port,
            "MEDIA_BIND": "tcp://127.0.0.1:%d" % media_ports[0],
            "MEDIA_ENDPOINTS": ",".join("tcp://127.0.0.1:%d" % m for m in media_ports),
            "WHATSAPP_API_PORT": str(self.api_port),
            "WHATSAPP_API_HOSTNAME": "127.0.0.1",
            "WAHA_API_KEY": self.api_key,
            # media.url of downloaded files points at this gateway
            "WAHA_BASE_URL": self.base,
            # test webhook receivers listen on loopback, which a session's
            # webhook may not reach by default (test_probe_ssrf.py)
            "DISPATCHER_ALLOW": "127.0.0.1",
            # the key sealing device secrets at rest (store-service)
            "STORE_SECRET_KEY": secrets.token_hex(32),
            "WA_URL": wa_url or "ws://127.0.0.1:%d/ws/chat" % free_port(),
            # Long enough that a worker starved by a loaded CI machine
            # does not fence itself; failover tests set 3000 to time it
            "LEASE_TTL_MS": "8000",
            "WHATSAPP_FILES_FOLDER": os.path.join(self.tmp, "media"),
            "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=86",
            "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
            # OpenSSL 3.0's own thread-race leaks (see lsan.supp)
            "LSAN_OPTIONS": "suppressions=%s:print_suppressions=0" % os.path.join(
                os.path.dirname(os.path.abspath(__file__)), "lsan.supp"),
        })
        self.env.update(env or {})
        self.procs = {}
        self._store_ports = store_ports
        wanted = services or SERVICES
        try:
            for i, (a, b) in enumerate(store_ports):
                if "store-service" in wanted:
                    self.start("store-service", tag="store-service-%d" % i if i else None,
                               env={"STORE_BIND": "tcp://127.0.0.1:%d" % a,
                                    "STORE_PUB_BIND": "tcp://127.0.0.1:%d" % b})
            for i, m in enumerate(media_ports):
                if "media-service" in wanted:
                    self.start("media-service", tag="media-service-%d" % i if i else None,
                               env={"MEDIA_BIND": "tcp://127.0.0.1:%d" % m})
            for name in ("webhook-dispatcher", "api-gateway"):
                if name in wanted:
                    self.start(name)
            if "session-worker" in wanted:
                for i in range(workers):
                    self.start_worker(i)
            if "api-gateway" in wanted:
                wait_for(lambda: self.raw("GET", "/ping")[0] == 200, 20,
                         what="api-gateway /ping")
        except BaseException:
            self.close(check_logs=False)
            raise

    # -- processes ----------------------------------------------------
    def start(self, name, tag=None, env=None, args=()):
        e = dict(self.env)
        e.update(env or {})
        tag = tag or name
        self.procs[tag] = Proc(name, e, self.tmp, tag, args)
        return self.procs[tag]

    def start_worker(self, i, env=None):
        e = {"WORKER_ID": "worker-%d" % i}
        e.update(env or {})
        return self.start("session-worker", tag="session-worker-%d" % i, env=e)

    def proc(self, tag):
        return self.procs[tag]

    # -- HTTP ---------------------------------------------------------
    def raw(self, method, path, body=None, headers=None, timeout=30):
        """Send a request; body may be bytes or str. Returns (status, bytes, headers)."""
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers=headers or {})
        try:
            with _opener.open(req, timeout=timeout) as r:
                out = r.status, r.read(), dict(r.headers)
        except urllib.error.HTTPError as e:
            out = e.code, e.read(), dict(e.headers)
        record_traffic("http", out[1], method=method, path=path, status=out[0],
                       type=out[2].get("Content-Type", ""))
        return out

    def api(self, method, path, json_body=None, key=True, headers=None, query=None,
            timeout=30):
        """JSON request with the admin key. Returns (status, parsed-or-text, headers)."""
        h = {"Accept": "application/json"}
        if key:
            h["X-Api-Key"] = self.api_key if key is True else key
        if json_body is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        if query:
            path += ("&" if "?" in path else "?") + urllib.parse.urlencode(query)
        body = json.dumps(json_body) if json_body is not None else None
        st, raw, hdrs = self.raw(method, path, body, h, timeout)
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode("utf-8", "replace")
        return st, parsed, hdrs

    def wait_status(self, session, statuses, timeout=20):
        if isinstance(statuses, str):
            statuses = [statuses]

        def probe():
            st, b, _ = self.api("GET", "/api/sessions/%s" % session)
            return b if st == 200 and b.get("status") in statuses else None
        return wait_for(probe, timeout, what="session %s in %s" % (session, statuses))

    # -- teardown -----------------------------------------------------
    def logs(self):
        out = []
        for tag, p in self.procs.items():
            out.append("----- %s (%s) -----\n%s" % (tag, p.log_path, p.text()[-6000:]))
        return "\n".join(out)

    def close(self, check_logs=True):
        problems = []
        for tag, p in self.procs.items():
            if not p.alive() and not p.expected_exit:
                problems.append("%s exited unexpectedly with %s" % (tag, p.p.returncode))
        for tag, p in reversed(list(self.procs.items())):
            try:
                rc = p.stop()
                if check_logs and rc not in (0, -9, -15, None) and not p.expected_exit:
                    problems.append("%s exited with %s on SIGTERM" % (tag, rc))
            except AssertionError as e:
                problems.append(str(e))
        for tag, p in self.procs.items():
            text = p.text()
            for mark in SANITIZER_MARKS:
                if mark in text:
                    problems.append("%s log contains %r" % (tag, mark))
        if check_logs and problems:
            sys.stderr.write(self.logs() + "\n")
            raise AssertionError("; ".join(problems))
        if not check_logs:
            sys.stderr.write(self.logs() + "\n")

    def __enter__(self):
        return self

    def __exit__(self, etype, evalue, tb):
        self.close(check_logs=etype is None)
        return False


def kill_loop(proc, kills, ready, rnd, pause=0.5, down=0.0, killed=None,
              restarted=None):
    """The crash tests' loop: `kills` times, wait for ready(k) (it returns
    once what the kill must hit is going on, e.g. traffic or a request
    held open), wait a random time up to `pause` s, SIGKILL proc (a Proc,
    or a function of k that names the one to kill, asked after ready), call
    killed(k), leave it down a random time up to `down` s, start it
    again and call restarted(k) (checks after the restart). rnd is the
    test's random.Random (seeded by WHARF_TEST_SEED)."""
    for k in range(kills):
        ready(k)
        victim = proc(k) if callable(proc) else proc
        time.sleep(rnd.uniform(0.0, pause))
        victim.kill()
        print("kill %d of %s" % (k + 1, victim.tag), flush=True)
        if killed:
            killed(k)
        time.sleep(rnd.uniform(0.0, down))
        victim.start()
        if restarted:
            restarted(k)


class Receiver:
    """A local webhook receiver on 127.0.0.1 recording every request.

    respond(fn) sets a function (request_index, path, body) -> status code
    (default 200); delay seconds per request can be set the same way."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        self.status_fn = lambda i, path, body: 200
        self.delay_fn = lambda i, path, body: 0
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with outer.lock:
                    idx = len(outer.requests)
                    outer.requests.append({"path": self.path,
                                           "headers": {k.lower(): v for k, v in self.headers.items()},
                                           "body": body, "time": time.time()})
                record_traffic("webhook", body, path=self.path)
                d = outer.delay_fn(idx, self.path, body)
                if d:
                    time.sleep(d)
                code = outer.status_fn(idx, self.path, body)
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_PUT = do_POST

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d/hook" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self, name=None):
        """Parsed JSON bodies, optionally only those with event == name."""
        with self.lock:
            out = [json.loads(r["body"]) for r in self.requests]
        return [e for e in out if name is None or e.get("event") == name]

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()
        return False


def run(tests):
    """Run test functions in order; print a line each; exit 1 on failure."""
    failed = 0
    for t in tests:
        t0 = time.time()
        try:
            t()
            print("ok   %s (%.1fs)" % (t.__name__, time.time() - t0), flush=True)
        except Exception:  # noqa: BLE001
            failed += 1
            import traceback
            traceback.print_exc()
            print("FAIL %s" % t.__name__, flush=True)
    sys.exit(1 if failed else 0)
