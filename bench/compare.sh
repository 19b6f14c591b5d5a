#!/usr/bin/env bash
# Comparison bench (not part of CI): pagesieve vs the floor vs Python peers, on synthetic
# corpora with planted, labelled duplicates. Writes target/bench/results.jsonl and prints a
# markdown table for BENCHMARKS.md.
#
#   bench/compare.sh              # 10k and 100k pages
#   bench/compare.sh 10000        # one size (1000000 on request)
#
# Needs the Rust toolchain, python3 with venv, GNU time (/usr/bin/time), and the package
# index for the peers (installed into target/bench/venv).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${*:-"10000 100000"}
root=target/bench
mkdir -p "$root"
results="$root/results.jsonl"
: > "$results"

cargo build --release -q
cargo build --release -q --example floor
bin=target/release/pagesieve
floor=target/release/examples/floor

venv="$root/venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q datasketch simhash-pybind
fi
py="$venv/bin/python"

# Runs a command under GNU time; prints "wall_s user_s sys_s peak_kib".
measure() {
  /usr/bin/time -f "%e %U %S %M" -o "$root/time.txt" "$@" > /dev/null
  cat "$root/time.txt"
}

for n in $sizes; do
  corpus="$root/corpus-$n"
  if [ ! -f "$corpus/.labels.jsonl" ]; then
    rm -rf "$corpus"
    "$bin" synth --pages "$n" --seed 42 --out "$corpus" > /dev/null
  fi
  mb=$(du -sm --apparent-size "$corpus" | cut -f1)
  out="$root/out-$n"
  read -r wall user sys rss <<< "$(measure "$bin" run --quiet --input "$corpus" --output "$out")"
  score=$(python3 bench/score.py "$corpus/.labels.jsonl" --pagesieve "$out")
  echo "{\"tool\":\"pagesieve run\",\"pages\":$n,\"mb\":$mb,\"wall\":$wall,\"user\":$user,\"sys\":$sys,\"rss_kib\":$rss,\"score\":$score}" >> "$results"

  read -r wall user sys rss <<< "$(measure "$floor" "$corpus")"
  echo "{\"tool\":\"floor (read+decode+xxh3)\",\"pages\":$n,\"mb\":$mb,\"wall\":$wall,\"user\":$user,\"sys\":$sys,\"rss_kib\":$rss,\"score\":null}" >> "$results"

  for method in simhash minhash; do
    res="$root/peer-$method-$n.json"
    read -r wall user sys rss <<< "$(measure "$py" bench/peers.py "$method" "$out" "$res")"
    score=$(python3 bench/score.py "$corpus/.labels.jsonl" --clusters "$res")
    secs=$(python3 -c "import json;print(json.load(open('$res'))['seconds'])")
    echo "{\"tool\":\"$method\",\"pages\":$n,\"mb\":$mb,\"wall\":$wall,\"dedup_s\":$secs,\"user\":$user,\"sys\":$sys,\"rss_kib\":$rss,\"score\":$score}" >> "$results"
  done
done

python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
names = {"simhash": "Data-Juicer simhash parameters (simhash-pybind), clean bodies only",
         "minhash": "datasketch MinHashLSH (128 perm, 5-grams, 0.7), clean bodies only"}
print("| tool | pages | input MB | wall s | CPU s | pages/s | MB/s | peak RSS MiB | precision | recall | F1 |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    s = r["score"] or {}
    f = lambda k: f"{s[k]:.3f}" if k in s else "—"
    print(f"| {names.get(r['tool'], r['tool'])} | {r['pages']:,} | {r['mb']} | {r['wall']:.2f} | {r['user'] + r['sys']:.2f} | "
          f"{r['pages'] / r['wall']:,.0f} | {r['mb'] / r['wall']:.1f} | {r['rss_kib'] / 1024:,.0f} | "
          f"{f('precision')} | {f('recall')} | {f('f1')} |")
PY
