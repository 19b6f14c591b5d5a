#!/usr/bin/env bash
# Local Ray against the CLI on the same corpus and machine (not part of CI): the cost of
# running pagesieve through `python -m pagesieve.ray` on one node, and a check that both
# wrote the same record files. Appends to target/bench/ray.jsonl.
#
#   bench/ray.sh                 # 10k and 100k site-shaped pages (the compare.sh corpora)
#   bench/ray.sh 10000           # one size
#   FILES_PER_SHARD=500 bench/ray.sh
#   PARTITIONS="0 1 4 16" bench/ray.sh 100000   # the candidate stage in N partition tasks
#                                               # (0: in the finish task, the default)
#
# Needs the Rust toolchain, python3 with venv, GNU time, and the package index (the
# package and Ray go into target/bench/ray-venv).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${*:-"10000 100000"}
root=target/bench
mkdir -p "$root"
shape=${SHAPE:-site}
fps=${FILES_PER_SHARD:-1000}
partitions=${PARTITIONS:-0}
results=${RESULTS:-$root/ray.jsonl}
# TRACE=FILE: every task's phases (PAGESIEVE_MEMORY_TRACE=phase, src/trim.rs) from the
# workers' logs into FILE, one block per worker log, for the last size and partition count.
# The trace resets a task's peak at each phase's end, so in a traced run the per-task
# peaks below undercount: take the largest phase peak in FILE instead.
trace=${TRACE:-}

cargo build --release -q
cargo build --release -q --example floor
bin=target/release/pagesieve
venv="$root/ray-venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "ray>=2.9,<3" "pyarrow>=12" maturin
fi
# This checkout's package, rebuilt every time.
"$venv/bin/pip" install -q --force-reinstall --no-deps .
py="$venv/bin/python"

