"""test_crash_media - media-service SIGKILLed during a media send and
during an incoming media download.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

Two sessions on wa-sim, a and b, media on wa-sim's HTTPS media host.
- Upload: a sends an image by file.url from a server that holds the file
  back, so media-service is surely fetching when it is SIGKILLed. The API
  answers a clear error soon (not after its 150 s deadline) and nothing
  reaches b; after the restart the same send completes and b gets the
  identical bytes.
- Download: b is stopped, a sends an image (queued at wa-sim for b),
  media-service is frozen (SIGSTOP), b is started and asks it for the
  download, and media-service is SIGKILLed with the request unanswered.
  b's `message` event comes soon with media.error (never a half file
  under media.url), and once media-service is back the stored message's
  media.url serves the identical bytes (sha256).
- Leftovers: after those kills, TMPDIR holds one media-service directory
  (the running one's; the killed ones' were removed at each start, with
  the ffmpeg files of their workers), and a restart removes a temporary
  file of a write that a killed media-service abandoned in the files
  folder (older than an hour), but not one being written (fresh).
"""
import base64
import functools
import hashlib
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from engine_util import hooks, linked, stack  # noqa: E402
from harness import Receiver, check, run, wait_for  # noqa: E402
from media_util import SlowServer, make_files  # noqa: E402
from wasim import WaSim  # noqa: E402

A, B = "15550008001", "15550008002"
TO_B = B + "@c.us"
# The API or the event must tell of a lost media-service request well
# before the 90 s / 140 s deadlines of a live one.
SOON = 20.0


TMP = tempfile.mkdtemp(prefix="wharf-crash-media-")
TMPDIR = os.path.join(TMP, "tmp")  # the services' TMPDIR
os.makedirs(TMPDIR)
FILES = make_files(TMP)
JPG = FILES["a.jpg"]
CERT = os.path.join(TMP, "media.crt")


def sha(b):
    return hashlib.sha256(b).hexdigest()


def fetch(s, url):
    u = urllib.parse.urlparse(url)
    st, raw, _ = s.raw("GET", u.path, headers={"X-Api-Key": s.api_key})
    return st, raw


def at_b(rx, msg_id, timeout=60):
    stanza = msg_id.split("_")[2]
    got = wait_for(lambda: [e for e in hooks(rx, "b", "message")
                            if e["payload"]["id"].endswith("_" + stanza)],
                   timeout, what="message %s at b" % stanza)
    return got[0]["payload"]


def restart(s):
    p = s.proc("media-service")
    p.kill()
    p.start()


def test_killed_during_upload(s, sim, rx):
    slow = SlowServer(JPG, "image/jpeg", hold=5.0)
    before = len(hooks(rx, "b", "message"))
    out = {}

    def send():
        t0 = time.monotonic()
        out["r"] = s.api("POST", "/api/sendImage",
                         {"session": "a", "chatId": TO_B, "file": {"url": slow.url},
                          "caption": "lost"}, timeout=170)
        out["t"] = time.monotonic() - t0
    th = threading.Thread(target=send, daemon=True)
    th.start()
    check(slow.asked.wait(30), "media-service never fetched the file")
    t_kill = time.monotonic()
    restart(s)
    th.join(175)
    st, body, _ = out["r"]
    print("upload: answered %d after %.1f s (%.1f s after the kill): %s"
          % (st, out["t"], time.monotonic() - t_kill, body))
    # The send completed (the kill came late), or a clear error that
    # names media-service (not "no session-worker")
    check(st == 201 or (st == 503 and "media-service" in body.get("message", "")),
          (st, body))
    check(time.monotonic() - t_kill < SOON, "answered %.1f s after the kill"
          % (time.monotonic() - t_kill))
    slow.close()
    # A send after the restart completes (media-service takes a moment to
    # start: until then the same clear 503); b gets the same bytes
    def again():
        st2, got, _ = s.api("POST", "/api/sendImage",
                            {"session": "a", "chatId": TO_B,
                             "file": {"data": base64.b64encode(JPG).decode(),
                                      "mimetype": "image/jpeg"},
                             "caption": "again"}, timeout=90)
        check(st2 == 201 or (st2 == 503 and "media-service" in got["message"]),
              (st2, got))
        return got if st2 == 201 else None
    got = wait_for(again, 60, interval=0.5, what="a send after the restart")
    p = at_b(rx, got["id"])
    st3, raw = fetch(s, p["media"]["url"])
    check(st3 == 200 and sha(raw) == sha(JPG), (st3, len(raw)))
    time.sleep(1.0)
    news = [e["payload"]["caption"] if "caption" in e["payload"] else e["payload"]["body"]
            for e in hooks(rx, "b", "message")[before:]]
    check(news.count("again") == 1 and news.count("lost") == (1 if st == 201 else 0), news)


