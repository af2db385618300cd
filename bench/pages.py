"""Benchmark: how long does the server take to answer the public pages, and how much does a page
weigh?

- The search page (`/?q=…`) at 100,000 passages: the catalog and tantivy index bench/search.py
  builds and keeps (`--dir`, default /tmp/b1m/search-100000: `python bench/search.py --sizes
  100000 --dir /tmp/b1m --keep`), served read-only through a data directory of symbolic links.
  Queries are chosen as bench/search.py chooses them (its query_sets: counted with the index):
  a common word (in >= 10 % of the passages), a rare word (< 0.1 %), a phrase of two adjacent
  words of a stored passage, and a common word filtered by a municipality.
- The statement page (`/statements/{id}`) of a 30-minute statement: STATEMENT_WORDS words of
  that catalog's passages, 2.5 words a second, in segments of about 12 words, stored in a
  temporary archive as the pipeline stores it (claim, transcript, passages, index), with an
  audio file so that the page has its player and captions track.

Server time: the app (api.app.create_server_app, as `stadtstimme serve` makes it) in this
process, asked through httpx's ASGI transport, one request at a time, after warm-up requests
(the analyser's caches filled from the catalog as a running server has them); the time from
sending the request to the last byte of the body, so it includes routing, the search,
rendering and compression, not a network. Printed: p50, p95, max.
Goal: p95 <= 100 ms.

Page weight: the HTML and every stylesheet, script, image and icon it references (not media and
not the captions track, which the player loads: shown apart), uncompressed and as sent with
`Accept-Encoding: gzip`. Goal: <= 100 KB (KB = 1,000 bytes) as sent.

    python bench/pages.py [--dir /tmp/b1m/search-100000] [--queries 30] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx
from bs4 import BeautifulSoup

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.app import create_server_app
from archive.catalog import Catalog, statement_id_for
from archive.config import Settings
from archive.dates import PartialDate
from archive.indexing import index_statement
from archive.models import Segment, Statement, Status, Transcript, Word
from archive.passages import build_passages
from archive.search import Query
from archive.search.engines import open_engine
from archive.search.tantivy import TantivyEngine
from bench.search import INDEX_FOLDER, query_sets, warm_analyser

KINDS = ("common", "rare", "phrase", "filtered")
STATEMENT_SECONDS = 1800.0
STATEMENT_WORDS = 4500
SEGMENT_WORDS = 12
GOAL_MS = 100.0
GOAL_KB = 100.0
WARM_UP = 5
MEDIA_BYTES = 64 * 1024


def served_settings(folder: Path, scratch: Path) -> Settings:
    """A data directory whose catalog and index are bench/search.py's, linked, not copied."""
    data = scratch / "served"
    data.mkdir()
    (data / "catalog.sqlite3").symlink_to((folder / "catalog.sqlite3").resolve())
    (data / "index").symlink_to((folder / INDEX_FOLDER).resolve())
    return Settings(data_dir=data)


def params_of(query: Query) -> dict[str, str]:
    params = {"q": query.text}
    if query.municipality:
        params["municipality"] = query.municipality
    return params


def search_queries(settings: Settings, count: int, seed: int) -> dict[str, list[dict[str, str]]]:
    with Catalog(settings.catalog_path, readonly=True) as catalog:
        engine = TantivyEngine(catalog, settings.index_dir)
        warm_analyser(catalog, settings.index_dir)
        statements, passages = catalog.db.execute(
            "SELECT count(*), (SELECT count(*) FROM passages) FROM statements WHERE status = ?",
            (str(Status.INDEXED),),
        ).fetchone()
        sets = query_sets(catalog, engine, statements, passages, count, seed)
    return {kind: [params_of(q) for q in sets.queries[kind]] for kind in KINDS}


def long_statement(source: Path, scratch: Path) -> tuple[Settings, str]:
    """A temporary archive holding one 30-minute statement (see the module docstring)."""
    said: list[str] = []
    with Catalog(source, readonly=True) as catalog:
        for (text,) in catalog.db.execute("SELECT text FROM passages ORDER BY rowid"):
            said.extend(text.split())
            if len(said) >= STATEMENT_WORDS:
                break
    said = said[:STATEMENT_WORDS]
    step = STATEMENT_SECONDS / len(said)
    segments = []
    for first in range(0, len(said), SEGMENT_WORDS):
        chunk = said[first : first + SEGMENT_WORDS]
        words = tuple(
            Word(
                round((first + i) * step, 3),
                round((first + i + 0.8) * step, 3),
                " " + word,
                probability=0.3 if (first + i) % 37 == 0 else 0.95,  # some doubtful words
            )
            for i, word in enumerate(chunk)
        )
        segments.append(Segment(words[0].start, words[-1].end, " " + " ".join(chunk), words))
    settings = Settings(data_dir=scratch / "statement")
    settings.prepare()
    origin = "https://stadt.example/rede-zum-haushalt"
    with Catalog(settings.catalog_path) as catalog:
        engine = open_engine(settings, catalog)
        statement = catalog.claim(
            Statement(
                id=statement_id_for(origin),
                origin=origin,
                title="Rede zum Haushalt 2026",
                municipality="Köln",
                speaker="Oberbürgermeisterin",
                published=PartialDate.parse("2026-02-03"),
            )
        )
        passages = build_passages(statement.id, segments)
        transcript = Transcript("de", STATEMENT_SECONDS, tuple(segments))
        catalog.save_transcript(statement.id, transcript, passages, None)
        index_statement(catalog, engine, statement.id)
        (settings.media_dir / "rede.m4a").write_bytes(bytes(MEDIA_BYTES))
        catalog.update(statement.id, media_file="rede.m4a", media_kind="audio")
    return settings, statement.id


