"""The Ray job (`python -m pagesieve.ray`) on a local cluster: the CLI's files, byte for
byte; a killed worker retried without lost or doubled records; every page accounted for."""

import json
import os
import subprocess
import sys

import pytest

import pagesieve
from conftest import REPO, run_cli

pagesieve_ray = pytest.importorskip("pagesieve.ray")

RECORDS = ("articles.jsonl", "snippets.jsonl", "dropped.jsonl", "duplicates.jsonl", "rejects.jsonl")


def stable_report(path):
    """report.json without what differs between any two runs (time, where the index went)."""
    r = json.loads(path.read_text(encoding="utf-8"))
    for k in ("timings_ms", "started"):
        r.pop(k)
    r["index"].pop("written")
    return r


def assert_same_output(cli_out, ray_out):
    for f in RECORDS:
        assert (cli_out / f).read_bytes() == (ray_out / f).read_bytes(), f"{f} differs"
    assert stable_report(cli_out / "report.json") == stable_report(ray_out / "report.json")


@pytest.mark.parametrize("files_per_shard", [1, 7, 1000])
def test_sample_on_ray_equals_the_cli(ray_cluster, pagesieve_cli, tmp_path, files_per_shard):
    cli_out, ray_out = tmp_path / "cli", tmp_path / "ray"
    assert run_cli(pagesieve_cli, REPO / "input", cli_out).returncode == 0
    s = pagesieve_ray.run(str(REPO / "input"), str(ray_out), files_per_shard=files_per_shard)
    assert s["written"]
    assert_same_output(cli_out, ray_out)
    assert not os.path.exists(str(ray_out) + ".shards"), "shard files removed"


