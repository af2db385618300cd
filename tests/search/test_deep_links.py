"""Deep-link seconds against the word timestamps of media transcribed here by the real model."""

from __future__ import annotations

import math

import pytest

from archive.analysis import term, terms
from archive.catalog import Catalog
from archive.search import Query, search
from archive.search.engines import open_engine
from tests.conftest import Archive

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", ["a.mp4", "b.webm", "c.m4a"])
def test_links_start_one_second_before_the_spoken_word(archive: Archive, name: str) -> None:
    statement_id = archive.outcomes[name].statement.id
    clip = archive.server.clips[name]
    with Catalog(archive.settings.catalog_path) as catalog:
        engine = open_engine(archive.settings, catalog)
        said = [w for s in catalog.segments(statement_id) for w in s.words]
        for keyword, placed in clip.placed.items():
            results = search(catalog, engine, Query(keyword), None)
            hit = next(h for h in results.statements if h.statement.id == statement_id)
            start = next(w.start for w in said if term(keyword) in terms(w.text))
            second = hit.passages[0].second
            assert second == max(0, math.floor(start - 1)), keyword
            assert abs(second + 1 - placed) <= 1.5, f"{keyword}: link {second}, placed {placed}"
            assert hit.passages[0].link == f"/statements/{statement_id}?t={second}"
