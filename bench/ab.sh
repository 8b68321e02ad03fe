#!/bin/bash
# Before and after in one session: `paybao bench ledger` and `paybao bench gateway` on PostgreSQL
# and PGlite, a commit before (a temporary worktree, npm ci in it) against this tree (built),
# one after the other, each result printed as one JSON line after a "== label time load" line.
#   bench/ab.sh b9a2f96 > ab.out
# PostgreSQL at $DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
set -euo pipefail
before_rev=${1:?usage: bench/ab.sh <commit before>}
pg=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
here=$(cd "$(dirname "$0")/.." && pwd)
before=$(mktemp -d)
trap 'git -C "$here" worktree remove --force "$before" >/dev/null 2>&1 || true' EXIT
git -C "$here" worktree add --detach "$before" "$before_rev" >/dev/null 2>&1
(cd "$before" && npm ci --no-audit --no-fund >/dev/null 2>&1)
(cd "$here" && npm run build >/dev/null)
for bench in ledger gateway; do
  for engine in postgres pglite; do
    for side in before after; do
      dir=$before; [ "$side" = after ] && dir=$here
      echo "== $bench $engine $side $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
      if [ "$engine" = postgres ]; then
        (cd "$dir" && DATABASE_URL=$pg node bin/paybao.js bench "$bench" --json 2>/dev/null)
      else
        (cd "$dir" && env -u DATABASE_URL node bin/paybao.js bench "$bench" --json 2>/dev/null)
      fi
    done
  done
done
