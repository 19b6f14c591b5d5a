#!/usr/bin/env bash
# Nightly bench (BENCHMARKS.md quotes it): one night of site-shaped pages run against
# indexes of growing size — the real index of an earlier night plus N synthetic entries
# (examples/big_index.rs) — timing the load, the search and the writing of the new index,
# with peak RSS. Each size runs in its own process.
#
#   bench/history.sh                      # N = 0, 1M, 10M
#   bench/history.sh 0 100000             # other sizes
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${*:-"0 1000000 10000000"}
root=target/bench/history
mkdir -p "$root"
cargo build --release -q
cargo build --release -q --example big_index
bin=target/release/pagesieve
[ -d "$root/night1" ] || "$bin" synth --shape site --pages 10000 --seed 42 --out "$root/night1" > /dev/null
[ -d "$root/night2" ] || "$bin" synth --shape site --pages 2000 --seed 43 --out "$root/night2" > /dev/null
"$bin" run --quiet --input "$root/night1" --output "$root/out1"
/usr/bin/time -f "%e %M" -o "$root/time.txt" "$bin" run --quiet --input "$root/night2" --output "$root/alone"
read -r wall rss < "$root/time.txt"
echo "night of 2,000 pages alone: wall ${wall} s, peak RSS $((rss / 1024)) MiB"
echo "| index entries | index file MB | wall s | index_load ms | dedup ms | index_write ms | peak RSS MiB |"
echo "|---|---|---|---|---|---|---|"
for n in $sizes; do
  idx="$root/idx-$n"
  rm -rf "$idx" "$root/out2-$n"
  target/release/examples/big_index "$root/out1" "$n" "$idx" > /dev/null
  mb=$(( $(stat -c %s "$idx/dedup.idx") / 1000000 ))
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  /usr/bin/time -f "%e %M" -o "$root/time.txt" \
    "$bin" run --quiet --input "$root/night2" --output "$root/out2-$n" --against "$idx"
  read -r wall rss < "$root/time.txt"
  entries=$(python3 -c "import json;r=json.load(open('$root/out2-$n/report.json'))['index'];print(r['earlier_articles']+r['earlier_snippets'])")
  t=$(python3 -c "import json;t=json.load(open('$root/out2-$n/report.json'))['timings_ms'];print(t['index_load'],t['dedup'],t.get('index_write',0))")
  read -r load dedup write <<< "$t"
  echo "| $entries | $mb | $wall | $load | $dedup | $write | $((rss / 1024)) |"
  rm -rf "$root/out2-$n" "$idx"
done
