# Shared helpers for the benchmark scripts: build, start a bench server on
# a loopback port with a throwaway data folder, and stop it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

# With two or more cores, the server runs on core 0 and the load generator
# on core 1, so neither steals the other's time slices and rounds vary less.
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
    SERVER_CPU="taskset -c 0"
    LOAD_CPU="taskset -c 1"
else
    SERVER_CPU=""
    LOAD_CPU=""
fi

need_wrk() {
    command -v wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
}

build_release() {
    cargo build --release --quiet --bin kraftd --example bench_server
}

# start_bench_server NAME [VAR=VALUE ...]: starts target/release/examples/bench_server
# with its own data folder and sets BASE to its URL.
start_bench_server() {
    local name=$1
    shift
    mkdir -p "$WORK/$name"
    env KRAFTD_DATA_DIR="$WORK/$name/data" AUDIT_LOG_PATH="$WORK/$name/logs/audit.log" RUST_LOG=warn "$@" \
        $SERVER_CPU target/release/examples/bench_server >"$WORK/$name/out" 2>"$WORK/$name/err" &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        if grep -q "listening on" "$WORK/$name/out" 2>/dev/null; then break; fi
        sleep 0.1
    done
    BASE="http://$(sed -n 's/^listening on \([^ ]*\).*/\1/p' "$WORK/$name/out")"
}

stop_bench_server() {
    kill -INT "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
}

# rps OUTPUT: the Requests/sec figure wrk printed.
rps() {
    awk '/Requests\/sec/ { print $2 }' <<<"$1"
}

# login_token: registers a bench user on $BASE and prints an access token.
login_token() {
    local body='{"email":"bench@example.com","password":"Quartz-Lantern-Orbit-42"}'
    curl -s -o /dev/null -X POST "$BASE/api/v1/auth/register" -H 'Content-Type: application/json' -d "$body"
    curl -s -X POST "$BASE/api/v1/auth/login" -H 'Content-Type: application/json' -d "$body" \
        | sed -E 's/.*"access_token":"([^"]+)".*/\1/'
}

# compare NAME_ON NAME_OFF: reads "on off" pairs of figures from stdin, one
# pair per round, and prints every round and the medians with the cost of
# the "on" configuration relative to "off".
compare() {
    awk -v on_name="$1" -v off_name="$2" '
        { on[NR] = $1; off[NR] = $2; printf "round %d: %s %.0f req/s, %s %.0f req/s, cost %.1f%%\n", NR, on_name, $1, off_name, $2, ($2 - $1) / $2 * 100 }
        function median(values, count,    i, j, swap) {
            for (i = 1; i <= count; i++) for (j = i + 1; j <= count; j++) if (values[j] < values[i]) { swap = values[i]; values[i] = values[j]; values[j] = swap }
            return count % 2 ? values[(count + 1) / 2] : (values[count / 2] + values[count / 2 + 1]) / 2
        }
        END { m_on = median(on, NR); m_off = median(off, NR); printf "median: %s %.0f req/s, %s %.0f req/s, cost %.1f%%\n", on_name, m_on, off_name, m_off, (m_off - m_on) / m_off * 100 }'
}

# alternate_rounds ROUNDS FUNCTION: calls FUNCTION on ROUND and FUNCTION off
# ROUND for each round, switching which goes first every round so drift on
# a shared machine hits both alike, and prints "on off" per round.
alternate_rounds() {
    local rounds=$1 measure=$2 round on off
    for round in $(seq 1 "$rounds"); do
        if [ $((round % 2)) -eq 1 ]; then
            on=$("$measure" on "$round"); off=$("$measure" off "$round")
        else
            off=$("$measure" off "$round"); on=$("$measure" on "$round")
        fi
        echo "$on $off"
    done
}
