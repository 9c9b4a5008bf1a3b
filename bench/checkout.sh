#!/usr/bin/env bash
# Checkout under load: generates N products (default 2000, ×3 variants,
# with stock) on the embedded SQLite database (or on PostgreSQL when
# OXCART_DATABASE_URL is set: use an empty database), starts the server
# and runs examples/checkout_load.rs: checkout of prepared 3-line carts,
# then the whole customer flow over HTTP, each from 32 clients for 10 s.
# Every order is durable before its answer (SQLite synchronous=FULL,
# PostgreSQL synchronous_commit=on).
# Usage: bash bench/checkout.sh [N] [SECONDS] [CLIENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-2000}"; secs="${2:-10}"; clients="${3:-32}"
cargo build --release -q
cargo build --release -q --example checkout_load
bin=target/release/oxcart
work=$(mktemp -d)
pid=
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
port=18082
base="http://127.0.0.1:$port"
if [ -n "${OXCART_DATABASE_URL:-}" ]; then
  export OXCART_SECURITY__KEYS__K1=$(head -c 32 /dev/urandom | base64) OXCART_SECURITY__ACTIVE_KEY=k1
  export OXCART_SECURITY__INDEX_KEY=$(head -c 32 /dev/urandom | base64)
fi
db=sqlite; [ -n "${OXCART_DATABASE_URL:-}" ] && db=postgresql
echo "machine: $(nproc) cores, $(uname -r); date: $(date -u +%Y-%m-%d); products: $n; database: $db"
"$bin" --data-dir "$work/data" demo --products "$n" | grep generated
"$bin" --data-dir "$work/data" serve --listen 127.0.0.1:$port >"$work/server.log" 2>&1 &
pid=$!
until curl -sf -o /dev/null "$base/"; do sleep 0.05; done
# Let the search index catch up with the generated catalog.
sleep 3
target/release/examples/checkout_load "$base" "$secs" "$clients"
echo "server RSS after load: $(grep VmRSS /proc/$pid/status | awk '{print $2" "$3}')"
orders=$(curl -sf -H "authorization: Bearer $(curl -sf -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"email":"admin@outfitters.example","password":"oxcart-demo-2026","audience":"staff"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')" \
  "$base/api/v1/orders?limit=1" | sed 's/.*"number":\([0-9]*\).*/\1/')
echo "highest order number: $orders"

# Crash test: full flows for 8 s, the server killed with SIGKILL 2 s into them,
# restarted; every order that was acknowledged must be there, and the
# stock held must equal what the open orders hold.
acked="$work/acked.txt"
target/release/examples/checkout_load "$base" 8 "$clients" crash "$acked" &
load=$!
# Kill mid-run: once orders are being acknowledged.
until [ -s "$acked" ]; do sleep 0.1; done
sleep 2
kill -9 $pid; wait $pid 2>/dev/null || true
echo "server killed (SIGKILL) during the run"
"$bin" --data-dir "$work/data" serve --listen 127.0.0.1:$port >>"$work/server.log" 2>&1 &
pid=$!
wait $load
until curl -sf -o /dev/null "$base/"; do sleep 0.05; done
token=$(curl -sf -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"email":"admin@outfitters.example","password":"oxcart-demo-2026","audience":"staff"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')
missing=0; total=0
while read -r id; do
  total=$((total + 1))
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "authorization: Bearer $token" "$base/api/v1/orders/$id")
  [ "$code" = 200 ] || { missing=$((missing + 1)); echo "missing: $id ($code)"; }
done < "$acked"
echo "crash test: $total acknowledged orders checked after restart, $missing missing"
if [ -z "${OXCART_DATABASE_URL:-}" ] && command -v sqlite3 >/dev/null; then
  sqlite3 "$work/data/oxcart.db" "SELECT 'stock held ' || (SELECT SUM(reserved) FROM stock_levels)
    || ', reservations ' || (SELECT SUM(quantity) FROM stock_reservations)
    || ', open order lines ' || (SELECT SUM(l.quantity - l.backordered) FROM order_lines l JOIN orders o
        ON o.store_id = l.store_id AND o.id = l.order_id WHERE o.status IN ('placed', 'confirmed', 'on_hold'))
    || ', levels below zero ' || (SELECT COUNT(*) FROM stock_levels WHERE on_hand < 0 OR reserved > on_hand)"
fi
