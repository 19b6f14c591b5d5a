"""The phases as Python functions: same results and messages as the CLI."""

import json
import pickle
import subprocess

import pytest

import pagesieve
from conftest import REPO, run_cli

SAMPLE = REPO / "input"


def test_scan_page_gives_the_record_run_writes(pagesieve_cli, tmp_path):
    out = tmp_path / "out"
    assert run_cli(pagesieve_cli, SAMPLE, out).returncode == 0
    kept = {json.loads(l)["source"]: json.loads(l) for l in open(out / "articles.jsonl", encoding="utf-8")}
    config = pagesieve.load_config(REPO / "config" / "default.toml")
    source, record = sorted(kept.items())[0]
    page = pagesieve.scan_page((SAMPLE / source).read_bytes(), source, config)
    assert page["kind"] == "article"
    got = page["record"]
    # The page's own fields are the run's; cross-page fields (related ids, duplicates,
    # aliases) are decided in phase 2.
    for key in ("id", "text", "source"):
        assert got[key] == record[key]
    for key in ("title", "simhash", "stripped", "trending", "headings", "tags"):
        assert got["metadata"][key] == record["metadata"][key], key
    fp = page["fingerprint"]
    assert fp["simhash"] == record["metadata"]["simhash"]
    assert len(bytes.fromhex(fp["signature"])) == 256
    assert len(page["snippets"]) == len(record["metadata"]["related"])


def test_bad_pages_are_rejects_with_the_run_reason(pagesieve_cli, tmp_path):
    out = tmp_path / "out"
    run_cli(pagesieve_cli, SAMPLE, out)
    rejects = [json.loads(l) for l in open(out / "rejects.jsonl", encoding="utf-8")]
    assert rejects
    config = pagesieve.Config.builtin()
    for r in rejects:
        page = pagesieve.scan_page((SAMPLE / r["source"]).read_bytes(), r["source"], config)
        assert page["kind"] == "reject"
        assert page["reject"]["reason"] == r["reason"]
    junk = pagesieve.scan_page(b"\x00\x01\x02" * 50, "junk.bin", config)
    assert junk["reject"]["reason"] == "binary"
    gz = pagesieve.scan_page(b"\x1f\x8b not gzip", "page.txt.gz", config)
    assert gz["reject"]["reason"] == "undecodable"


def test_config_errors_carry_the_cli_message(pagesieve_cli, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[profile]\nfooter_disclaimer = ['(unclosed']\n", encoding="utf-8")
    with pytest.raises(pagesieve.ConfigError) as e:
        pagesieve.load_config(bad)
    cli = subprocess.run(
        [str(pagesieve_cli), "check-config", str(bad)], capture_output=True, text=True
    )
    assert cli.returncode == 2
    assert str(e.value) in cli.stderr
    assert pagesieve.exit_code(e.value) == 2
    with pytest.raises(pagesieve.UsageError) as e:
        pagesieve.run(tmp_path / "missing", tmp_path / "out")
    assert "does not exist" in str(e.value)


def test_config_travels_to_other_processes():
    c = pagesieve.load_config(REPO / "config" / "default.toml")
    c2 = pickle.loads(pickle.dumps(c))
    assert (c2.name, c2.source, c2.text) == (c.name, c.source, c.text)
    assert json.loads(c2.effective_json()) == json.loads(c.effective_json())


def test_dedup_finds_exact_and_near_copies():
    base = "医保个人账户的钱可以用于支付本人在定点医疗机构发生的门诊费用，也可以在定点药店购药。"
    near = base.replace("门诊费用", "门诊和住院费用")
    other = "生育津贴由单位向社保经办机构申请，材料包括出生医学证明和住院病历等。"
    r = pagesieve.dedup([base, other, near, base])
    got = {(d["member"], d["kept"], d["match"]) for d in r["duplicates"]}
    assert got == {(2, 0, "near"), (3, 0, "exact")}


def test_run_as_a_function_equals_the_cli(pagesieve_cli, tmp_path):
    a, b = tmp_path / "cli", tmp_path / "py"
    run_cli(pagesieve_cli, SAMPLE, a)
    s = pagesieve.run(SAMPLE, b, REPO / "config" / "default.toml")
    assert s["written"]
    for f in ("articles.jsonl", "snippets.jsonl", "dropped.jsonl", "duplicates.jsonl", "rejects.jsonl"):
        assert (a / f).read_bytes() == (b / f).read_bytes(), f


def test_every_entry_point_refuses_what_the_cli_refuses(tmp_path):
    for kwargs, words in (({"threads": 0}, "--threads 0"), ({"max_drop_rate": 5}, "--max-drop-rate 5")):
        with pytest.raises(pagesieve.UsageError, match=words) as e:
            pagesieve.run(SAMPLE, tmp_path / "out", **kwargs)
        assert pagesieve.exit_code(e.value) == 2
        with pytest.raises(pagesieve.UsageError, match=words):
            pagesieve.finish(SAMPLE, tmp_path / "out", None, tmp_path / "work", 0, 0, **kwargs)
    assert not (tmp_path / "out").exists()
    assert pagesieve.exit_code(pagesieve.PagesieveIOError("x")) == 1
    assert pagesieve.ConfigError.exit_code == 2


def test_the_package_exposes_its_api_and_nothing_else():
    public = {n for n in dir(pagesieve) if not n.startswith("_")}
    submodules = {"ray", "parquet", "storage"}
    assert public - submodules <= set(pagesieve.__all__), public - set(pagesieve.__all__)
    for name in pagesieve.__all__:
        assert hasattr(pagesieve, name), name
