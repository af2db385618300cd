"""Statements as JSON-ready dicts (the API and `--json` share them) and transcripts as WebVTT,
SRT and plain text, for subtitles, for reading, and for whoever archives the archive."""

from __future__ import annotations

from typing import Any, Literal

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
        "suggestion": results.suggestion,
        "corrected": results.corrected,
        "facets": results.facets,
        "trend": results.trend,
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


def timecode(seconds: float | None) -> str:
    """'1:05' or '1:02:05', as people write a moment in a video."""
    whole = int(seconds or 0)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


TranscriptFormat = Literal["vtt", "srt", "txt"]
MEDIA_TYPES: dict[str, str] = {
    "vtt": "text/vtt; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
}


def _clock(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    whole, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{whole:02d}{separator}{millis:03d}"


def _cue_text(text: str) -> str:
    """One line of cue text; WebVTT and SRT end a cue at a blank line and treat '-->' specially."""
    return " ".join(text.split()).replace("-->", "→")


def transcript_text(segments: list[Segment], kind: TranscriptFormat) -> str:
    """The transcript as WebVTT, SRT or plain text (one segment a line)."""
    if kind == "txt":
        return "".join(_cue_text(s.text) + "\n" for s in segments if s.text.strip())
    cues: list[str] = []
    for number, segment in enumerate((s for s in segments if s.text.strip()), start=1):
        if kind == "vtt":
            timing = f"{_clock(segment.start, '.')} --> {_clock(segment.end, '.')}"
            text = _cue_text(segment.text).replace("&", "&amp;").replace("<", "&lt;")
            cues.append(f"{timing}\n{text}\n")
        else:
            timing = f"{_clock(segment.start, ',')} --> {_clock(segment.end, ',')}"
            cues.append(f"{number}\n{timing}\n{_cue_text(segment.text)}\n")
    body = "\n".join(cues)
    return f"WEBVTT\n\n{body}" if kind == "vtt" else body
