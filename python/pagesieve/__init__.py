"""pagesieve for Python: the pipeline's phases over the same Rust code as the CLI.

The functions here read pages, decide duplicates and write the CLI's output files;
:mod:`pagesieve.ray` runs the whole job on a Ray cluster with them. Errors raise
:class:`PagesieveError` subclasses whose message is the CLI's and whose ``exit_code`` is the
code the CLI would exit with.
"""

from __future__ import annotations

import json as _json
import os as _os
from typing import TYPE_CHECKING as _TYPE_CHECKING

from . import _native
from ._native import (
    Config,
    ConfigError,
    PagesieveError,
    PagesieveIOError,
    UsageError,
)

__all__ = [
    "Config",
    "ConfigError",
    "PagesieveError",
    "PagesieveIOError",
    "UsageError",
    "load_config",
    "scan_page",
    "dedup",
    "run",
    "list_files",
    "scan_shard",
    "finish",
    "search_split",
    "search_keys",
    "search_pairs",
    "search_verify",
    "search_write",
    "synth",
    "exit_code",
    "__version__",
]

__version__: str = _native.version()

if _TYPE_CHECKING:
    from typing import Any, Callable, Iterable, List, Optional, Sequence, Union

    PathLike = Union[str, _os.PathLike[str]]


def exit_code(error: BaseException) -> int:
    """The exit code the CLI gives for ``error`` (each :class:`PagesieveError` carries it
    as ``exit_code``: 2 for usage and configuration errors, 1 for I/O errors); 1 for
    anything else."""
    return int(getattr(error, "exit_code", 1))


def load_config(path: Optional[PathLike] = None) -> Config:
    """The profile at ``path``; without one, ``config/default.toml`` when it exists in the
    current folder, else the profile built into pagesieve (the CLI's lookup, from the
    library)."""
    return Config.lookup(None if path is None else _os.fspath(path))


def _config(config: Union[Config, PathLike, None]) -> Config:
    return config if isinstance(config, Config) else load_config(config)


def scan_page(data: bytes, source: str, config: Union[Config, PathLike, None] = None) -> dict:
    """Reads one page (its bytes; ``source`` is its path relative to the input folder, and a
    ``.gz`` / ``.zst`` name is decompressed) exactly as ``pagesieve run`` does.

    Returns ``{"kind": "article" | "reject", "source", "id", "title", "encoding",
    "compression", "stripped", "snippets": [...], "record": {...}, "fingerprint":
    {"simhash", "simhashes", "exact", "chars", "signature"}}`` for an article, or with
    ``"reject": {"reason", "detail"}`` instead of ``record`` and ``fingerprint``.
    """
    return _json.loads(_native.scan_page(bytes(data), source, _config(config)))


def dedup(texts: Sequence[str], config: Union[Config, PathLike, None] = None) -> dict:
    """Exact and near duplicates among ``texts`` with the run's search and verification
    (``[dedup]`` of the profile). Returns ``{"duplicates": [{"member", "kept", "match",
    "similarity", "hamming", "proposed_by", "kept_by"}, ...], "stats": {...}}``: one entry
    per dropped text, indices into ``texts``."""
    return _json.loads(_native.dedup(list(texts), _config(config)))


def _run_options(threads, force, against, index, max_drop_rate) -> dict:
    """The options `run` and `finish` share, as the native functions take them."""
    return {
        "threads": threads,
        "force": force,
        "against": [_os.fspath(a) for a in against],
        "index": None if index is None else _os.fspath(index),
        "max_drop_rate": max_drop_rate,
    }


def run(
    input: PathLike,
    output: PathLike,
    config: Union[Config, PathLike, None] = None,
    *,
    threads: Optional[int] = None,
    force: bool = False,
    against: Iterable[PathLike] = (),
    index: Optional[PathLike] = None,
    max_drop_rate: Optional[float] = None,
) -> dict:
    """``pagesieve run`` as a function, in this process. Returns ``{"report": ...,
    "written", "held", "warnings", "paragraph"}``."""
    return _json.loads(
        _native.run(
            _os.fspath(input),
            _os.fspath(output),
            _config(config),
            **_run_options(threads, force, against, index, max_drop_rate),
        )
    )


def list_files(
    input: PathLike, output: PathLike, config: Union[Config, PathLike, None] = None
) -> tuple:
    """The input files of a run, sorted as every step orders them: ``(files, excluded,
    problems, skipped)`` with each file ``(path, source, walk_error)`` (``walk_error`` is
    ``"reason: detail"`` when the walk refused the file) and each skipped symlinked folder
    ``(path, why)``."""
    return _native.list_files(_os.fspath(input), _os.fspath(output), _config(config))


def scan_shard(
    files: Sequence[Any],
    total_files: int,
    config: Union[Config, PathLike, None],
    work_dir: PathLike,
    shard: int,
    input: PathLike,
    threads: Optional[int] = None,
    follow_symlinks: bool = False,
) -> tuple:
    """Phase 1 over one contiguous shard of :func:`list_files`'s files of a run of
    ``input``, written to ``work_dir/shard-NNNNNN.*`` (a pure function of the files: a
    retried shard rewrites the same bytes) with the CLI's scan loop. Returns ``(pages,
    articles, snippets)``."""
    files = [tuple(f) for f in files]
    return _native.scan_shard(
        files, total_files, _config(config), _os.fspath(work_dir), shard, _os.fspath(input), threads, follow_symlinks
    )


