"""Benchmark: how long from a new item appearing in a watched feed to it being searchable?

A local HTTP server serves an RSS feed with enclosures. `stadtstimme watch --every EVERY` and
`stadtstimme worker` run as real processes on a fresh data directory, with the offline Whisper
base model. Each run adds one item to the feed: a statement of German speech (espeak-ng) that
says a word no earlier item says. The time is taken from the moment the feed file is replaced to
the moment a search for that word (in this process, on the catalog and index the processes
write) finds the statement. Expected: about EVERY / 2 of waiting for the next update, then the
worker's fetch, transcription and indexing.

    python bench/latency.py [--every 10s] [--runs 3]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from email.utils import formatdate
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.catalog import Catalog  # noqa: E402
from archive.config import Settings  # noqa: E402
from archive.search import Query, search  # noqa: E402
from archive.search.engines import open_engine  # noqa: E402
from ingest.model import assemble_offline_model  # noqa: E402
from tests import media  # noqa: E402

# (the word searched for, what is said): words no other item says
ITEMS = [
    ("Feuerwehr", "Die Feuerwehr bekommt ein neues Gerätehaus am Stadtrand."),
    ("Schwimmbad", "Das Schwimmbad öffnet im Sommer wieder für alle Bürger."),
    ("Bibliothek", "Die Bibliothek verlängert ihre Öffnungszeiten am Samstag."),
    ("Spielplatz", "Der Spielplatz im Stadtpark wird im Frühjahr erneuert."),
    ("Radweg", "Der neue Radweg verbindet die Innenstadt mit dem Bahnhof."),
]
TIMEOUT_S = 600.0


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def feed_xml(base: str, items: list[tuple[str, str, float]]) -> str:
    entries = "".join(
        f"<item><title>{escape(title)}</title><guid>{escape(base)}/{name}</guid>"
        f"<pubDate>{formatdate(stamp)}</pubDate>"
        f'<enclosure url="{escape(base)}/{name}" type="audio/mp4" length="1"/></item>'
        for name, title, stamp in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Stadt Musterstadt</title><link>{escape(base)}/</link>"
        f"<description>Video-Botschaften</description>{entries}</channel></rss>"
    )


def write_whole(path: Path, text: str) -> None:
    partial = path.with_suffix(".part")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def found(settings: Settings, word: str) -> bool:
    try:
        with Catalog(settings.catalog_path, readonly=True) as catalog:
            engine = open_engine(settings, catalog)
            return search(catalog, engine, Query(word), None).total > 0
    except Exception:  # noqa: BLE001 - not created yet, or mid-migration: not found yet
        return False


def seconds(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    return float(text[:-1]) * units[text[-1]] if text[-1] in units else float(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", default="10s", help="watch interval (30s, 10m, 1h)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = min(args.runs, len(ITEMS))
    scratch = Path(tempfile.mkdtemp(prefix="latency-"))
    served, data, work = scratch / "served", scratch / "data", scratch / "work"
    for folder in (served, data, work):
        folder.mkdir()
    model = assemble_offline_model(scratch / "models")
    handler = functools.partial(_Quiet, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    feed = served / "feed.xml"
    items: list[tuple[str, str, float]] = []
    write_whole(feed, feed_xml(base, items))
    env = os.environ | {
        "STADTSTIMME_DATA_DIR": str(data),
        "STADTSTIMME_MODEL": str(model),
        "HF_HUB_OFFLINE": "1",
    }
    command = [sys.executable, "-m", "ingest"]
    settings = Settings(data_dir=data, model=str(model))
    subprocess.run([*command, "source", "add", f"{base}/feed.xml"], env=env, check=True)
    processes = [
        subprocess.Popen([*command, "watch", "--every", args.every], env=env),
        subprocess.Popen([*command, "worker"], env=env),
    ]
    latencies = []
    try:
        for number, (word, text) in enumerate(ITEMS[:runs], start=1):
            clip = media.build_speech([("", text)], work, f"item{number}", lead=1.0)
            name = f"item{number}.m4a"
            media.encode(clip, served / name, video=False)
            items.append((name, f"Botschaft {number}: {word}", time.time()))
            write_whole(feed, feed_xml(base, items))
            began = time.monotonic()
            while not found(settings, word):
                if time.monotonic() - began > TIMEOUT_S:
                    raise SystemExit(f"{word!r} not searchable after {TIMEOUT_S:.0f} s")
                time.sleep(0.25)
            latency = time.monotonic() - began
            latencies.append(latency)
            said = f"{clip.duration:.1f} s of speech"
            print(f"item {number} ({said}): searchable after {latency:.1f} s")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
        httpd.shutdown()
        shutil.rmtree(scratch, ignore_errors=True)
    print(
        f"watch --every {args.every}: new feed item to searchable, median "
        f"{statistics.median(latencies):.1f} s, max {max(latencies):.1f} s over {len(latencies)} "
        f"items (expected: about {seconds(args.every) / 2:.0f} s of waiting for the next update, "
        "then fetch, transcription and indexing)"
    )


if __name__ == "__main__":
    main()