stamp=$(cat src/synth/*.rs | git hash-object --stdin | cut -c1-8)
for n in $sizes; do
  corpus=${CORPUS:-"$root/corpus-$shape-$n-$stamp"}
  if [ ! -f "$corpus/.labels.jsonl" ]; then
    rm -rf "$corpus"
    "$bin" synth --pages "$n" --seed 42 --shape "$shape" --out "$corpus" > /dev/null
  fi
  target/release/examples/floor "$corpus" > /dev/null # warm the page cache, untimed
  cli="$root/ray-cli-$n" ray_out="$root/ray-ray-$n"
  rm -rf "$cli" "$ray_out"
  /usr/bin/time -f "%e %M" -o "$root/time.txt" "$bin" run --quiet --threads 2 --input "$corpus" --output "$cli"
  read -r cli_wall cli_rss < "$root/time.txt"
  # The CLI's record files by their checksums (at 1M pages the CLI's and Ray's outputs
  # together would not fit the disk beside the corpus).
  (cd "$cli" && sha256sum articles.jsonl snippets.jsonl dropped.jsonl duplicates.jsonl rejects.jsonl) > "$root/cli.sha256"
  rm -rf "$cli"
  for parts in $partitions; do
  rm -rf "$ray_out"
  # The whole command a user types, Ray's start and stop included; the phases inside it
  # come from the run's own clocks.
  if [ -n "$trace" ]; then export PAGESIEVE_MEMORY_TRACE=phase; fi
  /usr/bin/time -f "%e" -o "$root/time.txt" "$py" - "$corpus" "$ray_out" "$fps" "$parts" > "$root/ray-phases.json" <<'PY'
import json, os, sys, threading, time

# The largest resident size of each kind of Ray worker: a worker running a task is
# titled "ray::<task name>" (pagesieve.scan[N], pagesieve.finish). Every 0.2 s the
# sampler reads each worker's resident size and its peak (VmHWM), which it resets
# (/proc/PID/clear_refs) when the worker takes a new task, so that a spike between two
# samples is counted and an earlier task's is not (only a spike in the first 0.2 s of a
# task, before the reset, can be missed). Ray reuses worker processes, so a task's
# worker may still hold what an earlier task left (allocator arenas): "growth" is the
# most a task's worker grew above its size when it took the task. "anon" is the sampled
# resident size without the pages of mapped files (a partition task reads the columns
# file in place: those pages are the page cache, one copy for every task of the node,
# and the kernel may drop them); the kernel keeps no peak of it.
peaks, growth, seen, anon = {}, {}, {}, {}
def sample(stop):
    while not stop.is_set():
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                title = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")[0].decode()
                if not title.startswith("ray::pagesieve."):
                    continue
                kind = title[len("ray::"):].split("[")[0].split()[0]
                status = {
                    l.split(":")[0]: l.split()[1]
                    for l in open(f"/proc/{pid}/status")
                    if l.startswith(("VmRSS:", "VmHWM:", "RssAnon:"))
                }
                rss = int(status["VmRSS"])
                anon[kind] = max(anon.get(kind, 0), int(status["RssAnon"]))
                if seen.get(pid, (None,))[0] != title:
                    seen[pid] = (title, rss)
                    try:
                        with open(f"/proc/{pid}/clear_refs", "w") as f:
                            f.write("5")
                        status["VmHWM"] = rss
                    except OSError:
                        status["VmHWM"] = 0
                peaks[kind] = max(peaks.get(kind, 0), rss, int(status["VmHWM"]))
                growth[kind] = max(growth.get(kind, 0), rss - seen[pid][1])
            except (OSError, StopIteration, ValueError, KeyError, IndexError):
                pass
        stop.wait(0.2)
stop = threading.Event()
threading.Thread(target=sample, args=(stop,), daemon=True).start()
t0 = time.monotonic()
import ray
ray.init(num_cpus=2, _node_ip_address="127.0.0.1", include_dashboard=False, log_to_driver=False)
t1 = time.monotonic()
from pagesieve import ray as pr
import os, shutil
work = sys.argv[2] + ".work"
parts = int(sys.argv[4]) or None
s = pr.run(sys.argv[1], sys.argv[2], files_per_shard=int(sys.argv[3]), work_dir=work, keep_work=True,
           partitions=parts)
t2 = time.monotonic()
stop.set()
ray.shutdown()
# What phase 1 hands to phase 2, per page: the bytes a cluster moves through shared storage.
size = lambda ext: sum(os.path.getsize(os.path.join(work, f)) for f in os.listdir(work) if f.endswith(ext))
sizes = {"pages_bytes": size(".pages"), "spill_bytes": size(".spill")}
shutil.rmtree(work)
timings = json.load(open(os.path.join(sys.argv[2], "report.json")))["timings_ms"]
print(json.dumps({"partitions": parts or 0, "ray_init": round(t1 - t0, 2), "run": round(t2 - t1, 2),
                  "dedup_candidates_ms": timings.get("dedup_candidates"), "dedup_ms": timings.get("dedup"),
                  **{k: round(v, 2) for k, v in s["seconds"].items()}, "shards": s["shards"],
                  "peak_rss_kib": peaks, "peak_anon_kib": anon, "task_growth_kib": growth, **sizes}))
PY
  ray_wall=$(cat "$root/time.txt")
  if [ -n "$trace" ]; then
    unset PAGESIEVE_MEMORY_TRACE
    for log in /tmp/ray/session_latest/logs/worker-*.err; do
      if grep -q "memory after" "$log"; then
        echo "== $(basename "$log")"
        grep -E "memory after|^:task_name:" "$log" || true
      fi
    done > "$trace"
  fi
  same=true
  sums="$PWD/$root/cli.sha256"
  (cd "$ray_out" && sha256sum --quiet -c "$sums") >&2 || same=false
  phases=$(cat "$root/ray-phases.json")
  line="{\"shape\":\"$shape\",\"pages\":$n,\"files_per_shard\":$fps,\"cli_wall\":$cli_wall,\"cli_rss_kib\":$cli_rss,\"ray_wall\":$ray_wall,\"ray\":$phases,\"same_records\":$same}"
  echo "$line" | tee -a "$results"
  done
  rm -rf "$ray_out"
done
