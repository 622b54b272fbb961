#!/usr/bin/env bash
# Authenticated GET /api/v1/documents/{id} requests per second with
# auditing on and off, in one run on the same build. Each such request
# writes a DOCUMENT_ACCESS entry when auditing is on.
# Usage: bench/audit_overhead.sh [SECONDS] [CONNECTIONS]
source "$(dirname "$0")/common.sh"
SECONDS_PER_RUN=${1:-10}
CONNECTIONS=${2:-32}
need_wrk
build_release

declare -A RESULT
for round in 1 2; do
    for audit in on off; do
        start_bench_server "audit-$audit-$round" BENCH_AUDIT=$audit
        token=$(login_token)
        doc=$(curl -s -X POST "$BASE/api/v1/docs/upload" -H "Authorization: Bearer $token" \
            -F file=@../shared/samples/accepted/rfq-2026-014.pdf | sed -E 's/.*"document_id":"([^"]+)".*/\1/')
        url="$BASE/api/v1/documents/$doc"
        wrk -t1 -c"$CONNECTIONS" -d2s -H "Authorization: Bearer $token" "$url" >/dev/null
        out=$(wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" -H "Authorization: Bearer $token" "$url")
        RESULT[$audit-$round]=$(rps "$out")
        if [ "$audit" = on ]; then
            entries=$(cat "$WORK/audit-on-$round"/logs/audit.log* | wc -l)
            echo "round $round: audit log holds $entries entries after the run"
        fi
        stop_bench_server
    done
done
for round in 1 2; do
    on=${RESULT[on-$round]}
    off=${RESULT[off-$round]}
    cost=$(awk -v on="$on" -v off="$off" 'BEGIN { printf "%.1f", (off - on) / off * 100 }')
    echo "round $round: audit on ${on} req/s, audit off ${off} req/s, cost ${cost}%"
done