def finish(
    input: PathLike,
    output: PathLike,
    config: Union[Config, PathLike, None],
    work_dir: PathLike,
    shards: int,
    pages: int,
    excluded: int = 0,
    problems: Sequence[str] = (),
    skipped: Sequence[Any] = (),
    *,
    threads: Optional[int] = None,
    force: bool = False,
    against: Iterable[PathLike] = (),
    index: Optional[PathLike] = None,
    max_drop_rate: Optional[float] = None,
    before: float = 0.0,
    phases: Sequence[Any] = (),
    extra: Optional[Callable[[str], None]] = None,
    search: Optional[Callable[[str], Sequence[str]]] = None,
    verify: Optional[Callable[[List[str]], Sequence[str]]] = None,
    parts: int = 1,
    inline: bool = False,
    write: Optional[Callable[[List[str]], Sequence[str]]] = None,
) -> dict:
    """Phase 2 over shards ``0..shards``: the duplicate decisions, the record files, the
    reports and the dedup index, exactly as ``pagesieve run`` writes them.

    ``before`` is the wall time in seconds the job spent before phase 2 and ``phases``
    its ``(name, seconds)`` parts, so that ``report.json``'s timings are the job's;
    ``extra(staging_folder)`` is called once every file is staged, before the commit:
    what it writes there is published with the output, or not at all.
    ``search(columns_file)``, when given, runs the article search's candidate stage in
    partitions (:mod:`pagesieve.ray`: the ``pagesieve.keys[p]`` and ``pagesieve.pairs[p]``
    tasks, over :func:`search_keys` and :func:`search_pairs`) and returns every
    partition's round-2 file.
    ``verify(job_files)``, when given, runs the article search's verification and
    clusters in up to ``parts`` partitions (the ``pagesieve.verify[p]`` tasks, over
    :func:`search_verify`) and returns each job's outcome file, in order; with
    ``inline`` every record goes in the job files, for tasks that cannot read the
    shard files in ``work_dir``. ``write(plan_files)``, when given, writes the articles'
    lines of ``articles.jsonl`` and ``dropped.jsonl`` in up to ``parts`` runs (the
    ``pagesieve.write[p]`` tasks, over :func:`search_write`) and returns each plan's
    ``.lines`` file, in order."""
    return _json.loads(
        _native.finish(
            _os.fspath(input),
            _os.fspath(output),
            _config(config),
            _os.fspath(work_dir),
            shards,
            pages,
            excluded,
            list(problems),
            [tuple(x) for x in skipped],
            **_run_options(threads, force, against, index, max_drop_rate),
            before=before,
            phases=[(str(n), float(x)) for n, x in phases],
            search=search,
            extra=extra,
            verify=None if verify is None else (lambda jobs: [_os.fspath(p) for p in verify(list(map(str, jobs)))]),
            parts=parts,
            inline=inline,
            write=None if write is None else (lambda plans: [_os.fspath(p) for p in write(list(map(str, plans)))]),
        )
    )



def search_split(columns: PathLike, config: Union[Config, PathLike, None], parts: int) -> List[str]:
    """Splits the LSH band tables of a partitioned candidate search by partition: one
    file a partition beside ``columns`` (``tables-PPPP.keys``), which that partition's
    rounds (:func:`search_keys`, :func:`search_pairs`) read instead of computing every
    text's keys to find their own; returns the files (none without LSH candidates)."""
    return [_os.fspath(p) for p in _native.search_split(_os.fspath(columns), _config(config), parts)]


def search_keys(
    columns: PathLike,
    config: Union[Config, PathLike, None],
    part: int,
    parts: int,
    *,
    threads: Optional[int] = None,
) -> str:
    """Round 1 of partition ``part`` of ``parts`` of the partitioned candidate search:
    the oversized key groups it owns, written beside ``columns``; returns that file."""
    return _os.fspath(
        _native.search_keys(_os.fspath(columns), _config(config), part, parts, threads=threads)
    )


def search_pairs(
    columns: PathLike,
    config: Union[Config, PathLike, None],
    part: int,
    parts: int,
    oversized: Sequence[PathLike],
    *,
    threads: Optional[int] = None,
) -> str:
    """Round 2 of partition ``part``, given every partition's round-1 file: the
    candidate pairs of the key groups it owns and their counts, written beside
    ``columns``; returns that file."""
    return _os.fspath(
        _native.search_pairs(
            _os.fspath(columns),
            _config(config),
            part,
            parts,
            [_os.fspath(o) for o in oversized],
            threads=threads,
        )
    )

def search_verify(job: PathLike, config: Union[Config, PathLike, None], *, threads: Optional[int] = None) -> str:
    """One partition of the article search's verification (``pagesieve.verify[p]``):
    verifies and clusters the components of the job file ``job`` written by
    :func:`finish`, reading each member's text from its shard's spill file or from the
    job, and writes the outcomes beside it; returns that file."""
    return _os.fspath(_native.search_verify(_os.fspath(job), _config(config), threads=threads))


def search_write(plan: PathLike, *, threads: Optional[int] = None) -> str:
    """One run of the articles' lines (``pagesieve.write[p]``): renders the plan file
    ``plan`` written by :func:`finish` — each article's line plan and where its record is
    — into its ``.kept`` and ``.dropped`` parts beside it, then its ``.lines`` list (each
    kept line's page and length); returns the ``.lines`` file."""
    return _os.fspath(_native.search_write(_os.fspath(plan), threads=threads))


def synth(out: PathLike, pages: int, seed: int = 1, shape: str = "templated", sample: bool = False) -> int:
    """Writes a synthetic corpus as ``pagesieve synth`` does; returns the files written."""
    return _native.synth(_os.fspath(out), pages, seed, shape, sample)


# The module's names are its API (__all__); the compiler directive's name is not.
del annotations
