#!/usr/bin/env python3
"""bench_media.py - media-service benchmark: image uploads over the bus.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Starts one media-service from a build's bin directory and an HTTPS media
host on loopback (tests/integration/media_util.MediaHost, Python, keeps
the encrypted blobs in memory), then for a ~100 KiB and a ~5 MiB JPEG
keeps `--concurrency` media.upload requests in flight for `--seconds`:
each is read from a blob frame, sniffed, sized, thumbnailed
(libjpeg-turbo), encrypted (AES-256-CBC + HMAC, wa_media) and POSTed to
the host. Reports uploads/s, plaintext MiB/s, latency percentiles and
media-service's resident memory (peak VmHWM, and RSS sampled every
100 ms).

With --e2e it measures sends through the whole stack instead: wa-sim
(its HTTPS media host), PostgreSQL and every service from --bin, two
sessions linked by QR; `--concurrency` HTTP clients keep POST
/api/sendImage {file.data} from a to b in flight for `--seconds` per
file. A send counts when the gateway answered 201 (WhatsApp acked the
message: media_conn, upload with thumbnail and encryption, the message
built, Signal-encrypted and sent). b receives each one too, so
media-service also downloads, verifies, decrypts and stores it for b's
webhook (media.url), counted as received. Reports sends/s, MiB/s,
latency, and the resident memory of media-service and session-worker.

    python3 bench/bench_media.py [--bin build-release/bin] [--seconds 10]
                                 [--concurrency 4] [--workers 4] [--e2e]
                                 [--only small|big]
"""
import base64
import json
import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)


