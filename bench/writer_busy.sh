#!/usr/bin/env bash
# How busy the SQLite writer is under checkout load: runs
# examples/checkout_load (cart preparation, checkout only, full flow) against
# a fresh 2,000-product demo and samples the writer's counters on /metrics
# once a second, printing per second: writer transactions, committed
# batches, share of time held and in COMMIT, time held per transaction, the
# server's CPU (100 % = one core) and the machine's idle time (of 200 % on
# two cores).
# Usage: bash bench/writer_busy.sh [SECONDS_PER_PHASE]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-5}"
cargo build --release -q
cargo build --release -q --example checkout_load
work=$(mktemp -d)
pid=
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
port=18083
bin=target/release/oxcart
"$bin" --data-dir "$work/data" demo --products 2000 >/dev/null 2>&1
"$bin" --data-dir "$work/data" serve --listen 127.0.0.1:$port >"$work/server.log" 2>&1 &
pid=$!
until curl -sf -o /dev/null "http://127.0.0.1:$port/"; do sleep 0.05; done
sleep 3
# Sorted names: batches, busy seconds, commit seconds, transactions.
(while kill -0 $pid 2>/dev/null; do
  echo "$(date +%s.%N | cut -c1-14) $(awk "{print \$14+\$15}" /proc/$pid/stat) $(awk "/^cpu /{print \$5}" /proc/stat) $(curl -s "http://127.0.0.1:$port/metrics" | grep '^db_writer' | sort | awk '{printf "%s ", $2}')"
  sleep 1
done) >"$work/metrics.txt" &
target/release/examples/checkout_load "http://127.0.0.1:$port" "$secs" 32 2>&1 | grep -v timestamp
kill $pid; sleep 0.5
awk 'NR>1 && NF==7 {dt=$1-t; n=$7-e; printf "tx/s %.0f batches/s %.0f busy %.0f%% commit %.0f%% held/tx %.2f ms server cpu %.0f%% idle %.0f%%\n", n/dt, ($4-a)/dt, 100*($5-c)/dt, 100*($6-d)/dt, (n>0 ? 1000*($5-c)/n : 0), ($2-u)/dt, ($3-i)/dt} NF==7 {t=$1;u=$2;i=$3;a=$4;c=$5;d=$6;e=$7}' "$work/metrics.txt"
