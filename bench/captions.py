"""Benchmark: do the captions a city would publish follow subtitle norms, and do doubtful words
mark the wrong ones?

Every sample statement (samples/*.ogg with its sidecar, as `make demo` ingests them) and every
clip of the given folders (each with a manifest.tsv, such as ../shared/testdata/german-speech)
goes through the real ingest pipeline with the real Whisper model into one temporary archive.
The transcript is then read back from the catalog and cut into cues by archive.captions, the
cues the API's transcript.vtt and transcript.srt serve. It prints, per statement and in total:

- longest cue (s), longest line (characters), highest characters per second, shortest cue (s);
- how many cues break each norm (more than 2 lines, a line over 42 characters, over 7 s, under
  1 s, over 17 characters a second, across a pause over 1.5 s, overlapping the next), and of
  those how many are the documented exceptions (a single word longer than a line; a cue held
  until the next starts, so that only shortening the text could slow it down);
- the same figures for Whisper's own segments, the captions before issue 8, for comparison;
- for the clips with a reference text: at several thresholds, how many words fall below it,
  the share of those that are wrong (not an exact match after normalising, by jiwer's
  alignment), and the share of all wrong words they catch; the API marks words below
  archive.export.DOUBTFUL_BELOW as doubtful.

It prints figures; it is no test.

    python bench/captions.py /work/shared/testdata/german-speech [--samples samples]
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before anything can import huggingface_hub

import argparse
import csv
import itertools
import json
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jiwer

from archive.captions import (
    MAX_CPS,
    MAX_LINE_CHARS,
    MAX_LINES,
    MAX_PAUSE,
    MAX_SECONDS,
    MIN_SECONDS,
    Cue,
    cues_of,
    words_of,
)
from archive.catalog import Catalog
from archive.config import Settings
from archive.export import DOUBTFUL_BELOW
from archive.models import Segment
from archive.search.engines import open_engine
from ingest.pipeline import Pipeline, Request
from ingest.transcribe import load_model

LANGUAGE = "de"
LEFT_OUT = "emotional-"  # acted, whispered and slurred takes of one phrase: not plain speech
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
ROOT = Path(__file__).resolve().parent.parent
_PUNCTUATION = re.compile(r"[^\w\s]")


@dataclass(frozen=True)
class Source:
    name: str
    path: Path
    reference: str | None


@dataclass
class Figures:
    """Caption figures over some cues: extremes and counts of cues past each norm."""

    cues: int = 0
    longest: float = 0.0
    shortest: float = float("inf")
    widest: int = 0
    fastest: float = 0.0
    over: dict[str, int] = field(default_factory=dict)
    excused: dict[str, int] = field(default_factory=dict)

    def count(self, norm: str, broken: bool, excused: bool = False) -> None:
        if broken:
            self.over[norm] = self.over.get(norm, 0) + 1
            if excused:
                self.excused[norm] = self.excused.get(norm, 0) + 1

    def add(self, cues: Sequence[Cue]) -> None:
        for index, cue in enumerate(cues):
            self.cues += 1
            self.longest = max(self.longest, cue.seconds)
            self.shortest = min(self.shortest, cue.seconds)
            self.widest = max(self.widest, *(len(line) for line in cue.lines))
            self.fastest = max(self.fastest, cue.cps)
            single = len(cue.words) == 1
            self.count("lines>2", len(cue.lines) > MAX_LINES)
            wide = any(len(line) > MAX_LINE_CHARS for line in cue.lines)
            self.count("line>42", wide, excused=single)
            self.count("s>7", cue.seconds > MAX_SECONDS + 1e-9)
            self.count("s<1", cue.seconds < MIN_SECONDS - 1e-9, excused=cue.held_to_limit)
            self.count("cps>17", cue.cps > MAX_CPS + 1e-9, excused=cue.held_to_limit)
            gaps = (b.start - a.end for a, b in itertools.pairwise(cue.words))
            self.count("pause", any(gap > MAX_PAUSE for gap in gaps))
            following = cues[index + 1] if index + 1 < len(cues) else None
            self.count("overlap", following is not None and cue.end > following.start + 1e-9)

    def merge(self, other: Figures) -> None:
        self.cues += other.cues
        self.longest = max(self.longest, other.longest)
        self.shortest = min(self.shortest, other.shortest)
        self.widest = max(self.widest, other.widest)
        self.fastest = max(self.fastest, other.fastest)
        for norm, n in other.over.items():
            self.over[norm] = self.over.get(norm, 0) + n
        for norm, n in other.excused.items():
            self.excused[norm] = self.excused.get(norm, 0) + n

    def row(self, name: str) -> str:
        broken = " ".join(
            f"{norm}:{n}" + (f"({self.excused[norm]} exc.)" if norm in self.excused else "")
            for norm, n in sorted(self.over.items())
        )
        shortest = self.shortest if self.cues else 0.0
        return (
            f"{name[:34]:<34}{self.cues:>5}{self.longest:>8.2f}{shortest:>7.2f}{self.widest:>6}"
            f"{self.fastest:>7.1f}  {broken or '-'}"
        )


def segment_cues(segments: Sequence[Segment]) -> list[Cue]:
    """Whisper's segments as the cues they were before issue 8: one line, the segment's time."""
    return [
        Cue(s.start, s.end, (" ".join(s.text.split()),), tuple(words_of([s])))
        for s in segments
        if s.text.strip()
    ]


def read_sources(folders: Sequence[Path], samples: Path | None) -> list[Source]:
    sources: list[Source] = []
    if samples is not None:
        for media in sorted(samples.glob("*.ogg")):
            sidecar = json.loads(media.with_suffix(".json").read_text(encoding="utf-8"))
            sources.append(Source(f"sample/{media.stem}", media, sidecar.get("script")))
    for folder in folders:
        with open(folder / "manifest.tsv", encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
        for row in rows:
            path = Path(row["file"])
            if not path.name.startswith(LEFT_OUT):
                sources.append(Source(path.stem, folder / path, row["reference_transcript"]))
    return sources


def normalise(text: str) -> list[str]:
    """Lowercase words, punctuation removed (as a space, so 'T-Rex' is 't rex')."""
    return _PUNCTUATION.sub(" ", text.lower()).split()


def word_outcomes(segments: Sequence[Segment], reference: str) -> list[tuple[float, bool]]:
    """(probability, wrong) for each hypothesis token, by jiwer's alignment to the reference."""
    tokens: list[tuple[str, float]] = []
    for segment in segments:
        for word in segment.words:
            tokens.extend((token, word.probability) for token in normalise(word.text))
    reference_words = normalise(reference)
    if not tokens or not reference_words:
        return [(p, True) for _, p in tokens]
    output = jiwer.process_words(" ".join(reference_words), " ".join(t for t, _ in tokens))
    wrong = [True] * len(tokens)
    for chunk in output.alignments[0]:
        if chunk.type == "equal":
            for index in range(chunk.hyp_start_idx, chunk.hyp_end_idx):
                wrong[index] = False
    return [(p, w) for (_, p), w in zip(tokens, wrong, strict=True)]


