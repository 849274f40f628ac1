#!/bin/sh
# demo.sh BIN_DIR VAR_DIR - start a local wa-sim for `make run SIM=1`.
#
# Copyright (c) 2026 the Wharf authors. Apache-2.0.
#
# Starts BIN_DIR/wa-sim in the background on loopback (free ports unless
# SIM_PORT / SIM_CONTROL_PORT / SIM_MEDIA_PORT are set), keeping its
# accounts in VAR_DIR/wa-sim-state.json and a fixed certificate root in
# VAR_DIR/wa-sim-root.key so WA_ROOT_KEY stays valid across runs. Creates
# the demo phone account 15550000001 on first use. Logs go to
# VAR_DIR/log/wa-sim.log, the pid to VAR_DIR/wa-sim.pid. Prints, for
# eval, shell assignments: WA_URL, WA_ROOT_KEY, SIM_CONTROL_URL,
# SIM_MEDIA_URL, SIM_DEMO_PHONE.
set -eu
bin=${1:?usage: demo.sh BIN_DIR VAR_DIR}
var=${2:?usage: demo.sh BIN_DIR VAR_DIR}
mkdir -p "$var/log"
if [ ! -x "$bin/wa-sim" ]; then
    echo "demo.sh: $bin/wa-sim is not built" >&2
    exit 1
fi
if [ ! -s "$var/wa-sim-root.key" ]; then
    (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' \
        > "$var/wa-sim-root.key")
fi
info="$var/wa-sim.json"
rm -f "$info"
SIM_ROOT_PRIVATE_KEY=$(cat "$var/wa-sim-root.key") \
    "$bin/wa-sim" --info-file "$info" --state-file "$var/wa-sim-state.json" \
    >/dev/null 2>>"$var/log/wa-sim.log" &
pid=$!
echo "$pid" > "$var/wa-sim.pid"
i=0
while [ ! -s "$info" ]; do
    if ! kill -0 "$pid" 2>/dev/null || [ $i -ge 100 ]; then
        echo "demo.sh: wa-sim did not start (see $var/log/wa-sim.log)" >&2
        exit 1
    fi
    sleep 0.1
    i=$((i + 1))
done
field() {
    sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$info"
}
control=$(field control_url)
phone=15550000001
curl -s -o /dev/null -X POST "$control/accounts" \
    -H 'content-type: application/json' \
    -d "{\"phone\":\"$phone\",\"push_name\":\"Demo Phone\"}" || true
echo "WA_URL='$(field ws_url)'"
echo "WA_ROOT_KEY='$(field root_key)'"
echo "SIM_CONTROL_URL='$control'"
echo "SIM_MEDIA_URL='$(field media_url)'"
echo "SIM_DEMO_PHONE='$phone'"
