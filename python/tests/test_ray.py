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


def test_a_killed_worker_is_retried_without_lost_or_doubled_records(pagesieve_cli, corpus_5k, tmp_path):
    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        ray.shutdown()
    os.environ[pagesieve_ray.FAULT_ENV] = "3"
    try:
        ray.init(
            num_cpus=2,
            _node_ip_address="127.0.0.1",
            include_dashboard=False,
            log_to_driver=False,
            runtime_env={"env_vars": {pagesieve_ray.FAULT_ENV: "3"}},
        )
        cli_out, ray_out = tmp_path / "cli", tmp_path / "ray"
        run_cli(pagesieve_cli, corpus_5k, cli_out)
        work = tmp_path / "work"
        s = pagesieve_ray.run(
            str(corpus_5k), str(ray_out), files_per_shard=500, work_dir=str(work), keep_work=True
        )
        assert (work / ".fault-3").exists(), "the worker of shard 3 was killed once"
        assert_same_output(cli_out, ray_out)
        r = json.loads((ray_out / "report.json").read_text(encoding="utf-8"))
        f = r["files"]
        assert f["seen"] == 5000 == r["articles"]["kept"] + r["articles"]["dropped_exact"] + r["articles"]["dropped_near"] + f["rejected"]
    finally:
        os.environ.pop(pagesieve_ray.FAULT_ENV, None)
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


@pytest.mark.parametrize("whole_file_bytes", [1 << 30, 0])
def test_parquet_holds_every_record_whichever_path_converts_it(tmp_path, monkeypatch, whole_file_bytes):
    pq = pytest.importorskip("pyarrow.parquet")
    monkeypatch.setattr(pagesieve_ray, "WHOLE_FILE_BYTES", whole_file_bytes)
    rows = [{"id": f"r{i}", "answer": None if i < 30 else f"答案{i}", "metadata": {"n": i}} for i in range(50)]
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    out = pagesieve_ray._jsonl_to_parquet(str(path), batch_rows=20)
    table = pq.read_table(out)
    assert table.column("id").to_pylist() == [r["id"] for r in rows]
    # A field null in the first batches and text later is text, not lost.
    assert table.column("answer").to_pylist() == [r["answer"] for r in rows]
