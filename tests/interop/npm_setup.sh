#!/bin/sh
# npm_setup.sh - install pinned npm packages into the build tree
# (ctest interop_npm_setup, the fixture every interop test requires, and
# contract_npm_setup for tests/contract): npm_setup.sh SOURCE_DIR NPM_DIR
#
# Copyright (c) 2026 the Wharf authors. Apache-2.0.
#
# Copies package.json (and package-lock.json) from SOURCE_DIR to NPM_DIR and
# runs `npm install --ignore-scripts` there; the source tree is never
# written. Writes NPM_DIR/STATUS: "ok", or "unreachable" when the registry
# cannot be reached (the tests then skip). Any other failure fails.
set -u
src=$1
dir=$2
mkdir -p "$dir"
rm -f "$dir/STATUS"
cp "$src/package.json" "$dir/package.json"
if [ -f "$src/package-lock.json" ]; then
    cp "$src/package-lock.json" "$dir/package-lock.json"
fi
if [ -d "$dir/node_modules" ] &&
    cmp -s "$dir/package.json" "$dir/.installed" 2>/dev/null; then
    echo "npm_setup: peers already installed in $dir"
    echo ok >"$dir/STATUS"
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "npm_setup: npm is not installed (scripts/deps.sh installs it)"
    exit 1
fi
cd "$dir" || exit 1
if npm install --ignore-scripts --no-audit --no-fund --fetch-retries=1 \
    --fetch-timeout=60000 >npm.log 2>&1; then
    cp package.json .installed
    echo ok >STATUS
    echo "npm_setup: installed peers in $dir"
    exit 0
fi
cat npm.log
if grep -qE 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ERR_SOCKET|network' npm.log ||
    ! npm ping --fetch-retries=0 --fetch-timeout=20000 >/dev/null 2>&1; then
    echo unreachable >STATUS
    echo "npm_setup: the npm registry is unreachable: interop tests will be skipped"
    exit 0
fi
echo failed >STATUS
echo "npm_setup: npm install failed (see above)"
exit 1