@dataclass(frozen=True)
class Timed:
    name: str
    ms: list[float]

    def line(self) -> str:
        ordered = sorted(self.ms)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        verdict = "ok" if p95 <= GOAL_MS else f"over the goal of {GOAL_MS:.0f} ms"
        return (
            f"{self.name:<26} n={len(ordered):>4}  p50 {statistics.median(ordered):6.1f} ms  "
            f"p95 {p95:6.1f} ms  max {ordered[-1]:6.1f} ms  ({verdict})"
        )


async def timed(
    client: httpx.AsyncClient, name: str, path: str, params: Sequence[dict[str, str]], rounds: int
) -> Timed:
    for each in list(params)[:WARM_UP]:
        (await client.get(path, params=each)).raise_for_status()
    ms = []
    for _ in range(rounds):
        for each in params:
            began = time.perf_counter()
            response = await client.get(path, params=each)
            ms.append((time.perf_counter() - began) * 1000)
            response.raise_for_status()
    return Timed(name, ms)


@dataclass(frozen=True)
class Weight:
    name: str
    parts: dict[str, tuple[int, int]]  # url -> (bytes uncompressed, bytes as sent with gzip)
    apart: dict[str, tuple[int, int]]  # loaded by the player: captions

    def lines(self) -> list[str]:
        plain = sum(p for p, _ in self.parts.values())
        sent = sum(s for _, s in self.parts.values())
        verdict = "ok" if sent / 1000 <= GOAL_KB else f"over the goal of {GOAL_KB:.0f} KB"
        out = [
            f"{self.name}: {len(self.parts)} files, {plain / 1000:.1f} KB uncompressed, "
            f"{sent / 1000:.1f} KB sent with gzip ({verdict})"
        ]
        out += [
            f"    {p / 1000:7.1f} KB  {s / 1000:7.1f} KB  {u}" for u, (p, s) in self.parts.items()
        ]
        out += [
            f"    apart: {u}: {p / 1000:.1f} KB, {s / 1000:.1f} KB sent"
            for u, (p, s) in self.apart.items()
        ]
        return out


async def sizes(client: httpx.AsyncClient, url: str) -> tuple[int, int]:
    """Bytes of a response uncompressed, and as sent when gzip is accepted."""
    plain = await client.get(url, headers={"accept-encoding": "identity"})
    plain.raise_for_status()
    async with client.stream("GET", url, headers={"accept-encoding": "gzip"}) as raw:
        sent = sum([len(chunk) async for chunk in raw.aiter_raw()])
    return len(plain.content), sent


async def weight(client: httpx.AsyncClient, name: str, url: str) -> Weight:
    page = await client.get(url)
    page.raise_for_status()
    soup = BeautifulSoup(page.text, "html.parser")
    found = [
        urljoin(url, str(link["href"]))
        for link in soup.select("link[href]")
        if {"stylesheet", "icon"} & set(link.get("rel") or [])
    ]
    found += [urljoin(url, str(tag["src"])) for tag in soup.select("script[src], img[src]")]
    parts = {url: await sizes(client, url)}
    for asset in dict.fromkeys(found):
        parts[asset] = await sizes(client, asset)
    tracks = [urljoin(url, str(t["src"])) for t in soup.select("track[src]")]
    apart = {track: await sizes(client, track) for track in tracks}
    return Weight(name, parts, apart)


async def bench_app(
    settings: Settings,
    work: list[tuple[str, str, list[dict[str, str]]]],
    pages: list[tuple[str, str]],
    rounds: int,
) -> tuple[list[Timed], list[Weight]]:
    app = create_server_app(settings)  # as `stadtstimme serve` makes it
    transport = httpx.ASGITransport(app=app)
    base = "http://127.0.0.1"
    async with httpx.AsyncClient(transport=transport, base_url=base, timeout=60) as client:
        times = [await timed(client, name, path, params, rounds) for name, path, params in work]
        weights = [await weight(client, name, base + path) for name, path in pages]
    app.state.served.close()
    return times, weights


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/b1m/search-100000"))
    parser.add_argument("--queries", type=int, default=30, help="distinct queries per kind")
    parser.add_argument("--rounds", type=int, default=3, help="times each query is asked")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if not (args.dir / "catalog.sqlite3").is_file():
        raise SystemExit(f"no catalog in {args.dir}: make one with bench/search.py --keep")
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as scratch_dir:
        scratch = Path(scratch_dir)
        settings = served_settings(args.dir, scratch)
        queries = search_queries(settings, args.queries, args.seed)
        work = [(f"search page: {kind}", "/", queries[kind]) for kind in KINDS]
        common = queries["common"][1]["q"]
        times, weights = asyncio.run(
            bench_app(
                settings,
                work,
                [("search page (results)", f"/?q={common}"), ("search page (empty)", "/")],
                args.rounds,
            )
        )
        statement_settings, statement_id = long_statement(args.dir / "catalog.sqlite3", scratch)
        path = f"/statements/{statement_id}"
        more_times, more_weights = asyncio.run(
            bench_app(
                statement_settings,
                [
                    ("statement page (30 min)", path, [{}] * 30),
                    ("statement page at ?t=", path, [{"t": "900"}] * 30),
                ],
                [("statement page (30 min)", path)],
                args.rounds,
            )
        )
    print(f"\nserver time, in process (goal p95 <= {GOAL_MS:.0f} ms):")
    for each in [*times, *more_times]:
        print("  " + each.line())
    print(f"\npage weight without media (goal <= {GOAL_KB:.0f} KB):")
    for page in [*weights, *more_weights]:
        print("\n".join("  " + line for line in page.lines()))


if __name__ == "__main__":
    main()
