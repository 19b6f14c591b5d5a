#!/usr/bin/env bash
# Nightly bench (BENCHMARKS.md quotes it): one night of site-shaped pages run against
# indexes of growing size — N synthetic entries (examples/big_index.rs) plus the real
# index of an earlier night — timing the load, the search and the writing of the new
# index, with peak RSS and the index bytes the night wrote. Each size runs in its own
# process; COLD=1 (the default) drops the page cache before every run, the night alone
# included, COLD=0 runs warm.
#
#   bench/history.sh                      # N = 0, 1M, 10M
#   bench/history.sh 0 100000             # other sizes
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${*:-"0 1000000 10000000"}
cold=${COLD:-1}
root=target/bench/history
mkdir -p "$root"
cargo build --release -q
cargo build --release -q --example big_index
bin=target/release/pagesieve
drop() { if [ "$cold" = 1 ]; then sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; fi; }
[ -d "$root/night1" ] || "$bin" synth --shape site --pages 10000 --seed 42 --out "$root/night1" > /dev/null
[ -d "$root/night2" ] || "$bin" synth --shape site --pages 2000 --seed 43 --out "$root/night2" > /dev/null
rm -rf "$root/out1" "$root/alone"
"$bin" run --quiet --input "$root/night1" --output "$root/out1"
drop
/usr/bin/time -f "%e %M" -o "$root/time.txt" "$bin" run --quiet --input "$root/night2" --output "$root/alone"
read -r wall rss < "$root/time.txt"
echo "night of 2,000 pages alone: wall ${wall} s, peak RSS $((rss / 1024)) MiB (cold=$cold)"
echo "| index entries | segments | index MB | wall s | index_load ms | dedup ms | index_write ms | peak RSS MiB | bytes written by the night |"
echo "|---|---|---|---|---|---|---|---|---|"
for n in $sizes; do
  idx="$root/idx-$n"
  rm -rf "$idx" "$root/out2-$n"
  target/release/examples/big_index "$root/out1" "$n" "$idx" > /dev/null
  mb=$(du -sm "$idx" | cut -f1)
  segs=$(ls "$idx"/*.psg | wc -l)
  drop
  /usr/bin/time -f "%e %M" -o "$root/time.txt" \
    "$bin" run --quiet --input "$root/night2" --output "$root/out2-$n" --against "$idx"
  read -r wall rss < "$root/time.txt"
  # What the night wrote into its index: the files that are not links to earlier segments.
  written=$(find -L "$root/out2-$n/index/" -type f -links 1 -printf '%s\n' | awk '{s+=$1} END {print s+0}')
  entries=$(python3 -c "import json;r=json.load(open('$root/out2-$n/report.json'))['index'];print(r['earlier_articles']+r['earlier_snippets'])")
  t=$(python3 -c "import json;t=json.load(open('$root/out2-$n/report.json'))['timings_ms'];print(t['index_load'],t['dedup'],t.get('index_write',0))")
  read -r load dedup write <<< "$t"
  echo "| $entries | $segs | $mb | $wall | $load | $dedup | $write | $((rss / 1024)) | $written |"
  rm -rf "$root/out2-$n" "$idx"
done
