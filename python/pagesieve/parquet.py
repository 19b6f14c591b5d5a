"""The record files as Parquet, under one fixed Arrow schema per file.

The schemas follow the record contract (``CONTRACT.md``, and the README's field tables),
not the data: a list of strings is ``list<string>`` even when every row's list is empty, a
field that may be absent (``metadata.url``, ``earlier``, a reject's ``title``) is a
nullable column, and an empty file still has every column. So the Parquet files of any two
runs concatenate (``pyarrow.concat_tables``) and a reader can rely on the types.

A record field that the schema does not name is an error, never a column silently
dropped: a new field in the Rust records must be added here (``python/tests`` runs a job
that fills every optional field and converts it).
"""

from __future__ import annotations

import json
import os
from typing import Dict, Iterator, List, Tuple

__all__ = ["SCHEMAS", "schema", "jsonl_to_parquet"]


def _schemas() -> Dict[str, "object"]:
    import pyarrow as pa

    s, i64, f64, b = pa.string(), pa.int64(), pa.float64(), pa.bool_()
    strings = pa.list_(s)
    earlier = pa.struct(
        [("output", s), ("file", s), ("offset", i64), ("started", s)]
    )
    evidence = [
        ("hamming", i64),
        ("similarity", f64),
        ("hammings", pa.list_(i64)),
        ("proposed_by", strings),
        ("kept_by", s),
        ("earlier", earlier),
    ]
    article_meta = pa.struct(
        [
            ("title", s),
            ("encoding", s),
            ("stripped", strings),
            ("related", strings),
            ("trending", strings),
            ("simhash", s),
            ("duplicates", strings),
            ("aliases", strings),
            ("compression", s),
            ("lossy", b),
            ("replacements", i64),
            ("chars", i64),
            ("headings", strings),
            ("years", pa.list_(i64)),
            ("places", strings),
            ("provinces", strings),
            ("tags", strings),
            ("dates", strings),
            ("list_dates", strings),
            ("links", strings),
            ("url", s),
        ]
    )
    snippet_meta = pa.struct(
        [
            ("title", s),
            ("category", s),
            ("date", s),
            ("truncated", b),
            ("seen_in", strings),
            ("seen_in_rejected", strings),
            ("simhash", s),
            ("duplicates", strings),
            ("aliases", strings),
            ("article", s),
            ("answer", s),
            ("occurrences", i64),
            ("url", s),
        ]
    )
    record = [("id", s), ("text", s), ("source", s)]
    member = pa.struct(
        [("id", s), ("source", s), ("title", s), ("match", s)] + evidence
    )
    return {
        "articles": pa.schema(record + [("metadata", article_meta)]),
        "snippets": pa.schema(record + [("metadata", snippet_meta)]),
        "dropped": pa.schema(
            [
                ("id", s),
                ("kind", s),
                ("source", s),
                ("title", s),
                ("text", s),
                ("duplicate_of", s),
                ("match", s),
            ]
            + evidence
        ),
        "duplicates": pa.schema(
            [
                ("cluster", s),
                ("kind", s),
                ("kept", s),
                ("keep", s),
                ("members", pa.list_(member)),
            ]
        ),
        "rejects": pa.schema(
            [
                ("source", s),
                ("reason", s),
                ("detail", s),
                ("id", s),
                ("title", s),
                ("snippets", i64),
            ]
        ),
    }


#: Record file stem (``articles``, ``snippets``, ``dropped``, ``duplicates``, ``rejects``)
#: to its Arrow schema; built on first use (pyarrow is imported only then).
SCHEMAS: Dict[str, "object"] = {}


def schema(name: str):
    """The fixed Arrow schema of the record file ``name`` (``"articles"`` or
    ``"articles.jsonl"``)."""
    if not SCHEMAS:
        SCHEMAS.update(_schemas())
    stem = os.path.basename(name)
    stem = stem[: -len(".jsonl")] if stem.endswith(".jsonl") else stem
    try:
        return SCHEMAS[stem]
    except KeyError:
        raise ValueError(f"{name}: not a record file ({', '.join(sorted(SCHEMAS))})") from None


#: Whole lines of about this many bytes are parsed and written at a time (one row
#: group). Arrow's streaming JSON reader, used before, read ahead of the writer without
#: bound (333 MB in Arrow's pool for the 354 MB articles.jsonl of 100k site pages).
#: Smaller chunks hold less text but make more row groups, whose state the writer keeps
#: to the end: at 2 MB the 3.5 GB articles.jsonl of 1M pages peaked 56 MiB higher.
CHUNK_BYTES = 8 << 20

#: The parser's block: a record must fit in one (a chunk's block is at least its
#: longest line).
BLOCK_BYTES = 1 << 20


