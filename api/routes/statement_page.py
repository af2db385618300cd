"""The statement page: the player starting at t, captions, and the interactive transcript.

The transcript is rendered passage by passage (Whisper's segments: a few seconds each, fine
enough to seek to and to mark while spoken). Only words that are highlighted or doubtful get
an element of their own, so that a 30-minute statement stays a lean page.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api import i18n
from api.deps import CatalogDep, SettingsDep, visible_statement
from api.templating import render
from archive.analysis import ParsedQuery, parse_query
from archive.captions import words_of
from archive.corrections import has_corrections
from archive.export import DOUBTFUL_BELOW, timecode
from archive.models import Segment, Statement, Word

router = APIRouter(include_in_schema=False)

YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")
YOUTUBE_HOSTS = frozenset(
    {"youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be", "www.youtube-nocookie.com"}
)
YOUTUBE_PATHS = frozenset({"embed", "shorts", "live", "v"})
_LEADING_SPACE = re.compile(r"^\s*")

# A piece of a passage's text: (how it is marked, text). "" is plain text; otherwise "mark",
# "doubt" or "mark doubt", the element's class.
Piece = tuple[str, str]


@dataclass(frozen=True)
class PassageView:
    start: float
    end: float
    pieces: list[Piece]


@dataclass(frozen=True)
class Original:
    """Where the statement came from: a link (url) or only a description (local file)."""

    url: str | None
    kind: str  # "page", "files" or "local"


def youtube_id(statement: Statement) -> str | None:
    """The YouTube video id of a statement whose original is on YouTube, or None. The id comes
    from page_url and is checked, since it goes into the embed's URL."""
    url = statement.page_url or ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https"):
        return None
    if statement.extractor != "youtube" and host not in YOUTUBE_HOSTS:
        return None
    if host == "youtu.be":
        found = parts.path.strip("/")
    elif parts.path == "/watch":
        found = (parse_qs(parts.query).get("v") or [""])[0]
    else:
        steps = parts.path.strip("/").split("/")
        found = steps[1] if len(steps) == 2 and steps[0] in YOUTUBE_PATHS else ""
    return found if YOUTUBE_ID.fullmatch(found) else None


def original_of(statement: Statement, files_origin: str | None) -> Original:
    """The page the statement was published on, else where the operator says files came from."""
    if statement.page_url and statement.page_url.startswith(("http://", "https://")):
        return Original(statement.page_url, "page")
    if files_origin:
        return Original(files_origin, "files")
    return Original(None, "local")


def pieces_of(words: Sequence[Word], matched: Sequence[bool]) -> list[Piece]:
    """A passage's words as runs of plain text and single marked words (their leading space
    left outside the element)."""
    pieces: list[Piece] = []
    plain: list[str] = []
    for word, hit in zip(words, matched, strict=True):
        kind = " ".join(
            name for name, on in (("mark", hit), ("doubt", word.probability < DOUBTFUL_BELOW)) if on
        )
        if not kind:
            plain.append(word.text)
            continue
        space = _LEADING_SPACE.match(word.text)
        lead = space.group() if space else ""
        plain.append(lead)
        pieces.append(("", "".join(plain)))
        plain = []
        pieces.append((kind, word.text[len(lead) :]))
    if plain:
        pieces.append(("", "".join(plain)))
    return [piece for piece in pieces if piece[1]]


def passages_of(segments: Sequence[Segment], query: ParsedQuery | None) -> list[PassageView]:
    """One passage per segment. A segment without word timings (captions from the source) is
    cut into words as the captions are, with full confidence."""
    passages = []
    for segment in segments:
        words = segment.words or tuple(
            Word(w.start, w.end, " " + w.text, w.probability) for w in words_of([segment])
        )
        if not words:
            continue
        texts = [word.text for word in words]
        matched = query.matched(texts) if query is not None else [False] * len(words)
        passages.append(PassageView(segment.start, segment.end, pieces_of(words, matched)))
    return passages


def report_link(
    request: Request, address: str | None, statement: Statement, second: int
) -> str | None:
    """A mailto link whose subject names the statement and the moment (in the page's
    language), if the operator set an address for reports."""
    if not address:
        return None
    token = i18n.using(i18n.language_of(request))
    try:
        subject = i18n.gettext("Error in the transcript: %(title)s (%(id)s) at %(time)s") % {
            "title": statement.title,
            "id": statement.id,
            "time": timecode(second),
        }
    finally:
        i18n.reset(token)
    return f"mailto:{address}?subject={quote(subject, safe='')}"


@router.get("/statements/{statement_id}")
def statement_page(
    request: Request,
    statement_id: str,
    catalog: CatalogDep,
    settings: SettingsDep,
    t: Annotated[float, Query(ge=0, le=1_000_000)] = 0,
    q: Annotated[str, Query(max_length=1000)] = "",
) -> Response:
    statement = visible_statement(catalog, statement_id)
    query = parse_query(q) if q.strip() else None
    passages = passages_of(catalog.segments(statement.id), query)
    kind = statement.media_kind if statement.media_file else None
    return render(
        request,
        "statement.html",
        {
            "statement": statement,
            "passages": passages,
            "doubtful": any("doubt" in mark for p in passages for mark, _ in p.pieces),
            "corrected": has_corrections(catalog, statement.id),
            "t": int(t),
            "q": q.strip(),
            "media_kind": kind,
            "youtube": youtube_id(statement) if kind is None else None,
            "original": original_of(statement, settings.files_origin),
            "report": report_link(request, settings.report_email, statement, int(t)),
        },
    )
