#!/usr/bin/env bash
# Whether two builds write the same output: what every speed change is checked with.
#
#   bench/identical.sh BASE_BIN [NEW_BIN]     # NEW_BIN defaults to target/release/pagesieve
#   PAGES=2000 bench/identical.sh BASE_BIN    # smaller corpora (default 10000 pages)
#
# Both binaries run on the bundled sample, the seeds (../shared/seeds, when present), the
# site, templated and GB18030 site corpora (`synth --seed 7`, made by NEW_BIN) and three
# nights cut from the site corpus (the first with --index, the second --against it, the
# third --against and --index). Compared: every record file and clusters/ byte for byte,
# report.json without its clocks and paths. Prints each difference; exits 1 if any.
set -euo pipefail
cd "$(dirname "$0")/.."
base=$(realpath "${1:?usage: bench/identical.sh BASE_BIN [NEW_BIN]}")
new=$(realpath "${2:-target/release/pagesieve}")
pages=${PAGES:-10000}
work=$(pwd)/target/bench/identical
mkdir -p "$work"
rc=0

corpus() { # name, synth args...
    local dir=$work/$1-$pages
    shift
    [[ -d $dir ]] || "$new" synth --pages "$pages" --seed 7 "$@" --out "$dir" >/dev/null
    echo "$dir"
}

compare() { # label, base output, new output
    local f
    for f in articles dropped snippets duplicates rejects seen_again; do
        [[ -e $2/$f.jsonl || -e $3/$f.jsonl ]] || continue
        cmp -s <(norm "$2" <"$2/$f.jsonl") <(norm "$3" <"$3/$f.jsonl") ||
            { echo "$1: $f.jsonl differs"; rc=1; }
    done
    if [[ -d $2/clusters || -d $3/clusters ]]; then
        for f in "$2"/clusters/* "$3"/clusters/*; do
            f=$(basename "$f")
            cmp -s <(norm "$2" <"$2/clusters/$f") <(norm "$3" <"$3/clusters/$f") ||
                { echo "$1: clusters/$f differs"; rc=1; }
        done
    fi
    python3 - "$2/report.json" "$3/report.json" "$1" <<'PY' || rc=1
import json, sys
def load(p):
    r = json.load(open(p))
    for k in ("timings_ms", "started", "input", "output", "index", "cpu_ms", "seconds"):
        r.pop(k, None)
    return r
if load(sys.argv[1]) != load(sys.argv[2]):
    print(f"{sys.argv[3]}: report.json differs (clocks and paths aside)")
    sys.exit(1)
PY
}

# The output folder's own path, as the records of a night against an index name it.
# and the dates a night's records carry.
norm() {
    sed -E "s#$1#OUT#g; s#$work/(base|new)-[a-z0-9-]+#X#g; "'s#"started":"[^"]*"#"started":""#g; s#run of [0-9-]+ [0-9:]+ UTC#run of T#g'
}

run_both() { # label, input, extra args...
    local label=$1 input=$2
    shift 2
    rm -rf "$work/base-$label" "$work/new-$label"
    "$base" run --quiet --input "$input" --output "$work/base-$label" "$@" 2>/dev/null || true
    "$new" run --quiet --input "$input" --output "$work/new-$label" "$@" 2>/dev/null || true
    compare "$label" "$work/base-$label" "$work/new-$label"
}

run_both sample input
[[ -d ../shared/seeds ]] && run_both seeds ../shared/seeds
site=$(corpus site --shape site)
run_both site "$site"
run_both templated "$(corpus templated --shape templated)"
run_both gb18030 "$(corpus site-gb18030 --shape site --encodings gb18030)"

# Three nights: the site corpus's files dealt into thirds (links; the run follows them).
for k in 0 1 2; do rm -rf "$work/night$k" && mkdir -p "$work/night$k"; done
i=0
for f in "$site"/*.txt*; do
    ln -s "$(realpath "$f")" "$work/night$((i % 3))/"
    i=$((i + 1))
done
for who in base new; do
    bin=$([[ $who == base ]] && echo "$base" || echo "$new")
    idx=$work/$who-idx
    rm -rf "$idx" "$work/$who-n0" "$work/$who-n1" "$work/$who-n2"
    "$bin" run --quiet --follow-symlinks --input "$work/night0" --output "$work/$who-n0" --index "$idx" 2>/dev/null || true
    "$bin" run --quiet --follow-symlinks --input "$work/night1" --output "$work/$who-n1" --against "$idx" 2>/dev/null || true
    "$bin" run --quiet --follow-symlinks --input "$work/night2" --output "$work/$who-n2" --against "$idx" --index "$idx" 2>/dev/null || true
done
for k in 0 1 2; do
    compare "night $k" "$work/base-n$k" "$work/new-n$k"
done
[[ $rc == 0 ]] && echo "identical: sample, seeds, site, templated, GB18030 ($pages pages), three nights"
exit $rc
