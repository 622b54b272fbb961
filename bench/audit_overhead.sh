#!/usr/bin/env bash
# Authenticated GET /api/v1/documents/{id} requests per second with
# auditing on and off, in one run on the same build. Each such request
# writes a DOCUMENT_ACCESS entry when auditing is on. Rounds alternate
# which configuration goes first.
# Usage: bench/audit_overhead.sh [ROUNDS] [SECONDS] [CONNECTIONS]
source "$(dirname "$0")/common.sh"
ROUNDS=${1:-5}
SECONDS_PER_RUN=${2:-5}
CONNECTIONS=${3:-32}
need_wrk
build_release

measure() {
    start_bench_server "audit-$1-$2" BENCH_AUDIT="$1"
    local token doc url
    token=$(login_token)
    doc=$(curl -s -X POST "$BASE/api/v1/docs/upload" -H "Authorization: Bearer $token" \
        -F file=@../shared/samples/accepted/rfq-2026-014.pdf | sed -E 's/.*"document_id":"([^"]+)".*/\1/')
    url="$BASE/api/v1/documents/$doc"
    $LOAD_CPU wrk -t1 -c"$CONNECTIONS" -d1s -H "Authorization: Bearer $token" "$url" >/dev/null
    rps "$($LOAD_CPU wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" -H "Authorization: Bearer $token" "$url")"
    stop_bench_server
    if [ "$1" = on ]; then
        local log="$WORK/audit-on-$2/logs/audit.log"
        echo "round $2: $(cat "$log"* | wc -l) entries; $(target/release/kraftd audit verify "$log")" >&2
    fi
}

alternate_rounds "$ROUNDS" measure | compare "audit on" "audit off"
