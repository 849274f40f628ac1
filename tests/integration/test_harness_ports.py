"""The harness's free_port() must never hand one port to two services: in
CI a stack's store-service once got the port already given to its
gateway ("could not bind socket ... Address already in use") because the
ports were random picks checked only by a bind that was released at once.
Within one process a port is handed out once; across processes (ctest -j)
a claim file keeps another test process from picking it."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import check, run  # noqa: E402

N = 600  # random picks from ~12.7k ports collide almost surely at this size


def release(ports):
    for p in ports:
        try:
            os.unlink(os.path.join(harness._PORT_CLAIMS, str(p)))
        except FileNotFoundError:
            pass


def test_unique_within_process():
    ports = [harness.free_port() for _ in range(N)]
    try:
        check(len(set(ports)) == N, "a port was handed out twice: %d of %d unique"
              % (len(set(ports)), N))
        check(all(harness._PORT_LOW <= p <= harness._PORT_HIGH for p in ports),
              "port outside the range below the ephemeral ports")
    finally:
        release(ports)


def test_unique_across_processes():
    mine = [harness.free_port() for _ in range(N // 2)]
    try:
        code = ("import sys; sys.path.insert(0, %r); import harness; "
                "print(' '.join(str(harness.free_port()) for _ in range(%d)))"
                % (os.path.dirname(os.path.abspath(__file__)), N // 2))
        out = subprocess.run([sys.executable, "-c", code], check=True,
                             capture_output=True, text=True, timeout=60).stdout
        theirs = [int(x) for x in out.split()]
        try:
            check(len(theirs) == N // 2, "child picked %d ports" % len(theirs))
            both = set(mine) & set(theirs)
            check(not both, "two processes got the same ports: %s" % sorted(both)[:5])
        finally:
            release(theirs)
    finally:
        release(mine)


if __name__ == "__main__":
    run([test_unique_within_process, test_unique_across_processes])
