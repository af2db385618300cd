"""Benchmark: does the pipeline hear more, and invent less, than faster-whisper as it was called?

"raw" is faster-whisper with the settings the pipeline used before issue 8 (beam 5,
`vad_filter=True` with Silero's defaults, language de, word timestamps). "pipeline" is the full
ingest now (checked VAD, invented segments dropped), into a fresh data directory per clip. The
same model object serves both. Per clip and in total it prints the WER, the deleted words (jiwer)
and lost clips (empty where the reference is not); the speed of both in x real time, runs
alternating; invented words on ten minutes of non-speech made with ffmpeg (tests/sounds.py);
and the WER on the clips joined by 5-20 s silences after a music intro, where turning VAD off
would invent words. Goals: pipeline WER below raw, 0 lost clips, 0 invented words, speed at
least 0.9 x raw. It prints figures; it is no test.

Clips are split in two halves (alternately, by file name): `--choose` sweeps the VAD settings on
the first half, the figures are reported on all clips and on the second half alone.

    python bench/transcribe.py /work/shared/testdata/german-speech [--runs 2] [--choose]
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before anything can import huggingface_hub

import argparse
import csv
import logging
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jiwer

from archive.catalog import Catalog
from archive.config import Settings
from archive.search.engines import open_engine
from ingest import transcribe as transcription
from ingest.pipeline import Pipeline, Request
from ingest.transcribe import load_model

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/ is not installed
from tests import sounds

LANGUAGE = "de"
LEFT_OUT = "emotional-"  # acted, whispered and slurred takes of one phrase: not plain speech
_PUNCTUATION = re.compile(r"[^\w\s]")
NON_SPEECH_SECONDS = 75.0  # each of the 8 sounds: 10 minutes in all
GAPS = (5.0, 12.0, 20.0, 8.0, 16.0)  # silences between joined clips, cycled
INTRO = 20.0  # seconds of music before the joined clips
# VAD settings tried by --choose: faster-whisper's defaults first.
CANDIDATES: list[dict[str, float]] = [
    {
        "threshold": threshold,
        "min_speech_duration_ms": min_speech,
        "min_silence_duration_ms": min_silence,
        "speech_pad_ms": pad,
    }
    for threshold, min_speech, min_silence, pad in (
        (0.5, 0, 2000, 400),
        (0.35, 0, 2000, 400),
        (0.5, 0, 2000, 800),
        (0.5, 0, 1000, 400),
        (0.5, 250, 3000, 600),
        (0.35, 0, 2000, 800),
    )
]


@dataclass(frozen=True)
class Clip:
    path: Path
    seconds: float
    reference: str


@dataclass
class Result:
    """One mode's wall seconds per run, and its last run's transcripts."""

    seconds: list[float] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)


def read_clips(folder: Path) -> list[Clip]:
    """The manifest's clips, without the `emotional-*` ones, by file name."""
    with open(folder / "manifest.tsv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    clips = [
        Clip(folder / row["file"], float(row["duration_seconds"]), row["reference_transcript"])
        for row in rows
        if not Path(row["file"]).name.startswith(LEFT_OUT)
    ]
    return sorted(clips, key=lambda clip: clip.path.name)


def halves(clips: list[Clip]) -> tuple[list[Clip], list[Clip]]:
    """(the half settings are chosen on, the half they are reported on)."""
    return clips[::2], clips[1::2]


def raw_text(model: Any, path: Path, *, vad: bool = True) -> str:
    """faster-whisper as the pipeline called it before issue 8, its generator consumed."""
    segments, _ = model.transcribe(
        str(path), language=LANGUAGE, vad_filter=vad, word_timestamps=True, beam_size=5
    )
    return " ".join(segment.text.strip() for segment in segments)


