"""The words an index holds, for did-you-mean and for expanding excluded prefixes.

Each term (archive.analysis) with one spelling of it and the number of indexed passages that
hold it. It is part of the search index, not of the catalog, and is rebuilt with it, so that it
never holds terms an older analyser made or words of a statement taken down. The tantivy engine
reads it from its own index (archive.search.tantivy.IndexVocabulary). The Meilisearch engine,
whose server cannot list terms, and the FTS5 index of catalogs from before tantivy keep it in a
table of the catalog file, `search_vocabulary` (CatalogVocabulary): the engine counts passages
in as it indexes them and out as it removes them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Protocol

from archive.analysis import term, words
from archive.catalog import Catalog


def spelled_terms(text: str) -> dict[str, str]:
    """The terms of a passage's text, each with the spelling it was said in."""
    return {term(word): word for word in words(text)}


class Vocabulary(Protocol):
    def starting_with(self, first: str, limit: int = 50_000) -> list[tuple[str, str, int]]:
        """(term, spelling, passages) of the indexed words whose term starts with `first`."""
        ...

    def passages_with(self, term_: str) -> int:
        """How many indexed passages hold the term."""
        ...


class CatalogVocabulary:
    def __init__(self, catalog: Catalog) -> None:
        self.db = catalog.db

    def add(self, passages: Iterable[dict[str, str]]) -> None:
        """Count in passages, each given as its spelled terms (`spelled_terms`)."""
        counts: Counter[str] = Counter()
        spelling: dict[str, str] = {}
        for found in passages:
            counts.update(found.keys())
            spelling.update(found)
        self.db.executemany(
            "INSERT INTO search_vocabulary (term, word, passages) VALUES (?, ?, ?) "
            "ON CONFLICT(term) DO UPDATE SET passages = passages + excluded.passages, "
            "word = excluded.word",
            [(t, spelling[t], n) for t, n in counts.items()],
        )

    def remove(self, passages: Iterable[Iterable[str]]) -> None:
        """Count out passages, each given as the terms the index held for it."""
        counts: Counter[str] = Counter()
        for found in passages:
            counts.update(set(found))
        self.db.executemany(
            "UPDATE search_vocabulary SET passages = max(0, passages - ?) WHERE term = ?",
            [(n, t) for t, n in counts.items()],
        )

    def clear(self) -> None:
        self.db.execute("DELETE FROM search_vocabulary")

    def starting_with(self, first: str, limit: int = 50_000) -> list[tuple[str, str, int]]:
        """(term, spelling, passages) of the indexed words whose term starts with `first`."""
        rows = self.db.execute(
            "SELECT term, word, passages FROM search_vocabulary "
            "WHERE term >= ? AND term < ? AND passages > 0 LIMIT ?",
            (first, first + "\uffff", limit),
        )
        return [(row[0], row[1], row[2]) for row in rows]

    def passages_with(self, term_: str) -> int:
        row = self.db.execute(
            "SELECT passages FROM search_vocabulary WHERE term = ?", (term_,)
        ).fetchone()
        return int(row[0]) if row else 0