def rss_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def jpeg(directory, name, size, q):
    path = os.path.join(directory, name)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "nullsrc=s=%s,geq=random(1)*255:random(2)*255:128" % size,
                    "-frames:v", "1", "-q:v", str(q), path],
                   check=True, capture_output=True)
    with open(path, "rb") as f:
        return f.read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(SRC, "build-release", "bin"))
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--only", choices=("small", "big"), default=None,
                    help="--e2e: only the ~100 KiB or the ~5 MiB file")
    ap.add_argument("--asan", action="store_true",
                    help="--e2e with an ASan build: quarantine off")
    ap.add_argument("--e2e", action="store_true",
                    help="sends through the whole stack (wa-sim, every service)")
    args = ap.parse_args()
    os.environ["WHARF_BIN_DIR"] = os.path.abspath(args.bin)
    os.environ["WHARF_SOURCE_DIR"] = SRC
    if args.e2e:
        return e2e(args)
    sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
    from harness import free_port
    from bus import Dealer
    from media_util import MediaHost, make_cert

    tmp = tempfile.mkdtemp(prefix="wharf-bench-media-")
    cert, key = make_cert(tmp)
    small = jpeg(tmp, "small.jpg", "370x280", 2)
    big = jpeg(tmp, "big.jpg", "2760x2070", 1)
    host = MediaHost(cert, key)
    port = free_port()
    env = dict(os.environ, APP_LOG_LEVEL="warn", MEDIA_BIND="tcp://127.0.0.1:%d" % port,
               MEDIA_CA_FILE=cert, MEDIA_WORKERS=str(args.workers),
               WHATSAPP_FILES_FOLDER=os.path.join(tmp, "media"))
    proc = subprocess.Popen([os.path.join(args.bin, "media-service")], env=env,
                            stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(tmp, "media.log"), "wb"))
    conn = {"auth": host.auth, "hosts": [host.host]}
    print("cores: %d, media-service workers: %d, clients in flight: %d, %s"
          % (os.cpu_count(), args.workers, args.concurrency, args.bin))
    try:
        for name, data in (("~100 KiB", small), ("~5 MiB", big)):
            host.blobs.clear()
            lat = []
            done = [0]
            errors = [0]
            lock = threading.Lock()
            stop = time.time() + args.seconds
            rss = [0]

            def client():
                d = Dealer(env["MEDIA_BIND"])
                while time.time() < stop:
                    t0 = time.time()
                    m = d.call_msg("media.upload", {"kind": "image", "file": {},
                                                    "media_conn": conn}, [data], timeout=60)
                    with lock:
                        if m is not None and m.st == 200:
                            done[0] += 1
                            lat.append(time.time() - t0)
                        else:
                            errors[0] += 1
                        host.blobs.clear()
                d.close()

            def sampler():
                while time.time() < stop:
                    rss[0] = max(rss[0], rss_kib(proc.pid, "VmRSS"))
                    time.sleep(0.1)

            t_start = time.time()
            threads = [threading.Thread(target=client) for _ in range(args.concurrency)]
            threads.append(threading.Thread(target=sampler))
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.time() - t_start
            lat.sort()
            pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else 0  # noqa
            print("%-9s file %8d B  uploads %5d in %5.1fs = %7.1f/s  %6.1f MiB/s  "
                  "latency ms p50 %.0f p90 %.0f p99 %.0f  errors %d  "
                  "media-service RSS peak %d MiB (VmHWM %d MiB)"
                  % (name, len(data), done[0], wall, done[0] / wall,
                     done[0] * len(data) / wall / 1048576, pct(0.5), pct(0.9), pct(0.99),
                     errors[0], rss[0] // 1024, rss_kib(proc.pid, "VmHWM") // 1024))
    finally:
        proc.terminate()
        proc.wait(10)
        host.close()


def e2e(args):
    sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
    from harness import Receiver, check, wait_for
    from engine_util import hooks, linked, stack
    from wasim import WaSim

    tmp = tempfile.mkdtemp(prefix="wharf-bench-media-e2e-")
    small = jpeg(tmp, "small.jpg", "370x280", 2)
    big = jpeg(tmp, "big.jpg", "2760x2070", 1)
    cert = os.path.join(tmp, "media.crt")
    # An ASan build (memory figures relative only): no quarantine, so a
    # freed file is given back at once and RSS follows the live copies
    asan = ({"ASAN_OPTIONS": "detect_leaks=0:quarantine_size_mb=0"}
            if args.asan else {})
    print("cores: %d, media-service workers: %d, HTTP clients in flight: %d, %s"
          % (os.cpu_count(), args.workers, args.concurrency, args.bin), flush=True)
    with WaSim("--media-cert", cert) as sim, \
            stack(sim, MEDIA_CA_FILE=cert, MEDIA_WORKERS=str(args.workers),
                  APP_LOG_LEVEL="warn", GATEWAY_REQUEST_TIMEOUT_MS="120000",
                  **asan) as s, \
            Receiver() as rx:
        linked(s, sim, rx, [("a", "15550990001", "A"), ("b", "15550990002", "B")])
        pids = {"media-service": s.proc("media-service").p.pid,
                "session-worker": s.proc("session-worker-0").p.pid,
                "api-gateway": s.proc("api-gateway").p.pid}
        files = [f for f in (("~100 KiB", small), ("~5 MiB", big))
                 if args.only is None or f[0] == {"small": "~100 KiB",
                                                  "big": "~5 MiB"}[args.only]]
        for name, data in files:
            body = json.dumps({"session": "a", "chatId": "15550990002@c.us",
                               "file": {"data": base64.b64encode(data).decode(),
                                        "mimetype": "image/jpeg"}})
            hdrs = {"X-Api-Key": s.api_key, "Content-Type": "application/json"}
            # warm-up: the Signal session and the media_conn
            st, _, _ = s.raw("POST", "/api/sendImage", body, hdrs, timeout=120)
            check(st == 201, st)
            before = len(hooks(rx, "b", "message"))
            idle = {k: rss_kib(pid, "VmRSS") for k, pid in pids.items()}
            lat, errors, codes = [], [0], []
            lock = threading.Lock()
            stop = time.time() + args.seconds
            rss = {k: 0 for k in pids}

            def client():
                while time.time() < stop:
                    t0 = time.time()
                    st, _, _ = s.raw("POST", "/api/sendImage", body, hdrs, timeout=120)
                    with lock:
                        if st == 201:
                            lat.append(time.time() - t0)
                        else:
                            errors[0] += 1
                            codes.append(st)

            def sampler():
                while time.time() < stop:
                    for k, pid in pids.items():
                        rss[k] = max(rss[k], rss_kib(pid, "VmRSS"))
                    time.sleep(0.1)

            t_start = time.time()
            threads = [threading.Thread(target=client) for _ in range(args.concurrency)]
            threads.append(threading.Thread(target=sampler))
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.time() - t_start
            sent = len(lat) + 1
            got = wait_for(lambda: (len(hooks(rx, "b", "message")) - before >= sent - 1
                                    and len(hooks(rx, "b", "message")) - before),
                           120, interval=0.5, what="b received every send")
            fails = [e for e in hooks(rx, "b", "message")[before:]
                     if e["payload"]["media"].get("error")]
            drained = time.time() - t_start
            lat.sort()
            pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else 0  # noqa
            print("%-9s file %8d B  sends %4d in %5.1fs = %6.2f/s  %6.2f MiB/s  "
                  "latency ms p50 %.0f p90 %.0f p99 %.0f  errors %d  "
                  "received+downloaded %d (%.1fs, %d failed)  RSS peak: media-service "
                  "%d MiB, session-worker %d MiB, api-gateway %d MiB"
                  % (name, len(data), len(lat), wall, len(lat) / wall,
                     len(lat) * len(data) / wall / 1048576, pct(0.5), pct(0.9), pct(0.99),
                     errors[0], got, drained, len(fails),
                     rss["media-service"] // 1024, rss["session-worker"] // 1024,
                     rss["api-gateway"] // 1024),
                  flush=True)
            print("          RSS before the load (after one send): media-service %d MiB, "
                  "session-worker %d MiB, api-gateway %d MiB; errors are non-201 answers: %s"
                  % (idle["media-service"] // 1024, idle["session-worker"] // 1024,
                     idle["api-gateway"] // 1024, sorted(set(codes))), flush=True)


if __name__ == "__main__":
    main()
