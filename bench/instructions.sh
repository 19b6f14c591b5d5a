#!/usr/bin/env bash
# Instructions a page, counted by callgrind on one thread: the whole run and the scan
# (`scan_file_sampled`, inclusive), on 1,000 pages of each corpus shape, and on the
# site-shaped pages written in GB18030 (`synth --encodings gb18030`: a site serving GBK).
# Instruction counts repeat to a fraction of a percent on a noisy machine, where wall time
# does not.
#
#   bench/instructions.sh [PAGES]        # default 1000; needs valgrind (apt-get install valgrind)
#
# BIN=path/to/pagesieve measures another build (an older commit's, to compare; run the
# current build first, which writes the corpora: older ones lack `synth --encodings`).
set -euo pipefail
cd "$(dirname "$0")/.."
pages=${1:-1000}
work=target/bench/instructions
mkdir -p "$work"
if [[ -z "${BIN:-}" ]]; then
    cargo build --release --quiet
    BIN=target/release/pagesieve
fi
command -v valgrind >/dev/null || { echo "valgrind not found (apt-get install valgrind)" >&2; exit 2; }
printf '%-12s %8s %14s %12s %14s %12s\n' shape pages "run Ir" "run /page" "scan Ir" "scan /page"
for shape in site templated site-gb18030; do
    corpus=$work/$shape-$pages
    [[ -d $corpus ]] || "$BIN" synth --shape "${shape%-gb18030}" --pages "$pages" --seed 7 \
        $([[ $shape == *-gb18030 ]] && echo --encodings gb18030) --out "$corpus" >/dev/null
    out=$work/callgrind-$shape.out
    valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$BIN" run --quiet --threads 1 --input "$corpus" --output "$work/out-$shape" --force \
        2>/dev/null
    total=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
    scan=$(callgrind_annotate --inclusive=yes --threshold=100 "$out" 2>/dev/null |
        awk '/scan::scan_file_sampled \[/ && !n++ {gsub(",", "", $1); print $1}')
    printf '%-12s %8d %14d %12d %14d %12d\n' "$shape" "$pages" "$total" $((total / pages)) \
        "${scan:-0}" $((${scan:-0} / pages))
done
