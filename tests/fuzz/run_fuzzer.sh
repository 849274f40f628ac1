#!/bin/sh
# run_fuzzer.sh - run one libFuzzer binary for a bounded time (ctest label
# "fuzz"): run_fuzzer.sh FUZZER SECONDS WORKDIR SEEDDIR
#
# Copyright (c) 2026 the Wharf authors. Apache-2.0.
#
# New inputs go to WORKDIR (scratch, in the build tree); SEEDDIR is the
# committed corpus and is only read. Crash inputs land next to WORKDIR
# under artifacts/. Exit 77 (ctest skip) when the fuzzer was not built.
set -eu
bin=$1
seconds=$2
work=$3
seeds=$4
if [ ! -x "$bin" ]; then
    echo "run_fuzzer: $bin is not built (make build-fuzz builds it)"
    exit 77
fi
artifacts=$(dirname "$work")/artifacts
mkdir -p "$work" "$artifacts"
# libFuzzer's own failure code is 77, which ctest would report as a skip:
# a crash must fail the test.
exec "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1536 \
    -error_exitcode=1 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$work" "$seeds"
