"""Real small file systems for the disk-full tests: a tmpfs mounted for the test's life.

Mounting needs root (CAP_SYS_ADMIN). Where the test cannot mount it is skipped with the reason,
except under CI=true: CI runs as root and must run these tests, so there it fails instead.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _cannot(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true, but this test cannot mount a tmpfs: {reason}")
    pytest.skip(f"cannot mount a tmpfs: {reason}")


@contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` ("8m") mounted at `where` (created), unmounted afterwards."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        _cannot(f"not root (uid {os.geteuid()})")
    if shutil.which("mount") is None:
        _cannot("no mount command")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        _cannot(done.stderr.strip() or f"mount exited {done.returncode}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)


def fill(directory: Path, leave: int) -> Path:
    """Write a filler file until at most `leave` bytes are free on the directory's file system."""
    filler = directory / "filler"
    block = b"\0" * (1 << 16)
    with open(filler, "ab") as handle:
        while shutil.disk_usage(directory).free > leave:
            chunk = min(len(block), shutil.disk_usage(directory).free - leave)
            try:
                handle.write(block[: max(chunk, 1)])
                handle.flush()
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
                break
    return filler


def free(directory: Path) -> int:
    return shutil.disk_usage(directory).free