def doubtful_table(outcomes: list[tuple[float, bool]]) -> None:
    wrong_total = sum(w for _, w in outcomes)
    print(
        f"\nwords: {len(outcomes)}, wrong (no exact match in the reference): {wrong_total} "
        f"({wrong_total / max(1, len(outcomes)):.1%})"
    )
    print(f"{'below':>6}{'words':>7}{'of all':>8}{'wrong':>7}{'wrong share':>13}{'caught':>9}")
    for threshold in THRESHOLDS:
        below = [w for p, w in outcomes if p < threshold]
        wrong = sum(below)
        mark = "  <- DOUBTFUL_BELOW" if threshold == DOUBTFUL_BELOW else ""
        print(
            f"{threshold:>6.2f}{len(below):>7}{len(below) / max(1, len(outcomes)):>8.1%}"
            f"{wrong:>7}{wrong / max(1, len(below)):>13.1%}{wrong / max(1, wrong_total):>9.1%}"
            f"{mark}"
        )
    above = [w for p, w in outcomes if p >= DOUBTFUL_BELOW]
    print(f"share wrong at or above {DOUBTFUL_BELOW}: {sum(above) / max(1, len(above)):.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("folders", type=Path, nargs="*", help="folders with a manifest.tsv")
    parser.add_argument("--samples", type=Path, default=ROOT / "samples", help="sample folder")
    parser.add_argument("--no-samples", action="store_true", help="leave the samples out")
    args = parser.parse_args()
    for folder in args.folders:
        if not (folder / "manifest.tsv").is_file():
            parser.error(f"{folder}: no manifest.tsv there")
    sources = read_sources(args.folders, None if args.no_samples else args.samples)
    header = f"{'statement':<34}{'cues':>5}{'max s':>8}{'min s':>7}{'line':>6}{'cps':>7}  past"
    total, before = Figures(), Figures()
    outcomes: list[tuple[float, bool]] = []
    with tempfile.TemporaryDirectory(prefix="stadtstimme-bench-captions-") as tmp:
        settings = Settings(data_dir=Path(tmp), language=LANGUAGE)
        settings.prepare()
        model = load_model(settings)
        print(f"model: {settings.model}; {len(sources)} statements through the pipeline\n")
        print(header)
        with Catalog(settings.catalog_path) as catalog:
            pipeline = Pipeline(settings, catalog, open_engine(settings, catalog), model=model)
            for source in sources:
                statement = pipeline.ingest(Request(target=str(source.path))).statement
                segments = catalog.segments(statement.id)
                duration = catalog.get(statement.id).duration
                figures = Figures()
                figures.add(cues_of(segments, duration))
                print(figures.row(source.name), flush=True)
                total.merge(figures)
                old = Figures()
                old.add(segment_cues(segments))
                before.merge(old)
                if source.reference:
                    outcomes.extend(word_outcomes(segments, source.reference))
    print("-" * len(header))
    print(total.row("all: cues from words (now)"))
    print(before.row("all: Whisper segments (before)"))
    print("exc. = documented exceptions (single word wider than a line; cue held to its limit)")
    doubtful_table(outcomes)


if __name__ == "__main__":
    main()
