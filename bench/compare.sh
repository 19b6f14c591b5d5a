#!/usr/bin/env bash
# Comparison bench (not part of CI): pagesieve vs the floor vs Python peers, on synthetic
# corpora with planted, labelled duplicates. Writes target/bench/results.jsonl and prints a
# markdown table for BENCHMARKS.md.
#
#   bench/compare.sh              # 10k and 100k pages
#   bench/compare.sh 10000        # one size
#   bench/compare.sh 10000 100000 1000000   # 1M on request: the peers are skipped above
#                                 # PEERS_MAX pages (default 100000; they would take hours)
#   SHAPE=site bench/compare.sh   # pages in the real site's proportions (synth --shape site);
#                                 # the default is the templated corpus (SHAPE=templated)
#   RESULTS=target/bench/results-1m.jsonl bench/compare.sh 1000000   # a size on its own;
#                                 # the table and plot use every target/bench/results*.jsonl
#   CORPUS=/data/c1m bench/compare.sh 1000000   # an existing corpus (made by pagesieve synth
#                                 # with the same shape) instead of generating one
#
# Needs the Rust toolchain, python3 with venv, GNU time (/usr/bin/time), and the package
# index for the peers (installed into target/bench/venv).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${*:-"10000 100000"}
root=target/bench
mkdir -p "$root"
shape=${SHAPE:-templated}
results=${RESULTS:-$root/results-$shape.jsonl}
: > "$results"

cargo build --release -q
cargo build --release -q --example floor
bin=target/release/pagesieve
floor=target/release/examples/floor

venv="$root/venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q datasketch simhash-pybind matplotlib
  # Data-Juicer itself; aiohttp is imported by it but not declared in 1.6.1.
  "$venv/bin/pip" install -q py-data-juicer aiohttp || echo "py-data-juicer did not install"
fi
py="$venv/bin/python"
peers_max=${PEERS_MAX:-100000}
# Data-Juicer's own deduplicator when it imports; else its parameters with the library it
# calls (simhash-pybind).
if "$py" -c "import data_juicer.ops.deduplicator.document_simhash_deduplicator" 2>/dev/null; then
  peers="datajuicer minhash"
else
  peers="simhash minhash"
fi

# Runs a command under GNU time; prints "wall_s user_s sys_s peak_kib".
measure() {
  /usr/bin/time -f "%e %U %S %M" -o "$root/time.txt" "$@" > /dev/null
  cat "$root/time.txt"
}

# The corpus depends on the generator: a changed src/synth/ makes a new one.
stamp=$(cat src/synth/*.rs | git hash-object --stdin | cut -c1-8)
for n in $sizes; do
  corpus=${CORPUS:-"$root/corpus-$shape-$n-$stamp"}
  if [ ! -f "$corpus/.labels.jsonl" ]; then
    rm -rf "$corpus"
    "$bin" synth --pages "$n" --seed 42 --shape "$shape" --out "$corpus" > /dev/null
  fi
  mb=$(du -sm --apparent-size "$corpus" | cut -f1)
  # Warm the page cache (untimed), so that a corpus made or evicted earlier does not make
  # the first tool pay for the disk. (At 1M pages the corpus does not fit: all are cold.)
  "$floor" "$corpus" > /dev/null
  out="$root/out-$shape-$n"
  read -r wall user sys rss <<< "$(measure "$bin" run --quiet --input "$corpus" --output "$out")"
  score=$(python3 bench/score.py "$corpus/.labels.jsonl" --pagesieve "$out")
  echo "{\"tool\":\"pagesieve run\",\"shape\":\"$shape\",\"pages\":$n,\"mb\":$mb,\"wall\":$wall,\"user\":$user,\"sys\":$sys,\"rss_kib\":$rss,\"score\":$score}" >> "$results"

  read -r wall user sys rss <<< "$(measure "$floor" "$corpus")"
  echo "{\"tool\":\"floor (read+decode+xxh3)\",\"shape\":\"$shape\",\"pages\":$n,\"mb\":$mb,\"wall\":$wall,\"user\":$user,\"sys\":$sys,\"rss_kib\":$rss,\"score\":null}" >> "$results"

  [ "$n" -le "$peers_max" ] || continue
  for method in $peers; do
    res="$root/peer-$method-$shape-$n.json"
    read -r wall user sys rss <<< "$(measure "$py" bench/peers.py "$method" "$out" "$res" 2>/dev/null)"
    score=$(python3 bench/score.py "$corpus/.labels.jsonl" --clusters "$res")
    secs=$(python3 -c "import json;print(json.load(open('$res'))['seconds'])")
    echo "{\"tool\":\"$method\",\"shape\":\"$shape\",\"pages\":$n,\"mb\":$mb,\"wall\":$wall,\"dedup_s\":$secs,\"user\":$user,\"sys\":$sys,\"rss_kib\":$rss,\"score\":$score}" >> "$results"
  done
done

# Every results file of the bench folder goes into the table and the plot (so a 1M run
# made separately, with RESULTS=target/bench/results-1m.jsonl, joins the 10k/100k one).
python3 bench/table.py "$root"/results*.jsonl
"$py" bench/plot.py "$root"/results*.jsonl docs/benchmarks.png && echo "plot: docs/benchmarks.png"
