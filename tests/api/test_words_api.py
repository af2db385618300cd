"""The statement detail gives every word with its time and Whisper's confidence, and marks the
doubtful ones; the transcript files follow subtitle norms. Over an archive ingested with the
real pipeline and the real model."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
import srt
import webvtt
from fastapi.testclient import TestClient

from api.app import create_app
from archive.catalog import Catalog
from archive.export import DOUBTFUL_BELOW
from tests.conftest import Archive

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(archive: Archive) -> Iterator[TestClient]:
    with TestClient(create_app(archive.settings)) as client:
        yield client


def test_words_carry_probability_and_doubt(client: TestClient, archive: Archive) -> None:
    seen: list[tuple[float, bool]] = []
    with Catalog(archive.settings.catalog_path, readonly=True) as catalog:
        for outcome in archive.outcomes.values():
            sid = outcome.statement.id
            detail = client.get(f"/api/statements/{sid}").json()
            assert detail["transcript_origin"] == "whisper"  # no source captions here
            stored = [w for s in catalog.segments(sid) for w in s.words]
            served = [w for s in detail["segments"] for w in s["words"]]
            assert len(served) == len(stored) > 0
            for word, kept in zip(served, stored, strict=True):
                assert set(word) == {"start", "end", "text", "probability", "doubtful"}
                assert word["text"] == kept.text.strip()
                assert word["probability"] == pytest.approx(kept.probability, abs=1e-9)
                assert 0 <= word["probability"] <= 1
                assert word["doubtful"] == (word["probability"] < DOUBTFUL_BELOW)
                seen.append((word["probability"], word["doubtful"]))
    # Real espeak-ng speech gives the model both: words it is sure of and words it doubts.
    assert any(doubtful for _, doubtful in seen) and not all(doubtful for _, doubtful in seen)


def test_the_schema_describes_the_words(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    word = schemas["WordView"]
    assert {"start", "end", "text", "probability", "doubtful"} <= set(word["required"])
    assert word["properties"]["probability"]["minimum"] == 0
    assert word["properties"]["probability"]["maximum"] == 1
    assert str(DOUBTFUL_BELOW) in word["properties"]["doubtful"]["description"]


def test_served_captions_follow_the_norms(client: TestClient, archive: Archive) -> None:
    for outcome in archive.outcomes.values():
        sid = outcome.statement.id
        vtt = webvtt.from_buffer(
            io.StringIO(client.get(f"/api/statements/{sid}/transcript.vtt").text)
        )
        subtitles = list(srt.parse(client.get(f"/api/statements/{sid}/transcript.srt").text))
        assert len(vtt.captions) == len(subtitles) > 0
        for index, subtitle in enumerate(subtitles):
            lines = subtitle.content.split("\n")
            seconds = (subtitle.end - subtitle.start).total_seconds()
            assert len(lines) <= 2 and all(len(line) <= 42 or " " not in line for line in lines)
            assert 0 < seconds <= 7.0
            if index + 1 < len(subtitles):
                assert subtitle.end <= subtitles[index + 1].start
        text = client.get(f"/api/statements/{sid}/transcript.txt").text
        assert " ".join(text.split()) == " ".join(" ".join(s.content.split()) for s in subtitles)
