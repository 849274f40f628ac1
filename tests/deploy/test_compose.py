"""test_compose - the docker-compose deployment, run for real.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

ctest label "deploy". Installs Docker from Debian's packages (docker.io,
docker-compose, debootstrap) when missing and starts its own dockerd
(data root /var/lib/wharf-docker, kept as the cache of base images and
build layers) when none answers; stops what it started. Exits 77 (ctest
SKIP) only when this machine cannot run dockerd, saying why.

Base images: scripts/docker-base.sh builds debian:12 with debootstrap from
the Debian mirror in /etc/apt and a postgres:15 stand-in, so the user's
docker-compose.yml runs unchanged (a daemon that has or pulls the real
images uses those). The stack is reached only through ports published on
127.0.0.1; wa-sim runs as the compose profile "demo". Steps:
  1. up -d --build; /health 200, every container healthy, ldd finds every
     library of every binary inside the image, the image runs as non-root;
  2. two sessions linked by QR against the wa-sim container, texts both
     ways (checked in the receiver's event feed);
  3. --scale session-worker=3: new sessions spread over the workers;
  4. docker kill of the worker holding session a: a is WORKING on another
     within the lease TTL, without a QR, and no acknowledged text is lost
     (texts the phone sent during the outage arrive too);
  5. down, up: both sessions WORKING again from the volumes, no QR;
  6. independent upgrades while texts flow: session-worker swapped alone
     (up -d --no-deps) for an image whose bus writes minor version 1
     (WHARF_BUS_MINOR=1: header mv, cm_msg.h) next to an old gateway and
     store, back to the old image, then the reverse: a minor-1 gateway
     with old workers. Every text acknowledged with 201 is delivered;
     requests fail only inside each swap's window (printed, at most the
     lease TTL + 20 s).
Runs are serialised per machine by a lock on /tmp/wharf-deploy-test.lock.
Environment: WHARF_SOURCE_DIR, WHARF_DEPLOY_WORKDIR (logs), optional
DOCKER_HOST (use that daemon).
"""
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