def test_html_pages_on_ray_equal_the_cli(ray_cluster, pagesieve_cli, tmp_path):
    """Raw HTML pages (the sample's text pages wrapped in markup) through the shard files:
    the HTML flag, the canonical URL and the snippets' links survive them."""
    import html

    pages = tmp_path / "pages"
    pages.mkdir()
    for f in sorted((REPO / "input").iterdir()):
        if f.name.startswith("."):
            continue
        try:
            lines = [l for l in f.read_text(encoding="utf-8").splitlines() if l.strip()]
        except UnicodeDecodeError:
            continue
        body = "".join(
            f'<p><a href="/r/{i}.html">{html.escape(l)}</a></p>' if i % 3 == 0 else f"<p>{html.escape(l)}</p>"
            for i, l in enumerate(lines)
        )
        (pages / (f.stem + ".html")).write_text(
            '<!DOCTYPE html><html><head><meta charset="utf-8">'
            f'<link rel="canonical" href="https://qa.example.org/{f.stem}.html"><script>var a="<p>x</p>";</script>'
            f"</head><body><nav>首页</nav>{body}<footer>版权</footer></body></html>",
            encoding="utf-8",
        )
    cli_out, ray_out = tmp_path / "cli", tmp_path / "ray"
    assert run_cli(pagesieve_cli, pages, cli_out).returncode == 0
    pagesieve_ray.run(str(pages), str(ray_out), files_per_shard=7)
    assert_same_output(cli_out, ray_out)
    report = json.loads((ray_out / "report.json").read_text(encoding="utf-8"))
    assert report["files"]["html"] > 30
    first = json.loads((ray_out / "articles.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert first["metadata"]["url"].startswith("https://qa.example.org/")


def test_5k_pages_on_ray_equal_the_cli_with_parquet(ray_cluster, pagesieve_cli, corpus_5k, tmp_path):
    pa = pytest.importorskip("pyarrow.parquet")
    cli_out, ray_out = tmp_path / "cli", tmp_path / "ray"
    assert run_cli(pagesieve_cli, corpus_5k, cli_out).returncode == 0
    s = pagesieve_ray.run(str(corpus_5k), str(ray_out), files_per_shard=400)
    assert s["shards"] == 13
    assert_same_output(cli_out, ray_out)
    # The Parquet files hold the same records.
    for f in ("articles", "snippets", "dropped"):
        table = pa.read_table(ray_out / f"{f}.parquet")
        lines = (ray_out / f"{f}.jsonl").read_text(encoding="utf-8").splitlines()
        assert table.num_rows == len(lines)
        if lines:
            assert table.column("id").to_pylist() == [json.loads(l)["id"] for l in lines]


def both_generators(tmp_path):
    """The default profile with both candidate generators and buckets small enough to be
    oversized: every path of the partitioned search is taken."""
    profile = tmp_path / "both.toml"
    profile.write_text(
        (REPO / "config" / "default.toml").read_text(encoding="utf-8")
        + '\n[dedup]\ncandidates = ["lsh", "simhash"]\nmax_bucket = 8\n',
        encoding="utf-8",
    )
    return profile


@pytest.mark.parametrize("partitions", [1, 4, 16])
def test_the_partitioned_search_on_ray_equals_the_cli(ray_cluster, pagesieve_cli, corpus_5k, tmp_path, partitions):
    """The article search's candidate stage, its verification and the articles' lines in
    partition tasks: the CLI's output byte for byte for 1, 4 and 16 partitions, every
    partition's two candidate tasks named, after the task that split the band tables by
    partition, then every partition's verification task, then its writer task."""
    profile = both_generators(tmp_path)
    cli_out, ray_out = tmp_path / "cli", tmp_path / "ray"
    assert run_cli(pagesieve_cli, corpus_5k, cli_out, "--config", str(profile)).returncode == 0
    report = json.loads((cli_out / "report.json").read_text(encoding="utf-8"))
    assert report["dedup"]["articles"]["oversized_buckets"] > 0
    assert report["dedup"]["articles"]["by_generator"]["simhash"] > 0
    s = pagesieve_ray.run(
        str(corpus_5k), str(ray_out), str(profile), files_per_shard=1250, partitions=partitions, parquet=False
    )
    assert_same_output(cli_out, ray_out)
    keys = [f"pagesieve.keys[{p}]" for p in range(partitions)]
    pairs = [f"pagesieve.pairs[{p}]" for p in range(partitions)]
    verify = [f"pagesieve.verify[{p}]" for p in range(partitions)]
    write = [f"pagesieve.write[{p}]" for p in range(partitions)]
    after = ["pagesieve.split"] + keys + pairs + verify + write
    assert s["tasks"][s["tasks"].index("pagesieve.finish") + 1 :] == after
    assert not os.path.exists(str(ray_out) + ".shards"), "the search's files go with the shards"


def test_partitions_are_checked_before_phase_1(ray_cluster, tmp_path):
    for bad in (0, -1, pagesieve_ray.MAX_PARTITIONS + 1):
        with pytest.raises(pagesieve.UsageError, match="--partitions"):
            pagesieve_ray.run(str(REPO / "input"), str(tmp_path / "out"), partitions=bad)
    assert not (tmp_path / "out").exists()
    with pytest.raises(pagesieve.UsageError, match="numbered from 0"):
        pagesieve.search_keys(tmp_path / "search.cols", None, 4, 4)


def test_a_killed_worker_is_retried_without_lost_or_doubled_records(pagesieve_cli, corpus_5k, tmp_path):
    """A scan task killed as it starts, and a verification, a writer and a Parquet task
    killed after their result files are written, each run again by Ray: the CLI's
    output, every page counted once, the Parquet copy whole."""
    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        ray.shutdown()
    killed = "pagesieve.verify[1],pagesieve.write[1],pagesieve.parquet[articles]"
    env = {pagesieve_ray.FAULT_ENV: "3", pagesieve_ray.FAULT_TASK_ENV: killed}
    os.environ.update(env)
    try:
        ray.init(
            num_cpus=2,
            _node_ip_address="127.0.0.1",
            include_dashboard=False,
            log_to_driver=False,
            runtime_env={"env_vars": env},
        )
        cli_out, ray_out = tmp_path / "cli", tmp_path / "ray"
        run_cli(pagesieve_cli, corpus_5k, cli_out)
        work = tmp_path / "work"
        s = pagesieve_ray.run(
            str(corpus_5k), str(ray_out), files_per_shard=500, work_dir=str(work), keep_work=True, partitions=2
        )
        assert (work / ".fault-3").exists(), "the worker of shard 3 was killed once"
        for task in killed.split(","):
            assert (work / f".fault-{task}").exists(), f"the worker of {task} was killed once"
        assert_same_output(cli_out, ray_out)
        pq = pytest.importorskip("pyarrow.parquet")
        lines = (ray_out / "articles.jsonl").read_text(encoding="utf-8").splitlines()
        assert pq.read_table(ray_out / "articles.parquet").num_rows == len(lines)
        assert not [n for n in os.listdir(ray_out / ".pagesieve" / "current") if n.endswith(".tmp")]
        r = json.loads((ray_out / "report.json").read_text(encoding="utf-8"))
        f = r["files"]
        assert f["seen"] == 5000 == r["articles"]["kept"] + r["articles"]["dropped_exact"] + r["articles"]["dropped_near"] + f["rejected"]
    finally:
        for k in env:
            os.environ.pop(k, None)
        ray.shutdown()


def test_every_page_is_accounted_for_including_unreadable_ones(ray_cluster, pagesieve_cli, tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    for p in sorted((REPO / "input").iterdir())[:12]:
        (pages / p.name).write_bytes(p.read_bytes())
    # A dangling symlink cannot be read: an io_error reject, in both runs.
    os.symlink(tmp_path / "nowhere.txt", pages / "zz_dangling.txt")
    (pages / "zz_nul.txt").write_bytes(b"\x00" * 100)
    cli_out, ray_out = tmp_path / "cli", tmp_path / "ray"
    assert run_cli(pagesieve_cli, pages, cli_out).returncode == 0
    pagesieve_ray.run(str(pages), str(ray_out), files_per_shard=5)
    assert_same_output(cli_out, ray_out)
    rejects = {json.loads(l)["source"]: json.loads(l)["reason"] for l in open(ray_out / "rejects.jsonl")}
    assert rejects.get("zz_nul.txt") == "binary"
    assert rejects.get("zz_dangling.txt") == "io_error"
    r = json.loads((ray_out / "report.json").read_text(encoding="utf-8"))
    visible = [n for n in os.listdir(pages) if not n.startswith(".")]
    assert r["files"]["seen"] == len(visible)


def test_the_command_line(ray_cluster, tmp_path):
    out = tmp_path / "out"
    env = dict(os.environ)
    env["RAY_ADDRESS"] = ray_cluster.get_runtime_context().gcs_address
    p = subprocess.run(
        [sys.executable, "-m", "pagesieve.ray", "--input", str(REPO / "input"), "--output", str(out),
         "--files-per-shard", "10", "--no-parquet"],
        cwd=REPO, capture_output=True, text=True, env=env, timeout=600,
    )
    assert p.returncode == 0, p.stderr
    assert "Output written to" in p.stdout
    assert (out / "articles.jsonl").exists() and not (out / "articles.parquet").exists()
    bad = subprocess.run(
        [sys.executable, "-m", "pagesieve.ray", "--input", str(tmp_path / "missing"), "--output", str(out)],
        cwd=REPO, capture_output=True, text=True, env=env, timeout=600,
    )
    assert bad.returncode == 2
    assert "does not exist" in bad.stderr


@pytest.mark.parametrize("arrow", [True, False])
def test_parquet_holds_every_record_whichever_path_converts_it(tmp_path, monkeypatch, arrow):
    """Arrow's JSON parser over chunks of lines (small chunks, and parser blocks smaller
    than a record: many row groups) and the Python batched path give the same table,
    under the fixed schema, with records whose optional fields are null in some rows and
    set in others."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow.json as pj
    from pagesieve import parquet

    monkeypatch.setattr(parquet, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(parquet, "BLOCK_BYTES", 64)
    if not arrow:

        def refuse(*_args, **_kwargs):
            raise pa.ArrowInvalid("made to fail by the test")

        monkeypatch.setattr(pj, "read_json", refuse)
    out = tmp_path / "out"
    assert pagesieve.run(REPO / "input", out)["written"]
    lines = (out / "snippets.jsonl").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "snippets.jsonl"
    path.write_text("\n".join(lines * 3) + "\n", encoding="utf-8")
    written = parquet.jsonl_to_parquet(str(path), batch_rows=7)
    table = pq.read_table(written)
    assert table.schema == parquet.schema("snippets")
    assert pq.ParquetFile(written).num_row_groups > 3, "written a chunk at a time"
    rows = [json.loads(l) for l in lines * 3]
    assert table.column("id").to_pylist() == [r["id"] for r in rows]
    answers = [m["answer"] for m in table.column("metadata").to_pylist()]
    assert answers == [r["metadata"]["answer"] for r in rows]
    assert any(a is None for a in answers) and any(a for a in answers)


def test_parquet_chunks_are_whole_lines_of_one_reused_buffer(tmp_path):
    """The conversion's chunks: whole lines of about the chunk size (a line longer than
    a chunk is a chunk of its own, the file's last line may lack its newline), together
    the file byte for byte, each a view of the same buffer that is no longer readable
    once the next chunk is asked for."""
    from pagesieve import parquet

    lines = [("x" * n).encode() + b"\n" for n in (3, 50, 7, 300, 1, 0, 64, 65, 12)]
    path = tmp_path / "lines.jsonl"
    path.write_bytes(b"".join(lines) + b"no newline")
    got, longest = [], []
    previous = None
    for chunk, long_line in parquet._chunks(str(path), 64):
        if previous is not None:
            with pytest.raises(ValueError):
                bytes(previous)  # released: the buffer now holds the next chunk
        assert chunk.tobytes().endswith(b"\n") or chunk.tobytes().endswith(b"no newline")
        got.append(chunk.tobytes())
        longest.append(long_line)
        previous = chunk
    assert b"".join(got) == path.read_bytes()
    assert any(len(c) > 64 for c in got), "the 301-byte line is a chunk of its own"
    assert longest == [max(len(l) for l in c.splitlines(keepends=True)) for c in got]


def test_parquet_free_text_has_no_statistics_or_dictionary(tmp_path):
    """The texts' columns carry no min / max (whole texts in every row group's footer
    entry) and no dictionary; the other columns keep both."""
    pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    from pagesieve import parquet

    out = tmp_path / "out"
    assert pagesieve.run(REPO / "input", out)["written"]
    for stem in ("articles", "snippets"):
        path = tmp_path / f"{stem}.jsonl"
        path.write_bytes((out / f"{stem}.jsonl").read_bytes())
        meta = pq.ParquetFile(parquet.jsonl_to_parquet(str(path))).metadata
        columns = {meta.row_group(0).column(i).path_in_schema: meta.row_group(0).column(i) for i in range(meta.num_columns)}
        for name, col in columns.items():
            dictionary = any("DICTIONARY" in e for e in col.encodings)
            if name in parquet.FREE_TEXT:
                assert col.statistics is None or not col.statistics.has_min_max, name
                assert not dictionary, name
        assert columns["id"].statistics.has_min_max and columns["id"].statistics.min
        assert any("DICTIONARY" in e for e in columns["source"].encodings)


def test_parquet_tasks_run_under_arrows_jemalloc_pool(ray_cluster):
    """The Parquet tasks' runtime environment gives their workers Arrow's jemalloc pool
    (read when pyarrow loads, so it has to be the worker's environment)."""
    pa = pytest.importorskip("pyarrow")
    import ray

    if not hasattr(pa, "jemalloc_memory_pool"):
        pytest.skip("this pyarrow has no jemalloc pool")

    def pool():
        import pyarrow

        return pyarrow.default_memory_pool().backend_name

    task = ray.remote(pool).options(runtime_env=pagesieve_ray._PARQUET_ENV, num_cpus=1)
    assert ray.get(task.remote()) == os.environ.get("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")


def test_parquet_schema_is_fixed_so_two_runs_concatenate(ray_cluster, tmp_path):
    """A run with rejects, duplicates and HTML pages, and a run with none of them: every
    Parquet file has its schema from the record contract (empty lists are list<string>,
    an empty file keeps every column), so the nights concatenate."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    from pagesieve import parquet

    clean = tmp_path / "clean"
    clean.mkdir()
    first = sorted(p for p in (REPO / "input").iterdir() if p.name.startswith("page_"))[0]
    (clean / first.name).write_bytes(first.read_bytes())
    outs = []
    for name, input in (("sample", REPO / "input"), ("clean", clean)):
        out = tmp_path / f"{name}-out"
        pagesieve_ray.run(str(input), str(out), files_per_shard=9)
        outs.append(out)
    for f in pagesieve_ray.PARQUET_FILES:
        stem = f[: -len(".jsonl")]
        a, b = (pq.read_table(o / f"{stem}.parquet") for o in outs)
        assert a.schema == b.schema == parquet.schema(stem), stem
        both = pa.concat_tables([a, b])
        assert both.num_rows == sum(len((o / f).read_text(encoding="utf-8").splitlines()) for o in outs)
    empty = pq.read_table(outs[1] / "rejects.parquet")
    assert empty.num_rows == 0 and empty.schema.names == ["source", "reason", "detail", "id", "title", "snippets"]
    meta = pq.read_table(outs[1] / "articles.parquet").schema.field("metadata").type
    assert meta.field("aliases").type == pa.list_(pa.string())


def test_a_record_field_outside_the_schema_is_an_error_not_a_lost_column(tmp_path):
    pytest.importorskip("pyarrow")
    from pagesieve import parquet

    out = tmp_path / "out"
    pagesieve.run(REPO / "input", out)
    row = json.loads((out / "articles.jsonl").read_text(encoding="utf-8").splitlines()[0])
    row["metadata"]["new_field"] = 1
    path = tmp_path / "articles.jsonl"
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="metadata.new_field"):
        parquet.jsonl_to_parquet(str(path))


def test_parquet_is_published_with_its_run_and_never_outlives_it(ray_cluster, pagesieve_cli, tmp_path):
    """The Parquet files are part of the generation the commit publishes: links into it
    like the JSONL. A later run without them (the CLI) takes them away with the rest of
    the old generation, so no Parquet of one night sits beside another night's JSONL."""
    out = tmp_path / "out"
    s = pagesieve_ray.run(str(REPO / "input"), str(out), files_per_shard=20)
    assert sorted(s["parquet"]) == sorted(f.replace(".jsonl", ".parquet") for f in pagesieve_ray.PARQUET_FILES)
    for f in s["parquet"]:
        assert os.readlink(out / f) == os.path.join(".pagesieve", "current", f)
    assert run_cli(pagesieve_cli, REPO / "input", tmp_path / "unused").returncode == 0
    p = subprocess.run(
        [str(pagesieve_cli), "run", "--quiet", "--input", str(REPO / "input"), "--output", str(out)],
        cwd=REPO, capture_output=True, text=True,
    )
    assert p.returncode == 0, p.stderr
    assert not any(n.endswith(".parquet") for n in os.listdir(out)), os.listdir(out)


def test_tasks_are_named_and_the_times_are_the_jobs(ray_cluster, tmp_path):
    out = tmp_path / "out"
    s = pagesieve_ray.run(str(REPO / "input"), str(out), files_per_shard=10)
    shards = s["shards"]
    # The Parquet copies are written by a task per record file, after phase 2's own work.
    parquet = [f"pagesieve.parquet[{f[: -len('.jsonl')]}]" for f in pagesieve_ray.PARQUET_FILES]
    assert s["tasks"][:shards] == [f"pagesieve.scan[{i}]" for i in range(shards)]
    assert s["tasks"][shards] == "pagesieve.finish"
    assert s["tasks"][shards + 1 :] == parquet
    sec = s["seconds"]
    assert set(sec) == {"ray_list", "ray_start", "ray_scan", "finish", "total"}
    assert sec["total"] >= sec["ray_scan"] + sec["finish"] - 0.01
    t = json.loads((out / "report.json").read_text(encoding="utf-8"))["timings_ms"]
    # report.json's total is the job's clock up to the report: phase 1 included.
    assert t["total"] >= t["ray_scan"] >= 1
    assert f"in {t['total']} ms" in s["paragraph"]


def test_the_job_checks_its_settings_as_the_cli_does_before_phase_1(ray_cluster, tmp_path):
    out = tmp_path / "out"
    for kwargs, words in (({"max_drop_rate": 5}, "--max-drop-rate 5"), ({"files_per_shard": 0}, "files-per-shard")):
        with pytest.raises(pagesieve.UsageError, match=words) as e:
            pagesieve_ray.run(str(REPO / "input"), str(out), **kwargs)
        assert pagesieve.exit_code(e.value) == 2
    assert not out.exists() and not os.path.exists(str(out) + ".shards")


def test_a_shard_task_refuses_a_file_swapped_for_a_symlink_out_of_the_input(tmp_path):
    """Between the driver's listing and a task's read a file becomes a symlink to a file
    outside the input: the task's open-time check makes it an outside_input reject, as the
    CLI's does."""
    pages = tmp_path / "pages"
    pages.mkdir()
    for p in sorted((REPO / "input").iterdir())[:4]:
        (pages / p.name).write_bytes(p.read_bytes())
    secret = tmp_path / "secret.txt"
    secret.write_text("机密\n不应被读取的内容。\n", encoding="utf-8")
    cfg = pagesieve.load_config()
    files, _, _, _ = pagesieve.list_files(pages, tmp_path / "out", cfg)
    victim = pages / files[0][1]
    victim.unlink()
    os.symlink(secret, victim)
    work = tmp_path / "work"
    pagesieve.scan_shard(files, len(files), cfg, work, 0, pages)
    s = pagesieve.finish(pages, tmp_path / "out", cfg, work, 1, len(files))
    rejects = [json.loads(l) for l in open(tmp_path / "out" / "rejects.jsonl", encoding="utf-8")]
    assert {"source": files[0][1], "reason": "outside_input"}.items() <= next(
        r for r in rejects if r["source"] == files[0][1]
    ).items()
    assert "机密" not in (tmp_path / "out" / "articles.jsonl").read_text(encoding="utf-8")
    assert s["written"]


def test_a_folder_inside_a_uri_keeps_its_query():
    from pagesieve import storage

    assert storage.child("s3://b/work/?scheme=http&x=1", "search") == "s3://b/work/search?scheme=http&x=1"
    assert storage.child("s3://b/work", "search") == "s3://b/work/search"


def test_pages_and_shard_files_on_object_storage_give_the_cli_output(ray_cluster, pagesieve_cli, s3_endpoint, tmp_path):
    """The sample (hidden files, compressed pages, bad files among them) uploaded to a
    local S3 server, read from there with the work folder there too: the records of
    the CLI over the same files on disk, byte for byte. An object over the size limit is
    refused as the CLI refuses the file, without being fetched."""
    import boto3

    s3 = boto3.client("s3", endpoint_url=f"http://{s3_endpoint}")
    s3.create_bucket(Bucket="scrapes")
    pages = tmp_path / "pages"
    pages.mkdir()
    for f in sorted((REPO / "input").iterdir()):
        (pages / f.name).write_bytes(f.read_bytes())
    (pages / "nested").mkdir()
    (pages / "nested" / "big.txt").write_bytes("标题\n".encode() + b"x" * 200_000)
    for f in sorted(pages.rglob("*")):
        if f.is_file():
            s3.put_object(Bucket="scrapes", Key=f"night1/{f.relative_to(pages).as_posix()}", Body=f.read_bytes())
    profile = tmp_path / "small.toml"
    profile.write_text(
        (REPO / "config" / "default.toml").read_text(encoding="utf-8").replace(
            "[input]", "[input]\nmax_file_bytes = 100000", 1
        ),
        encoding="utf-8",
    )
    assert "max_file_bytes = 100000" in profile.read_text(encoding="utf-8")
    cli_out, ray_out = tmp_path / "cli", tmp_path / "ray"
    assert run_cli(pagesieve_cli, pages, cli_out, "--config", str(profile)).returncode == 0
    # The Ray workers started before this test's environment: the credentials travel in
    # the URI (a real cluster's workers have their own, from their environment or role).
    query = f"?endpoint_override={s3_endpoint}&scheme=http&region=us-east-1"
    s = pagesieve_ray.run(
        f"s3://test:test@scrapes/night1{query}", str(ray_out), str(profile),
        files_per_shard=7, work_dir=f"s3://test:test@scrapes/work{query}",
    )
    assert s["written"]
    assert_same_output(cli_out, ray_out)
    # The partitioned search's files travel through the store too.
    s = pagesieve_ray.run(
        f"s3://test:test@scrapes/night1{query}", str(tmp_path / "ray-parts"), str(profile),
        files_per_shard=7, work_dir=f"s3://test:test@scrapes/work{query}", partitions=3,
    )
    assert {"pagesieve.pairs[2]", "pagesieve.verify[0]", "pagesieve.write[2]"} <= set(s["tasks"])
    assert_same_output(cli_out, tmp_path / "ray-parts")
    rejects = {json.loads(l)["source"]: json.loads(l) for l in open(ray_out / "rejects.jsonl", encoding="utf-8")}
    assert rejects["nested/big.txt"]["reason"] == "too_large"
    left = s3.list_objects_v2(Bucket="scrapes", Prefix="work/").get("KeyCount", 0)
    assert left == 0, "the work folder on the store is removed at the end"


def _download_generation(uri, into):
    """The published generation of the output ``uri``, copied into the local folder ``into``."""
    import pyarrow.fs as pfs

    from pagesieve import storage

    gen = storage.published_uri(uri)
    assert gen is not None, "nothing published"
    fs, root = storage.filesystem(gen)
    pfs.copy_files(root, str(into), source_filesystem=fs, destination_filesystem=pfs.LocalFileSystem())
    return into


def _generations(s3, bucket, prefix):
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/.pagesieve/").get("Contents", [])]
    return sorted({k.split("/")[2] for k in keys if k.split("/")[2].startswith("g-")})


def test_an_output_on_object_storage_is_published_whole_and_equals_the_cli(
    ray_cluster, pagesieve_cli, s3_endpoint, tmp_path
):
    """--output s3://…: every file of the run under a generation prefix, then the pointer
    object names it; the files are the CLI's (Parquet beside them); a second night
    keeps the first one's generation (a reader may be in it), a third removes it; a
    night with no pages leaves the output as it was; no credentials or local staging
    paths in what is written."""
    import boto3

    from pagesieve import storage

    s3 = boto3.client("s3", endpoint_url=f"http://{s3_endpoint}")
    s3.create_bucket(Bucket="outs")
    query = f"?endpoint_override={s3_endpoint}&scheme=http&region=us-east-1"
    out = f"s3://test:test@outs/nightly{query}"
    assert storage.published(out) is None
    cli_out = tmp_path / "cli"
    assert run_cli(pagesieve_cli, REPO / "input", cli_out).returncode == 0
    s = pagesieve_ray.run(str(REPO / "input"), out, files_per_shard=7, partitions=2)
    assert s["written"] and s["generation"].startswith("g-000001-")
    assert s["output"] == "s3://outs/nightly"
    first = storage.published(out)
    assert first["generation"] == s["generation"] and first["previous"] is None
    got = _download_generation(out, tmp_path / "got1")
    assert_same_output(cli_out, got)
    assert {p.name for p in got.glob("*.parquet")} == {f.replace(".jsonl", ".parquet") for f in RECORDS}
    assert (got / "index" / "manifest.json").is_file() and (got / "report.html").is_file()
    report = (got / "report.json").read_text(encoding="utf-8")
    assert "test:test" not in report and "pagesieve-output-" not in report
    assert json.loads(report)["index"]["written"] == "s3://outs/nightly/index/manifest.json"
    assert s3.list_objects_v2(Bucket="outs", Prefix="nightly.shards/").get("KeyCount", 0) == 0

    second = pagesieve_ray.run(str(REPO / "input"), out)["generation"]
    assert second.startswith("g-000002-")
    assert storage.published(out)["previous"] == first["generation"]
    assert _generations(s3, "outs", "nightly") == sorted([first["generation"], second])
    third = pagesieve_ray.run(str(REPO / "input"), out)["generation"]
    assert _generations(s3, "outs", "nightly") == sorted([second, third])
    assert_same_output(cli_out, _download_generation(out, tmp_path / "got3"))

    empty = tmp_path / "empty"
    empty.mkdir()
    s = pagesieve_ray.run(str(empty), out)
    assert not s["written"]
    assert any("s3://outs/nightly was left as it was" in w for w in s["warnings"]), s["warnings"]
    assert storage.published(out)["generation"] == third

    # A night held by --max-drop-rate goes beside the output, as the CLI's does.
    s = pagesieve_ray.run(str(REPO / "input"), out, max_drop_rate=0.0)
    assert not s["written"] and s["held"] == "s3://outs/nightly.held"
    held = [o["Key"] for o in s3.list_objects_v2(Bucket="outs", Prefix="nightly.held/")["Contents"]]
    assert "nightly.held/articles.jsonl" in held and "nightly.held/report.json" in held
    assert storage.published(out)["generation"] == third

    with pytest.raises(pagesieve.UsageError, match="--against and --index"):
        pagesieve_ray.run(str(REPO / "input"), out, against=[str(cli_out)])
    # A bucket that is not there: an error naming the place, before any task.
    with pytest.raises(pagesieve.PagesieveIOError, match="s3://nobucket/out.shards"):
        pagesieve_ray.run(str(REPO / "input"), f"s3://test:test@nobucket/out{query}")


def test_publishing_to_object_storage_stopped_at_any_step_leaves_one_whole_output(s3_endpoint, tmp_path):
    """A publish that dies before its pointer is written leaves the previous generation
    published and whole; one that dies after it has published the new one; the next
    publish removes what a dead one left. A pointer moved by another run meanwhile makes
    the publish fail rather than replace that run's output."""
    import boto3

    from pagesieve import storage

    s3 = boto3.client("s3", endpoint_url=f"http://{s3_endpoint}")
    s3.create_bucket(Bucket="crash")
    uri = f"s3://test:test@crash/out?endpoint_override={s3_endpoint}&scheme=http&region=us-east-1"

    def staged(night):
        d = tmp_path / f"night{night}"
        (d / "index").mkdir(parents=True, exist_ok=True)
        (d / "articles.jsonl").write_text(f'{{"night": {night}}}\n', encoding="utf-8")
        (d / "index" / "manifest.json").write_text(f'{{"night": {night}}}\n', encoding="utf-8")
        return str(d)

    def night_of_published():
        gen = storage.published_uri(uri)
        fs, root = storage.filesystem(gen)
        with fs.open_input_stream(f"{root}/articles.jsonl") as f:
            a = json.loads(f.read())["night"]
        with fs.open_input_stream(f"{root}/index/manifest.json") as f:
            assert json.loads(f.read())["night"] == a, "records and index of different nights"
        return a

    current = storage.publish(staged(1), uri, None)
    assert night_of_published() == 1
    for night, stop_at in enumerate(storage.PUBLISH_STEPS, start=2):

        class Killed(Exception):
            pass

        def fault(step, stop_at=stop_at):
            if step == stop_at:
                raise Killed(step)

        with pytest.raises(Killed):
            storage.publish(staged(night), uri, current, fault=fault)
        pointer = storage.published(uri)
        if storage.PUBLISH_STEPS.index(stop_at) <= storage.PUBLISH_STEPS.index("pointer"):
            assert pointer["generation"] == current and night_of_published() == 1
        else:
            assert pointer["previous"] == current and night_of_published() == night
            current = pointer["generation"]
            break
    # The next publish removes the unpublished generations the dead ones left.
    latest = storage.publish(staged(9), uri, current)
    assert night_of_published() == 9
    assert _generations(s3, "crash", "out") == sorted([current, latest])
    # A phase-2 task killed after its PUT and run again finds its job's generation
    # published and does not publish a second one (nor fail on the moved pointer).
    again = storage.publish(staged(11), uri, latest, job="job-1")
    assert storage.publish(staged(11), uri, latest, job="job-1") == again
    assert _generations(s3, "crash", "out") == sorted([latest, again])
    current = latest
    latest = again
    # A run that started over an older pointer does not replace a newer one.
    with pytest.raises(pagesieve.PagesieveIOError, match="another run published"):
        storage.publish(staged(10), uri, current, job="job-2")
    assert night_of_published() == 11


def test_a_uri_is_shown_without_its_credentials():
    from pagesieve import storage

    assert storage.shown("s3://KEY:SECRET@b/out/x?endpoint_override=h:1&scheme=http") == "s3://b/out/x"
    assert storage.shown("gs://b/out") == "gs://b/out"
    assert storage.sibling("s3://b/out/?scheme=http", ".held") == "s3://b/out.held?scheme=http"
