"""The pagesieve run on a Ray cluster: the same output files as ``pagesieve run``.

    python -m pagesieve.ray --input DIR --output DIR [--config FILE] [--address ADDR]
                            [--files-per-shard N] [--partitions N] [--work-dir DIR]
                            [--no-parquet]

How it runs (docs/DISTRIBUTED.md has the reasoning and the sizes):

1. The driver checks the settings as the CLI does (before anything is read or written),
   lists the input files (sorted, as the CLI does) and cuts the list into contiguous
   shards of ``--files-per-shard`` files.
2. Phase 1 is one Ray task per shard, named ``pagesieve.scan[N]`` in the dashboard: each
   scans its files with the CLI's scan loop into ``WORK/shard-NNNNNN.pages`` and
   ``.spill`` — a pure function of its files, written under temporary names and renamed,
   so a task that dies and is retried rewrites the same bytes and no page is counted
   twice. A page that fails inside a task becomes a reject.
3. Phase 2 is one Ray task with all of a node's CPUs, ``pagesieve.finish``: it loads the
   shards in order (the learned-boilerplate sample, a few thousand pages' lines, comes
   with them), decides the duplicates over the fingerprint table, and stages the record
   files, the reports and the dedup index exactly as the CLI does; the Parquet copies
   of the record files (:mod:`pagesieve.parquet`) are written into the same staging
   folder by ``pagesieve.parquet[<file>]`` tasks on the same node (one per record file,
   so that Arrow's working memory is theirs, not phase 2's), and the whole is committed
   as one generation of the output.
   With ``--partitions N`` the article search's candidate stage leaves this task: its
   texts' columns go to ``WORK/search``, a ``pagesieve.split`` task deals the LSH band
   tables' entries to the partitions (a file each), ``pagesieve.keys[p]`` tasks find
   each key partition's oversized groups, ``pagesieve.pairs[p]`` tasks its candidate
   pairs, and phase 2 goes on with their union (:mod:`pagesieve`
   ``search_split``/``search_keys``/``search_pairs``); then the verification and
   clusters leave it too: the candidate components are dealt into ``N`` contiguous runs,
   each a job file in ``WORK/verify`` (the members' fingerprints and where their texts
   lie in the shard spill files), and ``pagesieve.verify[p]`` tasks verify and cluster
   them (``search_verify``), phase 2 taking their outcomes in component order; and the
   articles' lines of ``articles.jsonl`` and ``dropped.jsonl`` are written by
   ``pagesieve.write[p]`` tasks over ``N`` contiguous runs of the articles
   (``search_write``), phase 2 joining their parts in input order.

The input, the work folder and the output may be on object storage (``s3://…``; any URI
``pyarrow.fs`` understands: :mod:`pagesieve.storage`). An output there is written by
phase 2 into a local folder, then published as a generation prefix and a pointer object
(``OUT/.pagesieve/current``, replaced by one PUT: :func:`pagesieve.storage.publish`);
readers resolve it with :func:`pagesieve.storage.published_uri`. ``--against`` and
``--index`` need a filesystem output (the index is read in place).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from typing import Any, Dict, Iterator, List, Optional, Sequence

import pagesieve
from pagesieve import _native, storage
from pagesieve.parquet import jsonl_to_parquet

__all__ = ["run", "main", "PARQUET_FILES", "FAULT_ENV", "FAULT_TASK_ENV", "MAX_RETRIES", "MAX_PARTITIONS"]

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

#: Fault injection for the test suite: the first attempt of each phase-2 job task named
#: here (comma-separated, e.g. ``pagesieve.write[1]``) kills its own worker once its
#: result files are written, before it returns; Ray runs it again over those files.
FAULT_TASK_ENV = "PAGESIEVE_FAULT_KILL_TASK"

#: How many times Ray runs a phase-1 task again after its worker died.
MAX_RETRIES = 5

#: The most partitions the candidate search may be split into.
MAX_PARTITIONS = 4096


def _scan_shard(
    shard: int,
    files: List[Any],
    total: int,
    config: Any,
    work: str,
    input: str,
) -> Dict[str, Any]:
    """Phase 1 over one shard, in a Ray task (one CPU). With ``input`` on object storage
    the shard's pages are fetched into a private folder first; with ``work`` there, the
    shard files are written locally and uploaded (``.pages`` last)."""
    if os.environ.get(FAULT_ENV) == str(shard):
        marker = os.path.join(work if not storage.is_uri(work) else tempfile.gettempdir(), f".fault-{shard}")
        if not os.path.exists(marker):
            open(marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)
    tmp = tempfile.mkdtemp(prefix=f"pagesieve-shard-{shard}-")
    try:
        if storage.is_uri(input):
            root = os.path.join(tmp, "pages")
            local = storage.fetch(input, files, config, root)
        else:
            root, local = input, [tuple(f) for f in files]
        out = os.path.join(tmp, "work") if storage.is_uri(work) else work
        pages, articles, snippets = _native.scan_shard(local, total, config, out, shard, root, 1)
        if storage.is_uri(work):
            names = [f"shard-{shard:06d}.{ext}" for ext in ("spill", "cpu", "pages")]
            storage.upload([os.path.join(out, n) for n in names], work)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"shard": shard, "pages": pages, "articles": articles, "snippets": snippets, "task": _task_name()}


def _task_name() -> str:
    """The name the dashboard shows for the task running this (``pagesieve.scan[3]``)."""
    import ray

    return ray.get_runtime_context().get_task_name() or ""


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
    partitions: Optional[int] = None,
) -> dict:
    """Runs the job on Ray (connecting to ``address``, or to the cluster already
    initialized in this process, or starting a local one). Returns what
    :func:`pagesieve.run` returns, plus ``"shards"``, ``"parquet"`` (the Parquet files
    written), ``"tasks"`` (the Ray tasks' names, as the dashboard shows them) and
    ``"seconds"`` (the job's wall time per phase and ``"total"``).

    With ``partitions=N`` the article search's candidate stage runs in ``2 × N + 1``
    tasks (``pagesieve.split``, then ``pagesieve.keys[p]``, then ``pagesieve.pairs[p]``),
    each round over the key groups of one partition, its verification in up to ``N``
    tasks (``pagesieve.verify[p]``), each over a run of the candidate components, and
    the articles' lines in up to ``N`` tasks (``pagesieve.write[p]``), each over a run of
    the articles in input order; the output is the same for every ``N``."""
    import ray

    started = time.monotonic()
    if files_per_shard < 1:
        raise pagesieve.UsageError("--files-per-shard must be at least 1")
    if partitions is not None and not 1 <= partitions <= MAX_PARTITIONS:
        raise pagesieve.UsageError(f"--partitions must be between 1 and {MAX_PARTITIONS}")
    cfg = pagesieve.load_config(config)
    opts = pagesieve._run_options(None, force, against, index, max_drop_rate)
    input, output = os.fspath(input), os.fspath(output)
    remote_output = storage.is_uri(output)
    if remote_output and (against or index is not None):
        raise pagesieve.UsageError(
            f"--output {storage.shown(output)} is on object storage: --against and --index need "
            "the outputs and the index on a filesystem (an index points into its runs' record "
            "files and is read there in place); keep them on storage every node sees"
        )
    # The CLI's checks, before the cluster is asked for anything.
    _native.check_settings(input, output, cfg, **opts)
    # What the output on object storage holds now (also: the store answers, before phase 1).
    expected = (storage.published(output) or {}).get("generation") if remote_output else None
    job = secrets.token_hex(8)
    if storage.is_uri(input):
        files, excluded = storage.list_input(input, cfg)
        problems, skipped = [], []
    else:
        files, excluded, problems, skipped = _native.list_files(input, output, cfg)
        input = os.path.abspath(input)
    if work_dir:
        work = work_dir
    elif remote_output:
        work = storage.sibling(output, ".shards")
    else:
        work = os.path.normpath(output) + ".shards"
    work = work if storage.is_uri(work) else os.path.abspath(work)
    try:
        _clear(work)
    except OSError as e:
        shown = storage.shown(work) if storage.is_uri(work) else work
        raise pagesieve.PagesieveIOError(f"work folder {shown} (--work-dir): {e}") from e
    shards: List[List[Any]] = [
        [list(f) for f in files[i : i + files_per_shard]]
        for i in range(0, len(files), files_per_shard)
    ]
    listed = time.monotonic()
    started_here = False
    if not ray.is_initialized():
        address = address or os.environ.get("RAY_ADDRESS")
        local = {} if address else {"_node_ip_address": "127.0.0.1"}
        # A local cluster listens on 127.0.0.1 only: a node advertising another address of
        # this machine can wait forever for itself.
        ray.init(address=address, include_dashboard=False, log_to_driver=False, **local)
        started_here = True
    try:
        t_ray = time.monotonic()
        scan = ray.remote(_scan_shard)
        refs = [
            scan.options(
                name=f"pagesieve.scan[{i}]",
                num_cpus=1,
                # A task whose worker dies (a killed process, a lost node) is run again.
                max_retries=MAX_RETRIES,
            ).remote(i, s, len(files), cfg, work, input)
            for i, s in enumerate(shards)
        ]
        scanned = ray.get(refs)
        if [r["shard"] for r in scanned] != list(range(len(shards))):
            raise pagesieve.PagesieveError("shards missing after phase 1")
        t_scan = time.monotonic()
        cpus = _node_cpus(ray)
        phases = [
            ("ray_list", listed - started),
            ("ray_start", t_ray - listed),
            ("ray_scan", t_scan - t_ray),
        ]
        finish = ray.remote(_finish)
        outcome = ray.get(
            finish.options(name="pagesieve.finish", num_cpus=cpus, max_retries=2).remote(
                input,
                output,
                cfg,
                work,
                len(shards),
                len(files),
                excluded,
                list(problems),
                list(skipped),
                threads=cpus,
                before=time.monotonic() - started,
                phases=phases,
                parquet=parquet,
                partitions=partitions,
                remote_work=work if storage.is_uri(work) else None,
                published=expected,
                job=job,
                **{k: v for k, v in opts.items() if k != "threads"},
            )
        )
        summary = _raise_or_return(outcome)
        t_done = time.monotonic()
    finally:
        if not keep_work:
            _remove(work)
        if started_here:
            ray.shutdown()
    summary["shards"] = len(shards)
    summary["tasks"] = [r["task"] for r in scanned] + summary["tasks"]
    summary["seconds"] = dict(
        [(n, round(x, 3)) for n, x in phases]
        + [("finish", round(t_done - t_scan, 3)), ("total", round(t_done - started, 3))]
    )
    return summary


def _clear(work: str) -> None:
    """An empty work folder at ``work`` (a path or a URI)."""
    if storage.is_uri(work):
        fs, root = storage.filesystem(work)
        fs.create_dir(root, recursive=True)
        fs.delete_dir_contents(root, missing_dir_ok=True)
    else:
        if os.path.exists(work):
            shutil.rmtree(work)
        os.makedirs(work)


def _remove(work: str) -> None:
    """Removes the work folder (a path or a URI), whatever is left in it."""
    try:
        if storage.is_uri(work):
            fs, root = storage.filesystem(work)
            fs.delete_dir(root)
        else:
            shutil.rmtree(work, ignore_errors=True)
    except OSError:
        pass


def _finish(
    input: str,
    output: str,
    config: Any,
    work: str,
    shards: int,
    *args: Any,
    parquet: bool = True,
    partitions: Optional[int] = None,
    remote_work: Optional[str] = None,
    published: Optional[str] = None,
    job: Optional[str] = None,
    **kwargs: Any,
) -> dict:
    """Phase 2 (:func:`pagesieve.finish`) in a Ray task, with the Parquet copies written
    into the staging folder before the commit; shard files on object storage are
    downloaded to this node first. With ``partitions``, the article search's candidate
    stage goes to partition tasks (:func:`_search_in_tasks`), its verification and the
    articles' lines to others (:func:`_jobs_in_tasks`). Exceptions cross the
    cluster as (kind, message) and are raised again on the driver with their types."""
    written: List[str] = []
    tasks: List[str] = []
    stages: Dict[str, Any] = {}
    remote_output = output if storage.is_uri(output) else None
    if parquet:
        stages["parquet"] = _parquet_in_tasks(tasks, work)
    if partitions:
        remote = storage.child(remote_work, "search") if remote_work else None
        stages["search"] = _search_in_tasks(config, partitions, remote, tasks)
        remote = storage.child(remote_work, "verify") if remote_work else None
        stages["verify"] = _jobs_in_tasks("verify", config, remote, tasks)
        remote = storage.child(remote_work, "write") if remote_work else None
        stages["write"] = _jobs_in_tasks("write", config, remote, tasks)

    tmp = None
    local_out = None
    try:
        if storage.is_uri(work):
            tmp = tempfile.mkdtemp(prefix="pagesieve-finish-")
            names = [f"shard-{i:06d}.{ext}" for i in range(shards) for ext in ("pages", "spill", "cpu")]
            storage.download(work, names, tmp)
            work = tmp
        target = output
        if remote_output is not None:
            local_out = tempfile.mkdtemp(prefix="pagesieve-output-")
            target = _local_output(local_out, published is not None)
        # The verification tasks read the texts from the shard files where this task
        # reads them, unless those were downloaded here from object storage.
        more = dict(parts=partitions or 1, inline=remote_work is not None)

        def call(**hooks: Any) -> dict:
            # The Parquet copies, converted by their tasks once every file is staged.
            convert = hooks.pop("parquet", None)
            extra = None if convert is None else lambda staging: written.extend(convert(staging))
            return pagesieve.finish(input, target, config, work, shards, *args, extra=extra, **more, **hooks, **kwargs)

        summary = _on_main_thread(call, stages) if stages else call()
        if remote_output is not None:
            _send_output(summary, target, remote_output, published, job)
    except pagesieve.PagesieveError as e:
        return {"error": type(e).__name__, "message": str(e)}
    except OSError as e:
        return {"error": "PagesieveIOError", "message": f"reading the shard files from {work}: {e}"}
    finally:
        for folder in (tmp, local_out):
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
    summary["parquet"] = [os.path.basename(p) for p in written] if summary.get("written") else []
    summary["tasks"] = [_task_name()] + tasks
    return {"ok": summary}


def _local_output(folder: str, has_earlier: bool) -> str:
    """The local output folder phase 2 writes when the output is on object storage. When
    the store already holds an output, the folder gets a placeholder ``report.json`` so
    that a run with no input pages leaves it as the CLI leaves an earlier output (not
    written without ``--force``)."""
    out = os.path.join(folder, "out")
    if has_earlier:
        os.makedirs(out)
        with open(os.path.join(out, "report.json"), "w", encoding="utf-8") as f:
            f.write("{}\n")
    return out


def _send_output(summary: dict, local: str, uri: str, expected: Optional[str], job: Optional[str]) -> None:
    """Phase 2's output, written into the local folder ``local``, published on object
    storage at ``uri`` (:func:`pagesieve.storage.publish`); a held run's output goes to
    ``URI.held`` instead, as the CLI's goes beside its output folder. The local folder's
    name in the summary and in ``report.json`` becomes the URI (without credentials).
    ``job`` (the driver's token for this job) lets a retried phase-2 task find that its
    killed attempt had already published."""
    shown = storage.shown(uri)
    if summary.get("written"):
        generation = os.path.realpath(os.path.join(local, ".pagesieve", "current"))
        report = os.path.join(generation, "report.json")
        with open(report, encoding="utf-8") as f:
            text = f.read()
        with open(report, "w", encoding="utf-8") as f:
            f.write(_renamed(text, local, shown))
        summary["generation"] = storage.publish(generation, uri, expected, job=job)
        summary["output"] = shown
    elif summary.get("held"):
        storage.replace_tree(summary["held"], storage.sibling(uri, ".held"))
        summary["held"] = storage.shown(storage.sibling(uri, ".held"))
    summary["warnings"] = [_renamed(w, local, shown) for w in summary.get("warnings", [])]
    summary["paragraph"] = _renamed(summary.get("paragraph", ""), local, shown)


def _renamed(text: str, local: str, shown: str) -> str:
    """``text`` with the local folder's path (as written plainly and inside JSON strings)
    replaced by ``shown``."""
    import json

    for a, b in ((local, shown), (json.dumps(local)[1:-1], json.dumps(shown)[1:-1])):
        text = text.replace(a, b)
    return text


def _on_main_thread(call: Any, stages: Dict[str, Any]) -> Any:
    """``call(**hooks)`` on a second thread while this (the task's main) thread runs each
    stage it asks for: ``hooks[name](arg)`` hands ``arg`` to ``stages[name]`` here and
    waits for its answer. The partition tasks are waited for here because Ray lends a
    task's CPUs to other tasks only while its main thread waits in ``ray.get``; waiting
    on the thread phase 2 calls back from would hold them, and on a node whose CPUs the
    finish task took, the partition tasks would never start."""
    import queue
    import threading

    asks: "queue.Queue[Any]" = queue.Queue()
    done = object()

    def hook(name: str) -> Any:
        def ask(arg: Any) -> Any:
            answer: "queue.Queue[Any]" = queue.Queue(maxsize=1)
            asks.put((name, arg, answer))
            ok, value = answer.get()
            if not ok:
                raise value
            return value

        return ask

    out: Dict[str, Any] = {}

    def work() -> None:
        try:
            out["value"] = call(**{name: hook(name) for name in stages})
        except BaseException as e:  # re-raised on the task's thread below
            out["error"] = e
        finally:
            asks.put(done)

    t = threading.Thread(target=work, name="pagesieve.finish phase 2")
    t.start()
    while True:
        item = asks.get()
        if item is done:
            break
        name, arg, answer = item
        try:
            answer.put((True, stages[name](arg)))
        except BaseException as e:
            answer.put((False, e))
    t.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


def _search_in_tasks(config: Any, parts: int, remote: Optional[str], names: List[str]) -> Any:
    """The candidate stage as Ray tasks, for :func:`pagesieve.finish`'s ``search``: the
    split of the band tables (``pagesieve.split``), round 1 (``pagesieve.keys[p]``) for
    every partition, then round 2 (``pagesieve.pairs[p]``) given every round-1 file;
    returns the round-2 files, on this node. With the work
    folder on object storage (``remote``, its ``search`` prefix) the files travel
    through it. Called on the finish task's main thread (:func:`_on_main_thread`)."""

    def search(columns: str) -> List[str]:
        import ray

        local = os.path.dirname(columns)
        if remote is not None:
            storage.upload([columns], remote)
        opts = dict(num_cpus=1, max_retries=MAX_RETRIES)
        where = remote if remote is not None else local
        split = ray.get(
            ray.remote(_split_task).options(name="pagesieve.split", **opts).remote(where, config, parts)
        )
        names.append(split["task"])
        tables = split["files"] > 0
        task = ray.remote(_search_task)
        r1 = ray.get(
            [
                task.options(name=f"pagesieve.keys[{p}]", **opts).remote(1, where, config, p, parts, [], tables)
                for p in range(parts)
            ]
        )
        over = [r["file"] for r in r1]
        r2 = ray.get(
            [
                task.options(name=f"pagesieve.pairs[{p}]", **opts).remote(2, where, config, p, parts, over, tables)
                for p in range(parts)
            ]
        )
        names.extend(r["task"] for r in r1 + r2)
        files = [r["file"] for r in r2]
        if remote is not None:
            storage.download(remote, files, local)
            return [os.path.join(local, f) for f in files]
        return files

    return search


def _jobs_in_tasks(stage: str, config: Any, remote: Optional[str], names: List[str]) -> Any:
    """A stage of phase 2 as Ray tasks, one per job file phase 2 writes, each named
    ``pagesieve.<stage>[p]``: ``verify`` (the article search's verification and clusters,
    :func:`pagesieve.search_verify`) or ``write`` (a run of the articles' lines,
    :func:`pagesieve.search_write`). Returns, for :func:`pagesieve.finish`, the function
    that runs the jobs and gives their result files on this node, in job order. With the
    work folder on object storage (``remote``, its ``verify`` or ``write`` prefix) the
    files travel through it (the jobs then carry their records). Called on the finish
    task's main thread (:func:`_on_main_thread`)."""

    def run_jobs(jobs: List[str]) -> List[str]:
        import ray

        local = os.path.dirname(jobs[0]) if jobs else ""
        shared = [os.path.join(local, "related.ids")] if stage == "write" else []
        if remote is not None:
            storage.upload(jobs + shared, remote)
        where = remote if remote is not None else local
        task = ray.remote(_job_task)
        opts = dict(num_cpus=1, max_retries=MAX_RETRIES)
        done = ray.get(
            [
                task.options(name=f"pagesieve.{stage}[{_part_of(j)}]", **opts).remote(
                    stage, where, os.path.basename(j), [os.path.basename(f) for f in shared], config
                )
                for j in jobs
            ]
        )
        names.extend(r["task"] for r in done)
        files = [f for r in done for f in r["files"]]
        if remote is not None:
            storage.download(remote, files, local)
        return [os.path.join(local, r["file"]) for r in done]

    return run_jobs


def _part_of(job: str) -> int:
    """The partition number in a job file's name (``verify-0007.job`` → 7)."""
    return int(os.path.basename(job).split("-")[1].split(".")[0])


def _job_task(stage: str, where: str, job: str, shared: List[str], config: Any) -> Dict[str, Any]:
    """One job of a phase-2 stage, in a Ray task (one CPU): the job file ``job`` (and the
    ``shared`` files it reads beside it) in the folder ``where`` — a path every node sees,
    or an object-store prefix: then they are fetched into a private folder and the
    results uploaded. Returns the result file phase 2 reads first and every file it
    reads."""
    with _local_folder(where, [job] + shared, f"pagesieve-{stage}-") as folder:
        path = os.path.join(folder, job)
        if stage == "verify":
            result = pagesieve.search_verify(path, config, threads=1)
            files = [result]
        else:
            result = pagesieve.search_write(path, threads=1)
            stem = os.path.splitext(result)[0]
            files = [stem + ".kept", stem + ".dropped", result]
        if storage.is_uri(where):
            storage.upload(files, where)
        _fault(f"pagesieve.{stage}[{_part_of(job)}]", os.path.dirname(folder))
    return {"file": os.path.basename(result), "files": [os.path.basename(f) for f in files], "task": _task_name()}


def _fault(task: str, folder: str) -> None:
    """Kills this worker on the first attempt of ``task`` when :data:`FAULT_TASK_ENV` names
    it (tests only); a marker file in ``folder`` says it happened."""
    if task not in os.environ.get(FAULT_TASK_ENV, "").split(","):
        return
    marker = os.path.join(folder if os.path.isdir(folder) else tempfile.gettempdir(), f".fault-{task}")
    if not os.path.exists(marker):
        open(marker, "w").close()
        os.kill(os.getpid(), signal.SIGKILL)


@contextlib.contextmanager
def _local_folder(where: str, names: List[str], prefix: str) -> Iterator[str]:
    """A local folder holding the files ``names`` of the search folder ``where``: the
    folder itself when it is a path every node sees; else a private folder they are
    downloaded into, removed afterwards."""
    if not storage.is_uri(where):
        yield where
        return
    tmp = tempfile.mkdtemp(prefix=prefix)
    try:
        storage.download(where, names, tmp)
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _split_task(where: str, config: Any, parts: int) -> Dict[str, Any]:
    """Splits the search's LSH band tables by partition, in a Ray task (one CPU):
    ``tables-PPPP.keys`` beside the columns file (:func:`pagesieve.search_split`), so each
    partition's rounds read their own share instead of every text's keys."""
    with _local_folder(where, ["search.cols"], "pagesieve-split-") as folder:
        files = pagesieve.search_split(os.path.join(folder, "search.cols"), config, parts)
        if storage.is_uri(where):
            storage.upload(files, where)
    return {"files": len(files), "task": _task_name()}


def _search_task(
    round: int, where: str, config: Any, part: int, parts: int, oversized: List[str], tables: bool
) -> Dict[str, Any]:
    """One partition's round of the candidate search, in a Ray task (one CPU). ``where``
    is the folder of the columns file (a path every node sees, or an object-store
    prefix: then the files are fetched into a private folder and the result uploaded,
    and file names, not paths, go between the rounds); ``tables``: the search was split,
    and the partition's band tables are read from its file."""
    own = [f"tables-{part:04d}.keys"] if tables else []
    names = ["search.cols"] + own + list(oversized)
    with _local_folder(where, names, f"pagesieve-search-{part}-") as folder:
        columns = os.path.join(folder, "search.cols")
        if round == 1:
            path = pagesieve.search_keys(columns, config, part, parts, threads=1)
        else:
            over = [os.path.join(folder, os.path.basename(o)) for o in oversized]
            path = pagesieve.search_pairs(columns, config, part, parts, over, threads=1)
        if storage.is_uri(where):
            storage.upload([path], where)
            path = os.path.basename(path)
    return {"file": path, "task": _task_name()}


def _parquet_in_tasks(names: List[str], work: str) -> Any:
    """The Parquet copies of the staged record files as Ray tasks, for phase 2's last
    step before the commit: one ``pagesieve.parquet[<file>]`` task per record file in
    the staging folder, on this node (the folder is this node's), each writing its
    ``.parquet`` beside the JSONL under a temporary name and renaming it, so a task run
    again writes the same file. Returns the function that converts a staging folder's
    files and gives the Parquet paths, in :data:`PARQUET_FILES` order. Called on the
    finish task's main thread (:func:`_on_main_thread`). Converting in phase 2's own
    worker added Arrow's working memory (~125 MiB at a million pages) to that worker's
    peak and kept it to the task's end. (``work``, the work folder, is where the test
    suite's fault hook leaves its marker.)"""

    def convert(folder: str) -> List[str]:
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
        task = ray.remote(_parquet_task)
        paths = [os.path.join(folder, f) for f in PARQUET_FILES if os.path.exists(os.path.join(folder, f))]
        done = ray.get(
            [
                task.options(
                    name=f"pagesieve.parquet[{os.path.basename(p)[: -len('.jsonl')]}]",
                    num_cpus=1,
                    max_retries=MAX_RETRIES,
                    scheduling_strategy=here,
                    runtime_env=_PARQUET_ENV,
                ).remote(p, work)
                for p in paths
            ]
        )
        names.extend(r["task"] for r in done)
        return [r["file"] for r in done]

    return convert


#: The Parquet tasks' environment: Arrow's jemalloc pool instead of its default
#: (mimalloc) unless the user chose one. With mimalloc a conversion left ~20 MiB more
#: resident at its peak (freed blocks kept for reuse); the variable is read when pyarrow
#: loads, so it is set for the worker process (a runtime environment of its own, which
#: also gives these tasks workers that ran nothing else), not inside the task.
_PARQUET_ENV = {
    "env_vars": {"ARROW_DEFAULT_MEMORY_POOL": os.environ.get("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")}
}


def _parquet_task(path: str, work: str) -> Dict[str, Any]:
    """The Parquet copy of one record file (:func:`pagesieve.parquet.jsonl_to_parquet`),
    in a Ray task (one CPU) on the node whose staging folder holds it. A record the
    schema does not name fails the task with ``ValueError``, which Ray raises in phase 2
    and so stops the commit."""
    written = jsonl_to_parquet(path)
    _fault(f"pagesieve.parquet[{os.path.basename(path)[: -len('.jsonl')]}]", work)
    return {"file": written, "task": _task_name()}


def _raise_or_return(outcome: dict) -> dict:
    if "ok" in outcome:
        return outcome["ok"]
    kind = getattr(_native, outcome["error"], pagesieve.PagesieveError)
    raise kind(outcome["message"])


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m pagesieve.ray",
        description="Run pagesieve on a Ray cluster: the same output as `pagesieve run`.",
    )
    p.add_argument(
        "--input", default="input", help="folder read recursively (shared storage, or a URI: s3://bucket/prefix)"
    )
    p.add_argument(
        "--output",
        default="output",
        help="output folder (shared storage), or a URI: published as a generation and a "
        "pointer object, OUTPUT/.pagesieve/current",
    )
    p.add_argument("--config", help="profile [default: config/default.toml or the built-in one]")
    p.add_argument("--address", help="Ray cluster address (default: RAY_ADDRESS, or a local cluster)")
    p.add_argument("--files-per-shard", type=int, default=1000, help="files per phase-1 task")
    p.add_argument(
        "--partitions",
        type=int,
        help="run the article search's candidate stage, its verification and the articles' lines in N partition tasks each (same output for every N)",
    )
    p.add_argument("--work-dir", help="shard files [default: OUTPUT.shards] (shared storage or a URI)")
    p.add_argument("--keep-work", action="store_true", help="keep the shard files")
    p.add_argument("--no-parquet", action="store_true", help="skip the Parquet record files")
    p.add_argument("--force", action="store_true", help="replace an output even with no input pages")
    p.add_argument("--against", action="append", default=[], help="earlier output or index folder")
    p.add_argument("--index", help="write the dedup index here instead of OUTPUT/index")
    p.add_argument("--max-drop-rate", type=float, help="hold the output above this drop rate")
    p.add_argument("--quiet", action="store_true", help="no summary")
    a = p.parse_args(argv)
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
            partitions=a.partitions,
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
        # The paragraph's clock is the job's (the driver's start to the report).
        print(s["paragraph"])
        sec = s["seconds"]
        shards = f"{s['shards']} shard" + ("" if s["shards"] == 1 else "s")
        print(
            f"Output written to {storage.shown(a.output)} ({shards} on Ray; listing {sec['ray_list']:.1f} s, "
            f"Ray start {sec['ray_start']:.1f} s, scan {sec['ray_scan']:.1f} s, "
            f"finish {sec['finish']:.1f} s; {sec['total']:.1f} s in all)."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