SKIP = 77
SRC = os.environ.get("WHARF_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
WORK = os.environ.get("WHARF_DEPLOY_WORKDIR") or "/tmp/wharf-deploy"
DATA_ROOT = "/var/lib/wharf-docker"
SOCK = "/run/wharf-docker.sock"
PROJECT = "wharfdeploy"
LEASE_TTL_MS = 6000
T0 = time.time()


def log(msg):
    print("[%6.1fs] %s" % (time.time() - T0, msg), flush=True)


def skip(why):
    print("SKIP: " + why, flush=True)
    sys.exit(SKIP)


def fail(msg):
    raise AssertionError(msg)


def check(cond, msg):
    if not cond:
        fail(msg)


def wait_for(fn, timeout, what, interval=0.5):
    end = time.time() + timeout
    last = None
    while time.time() < end:
        try:
            last = fn()
        except (OSError, ValueError, subprocess.CalledProcessError) as e:
            last = e
            last_val = None
        else:
            last_val = last
        if last_val:
            return last_val
        time.sleep(interval)
    fail("timed out after %ss waiting for %s (last: %r)" % (timeout, what, last))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sh(*args, env=None, check_rc=True, timeout=900, quiet=False):
    """Run a command; return stdout. Its output goes to the log file."""
    r = subprocess.run(list(args), capture_output=True, text=True, env=env,
                       timeout=timeout)
    with open(os.path.join(WORK, "commands.log"), "a") as f:
        f.write("$ %s\n%s%s(rc %d)\n" % (" ".join(args), r.stdout, r.stderr, r.returncode))
    if check_rc and r.returncode != 0:
        fail("%s failed (rc %d):\n--- stdout (tail)\n%s\n--- stderr (tail)\n%s"
             % (" ".join(args[:4]), r.returncode, r.stdout[-6000:], r.stderr[-3000:]))
    return r.stdout


# ---------------------------------------------------------------- Docker

class Daemon:
    """A Docker daemon to use: the one DOCKER_HOST or the default socket
    names if it answers, else our own dockerd (stopped at the end)."""

    def __init__(self):
        self.proc = None
        self.env = dict(os.environ)
        self.docker = shutil.which("docker", path="/usr/bin") or shutil.which("docker")

    def answers(self, host=None):
        env = dict(self.env)
        if host:
            env["DOCKER_HOST"] = host
        try:
            return subprocess.run([self.docker, "version", "--format", "{{.Server.Version}}"],
                                  env=env, capture_output=True, timeout=20).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            return False

    def start(self):
        if not (shutil.which("dockerd") and shutil.which("docker-compose")
                and shutil.which("debootstrap")):
            if os.geteuid() != 0:
                skip("docker.io, docker-compose or debootstrap missing and not root to install them")
            log("installing docker.io docker-compose debootstrap from Debian")
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            cmd = ["apt-get", "install", "-y", "--no-install-recommends",
                   "docker.io", "docker-compose", "debootstrap", "iptables"]
            if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
                subprocess.run(["apt-get", "update"], env=env, capture_output=True)
                r = subprocess.run(cmd, env=env, capture_output=True, text=True)
                if r.returncode != 0:
                    skip("cannot install Docker from Debian: " + r.stderr[-500:])
            self.docker = "/usr/bin/docker"
        if os.environ.get("DOCKER_HOST") and self.answers():
            log("using the daemon at DOCKER_HOST")
            return
        if self.answers("unix:///var/run/docker.sock"):
            self.env["DOCKER_HOST"] = "unix:///var/run/docker.sock"
            log("using the running daemon at /var/run/docker.sock")
            return
        self.env["DOCKER_HOST"] = "unix://" + SOCK
        if self.answers():
            log("using the daemon at %s (left by an earlier run)" % SOCK)
            return
        if os.geteuid() != 0:
            skip("no Docker daemon answers and starting dockerd needs root")
        os.makedirs(DATA_ROOT, exist_ok=True)
        logf = open(os.path.join(WORK, "dockerd.log"), "ab")
        self.proc = subprocess.Popen(
            ["dockerd", "--data-root", DATA_ROOT, "--exec-root", "/run/wharf-docker",
             "--pidfile", "/run/wharf-docker.pid", "-H", "unix://" + SOCK],
            stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
        end = time.time() + 90
        while time.time() < end:
            if self.proc.poll() is not None:
                tail = open(os.path.join(WORK, "dockerd.log"), errors="replace").read()[-1500:]
                skip("this machine cannot run dockerd (it exited %d):\n%s"
                     % (self.proc.returncode, tail))
            if self.answers():
                log("started dockerd (pid %d, data root %s)" % (self.proc.pid, DATA_ROOT))
                return
            time.sleep(0.5)
        self.stop()
        skip("dockerd did not answer within 90 s (see %s/dockerd.log)" % WORK)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            log("stopped dockerd")

    def run(self, *args, **kw):
        return sh(self.docker, *args, env=self.env, **kw)


class Compose:
    def __init__(self, daemon, env):
        self.d = daemon
        self.env = dict(daemon.env, **env)

    def __call__(self, *args, env=None, **kw):
        e = dict(self.env, **(env or {}))
        return sh("docker-compose", "-p", PROJECT, "-f", os.path.join(SRC, "docker-compose.yml"),
                  "--profile", "demo", *args, env=e, **kw)

    def containers(self, service):
        out = self.d.run("ps", "-q", "--no-trunc", "--filter", "label=com.docker.compose.project=" + PROJECT,
                         "--filter", "label=com.docker.compose.service=" + service)
        return [c[:12] for c in out.split()]

    def one(self, service):
        c = self.containers(service)
        check(c, "no running %s container" % service)
        return c[0]

    def health(self, cid):
        return self.d.run("inspect", "-f", "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}",
                          cid).strip()

    def all_healthy(self, services):
        for s in services:
            cs = self.containers(s)
            if not cs or any(self.health(c) != "healthy" for c in cs):
                return False
        return True

    def bus(self, type_, body):
        """A store request from inside the store container (bus-call)."""
        out = self.d.run("exec", self.one("store-service"), "bus-call", "tcp://127.0.0.1:7401",
                         type_, json.dumps(body))
        return json.loads(out)


# ------------------------------------------------------------------- HTTP

def http(method, url, body=None, headers=None, timeout=30):
    data = json.dumps(body).encode() if body is not None else None
    h = {"Accept": "application/json"}
    if data is not None:
        h["Content-Type"] = "application/json"
    h.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw, st = r.read(), r.status
    except urllib.error.HTTPError as e:
        raw, st = e.read(), e.code
    try:
        return st, json.loads(raw) if raw else None
    except ValueError:
        return st, raw.decode(errors="replace")


class Api:
    def __init__(self, port, key):
        self.base = "http://127.0.0.1:%d" % port
        self.key = key

    def __call__(self, method, path, body=None, timeout=30):
        return http(method, self.base + path, body, {"X-Api-Key": self.key}, timeout)

    def status(self, name):
        st, body = self("GET", "/api/sessions/" + name)
        return body.get("status") if st == 200 else None

    def wait_status(self, name, want, timeout):
        return wait_for(lambda: self.status(name) == want, timeout,
                        "session %s %s" % (name, want))

    def events(self, name, event="message"):
        out, after = [], 0
        while True:
            st, page = self("GET", "/api/%s/events?after=%d&limit=500" % (name, after))
            check(st == 200, "events of %s: %s %r" % (name, st, page))
            out += [e for e in page["events"] if e["event"] == event]
            if page["next"] == after or not page["events"]:
                return out
            after = page["next"]

    def received(self, name):
        """Bodies of the texts session name received (not fromMe)."""
        return [e["payload"].get("body") for e in self.events(name)
                if not e["payload"].get("fromMe")]


# ------------------------------------------------------------------- test

PHONE_A, PHONE_B = "15550001001", "15550001002"


def link(api, sim, name, phone):
    st, body = api("POST", "/api/sessions", {"name": name, "start": True})
    check(st == 201, "create %s: %s %r" % (name, st, body))
    api.wait_status(name, "SCAN_QR_CODE", 60)
    qr = wait_for(lambda: (lambda r: r[1]["value"] if r[0] == 200 else None)(
        api("GET", "/api/%s/auth/qr?format=raw" % name)), 30, "QR of " + name)
    st, res = http("POST", sim + "/accounts/%s/scan" % phone, {"qr": qr})
    check(st == 200, "scan %s: %s %r" % (name, st, res))
    api.wait_status(name, "WORKING", 60)


def send(api, name, phone, text):
    st, body = api("POST", "/api/sendText", {"session": name, "chatId": phone + "@c.us",
                                             "text": text}, timeout=30)
    return st


def send_ready(api, name, phone, text, timeout=30):
    """sendText right after a restart or takeover: the gateway learns the
    holder from the next worker heartbeat, so 503/404/409 are retried."""
    last = [None]

    def attempt():
        last[0] = send(api, name, phone, text)
        if last[0] not in (201, 503, 404, 409):
            fail("sendText %s -> %s: %s" % (name, phone, last[0]))
        return last[0] == 201
    wait_for(attempt, timeout, "sendText from %s accepted (last %s)" % (name, last[0]))


def delivered(api, name, texts, timeout):
    wait_for(lambda: set(texts) <= set(api.received(name)), timeout,
             "%d texts delivered to %s" % (len(texts), name))


def holder(compose, name):
    r = compose.bus("session.get", {"name": name})
    check(r["st"] == 200, r)
    return r["body"]["session"]["worker"]


def statuses_since(compose, name, ts_ms):
    r = compose.bus("event.list", {"session": name, "after": 0, "limit": 1000})
    return [e["status"] for e in r["body"]["events"]
            if e["event"] == "session.status" and e["timestamp"] >= ts_ms]


class Traffic(threading.Thread):
    """Texts a -> phone B every 0.4 s; records what was acknowledged (201)
    and when requests failed."""

    def __init__(self, api, tag):
        super().__init__(daemon=True)
        self.api, self.tag = api, tag
        self.acked, self.failed = [], []
        self.halt = threading.Event()

    def run(self):
        n = 0
        while not self.halt.is_set():
            text = "%s-%d" % (self.tag, n)
            n += 1
            try:
                st = send(self.api, "a", PHONE_B, text)
            except OSError as e:
                st = str(e)
            if st == 201:
                self.acked.append(text)
            else:
                self.failed.append((time.time(), st))
            time.sleep(0.4)

    def stop(self):
        self.halt.set()
        self.join(60)

    def window(self):
        if not self.failed:
            return 0.0
        return self.failed[-1][0] - self.failed[0][0]


def main():
    os.makedirs(WORK, exist_ok=True)
    # One run at a time per machine: runs share the daemon, the compose
    # project and the image tags.
    import fcntl
    lock = open("/tmp/wharf-deploy-test.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    open(os.path.join(WORK, "commands.log"), "w").close()
    daemon = Daemon()
    daemon.start()
    compose = None
    try:
        t = time.time()
        sh(os.path.join(SRC, "scripts", "docker-base.sh"),
           env=dict(daemon.env, DOCKER=daemon.docker), timeout=1800)
        log("base images ready (%.0fs)" % (time.time() - t))

        key = "deploy-" + secrets.token_hex(8)
        api_port, sim_port = free_port(), free_port()
        demo = dict(l.strip().split("=", 1) for l in open(os.path.join(SRC, "deploy", "demo.env"))
                    if "=" in l and not l.startswith("#"))
        compose = Compose(daemon, {
            "WAHA_API_KEY": key, "WHATSAPP_API_PORT": str(api_port),
            "STORE_SECRET_KEY": secrets.token_hex(32),
            "SIM_CONTROL_PORT": str(sim_port), "WA_URL": demo["WA_URL"],
            "WA_ROOT_KEY": demo["WA_ROOT_KEY"], "LEASE_TTL_MS": str(LEASE_TTL_MS),
            "WORKER_CLAIM_BATCH": "1", "WORKER_CLAIM_INTERVAL_MS": "300",
            "WHARF_IMAGE": "wharf:latest"})
        compose("down", "-v", "--remove-orphans", check_rc=False)
        api = Api(api_port, key)
        sim = "http://127.0.0.1:%d" % sim_port

        # 1. build and start. Swagger UI's npm files are fetched here, on
        # the host (its npm may reach a registry the build container
        # cannot), into deploy/www-prebuilt, which the image's build stage
        # uses instead of running npm itself.
        t = time.time()
        sh("sh", os.path.join(SRC, "scripts", "www-npm.sh"), os.path.join(WORK, "www-npm"),
           os.path.join(SRC, "deploy", "www-prebuilt"), timeout=600)
        prebuilt = os.path.isfile(os.path.join(SRC, "deploy", "www-prebuilt", "swagger-ui",
                                               "swagger-ui-bundle.js"))
        compose("build")
        log("image built (%.0fs): %s" % (time.time() - t, daemon.run(
            "image", "inspect", "-f", "{{.Size}}", "wharf:latest").strip() + " bytes"))
        compose("up", "-d")
        services = ["postgres", "store-service", "media-service", "webhook-dispatcher",
                    "api-gateway", "session-worker", "wa-sim"]
        wait_for(lambda: compose.all_healthy(services), 120, "every container healthy")
        wait_for(lambda: http("GET", api.base + "/health")[0] == 200, 60, "/health 200")
        st, body = http("GET", api.base + "/health")
        log("stack healthy; /health: %r" % (body,))
        st, body = api("GET", "/api/sessions")
        check(st == 200 and body == [], "no sessions yet: %s %r" % (st, body))
        gw = compose.one("api-gateway")
        out = daemon.run("exec", gw, "sh", "-c", "id -u; ldd /usr/local/bin/* 2>&1; true")
        check(out.split()[0] != "0", "containers run as non-root: uid %s" % out.split()[0])
        check("not found" not in out, "ldd inside the image:\n" + out)
        www = daemon.run("exec", gw, "sh", "-c", "ls /usr/local/share/wharf/www/dashboard "
                         "/usr/local/share/wharf/www/swagger-ui 2>&1; true")
        check("index.html" in www, "the dashboard is in the image:\n" + www)
        if prebuilt:
            check("swagger-ui-bundle.js" in www, "Swagger UI is in the image:\n" + www)
        log("non-root (uid %s); ldd finds every library of %d binaries"
            % (out.split()[0], out.count(":\n")))

        # 2. two linked sessions, texts both ways
        for phone, nm in ((PHONE_A, "Alice"), (PHONE_B, "Bob")):
            st, body = http("POST", sim + "/accounts", {"phone": phone, "push_name": nm})
            check(st == 201, (st, body))
        link(api, sim, "a", PHONE_A)
        link(api, sim, "b", PHONE_B)
        check(send(api, "a", PHONE_B, "hello from a") == 201, "a -> b")
        check(send(api, "b", PHONE_A, "hello from b") == 201, "b -> a")
        delivered(api, "b", ["hello from a"], 30)
        delivered(api, "a", ["hello from b"], 30)
        log("two sessions linked; texts delivered both ways")

        # 3. three workers; new sessions spread
        compose("up", "-d", "--no-recreate", "--scale", "session-worker=3")
        wait_for(lambda: len(compose.containers("session-worker")) == 3 and
                 compose.all_healthy(["session-worker"]), 90, "3 healthy workers")
        extra = ["s%d" % i for i in range(6)]
        for n in extra:
            st, body = api("POST", "/api/sessions", {"name": n, "start": True})
            check(st == 201, (st, body))
        held = wait_for(lambda: (lambda h: h if all(h.values()) else None)(
            {n: holder(compose, n) for n in extra + ["a", "b"]}), 60, "all sessions held")
        workers = set(held.values())
        log("sessions over %d workers: %s" % (len(workers), held))
        check(len(workers) >= 2, "sessions spread over the workers: %r" % held)

        # 4. docker kill the worker holding a
        victim = holder(compose, "a")
        cid = victim.rsplit("-", 1)[0]
        check(cid in compose.containers("session-worker"), "holder %s is a worker container" % victim)
        sent_before = ["before-kill-%d" % i for i in range(3)]
        for text in sent_before:
            check(send(api, "a", PHONE_B, text) == 201, "acked before the kill")
        kill_ms = int(time.time() * 1000)
        daemon.run("kill", cid)
        killed = time.time()
        # Bob's phone writes while a's worker is dead: queued by wa-sim.
        st, body = http("POST", sim + "/accounts/%s/send" % PHONE_B,
                        {"to": PHONE_A, "text": "during-outage"})
        check(st == 200, (st, body))
        wait_for(lambda: (lambda w: w and w != victim and api.status("a") == "WORKING")(
            holder(compose, "a")), LEASE_TTL_MS / 1000 + 20, "a WORKING on another worker",
            interval=0.2)
        took = time.time() - killed
        log("a WORKING on %s %.1fs after docker kill (lease TTL %.0fs)"
            % (holder(compose, "a"), took, LEASE_TTL_MS / 1000))
        check(took <= LEASE_TTL_MS / 1000 + 10, "takeover within the lease TTL: %.1fs" % took)
        hist = statuses_since(compose, "a", kill_ms)
        check("SCAN_QR_CODE" not in hist, "no rescan after the kill: %r" % hist)
        send_ready(api, "a", PHONE_B, "after-kill")
        delivered(api, "b", sent_before + ["after-kill"], 30)
        delivered(api, "a", ["during-outage"], 30)
        log("no acknowledged text lost across the kill")

        # 5. down, up: sessions come back from the volumes
        compose("down")
        up_ms = int(time.time() * 1000)
        compose("up", "-d")
        for n in ("a", "b"):
            api.wait_status(n, "WORKING", 90)
            hist = statuses_since(compose, n, up_ms)
            check("SCAN_QR_CODE" not in hist, "no rescan after down/up: %s %r" % (n, hist))
        send_ready(api, "a", PHONE_B, "after-restart")
        delivered(api, "b", ["after-restart"], 30)
        log("down/up: a and b WORKING again without a QR")

        # 6. independent upgrades while texts flow
        # The newer peer: the same binaries writing bus minor version 1
        # (header mv, cm_msg.h), in an image of its own.
        sh("sh", "-c", "printf 'FROM wharf:latest\\nENV WHARF_BUS_MINOR=1\\n' | %s build -q -t "
           "wharf:bus-minor1 -" % daemon.docker, env=daemon.env)
        out = daemon.run("run", "--rm", "wharf:bus-minor1", "sh", "-c", "echo $WHARF_BUS_MINOR")
        check(out.strip() == "1", "bus-minor1 image: %r" % out)
        # worker swapped to the newer minor (old gateway and store), back,
        # then the gateway alone to the newer minor (old workers)
        for svc, image in (("session-worker", "wharf:bus-minor1"),
                           ("session-worker", "wharf:latest"),
                           ("api-gateway", "wharf:bus-minor1")):
            traffic = Traffic(api, "upgrade-%s-%s" % (svc, image))
            traffic.start()
            time.sleep(2)
            swap_at = time.time()
            scale = ["--scale", "session-worker=2"] if svc == "session-worker" else []
            compose("up", "-d", "--no-deps", *scale, svc, env={"WHARF_IMAGE": image})
            wait_for(lambda: compose.all_healthy([svc]), 90, "healthy after swapping " + svc)
            api.wait_status("a", "WORKING", LEASE_TTL_MS / 1000 + 30)
            time.sleep(3)
            traffic.stop()
            images = {c: daemon.run("inspect", "-f", "{{.Config.Image}}", c).strip()
                      for c in compose.containers("api-gateway") + compose.containers("session-worker")}
            log("%s -> %s in %.1fs; now %r; %d texts acked, %d failed over %.1fs"
                % (svc, image, time.time() - swap_at, images, len(traffic.acked),
                   len(traffic.failed), traffic.window()))
            check(traffic.acked, "texts flowed during the swap of " + svc)
            check(traffic.window() <= LEASE_TTL_MS / 1000 + 20,
                  "failures only inside the swap window: %r" % traffic.failed)
            delivered(api, "b", traffic.acked, 60)
        send_ready(api, "b", PHONE_A, "after-upgrades")
        delivered(api, "a", ["after-upgrades"], 30)
        log("upgrades: every acknowledged text delivered")
        print("deploy: 1 passed, 0 failed")
        return 0
    except Exception:
        if compose:
            for s in ("api-gateway", "session-worker", "store-service", "wa-sim"):
                compose("logs", "--no-color", "--tail", "40", s, check_rc=False)
            print("logs: %s/commands.log" % WORK)
        raise
    finally:
        if compose:
            compose("down", "-v", "--remove-orphans", check_rc=False)
        daemon.stop()
        log("done")


if __name__ == "__main__":
    sys.exit(main())
