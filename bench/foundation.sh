#!/usr/bin/env bash
# Foundation measurements: release binary size, start-up time to the first
# answered request, idle memory, and HTTP throughput of the storefront home
# page and a small API read (wrk, 32 connections, loopback only).
# Usage: bash bench/foundation.sh   (needs: curl, wrk from Debian's package)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
bin=target/release/oxcart
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
port=18080

echo "machine: $(nproc) cores, $(grep MemTotal /proc/meminfo | awk '{print int($2/1024/1024)" GiB"}'), $(uname -r)"
echo "date: $(date -u +%Y-%m-%d)"
echo "binary size: $(du -h "$bin" | cut -f1) ($(stat -c %s "$bin") bytes)"

"$bin" --data-dir "$work/data" demo >/dev/null 2>&1
# Start-up: process start until /healthz answers, on a migrated database.
total=0; runs=10; best=999999
for i in $(seq 1 $runs); do
  start=$(date +%s%N)
  "$bin" --data-dir "$work/data" serve --listen 127.0.0.1:$port >/dev/null 2>&1 &
  pid=$!
  until curl -sf -o /dev/null http://127.0.0.1:$port/healthz; do sleep 0.002; done
  end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  total=$((total + ms)); [ $ms -lt $best ] && best=$ms
  kill $pid; wait $pid 2>/dev/null || true
done
echo "start-up to first answered request: mean $((total / runs)) ms, best $best ms over $runs runs"

"$bin" --data-dir "$work/data" serve --listen 127.0.0.1:$port >/dev/null 2>&1 &
pid=$!
until curl -sf -o /dev/null http://127.0.0.1:$port/healthz; do sleep 0.01; done
curl -sf -o /dev/null http://127.0.0.1:$port/
sleep 1
echo "idle RSS: $(grep VmRSS /proc/$pid/status | awk '{print $2" "$3}')"
if command -v wrk >/dev/null; then
  for path in / /api/v1/store; do
    echo "wrk -t2 -c32 -d10s http://127.0.0.1:$port$path"
    wrk -t2 -c32 -d10s --latency "http://127.0.0.1:$port$path" | grep -E "Requests/sec|99%|50%|Non-2xx|Socket errors" || true
  done
  echo "RSS after load: $(grep VmRSS /proc/$pid/status | awk '{print $2" "$3}')"
fi
