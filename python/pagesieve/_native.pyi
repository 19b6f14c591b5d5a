"""Type stubs of pagesieve's native module (python/src/lib.rs)."""

from typing import Callable, List, Optional, Sequence, Tuple

class PagesieveError(Exception):
    """A pagesieve command failed (the CLI's message)."""

    #: The exit code the CLI gives for this error (2 usage/config, 1 I/O).
    exit_code: int

class UsageError(PagesieveError):
    """Wrong arguments or paths (the CLI's exit 2)."""

class ConfigError(PagesieveError):
    """An invalid profile: one line per problem, with key and line (exit 2)."""

class PagesieveIOError(PagesieveError):
    """Reading the input or writing the output failed (exit 1)."""

class Config:
    """A validated, compiled profile."""

    @staticmethod
    def load(path: str) -> "Config": ...
    @staticmethod
    def from_text(text: str, name: str = "profile") -> "Config": ...
    @staticmethod
    def builtin() -> "Config": ...
    @staticmethod
    def lookup(path: Optional[str] = None) -> "Config": ...
    @property
    def text(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def name(self) -> str: ...
    def effective_json(self) -> str: ...
    def warnings(self) -> List[str]: ...

FileEntry = Tuple[str, str, Optional[str]]

def scan_page(data: bytes, source: str, config: Config) -> str: ...
def run(
    input: str,
    output: str,
    config: Config,
    threads: Optional[int] = None,
    force: bool = False,
    against: Sequence[str] = ...,
    index: Optional[str] = None,
    max_drop_rate: Optional[float] = None,
) -> str: ...
def list_files(
    input: str, output: str, config: Config
) -> Tuple[List[FileEntry], int, List[str], List[Tuple[str, str]]]: ...
def scan_shard(
    files: Sequence[FileEntry],
    total_files: int,
    config: Config,
    work_dir: str,
    shard: int,
    input: str,
    threads: Optional[int] = None,
    follow_symlinks: bool = False,
) -> Tuple[int, int, int]: ...
def finish(
    input: str,
    output: str,
    config: Config,
    work_dir: str,
    shards: int,
    pages: int,
    excluded: int,
    problems: Sequence[str],
    skipped: Sequence[Tuple[str, str]] = ...,
    threads: Optional[int] = None,
    force: bool = False,
    against: Sequence[str] = ...,
    index: Optional[str] = None,
    max_drop_rate: Optional[float] = None,
    before: float = 0.0,
    phases: Sequence[Tuple[str, float]] = ...,
    extra: Optional[Callable[[str], None]] = None,
    search: Optional[Callable[[str], Sequence[str]]] = None,
    verify: Optional[Callable[[List[str]], Sequence[str]]] = None,
    parts: int = 1,
    inline: bool = False,
    write: Optional[Callable[[List[str]], Sequence[str]]] = None,
) -> str: ...
def search_split(columns: str, config: Config, parts: int) -> List[str]: ...
def search_keys(
    columns: str, config: Config, part: int, parts: int, threads: Optional[int] = None
) -> str: ...
def search_pairs(
    columns: str,
    config: Config,
    part: int,
    parts: int,
    oversized: Sequence[str],
    threads: Optional[int] = None,
) -> str: ...
def search_verify(job: str, config: Config, threads: Optional[int] = None) -> str: ...
def search_write(plan: str, threads: Optional[int] = None) -> str: ...
def check_settings(
    input: str,
    output: str,
    config: Config,
    threads: Optional[int] = None,
    force: bool = False,
    against: Sequence[str] = ...,
    index: Optional[str] = None,
    max_drop_rate: Optional[float] = None,
) -> None: ...
def dedup(texts: Sequence[str], config: Config) -> str: ...
def synth(out: str, pages: int, seed: int = 1, shape: str = "templated", sample: bool = False) -> int: ...
def version() -> str: ...
