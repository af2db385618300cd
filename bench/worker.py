"""Benchmark: the worker's throughput with the next statement fetched while the current one is
transcribed (prefetch), against the stages run one after another.

A batch of German statements (espeak-ng speech, 2-5 minutes each, AAC audio) is served as an RSS
feed of enclosures by a local HTTP server that sends at most RATE bytes a second. The enclosures
are read from the feed with feedparser and queued; a Worker (the real pipeline and model) runs
the queue once with prefetch and once without, each into a fresh archive. The rate, unless
given, is chosen so that a statement's fetch takes about as long as its transcription: the
first statement is transcribed once (which also warms the model) and rate = its size / that
time.

Figures: statements per hour and audio-hours per hour of both runs; F and T, the total fetch and
transcription (and indexing) times of the sequential run; the speed-up (sequential time over
overlapped time) against its ceiling (F + T) / max(F, T). Goal: >= 80 % of the ceiling.
It prints figures; it is no test.

    .venv/bin/python bench/worker.py [--statements 10] [--seconds 150] [--rate BYTES_PER_S]
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before anything can import huggingface_hub

import argparse
import functools
import http.server
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import feedparser

from archive import jobs
from archive.catalog import Catalog
from archive.config import Settings
from archive.search.engines import open_engine
from ingest.model import assemble_offline_model
from ingest.transcribe import load_model, transcribe
from ingest.worker import Tally, Worker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/ is not installed
from tests import media

SENTENCES = [
    "Liebe Bürgerinnen und Bürger, heute spreche ich über unsere Stadt.",
    "Die Maskenpflicht in der Innenstadt endet am Montag.",
    "Der Wochenmarkt am Bahnhof öffnet wieder für alle.",
    "Die Gastronomie bekommt von der Stadt einen Gutschein.",
    "In den Krankenhäusern danken wir den Pflegekräften.",
    "Die Zahl der Neuinfektionen ist in dieser Woche gesunken.",
    "Der Stadtrat hat den Haushalt für das nächste Jahr beschlossen.",
    "Die Straßenbahn fährt ab Dezember wieder durch die Altstadt.",
    "Für die Kitas stellen wir zwanzig neue Erzieherinnen ein.",
    "Die Bauarbeiten an der Brücke dauern bis zum Sommer.",
    "Im Rathaus gibt es ab sofort Termine auch am Samstag.",
    "Die Feuerwehr bekommt zwei neue Fahrzeuge.",
    "Bitte nutzen Sie die Busse und Bahnen, wo es geht.",
    "Der Weihnachtsmarkt findet in diesem Jahr auf dem Domplatz statt.",
    "Bleiben Sie gesund und passen Sie aufeinander auf.",
]


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """yt-dlp's probe hangs up once it has read what it wanted; that is not an error."""


class Throttled(http.server.SimpleHTTPRequestHandler):
    """Sends files at `rate` bytes a second, in 16 KiB blocks."""

    rate = 1e12

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def copyfile(self, source: Any, outputfile: Any) -> None:
        began, sent = time.monotonic(), 0
        while block := source.read(16 * 1024):
            outputfile.write(block)
            sent += len(block)
            ahead = sent / self.rate - (time.monotonic() - began)
            if ahead > 0:
                time.sleep(ahead)


def make_statements(folder: Path, count: int, seconds: float) -> list[media.Clip]:
    """`count` statements of at least `seconds` of speech each, sentences in a different
    order each time (a fixed seed: the same batch every run)."""
    work = folder / "speech"
    work.mkdir()
    shuffled = random.Random(10)
    clips = []
    for n in range(count):
        sentences: list[tuple[str, str]] = []
        spoken = 0.0
        while spoken < seconds:
            order = SENTENCES[:]
            shuffled.shuffle(order)
            sentences += [("", text) for text in order]
            spoken += 4.5 * len(order)  # espeak-ng speaks a sentence in about 3-4 s, gap 1 s
        speech = media.build_speech(sentences, work, f"s{n}", lead=1.0, gap=1.0)
        clips.append(media.encode(speech, folder / f"statement-{n:02d}.m4a", video=False))
    return clips


