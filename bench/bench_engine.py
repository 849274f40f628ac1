#!/usr/bin/env python3
"""bench_engine.py - the WhatsApp engine through the whole stack, with
wa-sim as the WhatsApp server.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Starts wa-sim and a real Wharf stack (a private PostgreSQL, durable
unless --fast-pg, store-service, api-gateway, session-worker(s),
webhook-dispatcher, media-service) from a build's bin directory (default
build-release/bin), links sessions to wa-sim accounts by QR (the phone
scans through wa-sim's control API) and measures:

  e2e   messages/s and latency from /api/sendText to the receiving
        session's `message` webhook (bin/bench_engine is the HTTP client
        and the webhook receiver), for 1 sending session (a -> b) and for
        N sessions in a ring (each sends to the next): a closed-loop
        throughput run (64 keep-alive connections), then a latency run at
        a fixed offered rate (--rates, default half the throughput just
        measured). Each run prints the CPU time every process spent per
        delivered message and the load average before and after.
  idle  session-worker RSS with 0 sessions, then with N1, N2, ...
        linked, WORKING and idle sessions (wa-sim counts them logged in);
        (RSS(N) - RSS(0)) / N. Then the worker is restarted so every
        session logs in again from its stored credentials (no pairing in
        that process's history) and is measured again.

Diagnostics: --watch (outbox backlog every 2 s), --pg-stats (top
statements per run), --pg-explain MS (plans of slow statements in the
cluster's server.log), --perf FILE (perf record of the stack), --hold S.
Loopback only. Examples:

    python3 bench/bench_engine.py e2e [--sessions 1,100] [--messages 20000]
    python3 bench/bench_engine.py idle [--idle 100,1000]
    python3 bench/bench_engine.py all
"""
import argparse
import concurrent.futures as cf
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
CLK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def loadavg():
    with open("/proc/loadavg") as f:
        return tuple(float(x) for x in f.read().split()[:3])


