"""check_runtime_libs - every library the image's binaries load is installed
in its runtime stage, checked without a Docker daemon.

Copyright (c) 2026 the Wharf authors. Apache-2.0.

    check_runtime_libs.py DOCKERFILE BIN_DIR BINARY...

Runs ldd on each binary of this (Debian 12) build, maps every library to
the Debian package that ships it (dpkg -S), and checks that the package
is in what deploy/Dockerfile's runtime stage installs: the packages of
its RUNTIME_PACKAGES argument, their Depends/Pre-Depends closure
(apt-cache depends --recurse), and the packages every minbase Debian has
(Essential or Priority required). Libraries loaded with dlopen (the
libwebsockets event-loop plugin, which ldd cannot see) are found by
starting wa-sim, which creates the same libuv-based libwebsockets context
as session-worker, until it is listening, and reading its
/proc/PID/maps. Sanitizer runtimes (the test build is ASan/UBSan, the
image's build is not) are left out. Exit 0 when all are
covered, 1 naming each missing package and the binaries that need it.
The image itself runs ldd on the same binaries when it is built.
"""
import os
import re
import subprocess
import sys

SANITIZERS = re.compile(r"^lib(asan|ubsan|tsan|lsan)\.so")


def runtime_packages(dockerfile):
    """RUNTIME_PACKAGES of the runtime stage, as a list of names."""
    text = open(dockerfile, encoding="utf-8").read()
    text = text.replace("\\\n", " ")
    m = re.search(r'^ARG RUNTIME_PACKAGES="([^"]*)"', text, re.M)
    if not m:
        sys.exit(f"{dockerfile}: no ARG RUNTIME_PACKAGES=\"...\"")
    return m.group(1).split()


def closure(pkgs):
    """pkgs and everything they depend on, recursively (real and virtual)."""
    out = subprocess.run(
        ["apt-cache", "depends", "--recurse", "--no-recommends",
         "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces",
         "--no-enhances", *pkgs], capture_output=True, text=True, check=True).stdout
    names = set(pkgs)
    for line in out.splitlines():
        line = line.strip()
        m = re.match(r"^\|?(?:Depends|PreDepends): <?([^>\s]+)>?", line)
        if m:
            names.add(m.group(1).split(":")[0])
        elif line and not line.startswith(("|", "Depends", "PreDepends")):
            names.add(line.split(":")[0])
    return names


def base_packages():
    """Packages every minbase Debian has: Essential or Priority required."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package} ${Essential} ${Priority}\\n"],
        capture_output=True, text=True, check=True).stdout
    base = set()
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 3 and (f[1] == "yes" or f[2] == "required"):
            base.add(f[0])
    return base


def libraries(binary):
    """[(soname, path or None)] that ldd resolves for binary."""
    r = subprocess.run(["ldd", binary], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"ldd {binary} failed: {r.stderr.strip()}")
    libs = []
    for line in r.stdout.splitlines():
        m = re.match(r"^\s*(\S+) => (not found|(\S+) \(0x)", line)
        if m:
            libs.append((m.group(1), m.group(3)))
    return libs


def owners(paths):
    """{path: Debian package shipping it}, one dpkg -S for all (usrmerge:
    each path is also asked in its / and /usr forms)."""
    forms = {}
    for p in paths:
        for c in {p, os.path.realpath(p)}:
            for f in (c, c[4:] if c.startswith("/usr/") else "/usr" + c):
                forms.setdefault(f, set()).add(p)
    r = subprocess.run(["dpkg", "-S", *sorted(forms)], capture_output=True,
                       text=True)
    found = {}
    for line in r.stdout.splitlines():
        pkg, _, f = line.partition(": ")
        if f in forms and "," not in pkg:
            for p in forms[f]:
                found[p] = pkg.split(":")[0]
    return found


def loaded_at_run(bindir):
    """[(soname, path)] of the shared objects a started wa-sim has mapped
    (dlopen'd plugins included), read once it is listening."""
    import tempfile
    import time
    info = tempfile.NamedTemporaryFile(prefix="wharf-libs-", delete=False).name
    os.unlink(info)
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0", APP_LOG_LEVEL="error")
    p = subprocess.Popen([os.path.join(bindir, "wa-sim"), "--info-file", info],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        end = time.time() + 60
        while not (os.path.exists(info) and os.path.getsize(info) > 0):
            if p.poll() is not None:
                sys.exit("wa-sim exited %d before listening: %s"
                         % (p.returncode, p.stderr.read().decode(errors="replace")[-800:]))
            if time.time() > end:
                sys.exit("wa-sim did not listen within 60 s")
            time.sleep(0.1)
        with open("/proc/%d/maps" % p.pid) as f:
            paths = {line.split()[-1] for line in f
                     if ".so" in line and line.split()[-1].startswith("/")}
    finally:
        p.terminate()
        p.wait()
        if os.path.exists(info):
            os.unlink(info)
    return [(os.path.basename(x), x) for x in sorted(paths)]


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    dockerfile, bindir, binaries = sys.argv[1], sys.argv[2], sys.argv[3:]
    wanted = runtime_packages(dockerfile)
    have = closure(wanted) | base_packages()
    missing = {}
    loads = []
    for b in binaries:
        path = os.path.join(bindir, b)
        if not os.access(path, os.X_OK):
            sys.exit(f"{path}: not built")
        loads += [(b, soname, lib) for soname, lib in libraries(path)
                  if not SANITIZERS.match(soname)]
    if "wa-sim" in binaries:
        loads += [("wa-sim (running)", soname, lib)
                  for soname, lib in loaded_at_run(bindir)
                  if not SANITIZERS.match(soname) and not soname.startswith("ld-linux")]
    pkg_of = owners({lib for _, _, lib in loads if lib})
    for b, soname, lib in loads:
        if lib is None:
            missing.setdefault(f"(not found here: {soname})", set()).add(b)
        elif lib not in pkg_of:
            missing.setdefault(f"(no package ships {lib})", set()).add(b)
        elif pkg_of[lib] not in have:
            missing.setdefault(f"{pkg_of[lib]} ({soname})", set()).add(b)
    checked = len(loads)
    print(f"runtime packages: {' '.join(wanted)}")
    print(f"{len(binaries)} binaries, {checked} library loads checked")
    for pkg, who in sorted(missing.items()):
        print(f"MISSING {pkg}: needed by {', '.join(sorted(who))}")
    if missing:
        print(f"add to RUNTIME_PACKAGES in {dockerfile}")
        return 1
    print("every library is in the runtime stage")
    return 0


if __name__ == "__main__":
    sys.exit(main())