def write_feed(folder: Path, base: str, clips: list[media.Clip]) -> None:
    items = "".join(
        f"<item><title>Videobotschaft {n + 1}</title><guid>{base}/{c.path.name}</guid>"
        f'<enclosure url="{escape(base)}/{c.path.name}" type="audio/mp4" '
        f'length="{c.path.stat().st_size}"/></item>'
        for n, c in enumerate(clips)
    )
    (folder / "feed.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Stadt Musterstadt</title><link>{base}/</link>{items}</channel></rss>",
        encoding="utf-8",
    )


def run(settings: Settings, model: Any, urls: list[str], prefetch: bool) -> tuple[float, Tally]:
    settings.prepare()
    with Catalog(settings.catalog_path) as catalog:
        for url in urls:
            jobs.enqueue(catalog, url, options={"language": "de"})
        engine = open_engine(settings, catalog)
        worker = Worker(settings, catalog, engine, model, prefetch=prefetch)
        began = time.monotonic()
        tally = worker.run(once=True)
        return time.monotonic() - began, tally


def total(tally: Tally, stage: str) -> float:
    return sum(e.ended - e.began for e in tally.events if e.stage == stage)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--statements", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=150.0, help="speech per statement")
    parser.add_argument("--rate", type=float, help="bytes a second (default: fetch ~ transcribe)")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench-worker-"))
    served = root / "served"
    served.mkdir()
    clips = make_statements(served, args.statements, args.seconds)
    audio = sum(c.duration for c in clips)
    sizes = [c.path.stat().st_size for c in clips]
    lengths = ", ".join(f"{c.duration:.0f}" for c in clips)
    megabytes = sum(sizes) / 1e6
    print(f"{len(clips)} statements of {lengths} s ({audio / 60:.1f} min), {megabytes:.1f} MB")

    model_dir = assemble_offline_model(root / "models")
    base_settings = Settings(data_dir=root / "warm", model=str(model_dir), keep="audio")
    model = load_model(base_settings)
    began = time.monotonic()
    transcribe(model, clips[0].path, language="de")
    warm = time.monotonic() - began
    rate = args.rate or sizes[0] / warm
    print(
        f"first statement transcribed in {warm:.1f} s ({clips[0].duration / warm:.1f}x real "
        f"time); served at {rate / 1e3:.1f} kB/s" + ("" if args.rate else " (= its size / that)")
    )

    handler_class = type("Handler", (Throttled,), {"rate": rate})
    httpd = Server(("127.0.0.1", 0), functools.partial(handler_class, directory=str(served)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    write_feed(served, base, clips)
    feed = feedparser.parse(f"{base}/feed.xml")
    urls = [link["href"] for entry in feed.entries for link in entry.get("enclosures", [])]
    assert len(urls) == len(clips), feed.bozo_exception if feed.bozo else urls

    figures = {}
    for name, prefetch in (("sequential", False), ("overlapped", True)):
        settings = Settings(data_dir=root / name, model=str(model_dir), keep="audio")
        wall, tally = run(settings, model, urls, prefetch)
        assert tally.done == len(urls), tally
        fetch_s, work_s = total(tally, "fetch"), total(tally, "work")
        figures[name] = (wall, fetch_s, work_s)
        print(
            f"{name:>10}: {wall:7.1f} s, {len(urls) / wall * 3600:6.1f} statements/h, "
            f"{audio / wall:5.2f} audio-h/h (fetch {fetch_s:.1f} s, transcribe+index "
            f"{work_s:.1f} s in all)"
        )
    httpd.shutdown()

    sequential, _, _ = figures["sequential"]
    overlapped = figures["overlapped"][0]
    f, t = figures["sequential"][1], figures["sequential"][2]
    ceiling = (f + t) / max(f, t)
    speedup = sequential / overlapped
    print(f"F = {f:.1f} s, T = {t:.1f} s (sequential run)")
    print(f"ceiling (F + T) / max(F, T) = {ceiling:.2f}")
    print(
        f"speed-up sequential / overlapped = {speedup:.2f} = {speedup / ceiling:.0%} of the "
        f"ceiling (goal >= 80 %)"
    )


if __name__ == "__main__":
    main()
