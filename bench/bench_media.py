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

This measures media-service alone, not a send through the whole stack:
the session-worker side of message.send_media is not built yet.

    python3 bench/bench_media.py [--bin build-release/bin] [--seconds 10]
                                 [--concurrency 4] [--workers 4]
"""
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
    args = ap.parse_args()
    os.environ["WHARF_BIN_DIR"] = os.path.abspath(args.bin)
    os.environ["WHARF_SOURCE_DIR"] = SRC
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


if __name__ == "__main__":
    main()
