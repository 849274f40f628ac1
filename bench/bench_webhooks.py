#!/usr/bin/env python3
"""bench_webhooks.py - webhook delivery benchmark on a real local stack.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Starts a private PostgreSQL (fsync and synchronous_commit on unless
--fast-pg), one store-service and one webhook-dispatcher from a build's
bin directory, then runs bench_webhooks (the receiver and event source)
three times:
  backlog     events stored first, then a dispatcher drains them
  throughput  as many events as the store takes, 1 webhook each
  fan-out     the same with 2 webhooks per session (2 deliveries/event)
  latency     a steady 1,000 events/s, event-to-delivery percentiles
Every delivery writes its attempt row and delivery update in PostgreSQL
(the delivery log), as in production.

    python3 bench/bench_webhooks.py [--bin build-release/bin] [--events N]
                                    [--fast-pg]
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(SRC, "build-release", "bin"))
    ap.add_argument("--events", type=int, default=30000)
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--fast-pg", action="store_true",
                    help="fsync=off, synchronous_commit=off (as the tests)")
    args = ap.parse_args()
    os.environ["WHARF_BIN_DIR"] = os.path.abspath(args.bin)
    os.environ["WHARF_SOURCE_DIR"] = SRC
    sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
    import harness

    harness.Postgres.shared(durable=not args.fast_pg)

    env = {"APP_LOG_LEVEL": "warn", "STORE_POOL_SIZE": "4"}
    runs = [("throughput", ["--hooks", "1", "--events", str(args.events)]),
            ("fan-out x2", ["--hooks", "2", "--events", str(args.events // 2)]),
            ("latency @1000/s", ["--hooks", "1", "--events", "10000",
                                 "--rate", "1000"])]
    print("cores: %d, postgres: %s" % (os.cpu_count(),
                                       "fsync off" if args.fast_pg else "durable"))
    results = []

    def report(name, r):
        r["run"] = name
        results.append(r)
        lat = r["latency_ms"]
        print("%-16s events %6d (stored %6.0f/s)  deliveries %6d in %6.2fs  "
              "= %6.0f/s (steady %6.0f/s)  latency ms p50 %d p90 %d p99 %d max %d"
              % (name, r["events"], r["append_per_s"], r["deliveries"],
                 r["total_s"], r["deliveries_per_s"], r["steady_per_s"],
                 lat["p50"], lat["p90"], lat["p99"], lat["max"]), flush=True)

    # Backlog drain: events stored while no dispatcher runs, then one
    # starts; measures delivery alone (fan-out, claims, HTTP, log writes).
    with harness.Stack(workers=0, services=["store-service"], env=env) as s:
        store = s.env["STORE_ENDPOINTS"]
        port = harness.free_port()
        base = [os.path.join(args.bin, "bench_webhooks"), "--store", store,
                "--sessions", str(args.sessions), "--prefix", "d_",
                "--port", str(port), "--events", str(args.events)]
        time.sleep(1.0)
        out = subprocess.run(base + ["--phase", "append"], capture_output=True,
                             text=True, timeout=900)
        appended = json.loads(out.stdout.strip().splitlines()[-1])
        rx = subprocess.Popen(base + ["--phase", "receive"], stdout=subprocess.PIPE,
                              text=True)
        time.sleep(0.5)
        s.start("webhook-dispatcher")
        r = json.loads(rx.communicate(timeout=900)[0].strip().splitlines()[-1])
        r["append_per_s"] = appended["append_per_s"]
        r["stored"] = appended["stored"]
        report("backlog drain", r)

    for i, (name, extra) in enumerate(runs):
        with harness.Stack(workers=0, services=["store-service", "webhook-dispatcher"],
                           env=env) as s:
            store = s.env["STORE_ENDPOINTS"]
            cmd = [os.path.join(args.bin, "bench_webhooks"), "--store", store,
                   "--sessions", str(args.sessions), "--prefix", "b%d_" % i] + extra
            time.sleep(1.0)
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
            if out.returncode != 0:
                sys.stderr.write(out.stderr)
            report(name, json.loads(out.stdout.strip().splitlines()[-1]))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
