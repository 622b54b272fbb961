#!/usr/bin/env bash
# Requests per second on GET /api/v1/health with the full edge stack
# (request id, security headers, problem fallback, CORS, panic catcher,
# body limits, timeouts) and with it off, in one run on the same build.
# Usage: bench/edge_overhead.sh [SECONDS] [CONNECTIONS]
source "$(dirname "$0")/common.sh"
SECONDS_PER_RUN=${1:-10}
CONNECTIONS=${2:-32}
need_wrk
build_release

declare -A RESULT
for round in 1 2; do
    for edge in on off; do
        start_bench_server "edge-$edge-$round" BENCH_EDGE=$edge
        wrk -t1 -c"$CONNECTIONS" -d2s "$BASE/api/v1/health" >/dev/null
        out=$(wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" -H 'Origin: http://localhost:3000' "$BASE/api/v1/health")
        RESULT[$edge-$round]=$(rps "$out")
        stop_bench_server
    done
done
for round in 1 2; do
    on=${RESULT[on-$round]}
    off=${RESULT[off-$round]}
    cost=$(awk -v on="$on" -v off="$off" 'BEGIN { printf "%.1f", (off - on) / off * 100 }')
    echo "round $round: edge on ${on} req/s, edge off ${off} req/s, cost ${cost}%"
done
