#!/usr/bin/env python3
"""bench_baileys.py - idle memory of Baileys clients linked to wa-sim, the
peer figure for bench_engine.py's idle run.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Starts wa-sim from a build (--bin, default build-release/bin), copies
bench/bench_baileys.mjs into the npm directory holding baileys@7.0.0-rc13
(--npm, default build-release/tests/interop/npm; fill it with
`sh tests/interop/npm_setup.sh tests/interop <dir>`) and runs it:

  per process   --procs P node processes with 1 client each, side by
                side: each one's whole RSS (what one client per process
                costs) and its growth from its own 0-client RSS;
  per client    one process with K clients for each K in --clients:
                (RSS(K) - RSS(0)) / K, where RSS(0) is the same process
                after loading Baileys and before any client.

Every client is linked by QR and idle for --settle seconds, then
measured after a forced GC (node --expose-gc). Loopback only.

    python3 bench/bench_baileys.py [--procs 4] [--clients 1,10,50]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Child:
    """One node process running bench_baileys.mjs."""

    def __init__(self, npm, info, first_phone, k, settle):
        self.p = subprocess.Popen(
            ["node", "--expose-gc", "bench_baileys.mjs", json.dumps(info),
             str(first_phone), str(k), str(settle)],
            cwd=npm, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.result = None
        self.err = ""
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        line = self.p.stdout.readline()
        if line:
            self.result = json.loads(line)
            self.result["proc_rss_kib"] = rss_kib(self.p.pid)
        else:
            self.err = self.p.stderr.read()

    def wait(self, timeout):
        self.t.join(timeout)
        if self.result is None:
            raise AssertionError("bench_baileys.mjs failed:\n" + self.err[-4000:])
        return self.result

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(20)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(SRC, "build-release", "bin"))
    ap.add_argument("--npm", default=os.path.join(SRC, "build-release", "tests",
                                                  "interop", "npm"))
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--clients", default="1,10,50")
    ap.add_argument("--settle", type=float, default=20)
    args = ap.parse_args()
    if not os.path.isdir(os.path.join(args.npm, "node_modules", "baileys")):
        sys.exit("no baileys in %s/node_modules: run sh tests/interop/npm_setup.sh "
                 "tests/interop %s" % (args.npm, args.npm))
    shutil.copy(os.path.join(HERE, "bench_baileys.mjs"), args.npm)
    os.environ["WHARF_BIN_DIR"] = os.path.abspath(args.bin)
    sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
    from wasim import WaSim
    node = subprocess.run(["node", "--version"], capture_output=True, text=True)
    print("cores %d, node %s, load %.1f" % (os.cpu_count(), node.stdout.strip(),
                                            loadavg()), flush=True)
    results = []
    with WaSim(env={"APP_LOG_LEVEL": "warn"}) as sim:
        phone = 17770000000
        # P processes with one client each
        kids = []
        try:
            for i in range(args.procs):
                kids.append(Child(args.npm, sim.info, phone, 1, args.settle))
                phone += 1
            for i, c in enumerate(kids):
                r = c.wait(600)
                r.update({"run": "1 client per process", "load": loadavg()})
                results.append(r)
                print("process %d, 1 client: RSS %d KiB (RSS before the client "
                      "%d KiB, +%d KiB; JS heap %d KiB) load %.1f"
                      % (i, r["proc_rss_kib"], r["rss0_kib"],
                         r["rss_kib"] - r["rss0_kib"], r["heap_kib"], r["load"]),
                      flush=True)
        finally:
            for c in kids:
                c.stop()
        # K clients in one process
        for k in [int(x) for x in args.clients.split(",") if x]:
            c = Child(args.npm, sim.info, phone, k, args.settle)
            phone += k
            try:
                r = c.wait(1800)
            finally:
                c.stop()
            r.update({"run": "K clients in one process", "load": loadavg()})
            results.append(r)
            print("1 process, %d clients (linked in %.0fs): RSS %d KiB, RSS(0) %d "
                  "KiB, (RSS(K) - RSS(0))/K = %.0f KiB; JS heap %d -> %d KiB; "
                  "load %.1f" % (k, r["link_s"], r["rss_kib"], r["rss0_kib"],
                                 r["per_client_kib"], r["heap0_kib"], r["heap_kib"],
                                 r["load"]), flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
