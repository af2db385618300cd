"""Statements and search results as JSON-ready dicts (the API and `--json` share them)."""

from __future__ import annotations

from typing import Any

from archive.models import Segment, Statement
from archive.search import Results, statement_link


def statement_json(statement: Statement, public_url: str | None) -> dict[str, Any]:
    media = f"/media/{statement.id}"
    return {
        "id": statement.id,
        "title": statement.title,
        "published": statement.published,
        "duration": statement.duration,
        "municipality": statement.municipality,
        "speaker": statement.speaker,
        "uploader": statement.uploader,
        "language": statement.language,
        "page_url": statement.page_url,
        "thumbnail": statement.thumbnail,
        "note": statement.note,
        "link": statement_link(statement.id, None, public_url),
        "media": f"{public_url}{media}" if public_url else media,
    }


def segments_json(segments: list[Segment]) -> list[dict[str, Any]]:
    return [
        {
            "start": s.start,
            "end": s.end,
            "text": s.text,
            "words": [{"start": w.start, "end": w.end, "text": w.text.strip()} for w in s.words],
        }
        for s in segments
    ]


def results_json(results: Results, public_url: str | None = None) -> dict[str, Any]:
    return {
        "query": results.query.text,
        "total": results.total,
        "page": results.query.page,
        "per_page": results.query.per_page,
        "pages": results.pages,
        "took_ms": round(results.took_ms, 2),
        "statements": [
            statement_json(hit.statement, public_url)
            | {
                "link": hit.link,
                "passages": [
                    {
                        "start": p.start,
                        "end": p.end,
                        "second": p.second,
                        "snippet": p.snippet,
                        "snippet_html": p.snippet_html,
                        "link": p.link,
                        "source_link": p.source_link,
                    }
                    for p in hit.passages
                ],
            }
            for hit in results.statements
        ],
    }
