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


@pytest.fixture(scope="module")
def s3_endpoint():
    """A local S3-compatible server (moto in server mode, from the package index) on
    127.0.0.1, with test credentials in the environment; yields ``host:port``."""
    pytest.importorskip("moto")
    import socket
    import sys
    import time

    server = Path(sys.executable).with_name("moto_server")
    if not server.exists():
        pytest.skip("moto_server is not installed beside this Python")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    proc = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the S3 test server did not start")
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
