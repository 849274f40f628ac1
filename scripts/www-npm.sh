#!/bin/sh
# www-npm.sh - install Swagger UI's files for the gateway:
#   www-npm.sh NPM_DIR WWW_DIR
# Installs the npm package swagger-ui-dist (pinned in
# services/api-gateway/www/npm/package.json and package-lock.json) into
# NPM_DIR with npm, then copies the files the page
# loads into WWW_DIR/swagger-ui. Run at build or test-setup time (ctest
# www_npm_setup, the Docker image's build stage); nothing is fetched when
# the gateway runs. Exits 0 when the registry is unreachable (the page then
# says the files are missing), non-zero on any other failure.
#
# Copyright (c) 2026 the Wharf authors. Apache-2.0.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
npm_dir=$1
www_dir=$2
mkdir -p "$npm_dir"
cp "$here/services/api-gateway/www/npm/package.json" \
    "$here/services/api-gateway/www/npm/package-lock.json" "$npm_dir/"
if ! cmp -s "$npm_dir/package.json" "$npm_dir/.installed" 2>/dev/null ||
    [ ! -d "$npm_dir/node_modules/swagger-ui-dist" ]; then
    if ! (cd "$npm_dir" && npm install --ignore-scripts --no-audit --no-fund \
        --fetch-retries=1 --fetch-timeout=60000 >npm.log 2>&1); then
        cat "$npm_dir/npm.log"
        if grep -qE 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ERR_SOCKET|network' \
            "$npm_dir/npm.log"; then
            echo "www-npm: the npm registry is unreachable: Swagger UI not installed"
            exit 0
        fi
        exit 1
    fi
    cp "$npm_dir/package.json" "$npm_dir/.installed"
fi
dist="$npm_dir/node_modules/swagger-ui-dist"
mkdir -p "$www_dir/swagger-ui"
for f in swagger-ui.css swagger-ui-bundle.js swagger-ui-standalone-preset.js \
    favicon-16x16.png favicon-32x32.png LICENSE; do
    cp "$dist/$f" "$www_dir/swagger-ui/$f"
done
echo "www-npm: Swagger UI $(node -p "require('$dist/package.json').version" \
    2>/dev/null || echo '?') in $www_dir/swagger-ui"