def cpu_s(pid):
    """utime + stime of one process, seconds (0 if gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK
    except OSError:
        return 0.0


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def children(ppid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == ppid:
                out.append(int(d))
        except OSError:
            pass
    return out


class Bench:
    def __init__(self, args):
        self.args = args
        os.environ["WHARF_BIN_DIR"] = os.path.abspath(args.bin)
        os.environ["WHARF_SOURCE_DIR"] = SRC
        sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
        import harness
        import wasim
        self.h = harness
        self.wasim = wasim
        self.pg = harness.Postgres.shared(durable=not args.fast_pg)
        self.rx_port = harness.free_port()
        if args.pg_stats:
            self.pg.psql("postgres", "ALTER SYSTEM SET shared_preload_libraries"
                         " = pg_stat_statements, auto_explain")
            self.pg.pause()
            self.pg.resume()
            self.pg.psql("postgres", "CREATE EXTENSION IF NOT EXISTS "
                         "pg_stat_statements")
            if args.pg_explain:
                # plans of slow statements go to the server log
                for k, v in (("log_min_duration", "%dms" % args.pg_explain),
                             ("log_analyze", "on"), ("log_buffers", "on"),
                             ("log_nested_statements", "on")):
                    self.pg.psql("postgres", "ALTER SYSTEM SET auto_explain.%s"
                                 " = '%s'" % (k, v))
                self.pg.psql("postgres", "SELECT pg_reload_conf()")
                print("plans in %s" % os.path.join(self.pg.dir, "server.log"),
                      flush=True)

    def pg_stats_reset(self):
        if self.args.pg_stats:
            self.pg.psql("postgres", "SELECT pg_stat_statements_reset()")

    def pg_stats_print(self, messages):
        if not self.args.pg_stats:
            return
        out = self.pg.psql("postgres", """
            SELECT calls, round(total_exec_time::numeric, 1),
                   round((total_exec_time * 1000 / %d)::numeric, 1), rows,
                   regexp_replace(left(query, 110), '\\s+', ' ', 'g')
              FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 25
            """ % max(messages, 1))
        print("   postgres statements (calls | total ms | us/msg | rows | query):")
        for line in out.splitlines():
            print("     " + line)
        tot = self.pg.psql("postgres", """
            SELECT sum(calls), sum(calls) FILTER (WHERE query ILIKE 'commit%'),
                   sum(calls) FILTER (WHERE query ILIKE '%signal_keys%')
              FROM pg_stat_statements
             WHERE query NOT ILIKE '%pg_stat_statements%'""").split("|")
        m = max(messages, 1)
        print("   statements/msg %.2f  commits/msg %.3f  signal_keys "
              "statements/msg %.3f" % tuple(
                  int(x or 0) / m for x in (t.strip() for t in tot)))

    # -- the stack --------------------------------------------------
    def sim(self):
        return self.wasim.WaSim(env={"APP_LOG_LEVEL": "warn"})

    def stack(self, sim, workers):
        env = {"APP_LOG_LEVEL": "warn", "WA_ROOT_KEY": sim.info["root_key"],
               "LEASE_TTL_MS": "15000", "WORKER_CLAIM_INTERVAL_MS": "300",
               "WA_RECONNECT_MIN_MS": "200", "WA_RECONNECT_MAX_MS": "2000"}
        env.update(kv.split("=", 1) for kv in self.args.env)
        return self.h.Stack(workers=workers, env=env, wa_url=sim.info["ws_url"])

    def pg_pids(self):
        try:
            with open(os.path.join(self.pg.dir, "data", "postmaster.pid")) as f:
                pm = int(f.readline())
        except (OSError, ValueError):
            return []
        return [pm] + children(pm)

    def pids(self, s, sim):
        out = {tag: p.p.pid for tag, p in s.procs.items() if p.alive()}
        out["wa-sim"] = sim.proc.pid
        return out

    def cpu_snapshot(self, s, sim):
        snap = {tag: cpu_s(pid) for tag, pid in self.pids(s, sim).items()}
        snap["postgres"] = sum(cpu_s(p) for p in self.pg_pids())
        return snap

    # -- linking ----------------------------------------------------
    def link(self, s, sim, names, phones, parallel=16, timeout=1800):
        """Create accounts and sessions and link each session by QR."""
        t0 = time.time()
        hook = "http://127.0.0.1:%d" % self.rx_port
        pool = cf.ThreadPoolExecutor(parallel)

        def account(phone):
            st, body = sim.ctl("POST", "/accounts",
                               {"phone": phone, "push_name": "B" + phone[-4:]})
            self.h.check(st in (201, 409), (st, body))

        def create(name):
            st, body, _ = s.api("POST", "/api/sessions", {
                "name": name, "start": True,
                "config": {"webhooks": [{"url": hook + "/" + name,
                                         "events": ["message"]}]}})
            self.h.check(st == 201, (st, body))
        list(pool.map(account, phones))
        list(pool.map(create, names))
        phone_of = dict(zip(names, phones))
        inflight = {}
        lock = threading.Lock()

        def scan(name):
            try:
                st, qr, _ = s.api("GET", "/api/%s/auth/qr?format=raw" % name)
                if st != 200:
                    return False
                st, res = sim.ctl("POST", "/accounts/%s/scan" % phone_of[name],
                                  {"qr": qr["value"]})
                return st == 200
            finally:
                with lock:
                    inflight.pop(name, None)
        want = set(names)
        scanned = {}
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            st, lst, _ = s.api("GET", "/api/sessions", timeout=60)
            self.h.check(st == 200, (st, lst))
            status = {x["name"]: x["status"] for x in lst if x["name"] in want}
            working = sum(1 for v in status.values() if v == "WORKING")
            if working == len(want):
                break
            now = time.time()
            for name, v in status.items():
                # a QR on show and no scan of it in the last 10 s
                if v == "SCAN_QR_CODE" and name not in inflight and \
                        now - scanned.get(name, 0) > 10:
                    with lock:
                        inflight[name] = True
                    scanned[name] = now
                    pool.submit(scan, name)
            counts = {}
            for v in status.values():
                counts[v] = counts.get(v, 0) + 1
            if counts != last:
                print("  linking %d sessions: %s (%.0fs)" % (
                    len(want), counts, time.time() - t0), flush=True)
                last = counts
            time.sleep(0.5)
        else:
            raise AssertionError("sessions not WORKING after %ds" % timeout)
        pool.shutdown()
        return time.time() - t0

    def logged_in(self, sim):
        """Connections wa-sim has logged in (its ground truth)."""
        st, body = sim.ctl("GET", "/connections")
        self.h.check(st == 200, (st, body))
        return sum(1 for c in body["connections"] if c["state"] == "logged_in")

    def wait_logged_in(self, sim, n, timeout=1800):
        self.h.wait_for(lambda: self.logged_in(sim) == n, timeout, interval=1.0,
                        what="%d connections logged in at wa-sim" % n)

    # -- e2e --------------------------------------------------------
    def engine(self, routes_path, messages, conns, rate, api_port, key,
               timeout=600):
        cmd = [os.path.join(self.args.bin, "bench_engine"), "--api", str(api_port),
               "--key", key, "--routes", routes_path, "--port", str(self.rx_port),
               "--messages", str(messages), "--conns", str(conns),
               "--timeout", str(timeout)]
        if rate:
            cmd += ["--rate", str(rate)]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 60)
        if out.stderr:
            sys.stderr.write(out.stderr)
        return json.loads(out.stdout.strip().splitlines()[-1])

    def e2e(self, n):
        """n = 1: a -> b; n > 1: a ring of n sessions."""
        a = self.args
        total = 2 if n == 1 else n
        names = ["e%d_%d" % (n, i) for i in range(total)]
        phones = ["1555%07d" % (n * 10000 + i) for i in range(total)]
        routes = ([(names[0], phones[1])] if n == 1 else
                  [(names[i], phones[(i + 1) % n]) for i in range(n)])
        results = []
        with self.sim() as sim, self.stack(sim, a.workers) as s:
            took = self.link(s, sim, names, phones)
            print("linked %d sessions in %.1fs" % (total, took), flush=True)
            time.sleep(2.0)
            with tempfile.NamedTemporaryFile("w", suffix=".routes",
                                             delete=False) as f:
                for r in routes:
                    f.write("%s %s\n" % r)
                routes_path = f.name
            # Warm up: the first message of each route builds its Signal
            # session (usync, prekey bundle); 3 rounds.
            w = self.engine(routes_path, 3 * len(routes), min(a.conns, len(routes)),
                            0, s.api_port, s.api_key)
            print("warm-up: %d/%d delivered" % (w["delivered"], w["messages"]),
                  flush=True)
            plan = [("throughput", a.messages, a.conns, 0)]
            for rate in (a.rates or [None]) if a.rate_seconds > 0 else []:
                plan.append(("latency", 0, a.conns, rate))
            measured = None
            for rep in range(a.repeat):
                for label, messages, conns, rate in plan:
                    # the previous run's other events (message.any, acks)
                    # may still be on their way to the store
                    self.quiesce(s)
                    if label == "latency":
                        # a fixed offered rate: given, or half the
                        # throughput just measured
                        if rate is None:
                            rate = max(1, int(measured * a.rate_fraction))
                        label = "latency @%d/s" % rate
                        messages = int(rate * a.rate_seconds)
                    time.sleep(1.0)
                    la0 = loadavg()
                    c0 = self.cpu_snapshot(s, sim)
                    self.pg_stats_reset()
                    perf = None
                    if a.perf and rate == 0 and rep == 0:
                        pids = list(self.pids(s, sim).values()) + self.pg_pids()
                        if a.perf_only:
                            pids = [p for t, p in self.pids(s, sim).items()
                                    if t in a.perf_only.split(",")]
                        cg = (["--call-graph", "dwarf,16384"] if a.perf_dwarf
                              else ["-g"])
                        perf = subprocess.Popen(
                            ["perf", "record", "-q", "-F", "499"] + cg + ["-o", a.perf,
                             "-p", ",".join(str(p) for p in pids), "--",
                             "sleep", str(a.perf_seconds)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    watch = self.watch(s) if a.watch else None
                    r = self.engine(routes_path, messages, conns, rate,
                                    s.api_port, s.api_key)
                    if watch:
                        watch.set()
                    c1 = self.cpu_snapshot(s, sim)
                    if perf:
                        perf.wait()
                    la1 = loadavg()
                    per = {k: round((c1.get(k, 0) - c0.get(k, 0)) * 1e6 /
                                    max(r["delivered"], 1), 1) for k in c1}
                    r.update({"run": label, "sessions": total,
                              "senders": len(routes), "load_before": la0,
                              "load_after": la1, "cpu_us_per_msg": per})
                    results.append(r)
                    if rate == 0:
                        measured = r["steady_per_s"] or r["delivered_per_s"]
                    self.report(r)
                    self.pg_stats_print(r["delivered"])
            os.unlink(routes_path)
            if a.hold:
                print("holding %ds: DATABASE_URL=%s logs in %s" % (
                    a.hold, s.database_url, s.tmp), flush=True)
                time.sleep(a.hold)
        return results

    def quiesce(self, s, timeout=300):
        """Wait until no event has been stored for 2 s."""
        last, since = None, time.time()
        deadline = time.time() + timeout
        while time.time() < deadline:
            n = self.pg.psql(s.database_url, "SELECT count(*) FROM events")
            if n != last:
                last, since = n, time.time()
            elif time.time() - since >= 2.0:
                return
            time.sleep(0.5)

    def watch(self, s):
        """Print the outbox backlog every 2 s until the returned event is
        set: events not fanned out yet, deliveries pending."""
        stop = threading.Event()
        t0 = time.time()

        def run():
            while not stop.wait(2.0):
                out = self.pg.psql(s.database_url, """
                    SELECT (SELECT COALESCE(sum(s.event_seq - COALESCE(f.fanned, 0)), 0)
                              FROM sessions s LEFT JOIN event_fanned f
                                ON f.session = s.name),
                           (SELECT count(*) FROM webhook_deliveries
                             WHERE status = 'pending'),
                           (SELECT count(*) FROM webhook_deliveries
                             WHERE status = 'delivered')""")
                print("   %5.0fs  unfanned events %s  pending deliveries %s  "
                      "delivered %s" % ((time.time() - t0,) +
                                        tuple(out.split("|"))), flush=True)
        threading.Thread(target=run, daemon=True).start()
        return stop

    def report(self, r):
        e, api = r["e2e_ms"], r["api_ms"]
        print("%-16s senders %3d  conns %3d  accepted %6d/%6d (%.0f/s)  "
              "delivered %6d dup %d  %7.1f msg/s (steady %7.1f)  e2e ms p50 %.1f p90 %.1f "
              "p99 %.1f max %.1f  api ms p50 %.1f p99 %.1f  load %.1f->%.1f"
              % (r["run"], r["senders"], r["conns"], r["accepted"], r["messages"],
                 r["accepted_per_s"], r["delivered"], r["duplicates"], r["delivered_per_s"],
                 r["steady_per_s"], e["p50"], e["p90"], e["p99"], e["max"],
                 api["p50"], api["p99"], r["load_before"][0], r["load_after"][0]),
              flush=True)
        print("   failed %d  reconnects %d  closes %d  retired idle %d" % (
            r["failed"], r["reconnects"], r["closes"], r["retired"]), flush=True)
        print("   cpu us/msg: " + ", ".join(
            "%s %s" % kv for kv in sorted(r["cpu_us_per_msg"].items())) +
            "  client %.1f" % r["client_cpu_us_per_msg"], flush=True)

    # -- idle memory -------------------------------------------------
    def idle(self, steps):
        a = self.args
        results = []
        with self.sim() as sim, self.stack(sim, 1) as s:
            worker = s.proc("session-worker-0")
            time.sleep(3.0)
            rss0 = rss_kib(worker.p.pid)
            print("worker RSS with 0 sessions: %d KiB (load %.1f)"
                  % (rss0, loadavg()[0]), flush=True)
            have = 0
            names, phones = [], []
            for n in steps:
                new_names = ["i%d" % i for i in range(have, n)]
                new_phones = ["1666%07d" % i for i in range(have, n)]
                took = self.link(s, sim, new_names, new_phones,
                                 parallel=a.parallel)
                names += new_names
                phones += new_phones
                have = n
                self.wait_logged_in(sim, n, 120)
                time.sleep(a.settle)
                rss = rss_kib(worker.p.pid)
                r = {"run": "after linking", "sessions": n, "rss0_kib": rss0,
                     "rss_kib": rss, "per_session_kib": (rss - rss0) / n,
                     "link_s": took, "load": loadavg()}
                results.append(r)
                print("%d sessions WORKING (linked in %.0fs): worker RSS %d KiB, "
                      "(RSS - RSS0)/N = %.1f KiB (load %.1f)"
                      % (n, took, rss, r["per_session_kib"], r["load"][0]),
                      flush=True)
            # Restart the worker: the same sessions log in from their
            # stored credentials.
            self.h.check(self.logged_in(sim) == have, "all logged in")
            worker.stop()
            self.wait_logged_in(sim, 0, 60)
            t0 = time.time()
            worker = s.start_worker(0)
            self.wait_logged_in(sim, have)
            took = time.time() - t0
            time.sleep(a.settle)
            rss = rss_kib(worker.p.pid)
            r = {"run": "after restart", "sessions": have, "rss0_kib": rss0,
                 "rss_kib": rss, "per_session_kib": (rss - rss0) / have,
                 "login_s": took, "load": loadavg()}
            results.append(r)
            print("restarted worker, %d sessions WORKING again in %.0fs: RSS %d "
                  "KiB, (RSS - RSS0)/N = %.1f KiB (load %.1f)"
                  % (have, took, rss, r["per_session_kib"], r["load"][0]),
                  flush=True)
            sim_rss = rss_kib(sim.proc.pid)
            print("wa-sim RSS %d KiB" % sim_rss, flush=True)
        return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["e2e", "idle", "all"])
    ap.add_argument("--bin", default=os.path.join(SRC, "build-release", "bin"))
    ap.add_argument("--sessions", default="1,100",
                    help="e2e: sending sessions per run (1 = a->b, N = ring)")
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--rates", default="",
                    help="e2e: offered rates for the latency runs, comma-separated "
                    "(default: one run at --rate-fraction of the throughput)")
    ap.add_argument("--rate-fraction", type=float, default=0.5)
    ap.add_argument("--rate-seconds", type=float, default=20,
                    help="e2e: length of each latency run (0: throughput runs only)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--idle", default="100,1000", help="idle: session counts")
    ap.add_argument("--parallel", type=int, default=16,
                    help="idle: concurrent QR scans")
    ap.add_argument("--settle", type=float, default=20,
                    help="idle: seconds idle before reading RSS")
    ap.add_argument("--env", action="append", default=[], metavar="K=V",
                    help="extra environment for every service (repeatable)")
    ap.add_argument("--watch", action="store_true",
                    help="e2e: print the outbox backlog every 2 s")
    ap.add_argument("--hold", type=int, default=0,
                    help="e2e: keep the stack up this many seconds at the end")
    ap.add_argument("--perf", help="e2e: perf record the stack's processes "
                    "during the first throughput run into this file")
    ap.add_argument("--perf-seconds", type=int, default=15)
    ap.add_argument("--perf-only", help="e2e: only these processes (comma-separated "
                    "tags: store-service, api-gateway, session-worker-0, wa-sim, ...)")
    ap.add_argument("--perf-dwarf", action="store_true",
                    help="e2e: DWARF call graphs (for code built without frame pointers)")
    ap.add_argument("--pg-stats", action="store_true",
                    help="e2e: print the top PostgreSQL statements per run")
    ap.add_argument("--pg-explain", type=int, default=0,
                    help="with --pg-stats: log plans of statements slower "
                    "than this many ms (server.log in the cluster's directory)")
    ap.add_argument("--fast-pg", action="store_true",
                    help="fsync=off, synchronous_commit=off (as the tests)")
    args = ap.parse_args()
    args.rates = [int(x) for x in args.rates.split(",") if x]
    b = Bench(args)
    print("cores %d, postgres %s, workers %d, load %s" % (
        os.cpu_count(), "fsync off" if args.fast_pg else "durable", args.workers,
        loadavg()), flush=True)
    out = []
    if args.what in ("e2e", "all"):
        for n in [int(x) for x in args.sessions.split(",")]:
            out += b.e2e(n)
    if args.what in ("idle", "all"):
        out += b.idle([int(x) for x in args.idle.split(",")])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
