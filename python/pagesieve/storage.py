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

__all__ = [
    "is_uri",
    "filesystem",
    "child",
    "sibling",
    "shown",
    "list_input",
    "fetch",
    "upload",
    "download",
    "upload_tree",
    "published",
    "published_uri",
    "publish",
    "replace_tree",
    "POINTER",
    "PUBLISH_STEPS",
]

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


def sibling(uri: str, suffix: str) -> str:
    """The folder beside ``uri`` named after it with ``suffix``, its query kept:
    ``s3://b/out?scheme=http`` → ``s3://b/out.shards?scheme=http``."""
    base, sep, query = uri.partition("?")
    return f"{base.rstrip('/')}{suffix}{sep}{query}"


def shown(uri: str) -> str:
    """``uri`` as it may be written into a report or printed: without the credentials
    and the query (``s3://KEY:SECRET@b/out?scheme=http`` → ``s3://b/out``)."""
    base = uri.partition("?")[0]
    scheme, sep, rest = base.partition("://")
    if not sep:
        return base
    where, slash, path = rest.partition("/")
    return f"{scheme}://{where.rpartition('@')[2]}{slash}{path}"


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


def upload_tree(local_dir: str, uri: str) -> None:
    """Copies the local folder ``local_dir`` with everything in it (subfolders too) into
    the folder ``uri``."""
    import pyarrow.fs as pfs

    fs, root = filesystem(uri)
    fs.create_dir(root, recursive=True)
    pfs.copy_files(local_dir, root, source_filesystem=pfs.LocalFileSystem(), destination_filesystem=fs)


# An output folder on object storage. An object store has no rename and no multi-object
# commit, so the output is published the way the local folder is, with one object in the
# place of the link: every file of a run goes under OUT/.pagesieve/g-NNNNNN-TOKEN/, then
# the pointer OUT/.pagesieve/current (one small object, replaced by one PUT, which a
# reader sees whole or not at all) names it. A reader resolves the pointer once and reads
# that generation (published_uri); a crash before the PUT leaves the old pointer and an
# unpublished generation that the next publish removes.

#: The pointer object of an output on object storage, under the output prefix.
POINTER = ".pagesieve/current"


def _pointer_path(uri: str) -> Tuple[Any, str]:
    fs, root = filesystem(uri)
    return fs, f"{root}/{POINTER}"


def published(uri: str) -> Optional[dict]:
    """The pointer of the output ``uri`` on object storage — ``{"generation": name,
    "previous": name or None, "published": UTC time, "tool": …, "job": …}`` — or ``None`` when
    nothing was published there. Raises :class:`pagesieve.PagesieveIOError` when the
    store cannot be read (credentials, endpoint) or the pointer is not pagesieve's."""
    import json

    import pagesieve

    try:
        fs, path = _pointer_path(uri)
        import pyarrow.fs as pfs

        if fs.get_file_info(path).type == pfs.FileType.NotFound:
            return None
        with fs.open_input_stream(path, compression=None) as f:
            body = f.read()
    except OSError as e:
        raise pagesieve.PagesieveIOError(f"--output {shown(uri)}: cannot read {POINTER}: {e}") from e
    try:
        pointer = json.loads(body.decode("utf-8"))
        if not str(pointer["generation"]).startswith("g-"):
            raise ValueError(pointer["generation"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise pagesieve.PagesieveIOError(
            f"--output {shown(uri)}: {POINTER} is not a pagesieve pointer ({e}); move it away or "
            "choose another --output"
        ) from e
    return pointer


def published_uri(uri: str) -> Optional[str]:
    """The folder of the published generation of the output ``uri`` (its record files,
    report.json, index/…), or ``None``: what a reader of an output on object storage
    resolves once and then reads."""
    pointer = published(uri)
    return None if pointer is None else child(uri, f".pagesieve/{pointer['generation']}")


def _generation_number(name: Optional[str]) -> int:
    try:
        return int(str(name).split("-")[1])
    except (IndexError, ValueError):
        return 0


#: The steps of :func:`publish`, in order, for the fault hook of the tests.
PUBLISH_STEPS = ("upload", "check", "pointer", "clean")


def publish(
    local_generation: str, uri: str, expected: Optional[str], fault: Any = None, job: Optional[str] = None
) -> str:
    """Publishes the local folder ``local_generation`` (a run's staged files) as the next
    generation of the output ``uri`` and returns its name.

    ``expected`` is the generation that was published when the run started (``None``:
    none). The pointer is replaced only if it still names it: a second run that published
    into the same output meanwhile makes this one fail rather than silently replace its
    output (an object store has no lock; the check narrows the race to the instant
    between the check and the PUT, and one writer per output is the rule). After the
    switch every generation but the new one and the one it replaced is removed (a reader
    that resolved the pointer just before the switch can finish reading the previous
    one). ``job`` names the job in the pointer: when the pointer already names this job,
    an earlier attempt of it (a phase-2 task killed after its PUT and run again)
    published, and that generation's name is returned without a second upload.
    ``fault(step)`` is called before each of :data:`PUBLISH_STEPS` (tests)."""
    import json
    import secrets
    import time

    import pagesieve
    import pyarrow.fs as pfs

    step = fault or (lambda _step: None)
    name = f"g-{_generation_number(expected) + 1:06d}-{secrets.token_hex(8)}"
    fs, root = filesystem(uri)
    try:
        now = published(uri)
        if job is not None and (now or {}).get("job") == job:
            return str(now["generation"])  # type: ignore[index]
        step("upload")
        upload_tree(local_generation, child(uri, f".pagesieve/{name}"))
        step("check")
        now = published(uri)
        if (now or {}).get("generation") != expected:
            raise pagesieve.PagesieveIOError(
                f"--output {shown(uri)}: another run published "
                f"{(now or {}).get('generation')} there while this one ran (it started over "
                f"{expected or 'an empty output'}); this run's output was not published"
            )
        step("pointer")
        body = {
            "generation": name,
            "previous": expected,
            "published": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            "tool": f"pagesieve {pagesieve.__version__}",
            "job": job,
        }
        with fs.open_output_stream(f"{root}/{POINTER}") as f:
            f.write((json.dumps(body, indent=2) + "\n").encode("utf-8"))
        step("clean")
        keep = {name, expected}
        listing = fs.get_file_info(pfs.FileSelector(f"{root}/.pagesieve", allow_not_found=True))
        for info in listing:
            base = info.base_name
            if info.type == pfs.FileType.Directory and base.startswith("g-") and base not in keep:
                fs.delete_dir(info.path)
    except OSError as e:
        raise pagesieve.PagesieveIOError(f"--output {shown(uri)}: publishing {name}: {e}") from e
    return name


def replace_tree(local_dir: str, uri: str) -> None:
    """The folder ``uri`` made a copy of ``local_dir`` (what was there removed first):
    where a held run's output goes (``OUT.held``)."""
    fs, root = filesystem(uri)
    fs.delete_dir_contents(root, missing_dir_ok=True)
    upload_tree(local_dir, uri)