def pipeline_text(model: Any, path: Path) -> str:
    """The full ingest pipeline into a fresh data directory; the text read back."""
    with tempfile.TemporaryDirectory(prefix="stadtstimme-bench-") as tmp:
        settings = Settings(data_dir=Path(tmp), language=LANGUAGE)
        with Catalog(settings.catalog_path) as catalog:
            engine = open_engine(settings, catalog)
            outcome = Pipeline(settings, catalog, engine, model=model).ingest(
                Request(target=str(path))
            )
            return " ".join(segment.text for segment in catalog.segments(outcome.statement.id))


def transcribe_text(model: Any, path: Path) -> str:
    """The pipeline's transcription step alone (for the VAD sweep: no catalog needed)."""
    transcript = transcription.transcribe(model, path, language=LANGUAGE)
    return " ".join(segment.text for segment in transcript.segments)


MODES: dict[str, Callable[[Any, Path], str]] = {"raw": raw_text, "pipeline": pipeline_text}


def normalise(text: str) -> str:
    """Lowercase, punctuation removed (as a space, so 'T-Rex' is 't rex'), whitespace collapsed."""
    return " ".join(_PUNCTUATION.sub(" ", text.lower()).split())


@dataclass(frozen=True)
class Score:
    wer: float
    deleted: int
    lost: int


def score(references: list[str], texts: list[str]) -> Score:
    """WER, deleted words and lost clips (empty where the reference is not)."""
    refs = [normalise(text) for text in references]
    hyps = [normalise(text) for text in texts]
    words = jiwer.process_words(refs, hyps)
    lost = sum(1 for ref, hyp in zip(refs, hyps, strict=True) if ref and not hyp)
    return Score(float(words.wer), int(words.deletions), lost)


def measure(model: Any, clips: list[Clip], runs: int) -> dict[str, Result]:
    """Each mode `runs` times over all clips, alternating, after an untimed warm-up clip each."""
    results = {name: Result() for name in MODES}
    for run in MODES.values():
        run(model, clips[0].path)
    for number in range(1, runs + 1):
        for name, run in MODES.items():
            began = time.perf_counter()
            texts = [run(model, clip.path) for clip in clips]
            result = results[name]
            result.seconds.append(time.perf_counter() - began)
            result.texts = texts
            wer = score([clip.reference for clip in clips], texts).wer
            print(
                f"  run {number} {name:<8} {result.seconds[-1]:7.2f} s  WER {wer:.4f}", flush=True
            )
    return results


def report_clips(clips: list[Clip], results: dict[str, Result], audio: float) -> None:
    raw, now = results["raw"], results["pipeline"]
    print(f"\n{'clip':<34}{'raw WER':>9}{'del':>5}{'now WER':>9}{'del':>5}")
    for index, clip in enumerate(clips):
        before = score([clip.reference], [raw.texts[index]])
        after = score([clip.reference], [now.texts[index]])
        mark = "  LOST" if before.lost else ""
        mark += "  (lost now)" if after.lost else ""
        print(
            f"{clip.path.name[:33]:<34}{before.wer:>9.3f}{before.deleted:>5}"
            f"{after.wer:>9.3f}{after.deleted:>5}{mark}"
        )
    references = [clip.reference for clip in clips]
    _, report_half = halves(clips)
    chosen = {clip.path for clip in report_half}
    subset = [i for i, clip in enumerate(clips) if clip.path in chosen]
    print(f"\n{'':<22}{'WER':>8}{'deleted':>9}{'lost':>6}{'median s':>10}{'x real time':>13}")
    for name, result in results.items():
        total = score(references, result.texts)
        half = score([references[i] for i in subset], [result.texts[i] for i in subset])
        median = statistics.median(result.seconds)
        print(
            f"{name + ' (all ' + str(len(clips)) + ')':<22}{total.wer:>8.4f}{total.deleted:>9}"
            f"{total.lost:>6}{median:>10.2f}{audio / median:>13.2f}"
        )
        print(f"{name + ' (report half)':<22}{half.wer:>8.4f}{half.deleted:>9}{half.lost:>6}")
    ratio = statistics.median(raw.seconds) / statistics.median(now.seconds)
    print(f"speed pipeline / raw: {ratio:.3f} (goal >= 0.9: {'met' if ratio >= 0.9 else 'missed'})")


