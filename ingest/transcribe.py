"""Speech to text with faster-whisper: the only module that imports it.

The model is loaded once per process and reused. Segments come from faster-whisper's lazy
generator, consumed here so that progress can be reported as audio seconds done.

Voice activity detection is done here rather than by `vad_filter=True`, so that what it drops can
be checked (`ingest/speech.py` has the rules and the figures that chose them):

1. Silero VAD with VAD_OPTIONS (chosen on half of the real German clips, bench/transcribe.py).
   VAD's speech is joined and transcribed in one call, as `vad_filter=True` does, the times
   mapped back with faster-whisper's own `restore_speech_timestamps`: where VAD works, the
   model sees exactly what it saw before.
2. Audio that is loud but that VAD dropped (with any VAD speech it touches) is transcribed in a
   second call, span by span (`clip_timestamps`), so that a music intro does not colour the
   speech after it; where VAD kept nothing, the whole file. What the model writes in dropped
   audio is kept only if confident, so a statement is "no speech" only when VAD and the model
   agree.
3. Loud audio that VAD kept but over which the model wrote nothing, for MIN_MISSED or more, is
   transcribed again on its own, with only Whisper's own silence rule as doubt (VAD heard speech
   there): in one call the model skipped the first sentence, 4.5 s, of an espeak-ng clip whose
   other sentences it wrote.
4. Segments that look invented (subtitle credits, loops, doubtful decodes) are dropped and logged
   with their time.

With no language given, Whisper detects it on the kept audio; below p 0.5 the `fallback` is used
and the transcript's note says so (a short clip of German was taken for English at p 0.38).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from archive.config import Settings
from archive.errors import MediaError, TranscriptionError
from archive.models import Segment, Transcript, Word
from ingest import speech
from ingest.model import resolve_model

log = logging.getLogger(__name__)

Progress = Callable[[float, float], None]

# Silero VAD settings (faster-whisper's VadOptions), chosen with `bench/transcribe.py --choose`
# on 16 of the 31 clips: WER 13.8 % at threshold 0.35 against 14.7 % at faster-whisper's 0.5;
# longer padding (800 ms), shorter or longer silences (1 s, 3 s) or a 250 ms minimum speech
# were no better (14.7-15.6 %).
VAD_OPTIONS: dict[str, float] = {
    "threshold": 0.35,
    "min_speech_duration_ms": 0,
    "min_silence_duration_ms": 2000,
    "speech_pad_ms": 400,
}
# Silence given around a checked span: Whisper misheard the lost clip's first words when its
# window began right at the speech ("die wir haben die Kinder" for "die Beamten gehen").
CHECK_PAD = 1.0
# Below this probability a detected language is a guess (faster-whisper's own threshold).
DETECTION_DOUBT = 0.5

_models: dict[tuple[str, str, int], Any] = {}
_models_lock = threading.Lock()


def load_model(settings: Settings) -> Any:
    """The WhisperModel for these settings, loaded at most once per process."""
    from faster_whisper import WhisperModel

    location = resolve_model(settings.model, settings.models_dir)
    threads = settings.cpu_threads or min(4, os.cpu_count() or 1)
    key = (location, settings.compute_type, threads)
    with _models_lock:
        if key not in _models:
            try:
                _models[key] = WhisperModel(
                    location, device="cpu", compute_type=settings.compute_type, cpu_threads=threads
                )
            except (OSError, RuntimeError, ValueError) as error:
                raise TranscriptionError(
                    f"cannot load Whisper model {settings.model!r}: {error}"
                ) from error
        return _models[key]


class _Plan(NamedTuple):
    """Which audio the model hears, and how."""

    heard: list[speech.Span]  # VAD's speech, joined and transcribed as `vad_filter` does
    checked: list[speech.Span]  # spans with audio VAD dropped, each transcribed on its own
    missed: list[speech.Span]  # the dropped audio in them: what is heard there must be sure
    active: list[speech.Span]  # loud audio (speech, music, noise)


def _plan(audio: np.ndarray[Any, Any]) -> _Plan:
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    rate = speech.RATE
    chunks = get_speech_timestamps(audio, VadOptions(**VAD_OPTIONS))
    kept = [(chunk["start"] / rate, chunk["end"] / rate) for chunk in chunks]
    active = speech.active_spans(audio)
    if not kept:
        whole = [(0.0, len(audio) / rate)] if len(audio) else []
        return _Plan([], whole, whole, active)
    missed = speech.missed(active, kept)
    if missed:
        log.info("checking %d span(s) VAD dropped: %s", len(missed), _times(missed))
    spans = speech.merge(kept + missed)
    checked = [span for span in spans if speech.overlap(span, missed) > 0]
    heard = [span for span in spans if span not in checked]
    return _Plan(heard, checked, missed, active)


def _padded(
    spans: list[speech.Span], heard: list[speech.Span], duration: float
) -> list[speech.Span]:
    """The spans with up to CHECK_PAD of the audio around them, never into audio already heard
    (its words would be written twice)."""
    padded = []
    for start, end in spans:
        before = max((b for a, b in heard if b <= start), default=0.0)
        after = min((a for a, b in heard if a >= end), default=duration)
        padded.append((max(before, start - CHECK_PAD), min(after, end + CHECK_PAD)))
    return speech.merge(padded)


def _check(
    model: Any, audio: Any, spans: list[speech.Span], language: str | None, prompt: str | None
) -> Any:
    """The model's segments in these spans, each heard on its own (`clip_timestamps`), no text
    carried from one to the next."""
    generator, _ = model.transcribe(
        audio,
        language=language,
        initial_prompt=prompt,
        word_timestamps=True,
        beam_size=5,
        condition_on_previous_text=False,
        clip_timestamps=[t for span in spans for t in span],
        # No fallback to higher temperatures: the dropped-audio check keeps only confident
        # text, which needs none, and the unwritten-audio check is a second chance, not a
        # second full decode (with fallbacks, checks on one clip of 31 cost the pipeline 0.95
        # -> 0.87 of raw's speed).
        temperature=0.0,
    )
    return generator


def _times(spans: list[speech.Span]) -> str:
    return ", ".join(f"{a:.1f}-{b:.1f} s" for a, b in spans)


def transcribe(
    model: Any,
    media: Path,
    *,
    language: str | None,
    prompt: str | None = None,
    progress: Progress | None = None,
    fallback: str | None = None,
) -> Transcript:
    """Transcribe a media file with word timestamps, checked voice activity detection and
    invented text removed.

    `language` None means: let Whisper detect it, and take `fallback` (if given) where the
    detection is below p 0.5. A file without speech gives no segments.
    """
    from faster_whisper import decode_audio
    from faster_whisper.transcribe import restore_speech_timestamps

    rate = speech.RATE
    try:
        audio = decode_audio(str(media), sampling_rate=rate)
    except (IndexError, ValueError, OSError) as error:
        raise MediaError(f"{media.name}: cannot decode audio ({error})") from error
    duration = len(audio) / rate
    plan = _plan(audio)
    chunks = [{"start": int(a * rate), "end": int(b * rate)} for a, b in plan.heard]
    joined = np.concatenate([audio[c["start"] : c["end"]] for c in chunks] or [audio[:0]])
    notes: list[str] = []
    if language is None and (plan.heard or plan.checked):
        sample = joined if len(joined) else audio[int(plan.checked[0][0] * rate) :]
        language, note = _detect(model, sample, fallback)
        notes += [note] if note else []
    segments: list[Segment] = []
    done = 0.0

    def run(generator: Any, doubtful: list[speech.Span]) -> list[Segment]:
        nonlocal done
        found = []
        for raw in generator:
            segment = _kept(raw, doubtful)
            if segment is not None:
                found.append(segment)
            done = max(done, min(float(raw.end), duration))
            if progress:
                progress(done, duration)
        return found

    try:
        if chunks:
            generator, _ = model.transcribe(
                joined, language=language, initial_prompt=prompt, word_timestamps=True, beam_size=5
            )
            segments += run(restore_speech_timestamps(generator, chunks, rate), plan.missed)
        checked = _padded(plan.checked, plan.heard, duration)
        if checked:
            segments += run(_check(model, audio, checked, language, prompt), plan.missed)
        # Loud audio VAD kept but the model wrote nothing over (it skipped the first sentence
        # of a clear espeak-ng clip that `vad_filter=True` transcribed): checked on its own too.
        written = [(segment.start, segment.end) for segment in segments]
        unwritten = speech.missed(plan.active, speech.merge(written + checked))
        if unwritten:
            log.info(
                "checking %d span(s) nothing was written over: %s",
                len(unwritten),
                _times(unwritten),
            )
            around = _padded(unwritten, written, duration)
            # VAD heard speech there: Whisper's own silence rule is the only doubt, as above.
            segments += run(_check(model, audio, around, language, prompt), [])
    except (IndexError, ValueError) as error:
        raise MediaError(f"{media.name}: cannot decode audio ({error})") from error
    if progress:
        progress(duration, duration)
    return Transcript(
        language=language or fallback or "",
        duration=duration,
        segments=tuple(sorted(segments, key=lambda segment: segment.start)),
        note="; ".join(notes) or None,
    )


def _detect(model: Any, audio: np.ndarray[Any, Any], fallback: str | None) -> tuple[str, str]:
    """The language Whisper hears, or the fallback where it is unsure, with a note saying so."""
    detected, probability, _ = model.detect_language(audio=audio)
    if probability >= DETECTION_DOUBT or not fallback:
        return detected, ""
    log.info("language detection unsure (%s, p %.2f): using %s", detected, probability, fallback)
    return fallback, (
        f"language detection was unsure ({detected}, p {probability:.2f}): transcribed as "
        f"{fallback}, the default"
    )


def _kept(raw: Any, checked: list[speech.Span]) -> Segment | None:
    """The segment as we keep it, or None (logged with its time) where it looks invented or
    where it lies mostly in audio VAD dropped and the model is not confident of it."""
    words = tuple(
        Word(float(w.start), float(w.end), w.word, float(w.probability)) for w in raw.words or ()
    )
    decoded = speech.Decoded(
        text=raw.text,
        avg_logprob=float(raw.avg_logprob),
        no_speech_prob=float(raw.no_speech_prob),
        compression_ratio=float(raw.compression_ratio),
        word_probabilities=tuple(w.probability for w in words),
        seconds=float(raw.end) - float(raw.start),
    )
    start, end = float(raw.start), float(raw.end)
    reason = speech.invented(decoded)
    in_checked = speech.overlap((start, end), checked) * 2 > max(end - start, 1e-6)
    if reason is None and in_checked and not speech.confident(decoded):
        reason = (
            f"heard only where VAD found no speech, and not confidently (log-probability "
            f"{decoded.avg_logprob:.2f}, no-speech p {decoded.no_speech_prob:.2f}, word p "
            f"{decoded.word_probability:.2f})"
        )
    if reason:
        log.info("dropped %.2f-%.2f s %r: %s", start, end, raw.text.strip(), reason)
        return None
    return Segment(start, end, raw.text, words)
