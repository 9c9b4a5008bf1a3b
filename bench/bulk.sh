#!/usr/bin/env bash
# Bulk catalog work on the embedded SQLite database: generate N products
# (×3 variants), export them to CSV, import the file into a fresh
# installation (categories left out: their ids belong to the first one),
# re-import it there (every product an update), and rebuild the search index.
# Usage: bash bench/bulk.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-100000}"
cargo build --release -q
bin=$PWD/target/release/oxcart
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(uname -r); date: $(date -u +%Y-%m-%d); products: $n"
t() { /usr/bin/time -f "  wall %e s, max RSS %M KB" "$@"; }
echo "generate:"; t "$bin" --data-dir "$work/a" demo --products "$n" | grep generated
echo "export:"; t "$bin" --data-dir "$work/a" catalog export "$work/a.csv"
ls -l "$work/a.csv" | awk '{print "  file " $5 " bytes"}'
python3 - "$work/a.csv" "$work/b.csv" <<'PY'
import csv, sys
r = csv.reader(open(sys.argv[1], newline='')); w = csv.writer(open(sys.argv[2], 'w', newline=''))
h = next(r); w.writerow(h); c = h.index('categories')
for row in r:
    row[c] = ''; w.writerow(row)
PY
"$bin" --data-dir "$work/b" demo --products 0 >/dev/null
echo "import (creates):"; t "$bin" --data-dir "$work/b" catalog import "$work/b.csv" | tail -1
echo "import again (updates):"; t "$bin" --data-dir "$work/b" catalog import "$work/b.csv" | tail -1
echo "reindex:"; t "$bin" --data-dir "$work/b" search reindex 2>&1 | tail -1
