#!/usr/bin/env bash
# Start-up times of the `paybao` command and of `npm start` (BENCHMARKS.md, "Start-up").
# Needs hyperfine. Usage: bench/startup.sh [runs]; PGlite, each command on a fresh data directory.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# A migrated data directory for the database command (ledger verify only reads it).
PAYBAO_DATA_DIR="$work/db" node bin/paybao.js migrate >/dev/null

# `npm start` until /health answers 200, then SIGTERM; the bank simulator stays off so that only
# the platform's start-up is timed.
cat >"$work/start-to-health.sh" <<'SH'
#!/usr/bin/env bash
set -euo pipefail
dir="$(mktemp -d)"
port=$((20000 + RANDOM % 20000))
# Its own process group, so that the signal reaches node and not only npm.
PORT=$port PAYBAO_DATA_DIR="$dir" PAYBAO_BANK_SIM=off LOG_LEVEL=warn setsid npm start >/dev/null 2>&1 &
pid=$!
until curl -fs "http://127.0.0.1:$port/health" >/dev/null; do sleep 0.05; done
kill -TERM -- "-$pid"; wait "$pid" || true
rm -rf "$dir"
SH
chmod +x "$work/start-to-health.sh"

hyperfine --runs "$runs" --warmup 1 \
  -n 'paybao --help' 'node bin/paybao.js --help' \
  -n 'paybao ledger verify (PGlite)' "PAYBAO_DATA_DIR=$work/db node bin/paybao.js ledger verify" \
  -n 'npm start to healthy /health' "$work/start-to-health.sh"
