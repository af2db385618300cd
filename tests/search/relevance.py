"""The German relevance set (relevance.json): seeding it into an engine and scoring an engine on it.

Used by the relevance test and by `bench/relevance.py`, which prints the figures.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.catalog import Catalog, statement_id_for
from archive.dates import PartialDate
from archive.indexing import index_statement
from archive.models import Segment, Statement, Status, Transcript, Word
from archive.passages import build_passages
from archive.search import Engine, Query, search

SET = Path(__file__).with_name("relevance.json")
STEP = 0.5
K = 5


def load() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SET.read_text(encoding="utf-8"))
    return data


def spoken(start: float, text: str) -> Segment:
    words = tuple(
        Word(round(start + i * STEP, 3), round(start + i * STEP + 0.4, 3), " " + word)
        for i, word in enumerate(text.split())
    )
    return Segment(start, words[-1].end, " " + text, words)


def store(
    catalog: Catalog,
    engine: Engine,
    origin: str,
    sentences: Sequence[str],
    status: Status = Status.INDEXED,
    **metadata: Any,
) -> Statement:
    """Store a statement as the pipeline does: claim, transcript, passages, index, status."""
    published = metadata.pop("published", None)
    statement = catalog.claim(
        Statement(
            id=statement_id_for(origin),
            origin=origin,
            published=PartialDate.parse(published) if published else None,
            **metadata,
        )
    )
    segments: list[Segment] = []
    start = 1.0
    for sentence in sentences:
        segments.append(spoken(start, sentence))
        start = segments[-1].end + 1.0
    passages = build_passages(statement.id, segments)
    transcript = Transcript("de", start, tuple(segments))
    catalog.save_transcript(statement.id, transcript, passages, None)
    index_statement(catalog, engine, statement.id)
    if status != Status.INDEXED:
        catalog.set_status(statement.id, status)
    return catalog.get(statement.id)


def query(text: str, filters: Mapping[str, Any], **options: Any) -> Query:
    """A query with the set's filters, its dates given as written (YYYY, YYYY-MM, YYYY-MM-DD)."""
    dates = {k: PartialDate.parse(v) for k, v in filters.items() if k in ("date_from", "date_to")}
    return Query(text, **(dict(filters) | dates), **options)


def seed(catalog: Catalog, engine: Engine) -> dict[str, str]:
    """Store the set's statements; return their ids by key."""
    ids: dict[str, str] = {}
    for entry in load()["statements"]:
        metadata = {k: entry[k] for k in ("title", "municipality", "speaker", "published")}
        statement = store(
            catalog, engine, f"relevance:{entry['key']}", entry["sentences"], **metadata
        )
        ids[entry["key"]] = statement.id
    return ids


@dataclass
class Row:
    query: str
    kind: str
    expected: list[str]
    found: list[str]
    recall: float | None
    precision: float | None
    reciprocal_rank: float | None
    violations: list[str] = field(default_factory=list)
    facets_ok: bool | None = None

    @property
    def ok(self) -> bool:
        complete = (self.recall is None and not self.found) or self.recall == 1.0
        return complete and not self.violations and self.facets_ok is not False


@dataclass
class Report:
    rows: list[Row]

    def mean(self, attribute: str, kind: str | None = None) -> float:
        values = [
            getattr(r, attribute)
            for r in self.rows
            if getattr(r, attribute) is not None and (kind is None or r.kind == kind)
        ]
        return sum(values) / len(values) if values else float("nan")


def _facets(results: Any) -> Mapping[str, Mapping[str, int]]:
    return getattr(results, "facets", None) or {}


def evaluate(catalog: Catalog, engine: Engine, ids: Mapping[str, str]) -> Report:
    keys = {statement_id: key for key, statement_id in ids.items()}
    rows: list[Row] = []
    for entry in load()["queries"]:
        filters = entry.get("filters", {})
        top = search(catalog, engine, query(entry["q"], filters, per_page=K), None)
        everything = search(catalog, engine, query(entry["q"], filters, per_page=100), None)
        found = [keys[hit.statement.id] for hit in top.statements]
        every = {keys[hit.statement.id] for hit in everything.statements}
        expected: list[str] = entry["expect"]
        relevant = [key for key in found if key in expected]
        recall = len(relevant) / len(expected) if expected else None
        precision = (len(relevant) / len(found) if found else 0.0) if expected else None
        rank = next((i for i, key in enumerate(found, start=1) if key in expected), None)
        reciprocal = (1 / rank if rank else 0.0) if expected else None
        facets_ok = None
        if "facets" in entry:
            got = _facets(everything)
            facets_ok = all(
                dict(got.get(name, {})) == want for name, want in entry["facets"].items()
            )
        rows.append(
            Row(
                query=entry["q"],
                kind=entry["kind"],
                expected=expected,
                found=found,
                recall=recall,
                precision=precision,
                reciprocal_rank=reciprocal,
                violations=sorted(every & set(entry.get("must_not", []))),
                facets_ok=facets_ok,
            )
        )
    return Report(rows)


def format_report(report: Report) -> str:
    lines = [f"{'kind':<11} {'queries':>7} {'recall@5':>9} {'prec@5':>7} {'MRR':>6} {'all ok':>7}"]
    kinds = sorted({r.kind for r in report.rows})
    for kind in [*kinds, None]:
        rows = [r for r in report.rows if kind is None or r.kind == kind]
        lines.append(
            f"{kind or 'ALL':<11} {len(rows):>7} {report.mean('recall', kind):>9.3f} "
            f"{report.mean('precision', kind):>7.3f} {report.mean('reciprocal_rank', kind):>6.3f} "
            f"{sum(r.ok for r in rows):>4}/{len(rows)}"
        )
    failures = [r for r in report.rows if not r.ok]
    if failures:
        lines.append("not ok:")
        for row in failures:
            detail = f"expected {row.expected}, found {row.found}"
            if row.violations:
                detail += f", must not find {row.violations}"
            if row.facets_ok is False:
                detail += ", facets differ"
            lines.append(f"  [{row.kind}] {row.query!r}: {detail}")
    return "\n".join(lines)
