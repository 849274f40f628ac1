#!/usr/bin/env bash
# run.sh BUILD_DIR - start Wharf in the foreground (what `make run` calls).
#
# Without DATABASE_URL, a private PostgreSQL cluster lives under ./var/pg
# and is reused by the next run. Without WAHA_API_KEY (or WHATSAPP_API_KEY)
# an admin key is generated on the first run, printed once, and only its
# SHA-512 is kept (./var/api-key.sha512). Without STORE_SECRET_KEY, the key
# that encrypts the device secrets is generated on the first run and kept
# in ./var/secret.key. With SIM=1 a local wa-sim is
# started and Wharf is pointed at it. WHARF_VAR_DIR moves ./var elsewhere.
#
# Ctrl-C stops everything, in order. A terminal sends SIGINT to the whole
# foreground process group, services included, so they are started with
# SIGINT ignored (and keep ignoring it, see cm_signal_ignored): on Ctrl-C
# only this script acts, and it stops them with SIGTERM one by one, in
# reverse start order, the session-workers first, so that they release
# their leases while store-service still runs.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
case $BUILD in
/*) BIN=$BUILD/bin ;;
*) BIN=$PWD/$BUILD/bin ;;
esac
VAR=${WHARF_VAR_DIR:-$PWD/var}
mkdir -p "$VAR/log"

pids=()        # our services, children of this shell, in start order
sim_pid=""     # wa-sim runs detached (started by demo.sh): not waitable
started_pg=0
# SIGTERM one service and wait until it is gone.
stop_service() {
    kill -TERM "$1" 2>/dev/null || return 0
    while kill -0 "$1" 2>/dev/null; do
        wait "$1" 2>/dev/null || true
    done
}
cleanup() {
    # Stopping already: a second Ctrl-C must not cut the ordered stop
    # short (the services ignore SIGINT and would be left running).
    trap '' INT TERM
    trap - EXIT
    echo
    echo "wharf: stopping"
    # Stop in reverse start order, each before the next, so the workers
    # can still release their leases to a running store-service.
    for ((i=${#pids[@]}-1; i>=0; i--)); do
        stop_service "${pids[$i]}"
    done
    if [ -n "$sim_pid" ]; then
        kill -TERM "$sim_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$sim_pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    if [ "$started_pg" = 1 ]; then
        scripts/pg.sh stop "$VAR/pg"
    fi
    echo "wharf: stopped (data kept in $VAR)"
}
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap cleanup EXIT

if [ -z "${DATABASE_URL:-}" ]; then
    DATABASE_URL=$(scripts/pg.sh start "$VAR/pg")
    started_pg=1
    export DATABASE_URL
    echo "wharf: private PostgreSQL under $VAR/pg"
fi

key_note=""
if [ -z "${WAHA_API_KEY:-}" ] && [ -z "${WHATSAPP_API_KEY:-}" ]; then
    if [ ! -s "$VAR/api-key.sha512" ]; then
        key=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
        (umask 077; printf 'sha512:%s\n' \
            "$(printf '%s' "$key" | sha512sum | cut -d' ' -f1)" > "$VAR/api-key.sha512")
        key_note="admin API key (shown once, keep it): $key"
    else
        key_note="admin API key: unchanged since the first run (only its hash is kept; delete var/api-key.sha512 for a new one)"
    fi
    WAHA_API_KEY=$(cat "$VAR/api-key.sha512")
    export WAHA_API_KEY
fi

# The device secrets (each session's private keys) are encrypted at rest
# with STORE_SECRET_KEY. Without it (nor STORE_SECRET_KEY_FILE, nor
# STORE_SECRETS_PLAINTEXT), a key is generated on the first run and kept
# in ./var/secret.key: back it up with the database, the sessions cannot
# be restored without it.
secret_note=""
if [ -z "${STORE_SECRET_KEY:-}" ] && [ -z "${STORE_SECRET_KEY_FILE:-}" ] &&
    [ -z "${STORE_SECRETS_PLAINTEXT:-}" ]; then
    if [ ! -s "$VAR/secret.key" ]; then
        (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' \
            > "$VAR/secret.key")
        secret_note="device secrets key: generated in $VAR/secret.key (back it up with the database)"
    fi
    export STORE_SECRET_KEY_FILE=$VAR/secret.key
fi

export WHATSAPP_API_PORT=${WHATSAPP_API_PORT:-3000}
export WHATSAPP_API_HOSTNAME=${WHATSAPP_API_HOSTNAME:-127.0.0.1}

if [ "${SIM:-0}" = 1 ]; then
    if [ -x tests/wa-sim/demo.sh ]; then
        # demo.sh prints KEY=VALUE lines (WA_URL, WA_ROOT_KEY, SIM_CONTROL_URL)
        # and leaves wa-sim running with its pid in $VAR/wa-sim.pid
        eval "$(tests/wa-sim/demo.sh "$BIN" "$VAR")"
        sim_pid=$(cat "$VAR/wa-sim.pid")
        export WA_URL WA_ROOT_KEY
        echo "wharf: wa-sim at $WA_URL, control API at $SIM_CONTROL_URL"
    else
        echo "wharf: SIM=1 needs wa-sim, which is not built yet" >&2
        exit 1
    fi
fi

# Start a service with SIGINT ignored (and its log tee too, which must
# outlive it to write its last lines), see the top of this file.
start() {
    local name=$1
    (trap '' INT; exec "$BIN/$name") \
        > >(trap '' INT; exec tee -a "$VAR/log/$name.log") 2>&1 &
    pids+=("$!")
}

STORE_ENDPOINTS=${STORE_ENDPOINTS:-tcp://127.0.0.1:7401}
start store-service
# wait for the store to answer before the others lean on it
for _ in $(seq 1 100); do
    if [ -x "$BIN/bus-call" ] && "$BIN/bus-call" --timeout 200 "${STORE_ENDPOINTS%%,*}" health.ping "{}" >/dev/null 2>&1; then
        break
    fi
    [ -x "$BIN/bus-call" ] || { sleep 1; break; }
    sleep 0.1
done
start media-service
start webhook-dispatcher
start api-gateway
start session-worker

url="http://$WHATSAPP_API_HOSTNAME:$WHATSAPP_API_PORT"
for _ in $(seq 1 100); do
    curl -sf "$url/ping" >/dev/null 2>&1 && break
    sleep 0.1
done
cat <<MSG

  Wharf is running.
  API:      $url/api   (OpenAPI: $url/api/openapi.json)
  $key_note${secret_note:+
  $secret_note}
  Try:      curl -H "X-Api-Key: <key>" $url/api/sessions?all=true
  Stop:     Ctrl-C

MSG
# exit (and clean up) as soon as any service dies
wait -n "${pids[@]}" || true
echo "wharf: a service exited; stopping the rest" >&2