def non_speech(model: Any, work: Path) -> None:
    """Invented words on ten minutes of generated non-speech, raw and now."""
    print(f"\nnon-speech, {len(sounds.SOUNDS)} sounds x {NON_SPEECH_SECONDS:.0f} s:")
    totals = dict.fromkeys(MODES, 0)
    for name in sounds.SOUNDS:
        path = sounds.make(name, NON_SPEECH_SECONDS, work / f"{name}.wav")
        line = f"  {name:<12}"
        for mode, run in MODES.items():
            text = run(model, path)
            totals[mode] += len(normalise(text).split())
            line += f" {mode}: {len(normalise(text).split()):3} words {text[:60]!r}"
        print(line, flush=True)
    print("invented words: " + ", ".join(f"{mode} {count}" for mode, count in totals.items()))


def joined(model: Any, clips: list[Clip], work: Path) -> None:
    """The clips as one statement: a music intro, then each clip after a 5-20 s silence."""
    parts = [sounds.make("music", INTRO, work / "intro.wav")]
    for index, clip in enumerate(clips):
        gap = GAPS[index % len(GAPS)]
        parts += [sounds.make("silence", gap, work / f"gap-{index}.wav"), clip.path]
    path = sounds.join(parts, work / "joined.wav")
    reference = " ".join(clip.reference for clip in clips)
    print(f"\njoined: {len(clips)} clips after {INTRO:.0f} s of music, silences {GAPS} s")
    modes: dict[str, Callable[[Any, Path], str]] = {
        "raw": raw_text,
        "raw, VAD off": lambda m, p: raw_text(m, p, vad=False),
        "pipeline": pipeline_text,
    }
    for name, run in modes.items():
        began = time.perf_counter()
        text = run(model, path)
        took = time.perf_counter() - began
        result = score([reference], [text])
        inserted = jiwer.process_words(normalise(reference), normalise(text)).insertions
        print(
            f"  {name:<14} WER {result.wer:.4f}  deleted {result.deleted:3}  inserted "
            f"{inserted:3}  {took:6.1f} s",
            flush=True,
        )


def choose(model: Any, clips: list[Clip]) -> None:
    """Each VAD candidate on the choosing half: WER, deleted words, lost clips."""
    choosing, _ = halves(clips)
    references = [clip.reference for clip in choosing]
    print(f"choosing on {len(choosing)} clips:")
    for options in CANDIDATES:
        transcription.VAD_OPTIONS = options
        texts = [transcribe_text(model, clip.path) for clip in choosing]
        result = score(references, texts)
        print(
            f"  {options}: WER {result.wer:.4f} deleted {result.deleted} lost {result.lost}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("folder", type=Path, help="a folder with manifest.tsv, e.g. german-speech")
    parser.add_argument("--runs", type=int, default=2, help="timed runs per mode (default: 2)")
    parser.add_argument("--choose", action="store_true", help="sweep VAD settings, then stop")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    logging.basicConfig(level=logging.WARNING)
    clips = read_clips(args.folder)
    audio = sum(clip.seconds for clip in clips)
    with tempfile.TemporaryDirectory(prefix="stadtstimme-bench-") as work:
        settings = Settings(data_dir=Path(work))
        model = load_model(settings)  # assembles the offline model; one object for every run
        threads = settings.cpu_threads or min(4, os.cpu_count() or 1)  # as load_model picks it
        print(
            f"model: {settings.model}, compute type: {model.model.compute_type}, "
            f"cpu threads: {threads}; VAD now: {transcription.VAD_OPTIONS}"
        )
        if args.choose:
            choose(model, clips)
            return
        print(
            f"clips: {len(clips)} (all but {LEFT_OUT}*), audio: {audio:.2f} s; {args.runs} runs "
            "per mode, alternating raw/pipeline, after an untimed warm-up clip per mode"
        )
        results = measure(model, clips, args.runs)
        report_clips(clips, results, audio)
        non_speech(model, Path(work))
        joined(model, clips, Path(work))


if __name__ == "__main__":
    main()
