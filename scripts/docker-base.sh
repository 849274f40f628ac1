#!/usr/bin/env bash
# docker-base.sh - make the two base images docker-compose.yml names,
# debian:12 (also tagged debian:12-slim) and postgres:15, on a Docker
# daemon that reaches no image registry. Does nothing for an image the
# daemon already has (pulled from a registry, or built by an earlier run).
#
#   debian:12    debootstrap --variant=minbase bookworm from the Debian
#                mirror this machine's apt uses (read from /etc/apt).
#   postgres:15  deploy/postgres/Dockerfile: Debian's postgresql-15 with
#                an entrypoint honouring the official image's
#                POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, PGDATA
#                (/var/lib/postgresql/data) and pg_isready.
#
# Usage: scripts/docker-base.sh [CACHE_DIR]   (docker CLI on PATH, DOCKER_HOST
# set as needed). CACHE_DIR keeps the debootstrap tarball between runs.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${1:-${WHARF_DOCKER_CACHE:-/var/cache/wharf-docker}}
docker=${DOCKER:-docker}
mkdir -p "$cache"

have() { $docker image inspect "$1" >/dev/null 2>&1; }

# The first http(s) URI of the Debian archive (and of its security archive)
# in the machine's apt configuration, deb822 or one-line format.
apt_uri() { # $1 = suite to look for, e.g. bookworm or bookworm-security
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v s="$1" '
            /^[ \t]*$/ { if (u != "" && ok) { print u; exit } u = ""; ok = 0; next }
            /^URIs:/   { u = $2 }
            /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) ok = 1 }
            END        { if (u != "" && ok) print u }' "$f"
    done
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk -v s="$1" '$1 == "deb" {
            for (i = 2; i < NF; i++) if ($i ~ /^https?:/ && $(i+1) == s) print $i }'
    return 0
} 2>/dev/null

mirror=$(apt_uri bookworm | sed -n 1p)
security=$(apt_uri bookworm-security | sed -n 1p)
if [ -z "$mirror" ]; then
    echo "docker-base: no bookworm mirror in /etc/apt; cannot build debian:12" >&2
    exit 1
fi

if ! have debian:12; then
    tarball=$cache/debian-12-minbase.tar
    if [ ! -s "$tarball" ]; then
        root=$(mktemp -d "$cache/rootfs.XXXXXX")
        echo "docker-base: debootstrap bookworm from $mirror" >&2
        debootstrap --variant=minbase bookworm "$root" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
            { tail -20 "$cache/debootstrap.log" >&2; rm -rf "$root"; exit 1; }
        rm -f "$root/etc/apt/sources.list"
        {
            printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$mirror"
            if [ -n "$security" ]; then
                printf '\nTypes: deb\nURIs: %s\nSuites: bookworm-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$security"
            fi
        } >"$root/etc/apt/sources.list.d/debian.sources"
        # as the official image: no caches, no docs, no recommends
        printf 'APT::Install-Recommends "false";\n' >"$root/etc/apt/apt.conf.d/90wharf"
        rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log
        tar -C "$root" --numeric-owner -cf "$tarball.tmp" .
        rm -rf "$root"
        mv "$tarball.tmp" "$tarball"
    fi
    $docker import --change 'CMD ["bash"]' "$tarball" debian:12 >/dev/null
fi
have debian:12-slim || $docker tag debian:12 debian:12-slim

if ! have postgres:15; then
    $docker build -q -t postgres:15 "$here/deploy/postgres" >/dev/null
fi
echo "docker-base: debian:12 debian:12-slim postgres:15 ready" >&2
