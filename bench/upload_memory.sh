#!/usr/bin/env bash
# Peak resident memory (VmHWM) of the release server while CLIENTS clients
# each upload a 50 MiB file at once. Uploads are streamed to disk, so the
# peak should stay far below CLIENTS x 50 MiB.
# Usage: bench/upload_memory.sh [CLIENTS] [MIB]
source "$(dirname "$0")/common.sh"
CLIENTS=${1:-8}
MIB=${2:-50}
build_release

# A PDF header followed by padding: accepted by type sniffing, exactly MIB MiB.
file="$WORK/upload.pdf"
printf '%%PDF-1.4\n' >"$file"
head -c $((MIB * 1024 * 1024 - 9)) /dev/zero | tr '\0' 'x' >>"$file"

start_bench_server memory
pid=$SERVER_PID
token=$(login_token)
before=$(awk '/VmHWM/ { print $2 }' /proc/$pid/status)

started=$(date +%s.%N)
for i in $(seq 1 "$CLIENTS"); do
    curl -s -o "$WORK/upload-$i.json" -w '%{http_code}\n' -X POST "$BASE/api/v1/docs/upload" \
        -H "Authorization: Bearer $token" -F "file=@$file" >"$WORK/status-$i" &
done
wait $(jobs -p | grep -v "^$pid$") 2>/dev/null || true
finished=$(date +%s.%N)

peak=$(awk '/VmHWM/ { print $2 }' /proc/$pid/status)
codes=$(cat "$WORK"/status-* | sort | uniq -c | tr '\n' ' ')
echo "uploads: $CLIENTS x ${MIB} MiB, status codes: $codes"
echo "elapsed: $(awk -v a="$started" -v b="$finished" 'BEGIN { printf "%.1f", b - a }') s"
echo "VmHWM before uploads: $((before / 1024)) MiB; peak during uploads: $((peak / 1024)) MiB"
stop_bench_server
