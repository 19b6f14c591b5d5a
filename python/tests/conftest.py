"""Shared fixtures: the repository, the CLI binary, a local Ray cluster on 127.0.0.1."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def cli() -> Path:
    """The release binary (built by `cargo build --release` if it is not there)."""
    exe = REPO / "target" / "release" / "pagesieve"
    if not exe.exists():
        subprocess.run(["cargo", "build", "--release", "-q"], cwd=REPO, check=True)
    return exe


@pytest.fixture(scope="session")
def pagesieve_cli() -> Path:
    return cli()


@pytest.fixture(scope="module")
def ray_cluster():
    """A local Ray cluster with 2 CPUs on 127.0.0.1, shut down after the module."""
    ray = pytest.importorskip("ray")
    os.environ.pop("RAY_ADDRESS", None)
    ray.init(
        num_cpus=2,
        _node_ip_address="127.0.0.1",
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def corpus_5k(tmp_path_factory) -> Path:
    """5,000 site-shaped synthetic pages with planted duplicates."""
    import pagesieve

    d = tmp_path_factory.mktemp("corpus5k") / "pages"
    pagesieve.synth(d, 5000, seed=5, shape="site")
    return d


def run_cli(exe: Path, input: Path, output: Path, *extra: str) -> subprocess.CompletedProcess:
    if output.exists():
        shutil.rmtree(output)
    return subprocess.run(
        [str(exe), "run", "--quiet", "--input", str(input), "--output", str(output), *extra],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
