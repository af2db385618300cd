"""Archives for tests of the `stadtstimme` command that need no model: real catalogs made the way
the pipeline stores statements (tests/archive/seed.py), real `stadtstimme` processes."""

from __future__ import annotations

import errno
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from archive.catalog import Catalog
from archive.models import Status
from archive.search.tantivy import TantivyEngine
from tests.archive.seed import new_statement, spoken, store

COMMAND = [sys.executable, "-m", "ingest"]
LONG_TITLE = (
    "Videobotschaft des Oberbürgermeisters zur Maskenpflicht in Bussen und Bahnen, zur Öffnung "
    "der Kitas und zum Wochenmarkt auf dem Domplatz im Februar"
)


@dataclass(frozen=True)
class Seeded:
    indexed: str  # says "Maskenpflicht", Köln, 2026-02
    failed: str  # failed with the error FAILURE


FAILURE = "cannot decode audio: the file is damaged"


def seed(data_dir: Path) -> Seeded:
    """One indexed statement with a long title, and one failed statement."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with Catalog(data_dir / "catalog.sqlite3") as catalog:
        engine = TantivyEngine(catalog, data_dir / "index")
        indexed = store(
            catalog,
            engine,
            "https://stadt.example/videos/1",
            [spoken(0.0, "Die Maskenpflicht in Bussen und Bahnen gilt weiter")],
            title=LONG_TITLE,
            municipality="Köln",
            published="2026-02",
        )
        failed = new_statement(catalog, "https://stadt.example/videos/2", title="Kaputt")
        catalog.set_status(failed.id, Status.FAILED, FAILURE)
    return Seeded(indexed.id, failed.id)


def environment(data_dir: Path | None, **more: str) -> dict[str, str]:
    """The environment of a user's shell: no terminal width given, offline."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STADTSTIMME_")}
    env.pop("COLUMNS", None)
    env["HF_HUB_OFFLINE"] = "1"
    if data_dir is not None:
        env["STADTSTIMME_DATA_DIR"] = str(data_dir)
    return env | more


def run(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single line a failed command wrote to stderr (asserting there is exactly one)."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


def files_under(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*")} if root.exists() else set()


def _mount_problem(source: Path, mount: Path) -> str | None:
    if os.geteuid() != 0:
        return "not root"
    if shutil.which("mount") is None:
        return "no mount command"
    bind = subprocess.run(["mount", "--bind", str(source), str(mount)], capture_output=True)
    if bind.returncode:
        return f"mount --bind failed: {bind.stderr.decode().strip()}"
    remount = subprocess.run(["mount", "-o", "remount,ro,bind", str(mount)], capture_output=True)
    if remount.returncode:
        subprocess.run(["umount", str(mount)], check=False)
        return f"remount,ro failed: {remount.stderr.decode().strip()}"
    return None


@contextmanager
def read_only_mount(source: Path, mount: Path) -> Iterator[Path]:
    """`source` seen through a real read-only bind mount at `mount` (created), unmounted
    afterwards. The tests run as root; where mounting is not possible the test is skipped,
    saying why, except under CI=true, where it must run."""
    mount.mkdir(parents=True, exist_ok=True)
    problem = _mount_problem(source, mount)
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the read-only tests, but cannot mount: {problem}")
        pytest.skip(f"cannot make a read-only bind mount: {problem}")
    try:
        with pytest.raises(OSError) as refused:
            (mount / "probe").touch()
        assert refused.value.errno == errno.EROFS
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


@contextmanager
def serving(env: dict[str, str], probe: str = "/api/statements") -> Iterator[str]:
    """A real `stadtstimme serve` process on a free port, once `probe` answers 200; yields its
    base URL and checks, when it has been stopped, that it wrote no traceback."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = int(free.getsockname()[1])
    server = subprocess.Popen(
        [*COMMAND, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + probe, timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"stadtstimme serve did not start: {server.communicate()[1]}")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    assert "Traceback" not in stderr, stderr
