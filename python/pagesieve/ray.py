"""The pagesieve run on a Ray cluster: the same output files as ``pagesieve run``.

    python -m pagesieve.ray --input DIR --output DIR [--config FILE] [--address ADDR]
                            [--files-per-shard N] [--work-dir DIR] [--no-parquet]

How it runs (docs/DISTRIBUTED.md has the reasoning and the sizes):

1. The driver lists the input files (sorted, as the CLI does) and cuts the list into
   contiguous shards of ``--files-per-shard`` files.
2. Phase 1 is a Ray Data ``map`` over the shards: each task scans its files into
   ``WORK/shard-NNNNNN.pages`` and ``.spill`` — a pure function of its files, written under
   temporary names and renamed, so a task that dies and is retried rewrites the same bytes
   and no page is counted twice. A page that fails inside a task becomes a reject.
3. Phase 2 is one Ray task with all of a node's CPUs: it loads the shards in order
   (the learned-boilerplate sample, a few thousand pages' lines, comes with them), decides
   the duplicates over the fingerprint table, and writes the record files, the reports and
   the dedup index exactly as the CLI does.
4. The record files are also written as Parquet (``*.parquet``), one Ray task per file.

Input, output and the work folder must be on storage every node sees (NFS, a shared
volume); paths only, not object-store URIs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import time
from typing import Any, Dict, List, Optional, Sequence

import pagesieve
from pagesieve import _native

#: Record files converted to Parquet next to their JSONL.
PARQUET_FILES = (
    "articles.jsonl",
    "snippets.jsonl",
    "dropped.jsonl",
    "duplicates.jsonl",
    "rejects.jsonl",
)

#: Fault injection for the test suite: the first attempt of this shard's task kills its
#: own worker process (SIGKILL), as a crashed node would; Ray retries the task.
FAULT_ENV = "PAGESIEVE_FAULT_KILL_SHARD"

#: How many times Ray runs a phase-1 task again after its worker died.
MAX_RETRIES = 5


def _scan_shard_row(row: Dict[str, Any], config: Any, total: int, work: str) -> Dict[str, Any]:
    shard = int(row["shard"])
    files = json.loads(row["files"])
    if os.environ.get(FAULT_ENV) == str(shard):
        marker = os.path.join(work, f".fault-{shard}")
        if not os.path.exists(marker):
            open(marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)
    pages, articles, snippets = _native.scan_shard(
        [tuple(f) for f in files], total, config, work, shard, 1
    )
    return {"shard": shard, "pages": pages, "articles": articles, "snippets": snippets}


def _node_cpus(ray: Any) -> int:
    cpus = [n["Resources"].get("CPU", 0) for n in ray.nodes() if n.get("Alive")]
    return max(1, int(max(cpus, default=1)))


def run(
    input: str,
    output: str,
    config: Optional[str] = None,
    *,
    address: Optional[str] = None,
    files_per_shard: int = 1000,
    work_dir: Optional[str] = None,
    parquet: bool = True,
    keep_work: bool = False,
    force: bool = False,
    against: Sequence[str] = (),
    index: Optional[str] = None,
    max_drop_rate: Optional[float] = None,
) -> dict:
    """Runs the job on Ray (connecting to ``address``, or to the cluster already
    initialized in this process, or starting a local one). Returns what
    :func:`pagesieve.run` returns, plus ``"shards"`` and ``"parquet"``."""
    import ray

    if files_per_shard < 1:
        raise pagesieve.UsageError("--files-per-shard must be at least 1")
    cfg = pagesieve.load_config(config)
    files, excluded, problems, skipped = _native.list_files(os.fspath(input), os.fspath(output), cfg)
    work = os.path.abspath(work_dir or os.path.normpath(os.fspath(output)) + ".shards")
    if os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(work)
    shards: List[List[Any]] = [
        [list(f) for f in files[i : i + files_per_shard]]
        for i in range(0, len(files), files_per_shard)
    ]
    started_here = False
    if not ray.is_initialized():
        address = address or os.environ.get("RAY_ADDRESS")
        local = {} if address else {"_node_ip_address": "127.0.0.1"}
        # A local cluster listens on 127.0.0.1 only: a node advertising another address of
        # this machine can wait forever for itself.
        ray.init(address=address, include_dashboard=False, log_to_driver=False, **local)
        started_here = True
    try:
        t0 = time.monotonic()
        if shards:
            items = [{"shard": i, "files": json.dumps(s)} for i, s in enumerate(shards)]
            ds = ray.data.from_items(items, override_num_blocks=len(items))
            ds = ds.map(
                _scan_shard_row,
                # The profile travels pickled (its text; each task compiles it once).
                fn_kwargs={"config": cfg, "total": len(files), "work": work},
                num_cpus=1,
                # A task whose worker dies (a killed process, a lost node) is run again.
                max_retries=MAX_RETRIES,
            )
            scanned = sorted(ds.take_all(), key=lambda r: r["shard"])
            missing = [i for i, r in enumerate(scanned) if r["shard"] != i]
            if len(scanned) != len(shards) or missing:
                raise pagesieve.PagesieveError(f"shards missing after phase 1: {missing}")
        t1 = time.monotonic()
        cpus = _node_cpus(ray)
        finish = ray.remote(_finish)
        outcome = ray.get(
            finish.options(num_cpus=cpus, max_retries=2).remote(
                os.fspath(input),
                os.fspath(output),
                cfg,
                work,
                len(shards),
                len(files),
                excluded,
                list(problems),
                list(skipped),
                threads=cpus,
                force=force,
                against=[os.fspath(a) for a in against],
                index=None if index is None else os.fspath(index),
                max_drop_rate=max_drop_rate,
            )
        )
        summary = _raise_or_return(outcome)
        t2 = time.monotonic()
        written: List[str] = []
        if parquet and summary.get("written"):
            to_parquet = ray.remote(_jsonl_to_parquet)
            refs = [
                to_parquet.remote(os.path.join(os.fspath(output), f))
                for f in PARQUET_FILES
                if os.path.exists(os.path.join(os.fspath(output), f))
            ]
            written = ray.get(refs)
        t3 = time.monotonic()
    finally:
        if not keep_work:
            shutil.rmtree(work, ignore_errors=True)
        if started_here:
            ray.shutdown()
    summary["shards"] = len(shards)
    summary["parquet"] = written
    summary["ray_seconds"] = {"scan": t1 - t0, "finish": t2 - t1, "parquet": t3 - t2}
    return summary


def _finish(*args: Any, **kwargs: Any) -> dict:
    """Phase 2 (:func:`pagesieve.finish`) in a Ray task. Exceptions cross the cluster as
    (kind, message) and are raised again on the driver with their types."""
    try:
        return {"ok": pagesieve.finish(*args, **kwargs)}
    except pagesieve.PagesieveError as e:
        return {"error": type(e).__name__, "message": str(e)}


def _raise_or_return(outcome: dict) -> dict:
    if "ok" in outcome:
        return outcome["ok"]
    kind = getattr(_native, outcome["error"], pagesieve.PagesieveError)
    raise kind(outcome["message"])


#: Record files up to this size go to Parquet through Arrow's own JSON reader, whole (~5×
#: faster than the batched path, memory a few times the file); larger ones in batches.
WHOLE_FILE_BYTES = 1 << 30


def _jsonl_to_parquet(path: str, batch_rows: int = 20_000) -> str:
    """Writes ``path`` (JSONL) as Parquet beside it. Files up to ``WHOLE_FILE_BYTES`` are
    read whole by Arrow's JSON reader, which infers one schema over the file; larger files,
    or files whose parts Arrow cannot reconcile, take the bounded-memory path: a first pass
    unifies the schemas of the batches (a field null in one batch and text in another
    becomes text), a second converts and writes."""
    import pyarrow as pa
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    out = path[: -len(".jsonl")] + ".parquet"
    tmp = out + ".tmp"
    size = os.path.getsize(path)
    if 0 < size <= WHOLE_FILE_BYTES:
        try:
            table = pj.read_json(path, read_options=pj.ReadOptions(block_size=64 << 20))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            table = None
        if table is not None:
            pq.write_table(table, tmp)
            os.replace(tmp, out)
            return out

    def batches():
        rows: List[dict] = []
        with open(path, encoding="utf-8") as f:
            for line in f:
                rows.append(json.loads(line))
                if len(rows) >= batch_rows:
                    yield rows
                    rows = []
        if rows:
            yield rows

    schemas = [pa.Table.from_pylist(b).schema for b in batches()]
    if not schemas:
        schema = pa.schema([("id", pa.string())])
        pq.write_table(pa.Table.from_pylist([], schema=schema), tmp)
    else:
        schema = pa.unify_schemas(schemas, promote_options="permissive")
        with pq.ParquetWriter(tmp, schema) as w:
            for b in batches():
                w.write_table(pa.Table.from_pylist(b, schema=schema))
    os.replace(tmp, out)
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m pagesieve.ray",
        description="Run pagesieve on a Ray cluster: the same output as `pagesieve run`.",
    )
    p.add_argument("--input", default="input", help="folder read recursively (shared storage)")
    p.add_argument("--output", default="output", help="output folder (shared storage)")
    p.add_argument("--config", help="profile [default: config/default.toml or the built-in one]")
    p.add_argument("--address", help="Ray cluster address (default: RAY_ADDRESS, or a local cluster)")
    p.add_argument("--files-per-shard", type=int, default=1000, help="files per phase-1 task")
    p.add_argument("--work-dir", help="shard files [default: OUTPUT.shards] (shared storage)")
    p.add_argument("--keep-work", action="store_true", help="keep the shard files")
    p.add_argument("--no-parquet", action="store_true", help="skip the Parquet record files")
    p.add_argument("--force", action="store_true", help="replace an output even with no input pages")
    p.add_argument("--against", action="append", default=[], help="earlier output or index folder")
    p.add_argument("--index", help="write the dedup index here instead of OUTPUT/index")
    p.add_argument("--max-drop-rate", type=float, help="hold the output above this drop rate")
    p.add_argument("--quiet", action="store_true", help="no summary")
    a = p.parse_args(argv)
    started = time.monotonic()
    try:
        s = run(
            a.input,
            a.output,
            a.config,
            address=a.address,
            files_per_shard=a.files_per_shard,
            work_dir=a.work_dir,
            parquet=not a.no_parquet,
            keep_work=a.keep_work,
            force=a.force,
            against=a.against,
            index=a.index,
            max_drop_rate=a.max_drop_rate,
        )
    except pagesieve.PagesieveError as e:
        for line in str(e).splitlines():
            print(f"pagesieve: {line}", file=sys.stderr)
        return pagesieve.exit_code(e)
    for w in s.get("warnings", []):
        print(f"pagesieve: warning: {w}", file=sys.stderr)
    if s.get("held"):
        print(f"pagesieve: held: the output is in {s['held']}", file=sys.stderr)
        return 3
    if not a.quiet and s.get("written"):
        # The paragraph's clock is phase 2's (the task that wrote the output).
        print(s["paragraph"])
        took = time.monotonic() - started
        shards = f"{s['shards']} shard" + ("" if s["shards"] == 1 else "s")
        print(f"Output written to {a.output} ({shards} on Ray, {took:.1f} s in all).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
