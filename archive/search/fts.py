"""The embedded engine: SQLite FTS5 in the catalog file itself, consistent with it in every
transaction. Text is analysed in Python (archive.analysis) and FTS5 indexes the resulting terms,
so user text never reaches FTS5's query parser: only quoted terms we made do.
"""

from __future__ import annotations

from collections.abc import Sequence

from archive.analysis import Clause, terms
from archive.catalog import Catalog
from archive.models import Passage, Statement, Status
from archive.search import Query, RankedPassage

_SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS passage_terms USING fts5(
    terms, tokenize = "unicode61 remove_diacritics 0 tokenchars '0123456789'", prefix = '2 3'
)
"""


def _quoted(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _clause_expression(clause: Clause) -> str:
    quoted = _quoted(" ".join(clause.terms))
    return quoted + " *" if clause.prefix else quoted


def match_expression(clauses: Sequence[Clause]) -> str | None:
    """The FTS5 MATCH string for parsed clauses, or None when nothing positive is asked for."""
    positive = [_clause_expression(c) for c in clauses if not c.excluded]
    if not positive:
        return None
    excluded = [_clause_expression(c) for c in clauses if c.excluded]
    expression = " AND ".join(positive)
    if excluded:
        expression = f"({expression}) NOT ({' OR '.join(excluded)})"
    return expression


class FtsEngine:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        exists = catalog.db.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'passage_terms'"
        ).fetchone()
        if not exists:
            with catalog.transaction() as db:
                db.execute(_SCHEMA)

    def index(self, statement: Statement, passages: Sequence[tuple[int, Passage]]) -> None:
        with self.catalog.transaction() as db:
            self.delete(statement.id)
            db.executemany(
                "INSERT INTO passage_terms (rowid, terms) VALUES (?, ?)",
                [(rowid, " ".join(terms(p.text))) for rowid, p in passages],
            )

    def delete(self, statement_id: str) -> None:
        with self.catalog.transaction() as db:
            db.execute(
                "DELETE FROM passage_terms WHERE rowid IN "
                "(SELECT id FROM passages WHERE statement_id = ?)",
                (statement_id,),
            )

    def clear(self) -> None:
        with self.catalog.transaction() as db:
            db.execute("DELETE FROM passage_terms")

    def rank(self, query: Query) -> list[RankedPassage]:
        expression = match_expression(query.parsed.clauses)
        if expression is None:
            return []
        where = ["passage_terms MATCH ?", "s.status = ?"]
        params: list[object] = [expression, str(Status.INDEXED)]
        for column, value in (
            ("municipality", query.municipality),
            ("speaker", query.speaker),
            ("language", query.language),
        ):
            if value:
                where.append(f"s.{column} = ?")
                params.append(value)
        if query.date_from:
            where.append("s.published >= ?")
            params.append(query.date_from)
        if query.date_to:
            where.append("s.published <= ?")
            params.append(query.date_to)
        order = {
            "relevance": "score",
            "newest": "s.published DESC NULLS LAST, score",
            "oldest": "s.published ASC NULLS LAST, score",
        }[query.sort]
        rows = self.catalog.db.execute(
            "SELECT p.id AS rowid, p.statement_id, bm25(passage_terms) AS score "
            "FROM passage_terms JOIN passages p ON p.id = passage_terms.rowid "
            "JOIN statements s ON s.id = p.statement_id "
            f"WHERE {' AND '.join(where)} ORDER BY {order}",
            params,
        )
        return [RankedPassage(row["rowid"], row["statement_id"], row["score"]) for row in rows]
