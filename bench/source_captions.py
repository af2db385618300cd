"""Benchmark: how well do word times spread within a caption cue follow speech?

A source's captions time cues, not words; ingest.source_captions shares each cue's time among
its words. This takes real speech (the clips of a folder with a manifest.tsv, such as
../shared/testdata/german-speech, without the acted `emotional-` takes), lets the real Whisper
model time every word, makes each Whisper segment a cue (its first word's start to its last
word's end, its words as text), spreads the words over the cue in three ways, and prints the
mean and 90th-percentile distance of the spread word boundaries from Whisper's:

- by characters;
- by characters plus one for the pause after each word (what ingest.source_captions does);
- in equal shares.

It prints figures; it is no test.

    python bench/source_captions.py /work/shared/testdata/german-speech
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"

import argparse
import csv
import statistics
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from archive.config import Settings
from archive.models import Word
from ingest.source_captions import spread_words
from ingest.transcribe import load_model, transcribe

Spread = Callable[[Sequence[str], float, float], list[tuple[float, float]]]


def by_characters(words: Sequence[str], start: float, end: float) -> list[tuple[float, float]]:
    return _weighted([len(w) for w in words], start, end)


def by_characters_and_pause(
    words: Sequence[str], start: float, end: float
) -> list[tuple[float, float]]:
    return [(w.start, w.end) for w in spread_words(" ".join(words), start, end)]


def equal(words: Sequence[str], start: float, end: float) -> list[tuple[float, float]]:
    return _weighted([1] * len(words), start, end)


def _weighted(weights: Sequence[int], start: float, end: float) -> list[tuple[float, float]]:
    total, done, spans = sum(weights), 0, []
    for weight in weights:
        begin = start + (end - start) * done / total
        done += weight
        spans.append((begin, start + (end - start) * done / total))
    return spans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    with open(args.folder / "manifest.tsv", encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if "emotional-" not in r["file"]]
    with tempfile.TemporaryDirectory() as data:
        model = load_model(Settings(data_dir=Path(data)))
        spreads: dict[str, Spread] = {
            "characters": by_characters,
            "characters + pause": by_characters_and_pause,
            "equal shares": equal,
        }
        errors: dict[str, list[float]] = {name: [] for name in spreads}
        words_seen = 0
        for row in rows:
            transcript = transcribe(model, args.folder / row["file"], language="de")
            for segment in transcript.segments:
                timed: tuple[Word, ...] = tuple(w for w in segment.words if w.text.strip())
                if len(timed) < 2:
                    continue
                words_seen += len(timed)
                texts = [w.text.strip() for w in timed]
                for name, spread in spreads.items():
                    spans = spread(texts, timed[0].start, timed[-1].end)
                    for word, (start, end) in zip(timed, spans, strict=True):
                        errors[name] += [abs(word.start - start), abs(word.end - end)]
    print(f"{len(rows)} clips, {words_seen} words timed by Whisper")
    print("spread               mean ms   p90 ms")
    for name, values in errors.items():
        p90 = statistics.quantiles(values, n=10)[-1]
        print(f"{name:<20} {1000 * statistics.mean(values):7.0f}  {1000 * p90:7.0f}")


if __name__ == "__main__":
    main()
