#!/usr/bin/env bash
# Payments and the ledger on embedded SQLite (or PostgreSQL when
# OXCART_DATABASE_URL is set: use an empty database).
# 1. Card payments under load (examples/payments_load.rs): CLIENTS guests
#    each check out ORDERS orders (not timed), then pay them one after the
#    other, each in full; every payment is authorised, captured, posted to
#    the journal, confirms its order and is durable before its answer; the
#    SQLite writer's counters (/metrics) over the paying phase are printed.
# 2. The journal filled to ENTRIES more entries (2 lines each, one account
#    gets a line of every entry; examples/ledger_fill.rs), then: the
#    balances, a statement's first page and a page deep into it, the trial
#    balance, each read 20 times over HTTP (curl time_total), and
#    `oxcart ledger verify` over the whole journal.
# Usage: bash bench/payments.sh [ORDERS] [CLIENTS] [ENTRIES]
set -euo pipefail
cd "$(dirname "$0")/.."
orders="${1:-100}"; clients="${2:-32}"; entries="${3:-1000000}"
cargo build --release -q
cargo build --release -q --example payments_load --example ledger_fill
bin=target/release/oxcart
work=$(mktemp -d)
pid=
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
port=18083
base="http://127.0.0.1:$port"
if [ -n "${OXCART_DATABASE_URL:-}" ]; then
  export OXCART_SECURITY__KEYS__K1=$(head -c 32 /dev/urandom | base64) OXCART_SECURITY__ACTIVE_KEY=k1
  export OXCART_SECURITY__INDEX_KEY=$(head -c 32 /dev/urandom | base64)
fi
db=sqlite; [ -n "${OXCART_DATABASE_URL:-}" ] && db=postgresql
echo "machine: $(nproc) cores, $(uname -r); date: $(date -u +%Y-%m-%d); database: $db"
"$bin" --data-dir "$work/data" demo >/dev/null
start() {
  "$bin" --data-dir "$work/data" serve --listen 127.0.0.1:$port >>"$work/server.log" 2>&1 &
  pid=$!
  until curl -sf -o /dev/null "$base/healthz"; do sleep 0.05; done
}
start
cpu() { awk '{print $14+$15}' "/proc/$pid/stat"; }
idle() { awk '/^cpu /{s=0; for(i=2;i<=NF;i++) s+=$i; print $5, s}' /proc/stat; }
c0=$(cpu); read -r i0 a0 <<<"$(idle)"
target/release/examples/payments_load "$base" "$orders" "$clients"
c1=$(cpu); read -r i1 a1 <<<"$(idle)"
echo "server CPU over the run (checkouts and payments): $(( (c1 - c0) / 100 )) s; machine idle $(( 100 * (i1 - i0) / (a1 - a0) )) %"
kill $pid; wait $pid 2>/dev/null || true
"$bin" --data-dir "$work/data" ledger verify | grep -v '^foodbank'

target/release/examples/ledger_fill "$work/data" "$entries" | tail -1
start
token=$(curl -sf -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"email":"admin@outfitters.example","password":"oxcart-demo-2026","audience":"staff"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')
lines=$(curl -sf -H "authorization: Bearer $token" "$base/api/v1/ledger/accounts" \
  | grep -o '"account":"clearing:test_card"[^}]*' | grep -o '"lines":[0-9]*' || true)
echo "clearing:test_card: $lines"
timed() { # name url: 20 reads, prints min / median / max of time_total in ms
  local name=$1 url=$2 t=()
  for _ in $(seq 20); do
    t+=("$(curl -sf -o /dev/null -w '%{time_total}' -H "authorization: Bearer $token" "$url")")
  done
  printf '%s\n' "${t[@]}" | sort -n | awk -v n="$name" '{a[NR]=$1*1000} END {printf "%s: min %.1f ms, median %.1f ms, max %.1f ms\n", n, a[1], a[int((NR+1)/2)], a[NR]}'
}
timed "balances (all accounts)" "$base/api/v1/ledger/accounts"
timed "statement, first 50 lines" "$base/api/v1/ledger/accounts/clearing:test_card/statement?currency=EUR&limit=50"
deep=$(curl -sf -H "authorization: Bearer $token" \
  "$base/api/v1/ledger/accounts/clearing:test_card/statement?currency=EUR&limit=500" | grep -o '"next":"[^"]*"' | cut -d'"' -f4)
timed "statement, 50 lines after the newest 500" "$base/api/v1/ledger/accounts/clearing:test_card/statement?currency=EUR&limit=50&before=$deep"
timed "trial balance" "$base/api/v1/ledger/trial-balance"
kill $pid; wait $pid 2>/dev/null || true
"$bin" --data-dir "$work/data" ledger verify | grep -v '^foodbank'
