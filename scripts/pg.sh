#!/usr/bin/env bash
# pg.sh - a private PostgreSQL cluster in a directory of ours.
#   pg.sh start DIR   initdb (first time) and start on a free 127.0.0.1 port;
#                     prints the DATABASE_URL on stdout
#   pg.sh stop DIR    fast shutdown
# PostgreSQL refuses to run as root, so as root the cluster belongs to the
# `postgres` user and its commands run through runuser.
set -euo pipefail
cmd=${1:?usage: pg.sh start|stop DIR}
dir=${2:?usage: pg.sh start|stop DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bindir/initdb" ] || { echo "pg.sh: could not find initdb" >&2; exit 1; }

as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
    python3 - <<'PY'
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

port_free() {
    python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
# as PostgreSQL binds: TIME_WAIT leftovers of the old server do not count
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
}

case "$cmd" in
start)
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        pw=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
        umask 077
        printf '%s\n' "$pw" > "$dir/password"
        [ "$(id -u)" -eq 0 ] && chown postgres "$dir/password"
        as_pg "$bindir/initdb" -D "$dir/data" -U wharf --pwfile="$dir/password" \
            --auth-local=scram-sha-256 --auth-host=scram-sha-256 \
            -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    port=$(cat "$dir/port" 2>/dev/null || true)
    if ! as_pg "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        # a restart keeps its port (and so its DATABASE_URL) when free
        if [ -z "$port" ] || ! port_free "$port"; then
            port=$(free_port)
        fi
        echo "$port" > "$dir/port"
        as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=${PG_FSYNC:-on} -c synchronous_commit=${PG_SYNC_COMMIT:-on}" \
            start >/dev/null || { tail -20 "$dir/server.log" >&2; exit 1; }
    fi
    pw=$(cat "$dir/password")
    # the database itself; ignore "already exists"
    PGPASSWORD=$pw psql -h 127.0.0.1 -p "$port" -U wharf -d postgres -qtAc \
        "SELECT 1 FROM pg_database WHERE datname='wharf'" | grep -q 1 ||
        PGPASSWORD=$pw psql -h 127.0.0.1 -p "$port" -U wharf -d postgres -qc \
            "CREATE DATABASE wharf" >/dev/null
    echo "postgresql://wharf:$pw@127.0.0.1:$port/wharf"
    ;;
stop)
    as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
*)
    echo "usage: pg.sh start|stop DIR" >&2; exit 64 ;;
esac
