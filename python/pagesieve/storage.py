"""Input and work folders on object storage (``s3://…``, ``gs://…``, any URI that
``pyarrow.fs.FileSystem.from_uri`` understands) for the Ray job.

The pages are listed by the driver and selected exactly as the CLI's walk selects a
folder's files (hidden names skipped, the profile's globs, the walk's order:
``_native.select_listing``). A shard task fetches its pages into a private temporary
folder on its node and scans that folder with the CLI's scan loop, so every rule of a
local read holds for them (the size limit, the open-time confinement to that folder,
decompression by content); an object over ``input.max_file_bytes`` is refused from its
first bytes and its size, as the CLI refuses such a file, and is not fetched. A work
folder on object storage holds the shard files: a task uploads them once written
(``.pages`` last), phase 2 downloads them before it loads them.

Credentials and endpoints come from the URI's query (``?endpoint_override=host:port&
scheme=http``) or the environment (``AWS_ACCESS_KEY_ID``, ``AWS_ENDPOINT_URL``…), as
pyarrow reads them.
"""

from __future__ import annotations

import os
from typing import Any, List, Optional, Sequence, Tuple

__all__ = ["is_uri", "filesystem", "child", "list_input", "fetch", "upload", "download"]

#: Bytes read from an oversized object to tell whether it is compressed.
HEAD_BYTES = 16


def is_uri(path: Any) -> bool:
    """Whether ``path`` names a location on a filesystem other than the local one."""
    return "://" in os.fspath(path) if path is not None else False


def filesystem(uri: str) -> Tuple[Any, str]:
    """``(pyarrow filesystem, path inside it)`` for ``uri``, the path without a trailing
    ``/``."""
    import pyarrow.fs as pfs

    fs, root = pfs.FileSystem.from_uri(uri)
    return fs, root.rstrip("/")


def child(uri: str, name: str) -> str:
    """The folder ``name`` inside the folder ``uri``, its query (credentials, endpoint)
    kept: ``s3://b/work?scheme=http`` → ``s3://b/work/search?scheme=http``."""
    base, sep, query = uri.partition("?")
    return f"{base.rstrip('/')}/{name}{sep}{query}"


def list_input(uri: str, config: Any) -> Tuple[List[List[Any]], int]:
    """The input files under ``uri`` as the CLI's walk would take them: ``(files,
    excluded)``, each file ``[path in the store, source, size]``, in the run's order.
    Raises :class:`pagesieve.UsageError` when nothing is there to list."""
    import pyarrow.fs as pfs

    import pagesieve
    from pagesieve import _native

    fs, root = filesystem(uri)
    info = fs.get_file_info(root)
    if info.type != pfs.FileType.Directory:
        raise pagesieve.UsageError(f"input {uri} does not exist or is not a folder (--input)")
    names = []
    for f in fs.get_file_info(pfs.FileSelector(root, recursive=True)):
        if f.type == pfs.FileType.File:
            names.append((f.path[len(root) + 1 :], int(f.size or 0)))
    selected, excluded = _native.select_listing(names, config)
    return [[f"{root}/{source}", source, size] for source, size in selected], excluded


def _safe_name(source: str) -> str:
    """A local file name for a page: its last component (keeping ``.gz`` and the like),
    never a path that could leave the folder it is written into."""
    name = source.rsplit("/", 1)[-1]
    return name if name not in ("", ".", "..") else "page"


def fetch(uri: str, files: Sequence[Sequence[Any]], config: Any, into: str) -> List[Tuple[str, str, Optional[str]]]:
    """Fetches a shard's files (``[path, source, size]`` from :func:`list_input`) into the
    local folder ``into`` (one subfolder a page, so two pages' names never meet) and
    returns them as ``list_files`` gives local files: ``(local path, source,
    walk_error)``. An object that cannot be read, or that is refused before reading,
    carries the reject the CLI would give it instead."""
    from pagesieve import _native

    fs, _ = filesystem(uri)
    out: List[Tuple[str, str, Optional[str]]] = []
    for i, (path, source, size) in enumerate(files):
        local = os.path.join(into, str(i), _safe_name(source))
        os.makedirs(os.path.dirname(local), exist_ok=True)
        try:
            # compression=None: the bytes as stored (pyarrow would otherwise undo a
            # .gz or .zst by the name, and the page would not be counted as compressed).
            with fs.open_input_stream(path, compression=None) as src:
                head = src.read(HEAD_BYTES)
                refused = _native.refused_before_reading(source, head, int(size), config)
                if refused is not None:
                    out.append((local, source, refused))
                    continue
                with open(local, "wb") as dst:
                    dst.write(head)
                    while True:
                        chunk = src.read(1 << 20)
                        if not chunk:
                            break
                        dst.write(chunk)
        except OSError as e:
            out.append((local, source, f"io_error: cannot read {path}: {e}"))
            continue
        out.append((local, source, None))
    return out


def upload(local_files: Sequence[str], uri: str) -> None:
    """Copies local files into the folder ``uri``, in the order given (a file is
    complete in the store when the next one starts)."""
    import pyarrow.fs as pfs

    fs, root = filesystem(uri)
    local = pfs.LocalFileSystem()
    fs.create_dir(root, recursive=True)
    for f in local_files:
        pfs.copy_files(f, f"{root}/{os.path.basename(f)}", source_filesystem=local, destination_filesystem=fs)


def download(uri: str, names: Sequence[str], into: str) -> None:
    """Copies the files ``names`` of the folder ``uri`` into the local folder ``into``."""
    import pyarrow.fs as pfs

    fs, root = filesystem(uri)
    local = pfs.LocalFileSystem()
    os.makedirs(into, exist_ok=True)
    for n in names:
        pfs.copy_files(f"{root}/{n}", os.path.join(into, n), source_filesystem=fs, destination_filesystem=local)
