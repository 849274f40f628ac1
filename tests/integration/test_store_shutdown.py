"""store-service stopped by SIGTERM while it is starting its server and
worker pool must exit cleanly: the actors once read their arguments from
a stack frame that had already returned when the signal interrupted
zactor_new's wait (ASan: heap-buffer-overflow / stack-use-after-return)."""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, SANITIZER_MARKS, Postgres, check, free_port, run  # noqa: E402


def test_sigterm_during_start():
    pg = Postgres.shared()
    url = pg.new_database()
    failures = []
    for i in range(20):
        env = dict(os.environ, DATABASE_URL=url, APP_LOG_LEVEL="info",
                   STORE_POOL_SIZE="8", STORE_SECRET_KEY="ab" * 32,
                   STORE_BIND="tcp://127.0.0.1:%d" % free_port(),
                   STORE_PUB_BIND="tcp://127.0.0.1:%d" % free_port(),
                   ASAN_OPTIONS="detect_leaks=0:exitcode=86")
        p = subprocess.Popen([os.path.join(BIN, "store-service")], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = b""
        # signal the moment the schema is current: the server starts next
        deadline = time.time() + 20
        while time.time() < deadline:
            line = p.stdout.readline()
            if not line:
                break
            out += line
            if b"database schema is current" in line:
                time.sleep((i % 8) * 0.0005)
                p.send_signal(signal.SIGTERM)
                break
        rest, _ = p.communicate(timeout=30)
        out += rest
        text = out.decode("utf-8", "replace")
        if p.returncode not in (0, 1) or any(m in text for m in SANITIZER_MARKS):
            failures.append("run %d: exit %s\n%s" % (i, p.returncode, text[-3000:]))
    check(not failures, "\n".join(failures[:2]))


if __name__ == "__main__":
    run([test_sigterm_during_start])