def _chunks(path: str, size: int) -> Iterator[Tuple[memoryview, int]]:
    """The lines of ``path`` in chunks of about ``size`` bytes (whole lines; a longer
    line is a chunk of its own), each with its longest line's length.

    Every chunk is a view of one buffer, read into again for the next chunk (the
    partial line at a chunk's end is moved to the front first): a chunk is valid until
    the next one is asked for. A buffer per chunk held two at once (the consumer's and
    the one being filled), and the allocator kept the freed ones."""
    buf = bytearray(size)
    kept = 0  # bytes of a partial line at the front of buf
    with open(path, "rb") as f:
        while True:
            n = kept + f.readinto(memoryview(buf)[kept:])
            end = buf.rfind(b"\n", 0, n) + 1
            while end == 0 and n == len(buf):
                # No line ends in the buffer: a line longer than a chunk.
                buf.extend(bytes(len(buf)))
                n += f.readinto(memoryview(buf)[n:])
                end = buf.rfind(b"\n", 0, n) + 1
            if end == 0:
                end = n  # the file's last line, without its newline
            if end == 0:
                return
            longest = start = 0
            while start < end:
                stop = buf.find(b"\n", start, end)
                stop = end if stop < 0 else stop + 1
                longest = max(longest, stop - start)
                start = stop
            view = memoryview(buf)[:end]
            yield view, longest
            view.release()
            kept = n - end
            buf[:kept] = buf[end:n]


def _unknown_fields(row: dict, sch, where: str) -> List[str]:
    """Fields of ``row`` (nested structs and lists of structs included) that ``sch``
    does not name."""
    import pyarrow as pa

    out = []
    names = {f.name: f.type for f in sch}
    for k, v in row.items():
        t = names.get(k)
        if t is None:
            out.append(where + k)
        elif isinstance(v, dict) and pa.types.is_struct(t):
            out += _unknown_fields(v, list(t), f"{where}{k}.")
        elif isinstance(v, list) and pa.types.is_list(t) and pa.types.is_struct(t.value_type):
            for x in v:
                out += _unknown_fields(x, list(t.value_type), f"{where}{k}[].")
    return out


#: Leaf columns of free text (a page's or a snippet's whole text): written without
#: statistics and without a dictionary. Their min / max are whole texts, which put
#: ~8 KB a row group into the footer that every reader parses and the writer holds to
#: the end, and a dictionary of texts that rarely repeat is built only to be dropped.
FREE_TEXT = ("text", "metadata.answer")


def _writer_options(sch) -> Dict[str, object]:
    """``pyarrow.parquet.ParquetWriter`` options for the schema ``sch``: statistics and
    dictionary encoding on every leaf column except :data:`FREE_TEXT`."""
    import io

    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(sch.empty_table(), buf)
    buf.seek(0)
    leaves = pq.ParquetFile(buf).schema
    kept = [p for p in (leaves.column(i).path for i in range(len(leaves))) if p not in FREE_TEXT]
    return {"use_dictionary": kept, "write_statistics": kept}


def jsonl_to_parquet(path: str, batch_rows: int = 20_000) -> str:
    """Writes the record file ``path`` (JSONL) as Parquet beside it, under its fixed
    schema, through a temporary name and a rename, ``CHUNK_BYTES`` of lines at a time.
    Returns the Parquet path. Raises ``ValueError`` if a record has a field the schema
    does not name."""
    import pyarrow as pa
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    sch = schema(path)
    out = path[: -len(".jsonl")] + ".parquet"
    tmp = out + ".tmp"
    options = _writer_options(sch)
    if os.path.getsize(path) > 0:
        opts = pj.ParseOptions(explicit_schema=sch, unexpected_field_behavior="error")
        try:
            with pq.ParquetWriter(tmp, sch, **options) as w:
                for chunk, longest in _chunks(path, CHUNK_BYTES):
                    block = max(BLOCK_BYTES, longest + 1)
                    # One thread: a task converts on one CPU, and parsing the blocks
                    # of a chunk side by side held ~40 MiB more (BENCHMARKS.md).
                    table = pj.read_json(
                        pa.BufferReader(chunk),
                        read_options=pj.ReadOptions(block_size=block, use_threads=False),
                        parse_options=opts,
                    )
                    if not table.schema.equals(sch):
                        # Never so far: the explicit schema gives its own columns and
                        # types. A cast loads Arrow's compute kernels (~5 MiB resident).
                        table = table.select(sch.names).cast(sch)
                    w.write_table(table)
                    # Dropped before the next chunk is parsed, not when it replaces this.
                    del table
            os.replace(tmp, out)
            return out
        except pa.ArrowInvalid:
            pass  # converted again below, where a bad record is named with its field

    def batches() -> Iterator[List[dict]]:
        rows: List[dict] = []
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                row = json.loads(line)
                unknown = _unknown_fields(row, sch, "")
                if unknown:
                    raise ValueError(
                        f"{path}:{n}: field(s) {', '.join(unknown)} not in the Parquet "
                        "schema (python/pagesieve/parquet.py)"
                    )
                rows.append(row)
                if len(rows) >= batch_rows:
                    yield rows
                    rows = []
        if rows:
            yield rows

    with pq.ParquetWriter(tmp, sch, **options) as w:
        for b in batches():
            w.write_table(pa.Table.from_pylist(b, schema=sch))
    os.replace(tmp, out)
    return out
