#!/usr/bin/env bash
# Requests per second on GET /api/v1/health with the full edge stack
# (request id, security headers, problem fallback, CORS, panic catcher) and
# with it off, in one run on the same build. Rounds alternate which
# configuration goes first, so drift on a shared machine hits both alike.
# Usage: bench/edge_overhead.sh [ROUNDS] [SECONDS] [CONNECTIONS]
source "$(dirname "$0")/common.sh"
ROUNDS=${1:-5}
SECONDS_PER_RUN=${2:-5}
CONNECTIONS=${3:-32}
need_wrk
build_release

measure() {
    start_bench_server "edge-$1-$2" BENCH_EDGE="$1"
    $LOAD_CPU wrk -t1 -c"$CONNECTIONS" -d1s "$BASE/api/v1/health" >/dev/null
    rps "$($LOAD_CPU wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" -H 'Origin: http://localhost:3000' "$BASE/api/v1/health")"
    stop_bench_server
}

alternate_rounds "$ROUNDS" measure | compare "edge on" "edge off"
