#!/usr/bin/env bash
# Catalog pages under load: generates N products (default 10000, ×3
# variants) on the embedded SQLite database (or on PostgreSQL when
# OXCART_DATABASE_URL is set: use an empty database), then measures with
# wrk (2 threads, 32 connections, loopback, 10 s each):
#   - one URL at a time: home, a category page, a product page, searches;
#   - mixes: random listings (about 400 distinct searches and category
#     pages) and random product pages (every product the sitemap lists),
#     which mostly miss the read cache;
# and the server's start-up time to its first answered page, and its memory.
# Usage: bash bench/catalog.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10000}"
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; }; }
cargo build --release -q
bin=target/release/oxcart
work=$(mktemp -d)
pid=
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
port=18081
base="http://127.0.0.1:$port"
if [ -n "${OXCART_DATABASE_URL:-}" ]; then
  # PostgreSQL nodes take their personal-data keys from configuration.
  export OXCART_SECURITY__KEYS__K1=$(head -c 32 /dev/urandom | base64) OXCART_SECURITY__ACTIVE_KEY=k1
  export OXCART_SECURITY__INDEX_KEY=$(head -c 32 /dev/urandom | base64)
fi
db=sqlite; [ -n "${OXCART_DATABASE_URL:-}" ] && db=postgresql
echo "machine: $(nproc) cores, $(uname -r); date: $(date -u +%Y-%m-%d); products: $n; database: $db"
start=$(date +%s%N)
"$bin" --data-dir "$work/data" demo --products "$n" | grep generated
echo "generation wall time: $(( ($(date +%s%N) - start) / 1000000 )) ms"
"$bin" --data-dir "$work/data" search reindex

serve() {
  "$bin" --data-dir "$work/data" serve --listen 127.0.0.1:$port >/dev/null 2>&1 &
  pid=$!
}

# Waits until the server has used under 2% of a core for a second (it
# catches up on catalog events after starting).
settle() {
  local hz; hz=$(getconf CLK_TCK)
  while true; do
    local a b
    a=$(awk '{print $14+$15}' /proc/$pid/stat); sleep 1; b=$(awk '{print $14+$15}' /proc/$pid/stat)
    [ $(( (b - a) * 100 / hz )) -lt 2 ] && break
  done
}

rss() { grep VmRSS /proc/$pid/status | awk '{print $2" "$3}'; }

# Start-up: from launch to the first answered home page.
for attempt in 1 2 3; do
  t0=$(date +%s%N)
  serve
  until curl -sf -o /dev/null "$base/"; do sleep 0.002; done
  echo "start-up to first page (run $attempt): $(( ($(date +%s%N) - t0) / 1000000 )) ms"
  settle
  kill $pid; wait $pid 2>/dev/null || true
done
serve
until curl -sf -o /dev/null "$base/healthz"; do sleep 0.01; done
settle
echo "RSS idle: $(rss)"

load() {
  echo "wrk -t2 -c32 -d10s $*"
  wrk -t2 -c32 -d10s --latency "$@" | grep -E "Requests/sec|50%|99%|Non-2xx|Socket errors|requests in" || true
}

slug=$(curl -s "$base/" | grep -o 'href="/p/[^"]*"' | head -1 | sed 's/href="\/p\///; s/"//')
for path in / /c/jacket "/p/$slug" "/search?q=jacket" "/api/v1/storefront/search?q=jacket" "/api/v1/storefront/search?category=jacket&sort=price_asc"; do
  load "$base$path"
done

# Mixes: a wrk script picks a random path from a file for every request.
cat > "$work/mix.lua" <<'LUA'
local paths = {}
for line in io.lines(os.getenv("PATHS")) do paths[#paths + 1] = line end
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function() return wrk.format("GET", paths[math.random(#paths)]) end
LUA
words="light warm waterproof classic compact rugged quick soft jacket backpack tent boot lamp bottle glove phone sleeping stove
leichte warme wasserdichte kompakte jacke rucksack zelt stiefel lampe flasche handschuh schlafsack kocher
ligera impermeable chaqueta mochila tienda bota botella guante hornillo jaqueta barraca garrafa luva
%E5%A4%B9%E5%85%8B %E8%83%8C%E5%8C%85 %E5%B8%90%E7%AF%B7 %E6%89%8B%E6%9C%BA %E7%9D%A1%E8%A2%8B %E9%98%B2%E6%B0%B4"
categories="jacket backpack tent boot lamp bottle glove phone-case sleeping-bag stove"
{
  for w in $words; do
    for s in relevance price_asc newest; do
      echo "/api/v1/storefront/search?q=$w&sort=$s"
      echo "/search?q=$w&sort=$s"
    done
  done
  for c in $categories; do
    for a in "" light- warm- waterproof-; do
      for s in relevance price_asc price_desc; do
        echo "/c/$a$c?sort=$s"
        echo "/api/v1/storefront/search?category=$a$c&sort=$s"
      done
    done
  done
} > "$work/listings.txt"
curl -s "$base/sitemap.xml" | grep -o '/p/[^<]*' > "$work/products.txt"
echo "listing mix: $(wc -l < "$work/listings.txt") distinct paths; product mix: $(wc -l < "$work/products.txt") product pages"
PATHS="$work/listings.txt" load -s "$work/mix.lua" "$base"
PATHS="$work/products.txt" load -s "$work/mix.lua" "$base"
echo "RSS after load: $(rss)"