def test_killed_during_download(s, sim, rx):
    st, _, _ = s.api("POST", "/api/sessions/b/stop")
    check(st in (200, 201), st)
    s.wait_status("b", "STOPPED", 20)
    st, got, _ = s.api("POST", "/api/sendImage",
                       {"session": "a", "chatId": TO_B,
                        "file": {"data": base64.b64encode(JPG).decode(),
                                 "mimetype": "image/jpeg"},
                        "caption": "held"}, timeout=90)
    check(st == 201, (st, got))
    p = s.proc("media-service")
    p.p.send_signal(signal.SIGSTOP)
    try:
        st, _, _ = s.api("POST", "/api/sessions/b/start")
        check(st in (200, 201), st)
        s.wait_status("b", "WORKING", 30)
        time.sleep(1.5)  # b takes the message and asks media-service
    finally:
        t_kill = time.monotonic()
        restart(s)
    ev = at_b(rx, got["id"], timeout=150)
    took = time.monotonic() - t_kill
    print("download: event %.1f s after the kill, media %s" % (took, ev["media"]))
    m = ev["media"]
    if "url" in m:
        st, raw = fetch(s, m["url"])
        check(st == 200 and sha(raw) == sha(JPG), "served a different file")
    else:
        check(m["error"]["message"] == "media-service is unavailable", m)
    check(took < SOON, "b's message held %.1f s after the kill" % took)
    # Stored: a GET with downloadMedia fetches it again; identical bytes
    def stored():
        st, lst, _ = s.api("GET", "/api/b/chats/%s@c.us/messages" % A,
                           query={"limit": 5, "downloadMedia": "true"}, timeout=90)
        mine = [x for x in lst if x["id"] == ev["id"]] if st == 200 else []
        return mine[0] if mine and "url" in mine[0].get("media", {}) else None
    m = wait_for(stored, 60, interval=1, what="stored message with media.url")
    st, raw = fetch(s, m["media"]["url"])
    check(st == 200 and sha(raw) == sha(JPG), (st, len(raw)))


def scratch_dirs():
    """media-service directories in TMPDIR (ms_scratch)."""
    return sorted(d for d in os.listdir(TMPDIR) if d.startswith("wharf-media-"))


def test_no_leftovers(s, sim, rx):
    # The kills above left nothing: one directory, the running one's
    dirs = scratch_dirs()
    print("TMPDIR after the kills: %s" % os.listdir(TMPDIR))
    check(len(dirs) == 1, "media-service directories in TMPDIR: %s" % dirs)
    check(os.path.exists(os.path.join(TMPDIR, dirs[0], "lock")), dirs)
    # A write cut short by a kill leaves its temporary file (.<name>.<hex>)
    # in the files folder: the next start removes it once it is old
    folder = os.path.join(s.env["WHATSAPP_FILES_FOLDER"], "a")
    os.makedirs(folder, exist_ok=True)
    abandoned = os.path.join(folder, ".false_1_X.jpeg.0badf00d")
    writing = os.path.join(folder, ".false_1_Y.jpeg.12345678")
    for path in (abandoned, writing):
        with open(path, "wb") as f:
            f.write(JPG[:100])
    two_hours_ago = time.time() - 7200
    os.utime(abandoned, (two_hours_ago, two_hours_ago))
    restart(s)
    wait_for(lambda: not os.path.exists(abandoned), 30, what="abandoned file removed")
    check(os.path.exists(writing), "a fresh temporary file was removed")
    os.unlink(writing)
    wait_for(lambda: len(scratch_dirs()) == 1 and scratch_dirs() != dirs, 30,
             what="the killed one's directory replaced by the new one's")


def main():
    with WaSim("--media-cert", CERT) as sim, \
            stack(sim, MEDIA_CA_FILE=CERT, MEDIA_FETCH_ALLOW="127.0.0.1",
                  TMPDIR=TMPDIR) as s, \
            Receiver() as rx:
        linked(s, sim, rx, [("a", A, "Alice"), ("b", B, "Bob")])
        tests = []
        for f in (test_killed_during_upload, test_killed_during_download,
                  test_no_leftovers):
            t = functools.partial(f, s, sim, rx)
            t.__name__ = f.__name__
            tests.append(t)
        run(tests)

if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)  # the files, TMPDIR
