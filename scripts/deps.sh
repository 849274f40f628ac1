#!/usr/bin/env bash
# deps.sh - install the Debian 12 packages Wharf needs; does nothing when
# everything is already there. Safe to run repeatedly.
set -euo pipefail

PKGS=(build-essential cmake pkg-config clang libclang-rt-14-dev
      libzmq3-dev libczmq-dev libmsgpack-dev libmicrohttpd-dev libjansson-dev
      libpq-dev libcurl4-openssl-dev libqrencode-dev libssl-dev
      libwebsockets-dev libuv1-dev libsignal-protocol-c-dev libprotobuf-c-dev
      protobuf-c-compiler libpng-dev zlib1g-dev libjpeg62-turbo-dev
      libwebp-dev ffmpeg openssl iproute2
      postgresql postgresql-client python3 curl ca-certificates
      nodejs npm docker-compose docker.io debootstrap chromium)

missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing+=("$p")
    fi
done
# nodejs/npm may come from elsewhere (e.g. a preinstalled toolchain)
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    tmp=()
    for p in "${missing[@]}"; do
        [[ "$p" == nodejs || "$p" == npm ]] || tmp+=("$p")
    done
    missing=("${tmp[@]+"${tmp[@]}"}")
fi
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
