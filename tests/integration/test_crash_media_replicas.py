"""test_crash_media_replicas - two media-services, one SIGKILLed with
requests in flight: the other takes them, and no API caller sees a 503.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Two sessions on wa-sim, a and b, media on wa-sim's HTTPS media host, and
two media-services (MEDIA_ENDPOINTS lists both, as for the gateway and
the worker). While a sends images to b (each an upload by a's worker and
a download by b's) and a client reads a's stored copies through the
gateway (media.file.get), a send by file.url from a server that holds the
file back is surely being fetched by one media-service; that one is
SIGKILLed and started again, three times. Then:
- the held send answers 201 (its upload went again to the other
  media-service) and b gets it once;
- every other send answered 201 and every read 200: no 503 while one
  media-service is up;
- every image reached b with media.url (no media.error);
- TMPDIR, shared by both, holds the directories of the two running
  media-services only: each start removed the killed one's, and never
  the other's (its lock is held; ms_scratch).
Before cm_client knew which server held a request, a media-service that
died failed the requests of both with 503 "media-service is unavailable".
"""
import base64
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from bus import Dealer  # noqa: E402
from engine_util import hooks, linked, stack  # noqa: E402
from harness import Receiver, check, kill_loop, run, wait_for  # noqa: E402
from media_util import SlowServer, make_files  # noqa: E402
from wasim import WaSim  # noqa: E402

A, B = "15550008101", "15550008102"
TO_B = B + "@c.us"
KILLS = 3
HOLD = 2.0  # s the slow server holds each fetch

TMP = tempfile.mkdtemp(prefix="wharf-crash-replicas-")
JPG = make_files(TMP)["a.jpg"]
CERT = os.path.join(TMP, "media.crt")
TMPDIR = os.path.join(TMP, "tmp")  # the services' TMPDIR, shared
os.makedirs(TMPDIR)


def pid_of_client(port):
    """Pid of the local process whose TCP connection has source `port`."""
    out = subprocess.run(["ss", "-Htnp", "state", "established",
                          "( sport = :%d )" % port],
                         capture_output=True, text=True).stdout
    m = re.search(r"pid=(\d+)", out)
    return int(m.group(1)) if m else None


def clients_of(proc, port):
    """Established connections to `proc`'s bus port (its clients)."""
    out = subprocess.run(["ss", "-Htnp", "state", "established",
                          "( sport = :%d )" % port],
                         capture_output=True, text=True).stdout
    return out.count("pid=%d," % proc.p.pid)


def caption(e):
    return e["payload"].get("caption") or e["payload"].get("body")


def test_replica_killed_under_traffic(s, sim, rx):
    rnd = random.Random(int(os.environ.get("WHARF_TEST_SEED", time.time())))
    replicas = [s.proc("media-service"), s.proc("media-service-1")]
    ports = [int(p.env["MEDIA_BIND"].rsplit(":", 1)[1]) for p in replicas]
    slow = SlowServer(JPG, "image/jpeg", hold=HOLD)
    sends = []   # (caption, status, body) of every send
    reads = []   # status of every read of a stored file
    files = []   # a's stored copies (media.url paths)
    stop = threading.Event()
    lock = threading.Lock()

    def send(text, file):
        st, got, _ = s.api("POST", "/api/sendImage",
                           {"session": "a", "chatId": TO_B, "file": file,
                            "caption": text}, timeout=170)
        with lock:
            sends.append((text, st, got))
        if st == 201 and got.get("media", {}).get("url"):
            files.append(urllib.parse.urlparse(got["media"]["url"]).path)
        return st, got

    def sender():
        n = 0
        while not stop.is_set():
            send("steady-%03d" % n, {"data": base64.b64encode(JPG).decode(),
                                     "mimetype": "image/jpeg"})
            n += 1
            time.sleep(0.2)

    def reader():
        while not stop.is_set():
            if files:
                st, _, _ = s.raw("GET", rnd.choice(files),
                                 headers={"X-Api-Key": s.api_key})
                reads.append(st)
            time.sleep(0.05)

    threads = [threading.Thread(target=sender, daemon=True),
               threading.Thread(target=reader, daemon=True)]
    for t in threads:
        t.start()
    held = {}

    def fetching(k):
        # Both serve (the restarted one too, to the gateway and the worker)
        for i, p in enumerate(replicas):
            wait_for(lambda: clients_of(p, ports[i]) >= 2, 30,
                     what="gateway and worker connected to %s" % p.tag)
        n = len(slow.peers)
        th = threading.Thread(target=send, args=("held-%d" % k, {"url": slow.url}),
                              daemon=True)
        th.start()
        held[k] = th
        wait_for(lambda: len(slow.peers) > n, 30, what="the slow fetch")
        held["pid"] = pid_of_client(slow.peers[n][1])

    def fetcher(k):
        by_pid = [p for p in replicas if p.p.pid == held["pid"]]
        check(by_pid, "no media-service fetched (pid %s)" % held["pid"])
        return by_pid[0]

    def answered(k):
        held[k].join(170)
        st, got = [(st, got) for text, st, got in sends if text == "held-%d" % k][0]
        check(st == 201, "held send %d: %s %s" % (k, st, got))

    try:
        kill_loop(fetcher, KILLS, fetching, rnd, pause=0.3, restarted=answered)
        base = len(sends)
        wait_for(lambda: len(sends) >= base + 5, 60, what="sends after the last kill")
    finally:
        stop.set()
        for t in threads:
            t.join(180)
        slow.close()

    failed = [(text, st, got) for text, st, got in sends if st != 201]
    print("sends: %d, failed %d; reads: %d, failed %d" % (
        len(sends), len(failed), len(reads), len([r for r in reads if r != 200])))
    check(not failed, "sends failed: %s" % failed[:3])
    check(reads and all(r == 200 for r in reads),
          "reads failed: %s" % sorted(set(reads)))
    # Every image at b once, with its file
    want = {text for text, _, _ in sends}
    wait_for(lambda: want <= {caption(e) for e in hooks(rx, "b", "message")}, 60,
             what="every image at b")
    got = [caption(e) for e in hooks(rx, "b", "message")]
    check(len(got) == len(set(got)), "b got an image twice: %s"
          % sorted({c for c in got if got.count(c) > 1})[:3])
    broken = [(caption(e), e["payload"].get("media")) for e in hooks(rx, "b", "message")
              if "url" not in (e["payload"].get("media") or {})]
    check(not broken, "images at b without their file: %s" % broken[:3])
    dirs = sorted(d for d in os.listdir(TMPDIR) if d.startswith("wharf-media-"))
    check(len(dirs) == 2, "media-service directories in TMPDIR: %s" % dirs)


def main():
    with WaSim("--media-cert", CERT) as sim, \
            stack(sim, medias=2, MEDIA_CA_FILE=CERT, MEDIA_FETCH_ALLOW="127.0.0.1",
                  TMPDIR=TMPDIR) as s, \
            Receiver() as rx:
        print("logs in %s" % s.tmp, flush=True)
        linked(s, sim, rx, [("a", A, "Alice"), ("b", B, "Bob")])
        # Both media-services answer on their own endpoints
        for p in (s.proc("media-service"), s.proc("media-service-1")):
            st, body = Dealer(p.env["MEDIA_BIND"]).call("health.ping")
            check(st == 200, (p.tag, st, body))

        def t():
            test_replica_killed_under_traffic(s, sim, rx)
        t.__name__ = test_replica_killed_under_traffic.__name__
        run([t])


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)  # the files, TMPDIR
