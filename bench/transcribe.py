"""Benchmark: what does the ingest pipeline cost on top of faster-whisper, in speed and accuracy?

The pipeline wraps faster-whisper in probing, copying, a catalog and a search index. This checks
that the wrapping stays cheap and changes nothing in the words: the same model object, with the
same settings, transcribes the same German clips once directly ("raw") and once through the full
ingest pipeline into a fresh data directory per clip ("pipeline"). Runs alternate between the
two modes; it prints the median wall time, times real time and word error rate of each, and the
speed ratio raw / pipeline (goal: >= 0.95, with equal WERs). It prints figures; it is no test.

    python bench/transcribe.py /work/shared/testdata/german-speech [--runs 3]
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before anything can import huggingface_hub

import argparse
import csv
import re
import statistics
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
from ingest.pipeline import Pipeline, Request
from ingest.transcribe import load_model

LANGUAGE = "de"
LEFT_OUT = "emotional-"  # acted, whispered and slurred takes of one phrase: not plain speech
_PUNCTUATION = re.compile(r"[^\w\s]")


@dataclass(frozen=True)
class Clip:
    path: Path
    seconds: float
    reference: str


@dataclass
class Result:
    """One mode's wall seconds and WER per run, and its last run's transcripts."""

    seconds: list[float] = field(default_factory=list)
    wers: list[float] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)


def read_clips(folder: Path) -> list[Clip]:
    """The manifest's clips, without the `emotional-*` ones."""
    with open(folder / "manifest.tsv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [
        Clip(folder / row["file"], float(row["duration_seconds"]), row["reference_transcript"])
        for row in rows
        if not Path(row["file"]).name.startswith(LEFT_OUT)
    ]


def raw(model: Any, clips: list[Clip]) -> list[str]:
    """faster-whisper called directly, its segment generator consumed."""
    texts: list[str] = []
    for clip in clips:
        segments, _ = model.transcribe(
            str(clip.path), language=LANGUAGE, vad_filter=True, word_timestamps=True, beam_size=5
        )
        texts.append(" ".join(segment.text.strip() for segment in segments))
    return texts


def pipeline(model: Any, clips: list[Clip]) -> list[str]:
    """The full ingest pipeline per clip into a fresh data directory; the text read back."""
    texts: list[str] = []
    for clip in clips:
        with tempfile.TemporaryDirectory(prefix="stadtstimme-bench-") as tmp:
            settings = Settings(data_dir=Path(tmp), language=LANGUAGE)
            with Catalog(settings.catalog_path) as catalog:
                engine = open_engine(settings, catalog)
                outcome = Pipeline(settings, catalog, engine, model=model).ingest(
                    Request(target=str(clip.path))
                )
                segments = catalog.segments(outcome.statement.id)
                texts.append(" ".join(segment.text for segment in segments))
    return texts


MODES: dict[str, Callable[[Any, list[Clip]], list[str]]] = {"raw": raw, "pipeline": pipeline}


def normalise(text: str) -> str:
    """Lowercase, punctuation removed (as a space, so 'T-Rex' is 't rex'), whitespace collapsed."""
    return " ".join(_PUNCTUATION.sub(" ", text.lower()).split())


def word_error_rate(clips: list[Clip], texts: list[str]) -> float:
    references = [normalise(clip.reference) for clip in clips]
    return float(jiwer.wer(references, [normalise(text) for text in texts]))


def describe(values: list[float]) -> str:
    """One WER, or each run's where they differ."""
    return f"{values[0]:.4f}" if len(set(values)) == 1 else "/".join(f"{v:.4f}" for v in values)


def measure(model: Any, clips: list[Clip], runs: int) -> dict[str, Result]:
    """Each mode `runs` times over all clips, alternating, after an untimed warm-up clip each."""
    results = {name: Result() for name in MODES}
    for run in MODES.values():
        run(model, clips[:1])
    for number in range(1, runs + 1):
        for name, run in MODES.items():
            began = time.perf_counter()
            texts = run(model, clips)
            result = results[name]
            result.seconds.append(time.perf_counter() - began)
            result.wers.append(word_error_rate(clips, texts))
            result.texts = texts
            print(
                f"  run {number} {name:<8} {result.seconds[-1]:7.2f} s  WER {result.wers[-1]:.4f}",
                flush=True,
            )
    return results


def report(results: dict[str, Result], audio: float) -> None:
    raw_result, pipeline_result = results["raw"], results["pipeline"]
    print(f"\n{'mode':<10}{'median s':>10}{'x real time':>13}   WER")
    for name, result in results.items():
        median = statistics.median(result.seconds)
        print(f"{name:<10}{median:>10.2f}{audio / median:>13.2f}   {describe(result.wers)}")
    equal = len({*raw_result.wers, *pipeline_result.wers}) == 1
    pairs = zip(raw_result.texts, pipeline_result.texts, strict=True)
    same = sum(normalise(a) == normalise(b) for a, b in pairs)
    print(
        f"WERs equal: {'yes' if equal else 'no'} (last runs: {same} of "
        f"{len(raw_result.texts)} transcripts identical after normalising)"
    )
    ratio = statistics.median(raw_result.seconds) / statistics.median(pipeline_result.seconds)
    verdict = "met" if ratio >= 0.95 else "missed"
    print(f"speed ratio raw / pipeline: {ratio:.3f} (goal >= 0.95: {verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("folder", type=Path, help="a folder with manifest.tsv, e.g. german-speech")
    parser.add_argument("--runs", type=int, default=3, help="runs per mode (default: 3)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    clips = read_clips(args.folder)
    audio = sum(clip.seconds for clip in clips)
    with tempfile.TemporaryDirectory(prefix="stadtstimme-bench-model-") as models_home:
        settings = Settings(data_dir=Path(models_home))
        model = load_model(settings)  # assembles the offline model; one object for every run
        threads = settings.cpu_threads or min(4, os.cpu_count() or 1)  # as load_model picks it
        print(
            f"model: {settings.model}, compute type: {model.model.compute_type}, "
            f"cpu threads: {threads}; language {LANGUAGE}, vad_filter, word_timestamps, beam 5"
        )
        print(
            f"clips: {len(clips)} (all but {LEFT_OUT}*), audio: {audio:.2f} s; {args.runs} runs "
            "per mode, alternating raw/pipeline, after an untimed warm-up clip per mode"
        )
        results = measure(model, clips, args.runs)
    report(results, audio)


if __name__ == "__main__":
    main()
