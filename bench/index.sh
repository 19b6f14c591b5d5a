#!/usr/bin/env bash
# Scale series of the fingerprint index + clustering (BENCHMARKS.md quotes its output).
# Each size runs in its own process so peak RSS is that size's own.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${*:-"1000000 2000000 5000000 10000000 20000000 50000000 100000000"}
cargo bench --bench index --no-run 2>/dev/null
for n in $sizes; do
  cargo bench -q --bench index -- "$n" 2>/dev/null | grep '^n='
done
