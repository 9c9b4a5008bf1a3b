#!/usr/bin/env bash
# Catalog pages under load on the embedded SQLite database: generates N
# products (default 10000, ×3 variants), then measures the home page, a
# category page and a product page with wrk (32 connections, loopback).
# Usage: bash bench/catalog.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10000}"
cargo build --release -q
bin=target/release/oxcart
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
port=18081
echo "machine: $(nproc) cores, $(uname -r); date: $(date -u +%Y-%m-%d); products: $n"
start=$(date +%s%N)
"$bin" --data-dir "$work/data" demo --products "$n" | grep generated
echo "generation wall time: $(( ($(date +%s%N) - start) / 1000000 )) ms"
"$bin" --data-dir "$work/data" search reindex
"$bin" --data-dir "$work/data" serve --listen 127.0.0.1:$port >/dev/null 2>&1 &
pid=$!
until curl -sf -o /dev/null http://127.0.0.1:$port/healthz; do sleep 0.01; done
echo "RSS idle: $(grep VmRSS /proc/$pid/status | awk '{print $2" "$3}')"
slug=$(curl -s http://127.0.0.1:$port/ | grep -o 'href="/p/[^"]*"' | head -1 | sed 's/href="\/p\///; s/"//')
for path in / /c/jacket "/p/$slug" "/search?q=jacket" "/api/v1/storefront/search?q=jacket" "/api/v1/storefront/search?category=jacket&sort=price_asc"; do
  echo "wrk -t2 -c32 -d10s http://127.0.0.1:$port$path"
  wrk -t2 -c32 -d10s --latency "http://127.0.0.1:$port$path" | grep -E "Requests/sec|50%|99%|Non-2xx|Socket errors" || true
done
echo "RSS after load: $(grep VmRSS /proc/$pid/status | awk '{print $2" "$3}')"
