"""Assembling the offline Whisper model from its two PyPI wheels: checked, atomic, or not at all."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from archive.errors import ModelUnavailable
from ingest import model
from tests.ingest.mounts import tmpfs


def test_assembled_model_matches_the_known_checksum(model_dir: Path) -> None:
    digest = hashlib.sha256()
    with open(model_dir / "model.bin", "rb") as joined:
        while block := joined.read(1 << 20):
            digest.update(block)
    assert digest.hexdigest() == model.MODEL_SHA256
    for name in model.SIDE_FILES:
        assert (model_dir / name).stat().st_size > 0


def test_assembling_again_reuses_the_model(model_dir: Path) -> None:
    before = (model_dir / "model.bin").stat().st_mtime_ns
    assert model.assemble_offline_model(model_dir.parent) == model_dir
    assert (model_dir / "model.bin").stat().st_mtime_ns == before


def test_parts_that_do_not_join_leave_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "fake-package" / "data"
    fake.mkdir(parents=True)
    (fake / "model.bin.part1").write_bytes(b"not the model")
    (fake / "model.bin.part2").write_bytes(b"either")
    monkeypatch.setattr(model, "_package_data", lambda package: fake)
    models = tmp_path / "models"
    with pytest.raises(ModelUnavailable, match="do not join to the expected file"):
        model.assemble_offline_model(models)
    assert [p.name for p in models.iterdir()] == [".whisper-base.lock"]


def test_missing_wheels_name_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model, "PARTS", (("no_such_package_here", "model.bin.part1"),))
    assert not model.offline_model_installed()
    with pytest.raises(ModelUnavailable, match=r"pip install 'stadtstimme\[model\]'"):
        model.resolve_model("base", tmp_path)


def test_model_setting_may_be_a_directory(model_dir: Path, tmp_path: Path) -> None:
    assert model.resolve_model(str(model_dir), tmp_path) == str(model_dir)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelUnavailable, match=r"has no model\.bin"):
        model.resolve_model(str(empty), tmp_path)


def test_too_little_space_is_said_before_assembling(tmp_path: Path) -> None:
    """On a real 40 MB file system: the error says how much the model needs and how much there
    is, and nothing is left half-written."""
    with tmpfs(tmp_path / "models", "40m") as models:
        with pytest.raises(ModelUnavailable) as caught:
            model.assemble_offline_model(models)
        message = caught.value.message
        assert message.startswith("assembling the offline Whisper model needs 150 MB free in ")
        assert f"in {models}, which has 4" in message  # 40-41 MB, as the file system counts
        assert "\n" not in message
        assert [p.name for p in models.iterdir()] == [".whisper-base.lock"]
