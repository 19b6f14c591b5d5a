#!/usr/bin/env bash
# Rolling-index bench (BENCHMARKS.md quotes it): NIGHTS nights of site-shaped pages run as a
# user runs them, one index folder read and written every night (`--against IDX --index
# IDX`). One site-shaped corpus of NIGHTS × PAGES pages is cut into nights by sorted path,
# so the nights duplicate each other (its planted copies land in other nights). Per night:
# wall, peak RSS, the index bytes the night wrote (new segment files), the segments; at
# the end the write amplification: bytes written over all nights ÷ the final index.
#
#   bench/nights.sh                  # 24 nights of 10,000 pages
#   NIGHTS=8 PAGES=2000 bench/nights.sh
set -euo pipefail
cd "$(dirname "$0")/.."
nights=${NIGHTS:-24}
pages=${PAGES:-10000}
root=target/bench/nights-$nights-$pages
cargo build --release -q
bin=target/release/pagesieve
if [ ! -d "$root/in" ]; then
  "$bin" synth --shape site --pages $((nights * pages)) --seed 42 --out "$root/all" > /dev/null
  python3 - "$root" "$nights" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
files = sorted(f for f in os.listdir(f"{root}/all") if not f.startswith("."))
for i, f in enumerate(files):
    night = min(i * n // len(files), n - 1)
    d = f"{root}/in/{night + 1:02d}"
    os.makedirs(d, exist_ok=True)
    os.rename(f"{root}/all/{f}", f"{d}/{f}")
PY
  rm -rf "$root/all"
fi
idx="$root/idx"
rm -rf "$idx" "$root/out"
mkdir -p "$root/out"
echo "| night | pages | wall s | peak RSS MiB | dedup ms | index_write ms | dropped against earlier | segments | index MB | written by the night MB |"
echo "|---|---|---|---|---|---|---|---|---|---|"
total=0
for k in $(seq -w 1 "$nights"); do
  before=$(ls "$idx"/*.psg 2>/dev/null | sort || true)
  against=()
  [ -f "$idx/manifest.json" ] && against=(--against "$idx")
  /usr/bin/time -f "%e %M" -o "$root/time.txt" \
    "$bin" run --quiet --input "$root/in/$k" --output "$root/out/$k" "${against[@]}" --index "$idx"
  read -r wall rss < "$root/time.txt"
  after=$(ls "$idx"/*.psg | sort)
  written=0
  for f in $(comm -13 <(echo "$before") <(echo "$after")); do
    written=$((written + $(stat -c %s "$f")))
  done
  total=$((total + written))
  size=$(cat "$idx"/*.psg | wc -c)
  segs=$(echo "$after" | wc -l)
  read -r n dedup write earlier <<< "$(python3 -c "
import json; r = json.load(open('$root/out/$k/report.json'))
t = r['timings_ms']; print(r['files']['seen'], t['dedup'], t.get('index_write', 0), r['articles'].get('dropped_against_earlier', 0))")"
  echo "| $k | $n | $wall | $((rss / 1024)) | $dedup | $write | $earlier | $segs | $((size / 1000000)) | $((written / 1000000)) |"
done
size=$(cat "$idx"/*.psg | wc -c)
python3 -c "print(f'write amplification over $nights nights: {$total / $size:.2f}x the final index ({$total / 1e6:.0f} MB written for {$size / 1e6:.0f} MB)')"
